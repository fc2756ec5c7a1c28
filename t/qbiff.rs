//! qbiff: exits 0 and writes nothing to its own output, with or without its environment,
//! for ordinary, empty and huge messages, and with stdin closed.
//! Not tested here: the notice on a terminal (needs a utmp record for a pty of ours in
//! /var/run/utmp, which a test running as nobody cannot write).

use crate::common::run;

#[test]
fn always_exits_zero_quietly() {
    let msg = "Subject: hello\n\tthere\nFrom: x\n\nbody \x07 line\nmore\n";
    let huge = format!(
        "Subject: {}\n\n{}\n",
        "s".repeat(3 << 20),
        "b".repeat(1 << 20)
    );
    let full = |m: &str| {
        run("qbiff")
            .env("USER", "nobody")
            .env("SENDER", "a@b.test")
            .env("LOCAL", "nobody-ext")
            .stdin(m)
    };
    for m in [msg, "", "no header at all\n", &huge] {
        full(m).go().expect(0, "", "");
    }
    full(msg).env("USER", "x".repeat(40)).go().expect(0, "", "");
    for missing in ["USER", "SENDER", "LOCAL"] {
        let mut c = run("qbiff").stdin(msg);
        for v in ["USER", "SENDER", "LOCAL"] {
            if v != missing {
                c = c.env(v, "nobody");
            }
        }
        c.go().expect(0, "", "");
    }
    let mut c = run("qbiff")
        .env("USER", "nobody")
        .env("SENDER", "a@b")
        .env("LOCAL", "nobody");
    c.raw().stdin(std::process::Stdio::null());
    c.go().expect(0, "", "");
}
