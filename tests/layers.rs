//! The layers of ARCHITECTURE.md, kept true where Cargo cannot keep them: the two doors
//! (`src/api`, `src/web`) do not import each other, the shared HTTP bits (`src/http`) import
//! neither door, the actors do not depend on the notifier, and the modules of the monolith, of the
//! use cases (`core/`) and of the notifier import each other in no circle. (That the use cases
//! reach no door is Cargo's to keep: `nosebook-core` does not depend on `nosebook`.) A `use` that
//! breaks a rule fails here, naming the file.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::{BTreeMap, BTreeSet};
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
    files.sort();
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
fn shared_http_imports_neither_door() {
    let found = offenders("http", &["crate::api", "crate::web"]);
    assert!(found.is_empty(), "{found:#?}");
}

#[test]
fn the_actors_do_not_depend_on_the_notifier() {
    let manifest = Path::new(env!("CARGO_MANIFEST_DIR")).join("actors/Cargo.toml");
    let text = fs::read_to_string(manifest).expect("actors/Cargo.toml");
    assert!(!text.contains("nosebook-notifier"), "actors/Cargo.toml names nosebook-notifier");
}

/// A crate whose files are modules of the graph: `name` is how other crates of the graph name it
/// (`nosebook_core::…`), `dir` its `src/`.
struct Crate {
    name: &'static str,
    dir: &'static str,
}

/// One node per file, named `<crate>::<path>`: the file's path under `src/` without `.rs`, a
/// `mod.rs` named by its folder (it is that module), the crate root (`lib.rs`, `main.rs`) left
/// out (it declares everything). An edge when a file names another module by path —
/// `crate::a::b`, `super::…`, `self::…`, or another crate of the graph — including through a
/// `{…}` group. Edges between a module and a module inside it are not counted: a folder's
/// `mod.rs` and its files belong together.
fn imports(crates: &[Crate]) -> BTreeMap<String, BTreeSet<String>> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut texts = BTreeMap::new();
    for krate in crates {
        let src = root.join(krate.dir);
        for file in rust_files(&src) {
            let relative = file.strip_prefix(&src).unwrap().with_extension("");
            let mut segments: Vec<String> =
                relative.components().map(|c| c.as_os_str().to_string_lossy().into_owned()).collect();
            if segments.last().is_some_and(|s| s == "mod") {
                segments.pop();
            }
            if segments.len() == 1 && (segments[0] == "lib" || segments[0] == "main") {
                continue;
            }
            let mut module = vec![krate.name.to_owned()];
            module.extend(segments);
            texts.insert(module, fs::read_to_string(&file).unwrap());
        }
    }
    let modules: BTreeSet<Vec<String>> = texts.keys().cloned().collect();
    let names: Vec<&str> = crates.iter().map(|c| c.name).collect();
    let mut graph = BTreeMap::new();
    for (module, text) in &texts {
        let mut to = BTreeSet::new();
        for path in mentioned_paths(text) {
            let Some(absolute) = resolve(module, &path, &names) else { continue };
            // The longest module the path starts with: the rest names an item in it.
            let Some(target) = (1..=absolute.len()).rev().map(|n| &absolute[..n]).find(|p| modules.contains(*p)) else {
                continue;
            };
            let nested = target.starts_with(module) || module.starts_with(target);
            if !nested {
                to.insert(target.join("::"));
            }
        }
        graph.insert(module.join("::"), to);
    }
    graph
}

/// Every path that starts with `crate`, `super`, `self` or a crate name, as its segments; a
/// `{…}` group gives one path per member.
fn mentioned_paths(text: &str) -> Vec<Vec<String>> {
    let chars: Vec<char> = text.chars().collect();
    let mut found = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        let starts_word = i == 0 || !(chars[i - 1].is_alphanumeric() || chars[i - 1] == '_');
        if starts_word && (chars[i].is_alphabetic() || chars[i] == '_') {
            let (_, next) = ident(&chars, i);
            // A path's first segment only: `b` in `a::b` is not where a path starts.
            let inside_path = i > 0 && chars[i - 1] == ':';
            if !inside_path && chars.get(next..next + 2) == Some(&[':', ':'][..]) {
                tree(&chars, i, vec![], &mut found);
            }
            i = next;
        } else {
            i += 1;
        }
    }
    found
}

