//! The sandbox's module dependencies go one way, and none leaves the sandbox
//! except to the neutral `wire` module: it reads every source file under
//! `server/src/sandbox/`, resolves each `crate::`, `super::` and `app::`
//! path in it, and fails naming the file and line of any that breaks the
//! rules (see `server/src/sandbox/mod.rs` for the layers).

use std::path::{Path, PathBuf};

/// Top to bottom: a module may use its own layer and the ones below.
fn rank(layer: &str) -> u8 {
    match layer {
        "edge" => 4,
        "resources" => 3,
        "work" => 2,
        "state" => 1,
        "clock" | "kinds" | "catalog" | "data" | "params" | "form" | "error" | "config" | "urls" | "version" | "event_types" => 0,
        // `sandbox/mod.rs` and what it declares or re-exports (`router`,
        // `Sandbox`), and any module not placed in a layer here yet.
        _ => 5,
    }
}

/// Outside the sandbox, only these crate modules may be used.
const ALLOWED_CRATE_MODULES: &[&str] = &["sandbox", "wire"];

#[derive(Debug, PartialEq)]
struct Violation {
    line: usize,
    path: String,
    why: String,
}

/// Source with comments, strings and char literals blanked out (newlines
/// kept, so line numbers still match).
fn code_only(src: &str) -> String {
    let b: Vec<char> = src.chars().collect();
    let mut out = String::with_capacity(src.len());
    let mut i = 0;
    let blank = |c: char| if c == '\n' { '\n' } else { ' ' };
    while i < b.len() {
        let c = b[i];
        let next = b.get(i + 1).copied();
        if c == '/' && next == Some('/') {
            while i < b.len() && b[i] != '\n' {
                out.push(' ');
                i += 1;
            }
        } else if c == '/' && next == Some('*') {
            let mut depth = 0;
            while i < b.len() {
                if b[i] == '/' && b.get(i + 1) == Some(&'*') {
                    depth += 1;
                    out.push_str("  ");
                    i += 2;
                } else if b[i] == '*' && b.get(i + 1) == Some(&'/') {
                    depth -= 1;
                    out.push_str("  ");
                    i += 2;
                    if depth == 0 {
                        break;
                    }
                } else {
                    out.push(blank(b[i]));
                    i += 1;
                }
            }
        } else if c == 'r'
            && (next == Some('"') || next == Some('#'))
            && !b[..i].last().is_some_and(|p| p.is_alphanumeric() || *p == '_')
        {
            // Raw string r#"…"#.
            let mut j = i + 1;
            let mut hashes = 0;
            while b.get(j) == Some(&'#') {
                hashes += 1;
                j += 1;
            }
            if b.get(j) != Some(&'"') {
                out.push(c);
                i += 1;
                continue;
            }
            let closing: String = std::iter::once('"').chain(std::iter::repeat_n('#', hashes)).collect();
            let rest: String = b[j + 1..].iter().collect();
            let len = rest.find(&closing).map(|e| e + closing.len()).unwrap_or(rest.len());
            for ch in b[i..j + 1 + rest[..len].chars().count()].iter() {
                out.push(blank(*ch));
            }
            i = j + 1 + rest[..len].chars().count();
        } else if c == '"' {
            out.push(' ');
            i += 1;
            while i < b.len() && b[i] != '"' {
                if b[i] == '\\' {
                    out.push(' ');
                    i += 1;
                }
                if i < b.len() {
                    out.push(blank(b[i]));
                    i += 1;
                }
            }
            out.push(' ');
            i += 1;
        } else if c == '\'' {
            // A char literal ('x', '\n', '\u{1F600}') or a lifetime ('a).
            let end = if next == Some('\\') {
                b[i + 2..].iter().position(|&x| x == '\'').map(|p| i + 2 + p)
            } else if b.get(i + 2) == Some(&'\'') {
                Some(i + 2)
            } else {
                None
            };
            match end {
                Some(e) => {
                    for _ in i..=e {
                        out.push(' ');
                    }
                    i = e + 1;
                }
                None => {
                    out.push(c);
                    i += 1;
                }
            }
        } else {
            out.push(c);
            i += 1;
        }
    }
    out
}

