//! The shape of the house, checked: no function in `src/` longer than 80 lines, and no import
//! cycle between the files of `src/` (a file imports another when its code — not its comments —
//! names a path into it: `use super::x::…`, `crate::a::b::…`, or a child module of its own).
//!
//! The reading of Rust here is deliberately simple (lines, braces outside literals and comments,
//! `use` trees and paths): it is a guard against drift, and each check is tested on a small
//! sample that must fail.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

const MAX_FUNCTION_LINES: usize = 80;

/// Every `.rs` file under `dir`.
fn rust_files(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir).expect("read src") {
        let path = entry.expect("dir entry").path();
        if path.is_dir() {
            out.extend(rust_files(&path));
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
    out.sort();
    out
}

/// A line with comments, string and character literals blanked (braces inside them ignored).
fn code_of(line: &str) -> String {
    let mut out = String::new();
    let mut chars = line.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '/' if chars.peek() == Some(&'/') => break,
            '"' => {
                while let Some(d) = chars.next() {
                    if d == '\\' {
                        chars.next();
                    } else if d == '"' {
                        break;
                    }
                }
                out.push_str("\"\"");
            }
            '\'' => {
                // A char literal ('x', '\n', '{') or a lifetime ('a): skip a literal only.
                let rest: String = chars.clone().take(4).collect();
                let literal = rest.starts_with('\\') && rest[1..].contains('\'')
                    || rest.chars().nth(1) == Some('\'');
                if literal {
                    while let Some(d) = chars.next() {
                        if d == '\\' {
                            chars.next();
                        } else if d == '\'' {
                            break;
                        }
                    }
                    out.push_str("' '");
                } else {
                    out.push(c);
                }
            }
            _ => out.push(c),
        }
    }
    out
}

/// `(name, first line, number of lines)` of every function with a body in `text`.
fn functions(text: &str) -> Vec<(String, usize, usize)> {
    let lines: Vec<String> = text.lines().map(code_of).collect();
    let mut out = Vec::new();
    let mut i = 0;
    while i < lines.len() {
        let words: Vec<&str> = lines[i].split_whitespace().collect();
        let Some(at) = words.iter().position(|w| *w == "fn") else {
            i += 1;
            continue;
        };
        let name: String = words
            .get(at + 1)
            .map(|w| {
                w.chars()
                    .take_while(|c| c.is_alphanumeric() || *c == '_')
                    .collect()
            })
            .unwrap_or_default();
        let (mut depth, mut opened, mut j) = (0i32, false, i);
        while j < lines.len() {
            for c in lines[j].chars() {
                match c {
                    '{' => {
                        depth += 1;
                        opened = true;
                    }
                    '}' => depth -= 1,
                    _ => {}
                }
            }
            if (opened && depth <= 0) || (!opened && lines[j].trim_end().ends_with(';')) {
                break;
            }
            j += 1;
        }
        if opened {
            out.push((name, i + 1, j - i + 1));
        }
        i = j + 1;
    }
    out
}

#[test]
fn no_function_in_src_is_longer_than_80_lines() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut long = Vec::new();
    let mut counted = 0;
    for file in rust_files(&src) {
        let text = std::fs::read_to_string(&file).expect("read");
        for (name, line, n) in functions(&text) {
            counted += 1;
            if n > MAX_FUNCTION_LINES {
                long.push(format!("{}:{line} fn {name}: {n} lines", file.display()));
            }
        }
    }
    assert!(
        counted > 200,
        "only {counted} functions found: the reader is broken"
    );
    assert!(
        long.is_empty(),
        "functions over {MAX_FUNCTION_LINES} lines:\n{}",
        long.join("\n")
    );
}

#[test]
fn the_function_reader_measures_what_it_should() {
    let sample = "fn a() {\n    let s = \"}}}\";\n    let c = '{';\n}\n\nfn b<'x>(v: &'x str) {\n    // }\n    if true {\n    }\n}\nfn c();\n";
    let f = functions(sample);
    assert_eq!(
        f,
        vec![("a".to_string(), 1, 4), ("b".to_string(), 6, 5)],
        "{f:?}"
    );
}

/// The module path of a file below `src/` (`src/store/mod.rs` → `["store"]`). A binary's
/// `src/bin/NAME/main.rs` (or `src/bin/NAME.rs`) is the root of its own crate, `["bin", NAME]`;
/// its modules sit below it.
fn module_of(src: &Path, file: &Path) -> Vec<String> {
    let rel = file
        .strip_prefix(src)
        .expect("below src")
        .with_extension("");
    let mut parts: Vec<String> = rel
        .components()
        .map(|c| c.as_os_str().to_string_lossy().into_owned())
        .collect();
    let root_file = if parts.first().map(String::as_str) == Some("bin") {
        &["mod", "main"][..]
    } else {
        &["mod", "lib"][..]
    };
    if parts.len() > 1 && root_file.contains(&parts[parts.len() - 1].as_str()) {
        parts.pop();
    }
    parts
}

