//! What goes into `<app>-image`, the image baked from `playbooks/image.yml`,
//! and the content key that names one bake: a hash of everything the bake
//! reads. A change to any of it gives a new key (a rebake); a change to
//! anything else (another group's role, a setting the image's roles never
//! name) keeps the key, and the bake is reused.
//!
//! The key covers: the base image's id; `image.yml`; every file of each role
//! it applies, followed through `include_role`/`import_role` and
//! `meta/main.yml` dependencies; `ansible.cfg`; and the value of each
//! variable (settings, `group_vars`, overrides) whose name occurs in those
//! files. Values are hashed, never shown, so a secret in the settings
//! leaves no trace in the key's text.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::time::Duration;

use serde_json::{Map, Value};
use sha2::{Digest, Sha256};

use crate::converge::deploy::{
    self, AnsiblePlaybook, DeployError, DeployReport, DeployRequest, Playbooks, RunKnownHosts,
    StrategyChoice,
};
use crate::converge::inventory::Inventory;
use crate::model::names::Group;
use crate::model::project::Project;
use crate::model::topology::Topology;
use crate::sys::progress::Progress;

/// Bump when what the key covers changes: every old bake is then stale.
const RECIPE: &str = "argos-bake-1";

/// The keys of the image role modules that include another role.
const INCLUDES: [&str; 4] = [
    "include_role",
    "import_role",
    "ansible.builtin.include_role",
    "ansible.builtin.import_role",
];

/// What running the image playbook needs: the project's playbooks, an
/// `ansible-playbook`, and the overrides Ansible sees.
#[derive(Debug, Clone)]
pub struct Provisioner {
    pub project: Project,
    pub ansible: AnsiblePlaybook,
    pub extra_vars: Map<String, Value>,
    /// How long the new host may take to answer SSH.
    pub reach_timeout: Duration,
    /// The `ansible_strategy` setting.
    pub strategy: StrategyChoice,
}

impl Provisioner {
    /// Run the image playbook on the one bake host of `inventory`. `bake`
    /// names the bake (an instance id, a content key): its known-hosts file,
    /// learnt on first contact, lives as long as this call.
    pub async fn provision(
        &self,
        inventory: &Inventory,
        topology: &Topology,
        bake: &str,
        progress: &Progress,
    ) -> Result<DeployReport, DeployError> {
        let known_hosts = RunKnownHosts::new(&self.project, &format!("bake-{bake}"));
        let request = DeployRequest {
            project: &self.project,
            inventory,
            topology,
            playbooks: Playbooks::roles(&[Group::IMAGE.as_str()]),
            roles_path: Vec::new(),
            collections_path: Vec::new(),
            environment: Vec::new(),
            extra_vars: self.extra_vars.clone(),
            host_keys: known_hosts.host_keys(),
            log_dir: self.project.path(".argos/logs"),
            reach_timeout: self.reach_timeout,
            strategy: self.strategy,
            masters: None,
            progress: progress.clone(),
        };
        deploy::deploy(&self.ansible, &request).await
    }

    /// The project's playbooks with the `ansible-playbook` deploy would use.
    pub fn for_project(
        project: &Project,
        extra_vars: Map<String, Value>,
        strategy: StrategyChoice,
    ) -> Result<Self, DeployError> {
        Ok(Self {
            project: project.clone(),
            ansible: AnsiblePlaybook::locate(project)?,
            extra_vars,
            reach_timeout: Duration::from_secs(300),
            strategy,
        })
    }
}

