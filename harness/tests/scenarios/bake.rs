//! The image bake on Docker: hosts of a `baked` group start from
//! `<app>-image:<content key>`, baked once per content on the machine. A
//! second environment reuses it; a change to what the bake reads bakes
//! anew; two environments racing bake once; the image is the machine's, so
//! a run's teardown leaves it, and `clean` removes it.
//!
//! A project of its own (an app name of its own, a one-task image role) so
//! `clean` here never touches the images the other tests start from.

use std::time::Duration;

use argos_cloud::backend::choose::{self, LocalKind};
use argos_cloud::backend::{Backend, HostSpec};
use argos_cloud::model::names::{EnvName, Group, RunTags};
use argos_cloud::model::project::Project;
use argos_cloud::model::settings::{self, Overrides};
use argos_cloud::scenario::guard::EnvironmentGuard;
use argos_cloud::scenario::run::unique_env_name;
use argos_cloud::sys::progress::Progress;
use argos_harness::scenarios::{self, docker};
use serde_json::{Map, Value};

/// A project whose `web` group is baked: the image role writes the
/// variable `bake_marker` to /etc/argos-baked.
struct BakeProject {
    dir: tempfile::TempDir,
    app: String,
}

impl BakeProject {
    fn new() -> Self {
        let dir = tempfile::tempdir().unwrap();
        let app = format!("bk{}", std::process::id());
        let root = dir.path();
        let write = |path: &str, text: &str| {
            let path = root.join(path);
            std::fs::create_dir_all(path.parent().unwrap()).unwrap();
            std::fs::write(path, text).unwrap();
        };
        std::fs::create_dir_all(root.join("formations")).unwrap();
        write(
            "playbooks/image.yml",
            "- name: Bake\n  hosts: image\n  become: true\n  roles: [bakery]\n",
        );
        write(
            "playbooks/roles/bakery/tasks/main.yml",
            "- name: Mark the image\n  ansible.builtin.copy:\n    content: \"{{ bake_marker }}\"\n    dest: /etc/argos-baked\n    mode: \"0644\"\n",
        );
        // The workspace's venv (Ansible) and host image recipe.
        for shared in [".venv", "docker"] {
            std::os::unix::fs::symlink(scenarios::workspace_root().join(shared), root.join(shared))
                .unwrap();
        }
        Self { dir, app }
    }

    fn project(&self) -> Project {
        Project::open(self.dir.path()).unwrap()
    }

    /// The sample settings with this project's app name and topology.
    fn settings(&self) -> argos_cloud::model::settings::Settings {
        let sample = scenarios::workspace_root().join(Project::SAMPLE_SETTINGS);
        let text = std::fs::read_to_string(&sample).unwrap();
        let start = text
            .find("\ntopology:\n")
            .expect("the sample has a topology");
        let rest = &text[start + 1..];
        let end = rest.find("\n\n").map_or(text.len(), |i| start + 1 + i + 1);
        let text = format!(
            "{}\ntopology:\n  - {{group: web, baked: true}}\n  - {{group: plain}}\n{}",
            &text[..start],
            &text[end..]
        )
        .replace("\napp_name: argos ", &format!("\napp_name: {} ", self.app));
        let file = self.dir.path().join("settings.yml");
        std::fs::write(&file, &text).unwrap();
        settings::parse(&file, &text, &Overrides::default()).unwrap_or_else(|e| panic!("{e}"))
    }

    fn backend(&self, run: Option<RunTags>, marker: &str) -> Box<dyn Backend> {
        let mut vars = Map::new();
        vars.insert("bake_marker".into(), Value::String(marker.into()));
        choose::local(
            LocalKind::Docker,
            self.project(),
            self.settings(),
            Progress::stderr(),
            run,
            vars,
        )
    }

    /// An environment with a `web` (baked) and a `plain` host, torn down
    /// when the guard drops.
    fn environment(&self, marker: &str) -> EnvironmentGuard {
        let env = unique_env_name("bake");
        let run = RunTags::new(env.as_str(), Duration::from_secs(3600));
        let mut guard =
            EnvironmentGuard::new(self.backend(Some(run.clone()), marker), env, &run, false);
        let hosts: Vec<HostSpec> = ["web", "plain"]
            .iter()
            .map(|g| HostSpec::for_group(&Group::new(g).unwrap(), &Default::default()))
            .collect();
        guard.commission(&hosts).unwrap_or_else(|e| panic!("{e}"));
        guard
    }

    fn repository(&self) -> String {
        format!("{}-image", self.app)
    }

    /// This app's baked images on the machine.
    fn images(&self) -> Vec<String> {
        let reference = format!("reference={}:*", self.repository());
        let listed = docker(&["image", "ls", "-q", "--filter", &reference]).unwrap();
        listed.lines().map(str::to_owned).collect()
    }
}

impl Drop for BakeProject {
    /// Whatever happened, none of this app's images stay.
    fn drop(&mut self) {
        for image in self.images() {
            let _ = docker(&["image", "rm", "-f", &image]);
        }
    }
}

