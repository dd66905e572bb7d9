//! The `bake` section: the Argos image bake on Docker, twice. A first
//! environment bakes `<app>-image` (the app's own name, so the machine's
//! images are never touched and the first bake is a real one); a second
//! environment of the unchanged image role reuses it and rebakes nothing.
//! Prints each commission's time, what the bake said, and whether the image
//! id stayed the same; removes the bench's images at the end.

use std::time::{Duration, Instant};

use argos_cloud::backend::choose::{self, LocalKind};
use argos_cloud::model::names::RunTags;
use argos_cloud::model::project::Project;
use argos_cloud::model::settings::{self, Overrides, Settings};
use argos_cloud::scenario::guard::EnvironmentGuard;
use argos_cloud::scenario::run::unique_env_name;
use argos_cloud::sys::progress::{Event, Progress};
use argos_harness::{scenarios, workspace_root};

pub fn section() {
    println!(
        "bake: <app>-image on Docker, a first environment then a second of the unchanged role"
    );
    let root = workspace_root();
    let app = format!("bb{}", std::process::id());
    let project = match Project::open(&root) {
        Ok(project) => project,
        Err(e) => return println!("  FAILED: {e}"),
    };
    let overrides = Overrides::from_env([("ARGOS_APP_NAME".to_owned(), app.clone())]);
    let settings = match settings::load(&project, &overrides, None) {
        Ok(loaded) => loaded.settings,
        Err(e) => return println!("  FAILED: {e}"),
    };
    let repository = format!("{app}-image");
    let mut ids = Vec::new();
    for round in ["first environment", "second environment, role unchanged"] {
        match commission_once(&project, &settings) {
            Ok((took, said)) => {
                let images = images(&repository);
                println!(
                    "  {round}: commission {:.1} s; {said}; {repository} images on the machine: {}",
                    took.as_secs_f64(),
                    images.len()
                );
                ids.push(images);
            }
            Err(e) => {
                println!("  {round}: FAILED: {e}");
                break;
            }
        }
    }
    if let [first, second] = &ids[..] {
        println!(
            "  rebaked on the second environment: {}",
            if first == second && first.len() == 1 {
                "nothing (the same image id)".to_owned()
            } else {
                format!("YES: {first:?} then {second:?}")
            }
        );
    }
    for image in images(&repository) {
        let _ = scenarios::docker(&["image", "rm", "-f", &image]);
    }
}

/// One environment with an app host (a baked group), commissioned and torn
/// down: how long the commission took and the bake's line.
fn commission_once(project: &Project, settings: &Settings) -> Result<(Duration, String), String> {
    let (progress, said) = Progress::collect();
    let env = unique_env_name("bakebench");
    let run = RunTags::new(env.as_str(), Duration::from_secs(3600));
    let backend = choose::local(
        LocalKind::Docker,
        project.clone(),
        settings.clone(),
        progress,
        Some(run.clone()),
        Default::default(),
    );
    let mut guard = EnvironmentGuard::new(backend, env, &run, false);
    let started = Instant::now();
    guard
        .commission(&scenarios::hosts(&["app"]))
        .map_err(|e| e.to_string())?;
    let took = started.elapsed();
    drop(guard);
    // The bake's last word: reused, or baked.
    let said = said
        .lock()
        .map_err(|e| e.to_string())?
        .iter()
        .rfind(|s| {
            matches!(
                s.event,
                Event::BakeReused { .. } | Event::BakeFinished { .. } | Event::BakeSkipped { .. }
            )
        })
        .map(|s| s.event.to_string())
        .unwrap_or_else(|| "the bake said nothing".to_owned());
    Ok((took, said))
}

/// The ids of `repository`'s images on this machine.
fn images(repository: &str) -> Vec<String> {
    let reference = format!("reference={repository}:*");
    scenarios::docker(&["image", "ls", "-q", "--no-trunc", "--filter", &reference])
        .map(|listed| listed.lines().map(str::to_owned).collect())
        .unwrap_or_default()
}
