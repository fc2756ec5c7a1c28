//! sendmail: the qmail-inject command line it builds from each option, the environment it
//! passes (-f, -F, -bs), -bp/-bs/mailq, newaliases, usage errors, failures to chdir or exec,
//! and one run through the real qmail-inject to a recording $QMAILQUEUE.
//! The programs it runs are stand-in scripts in a private `home/bin` that print their argv,
//! the variables sendmail sets or unsets, and their working directory.
//! Not tested here: the real qmail-qread and qmail-smtpd (other programs' tests).

use crate::common::{bin, home, home_lock, install_tree, run, Cmd, TmpDir};
use std::os::unix::fs::PermissionsExt;
use std::process::Stdio;
use std::sync::MutexGuard;

const SCRIPT: &str = "#!/bin/sh\nprintf '[%s]' \"$0\" \"$@\"\necho\n\
env | grep -E '^(QMAIL|MAIL|NAME=|RELAYCLIENT|DATABYTES|PROTO|TCP)' | sort\npwd -P\n";

/// Holds the home lock; `home/bin` holds stand-ins for the programs sendmail runs.
fn fake_home() -> MutexGuard<'static, ()> {
    let g = home_lock();
    install_tree(&home());
    let b = home().join("bin");
    std::fs::remove_file(&b).expect("unlink bin");
    std::fs::create_dir(&b).expect("mkdir bin");
    for name in ["qmail-inject", "qmail-qread", "qmail-smtpd"] {
        let p = b.join(name);
        std::fs::write(&p, SCRIPT).expect("script");
        std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o755)).expect("chmod");
    }
    g
}

fn sendmail() -> Cmd {
    let mut c = run("sendmail");
    c.raw().stdin(Stdio::null());
    c
}

/// What a stand-in prints: its argv, then the listed variables, then its directory.
fn ran(argv: &str, vars: &[&str]) -> String {
    let cwd = std::fs::canonicalize(home()).expect("home");
    let mut s = format!("{argv}\n");
    for v in vars {
        s.push_str(v);
        s.push('\n');
    }
    format!("{s}{}\n", cwd.display())
}

#[test]
fn builds_the_qmail_inject_command() {
    let _g = fake_home();
    sendmail()
        .args(["a", "-b"])
        .go()
        .expect(0, &ran("[bin/qmail-inject][-a][--][a][-b]", &[]), "");
    sendmail()
        .args(["-t", "a"])
        .go()
        .expect(0, &ran("[bin/qmail-inject][-H][--][a]", &[]), "");
    sendmail()
        .args(["--", "-t"])
        .go()
        .expect(0, &ran("[bin/qmail-inject][-a][--][-t]", &[]), "");
    sendmail()
        .args([
            "-vixm", "-e", "x", "-o", "x", "-oi", "-p", "p", "-B", "8BITMIME", "-bm",
        ])
        .args(["-Efoo", "-J", "-Etx", "-", "r"])
        .go()
        .expect(0, &ran("[bin/qmail-inject][-a][--][-][r]", &[]), "");
    sendmail()
        .arg("-t")
        .env("QMAILUSER", "keep")
        .env("NAME", "Kept")
        .go()
        .expect(
            0,
            &ran(
                "[bin/qmail-inject][-H][--]",
                &["NAME=Kept", "QMAILUSER=keep"],
            ),
            "",
        );
}

#[test]
fn sender_and_full_name() {
    let _g = fake_home();
    let all = |c: Cmd| {
        c.env("QMAILNAME", "qn")
            .env("MAILNAME", "mn")
            .env("NAME", "n")
            .env("QMAILHOST", "qh")
            .env("MAILHOST", "mh")
            .env("QMAILUSER", "qu")
    };
    all(sendmail().args(["-f", "joe@x.org", "r"])).go().expect(
        0,
        &ran(
            "[bin/qmail-inject][-a][-f][joe@x.org][--][r]",
            &["QMAILHOST=x.org", "QMAILUSER=joe"],
        ),
        "",
    );
    all(sendmail().args(["-fjoe", "-t"])).go().expect(
        0,
        &ran("[bin/qmail-inject][-H][-f][joe][--]", &["QMAILUSER=joe"]),
        "",
    );
    sendmail().args(["-f", "a@b@c", "-f", "x@y"]).go().expect(
        0,
        &ran(
            "[bin/qmail-inject][-a][-f][x@y][--]",
            &["QMAILHOST=y", "QMAILUSER=x"],
        ),
        "",
    );
    sendmail().args(["-f", ""]).go().expect(
        0,
        &ran("[bin/qmail-inject][-a][-f][][--]", &["QMAILUSER="]),
        "",
    );
    sendmail()
        .args(["-F", "Joe Q", "a"])
        .env("MAILNAME", "old")
        .go()
        .expect(
            0,
            &ran("[bin/qmail-inject][-a][--][a]", &["MAILNAME=Joe Q"]),
            "",
        );
    sendmail().args(["-FJoe", "-f", "u@h"]).go().expect(
        0,
        &ran(
            "[bin/qmail-inject][-a][-f][u@h][--]",
            &["QMAILHOST=h", "QMAILUSER=u"],
        ),
        "",
    );
}

