//! `argos-cloud cache status|start|remove`, and the cache named as the
//! machine's in `status` and `sweep`. On a cache of the test's own
//! (`ARGOS_APT_CACHE_NAME`): removing it never touches the machine's cache
//! that other tests' environments use at the same time.

use std::process::Output;

use argos_cloud::backend::containers::apt_cache;
use argos_harness::scenarios::docker;

use crate::support::{self, TempProject};

/// The test's own cache and the network it makes for it: removed when the
/// test ends, whatever happened.
struct OwnCache {
    name: String,
    network: String,
}

impl Drop for OwnCache {
    fn drop(&mut self) {
        let _ = docker(&["rm", "-f", &self.name]);
        let _ = docker(&["volume", "rm", &self.name]);
        let _ = docker(&["network", "rm", &self.network]);
        let _ = docker(&["network", "rm", &format!("0-{}", self.name)]);
    }
}

fn argos(project: &TempProject, cache: &OwnCache, args: &[&str]) -> std::process::Command {
    let mut command = support::argos_command(&project.root());
    command.env(apt_cache::NAME_VAR, &cache.name).args(args);
    command
}

fn run(project: &TempProject, cache: &OwnCache, args: &[&str]) -> Output {
    argos(project, cache, args).output().unwrap()
}

fn stdout(output: &Output) -> String {
    String::from_utf8_lossy(&output.stdout).into_owned()
}

fn ok(project: &TempProject, cache: &OwnCache, args: &[&str]) -> String {
    let output = run(project, cache, args);
    assert!(
        output.status.success(),
        "{args:?}: {}\n{}",
        stdout(&output),
        String::from_utf8_lossy(&output.stderr)
    );
    stdout(&output)
}

/// The cache's image, built as every local commission builds it.
fn image_here() {
    if docker(&["image", "inspect", apt_cache::IMAGE]).is_ok() {
        return;
    }
    let script =
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("docker/host-image/build.sh");
    let status = std::process::Command::new("bash")
        .arg(script)
        .status()
        .unwrap();
    assert!(status.success(), "building {}", apt_cache::IMAGE);
}

#[test]
fn the_cache_starts_once_for_racing_callers_outlives_sweeps_and_cache_remove_removes_it() {
    if !support::docker_here() {
        return;
    }
    image_here();
    let stamp = format!(
        "{}-{}",
        std::process::id(),
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_nanos()
    );
    let cache = OwnCache {
        name: format!("argos-apt-cache-test-{stamp}"),
        network: format!("argos-apt-cache-test-{stamp}-network"),
    };
    let project = TempProject::shipped();

    // Two runs asking at once: both get the cache, neither trips on the other.
    let racing: Vec<_> = (0..2)
        .map(|_| {
            argos(&project, &cache, &["cache", "start"])
                .stdout(std::process::Stdio::piped())
                .stderr(std::process::Stdio::piped())
                .spawn()
                .unwrap()
        })
        .collect();
    for child in racing {
        let output = child.wait_with_output().unwrap();
        assert!(
            output.status.success(),
            "{}",
            String::from_utf8_lossy(&output.stderr)
        );
        assert!(
            stdout(&output).contains("answers on"),
            "{}",
            stdout(&output)
        );
    }
    let machine_line = format!(
        "machine: apt cache {} (running, volume {}",
        cache.name, cache.name
    );
    let status = ok(&project, &cache, &["cache", "status"]);
    assert!(status.contains(&machine_line), "{status}");

    // The machine's, in an environment's status and in sweeps, which keep it.
    for args in [
        &["--backend", "docker", "cachetest", "status"][..],
        &["--backend", "docker", "cachetest", "sweep"],
        &[
            "--backend",
            "docker",
            "cachetest",
            "sweep",
            "--run",
            &format!("t-none-{stamp}"),
            "--yes",
        ],
    ] {
        let out = ok(&project, &cache, args);
        assert!(
            out.contains(&machine_line) && out.contains("`argos-cloud cache remove`"),
            "{args:?}:\n{out}"
        );
        assert!(
            out.lines()
                .filter(|l| l.contains(&cache.name))
                .all(|l| l.starts_with("machine: ")),
            "{args:?} names the cache as the machine's only:\n{out}"
        );
    }
    assert_eq!(
        docker(&["inspect", "-f", "{{.State.Running}}", &cache.name]).as_deref(),
        Ok("true"),
        "sweeps leave the cache running"
    );

    // While an environment's network uses it, removing it is refused.
    docker(&["network", "create", &cache.network]).unwrap();
    docker(&[
        "network",
        "connect",
        "--alias",
        apt_cache::ALIAS,
        &cache.network,
        &cache.name,
    ])
    .unwrap();
    let refused = run(&project, &cache, &["cache", "remove"]);
    let stderr = String::from_utf8_lossy(&refused.stderr);
    assert!(!refused.status.success(), "{}", stdout(&refused));
    assert!(
        stderr.contains(&cache.network) && stderr.contains("cache remove --force"),
        "{stderr}"
    );
    assert!(docker(&["container", "inspect", &cache.name]).is_ok());
    docker(&["network", "disconnect", &cache.network, &cache.name]).unwrap();

    let removed = ok(&project, &cache, &["cache", "remove"]);
    assert!(
        removed.contains(&format!(
            "container {} and volume {}",
            cache.name, cache.name
        )),
        "{removed}"
    );
    assert!(docker(&["container", "inspect", &cache.name]).is_err());
    assert!(docker(&["volume", "inspect", &cache.name]).is_err());
    assert!(
        docker(&["network", "inspect", &format!("0-{}", cache.name)]).is_err(),
        "its own network goes too"
    );
    let status = ok(&project, &cache, &["cache", "status"]);
    assert!(status.starts_with("no apt cache"), "{status}");
    let again = ok(&project, &cache, &["cache", "remove"]);
    assert!(again.contains("nothing to remove"), "{again}");
}
