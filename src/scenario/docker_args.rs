//! What a scenario may add to `docker run` (`hosts[].docker_args`): an
//! allowlist, not a blocklist. A scenario may come with a role from anyone,
//! and what it adds runs as root on this machine's engine: so nothing that
//! reaches the host (its namespaces, devices, file system, every
//! capability), no network but the environment's own, no label (labels say
//! which run owns a container), and no named volume (it would outlive the
//! run). Everything else a role test needs is here.

use std::path::{Component, Path};

/// An option a scenario may give, and what its value may be.
struct Allowed {
    names: &'static [&'static str],
    check: fn(&str, &Path) -> Result<(), String>,
}

/// Capabilities a role test may add: each acts within the container's own
/// namespaces. Not SYS_ADMIN, SYS_MODULE, SYS_RAWIO, SYS_PTRACE, SYS_TIME,
/// DAC_READ_SEARCH, MKNOD or ALL, which reach the machine.
pub const CAPABILITIES: &[&str] = &[
    "NET_ADMIN",
    "NET_RAW",
    "NET_BIND_SERVICE",
    "SYS_NICE",
    "SYS_RESOURCE",
    "IPC_LOCK",
    "AUDIT_WRITE",
    "CHOWN",
    "SETUID",
    "SETGID",
];

const ALLOWED: &[Allowed] = &[
    Allowed {
        names: &[
            "--memory",
            "-m",
            "--memory-reservation",
            "--memory-swap",
            "--cpus",
            "--cpu-shares",
            "--pids-limit",
            "--shm-size",
            "--ulimit",
            "--stop-timeout",
            "--stop-signal",
            "--add-host",
            "--workdir",
            "-w",
        ],
        check: any_value,
    },
    Allowed {
        names: &["--env", "-e"],
        check: env,
    },
    Allowed {
        names: &["--tmpfs"],
        check: absolute_target,
    },
    Allowed {
        names: &["--volume", "-v"],
        check: volume,
    },
    Allowed {
        names: &["--cap-add"],
        check: capability,
    },
    Allowed {
        names: &["--cap-drop"],
        check: any_value,
    },
    Allowed {
        names: &["--security-opt"],
        check: security_opt,
    },
    Allowed {
        names: &["--sysctl"],
        check: sysctl,
    },
];

/// Check `args`, given for a host of the scenario in `dir`; the error
/// names the argument (by index) and what is allowed.
pub fn check(args: &[String], dir: &Path) -> Result<(), (usize, String)> {
    let mut i = 0;
    while i < args.len() {
        let arg = &args[i];
        let (name, inline) = match arg.split_once('=') {
            Some((name, value)) if name.starts_with('-') => (name, Some(value)),
            _ => (arg.as_str(), None),
        };
        let Some(allowed) = ALLOWED.iter().find(|a| a.names.contains(&name)) else {
            return Err((i, refused(arg)));
        };
        let value = match inline {
            Some(value) => value,
            None => {
                i += 1;
                args.get(i)
                    .map(String::as_str)
                    .ok_or((i - 1, format!("{name} needs a value")))?
            }
        };
        (allowed.check)(value, dir).map_err(|why| (i, format!("{name} {value}: {why}")))?;
        i += 1;
    }
    Ok(())
}

fn refused(arg: &str) -> String {
    let options: Vec<&str> = ALLOWED
        .iter()
        .flat_map(|a| a.names.iter().copied())
        .collect();
    format!(
        "{arg} is not allowed: a scenario's docker_args may give only {} (hosts run \
         unprivileged on the environment's own network, and everything a run makes is \
         removed with it)",
        options.join(", ")
    )
}

fn any_value(_: &str, _: &Path) -> Result<(), String> {
    Ok(())
}

fn env(value: &str, _: &Path) -> Result<(), String> {
    match value.split_once('=') {
        Some((name, _)) if !name.is_empty() => Ok(()),
        _ => Err("write NAME=VALUE".into()),
    }
}

fn absolute_target(value: &str, _: &Path) -> Result<(), String> {
    if value.starts_with('/') {
        Ok(())
    } else {
        Err("the path in the container must be absolute".into())
    }
}

