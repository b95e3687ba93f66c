//! The layers of ARCHITECTURE.md, kept true: the two doors (`src/api`, `src/web`) do not import
//! each other, the use cases (`src/core`) and the shared HTTP bits (`src/http`) import neither
//! door, the actors do not depend on the notifier, and the notifier's modules import each other
//! in no circle. A `use` that breaks a rule fails here, naming the file.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::fs;
use std::path::{Path, PathBuf};

fn rust_files(dir: &Path) -> Vec<PathBuf> {
    let mut files = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(dir) = stack.pop() {
        for entry in fs::read_dir(&dir).unwrap_or_else(|e| panic!("{}: {e}", dir.display())) {
            let path = entry.expect("directory entry").path();
            if path.is_dir() {
                stack.push(path);
            } else if path.extension().is_some_and(|e| e == "rs") {
                files.push(path);
            }
        }
    }
    files
}

/// Files under `src/<layer>` that mention any of `forbidden` (module paths of other layers).
fn offenders(layer: &str, forbidden: &[&str]) -> Vec<String> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("src").join(layer);
    rust_files(&root)
        .into_iter()
        .filter_map(|file| {
            let text = fs::read_to_string(&file).expect("source file");
            let hits: Vec<&str> = forbidden.iter().copied().filter(|f| text.contains(f)).collect();
            (!hits.is_empty()).then(|| format!("{} uses {hits:?}", file.display()))
        })
        .collect()
}

#[test]
fn the_api_does_not_import_the_web_app() {
    let found = offenders("api", &["crate::web", "super::super::web"]);
    assert!(found.is_empty(), "{found:#?}");
}

#[test]
fn the_web_app_does_not_import_the_api() {
    let found = offenders("web", &["crate::api", "super::super::api"]);
    assert!(found.is_empty(), "{found:#?}");
}

#[test]
fn use_cases_and_shared_http_import_neither_door() {
    for layer in ["core", "http"] {
        let found = offenders(layer, &["crate::api", "crate::web"]);
        assert!(found.is_empty(), "{layer}: {found:#?}");
    }
}

#[test]
fn the_actors_do_not_depend_on_the_notifier() {
    let manifest = Path::new(env!("CARGO_MANIFEST_DIR")).join("actors/Cargo.toml");
    let text = fs::read_to_string(manifest).expect("actors/Cargo.toml");
    assert!(!text.contains("nosebook-notifier"), "actors/Cargo.toml names nosebook-notifier");
}

#[test]
fn the_notifiers_modules_import_each_other_in_no_circle() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("notifier/src");
    let modules: Vec<(String, String)> = rust_files(&root)
        .into_iter()
        .map(|file| {
            let name = file.file_stem().unwrap().to_string_lossy().into_owned();
            (name, fs::read_to_string(&file).unwrap())
        })
        .collect();
    let imports = |text: &str| -> Vec<String> {
        modules
            .iter()
            .map(|(name, _)| name.clone())
            .filter(|name| text.contains(&format!("crate::{name}")) || text.contains(&format!("super::{name}")))
            .collect()
    };
    let graph: Vec<(String, Vec<String>)> =
        modules.iter().filter(|(name, _)| name != "lib").map(|(name, text)| (name.clone(), imports(text))).collect();
    // Depth-first from every module: reaching the start again is a circle.
    for (start, _) in &graph {
        let mut stack = vec![(start.clone(), vec![start.clone()])];
        while let Some((at, path)) = stack.pop() {
            let next = graph.iter().find(|(name, _)| *name == at).map(|(_, to)| to.clone()).unwrap_or_default();
            for to in next {
                assert!(&to != start, "notifier modules import each other in a circle: {path:?} -> {to}");
                if !path.contains(&to) {
                    let mut longer = path.clone();
                    longer.push(to.clone());
                    stack.push((to, longer));
                }
            }
        }
    }
}
