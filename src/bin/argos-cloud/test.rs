//! `argos-cloud test [PATH] [-s NAME | --all]`: what `molecule test` is to
//! a role, in any folder. A role's Molecule scenarios run on Docker unless
//! `--backend` (or ARGOS_BACKEND) says otherwise; outside any argos-cloud
//! project they run from argos-cloud's home project (made from the binary
//! on first use). In a project without `molecule/`, its scenario files run.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use argos_cloud::cli::{BackendKind, Cli, RunArgs};
use argos_cloud::model::home;
use argos_cloud::model::project::Project;
use argos_cloud::scenario::run;

use crate::scenario::{backend, load_all, run_scenarios};

pub fn command(
    cli: &Cli,
    path: &Path,
    scenario_name: Option<&str>,
    all: bool,
    run: &RunArgs,
) -> Result<ExitCode, String> {
    let path = std::fs::canonicalize(path).map_err(|e| format!("{}: {e}", path.display()))?;
    let kind = if cli.backend_chosen {
        cli.backend
    } else {
        BackendKind::Docker
    };
    let (files, project) = if let Some(files) = molecule_scenarios(&path, scenario_name, all)? {
        (files, project_for_role(cli)?)
    } else if let Ok(project) = Project::open(&path) {
        (project_scenarios(&project, scenario_name)?, project)
    } else {
        return Err(format!(
            "{}: no molecule/ folder here (a role's Molecule scenarios: \
             molecule/<scenario>/molecule.yml) and not an argos-cloud project \
             (formations/ and playbooks/); give the role's folder: argos-cloud test PATH",
            path.display()
        ));
    };
    let scenarios = load_all(&files, run)?;
    run_scenarios(cli, backend(cli, kind), &project, &scenarios, run)
}

/// The project a role's scenarios run from: the one around (`--root`, or
/// the folder this runs in), with its settings and Ansible settings; else
/// argos-cloud's own home project.
pub fn project_for_role(cli: &Cli) -> Result<Project, String> {
    match Project::open(&cli.root) {
        Ok(project) => Ok(project),
        Err(_) => home::open(&cli.progress()).map_err(|e| e.to_string()),
    }
}

/// The Molecule scenarios of the role at `path` that were asked for: one
/// (`default`, or `name`), or all. None when `path` has none at all.
pub fn molecule_scenarios(
    path: &Path,
    name: Option<&str>,
    all: bool,
) -> Result<Option<Vec<PathBuf>>, String> {
    if path.is_file() || path.join("molecule.yml").is_file() {
        // A molecule.yml or one scenario's folder, named directly.
        return Ok(Some(vec![path.to_owned()]));
    }
    let folder = path.join("molecule");
    if !folder.is_dir() {
        return Ok(None);
    }
    let mut found: Vec<String> = std::fs::read_dir(&folder)
        .map_err(|e| format!("{}: {e}", folder.display()))?
        .filter_map(|entry| entry.ok())
        .filter(|entry| entry.path().join("molecule.yml").is_file())
        .map(|entry| entry.file_name().to_string_lossy().into_owned())
        .collect();
    found.sort();
    if found.is_empty() {
        return Err(format!(
            "{}: no scenario (no <scenario>/molecule.yml in it)",
            folder.display()
        ));
    }
    if all {
        return Ok(Some(found.iter().map(|n| folder.join(n)).collect()));
    }
    let wanted = name.unwrap_or("default");
    if !found.iter().any(|n| n == wanted) {
        return Err(format!(
            "{}: no scenario {wanted} (molecule/{wanted}/molecule.yml); it has {}: \
             pick one with -s NAME, or run them all with --all",
            path.display(),
            found.join(", ")
        ));
    }
    Ok(Some(vec![folder.join(wanted)]))
}

/// A project's scenario files: `scenarios/NAME.yaml`, or all of them.
fn project_scenarios(project: &Project, name: Option<&str>) -> Result<Vec<PathBuf>, String> {
    let folder = project.path("scenarios");
    let mut files: Vec<PathBuf> = std::fs::read_dir(&folder)
        .map_err(|e| format!("{}: {e}", folder.display()))?
        .filter_map(|entry| Some(entry.ok()?.path()))
        .filter(|path| run::is_scenario_file(path))
        .collect();
    files.sort();
    match name {
        None if files.is_empty() => Err(format!("{}: no scenario files", folder.display())),
        None => Ok(files),
        Some(name) => {
            let file = folder.join(format!("{name}.yaml"));
            if file.is_file() {
                Ok(vec![file])
            } else {
                let names: Vec<String> = files
                    .iter()
                    .filter_map(|f| Some(f.file_stem()?.to_string_lossy().into_owned()))
                    .collect();
                Err(format!(
                    "{}: no scenario {name}; there are {}",
                    folder.display(),
                    names.join(", ")
                ))
            }
        }
    }
}
