//! except: the program's 0 becomes 100, 111 stays 111, anything else (and a program that
//! cannot be found) becomes 0, a crash is 111; stdin reaches the program; usage.
//! Not tested here: a fork failure (needs resource limits).

use crate::common::run;

#[test]
fn inverts_the_result() {
    run("except")
        .args(["sh", "-c", "exit 0"])
        .go()
        .expect(100, "", "");
    run("except")
        .args(["sh", "-c", "exit 1"])
        .go()
        .expect(0, "", "");
    run("except")
        .args(["sh", "-c", "exit 100"])
        .go()
        .expect(0, "", "");
    run("except")
        .args(["sh", "-c", "exit 99"])
        .go()
        .expect(0, "", "");
    run("except").args(["sh", "-c", "exit 111"]).go().expect(
        111,
        "",
        "except: fatal: temporary child error\n",
    );
    run("except").args(["sh", "-c", "kill -9 $$"]).go().expect(
        111,
        "",
        "except: fatal: child crashed\n",
    );
}

#[test]
fn the_program_reads_stdin_and_writes_stdout() {
    run("except")
        .args(["grep", "-q", "spam"])
        .stdin("this is spam\n")
        .go()
        .expect(100, "", "");
    run("except")
        .args(["grep", "-q", "spam"])
        .stdin("this is ham\n")
        .go()
        .expect(0, "", "");
    run("except")
        .args(["echo", "hello", "world"])
        .go()
        .expect(100, "hello world\n", "");
}

#[test]
fn unrunnable_program_and_usage() {
    run("except")
        .arg("/nonexistent/prog")
        .go()
        .expect(0, "", "");
    run("except")
        .arg("no-such-program-anywhere")
        .go()
        .expect(0, "", "");
    run("except")
        .go()
        .expect(100, "", "except: usage: except program [ arg ... ]\n");
}
