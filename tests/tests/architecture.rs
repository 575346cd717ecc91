//! The layout holds: in `shared/src`, every import points down the layers (`model` → `domain` →
//! `ports` → `api`/`delivery` → `http`; `adapters` implement the ports; only `wiring` names an
//! adapter), no module of any crate imports one that imports it back, and no source file is over
//! 400 lines. Imports are read from the source text: `use` items and inline paths starting
//! with `crate::`, `super::` or `self::` (comments are skipped).

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

fn workspace() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// Every `.rs` file below `dir`.
fn sources(dir: &Path) -> Vec<PathBuf> {
    let mut found = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            found.extend(sources(&path));
        } else if path.extension().is_some_and(|e| e == "rs") {
            found.push(path);
        }
    }
    found.sort();
    found
}

/// The module path of a file of a crate rooted at `src`: `a/b.rs` and `a/b/mod.rs` are `a::b`;
/// `lib.rs` and `main.rs` are the root (empty).
fn module_of(src: &Path, file: &Path) -> Vec<String> {
    let relative = file.strip_prefix(src).unwrap();
    let mut parts: Vec<String> = relative
        .iter()
        .map(|p| p.to_string_lossy().trim_end_matches(".rs").to_owned())
        .collect();
    if matches!(
        parts.last().map(String::as_str),
        Some("mod" | "lib" | "main")
    ) {
        parts.pop();
    }
    parts
}

/// The source without comments (line comments, doc comments) and string literals' contents.
fn code(text: &str) -> String {
    text.lines()
        .map(|line| match line.find("//") {
            Some(at) => &line[..at],
            None => line,
        })
        .collect::<Vec<_>>()
        .join("\n")
}

/// The module paths `text` refers to (as written: `crate::a::b`, `super::c`, or `c::d` for a
/// child module `c`), resolved against the file's own module path; a `use` tree's braces are
/// expanded one level.
fn references(text: &str, module: &[String], children: &[String]) -> Vec<Vec<String>> {
    let text = code(text);
    let mut found = Vec::new();
    let bytes = text.as_bytes();
    let starts: Vec<String> = ["crate", "super", "self"]
        .iter()
        .map(|s| (*s).to_owned())
        .chain(children.iter().cloned())
        .map(|s| format!("{s}::"))
        .collect();
    for start in &starts {
        let start = start.as_str();
        let mut from = 0;
        while let Some(at) = text[from..].find(start) {
            let begin = from + at;
            from = begin + start.len();
            let preceded = begin > 0 && {
                let c = bytes[begin - 1];
                c.is_ascii_alphanumeric() || c == b'_' || c == b':'
            };
            if preceded {
                continue;
            }
            let path: String = text[begin..]
                .chars()
                .take_while(|c| c.is_ascii_alphanumeric() || *c == '_' || *c == ':')
                .collect();
            let mut segments: Vec<String> = path
                .split("::")
                .filter(|s| !s.is_empty())
                .map(str::to_owned)
                .collect();
            // `a/b.rs` is module `a::b`; its `super` is `a`. A `mod.rs` is its own module.
            let mut base: Vec<String> = match segments.first().map(String::as_str) {
                Some("crate") => Vec::new(),
                _ => module.to_vec(),
            };
            let head = segments.remove(0);
            if !matches!(head.as_str(), "crate" | "self" | "super") {
                base.push(head.clone());
            }
            if head == "super" {
                base.pop();
                while segments.first().is_some_and(|s| s == "super") {
                    segments.remove(0);
                    base.pop();
                }
            }
            let rest_of_line = &text[begin + path.len()..];
            if path.ends_with("::") && rest_of_line.starts_with('{') {
                let inner: String = rest_of_line[1..]
                    .chars()
                    .take_while(|c| *c != '}')
                    .collect();
                for item in inner.split(',') {
                    let name = item.trim().split("::").next().unwrap_or("").trim();
                    if !name.is_empty() {
                        let mut full = base.clone();
                        full.extend(segments.iter().cloned());
                        full.push(name.to_owned());
                        found.push(full);
                    }
                }
            }
            let mut full = base;
            full.extend(segments);
            found.push(full);
        }
    }
    found
}

/// The files of a crate and, for each, the other files of the crate it imports from.
fn import_graph(src: &Path) -> BTreeMap<Vec<String>, BTreeSet<Vec<String>>> {
    let files = sources(src);
    let modules: BTreeSet<Vec<String>> = files.iter().map(|f| module_of(src, f)).collect();
    let mut graph = BTreeMap::new();
    // Test modules (`tests.rs`, `*_tests.rs`) may import anything of their own crate.
    let code_files = files.iter().filter(|f| {
        let name = f.file_name().unwrap_or_default().to_string_lossy();
        name != "tests.rs" && !name.ends_with("_tests.rs")
    });
    for file in code_files {
        let module = module_of(src, file);
        let children: Vec<String> = modules
            .iter()
            .filter(|m| m.len() == module.len() + 1 && m.starts_with(&module))
            .filter_map(|m| m.last().cloned())
            .collect();
        let text = std::fs::read_to_string(file).unwrap();
        // Test modules may import anything of their own crate.
        let text = text.split("#[cfg(test)]").next().unwrap_or_default();
        let mut edges = BTreeSet::new();
        for reference in references(text, &module, &children) {
            // The longest prefix that is a file of the crate.
            let target = (0..=reference.len())
                .rev()
                .map(|n| reference[..n].to_vec())
                .find(|prefix| modules.contains(prefix));
            // The crate root declares every module; naming it (`crate::PRODUCT`) is no import
            // of a module that imports back.
            if let Some(target) = target
                && target != module
                && !target.is_empty()
            {
                edges.insert(target);
            }
        }
        graph.insert(module, edges);
    }
    graph
}