/// The image a host of `guard`'s environment runs (its name) and its id.
fn host_image(guard: &EnvironmentGuard, host: &str) -> (String, String) {
    let container = guard.backend().names(guard.env()).resource(host);
    let name = docker(&["inspect", "--format", "{{.Config.Image}}", &container]).unwrap();
    let id = docker(&["inspect", "--format", "{{.Image}}", &container]).unwrap();
    (name, id)
}

fn marker(guard: &EnvironmentGuard) -> String {
    let container = guard.backend().names(guard.env()).resource("web");
    docker(&["exec", &container, "cat", "/etc/argos-baked"]).unwrap_or_else(|e| e)
}

fn env_of(guard: &EnvironmentGuard) -> EnvName {
    guard.env().clone()
}

#[test]
fn the_image_is_baked_once_per_content_and_only_clean_removes_it() {
    if !scenarios::available(LocalKind::Docker) {
        return;
    }
    let project = BakeProject::new();
    let repository = project.repository();

    let first = project.environment("one");
    let (web_image, baked_id) = host_image(&first, "web");
    assert!(
        web_image.starts_with(&format!("{repository}:")),
        "the baked group starts from {repository}: {web_image}"
    );
    assert_eq!(
        marker(&first),
        "one",
        "the bake's work is in the host before any deploy"
    );
    let (plain_image, _) = host_image(&first, "plain");
    assert_eq!(
        plain_image, "argos-host:bookworm",
        "a group not baked starts bare"
    );

    // The same content: the same image, not a second bake.
    let second = project.environment("one");
    assert_eq!(
        host_image(&second, "web"),
        (web_image.clone(), baked_id.clone())
    );
    assert_eq!(project.images().len(), 1);

    // A variable the image role reads: a new key, a new bake.
    let changed = project.environment("two");
    let (changed_image, changed_id) = host_image(&changed, "web");
    assert_ne!(changed_image, web_image);
    assert_ne!(changed_id, baked_id);
    assert_eq!(marker(&changed), "two");

    // Two environments racing for a content no bake has made: one bake.
    let (a, b) = std::thread::scope(|scope| {
        let a = scope.spawn(|| project.environment("three"));
        let b = scope.spawn(|| project.environment("three"));
        (a.join().unwrap(), b.join().unwrap())
    });
    assert_eq!(host_image(&a, "web"), host_image(&b, "web"));
    assert_eq!(marker(&a), "three");
    assert_eq!(project.images().len(), 3, "one bake per content");

    // The images are the machine's: tearing the runs down leaves them,
    // and the backend lists them as the machine's.
    let envs: Vec<EnvName> = [&first, &second, &changed, &a, &b]
        .iter()
        .map(|g| env_of(g))
        .collect();
    drop((first, second, changed, a, b));
    let operator = project.backend(None, "one");
    for env in &envs {
        assert_eq!(operator.existing(env).unwrap(), None, "{env} is gone");
    }
    assert_eq!(
        project.images().len(),
        3,
        "a run's teardown keeps the baked images"
    );
    let listed = operator.machine_objects().unwrap();
    assert_eq!(listed.len(), 3, "{listed:?}");
    assert!(
        listed
            .iter()
            .all(|o| o.starts_with(&format!("image {repository}:")))
    );

    let removed = operator.clean().unwrap();
    assert_eq!(removed.len(), 3, "{removed:?}");
    assert!(project.images().is_empty(), "clean removes every bake");
    assert!(operator.machine_objects().unwrap().is_empty());
}

/// A bake whose playbook fails says why, and leaves no bake host and no image.
#[test]
fn a_failing_bake_names_its_playbook_and_leaves_nothing() {
    if !scenarios::available(LocalKind::Docker) {
        return;
    }
    let project = BakeProject::new();
    std::fs::write(
        project
            .dir
            .path()
            .join("playbooks/roles/bakery/tasks/main.yml"),
        "- name: Fail on purpose\n  ansible.builtin.fail:\n    msg: the bake broke\n",
    )
    .unwrap();
    let env = unique_env_name("bakefail");
    let run = RunTags::new(env.as_str(), Duration::from_secs(3600));
    let mut guard =
        EnvironmentGuard::new(project.backend(Some(run.clone()), "x"), env, &run, false);
    let hosts = vec![HostSpec::for_group(
        &Group::new("web").unwrap(),
        &Default::default(),
    )];
    let error = guard.commission(&hosts).unwrap_err().to_string();
    assert!(
        error.contains(&format!("baking {}", project.repository())),
        "{error}"
    );
    assert!(error.contains("the bake broke"), "{error}");
    let prefix = format!("name=^{}-image-bake-", project.app);
    assert_eq!(
        docker(&["ps", "-a", "-q", "--filter", &prefix]).unwrap(),
        "",
        "no bake host is left"
    );
    assert!(project.images().is_empty(), "no image from a failed bake");
}