/// The root module of the crate a module belongs to: `["bin", NAME]` inside a binary, `[]`
/// (the library) elsewhere.
fn crate_root(module: &[String]) -> Vec<String> {
    match module {
        [bin, name, ..] if bin == "bin" => vec![bin.clone(), name.clone()],
        _ => Vec::new(),
    }
}

/// Every path named in the code of `text` (outside `#[cfg(test)] mod tests` and comments),
/// with `use` trees expanded: `use a::{b, c::d}` gives `a::b` and `a::c::d`.
fn paths(text: &str) -> Vec<Vec<String>> {
    let code: String = text
        .split("#[cfg(test)]\nmod tests")
        .next()
        .unwrap_or_default()
        .lines()
        .map(code_of)
        .collect::<Vec<_>>()
        .join("\n");
    let mut out = Vec::new();
    for stmt in code.split(';') {
        if let Some(tree) = stmt.trim().split("use ").nth(1).filter(|_| {
            let s = stmt.trim_start();
            s.starts_with("use ") || s.starts_with("pub use ") || s.starts_with("pub(crate) use ")
        }) {
            expand(tree.trim(), &mut Vec::new(), &mut out);
        }
    }
    let flat = code.replace(char::is_whitespace, " ");
    for (i, _) in flat.match_indices("::") {
        let start = flat[..i]
            .rfind(|c: char| !(c.is_alphanumeric() || c == '_' || c == ':'))
            .map_or(0, |p| p + 1);
        let end = flat[i..]
            .find(|c: char| !(c.is_alphanumeric() || c == '_' || c == ':'))
            .map_or(flat.len(), |p| i + p);
        if flat[end..].starts_with('{') {
            continue; // a use tree (`super::{a, b}`): `expand` read it
        }
        let path: Vec<String> = flat[start..end]
            .split("::")
            .filter(|s| !s.is_empty())
            .map(str::to_string)
            .collect();
        if !path.is_empty() {
            out.push(path);
        }
    }
    out
}

fn expand(tree: &str, prefix: &mut Vec<String>, out: &mut Vec<Vec<String>>) {
    let tree = tree.trim();
    if let Some(open) = tree.find('{') {
        let head: Vec<String> = tree[..open]
            .split("::")
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(str::to_string)
            .collect();
        let inner = &tree[open + 1..tree.rfind('}').unwrap_or(tree.len())];
        let (mut depth, mut part) = (0, String::new());
        let mut parts = Vec::new();
        for c in inner.chars() {
            match c {
                '{' => depth += 1,
                '}' => depth -= 1,
                ',' if depth == 0 => {
                    parts.push(std::mem::take(&mut part));
                    continue;
                }
                _ => {}
            }
            part.push(c);
        }
        parts.push(part);
        let len = prefix.len();
        prefix.extend(head);
        for p in parts.iter().filter(|p| !p.trim().is_empty()) {
            expand(p, prefix, out);
        }
        prefix.truncate(len);
    } else {
        let mut path = prefix.clone();
        let item = tree.split(" as ").next().unwrap_or(tree);
        path.extend(item.split("::").map(str::trim).map(str::to_string));
        out.push(path);
    }
}

/// The file-level import graph of the crate below `src`.
fn import_graph(src: &Path) -> BTreeMap<Vec<String>, BTreeSet<Vec<String>>> {
    let files: BTreeMap<Vec<String>, PathBuf> = rust_files(src)
        .into_iter()
        .map(|f| (module_of(src, &f), f))
        .collect();
    let mut graph = BTreeMap::new();
    for (module, file) in &files {
        let text = std::fs::read_to_string(file).expect("read");
        let mut deps = BTreeSet::new();
        for path in paths(&text) {
            let mut base: Vec<String> = match path[0].as_str() {
                "crate" => crate_root(module),
                // A binary names the library by the crate's name.
                "tiki_tokens" => Vec::new(),
                "super" | "self" => module.clone(),
                child
                    if files.contains_key(&[module.clone(), vec![child.to_string()]].concat()) =>
                {
                    let mut m = module.clone();
                    m.push(child.to_string());
                    m
                }
                _ => continue,
            };
            let rest = match path[0].as_str() {
                "super" => {
                    let supers = path.iter().take_while(|s| *s == "super").count();
                    base.truncate(base.len().saturating_sub(supers));
                    &path[supers..]
                }
                _ => &path[1..],
            };
            let full = [base, rest.to_vec()].concat();
            let target = (0..=full.len())
                .rev()
                .map(|k| full[..k].to_vec())
                .find(|m| files.contains_key(m));
            if let Some(t) = target.filter(|t| t != module) {
                deps.insert(t);
            }
        }
        graph.insert(module.clone(), deps);
    }
    graph
}

