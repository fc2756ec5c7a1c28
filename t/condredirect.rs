//! condredirect: the program's exit 0 redirects (DTLINE + the whole message, rewound, to the
//! new address with $SENDER as sender; `qp` line; exit 99); 111 and crashes → 111; other
//! codes and unrunnable programs → 0 with nothing queued; missing SENDER/DTLINE; qmail-queue
//! refusing permanently and temporarily; usage.  qmail-queue is a recording stand-in
//! ($QMAILQUEUE).
//! Not tested here: a fork failure (needs resource limits).

use crate::common::{fake_queue, home, home_lock, run, Cmd, Out, TmpDir};

const MSG: &[u8] = b"Subject: hi\n\nbuy viagra\n";
const DT: &str = "Delivered-To: joe@example.com\n";

fn condredirect(t: &TmpDir, q: &str, args: &[&str]) -> Cmd {
    let msg = t.write("msg", MSG);
    let mut c = run("condredirect")
        .args(args)
        .env("QMAILQUEUE", q)
        .env("SENDER", "bob@example.org")
        .env("NEWSENDER", "wrong@example.org")
        .env("DTLINE", DT);
    c.raw().stdin(std::fs::File::open(msg).unwrap());
    c
}

fn assert_qp(o: &Out, code: i32) {
    let err = o.stderr();
    let pid = err
        .strip_prefix("condredirect: qp ")
        .and_then(|s| s.strip_suffix('\n'))
        .unwrap_or_else(|| panic!("stderr {err:?}"));
    assert!(pid.parse::<u32>().is_ok(), "{err:?}");
    assert_eq!((o.code, o.out.as_slice()), (code, &b""[..]));
}

#[test]
fn redirects_when_the_program_succeeds() {
    let _l = home_lock();
    std::fs::create_dir_all(home()).unwrap();
    let t = TmpDir::new("condredirect-yes");
    let q = fake_queue(&t, 0);
    let o = condredirect(&t, &q, &["spam@example.net", "grep", "-q", "viagra"]).go();
    assert_qp(&o, 99);
    let mut want = DT.as_bytes().to_vec();
    want.extend_from_slice(MSG);
    assert_eq!(std::fs::read(t.join("q.msg")).unwrap(), want);
    assert_eq!(
        std::fs::read(t.join("q.env")).unwrap(),
        b"Fbob@example.org\0Tspam@example.net\0\0"
    );
}

#[test]
fn continues_when_the_program_fails() {
    let _l = home_lock();
    std::fs::create_dir_all(home()).unwrap();
    let t = TmpDir::new("condredirect-no");
    let q = fake_queue(&t, 0);
    let cases: [&[&str]; 4] = [
        &["x@y", "grep", "-q", "cialis"],
        &["x@y", "sh", "-c", "exit 100"],
        &["x@y", "/nonexistent/prog"],
        &["x@y", "no-such-program-anywhere"],
    ];
    for args in cases {
        condredirect(&t, &q, args).go().expect(0, "", "");
        assert!(!t.join("q.msg").exists(), "{args:?} queued");
    }
    condredirect(&t, &q, &["x@y", "sh", "-c", "exit 111"])
        .go()
        .expect(111, "", "condredirect: fatal: temporary child error\n");
    condredirect(&t, &q, &["x@y", "sh", "-c", "kill -9 $$"])
        .go()
        .expect(111, "", "condredirect: fatal: child crashed\n");
    assert!(!t.join("q.msg").exists());
}

#[test]
fn environment_and_queue_failures() {
    let _l = home_lock();
    std::fs::create_dir_all(home()).unwrap();
    let t = TmpDir::new("condredirect-env");
    let q = fake_queue(&t, 0);
    for var in ["SENDER", "DTLINE"] {
        let mut c = condredirect(&t, &q, &["x@y", "true"]);
        c.raw().env_remove(var);
        c.go()
            .expect(100, "", &format!("condredirect: fatal: {var} not set\n"));
    }
    let q = fake_queue(&t, 31);
    condredirect(&t, &q, &["x@y", "true"]).go().expect(
        100,
        "",
        "condredirect: fatal: mail server permanently rejected message (#5.3.0)\n",
    );
    let q = fake_queue(&t, 53);
    condredirect(&t, &q, &["x@y", "true"]).go().expect(
        111,
        "",
        "condredirect: fatal: qq write error or disk full (#4.3.0)\n",
    );
}

#[test]
fn usage() {
    let usage = "condredirect: usage: condredirect newaddress program [ arg ... ]\n";
    run("condredirect").go().expect(100, "", usage);
    run("condredirect").arg("x@y").go().expect(100, "", usage);
}