fn is_ident(c: char) -> bool {
    c.is_alphanumeric() || c == '_'
}

/// Every path starting at `start` in `code` (`a::b::{c, d::e}` gives
/// `a::b::c` and `a::b::d::e`), as segment lists.
fn expand(code: &[char], start: usize) -> Vec<Vec<String>> {
    fn parse(code: &[char], mut i: usize, prefix: Vec<String>, out: &mut Vec<Vec<String>>) -> usize {
        let mut segs = prefix;
        loop {
            while code.get(i).is_some_and(|c| c.is_whitespace()) {
                i += 1;
            }
            if code.get(i) == Some(&'{') {
                i += 1;
                loop {
                    while code.get(i).is_some_and(|c| c.is_whitespace() || *c == ',') {
                        i += 1;
                    }
                    match code.get(i) {
                        None => return i,
                        Some('}') => return i + 1,
                        _ => {
                            let before = i;
                            i = parse(code, i, segs.clone(), out);
                            if i == before {
                                i += 1; // not a path (`*`, `self`): skip it
                            }
                        }
                    }
                }
            }
            let s = i;
            while code.get(i).is_some_and(|c| is_ident(*c)) {
                i += 1;
            }
            if s == i {
                if !segs.is_empty() {
                    out.push(segs);
                }
                return i;
            }
            segs.push(code[s..i].iter().collect());
            let mut j = i;
            while code.get(j).is_some_and(|c| c.is_whitespace()) {
                j += 1;
            }
            if code.get(j) == Some(&':') && code.get(j + 1) == Some(&':') {
                i = j + 2;
            } else {
                out.push(segs);
                return i;
            }
        }
    }
    let mut out = Vec::new();
    parse(code, start, Vec::new(), &mut out);
    out
}

/// The module a source file is, as segments from the crate root
/// (`sandbox/resources/mod.rs` → `sandbox::resources`).
fn module_of(rel: &Path) -> Vec<String> {
    let mut segs: Vec<String> = rel.iter().map(|s| s.to_string_lossy().into_owned()).collect();
    let file = segs.pop().unwrap_or_default();
    if file != "mod.rs" {
        segs.push(file.trim_end_matches(".rs").to_owned());
    }
    segs
}

/// The layer of a module inside the sandbox.
fn layer_of(module: &[String]) -> String {
    match module.get(1) {
        None => "mod".to_owned(),
        Some(m) => m.clone(),
    }
}

/// Checks one file of module `module` (path from the crate root).
fn check(module: &[String], src: &str) -> Vec<Violation> {
    let code: Vec<char> = code_only(src).chars().collect();
    let own = layer_of(module);
    let mut found = Vec::new();
    let mut i = 0;
    while i < code.len() {
        if !is_ident(code[i]) || (i > 0 && is_ident(code[i - 1])) {
            i += 1;
            continue;
        }
        let line = code[..i].iter().filter(|&&c| c == '\n').count() + 1;
        let word_end = (i..code.len()).find(|&j| !is_ident(code[j])).unwrap_or(code.len());
        let word: String = code[i..word_end].iter().collect();
        // Later segments of a path were seen with its root; `::app::…` is a root too.
        let after_colons = i >= 2 && code[i - 1] == ':' && code[i - 2] == ':';
        if after_colons && word != "app" {
            i = word_end;
            continue;
        }
        let is_path = code.get(word_end) == Some(&':') && code.get(word_end + 1) == Some(&':');
        if word == "extern" {
            let next: String = code[word_end..].iter().skip_while(|c| c.is_whitespace()).take(5).collect();
            if next == "crate" {
                found.push(Violation {
                    line,
                    path: "extern crate".into(),
                    why: "the sandbox declares no crates".into(),
                });
            }
        }
        let external = word == "app" || word == "server";
        if is_path && (external || word == "crate" || word == "super") {
            for path in expand(&code, i) {
                let text = path.join("::");
                if external {
                    found.push(Violation {
                        line,
                        path: text,
                        why: "the sandbox imports nothing of the app".into(),
                    });
                    continue;
                }
                // Resolve to segments from the crate root.
                let mut resolved: Vec<String> = module.to_vec();
                let mut rest = path.as_slice();
                if rest.first().map(String::as_str) == Some("crate") {
                    resolved.clear();
                    rest = &rest[1..];
                } else {
                    while rest.first().map(String::as_str) == Some("super") {
                        resolved.pop();
                        rest = &rest[1..];
                    }
                }
                resolved.extend(rest.iter().cloned());
                let Some(top) = resolved.first() else { continue };
                if !ALLOWED_CRATE_MODULES.contains(&top.as_str()) {
                    found.push(Violation {
                        line,
                        path: text,
                        why: format!("`crate::{top}` is the app's; the sandbox may use only crate::sandbox and crate::wire"),
                    });
                    continue;
                }
                if top == "sandbox" {
                    if let Some(target) = resolved.get(1) {
                        if rank(target) > rank(&own) {
                            found.push(Violation {
                                line,
                                path: text,
                                why: format!("`{own}` may not use `{target}`, a layer above it"),
                            });
                        }
                    }
                }
            }
        }
        i = word_end;
    }
    found
}

