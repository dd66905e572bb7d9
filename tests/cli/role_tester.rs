//! argos-cloud as a role tester for anyone: an installed binary (a copy of
//! the built one, away from the source tree) in a role's folder outside any
//! project runs the role's Molecule scenario on Docker; the development
//! loop keeps an environment across commands; a matrix runs side by side.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use argos_cloud::backend::containers::HOST_IMAGE;
use argos_cloud::model::names::tag_keys;
use argos_harness::tools::Venv;

use crate::support::docker_here;

/// What the fixtures name, mapped to the same Debian 12 here (nothing can
/// be pulled where the tests run).
const MAPPING: &str = "geerlingguy/docker-debian12-ansible:latest=argos-host:bookworm";

/// A user's machine in miniature: the binary copied into a `bin/` of its
/// own, a cache folder for argos-cloud's home project, and a copy of a
/// Galaxy fixture role, all in a temporary folder outside the repository.
struct UserMachine {
    dir: tempfile::TempDir,
    binary: PathBuf,
}

impl UserMachine {
    fn with_role(role: &str) -> Self {
        let dir = tempfile::tempdir().unwrap();
        let bin = dir.path().join("bin");
        std::fs::create_dir_all(&bin).unwrap();
        let binary = bin.join("argos-cloud");
        std::fs::copy(assert_cmd::cargo::cargo_bin("argos-cloud"), &binary).unwrap();
        let fixture = Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("tests/fixtures/galaxy")
            .join(role);
        copy_dir(&fixture, &dir.path().join(role));
        Self { dir, binary }
    }

    fn role(&self, role: &str) -> PathBuf {
        self.dir.path().join(role)
    }

    /// `argos-cloud ARGS` in `folder`, as a user's shell runs it: Ansible
    /// on PATH (the project's venv standing in for a user's install), no
    /// ARGOS_ variables, the cache in the temporary folder.
    fn run(&self, folder: &Path, args: &[&str]) -> Output {
        self.run_with(folder, args, &[])
    }

    /// [`Self::run`] with these variables set too.
    fn run_with(&self, folder: &Path, args: &[&str], vars: &[(&str, &Path)]) -> Output {
        let mut command = Command::new(&self.binary);
        command
            .args(args)
            .current_dir(folder)
            .env("XDG_CACHE_HOME", self.dir.path().join("cache"))
            .env_remove("AWS_ENDPOINT_URL");
        for (name, _) in std::env::vars_os() {
            if name.to_string_lossy().starts_with("ARGOS_") {
                command.env_remove(name);
            }
        }
        let path = std::env::join_paths(std::iter::once(Venv::project().bin()).chain(
            std::env::split_paths(&std::env::var_os("PATH").unwrap_or_default()),
        ))
        .unwrap();
        command.env("PATH", path);
        command.envs(vars.iter().copied());
        command.output().unwrap()
    }

    fn home(&self) -> PathBuf {
        self.dir.path().join("cache/argos-cloud/home")
    }
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let target = to.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            copy_dir(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), &target).unwrap();
        }
    }
}

fn text(output: &Output) -> String {
    format!(
        "exit {:?}\n--- stdout\n{}\n--- stderr\n{}",
        output.status.code(),
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    )
}

/// Whether the machine has what these tests need: Docker and Ansible.
fn ready() -> bool {
    docker_here() && argos_harness::tools::venv_or_skip().is_some()
}

/// The run ids on the engine's containers and networks that start with `prefix`.
fn run_ids(prefix: &str) -> Vec<String> {
    let mut ids = Vec::new();
    let format = format!("{{{{.Label \"{}\"}}}}", tag_keys::RUN);
    let network_format = format!("{{{{index .Labels \"{}\"}}}}", tag_keys::RUN);
    for args in [
        vec!["ps", "-a", "--format", format.as_str()],
        vec!["network", "ls", "--format", network_format.as_str()],
    ] {
        let out = Command::new("docker").args(&args).output().unwrap();
        ids.extend(
            String::from_utf8_lossy(&out.stdout)
                .lines()
                .filter(|id| id.starts_with(prefix))
                .map(str::to_owned),
        );
    }
    ids
}

/// The step's seconds in a step table line `  converge   9.4 s  ok ...`.
fn step_seconds(table: &str, step: &str) -> f64 {
    table
        .lines()
        .find_map(|line| {
            let mut words = line.split_whitespace();
            (words.next() == Some(step)).then(|| words.next()?.parse().ok())?
        })
        .unwrap_or_else(|| panic!("no {step} line in:\n{table}"))
}