/// A cycle in `graph`, if there is one.
fn find_cycle(graph: &BTreeMap<Vec<String>, BTreeSet<Vec<String>>>) -> Option<Vec<Vec<String>>> {
    fn visit(
        node: &Vec<String>,
        graph: &BTreeMap<Vec<String>, BTreeSet<Vec<String>>>,
        stack: &mut Vec<Vec<String>>,
        done: &mut BTreeSet<Vec<String>>,
    ) -> Option<Vec<Vec<String>>> {
        if let Some(at) = stack.iter().position(|n| n == node) {
            let mut cycle = stack[at..].to_vec();
            cycle.push(node.clone());
            return Some(cycle);
        }
        if done.contains(node) {
            return None;
        }
        stack.push(node.clone());
        for next in graph.get(node).into_iter().flatten() {
            if let Some(c) = visit(next, graph, stack, done) {
                return Some(c);
            }
        }
        stack.pop();
        done.insert(node.clone());
        None
    }
    let mut done = BTreeSet::new();
    graph
        .keys()
        .find_map(|n| visit(n, graph, &mut Vec::new(), &mut done))
}

#[test]
fn no_import_cycle_between_files_of_src() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let graph = import_graph(&src);
    let edges: usize = graph.values().map(BTreeSet::len).sum();
    assert!(
        graph.len() > 30 && edges > 40,
        "{} files, {edges} imports: the reader is broken",
        graph.len()
    );
    if let Some(cycle) = find_cycle(&graph) {
        let names: Vec<String> = cycle.iter().map(|m| m.join("::")).collect();
        panic!("import cycle: {}", names.join(" -> "));
    }
}

#[test]
fn the_cycle_finder_finds_a_planted_cycle() {
    let dir = std::env::temp_dir().join(format!("house-rules-{}", std::process::id()));
    std::fs::create_dir_all(dir.join("m")).unwrap();
    std::fs::write(dir.join("lib.rs"), "mod m;\n").unwrap();
    std::fs::write(dir.join("m/mod.rs"), "mod a;\nmod b;\npub use a::X;\n").unwrap();
    std::fs::write(
        dir.join("m/a.rs"),
        "use super::b::{Y, self};\npub struct X;\n",
    )
    .unwrap();
    std::fs::write(
        dir.join("m/b.rs"),
        "// use super::a::X; (a comment)\npub struct Y(crate::m::a::X);\n",
    )
    .unwrap();
    let graph = import_graph(&dir);
    let cycle = find_cycle(&graph);
    std::fs::remove_dir_all(&dir).unwrap();
    let cycle = cycle.expect("a -> b -> a is a cycle");
    assert!(cycle.len() == 3, "{cycle:?}");
}

#[test]
fn a_binary_is_a_crate_of_its_own() {
    let dir = std::env::temp_dir().join(format!("house-rules-bin-{}", std::process::id()));
    std::fs::create_dir_all(dir.join("bin/tool")).unwrap();
    std::fs::create_dir_all(dir.join("store")).unwrap();
    std::fs::write(dir.join("lib.rs"), "pub mod store;\n").unwrap();
    std::fs::write(dir.join("store/mod.rs"), "pub struct S;\n").unwrap();
    std::fs::write(
        dir.join("bin/tool/main.rs"),
        "mod a;\nmod b;\nfn main() { a::go() }\n",
    )
    .unwrap();
    // `crate::` in a binary is the binary's root, not the library's.
    std::fs::write(
        dir.join("bin/tool/a.rs"),
        "use crate::b::Y;\nuse tiki_tokens::store::S;\npub fn go() {}\n",
    )
    .unwrap();
    std::fs::write(dir.join("bin/tool/b.rs"), "pub struct Y(super::a::X);\n").unwrap();
    let graph = import_graph(&dir);
    let cycle = find_cycle(&graph);
    std::fs::remove_dir_all(&dir).unwrap();
    let module = |m: &[&str]| m.iter().map(|s| (*s).to_string()).collect::<Vec<_>>();
    let edges = &graph[&module(&["bin", "tool"])];
    assert!(edges.contains(&module(&["bin", "tool", "a"])), "{graph:?}");
    assert!(
        graph[&module(&["bin", "tool", "a"])].contains(&module(&["store"])),
        "{graph:?}"
    );
    let cycle = cycle.expect("a -> b -> a is a cycle");
    assert!(cycle.len() == 3, "{cycle:?}");
}
