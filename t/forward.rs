//! forward: DTLINE + standard input (from where it stands) to every argument, NEWSENDER as
//! the sender, `qp` line, exit 0; no arguments at all; missing NEWSENDER/DTLINE; qmail-queue
//! refusing permanently and temporarily.  qmail-queue is a recording stand-in ($QMAILQUEUE).
//! Not tested here: a fork failure (needs resource limits).

use crate::common::{fake_queue, home, home_lock, run, Cmd, TmpDir};

const MSG: &str = "Subject: hi\n\nhello\n";
const DT: &str = "Delivered-To: joe@example.com\n";

fn forward(q: &str, args: &[&str]) -> Cmd {
    run("forward")
        .args(args)
        .env("QMAILQUEUE", q)
        .env("SENDER", "wrong@example.org")
        .env("NEWSENDER", "joe-owner@example.com")
        .env("DTLINE", DT)
        .stdin(MSG)
}

fn qp_ok(err: &str) -> bool {
    err.strip_prefix("forward: qp ")
        .and_then(|s| s.strip_suffix('\n'))
        .is_some_and(|p| p.parse::<u32>().is_ok())
}

#[test]
fn forwards_to_every_argument() {
    let _l = home_lock();
    std::fs::create_dir_all(home()).unwrap();
    let t = TmpDir::new("forward");
    let q = fake_queue(&t, 0);
    let o = forward(&q, &["a@example.net", "b@example.org"]).go();
    assert_eq!((o.code, o.stdout()), (0, String::new()));
    assert!(qp_ok(&o.stderr()), "{:?}", o.stderr());
    assert_eq!(
        std::fs::read_to_string(t.join("q.msg")).unwrap(),
        format!("{DT}{MSG}")
    );
    assert_eq!(
        std::fs::read(t.join("q.env")).unwrap(),
        b"Fjoe-owner@example.com\0Ta@example.net\0Tb@example.org\0\0"
    );
    let o = forward(&q, &[]).go();
    assert!(o.code == 0 && qp_ok(&o.stderr()), "{o:?}");
    assert_eq!(
        std::fs::read(t.join("q.env")).unwrap(),
        b"Fjoe-owner@example.com\0\0"
    );
}

#[test]
fn reads_stdin_from_its_current_position() {
    let _l = home_lock();
    std::fs::create_dir_all(home()).unwrap();
    let t = TmpDir::new("forward-pos");
    let q = fake_queue(&t, 0);
    let msg = t.write("msg", b"line one\nline two\n");
    let script = "read x; exec forward c@d";
    let mut c = run("sh")
        .args(["-c", script])
        .env("QMAILQUEUE", &q)
        .env("NEWSENDER", "s@t")
        .env("DTLINE", DT);
    c.raw().stdin(std::fs::File::open(msg).unwrap());
    let o = c.go();
    assert_eq!(o.code, 0, "{o:?}");
    assert_eq!(
        std::fs::read_to_string(t.join("q.msg")).unwrap(),
        format!("{DT}line two\n")
    );
}

#[test]
fn environment_and_queue_failures() {
    let _l = home_lock();
    std::fs::create_dir_all(home()).unwrap();
    let t = TmpDir::new("forward-fail");
    let q = fake_queue(&t, 0);
    for var in ["NEWSENDER", "DTLINE"] {
        let mut c = forward(&q, &["a@b"]);
        c.raw().env_remove(var);
        c.go()
            .expect(100, "", &format!("forward: fatal: {var} not set\n"));
    }
    forward(&fake_queue(&t, 31), &["a@b"]).go().expect(
        100,
        "",
        "forward: fatal: mail server permanently rejected message (#5.3.0)\n",
    );
    forward(&fake_queue(&t, 53), &["a@b"]).go().expect(
        111,
        "",
        "forward: fatal: qq write error or disk full (#4.3.0)\n",
    );
}