#[test]
fn outside_a_role_or_project_test_says_what_it_looks_for() {
    let machine = UserMachine::with_role("ansible-role-motd");
    let output = machine.run(machine.dir.path(), &["test"]);
    let said = text(&output);
    assert!(!output.status.success(), "{said}");
    assert!(said.contains("no molecule/ folder here"), "{said}");
    let output = machine.run(
        &machine.role("ansible-role-motd"),
        &["test", "-s", "alpine"],
    );
    let said = text(&output);
    assert!(
        said.contains("no scenario alpine") && said.contains("it has default"),
        "{said}"
    );
}

/// `--ansible-strategy mitogen` where Mitogen cannot load (an
/// ansible-playbook whose Python has none): refused before anything is
/// made, saying how to install it or what to choose instead.
#[test]
fn mitogen_asked_for_where_it_cannot_load_is_refused_before_anything_is_made() {
    if !ready() {
        return;
    }
    let machine = UserMachine::with_role("ansible-role-motd");
    let bare = machine.dir.path().join("bare-python");
    let made = Command::new("python3")
        .args(["-m", "venv", "--without-pip"])
        .arg(&bare)
        .status()
        .unwrap();
    assert!(made.success(), "python3 -m venv");
    let python = bare.join("bin/python3");
    // The real ansible-playbook, but saying it runs on the bare Python.
    let fake = machine.dir.path().join("ansible-playbook");
    std::fs::write(
        &fake,
        format!(
            "#!/bin/sh
if [ \"$1\" = --version ]; then
  \"{real}\" --version | sed 's|^\\(  python version = .*\\) (/.*)$|\\1 ({python})|'
  exit 0
fi
exec \"{real}\" \"$@\"
",
            real = Venv::project().bin().join("ansible-playbook").display(),
            python = python.display()
        ),
    )
    .unwrap();
    std::fs::set_permissions(&fake, std::os::unix::fs::PermissionsExt::from_mode(0o755)).unwrap();
    let env = format!("t-nomitogen-{}", std::process::id());
    let output = machine.run_with(
        &machine.role("ansible-role-motd"),
        &[
            "--ansible-strategy",
            "mitogen",
            "test",
            "--platform-image",
            MAPPING,
            "--env",
            &env,
        ],
        &[("ARGOS_ANSIBLE_PLAYBOOK", &fake)],
    );
    let said = text(&output);
    assert!(!output.status.success(), "{said}");
    for expected in [
        format!(
            "ansible_strategy is mitogen, but mitogen is not installed for {}",
            python.display()
        ),
        "pip install mitogen==0.3.54".to_owned(),
        "--ansible-strategy".to_owned(),
    ] {
        assert!(said.contains(&expected), "{expected:?} missing:\n{said}");
    }
    assert!(!said.contains("create "), "nothing may be made:\n{said}");
    assert_eq!(run_ids(&env), Vec::<String>::new(), "made something");
}

/// `docker inspect`'s HostConfig.Privileged of `container`.
fn privileged(container: &str) -> String {
    let out = Command::new("docker")
        .args([
            "inspect",
            "--format",
            "{{.HostConfig.Privileged}}",
            container,
        ])
        .output()
        .unwrap();
    String::from_utf8_lossy(&out.stdout).trim().to_owned()
}

/// The tests that make environments (the `environments` test group: two at
/// a time).
mod environments {
    use super::*;

    #[test]
    fn an_installed_binary_tests_a_role_in_a_folder_outside_any_project() {
        if !ready() {
            return;
        }
        let machine = UserMachine::with_role("ansible-role-motd");
        let role = machine.role("ansible-role-motd");
        let junit = machine.dir.path().join("junit.xml");
        let output = machine.run(
            &role,
            &[
                "test",
                "--platform-image",
                MAPPING,
                "--junit",
                junit.to_str().unwrap(),
            ],
        );
        let said = text(&output);
        assert!(output.status.success(), "{said}");
        for expected in [
            "scenario ansible-role-motd-default on docker",
            &format!(
                "instance runs {HOST_IMAGE} in place of geerlingguy/docker-debian12-ansible:latest"
            ),
            "home project",
            // The default strategy, with Mitogen installed beside Ansible.
            "strategy mitogen_linear (mitogen ",
            // ansible-core's deprecation of third-party strategies, said once.
            "ansible-core 2.19 deprecates third-party strategy plugins",
        ] {
            assert!(said.contains(expected), "{expected:?} missing:\n{said}");
        }
        // What it needed came from the binary, into the home project.
        for file in [
            "docker/host-image/build.sh",
            "playbooks/group_vars/all.sample.yml",
        ] {
            assert!(machine.home().join(file).is_file(), "{file} not made");
        }
        let xml = std::fs::read_to_string(&junit).unwrap();
        assert!(xml.contains("platform-image.0"), "{xml}");
        let env = said
            .split("(argos-")
            .nth(1)
            .and_then(|rest| rest.split(')').next())
            .unwrap_or_else(|| panic!("no environment named in:\n{said}"));
        assert_eq!(run_ids(env), Vec::<String>::new(), "left behind");
    }

    #[test]
    fn the_loop_keeps_an_environment_through_converge_edit_verify_login_until_destroy() {
        if !ready() {
            return;
        }
        let machine = UserMachine::with_role("ansible-role-motd");
        let role = machine.role("ansible-role-motd");
        let argos = |args: &[&str]| {
            let mut all = args.to_vec();
            if args[0] != "list" && args[0] != "login" {
                all.extend(["--platform-image", MAPPING]);
            }
            let output = machine.run(&role, &all);
            let said = text(&output);
            (output, said)
        };
        // Whatever happens below, the kept environment goes at the end.
        struct Destroy<'a>(&'a dyn Fn(&[&str]) -> (Output, String));
        impl Drop for Destroy<'_> {
            fn drop(&mut self) {
                let _ = (self.0)(&["destroy"]);
            }
        }
        let _destroy = Destroy(&argos);

        let (first, said) = argos(&["converge"]);
        assert!(first.status.success(), "{said}");
        assert!(said.contains("kept: argos-k-ansiblerolem-"), "{said}");
        let first_converge = step_seconds(&said, "converge");
        let stack = said
            .split("kept: ")
            .nth(1)
            .and_then(|rest| rest.split(';').next())
            .unwrap()
            .to_owned();
        let run_id = stack.trim_start_matches("argos-").to_owned();
        // molecule.yml says privileged: true; unasked, the host runs without it.
        assert_eq!(privileged(&format!("{stack}-instance")), "false");

        // A one-line edit of the role: the next converge applies just that.
        let defaults = role.join("defaults/main.yml");
        let text_before = std::fs::read_to_string(&defaults).unwrap();
        let edited = text_before.replace(
            "motd_title: \"{{ ansible_facts['hostname'] }} is managed",
            "motd_title: \"Host {{ ansible_facts['hostname'] }} is managed",
        );
        assert_ne!(edited, text_before, "the edit applies");
        std::fs::write(&defaults, edited).unwrap();
        let started = std::time::Instant::now();
        let (second, said) = argos(&["converge"]);
        let second_wall = started.elapsed().as_secs_f64();
        assert!(second.status.success(), "{said}");
        assert!(
            !said
                .lines()
                .any(|l| l.split_whitespace().next() == Some("create")),
            "no second create:\n{said}"
        );
        assert!(
            said.contains("1 change(s)"),
            "only the edit changed:\n{said}"
        );
        let second_converge = step_seconds(&said, "converge");

        let (verify, said) = argos(&["verify"]);
        assert!(verify.status.success(), "{said}");
        let verify_seconds = step_seconds(&said, "verify");

        let (login, said) = argos(&["login", "-c", "cat /etc/hostname; head -1 /etc/motd"]);
        assert!(login.status.success(), "{said}");
        let out = String::from_utf8_lossy(&login.stdout);
        assert_eq!(
            out.lines().collect::<Vec<_>>(),
            ["instance", "Host instance is managed by Ansible"],
            "{said}"
        );
        let (failing, _) = argos(&["login", "-c", "exit 7"]);
        assert_eq!(
            failing.status.code(),
            Some(7),
            "the command's status is ours"
        );

        let (list, said) = argos(&["list"]);
        assert!(list.status.success(), "{said}");
        let line = String::from_utf8_lossy(&list.stdout)
            .lines()
            .find(|l| l.starts_with(&run_id))
            .map(str::to_owned)
            .unwrap_or_else(|| panic!("{run_id} not listed:\n{said}"));
        assert!(
            line.contains("1/1 up") && line.contains("molecule/default"),
            "{line}"
        );

        // A sweep lists it apart and leaves it.
        let project = crate::support::TempProject::shipped();
        let root = project.root();
        let sweep = machine.run(
            &role,
            &[
                "--root",
                root.to_str().unwrap(),
                "--backend",
                "docker",
                "x",
                "sweep",
                "--yes",
            ],
        );
        let said = text(&sweep);
        assert!(
            said.contains("kept environments") && said.contains(&run_id),
            "{said}"
        );
        assert!(
            !run_ids(&run_id).is_empty(),
            "the sweep removed it:\n{said}"
        );

        let (destroy, said) = argos(&["destroy"]);
        assert!(destroy.status.success(), "{said}");
        assert_eq!(run_ids(&run_id), Vec::<String>::new(), "left behind");
        let (verify_after, said) = argos(&["verify"]);
        assert!(!verify_after.status.success());
        assert!(said.contains("no kept environment"), "{said}");
        println!(
            "loop figures: first converge (create + converge) {first_converge:.1} s; converge after a \
             one-line edit {second_converge:.1} s (the command {second_wall:.1} s); verify \
             {verify_seconds:.1} s"
        );
    }

    #[test]
    fn a_matrix_runs_side_by_side_each_a_junit_suite_naming_its_image() {
        if !ready() {
            return;
        }
        let machine = UserMachine::with_role("ansible-role-motd");
        let role = machine.role("ansible-role-motd");
        let junit = machine.dir.path().join("junit.xml");
        let output = machine.run(
            &role,
            &[
                "--message-format",
                "json",
                "test",
                "-j",
                "2",
                "--matrix",
                "MOLECULE_DISTRO=debian12,bookworm",
                "--platform-image",
                "geerlingguy/docker-*-ansible:latest=argos-host:bookworm",
                "--junit",
                junit.to_str().unwrap(),
            ],
        );
        let said = text(&output);
        assert!(output.status.success(), "{said}");
        let events: Vec<serde_json::Value> = String::from_utf8_lossy(&output.stdout)
            .lines()
            .filter_map(|l| serde_json::from_str(l).ok())
            .collect();
        let at = |event: &str, scenario: &str, step: &str| {
            events
                .iter()
                .find(|e| e["event"] == event && e["scenario"] == scenario && e["step"] == step)
                .and_then(|e| e["at"].as_f64())
                .unwrap_or_else(|| panic!("no {event} of {scenario} {step}:\n{said}"))
        };
        let one = "ansible-role-motd-default[MOLECULE_DISTRO=debian12]";
        let two = "ansible-role-motd-default[MOLECULE_DISTRO=bookworm]";
        // Side by side: each started before the other finished.
        let (one_start, one_end) = (
            at("step_started", one, "create"),
            at("step_finished", one, "destroy"),
        );
        let (two_start, two_end) = (
            at("step_started", two, "create"),
            at("step_finished", two, "destroy"),
        );
        assert!(
            one_start < two_end && two_start < one_end,
            "one after the other:\n{said}"
        );
        let xml = std::fs::read_to_string(&junit).unwrap();
        for (name, image) in [
            (one, "geerlingguy/docker-debian12-ansible:latest"),
            (two, "geerlingguy/docker-bookworm-ansible:latest"),
        ] {
            assert!(
                xml.contains(&format!("name=\"{name} (docker)\"")),
                "{name}: {xml}"
            );
            assert!(
                xml.contains(&format!(
                    "instance runs argos-host:bookworm in place of {image}"
                )),
                "{image}: {xml}"
            );
        }
    }

    #[test]
    fn privileged_is_honoured_when_the_user_asks_and_said_in_the_report() {
        if !ready() {
            return;
        }
        let machine = UserMachine::with_role("ansible-role-motd");
        let role = machine.role("ansible-role-motd");
        let output = machine.run(
            &role,
            &["converge", "--privileged", "--platform-image", MAPPING],
        );
        let said = text(&output);
        let stack = said
            .split("on docker (")
            .nth(1)
            .and_then(|rest| rest.split(')').next())
            .unwrap_or_else(|| panic!("no environment named:\n{said}"))
            .to_owned();
        let asked = privileged(&format!("{stack}-instance"));
        let destroy = machine.run(&role, &["destroy"]);
        assert!(destroy.status.success(), "{}", text(&destroy));
        if output.status.success() {
            assert_eq!(asked, "true", "{said}");
            assert!(
                said.contains("instance runs privileged (--privileged)"),
                "{said}"
            );
        } else {
            // An engine that refuses privileged containers (this build
            // machine's sandbox: "unable to apply caps") fails the create with
            // its reason: asked is asked, never dropped in silence.
            assert!(
                said.contains("create") && said.contains(" --privileged argos-host:bookworm"),
                "{said}"
            );
        }
    }
}
