//! A scenario's `requirements.yml`, installed offline into the run's own
//! roles and collections folders. There is no Galaxy and no Git here: an
//! entry must name a local directory or tarball (`src: ../ansible-role-x`,
//! `src: file:///srv/roles/x.tar.gz`, a collection's `source: ./coll`), and
//! one that would need the network is an error saying so.

use std::path::{Path, PathBuf};
use std::process::Command;

use serde_norway::Value;

/// Where the run's roles and collections go.
#[derive(Debug, Clone)]
pub struct Installed {
    pub roles: Vec<String>,
    pub collections: Vec<String>,
    /// What was given and has no meaning for a local source (`version`, `scm`).
    pub ignored: Vec<String>,
}

/// Install every entry of `file`; `galaxy` is `ansible-galaxy`, for
/// collections. A relative source is looked for from the file's folder,
/// then from `also_from` (Molecule runs ansible-galaxy in the role's root).
pub fn install(
    file: &Path,
    also_from: Option<&Path>,
    roles_dir: &Path,
    collections_dir: &Path,
    galaxy: &Path,
) -> Result<Installed, String> {
    let value: Value = crate::input::yaml::read(file, crate::input::file::ANSIBLE_FILE)
        .map_err(|e| e.to_string())?
        .to_value();
    let bases: Vec<&Path> = std::iter::once(file.parent().unwrap_or(Path::new(".")))
        .chain(also_from)
        .collect();
    // The old form is a list of roles; the new a map of roles and collections.
    let (roles, collections) = match &value {
        Value::Sequence(roles) => (roles.clone(), Vec::new()),
        Value::Mapping(_) => {
            let list = |key: &str| {
                value
                    .get(key)
                    .and_then(Value::as_sequence)
                    .cloned()
                    .unwrap_or_default()
            };
            (list("roles"), list("collections"))
        }
        Value::Null => (Vec::new(), Vec::new()),
        _ => {
            return Err(format!(
                "{}: expected a list of roles, or roles: and collections:",
                file.display()
            ));
        }
    };
    let mut installed = Installed {
        roles: Vec::new(),
        collections: Vec::new(),
        ignored: Vec::new(),
    };
    std::fs::create_dir_all(roles_dir).map_err(|e| e.to_string())?;
    for (index, entry) in roles.iter().enumerate() {
        let at = format!("{}: roles[{index}]", file.display());
        let (name, source) = role_entry(entry).map_err(|e| format!("{at}: {e}"))?;
        for key in ["version", "scm"] {
            if entry.get(key).is_some() {
                installed.ignored.push(format!(
                    "roles[{index}].{key} (a local source is taken as it is)"
                ));
            }
        }
        let Some(source) = source.and_then(|s| local_path(&bases, &s)) else {
            let name = name.unwrap_or_default();
            return Err(format!(
                "{at}: {name} would be fetched from Galaxy or Git, and there is no network \
                 here: give `src:` a local directory or tarball"
            ));
        };
        let name = name.unwrap_or_else(|| {
            source
                .file_stem()
                .map(|s| s.to_string_lossy().trim_end_matches(".tar").to_owned())
                .unwrap_or_default()
        });
        let target = roles_dir.join(&name);
        if source.is_dir() {
            let source = std::fs::canonicalize(&source)
                .map_err(|e| format!("{at}: {}: {e}", source.display()))?;
            std::os::unix::fs::symlink(&source, &target)
                .map_err(|e| format!("{at}: linking {name}: {e}"))?;
        } else if source.is_file() {
            std::fs::create_dir_all(&target).map_err(|e| e.to_string())?;
            run(Command::new("tar")
                .args(["--strip-components=1", "-xzf"])
                .arg(&source)
                .arg("-C")
                .arg(&target))
            .map_err(|e| format!("{at}: unpacking {}: {e}", source.display()))?;
        } else {
            return Err(format!("{at}: {} does not exist", source.display()));
        }
        installed.roles.push(name);
    }
    for (index, entry) in collections.iter().enumerate() {
        let at = format!("{}: collections[{index}]", file.display());
        let (name, source) = collection_entry(entry).map_err(|e| format!("{at}: {e}"))?;
        let Some(source) = source
            .and_then(|s| local_path(&bases, &s))
            .filter(|p| p.exists())
        else {
            return Err(format!(
                "{at}: {name} would be fetched from Galaxy, and there is no network here: \
                 give `source:` a local collection directory or tarball"
            ));
        };
        run(Command::new(galaxy)
            .args(["collection", "install", "--offline", "--force", "-p"])
            .arg(collections_dir)
            .arg(&source))
        .map_err(|e| format!("{at}: installing {name}: {e}"))?;
        installed.collections.push(name);
    }
    Ok(installed)
}

