//! The manual pages package/man makes from the `//!` headers: one for every program, each
//! with NAME, SYNOPSIS, DESCRIPTION and EXIT STATUS, clean under `groff -ww` (no warnings);
//! and, checked mechanically, the options a page's SYNOPSIS shows are exactly those the
//! program accepts: every letter and digit is tried as `prog -X`, and the program must say
//! `illegal option -- X` (as DJB's sgetopt does) for precisely the letters the page leaves out.

use crate::common::{run, TmpDir};
use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn tools() -> Vec<String> {
    let mut v: Vec<String> = std::fs::read_dir(root().join("tools"))
        .expect("tools/")
        .filter_map(|e| e.ok())
        .filter_map(|e| {
            e.file_name()
                .to_str()?
                .strip_suffix(".rs")
                .map(String::from)
        })
        .collect();
    v.sort();
    v
}

/// The pages, made into a fresh directory.
fn pages() -> (TmpDir, PathBuf) {
    let t = TmpDir::new("man");
    let o = run(root().join("package/man").to_str().expect("utf-8 path"))
        .arg(t.join("man"))
        .cwd(root())
        .go();
    assert_eq!(o.code, 0, "package/man: {}", o.stderr());
    let dir = t.join("man");
    (t, dir)
}

fn page(dir: &Path, tool: &str) -> (PathBuf, String) {
    for sec in ["1", "8"] {
        let p = dir.join(format!("man{sec}/{tool}.{sec}"));
        if let Ok(text) = std::fs::read_to_string(&p) {
            return (p, text);
        }
    }
    panic!("{tool}: no manual page");
}

/// The SYNOPSIS of a page, back in plain text.
fn synopsis(text: &str) -> String {
    let s = text.split(".SH SYNOPSIS\n.nf\n").nth(1).unwrap_or("");
    s.split("\n.fi\n").next().unwrap_or("").replace("\\-", "-")
}

/// The option letters of a synopsis: `[ -abc ]` gives a, b, c; `[ -x arg ]` gives x.
fn documented(syn: &str) -> BTreeSet<char> {
    let mut out = BTreeSet::new();
    for group in syn.split('[').skip(1) {
        let inner = group.split(']').next().unwrap_or("");
        let words: Vec<&str> = inner.split_whitespace().collect();
        let Some(first) = words.first().and_then(|w| w.strip_prefix('-')) else {
            continue;
        };
        if words.len() == 1 {
            out.extend(first.chars());
        } else if let Some(c) = first.chars().next() {
            out.insert(c);
        }
    }
    out
}

#[test]
fn every_program_has_a_clean_page() {
    let (_t, dir) = pages();
    let groff = Path::new("/usr/bin/groff").exists();
    for tool in tools() {
        let (p, text) = page(&dir, &tool);
        let name = format!(".SH NAME\n{} \\- ", tool.replace('-', "\\-"));
        assert!(text.contains(&name), "{tool}: NAME");
        for s in [".SH SYNOPSIS\n", ".SH DESCRIPTION\n", ".SH EXIT STATUS\n"] {
            assert!(text.contains(s), "{tool}: no {s}");
        }
        if groff {
            let o = run("groff")
                .args(["-man", "-Tutf8", "-ww", "-z"])
                .arg(&p)
                .go();
            assert_eq!((o.code, o.stderr()), (0, String::new()), "{tool}: groff");
        }
    }
    assert!(
        groff,
        "groff is missing (Debian's groff-base, which man-db needs)"
    );
}

#[test]
fn each_page_shows_exactly_the_options_its_program_accepts() {
    let (t, dir) = pages();
    let letters: Vec<char> = ('a'..='z')
        .chain('A'..='Z')
        .chain('0'..='9')
        .chain(['/'])
        .collect();
    let mut checked = 0;
    for tool in tools() {
        let (_, text) = page(&dir, &tool);
        let want = documented(&synopsis(&text));
        if want.is_empty() {
            continue;
        }
        checked += 1;
        let mut accepted = BTreeSet::new();
        for &c in &letters {
            let o = run(&tool)
                .arg(format!("-{c}"))
                .cwd(&t.0)
                .env("QMAILQUEUE", "/nonexistent/qmail-queue")
                .env("UFLINE", "From x\n")
                .env("RPLINE", "Return-Path: <x>\n")
                .env("DTLINE", "Delivered-To: x\n")
                .go();
            if !o.stderr().contains(&format!("illegal option -- {c}")) {
                accepted.insert(c);
            }
        }
        assert_eq!(
            accepted, want,
            "{tool}: accepted (left) vs its page's SYNOPSIS (right)"
        );
    }
    assert!(checked >= 12, "only {checked} programs with options");
}

#[test]
fn synopsis_letters() {
    let s = "tcpserver [ -1UXp ] [ -c limit ] host [ arg ... ]\n[ -/oh ]";
    let want: BTreeSet<char> = "1UXpc/oh".chars().collect();
    assert_eq!(documented(s), want);
}
