//! argv0: the program sees the new argv[0] (through sh's $0 and /proc/self/cmdline), PATH
//! search, its exit code; usage and an unrunnable program.
//! Not tested here: nothing else.

use crate::common::run;

#[test]
fn new_argv0() {
    run("argv0")
        .args(["sh", "mysh", "-c", "echo $0; exit 3"])
        .go()
        .expect(3, "mysh\n", "");
    let o = run("argv0")
        .args(["cat", "kitten", "/proc/self/cmdline"])
        .go();
    assert_eq!(
        (o.code, o.out),
        (0, b"kitten\0/proc/self/cmdline\0".to_vec())
    );
}

#[test]
fn usage_and_failure() {
    let usage = "argv0: usage: argv0 realname program [ arg ... ]\n";
    run("argv0").go().expect(100, "", usage);
    run("argv0").arg("sh").go().expect(100, "", usage);
    run("argv0").args(["/nonexistent", "x"]).go().expect(
        111,
        "",
        "argv0: fatal: unable to run /nonexistent: file does not exist\n",
    );
}