/// A role entry's name and source: `name`, or `{name, src}`, or `{src}`.
fn role_entry(entry: &Value) -> Result<(Option<String>, Option<String>), String> {
    match entry {
        Value::String(name) => Ok((Some(name.clone()), None)),
        Value::Mapping(_) => {
            let field = |key: &str| entry.get(key).and_then(Value::as_str).map(str::to_owned);
            if field("name").is_none() && field("src").is_none() {
                return Err("a role needs `name` or `src`".into());
            }
            Ok((field("name"), field("src")))
        }
        _ => Err("a role is a name or a mapping with `src`".into()),
    }
}

/// A collection entry's name and local source (`source`, or a `name` that is a path).
fn collection_entry(entry: &Value) -> Result<(String, Option<String>), String> {
    match entry {
        Value::String(name) => Ok((name.clone(), looks_local(name).then(|| name.clone()))),
        Value::Mapping(_) => {
            let field = |key: &str| entry.get(key).and_then(Value::as_str).map(str::to_owned);
            let name = field("name").ok_or("a collection needs `name`")?;
            let source = field("source").or_else(|| looks_local(&name).then(|| name.clone()));
            Ok((name, source))
        }
        _ => Err("a collection is a name or a mapping with `name`".into()),
    }
}

fn looks_local(text: &str) -> bool {
    text.starts_with('/') || text.starts_with('.') || text.starts_with("file://")
}

/// A source that is on this machine: a path or `file://` URL, relative to
/// the first of `bases` where it exists. None for Galaxy names and remote URLs.
fn local_path(bases: &[&Path], source: &str) -> Option<PathBuf> {
    let path = match source.strip_prefix("file://") {
        Some(path) => path,
        None if source.contains("://") || source.starts_with("git+") || source.contains('@') => {
            return None;
        }
        None => source,
    };
    let found = bases.iter().map(|b| b.join(path)).find(|p| p.exists());
    match found {
        Some(found) => Some(found),
        // A path that exists nowhere is still a path: its error says so.
        None if looks_local(source) || source.contains('/') => Some(bases[0].join(path)),
        None => None,
    }
}

fn run(command: &mut Command) -> Result<(), String> {
    crate::sys::process::run(command)
        .map(drop)
        .map_err(|e| e.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn local_roles_are_linked_and_a_galaxy_name_is_refused_with_the_reason() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(dir.path().join("ansible-role-redis/tasks")).unwrap();
        let file = dir.path().join("requirements.yml");
        std::fs::write(
            &file,
            "roles:\n  - name: acme.redis\n    src: ./ansible-role-redis\n    version: 1.2.0\n",
        )
        .unwrap();
        let roles = dir.path().join("run/roles");
        let installed = install(
            &file,
            None,
            &roles,
            &dir.path().join("run/c"),
            Path::new("ansible-galaxy"),
        )
        .unwrap();
        assert_eq!(installed.roles, ["acme.redis"]);
        assert_eq!(
            installed.ignored,
            ["roles[0].version (a local source is taken as it is)"]
        );
        assert!(roles.join("acme.redis/tasks").is_dir());

        std::fs::write(&file, "- geerlingguy.ntp\n").unwrap();
        let error = install(
            &file,
            None,
            &dir.path().join("run2"),
            &dir.path().join("c2"),
            Path::new("x"),
        )
        .unwrap_err();
        assert!(
            error.ends_with(
                "roles[0]: geerlingguy.ntp would be fetched from Galaxy or Git, and there is no \
                 network here: give `src:` a local directory or tarball"
            ),
            "{error}"
        );
        std::fs::write(&file, "collections:\n  - community.general\n").unwrap();
        let error = install(
            &file,
            None,
            &dir.path().join("run3"),
            &dir.path().join("c3"),
            Path::new("x"),
        )
        .unwrap_err();
        assert!(
            error.contains("community.general would be fetched from Galaxy"),
            "{error}"
        );
    }
}
