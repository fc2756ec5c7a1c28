//! qmail-rspawn: the spawn protocol and the folding of qmail-remote's reports (spec §2.3, §5.3),
//! with a stand-in qmail-remote named by QMAILREMOTE; the timeout tables cleared at start.
//! Not tested here: the owner check against a real qmailq (every conf account is the test user).

use crate::common::{bin, home, home_lock, install_tree, spawn_report, start_spawner, TmpDir};
use std::io::Write;
use std::os::unix::fs::PermissionsExt;
use std::process::{Child, ChildStdout, Command};

fn start(remote: &str) -> (Child, ChildStdout) {
    let mut c = Command::new(bin("qmail-rspawn"));
    c.env_clear().env("QMAILREMOTE", remote);
    start_spawner(c)
}

fn script(t: &TmpDir, name: &str, body: &str) -> String {
    let p = t.write(name, format!("#!/bin/sh\n{body}").as_bytes());
    std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o755)).unwrap();
    p.display().to_string()
}

fn message() {
    std::fs::write(home().join("queue/mess/0/1"), b"Subject: x\n\nhello\n").unwrap();
}

#[test]
fn runs_the_remote_program_and_folds_its_reports() {
    let _l = home_lock();
    install_tree(&home());
    message();
    let t = TmpDir::new("rspawn1");
    let log = t.join("args");
    let remote = script(&t, "remote", &format!(
        "printf '%s|' \"$@\" > {0}; cat >> {0}\ncase \"$3\" in\n\
         ok@*) printf 'r\\0K1.2.3.4 accepted message.\\nRemote host said: 250 ok\\n\\0';;\n\
         hard@*) printf 'h1.2.3.4 does not like recipient.\\nRemote host said: 550 no\\n\\0D1.2.3.4 failed after I sent the message.\\n\\0';;\n\
         soft@*) printf 's1.2.3.4 does not like recipient.\\nRemote host said: 450 later\\n\\0D1.2.3.4 gave up.\\n\\0';;\n\
         quiet@*) ;;\n\
         temp@*) exit 111;;\n\
         crash@*) kill -9 $$;;\n\
         esac", log.display()));
    let (mut c, mut out) = start(&remote);
    let mut inp = c.stdin.take().unwrap();
    let cases: &[(&str, u8, &str)] = &[
        ("ok@x.example", b'K', "1.2.3.4 accepted message.\nRemote host said: 250 ok\n"),
        ("hard@x.example", b'D', "1.2.3.4 does not like recipient.\nRemote host said: 550 no\n1.2.3.4 failed after I sent the message.\n"),
        ("soft@x.example", b'Z', "1.2.3.4 does not like recipient.\nRemote host said: 450 later\n1.2.3.4 gave up.\n"),
        ("quiet@x.example", b'Z', "qmail-remote produced no output.\n"),
        ("temp@x.example", b'Z', "Unable to run qmail-remote.\n"),
        ("crash@x.example", b'Z', "qmail-remote crashed.\n"),
    ];
    for (rcpt, status, text) in cases {
        inp.write_all(format!("\x050/1\0joe@a.example\0{rcpt}\0").as_bytes())
            .unwrap();
        assert_eq!(
            spawn_report(&mut out),
            (5, *status, text.to_string()),
            "{rcpt}"
        );
    }
    let seen = std::fs::read_to_string(&log).unwrap();
    assert_eq!(
        seen,
        "x.example|joe@a.example|crash@x.example|Subject: x\n\nhello\n"
    );
    drop(inp);
    assert_eq!(c.wait().unwrap().code(), Some(0));
}

#[test]
fn refuses_bad_requests() {
    let _l = home_lock();
    install_tree(&home());
    message();
    let t = TmpDir::new("rspawn2");
    let remote = script(&t, "remote", "sleep 1; printf 'r\\0Kok\\n\\0'");
    let (mut c, mut out) = start(&remote);
    let mut inp = c.stdin.take().unwrap();
    inp.write_all(b"\x010/1\0a@b\0nohost\0").unwrap();
    assert_eq!(
        spawn_report(&mut out),
        (
            1,
            b'D',
            "Sorry, address must include host name. (#5.1.3)\n".into()
        )
    );
    inp.write_all(b"\x01../1\0a@b\0c@d\0").unwrap();
    assert_eq!(
        spawn_report(&mut out),
        (
            1,
            b'D',
            "Internal error: bad message path. (#5.3.5)\n".into()
        )
    );
    inp.write_all(b"\x010/999\0a@b\0c@d\0").unwrap();
    assert_eq!(
        spawn_report(&mut out),
        (1, b'Z', "Unable to open message. (#4.3.0)\n".into())
    );
    inp.write_all(b"\xff0/1\0a@b\0c@d\0").unwrap();
    assert_eq!(
        spawn_report(&mut out),
        (
            255,
            b'Z',
            "Internal error: slot out of range or busy. (#4.3.5)\n".into()
        )
    );
    // A busy slot: the first request is still running when the second arrives.
    inp.write_all(b"\x020/1\0a@b\0c@d\0\x020/1\0a@b\0e@f\0")
        .unwrap();
    assert_eq!(
        spawn_report(&mut out),
        (
            2,
            b'Z',
            "Internal error: slot out of range or busy. (#4.3.5)\n".into()
        )
    );
    assert_eq!(spawn_report(&mut out), (2, b'K', "ok\n".into()));
    drop(inp);
    assert_eq!(c.wait().unwrap().code(), Some(0));
}

#[test]
fn missing_remote_program_defers() {
    let _l = home_lock();
    install_tree(&home());
    message();
    let (mut c, mut out) = start("/nonexistent/qmail-remote");
    let mut inp = c.stdin.take().unwrap();
    inp.write_all(b"\x000/1\0a@b\0c@d\0").unwrap();
    assert_eq!(
        spawn_report(&mut out),
        (
            0,
            b'Z',
            "Unable to run qmail-remote: file does not exist. (#4.3.0)\n".into()
        )
    );
    drop(inp);
    assert_eq!(c.wait().unwrap().code(), Some(0));
}

#[test]
fn clears_the_timeout_tables_at_start() {
    let _l = home_lock();
    install_tree(&home());
    let lock = home().join("queue/lock");
    std::fs::write(lock.join("tcpto"), [7u8; 1024]).unwrap();
    std::fs::write(lock.join("tcpto6"), [7u8; 100]).unwrap();
    // cleared before the concurrency byte is sent
    let (mut c, _out) = start("/nonexistent/qmail-remote");
    assert_eq!(std::fs::read(lock.join("tcpto")).unwrap(), vec![0u8; 1024]);
    assert_eq!(std::fs::read(lock.join("tcpto6")).unwrap(), vec![0u8; 2048]);
    drop(c.stdin.take());
    assert_eq!(c.wait().unwrap().code(), Some(0));
}
