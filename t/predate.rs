//! predate: a `Date:` line in local time with a numeric offset ($TZ honoured), then stdin,
//! into the child; the child's exit code; crashes; usage; an unrunnable child.
//! Not tested here: nothing else.

use crate::common::run;

/// Checks `line` is `Date: D Mon YYYY HH:MM:SS <sign>HHMM` with the given sign and offset.
fn date_ok(line: &str, offset: &str) -> bool {
    let f: Vec<&str> = line.split(' ').collect();
    f.len() == 6
        && f[0] == "Date:"
        && f[1].parse::<u32>().is_ok_and(|d| (1..=31).contains(&d))
        && f[2].len() == 3
        && f[3].len() == 4
        && f[4].len() == 8
        && f[5] == offset
}

#[test]
fn puts_a_local_date_on_top() {
    for (tz, offset) in [
        ("UTC0", "+0000"),
        ("EST5", "-0500"),
        ("XYZ-5:30", "+0530"),
        ("ABC-13", "+1300"),
    ] {
        let o = run("predate")
            .arg("cat")
            .env("TZ", tz)
            .stdin("Subject: x\n\nbody\n")
            .go();
        assert_eq!(o.code, 0, "{o:?}");
        let out = o.stdout();
        let (first, rest) = out.split_once('\n').unwrap();
        assert!(date_ok(first, offset), "{tz}: {first:?}");
        assert_eq!(rest, "Subject: x\n\nbody\n");
    }
}

#[test]
fn the_hour_follows_the_zone() {
    let hour = |tz: &str| {
        let o = run("predate").arg("cat").env("TZ", tz).stdin("x\n").go();
        let out = o.stdout();
        out.split(' ').nth(4).unwrap()[..2].parse::<i32>().unwrap()
    };
    let (a, b) = (hour("UTC0"), hour("EST5"));
    // Unless the test straddles an hour, EST is five hours behind.
    assert!((4..=6).contains(&(a - b).rem_euclid(24)), "{a} {b}");
}

#[test]
fn exit_codes_and_usage() {
    run("predate")
        .args(["sh", "-c", "cat >/dev/null; exit 42"])
        .go()
        .expect(42, "", "");
    run("predate")
        .args(["sh", "-c", "cat >/dev/null; kill -9 $$"])
        .go()
        .expect(111, "", "predate: fatal: child crashed\n");
    run("predate")
        .go()
        .expect(100, "", "predate: usage: predate child\n");
    run("predate").arg("/nonexistent/prog").go().expect(
        111,
        "",
        "predate: fatal: unable to run /nonexistent/prog: file does not exist\n",
    );
}
