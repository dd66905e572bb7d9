//! The layout's promise, checked: each stage uses only the stages before
//! it (see `lib.rs`), no backend uses another, the backend trait names no
//! backend, and no two modules use each other, directly or round a loop.
//! Read from the source, so a new `use` that breaks it fails here, naming
//! both files.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

/// The stages in order; each may use those before it.
const STAGES: [&str; 10] = [
    "sys", "input", "model", "cfn", "converge", "probe", "profile", "backend", "scenario", "cli",
];

/// A module of the crate: `scenario::run`, `backend::docker` (a folder's
/// files are one module), `cli`.
type Module = String;

/// The module a source file belongs to: its first two path segments.
fn module_of(file: &Path) -> Module {
    let parts: Vec<String> = file
        .with_extension("")
        .components()
        .map(|c| c.as_os_str().to_string_lossy().into_owned())
        .filter(|c| c != "mod")
        .collect();
    parts.iter().take(2).cloned().collect::<Vec<_>>().join("::")
}

/// Code without its tests (they may reach anywhere) and comments.
fn without_tests(text: &str) -> String {
    let code = match text.find("#[cfg(test)]") {
        Some(at) => &text[..at],
        None => text,
    };
    code.lines()
        .filter(|l| !l.trim_start().starts_with("//"))
        .collect::<Vec<_>>()
        .join("\n")
}

fn sources(dir: &Path, found: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            if path.file_name().is_some_and(|n| n != "bin") {
                sources(&path, found);
            }
        } else if path.extension().is_some_and(|e| e == "rs") {
            found.push(path);
        }
    }
}

/// Every module's uses of other modules, with the file that uses them.
fn uses() -> BTreeMap<Module, BTreeMap<Module, PathBuf>> {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = Vec::new();
    sources(&src, &mut files);
    let path = regex::Regex::new(r"crate::([a-z_]+)(?:::([a-z_]+))?").unwrap();
    let sibling = regex::Regex::new(r"super::(?:([a-z_]+)|\{([^}]*)\})").unwrap();
    let mut graph: BTreeMap<Module, BTreeMap<Module, PathBuf>> = BTreeMap::new();
    for file in files {
        let relative = file.strip_prefix(&src).unwrap().to_owned();
        let name = relative.to_string_lossy();
        if name.ends_with("tests.rs")
            || name == "lib.rs"
            || name == "fuzz.rs"
            || name == "layering.rs"
        {
            continue;
        }
        let from = module_of(&relative);
        let text = without_tests(&std::fs::read_to_string(&file).unwrap());
        // `super::x` in `stage/file.rs` is the sibling `stage::x`.
        let depth = relative.components().count();
        let is_mod = relative.file_name().is_some_and(|n| n == "mod.rs");
        if depth == 2 && !is_mod {
            let stage_name = stage(&from).to_owned();
            for caps in sibling.captures_iter(&text) {
                let names: Vec<&str> = match (caps.get(1), caps.get(2)) {
                    (Some(one), _) => vec![one.as_str()],
                    (_, Some(group)) => group
                        .as_str()
                        .split(',')
                        .map(|n| n.trim().split("::").next().unwrap_or("").trim())
                        .collect(),
                    _ => Vec::new(),
                };
                for name in names {
                    let to = format!("{stage_name}::{name}");
                    let is_module = src.join(&stage_name).join(format!("{name}.rs")).is_file()
                        || src.join(&stage_name).join(name).join("mod.rs").is_file();
                    if is_module && to != from {
                        graph
                            .entry(from.clone())
                            .or_default()
                            .entry(to)
                            .or_insert_with(|| relative.clone());
                    }
                }
            }
        }
        for caps in path.captures_iter(&text) {
            let stage = &caps[1];
            let to = match caps.get(2) {
                Some(sub) if STAGES.contains(&stage) && stage != "cli" => {
                    format!("{stage}::{}", sub.as_str())
                }
                _ => stage.to_owned(),
            };
            let to = if to == from || from.starts_with(&format!("{to}::")) {
                continue;
            } else {
                to
            };
            graph
                .entry(from.clone())
                .or_default()
                .entry(to)
                .or_insert_with(|| relative.clone());
        }
    }
    graph
}

fn stage(module: &str) -> &str {
    module.split("::").next().unwrap_or(module)
}

#[test]
fn each_stage_uses_only_the_stages_before_it() {
    let mut problems = Vec::new();
    for (from, targets) in uses() {
        let Some(at) = STAGES.iter().position(|s| *s == stage(&from)) else {
            problems.push(format!("{from} is in no stage of lib.rs"));
            continue;
        };
        for (to, file) in targets {
            let Some(to_at) = STAGES.iter().position(|s| *s == stage(&to)) else {
                continue;
            };
            if to_at > at {
                problems.push(format!(
                    "{} ({from}) uses {to}, a later stage",
                    file.display()
                ));
            }
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

#[test]
fn no_backend_uses_another_and_the_trait_names_none() {
    let backends = ["backend::docker", "backend::vagrant", "backend::aws"];
    let mut problems = Vec::new();
    for (from, targets) in uses() {
        for (to, file) in targets {
            let between = backends.contains(&from.as_str()) && backends.contains(&to.as_str());
            let from_trait = from == "backend" || from == "backend::objects";
            if between || (from_trait && backends.contains(&to.as_str())) {
                problems.push(format!("{} ({from}) uses {to}", file.display()));
            }
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

#[test]
fn no_two_modules_use_each_other_round_a_loop() {
    let graph = uses();
    let mut cycles: BTreeSet<Vec<Module>> = BTreeSet::new();
    // From each module, every path back to it (the graph is small).
    for start in graph.keys() {
        let mut stack: Vec<(Module, Vec<Module>)> = vec![(start.clone(), vec![start.clone()])];
        while let Some((at, path)) = stack.pop() {
            for next in graph.get(&at).map(|t| t.keys()).into_iter().flatten() {
                if next == start {
                    let mut cycle = path.clone();
                    let first = cycle.iter().min().unwrap().clone();
                    let at = cycle.iter().position(|m| *m == first).unwrap();
                    cycle.rotate_left(at);
                    cycles.insert(cycle);
                } else if !path.contains(next) && path.len() < 8 {
                    let mut longer = path.clone();
                    longer.push(next.clone());
                    stack.push((next.clone(), longer));
                }
            }
        }
    }
    let shown: Vec<String> = cycles.iter().map(|c| c.join(" → ")).collect();
    assert!(shown.is_empty(), "modules in a loop:\n{}", shown.join("\n"));
}