/// An anonymous volume (`/data`), or a bind mount of a folder inside the
/// scenario's own (`./files:/srv/files:ro`): nothing else of the machine.
fn volume(value: &str, dir: &Path) -> Result<(), String> {
    let parts: Vec<&str> = value.split(':').collect();
    let source = match parts.as_slice() {
        [target] => return absolute_target(target, dir),
        [source, target] | [source, target, _] => {
            absolute_target(target, dir)?;
            *source
        }
        _ => return Err("write /path, or SOURCE:/path[:ro]".into()),
    };
    let is_path = source.starts_with('/') || source.starts_with('.');
    if !is_path {
        return Err(format!(
            "{source:?} is a named volume, which would outlive the run: use an anonymous \
             volume (/path) or a folder of the scenario's"
        ));
    }
    let inside = Path::new(source)
        .components()
        .filter(|c| *c != Component::CurDir)
        .try_fold(dir.to_path_buf(), |mut at, c| match c {
            Component::ParentDir => at.pop().then_some(at),
            Component::Normal(part) => {
                at.push(part);
                Some(at)
            }
            _ => None,
        });
    let absolute_inside = source.starts_with('/') && Path::new(source).starts_with(dir);
    let relative_inside = !source.starts_with('/') && inside.is_some_and(|p| p.starts_with(dir));
    if absolute_inside || relative_inside {
        Ok(())
    } else {
        Err(format!(
            "only a folder inside the scenario's own ({}) may be mounted",
            dir.display()
        ))
    }
}

fn capability(value: &str, _: &Path) -> Result<(), String> {
    let name = value.to_ascii_uppercase();
    let name = name.strip_prefix("CAP_").unwrap_or(&name);
    if CAPABILITIES.contains(&name) {
        Ok(())
    } else {
        Err(format!(
            "reaches beyond the container; the capabilities a scenario may add are {}",
            CAPABILITIES.join(", ")
        ))
    }
}

fn security_opt(value: &str, _: &Path) -> Result<(), String> {
    match value {
        "seccomp=unconfined"
        | "apparmor=unconfined"
        | "label=disable"
        | "no-new-privileges"
        | "no-new-privileges=true"
        | "no-new-privileges:true" => Ok(()),
        _ => Err(
            "the options a scenario may give are seccomp=unconfined, apparmor=unconfined, \
             label=disable and no-new-privileges"
                .into(),
        ),
    }
}

/// Only the network sysctls: they are the container's own namespace's.
fn sysctl(value: &str, _: &Path) -> Result<(), String> {
    if value.starts_with("net.") && value.contains('=') {
        Ok(())
    } else {
        Err("only net.* sysctls (the container's own network namespace), as NAME=VALUE".into())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(text: &[&str]) -> Result<(), (usize, String)> {
        let args: Vec<String> = text.iter().map(|s| s.to_string()).collect();
        check(&args, Path::new("/project/scenarios"))
    }

    #[test]
    fn what_reaches_the_machine_is_refused_by_name() {
        for (given, refused_at) in [
            (&["--cap-add=ALL"][..], 0),
            (&["--cap-add", "SYS_ADMIN"], 1),
            (&["--pid=host"], 0),
            (&["-v", "/:/host"], 1),
            (&["--volume=/etc:/etc"], 0),
            (&["--device=/dev/mem"], 0),
            (&["--privileged"], 0),
            (&["--network", "host"], 0),
            (&["--label", "argos.run=someone-else"], 0),
            (&["-v", "cache:/var/cache"], 1),
            (&["-v", "../../etc:/x"], 1),
            (&["--sysctl", "kernel.shmmax=1"], 1),
            (&["--memory"], 0),
            (&["-it"], 0),
        ] {
            let error = args(given).expect_err(&format!("{given:?} must be refused"));
            assert_eq!(error.0, refused_at, "{given:?}: {}", error.1);
        }
        let error = args(&["--cap-add=ALL"]).unwrap_err().1;
        assert!(error.contains("NET_ADMIN"), "says what is allowed: {error}");
    }

    #[test]
    fn what_a_role_test_needs_passes() {
        args(&[
            "--memory=512m",
            "-e",
            "LANG=C.UTF-8",
            "--tmpfs",
            "/tmp:exec",
            "-v",
            "/var/lib/docker",
            "-v",
            "./files:/srv/files:ro",
            "--cap-add",
            "net_admin",
            "--security-opt=seccomp=unconfined",
            "--sysctl",
            "net.ipv4.ip_forward=1",
        ])
        .unwrap();
        args(&["-v", "/project/scenarios/data:/data"]).unwrap();
    }
}