#[derive(Debug, thiserror::Error)]
pub enum BakeError {
    #[error(transparent)]
    Read(#[from] crate::input::file::ReadError),
    #[error("{}: {source}", path.display())]
    List {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{}: not YAML Ansible can read: {message}", path.display())]
    Yaml { path: PathBuf, message: String },
}

/// One bake's recipe: its content key and the roles it applies.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImageRecipe {
    /// 16 hex digits of the hash of everything the bake reads.
    pub key: String,
    /// The project roles it applies, found through includes and dependencies.
    pub roles: Vec<String>,
    /// The variables whose values went into the key (names only).
    pub variables: Vec<String>,
}

impl ImageRecipe {
    /// The recipe of `playbooks/image.yml` on the image `base_image_id`,
    /// with `vars` the variables Ansible gets (settings files and
    /// overrides; extra vars win over `group_vars`).
    pub fn of(
        project: &Project,
        base_image_id: &str,
        vars: &Map<String, Value>,
    ) -> Result<Self, BakeError> {
        let playbooks = project.path(Project::PLAYBOOKS);
        let playbook = playbooks.join(format!("{}.yml", Group::IMAGE));
        let roles_dir = playbooks.join("roles");
        let mut hasher = Sha256::new();
        let mut feed = |label: &str, bytes: &[u8]| {
            hasher.update(label.as_bytes());
            hasher.update((bytes.len() as u64).to_le_bytes());
            hasher.update(bytes);
        };
        feed("recipe", RECIPE.as_bytes());
        feed("base", base_image_id.as_bytes());
        let playbook_text = read(&playbook)?;
        feed("image.yml", playbook_text.as_bytes());
        let config = playbooks.join("ansible.cfg");
        if config.is_file() {
            feed("ansible.cfg", read(&config)?.as_bytes());
        }
        // Every role the play applies, and every role those include; each
        // role's files all go into the key.
        let mut pending: Vec<RoleUse> = play_roles(&yaml(&playbook, &playbook_text)?);
        let mut used: BTreeMap<String, RoleUse> = BTreeMap::new();
        let mut role_files: BTreeMap<String, Vec<(PathBuf, String)>> = BTreeMap::new();
        while let Some(next) = pending.pop() {
            let seen = used.contains_key(&next.role);
            let entry = used.entry(next.role.clone()).or_insert_with(|| RoleUse {
                role: next.role.clone(),
                tasks_from: Some(Vec::new()),
            });
            entry.widen(&next);
            if seen {
                continue;
            }
            let dir = roles_dir.join(&next.role);
            // A role from elsewhere (a collection): its name is all we know.
            feed("role", next.role.as_bytes());
            let mut files = Vec::new();
            for file in files_under(&dir)? {
                let bytes = crate::input::file::read_bytes(&file, crate::input::file::ROLE_FILE)?;
                let relative = file.strip_prefix(&dir).unwrap_or(&file).to_owned();
                feed(&relative.to_string_lossy(), &bytes);
                let text = String::from_utf8_lossy(&bytes).into_owned();
                if is_yaml(&file) && !relative.starts_with("files") {
                    pending.extend(included_roles(&yaml(&file, &text)?));
                }
                files.push((relative, text));
            }
            role_files.insert(next.role.clone(), files);
        }
        // The variables the bake reads: named in the task files it runs
        // (a role used with `tasks_from` runs only that file and what it
        // imports), their handlers and the templates they name, followed
        // through the roles' defaults and vars. Their values go into the key.
        let mut texts = vec![playbook_text];
        let mut definitions: Vec<(String, String)> = Vec::new();
        for (role, files) in &role_files {
            let runs = used[role].task_files(files);
            for (relative, text) in files {
                let top = relative
                    .components()
                    .next()
                    .map(|c| c.as_os_str().to_string_lossy().into_owned());
                match top.as_deref() {
                    Some("tasks") if runs.contains(relative) => texts.push(text.clone()),
                    Some("handlers" | "meta") => texts.push(text.clone()),
                    Some("defaults" | "vars") if is_yaml(relative) => {
                        definitions.extend(top_level_values(text));
                    }
                    _ => {}
                }
            }
            for (relative, text) in files {
                let name = relative
                    .file_name()
                    .map(|n| n.to_string_lossy().into_owned());
                if relative.starts_with("templates")
                    && name.is_some_and(|n| texts.iter().any(|t| t.contains(&n)))
                {
                    texts.push(text.clone());
                }
            }
        }
        let known = known_vars(&playbooks, vars)?;
        let mut named: BTreeSet<String> = BTreeSet::new();
        let mut reached: Vec<&str> = texts.iter().map(String::as_str).collect();
        while let Some(text) = reached.pop() {
            for (name, value) in &definitions {
                if !named.contains(name) && names_word(text, name) {
                    named.insert(name.clone());
                    reached.push(value);
                }
            }
            for name in known.keys() {
                if names_word(text, name) {
                    named.insert(name.clone());
                }
            }
        }
        let mut variables = Vec::new();
        for (name, value) in &known {
            if named.contains(name) {
                feed(name, value.to_string().as_bytes());
                variables.push(name.clone());
            }
        }
        let roles: Vec<String> = used.into_keys().collect();
        let digest = hasher.finalize();
        let key = digest[..8].iter().map(|b| format!("{b:02x}")).collect();
        Ok(Self {
            key,
            roles,
            variables,
        })
    }
}

fn read(path: &Path) -> Result<String, BakeError> {
    Ok(crate::input::file::read_text(
        path,
        crate::input::file::ANSIBLE_FILE,
    )?)
}

fn yaml(path: &Path, text: &str) -> Result<serde_norway::Value, BakeError> {
    crate::input::yaml::parse(text)
        .map(|node| node.to_value())
        .map_err(|e| BakeError::Yaml {
            path: path.to_owned(),
            message: e.to_string(),
        })
}

fn is_yaml(path: &Path) -> bool {
    path.extension().is_some_and(|e| e == "yml" || e == "yaml")
}

/// Every file under `dir`, sorted (none when there is no such folder).
fn files_under(dir: &Path) -> Result<Vec<PathBuf>, BakeError> {
    let mut files = Vec::new();
    let mut folders = vec![dir.to_owned()];
    while let Some(folder) = folders.pop() {
        let Ok(entries) = std::fs::read_dir(&folder) else {
            continue;
        };
        for entry in entries {
            let path = entry
                .map_err(|source| BakeError::List {
                    path: folder.clone(),
                    source,
                })?
                .path();
            if path.is_dir() {
                folders.push(path);
            } else {
                files.push(path);
            }
        }
    }
    files.sort();
    Ok(files)
}

/// How a role is applied: whole, or only some task files (`tasks_from`).
#[derive(Debug, Clone)]
struct RoleUse {
    role: String,
    /// None: the whole role (`tasks/main.yml` and what it imports).
    tasks_from: Option<Vec<String>>,
}

impl RoleUse {
    fn whole(role: String) -> Self {
        Self {
            role,
            tasks_from: None,
        }
    }

