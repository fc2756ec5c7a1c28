//! The consistency rules of STYLE.md, checked instead of written as comments.
//! Not tested here: nothing is skipped; these read the source tree only.

use std::collections::BTreeSet;
use std::path::Path;

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

fn read(rel: &str) -> String {
    std::fs::read_to_string(root().join(rel)).unwrap_or_else(|e| panic!("{rel}: {e}"))
}

fn tools() -> BTreeSet<String> {
    std::fs::read_dir(root().join("tools"))
        .expect("tools/")
        .filter_map(|e| e.ok())
        .filter_map(|e| {
            e.file_name()
                .to_str()
                .and_then(|n| n.strip_suffix(".rs"))
                .map(str::to_string)
        })
        .collect()
}

/// Tools allowed over 300 lines, each with its reason.
const LONG: &[(&str, &str)] = &[];

#[test]
fn every_tool_is_built_listed_and_installed() {
    let cargo = read("Cargo.toml");
    let commands: BTreeSet<String> = read("package/commands")
        .lines()
        .map(str::to_string)
        .collect();
    let hier = read("package/hier");
    let tests = read("t/main.rs");
    for t in tools() {
        assert!(
            cargo.contains(&format!("name = \"{t}\"\npath = \"tools/{t}.rs\"")),
            "{t}: no [[bin]] in Cargo.toml"
        );
        assert!(commands.contains(&t), "{t}: not in package/commands");
        assert!(
            hier.lines()
                .any(|l| l.split_whitespace().nth(1) == Some(&format!("bin/{t}"))),
            "{t}: not in package/hier"
        );
        // Families tested together, side by side with their originals.
        let module = match t.as_str() {
            c if c.starts_with("cdb") => "cdb",
            "setforward" | "printforward" | "setmaillist" | "printmaillist" => "fastforward",
            "newinclude" => "newaliases",
            other => other,
        };
        assert!(
            tests.contains(&format!("#[path = \"{module}.rs\"]")),
            "{t}: no test module t/{module}.rs"
        );
    }
    for c in &commands {
        assert!(
            root().join(format!("tools/{c}.rs")).exists(),
            "package/commands names {c}, which has no tools/{c}.rs"
        );
    }
}

#[test]
fn tool_headers_and_sizes() {
    let mut sizes = Vec::new();
    for t in tools() {
        let src = read(&format!("tools/{t}.rs"));
        assert!(src.starts_with("//! "), "{t}: no //! header");
        for section in ["Usage:", "Exit:", "Runs as:"] {
            assert!(
                src.contains(&format!("//! {section}")),
                "{t}: header lacks {section}"
            );
        }
        let n = src.lines().count();
        if n > 300 {
            assert!(
                LONG.iter().any(|(name, _)| *name == t),
                "{t}: {n} lines, over 300 and not in LONG"
            );
        }
        sizes.push(n);
    }
    sizes.sort();
    if let (Some(max), Some(mid)) = (sizes.last(), sizes.get(sizes.len() / 2)) {
        eprintln!(
            "tools: {} programs, median {mid} lines, max {max}",
            sizes.len()
        );
    }
}

fn rust_files(dir: &Path, out: &mut Vec<std::path::PathBuf>) {
    for e in std::fs::read_dir(dir).into_iter().flatten().flatten() {
        let p = e.path();
        if p.is_dir() {
            rust_files(&p, out);
        } else if p.extension().is_some_and(|x| x == "rs") {
            out.push(p);
        }
    }
}

#[test]
fn unsafe_and_libc_only_in_sys() {
    let mut files = Vec::new();
    for d in ["tools", "lib/src", "t"] {
        rust_files(&root().join(d), &mut files);
    }
    let sys = root().join("lib/src/sys");
    let forbidden = [
        concat!("unsa", "fe {"),
        concat!("unsa", "fe fn"),
        concat!("lib", "c::"),
    ];
    for f in files.iter().filter(|f| !f.starts_with(&sys)) {
        let src = std::fs::read_to_string(f).expect("read");
        for word in forbidden {
            assert!(!src.contains(word), "{}: contains {word}", f.display());
        }
    }
}

#[test]
fn package_scripts_stay_small() {
    for s in [
        "compile",
        "install",
        "upgrade",
        "run",
        "test",
        "users",
        "config",
        "services",
        "sendmail",
        "uninstall",
    ] {
        let text = read(&format!("package/{s}"));
        assert!(
            text.starts_with("#!/bin/sh -e\n"),
            "package/{s}: not #!/bin/sh -e"
        );
        assert!(text.contains("\numask 022\n"), "package/{s}: no umask 022");
        assert!(text.lines().count() <= 40, "package/{s}: over 40 lines");
    }
}

#[test]
fn tools_do_not_panic_or_print_unchecked() {
    let words = [
        ".unwrap()",
        ".expect(",
        "panic!",
        "println!",
        "print!(",
        "unreachable!",
        "todo!",
    ];
    for t in tools() {
        let src = read(&format!("tools/{t}.rs"));
        for w in words {
            assert!(!src.contains(w), "tools/{t}.rs uses {w}");
        }
    }
}
