//! bouncesaying: without a program it prints the text alone and exits 100; with one, 0 →
//! bounce, 111 → 111, other codes or an unrunnable program → 0, a crash → 111; usage.
//! Not tested here: a fork failure (needs resource limits).

use crate::common::run;

#[test]
fn bounces_without_a_program() {
    run("bouncesaying")
        .arg("This address no longer accepts mail.")
        .go()
        .expect(100, "", "This address no longer accepts mail.\n");
    run("bouncesaying").arg("").go().expect(100, "", "\n");
}

#[test]
fn bounces_only_if_the_program_succeeds() {
    let text = "Sorry, no spam (#5.7.1)";
    run("bouncesaying")
        .args([text, "grep", "-q", "viagra"])
        .stdin("buy viagra now\n")
        .go()
        .expect(100, "", "Sorry, no spam (#5.7.1)\n");
    run("bouncesaying")
        .args([text, "grep", "-q", "viagra"])
        .stdin("hello\n")
        .go()
        .expect(0, "", "");
    run("bouncesaying")
        .args([text, "sh", "-c", "exit 100"])
        .go()
        .expect(0, "", "");
    run("bouncesaying")
        .args([text, "sh", "-c", "exit 111"])
        .go()
        .expect(111, "", "bouncesaying: fatal: temporary child error\n");
    run("bouncesaying")
        .args([text, "sh", "-c", "kill -9 $$"])
        .go()
        .expect(111, "", "bouncesaying: fatal: child crashed\n");
    run("bouncesaying")
        .args([text, "/nonexistent/prog"])
        .go()
        .expect(0, "", "");
}

#[test]
fn usage() {
    run("bouncesaying").go().expect(
        100,
        "",
        "bouncesaying: usage: bouncesaying error [ program [ arg ... ] ]\n",
    );
}