fn sources(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).expect("read sandbox dir") {
        let path = entry.expect("dir entry").path();
        if path.is_dir() {
            sources(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

#[test]
fn the_sandbox_imports_one_way_and_nothing_of_the_app() {
    let src_root = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = Vec::new();
    sources(&src_root.join("sandbox"), &mut files);
    let layers: std::collections::BTreeSet<String> = files
        .iter()
        .map(|f| layer_of(&module_of(f.strip_prefix(&src_root).unwrap())))
        .collect();
    for expected in ["edge", "resources", "work", "state", "mod"] {
        assert!(layers.contains(expected), "no `{expected}` layer in {layers:?}");
    }
    let mut report = Vec::new();
    for file in &files {
        let rel = file.strip_prefix(&src_root).unwrap();
        let src = std::fs::read_to_string(file).unwrap();
        for v in check(&module_of(rel), &src) {
            report.push(format!("{}:{}: {} ({})", rel.display(), v.line, v.path, v.why));
        }
    }
    assert!(report.is_empty(), "sandbox dependency rules broken:\n{}", report.join("\n"));
}

#[test]
fn the_rules_catch_what_they_name() {
    let resources = ["sandbox".to_owned(), "resources".to_owned(), "accounts".to_owned()];
    let state = ["sandbox".to_owned(), "state".to_owned()];
    let bad = [
        (&resources[..], "use app::model::AccountStatus;"),
        (&resources[..], "fn f() { let _ = ::app::model::X; }"),
        (&resources[..], "use crate::storage::Storage;"),
        (&resources[..], "use crate::service::StripeService;"),
        (&resources[..], "use crate::webhooks::header;"),
        (&resources[..], "let v = crate::stripe::STRIPE_VERSION;"),
        (&resources[..], "use crate::live::Live;"),
        (&resources[..], "use crate::{sandbox::clock::now, live};"),
        (&resources[..], "use crate::sandbox::edge::auth::SecretKey;"),
        (&resources[..], "use super::super::edge::Edge;"),
        (&resources[..], "use crate::sandbox::{clock, edge::faults};"),
        (&state[..], "use crate::sandbox::work::refresh;"),
        (&state[..], "use super::resources::accounts;"),
        (&state[..], "use crate::sandbox::Sandbox;"),
    ];
    for (module, src) in bad {
        assert_eq!(check(module, src).len(), 1, "not caught in {}: {src}", module.join("::"));
    }
    let fine = [
        (
            &resources[..],
            "use crate::sandbox::state::{Feature, Sandbox};\nuse super::list::paginate;",
        ),
        (&resources[..], "use crate::wire::STRIPE_VERSION;"),
        (&resources[..], "use crate::sandbox::work::refresh;"),
        (
            &resources[..],
            "// use crate::sandbox::edge;\nlet s = \"app::model\"; let c = '\"'; let l: &'static str = r#\"crate::live\"#;",
        ),
        (&resources[..], "/* use app::x; */ fn f<'a>(x: &'a str) -> &'a str { x }"),
        (&state[..], "use crate::sandbox::{clock::now, kinds::AccountStatus};"),
    ];
    for (module, src) in fine {
        assert_eq!(check(module, src), vec![], "wrongly refused in {}: {src}", module.join("::"));
    }
}
