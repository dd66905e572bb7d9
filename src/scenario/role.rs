//! The role under test, wherever it lives: a project role (a group with a
//! playbook in `playbooks/`), a role in the project's `playbooks/roles`, or a
//! role directory anywhere, found under every name its playbooks may use
//! for it (its folder's name, `role_name` and `namespace.role_name` from
//! its `meta/main.yml`, as Molecule links it).

use std::path::{Path, PathBuf};

use serde_norway::Value;

use crate::model::names::Group;
use crate::model::project::Project;
use crate::model::topology::Topology;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RoleUnderTest {
    /// `playbooks/<name>.yml` converges its group's hosts (the Argos roles).
    Project(String),
    /// A role on the project's roles path, applied by a generated play.
    Named(String),
    /// A role directory outside the project, linked into the run's roles
    /// folder under each of `names` and applied by a generated play.
    Directory { path: PathBuf, names: Vec<String> },
}

impl RoleUnderTest {
    /// Where `role` (as a scenario in `dir` writes it) is, or why it is nowhere.
    pub fn find(
        role: &str,
        dir: &Path,
        project: &Project,
        topology: &Topology,
    ) -> Result<Self, String> {
        let playbooks = project.path(Project::PLAYBOOKS);
        if role.contains('/') || role.starts_with('.') {
            let path = dir.join(role);
            let path = std::fs::canonicalize(&path)
                .map_err(|e| format!("role directory {}: {e}", path.display()))?;
            if !path.join("tasks").is_dir() && !path.join("meta").is_dir() {
                return Err(format!(
                    "{} is not a role: it has neither tasks/ nor meta/",
                    path.display()
                ));
            }
            let names = role_names(&path);
            return Ok(RoleUnderTest::Directory { path, names });
        }
        let project_role = Group::parse(role)
            .is_some_and(|g| topology.knows(&g) || g == Group::IMAGE)
            && playbooks.join(format!("{role}.yml")).is_file();
        if project_role {
            return Ok(RoleUnderTest::Project(role.to_owned()));
        }
        if playbooks.join("roles").join(role).is_dir() {
            return Ok(RoleUnderTest::Named(role.to_owned()));
        }
        let groups: Vec<&str> = topology.deploy_order().map(Group::as_str).collect();
        Err(format!(
            "{role:?} is not a project role ({}, image), not a role in {}, and not a path \
             (write ./{role} or an absolute path for a role directory)",
            groups.join(", "),
            playbooks.join("roles").display()
        ))
    }

    /// The name a generated converge play applies it by.
    pub fn play_name(&self) -> &str {
        match self {
            RoleUnderTest::Project(name) | RoleUnderTest::Named(name) => name,
            RoleUnderTest::Directory { names, .. } => &names[0],
        }
    }

    pub fn is_project_role(&self) -> bool {
        matches!(self, RoleUnderTest::Project(_))
    }

    /// Link the role into `roles_dir` under each of its names.
    pub fn link_into(&self, roles_dir: &Path) -> std::io::Result<()> {
        if let RoleUnderTest::Directory { path, names } = self {
            std::fs::create_dir_all(roles_dir)?;
            for name in names {
                let link = roles_dir.join(name);
                if !link.exists() {
                    std::os::unix::fs::symlink(path, link)?;
                }
            }
        }
        Ok(())
    }

    /// A play applying the role on every host, as Molecule's default
    /// converge does; written to `file`.
    pub fn write_converge(&self, file: &Path) -> std::io::Result<()> {
        let text = format!(
            "---\n# Written by argos-cloud: the role under test on every host.\n\
             - name: Converge\n  hosts: all\n  tasks:\n    - name: Apply {name}\n      \
             ansible.builtin.include_role:\n        name: {name}\n",
            name = self.play_name()
        );
        std::fs::write(file, text)
    }
}

/// Every name a role directory goes by: `namespace.role_name` and
/// `role_name` from `meta/main.yml`'s `galaxy_info`, then the folder's name.
pub fn role_names(path: &Path) -> Vec<String> {
    let mut names = Vec::new();
    // A meta file that cannot be read leaves the folder's name: Molecule
    // reports the file itself when it runs the role.
    let meta = crate::input::yaml::read(
        &path.join("meta/main.yml"),
        crate::input::file::ANSIBLE_FILE,
    )
    .ok()
    .map(|node| node.to_value());
    let info = meta.as_ref().and_then(|m| m.get("galaxy_info"));
    let field = |key: &str| info.and_then(|i| i.get(key)).and_then(Value::as_str);
    if let Some(role_name) = field("role_name") {
        // Molecule's rule (ansible-compat): the namespace, else the author.
        let namespace = field("namespace").or_else(|| {
            field("author").filter(|a| {
                a.chars()
                    .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
            })
        });
        if let Some(namespace) = namespace {
            names.push(format!("{namespace}.{role_name}"));
        }
        names.push(role_name.to_owned());
    }
    if let Some(folder) = path.file_name().and_then(|n| n.to_str()) {
        names.push(folder.to_owned());
    }
    names.dedup();
    names
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_role_directory_goes_by_its_galaxy_names_and_its_folder() {
        let dir = tempfile::tempdir().unwrap();
        let role = dir.path().join("ansible-role-redis");
        std::fs::create_dir_all(role.join("meta")).unwrap();
        std::fs::write(
            role.join("meta/main.yml"),
            "galaxy_info:\n  namespace: acme\n  role_name: redis\n  author: x\n",
        )
        .unwrap();
        assert_eq!(
            role_names(&role),
            ["acme.redis", "redis", "ansible-role-redis"]
        );
        let bare = dir.path().join("motd");
        std::fs::create_dir_all(bare.join("tasks")).unwrap();
        assert_eq!(role_names(&bare), ["motd"]);
    }

    #[test]
    fn a_role_is_found_by_path_and_an_unknown_name_says_where_it_looked() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(dir.path().join("playbooks/roles/common")).unwrap();
        std::fs::create_dir_all(dir.path().join("formations")).unwrap();
        std::fs::create_dir_all(dir.path().join("elsewhere/motd/tasks")).unwrap();
        let project = Project::open(dir.path()).unwrap();
        let topology = Topology::default();
        let found = RoleUnderTest::find(
            "../elsewhere/motd",
            &dir.path().join("scenarios"),
            &project,
            &topology,
        );
        assert!(
            matches!(&found, Err(e) if e.contains("elsewhere/motd")),
            "a missing folder (scenarios/ does not exist) is named: {found:?}"
        );
        let found =
            RoleUnderTest::find("./elsewhere/motd", dir.path(), &project, &topology).unwrap();
        assert!(matches!(&found, RoleUnderTest::Directory { names, .. } if names == &["motd"]));
        assert_eq!(
            RoleUnderTest::find("common", dir.path(), &project, &topology).unwrap(),
            RoleUnderTest::Named("common".into())
        );
        let error = RoleUnderTest::find("redis", dir.path(), &project, &topology).unwrap_err();
        assert!(error.contains("not a role in"), "{error}");
    }
}
