//! preline: UFLINE, RPLINE, DTLINE then stdin into the command, each line dropped by -f -r -d
//! and put back by -F -R -D (the later letter wins); the command's exit code; missing
//! variables and options as usage; exec failures (permanent 100, and its message); crashes.
//! Not tested here: temporary exec errors (would need a full process table).

use crate::common::{run, Cmd};

const UF: &str = "From bob@example.org Thu Dec  3 10:00:00 2026\n";
const RP: &str = "Return-Path: <bob@example.org>\n";
const DT: &str = "Delivered-To: joe@example.com\n";
const MSG: &str = "Subject: hi\n\nbody\n";

fn preline(args: &[&str]) -> Cmd {
    run("preline")
        .args(args)
        .env("UFLINE", UF)
        .env("RPLINE", RP)
        .env("DTLINE", DT)
        .stdin(MSG)
}

#[test]
fn puts_the_envelope_lines_on_top() {
    preline(&["cat"])
        .go()
        .expect(0, &format!("{UF}{RP}{DT}{MSG}"), "");
    preline(&["-f", "cat"])
        .go()
        .expect(0, &format!("{RP}{DT}{MSG}"), "");
    preline(&["-r", "cat"])
        .go()
        .expect(0, &format!("{UF}{DT}{MSG}"), "");
    preline(&["-d", "cat"])
        .go()
        .expect(0, &format!("{UF}{RP}{MSG}"), "");
    preline(&["-frd", "cat"]).go().expect(0, MSG, "");
    preline(&["-fF", "-dD", "cat"])
        .go()
        .expect(0, &format!("{UF}{RP}{DT}{MSG}"), "");
    preline(&["-Ff", "-Rr", "cat"])
        .go()
        .expect(0, &format!("{DT}{MSG}"), "");
    preline(&["-d", "cat", "-"])
        .go()
        .expect(0, &format!("{UF}{RP}{MSG}"), "");
}

#[test]
fn options_after_the_command_are_the_commands() {
    preline(&["sh", "-c", "echo \"$@\"; cat >/dev/null", "sh", "-f", "-d"])
        .go()
        .expect(0, "-f -d\n", "");
}

#[test]
fn exits_with_the_commands_code() {
    preline(&["sh", "-c", "cat >/dev/null; exit 100"])
        .go()
        .expect(100, "", "");
    preline(&["sh", "-c", "cat >/dev/null; exit 99"])
        .go()
        .expect(99, "", "");
    preline(&["sh", "-c", "cat >/dev/null; kill -9 $$"])
        .go()
        .expect(111, "", "preline: fatal: child crashed\n");
}

#[test]
fn usage_and_exec_failures() {
    let usage = "preline: usage: preline cmd [ arg ... ]\n";
    preline(&[]).go().expect(100, "", usage);
    let bad = format!("preline: illegal option -- x\n{usage}");
    preline(&["-x", "cat"]).go().expect(100, "", &bad);
    for var in ["UFLINE", "RPLINE", "DTLINE"] {
        let mut c = preline(&["cat"]);
        c.raw().env_remove(var);
        c.go().expect(100, "", usage);
    }
    preline(&["/nonexistent/prog"]).go().expect(
        100,
        "",
        "preline: fatal: unable to run /nonexistent/prog: file does not exist\n",
    );
}
