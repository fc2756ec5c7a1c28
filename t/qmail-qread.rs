//! qmail-qread against a running private qmail: its listing equals what is really in the
//! queue (ids, dates and sizes from the queue's own files; senders, channels, done marks,
//! `bouncing`), with local deliveries held by concurrencylocal 0 and remote ones deferred
//! by a route to a closed port; and after deliveries, done marks and a waiting bounce. Also
//! the helpers the other queue tools' tests share.
//! Not tested here: the `warning: trouble with` line (needs a queue file that exists but
//! cannot be read, which the owner of the queue can always read); ` held` (t/qmail-qhold.rs).

use crate::common::{home, home_lock, install_tree, ls, run, wait_for, Instance};
use std::os::unix::fs::MetadataExt;
use std::path::PathBuf;

/// A fresh tree (me = test.example, local; the given controls) and qmail-start on it.
pub fn setup(controls: &[(&str, &str)]) -> Instance {
    install_tree(&home());
    let c = home().join("control");
    std::fs::write(c.join("me"), "test.example\n").unwrap();
    std::fs::write(c.join("locals"), "test.example\nlocalhost\n").unwrap();
    for (name, text) in controls {
        std::fs::write(c.join(name), text).unwrap();
    }
    Instance::start("./Maildir/")
}

/// A route for every remote domain to a loopback port where nothing listens: a deferral.
pub fn closed_route() -> String {
    let free = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    format!(":127.0.0.1:{}\n", free.local_addr().unwrap().port())
}

/// sendmail with `args`, USER=tester.
pub fn inject(args: &[&str], msg: &str) {
    let o = run("sendmail")
        .args(args)
        .stdin(msg)
        .env("USER", "tester")
        .go();
    assert_eq!(o.code, 0, "sendmail: {}", o.stderr());
}

/// The ids of `new msg` lines, in log order.
pub fn new_ids(q: &Instance) -> Vec<u64> {
    q.log_text()
        .lines()
        .filter_map(|l| l.strip_prefix("new msg ")?.parse().ok())
        .collect()
}

/// Waits until `n` messages were taken in and todo/ is empty; their ids.
pub fn preprocessed(q: &Instance, n: usize) -> Vec<u64> {
    let todo = home().join("queue/todo");
    assert!(
        wait_for(20, || new_ids(q).len() >= n && ls(&todo).is_empty()),
        "log:\n{}",
        q.log_text()
    );
    new_ids(q)
}

/// `queue/dir/S/id` (or `queue/dir/id`).
pub fn qpath(dir: &str, id: u64) -> PathBuf {
    home().join("queue").join(qlib::queue::path(dir, id))
}

/// qmail-qread's output (it must succeed silently on stderr).
pub fn qread() -> String {
    let o = run("qmail-qread").go();
    assert_eq!((o.code, o.stderr()), (0, String::new()));
    o.stdout()
}

/// The listing qmail-qread must print for `id`: date and size from the queue's files, the
/// rest as given (`flags` e.g. " bouncing", `recips` whole lines).
pub fn listing(id: u64, sender: &str, flags: &str, recips: &[&str]) -> String {
    let info = std::fs::metadata(qpath("info", id)).expect("info");
    let size = std::fs::metadata(qpath("mess", id)).expect("mess").len();
    let date = qlib::date::rfc822(info.mtime());
    let date = date.strip_suffix(" -0000").unwrap();
    let mut s = format!("{date} GMT  #{id}  {size}  <{sender}> {flags}\n");
    for r in recips {
        s.push_str(r);
        s.push('\n');
    }
    s
}

#[test]
fn lists_what_is_queued() {
    let _l = home_lock();
    let route = closed_route();
    let mut q = setup(&[("concurrencylocal", "0\n"), ("smtproutes", &route)]);
    assert_eq!(qread(), "", "empty queue");
    inject(&["joe", "ann@elsewhere.example"], "Subject: one\n\n1\n");
    inject(
        &["-f", "bob@x.example", "joe", "ann"],
        "Subject: two\n\n2\n",
    );
    let ids = preprocessed(&q, 2);
    assert!(
        wait_for(20, || q.log_text().contains(": deferral: ")),
        "{}",
        q.log_text()
    );
    let mut want = vec![
        (
            ids[0],
            listing(
                ids[0],
                "tester@test.example",
                "",
                &[
                    "\tlocal\tjoe@test.example",
                    "\tremote\tann@elsewhere.example",
                ],
            ),
        ),
        (
            ids[1],
            listing(
                ids[1],
                "bob@x.example",
                "",
                &["\tlocal\tjoe@test.example", "\tlocal\tann@test.example"],
            ),
        ),
    ];
    want.sort();
    let want: String = want.into_iter().map(|(_, s)| s).collect();
    assert_eq!(qread(), want, "in id order");
    assert_eq!(q.stop(), Some(0));
    // qmail-send's shutdown changes the channel files' mtimes only: the same listing
    assert_eq!(qread(), want);
    let o = run("qmail-qread").arg("x").go();
    o.expect(100, "", "qmail-qread: usage: qmail-qread\n");
}

#[test]
fn done_marks_and_a_waiting_bounce() {
    let _l = home_lock();
    let t = crate::common::TmpDir::new("qread");
    let mut q = setup(&[]);
    let joe = &crate::common::assign_users(&t.0, &["joe"])[0];
    std::fs::write(joe.join(".qmail-flaky"), "|exit 111\n").unwrap();
    std::fs::write(joe.join(".qmail-fail"), "|echo no such thing; exit 100\n").unwrap();
    inject(
        &["-f", "joe@test.example", "joe", "joe-flaky", "joe-fail"],
        "Subject: three\n\n3\n",
    );
    let id = preprocessed(&q, 1)[0];
    assert!(
        wait_for(20, || qpath("info", id).exists()
            && qpath("bounce", id).exists()),
        "{}",
        q.log_text()
    );
    assert_eq!(
        qread(),
        listing(
            id,
            "joe@test.example",
            " bouncing",
            &[
                "  done\tlocal\tjoe@test.example",
                "\tlocal\tjoe-flaky@test.example",
                "  done\tlocal\tjoe-fail@test.example"
            ]
        )
    );
    assert_eq!(q.stop(), Some(0));
}