    /// Applied also as `other` is.
    fn widen(&mut self, other: &RoleUse) {
        match (&mut self.tasks_from, &other.tasks_from) {
            (Some(mine), Some(theirs)) => mine.extend(theirs.iter().cloned()),
            _ => self.tasks_from = None,
        }
    }

    /// The task files it runs, relative to the role: its entry files and
    /// the files they include or import, transitively.
    fn task_files(&self, files: &[(PathBuf, String)]) -> BTreeSet<PathBuf> {
        let entries = match &self.tasks_from {
            None => vec!["main.yml".to_owned()],
            Some(list) => list.clone(),
        };
        let mut runs = BTreeSet::new();
        let mut pending: Vec<PathBuf> = entries
            .iter()
            .map(|f| Path::new("tasks").join(with_yml(f)))
            .collect();
        while let Some(file) = pending.pop() {
            let Some((_, text)) = files.iter().find(|(p, _)| *p == file) else {
                continue;
            };
            if !runs.insert(file.clone()) {
                continue;
            }
            for line in text.lines() {
                let line = line.trim();
                let included = ["include_tasks:", "import_tasks:", "file:"]
                    .iter()
                    .find_map(|key| line.split_once(key).map(|(_, rest)| rest.trim()));
                if let Some(name) = included.filter(|n| !n.is_empty() && !n.contains("{{")) {
                    pending.push(Path::new("tasks").join(name.trim_matches(['"', '\''])));
                }
            }
        }
        runs
    }
}

/// `install` and `install.yml` both name `install.yml`.
fn with_yml(name: &str) -> String {
    if name.ends_with(".yml") || name.ends_with(".yaml") {
        name.to_owned()
    } else {
        format!("{name}.yml")
    }
}

/// A role reference: `name`, or `{role: name}` / `{name: name}`, with its
/// `tasks_from` when it has one.
fn role_use(entry: &serde_norway::Value) -> Option<RoleUse> {
    match entry {
        serde_norway::Value::String(name) => Some(RoleUse::whole(name.clone())),
        serde_norway::Value::Mapping(map) => {
            let name = map
                .get("role")
                .or_else(|| map.get("name"))
                .and_then(serde_norway::Value::as_str)?;
            let tasks_from = map
                .get("tasks_from")
                .and_then(serde_norway::Value::as_str)
                .map(|f| vec![f.to_owned()]);
            Some(RoleUse {
                role: name.to_owned(),
                tasks_from,
            })
        }
        _ => None,
    }
}

/// The roles a playbook's plays list under `roles:`.
fn play_roles(playbook: &serde_norway::Value) -> Vec<RoleUse> {
    playbook
        .as_sequence()
        .into_iter()
        .flatten()
        .filter_map(|play| play.get("roles")?.as_sequence())
        .flatten()
        .filter_map(role_use)
        .collect()
}

/// The roles a role file brings in: `include_role`/`import_role` anywhere
/// in it (blocks included), and `dependencies` of `meta/main.yml`.
fn included_roles(value: &serde_norway::Value) -> Vec<RoleUse> {
    let mut found = Vec::new();
    let mut stack = vec![value];
    while let Some(value) = stack.pop() {
        match value {
            serde_norway::Value::Sequence(items) => stack.extend(items),
            serde_norway::Value::Mapping(map) => {
                for (key, inner) in map {
                    let key = key.as_str().unwrap_or_default();
                    if INCLUDES.contains(&key) {
                        found.extend(role_use(inner));
                    } else if key == "dependencies" {
                        found.extend(
                            inner
                                .as_sequence()
                                .into_iter()
                                .flatten()
                                .filter_map(role_use),
                        );
                    } else {
                        stack.push(inner);
                    }
                }
            }
            _ => {}
        }
    }
    found
}

/// The top-level entries of a defaults or vars file, as (name, the text of
/// its value); a file that is not a mapping has none.
fn top_level_values(text: &str) -> Vec<(String, String)> {
    crate::input::yaml::parse(text)
        .map(|node| {
            node.entries()
                .iter()
                .filter_map(|(k, v)| {
                    Some((k.as_key()?, serde_norway::to_string(&v.to_value()).ok()?))
                })
                .collect()
        })
        .unwrap_or_default()
}

/// The variables Ansible gets for the image group: `group_vars/all.yml`
/// and `group_vars/image.yml` of the playbooks, then `vars` over them.
fn known_vars(
    playbooks: &Path,
    vars: &Map<String, Value>,
) -> Result<BTreeMap<String, Value>, BakeError> {
    let mut known = BTreeMap::new();
    for file in ["all.yml", "image.yml"] {
        let path = playbooks.join("group_vars").join(file);
        if !path.is_file() {
            continue;
        }
        let text = read(&path)?;
        let node = crate::input::yaml::parse(&text).map_err(|e| BakeError::Yaml {
            path: path.clone(),
            message: e.to_string(),
        })?;
        if let Value::Object(values) = node.to_json() {
            known.extend(values);
        }
    }
    known.extend(vars.iter().map(|(k, v)| (k.clone(), v.clone())));
    Ok(known)
}

/// Whether `text` names `name` as a whole word (`app_path`, not `app_path_x`).
fn names_word(text: &str, name: &str) -> bool {
    let word = |c: char| c.is_ascii_alphanumeric() || c == '_';
    text.match_indices(name).any(|(at, _)| {
        let before = text[..at].chars().next_back();
        let after = text[at + name.len()..].chars().next();
        !before.is_some_and(word) && !after.is_some_and(word)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A project with an image play applying `common` and `image`; `image`
    /// includes `app`'s install file; `database` is nobody's.
    fn project() -> (tempfile::TempDir, Project) {
        let dir = tempfile::tempdir().unwrap();
        let write = |path: &str, text: &str| {
            let path = dir.path().join(path);
            std::fs::create_dir_all(path.parent().unwrap()).unwrap();
            std::fs::write(path, text).unwrap();
        };
        write(
            "playbooks/image.yml",
            "- hosts: image\n  roles:\n    - common\n    - role: image\n",
        );
        write(
            "playbooks/roles/common/tasks/main.yml",
            "- ansible.builtin.ping:\n",
        );
        write(
            "playbooks/roles/image/tasks/main.yml",
            "- block:\n    - ansible.builtin.include_role:\n        name: app\n        tasks_from: install.yml\n",
        );
        write(
            "playbooks/roles/app/tasks/install.yml",
            "- ansible.builtin.apt:\n    name: \"{{ app_packages }}\"\n",
        );
        // Not run by the bake (`tasks_from: install.yml`): its template's
        // secret, and the default naming it, stay out of the key's variables.
        write(
            "playbooks/roles/app/tasks/config.yml",
            "- ansible.builtin.template: {src: config.j2, dest: /etc/app.conf}\n",
        );
        write(
            "playbooks/roles/app/templates/config.j2",
            "password={{ app_secret }}\n",
        );
        write(
            "playbooks/roles/app/defaults/main.yml",
            "app_packages: \"{{ base_packages + ['git'] }}\"\napp_secret: \"{{ db_pass }}\"\n",
        );
        write(
            "playbooks/roles/app/meta/main.yml",
            "dependencies: [{role: base}]\n",
        );
        write(
            "playbooks/roles/base/tasks/main.yml",
            "- ansible.builtin.ping:\n",
        );
        write(
            "playbooks/roles/database/tasks/main.yml",
            "- ansible.builtin.debug: {msg: \"{{ db_name }}\"}\n",
        );
        write(
            "playbooks/group_vars/all.yml",
            "base_packages: [nginx]\ndb_name: argos\ndb_pass: s3cret\n",
        );
        std::fs::create_dir_all(dir.path().join("formations")).unwrap();
        let project = Project::open(dir.path()).unwrap();
        (dir, project)
    }

    fn key(project: &Project, base: &str, vars: &Map<String, Value>) -> ImageRecipe {
        ImageRecipe::of(project, base, vars).unwrap()
    }

    #[test]
    fn the_roles_are_followed_through_includes_and_dependencies() {
        let (_dir, project) = project();
        let recipe = key(&project, "sha256:1", &Map::new());
        assert_eq!(recipe.roles, ["app", "base", "common", "image"]);
        assert_eq!(
            recipe.variables,
            ["base_packages"],
            "through the role's defaults"
        );
        assert_eq!(recipe.key.len(), 16);
        assert_eq!(
            recipe,
            key(&project, "sha256:1", &Map::new()),
            "same inputs, same key"
        );
    }

    #[test]
    fn what_the_bake_reads_changes_the_key_and_nothing_else_does() {
        let (dir, project) = project();
        let vars = Map::new();
        let first = key(&project, "sha256:1", &vars).key;
        let root = dir.path();
        // Not read by the bake: the key stays.
        std::fs::write(
            root.join("playbooks/roles/database/tasks/main.yml"),
            "- ansible.builtin.debug: {msg: changed}\n",
        )
        .unwrap();
        let mut unrelated = Map::new();
        unrelated.insert("db_name".into(), Value::String("other".into()));
        unrelated.insert("db_pass".into(), Value::String("another".into()));
        assert_eq!(key(&project, "sha256:1", &unrelated).key, first);
        // Read by the bake: each changes it.
        assert_ne!(
            key(&project, "sha256:2", &vars).key,
            first,
            "the base image"
        );
        let mut packages = Map::new();
        packages.insert("base_packages".into(), serde_json::json!(["nginx", "curl"]));
        assert_ne!(
            key(&project, "sha256:1", &packages).key,
            first,
            "a variable it names"
        );
        std::fs::write(
            root.join("playbooks/roles/base/tasks/main.yml"),
            "- ansible.builtin.ping: {}\n",
        )
        .unwrap();
        assert_ne!(
            key(&project, "sha256:1", &vars).key,
            first,
            "a dependency's file"
        );
    }

    #[test]
    fn a_playbook_that_is_not_yaml_is_named() {
        let (dir, project) = project();
        std::fs::write(dir.path().join("playbooks/image.yml"), "- hosts: [\n").unwrap();
        let error = ImageRecipe::of(&project, "sha256:1", &Map::new()).unwrap_err();
        assert!(
            error.to_string().contains("playbooks/image.yml: not YAML"),
            "{error}"
        );
    }

    #[test]
    fn a_name_is_matched_as_a_whole_word() {
        assert!(names_word("{{ app_path }}", "app_path"));
        assert!(!names_word("{{ app_path_x }}", "app_path"));
        assert!(!names_word("my_app_path", "app_path"));
    }
}