/// The identifier at `start` and where it ends.
fn ident(chars: &[char], start: usize) -> (String, usize) {
    let mut end = start;
    while end < chars.len() && (chars[end].is_alphanumeric() || chars[end] == '_') {
        end += 1;
    }
    (chars[start..end].iter().collect(), end)
}

/// Reads `a::b::{c, d::e}` from `at`, pushing each full path; answers where it stopped.
fn tree(chars: &[char], mut at: usize, mut prefix: Vec<String>, found: &mut Vec<Vec<String>>) -> usize {
    loop {
        while chars.get(at).is_some_and(|c| c.is_whitespace()) {
            at += 1;
        }
        match chars.get(at) {
            Some('{') => {
                at += 1;
                loop {
                    while chars.get(at).is_some_and(|c| c.is_whitespace() || *c == ',') {
                        at += 1;
                    }
                    match chars.get(at) {
                        Some('}') => return at + 1,
                        None => return at,
                        Some(c) if c.is_alphabetic() || *c == '_' => at = tree(chars, at, prefix.clone(), found),
                        Some(_) => at += 1,
                    }
                }
            }
            Some(c) if c.is_alphabetic() || *c == '_' => {
                let (name, next) = ident(chars, at);
                prefix.push(name);
                at = next;
                if chars.get(at..at + 2) == Some(&[':', ':'][..]) {
                    at += 2;
                    continue;
                }
                found.push(prefix);
                return at;
            }
            _ => {
                found.push(prefix);
                return at;
            }
        }
    }
}

/// `path` as written in `module`, made absolute; `None` when it leads out of the graph.
fn resolve(module: &[String], path: &[String], crates: &[&str]) -> Option<Vec<String>> {
    let (head, rest) = path.split_first()?;
    match head.as_str() {
        "crate" => Some([&module[..1], rest].concat()),
        "self" => Some([module, rest].concat()),
        "super" => {
            let mut base = module.to_vec();
            let mut rest = rest;
            base.pop();
            while rest.first().is_some_and(|s| s == "super") {
                base.pop();
                rest = &rest[1..];
            }
            (!base.is_empty()).then(|| [&base[..], rest].concat())
        }
        name if crates.contains(&name) => Some(path.to_vec()),
        _ => None,
    }
}

/// A circle in `graph`, as the modules along it, if there is one.
fn circle(graph: &BTreeMap<String, BTreeSet<String>>) -> Option<Vec<String>> {
    // Depth-first; reaching a module still on the path closes a circle.
    fn visit(
        at: &str,
        graph: &BTreeMap<String, BTreeSet<String>>,
        path: &mut Vec<String>,
        done: &mut BTreeSet<String>,
    ) -> Option<Vec<String>> {
        if let Some(start) = path.iter().position(|m| m == at) {
            let mut found = path[start..].to_vec();
            found.push(at.to_owned());
            return Some(found);
        }
        if done.contains(at) {
            return None;
        }
        path.push(at.to_owned());
        for to in graph.get(at).into_iter().flatten() {
            if let Some(found) = visit(to, graph, path, done) {
                return Some(found);
            }
        }
        path.pop();
        done.insert(at.to_owned());
        None
    }
    let mut done = BTreeSet::new();
    graph.keys().find_map(|start| visit(start, graph, &mut Vec::new(), &mut done))
}

#[test]
fn the_modules_of_the_monolith_and_of_the_use_cases_import_each_other_in_no_circle() {
    let graph = imports(&[Crate { name: "nosebook", dir: "src" }, Crate { name: "nosebook_core", dir: "core/src" }]);
    assert!(graph.keys().any(|m| m == "nosebook_core::accounts"), "the use cases were not read");
    assert!(graph["nosebook::api::chats::send"].contains("nosebook_core::chats"), "imports were not read");
    if let Some(found) = circle(&graph) {
        panic!("modules import each other in a circle: {}", found.join(" -> "));
    }
}

#[test]
fn the_notifiers_modules_import_each_other_in_no_circle() {
    let graph = imports(&[Crate { name: "nosebook_notifier", dir: "notifier/src" }]);
    if let Some(found) = circle(&graph) {
        panic!("notifier modules import each other in a circle: {}", found.join(" -> "));
    }
}