/// A cycle of the graph, if it has one.
fn cycle(graph: &BTreeMap<Vec<String>, BTreeSet<Vec<String>>>) -> Option<Vec<Vec<String>>> {
    fn visit(
        node: &Vec<String>,
        graph: &BTreeMap<Vec<String>, BTreeSet<Vec<String>>>,
        path: &mut Vec<Vec<String>>,
        done: &mut BTreeSet<Vec<String>>,
    ) -> Option<Vec<Vec<String>>> {
        if let Some(at) = path.iter().position(|n| n == node) {
            let mut found = path[at..].to_vec();
            found.push(node.clone());
            return Some(found);
        }
        if done.contains(node) {
            return None;
        }
        path.push(node.clone());
        for next in graph.get(node).into_iter().flatten() {
            if let Some(found) = visit(next, graph, path, done) {
                return Some(found);
            }
        }
        path.pop();
        done.insert(node.clone());
        None
    }
    let mut done = BTreeSet::new();
    for node in graph.keys() {
        if let Some(found) = visit(node, graph, &mut Vec::new(), &mut done) {
            return Some(found);
        }
    }
    None
}

const CRATES: [&str; 8] = [
    "shared/src",
    "functions/resources/src",
    "functions/subscriptions/src",
    "functions/fanout/src",
    "functions/deliver/src",
    "functions/authorizer/src",
    "local/src",
    "bench/src",
];

#[test]
fn no_module_imports_one_that_imports_it_back() {
    for krate in CRATES {
        let graph = import_graph(&workspace().join(krate));
        if let Some(found) = cycle(&graph) {
            let shown: Vec<String> = found.iter().map(|m| m.join("::")).collect();
            panic!("{krate}: import circle {}", shown.join(" → "));
        }
    }
}

#[test]
fn shared_imports_point_down_the_layers() {
    let allowed: BTreeMap<&str, &[&str]> = BTreeMap::from([
        ("model", &[][..]),
        ("domain", &["model"][..]),
        ("ports", &["model", "domain"][..]),
        ("api", &["model", "domain", "ports"][..]),
        ("delivery", &["model", "domain", "ports"][..]),
        ("http", &["model", "domain", "ports", "api"][..]),
        ("portal", &["model", "domain", "ports", "api", "http"][..]),
        (
            "adapters",
            &["model", "domain", "ports", "api", "delivery"][..],
        ),
        (
            "wiring",
            &[
                "model", "domain", "ports", "api", "delivery", "http", "adapters",
            ][..],
        ),
    ]);
    let graph = import_graph(&workspace().join("shared/src"));
    let mut wrong = Vec::new();
    for (module, imports) in &graph {
        let Some(layer) = module.first() else {
            continue;
        };
        let Some(may) = allowed.get(layer.as_str()) else {
            panic!("shared/src/{layer} is in no layer");
        };
        for import in imports {
            let target = &import[0];
            if target != layer && !may.contains(&target.as_str()) {
                wrong.push(format!(
                    "{} imports {}",
                    module.join("::"),
                    import.join("::")
                ));
            }
        }
    }
    assert!(wrong.is_empty(), "{wrong:#?}");
}

#[test]
fn no_source_file_is_over_400_lines() {
    let mut long = Vec::new();
    for dir in CRATES.iter().copied().chain(["tests/tests"]) {
        for file in sources(&workspace().join(dir)) {
            let lines = std::fs::read_to_string(&file).unwrap().lines().count();
            if lines > 400 {
                long.push(format!("{} has {lines} lines", file.display()));
            }
        }
    }
    assert!(long.is_empty(), "{long:#?}");
}

#[test]
fn the_checker_sees_imports_and_circles() {
    let module = vec!["api".to_owned(), "users".to_owned()];
    let found = references(
        "use super::wire::{NewUser, UserOut};\n// use crate::adapters::x;\nlet a = crate::http::ok(1);\nuse wire::Health;",
        &module,
        &["wire".to_owned()],
    );
    assert!(found.contains(&vec!["api".into(), "wire".into(), "NewUser".into()]));
    assert!(found.contains(&vec!["http".into(), "ok".into()]));
    assert!(found.contains(&vec![
        "api".into(),
        "users".into(),
        "wire".into(),
        "Health".into()
    ]));
    assert!(
        !found
            .iter()
            .any(|r| r.first().is_some_and(|s| s == "adapters"))
    );
    let a = vec!["a".to_owned()];
    let b = vec!["b".to_owned()];
    let graph = BTreeMap::from([
        (a.clone(), BTreeSet::from([b.clone()])),
        (b.clone(), BTreeSet::from([a.clone()])),
    ]);
    assert_eq!(cycle(&graph), Some(vec![a.clone(), b.clone(), a.clone()]));
    let graph = BTreeMap::from([(a, BTreeSet::from([b.clone()])), (b, BTreeSet::new())]);
    assert_eq!(cycle(&graph), None);
}