#[test]
fn queue_listing_and_smtp() {
    let _g = fake_home();
    sendmail()
        .args(["-bp", "ignored"])
        .go()
        .expect(0, &ran("[bin/qmail-qread]", &[]), "");
    let local = [
        "DATABYTES=0",
        "PROTO=TCP",
        "RELAYCLIENT=",
        "TCPLOCALHOST=localhost",
        "TCPLOCALIP=127.0.0.1",
        "TCPREMOTEHOST=localhost",
        "TCPREMOTEINFO=sendmail-bs",
        "TCPREMOTEIP=127.0.0.1",
    ];
    sendmail()
        .args(["-t", "-bs", "-q"])
        .go()
        .expect(0, &ran("[bin/qmail-smtpd]", &local), "");
    sendmail().arg("-bs").env("PROTO", "SSL").go().expect(
        0,
        &ran("[bin/qmail-smtpd]", &["PROTO=SSL"]),
        "",
    );
    let t = TmpDir::new("mailq");
    let mailq = t.join("mailq");
    std::os::unix::fs::symlink(bin("sendmail"), &mailq).expect("symlink");
    let mut c = run(&mailq.to_string_lossy());
    c.raw().stdin(Stdio::null());
    c.arg("-t")
        .go()
        .expect(0, &ran("[bin/qmail-qread]", &[]), "");
    let newaliases = t.join("newaliases");
    std::os::unix::fs::symlink(bin("sendmail"), &newaliases).expect("symlink");
    run(&newaliases.to_string_lossy()).go().expect(
        100,
        "",
        "sendmail: fatal: please use fastforward/newaliases instead\n",
    );
}

#[test]
fn usage_errors() {
    let _g = fake_home();
    let usage =
        "sendmail: usage: sendmail [ -t ] [ -fsender ] [ -Fname ] [ -bp ] [ -bs ] [ arg ... ]\n";
    let (bad, needs) = (
        "sendmail: illegal option -- ",
        "sendmail: option requires an argument -- ",
    );
    for (args, said) in [
        (&["-bx"][..], String::new()),
        (&["-b"], format!("{needs}b\n")),
        (&["-b", ""], String::new()),
        (&["-q"], format!("{bad}q\n")),
        (&["-f"], format!("{needs}f\n")),
        (&["-tq"], format!("{bad}q\n")),
        (&["-F"], format!("{needs}F\n")),
    ] {
        sendmail()
            .args(args)
            .go()
            .expect(100, "", &format!("{said}{usage}"));
    }
}

#[test]
fn failures_to_run() {
    let _g = fake_home();
    for (args, prog) in [
        (&["-bp"][..], "qmail-qread"),
        (&["-bs"], "qmail-smtpd"),
        (&["a"], "qmail-inject"),
    ] {
        std::fs::remove_file(home().join("bin").join(prog)).expect("rm");
        sendmail().args(args).go().expect(
            111,
            "",
            &format!("sendmail: fatal: unable to run {prog}: file does not exist\n"),
        );
    }
    if qlib::sys::id::geteuid() == 0 {
        return; // root may enter any directory
    }
    let mode = |m| std::fs::set_permissions(home(), std::fs::Permissions::from_mode(m));
    mode(0o000).expect("chmod home");
    let o = sendmail().arg("a").go();
    mode(0o755).expect("chmod home");
    o.expect(
        111,
        "",
        "sendmail: fatal: unable to switch to qmail home directory: access denied\n",
    );
}

#[test]
fn through_the_real_qmail_inject() {
    let _g = home_lock();
    install_tree(&home());
    std::fs::write(home().join("control/me"), "mx.test\n").expect("me");
    let t = TmpDir::new("sendmail-qq");
    let d = t.0.display();
    let qq = t.write(
        "qq",
        format!("#!/bin/sh\ncat > {d}/msg; cat <&1 > {d}/env\n").as_bytes(),
    );
    std::fs::set_permissions(&qq, std::fs::Permissions::from_mode(0o755)).expect("chmod");
    let go = |args: &[&str]| {
        sendmail()
            .args(args)
            .env("QMAILQUEUE", &qq)
            .env("USER", "u")
            .env("NAME", "N")
            .stdin("To: t\nSubject: s\n\nhi\n")
            .go()
            .expect(0, "", "");
        let env =
            String::from_utf8_lossy(&std::fs::read(t.join("env")).expect("env")).replace('\0', "|");
        let msg = String::from_utf8_lossy(&std::fs::read(t.join("msg")).expect("msg")).into_owned();
        let from = msg
            .lines()
            .find(|l| l.starts_with("From: "))
            .unwrap_or("")
            .to_string();
        (env, from)
    };
    assert_eq!(
        go(&["-t", "-f", "joe@x.org", "-F", "Joe", "extra"]),
        (
            "Fjoe@x.org|Textra@mx.test|Tt@mx.test||".into(),
            "From: joe@x.org".into()
        )
    );
    assert_eq!(
        go(&["-F", "Joe Q", "a"]),
        (
            "Fu@mx.test|Ta@mx.test||".into(),
            "From: \"Joe Q\" <u@mx.test>".into()
        )
    );
    assert_eq!(
        go(&[]),
        ("Fu@mx.test||".into(), "From: \"N\" <u@mx.test>".into())
    );
}
