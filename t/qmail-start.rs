//! qmail-start and the whole local chain as an operator runs it: sendmail → qmail-inject →
//! qmail-queue → qmail-send → qmail-lspawn → qmail-local → Maildir, mbox, program, forward;
//! bounces and double bounces back through the queue; remote recipients deferred, not lost.
//! Not tested here: the uid of each daemon (needs root: t/install.rs); the logger child.

use crate::common::{
    assign_users, home, home_lock, maildir_messages, run, wait_for, Instance, TmpDir,
};

fn inject(args: &[&str], msg: &str) {
    let o = run("sendmail")
        .args(args)
        .stdin(msg)
        .env("USER", "tester")
        .go();
    assert_eq!(o.code, 0, "sendmail: {}", o.stderr());
}

fn count(dir: &std::path::Path, n: usize) -> bool {
    wait_for(20, || crate::common::ls(dir.join("new")).len() >= n)
}

#[test]
fn delivers_to_maildir_mbox_program_and_forward() {
    let _l = home_lock();
    let t = TmpDir::new("chain1");
    let mut q = Instance::fresh("./Maildir/");
    let h = &assign_users(&t.0, &["joe", "ann"]);
    let (joe, ann) = (&h[0], &h[1]);
    std::fs::write(joe.join(".qmail-mbox"), "./mbox\n").unwrap();
    std::fs::write(
        joe.join(".qmail-prog"),
        "|cat > prog.out; echo \"$SENDER $RECIPIENT\" >> prog.out\n",
    )
    .unwrap();
    std::fs::write(joe.join(".qmail-fwd"), "&ann\n# a comment\n").unwrap();

    inject(&["joe"], "Subject: one\n\nto the Maildir\n");
    assert!(count(&joe.join("Maildir"), 1), "log:\n{}", q.log_text());
    let m = String::from_utf8(maildir_messages(&joe.join("Maildir")).remove(0)).unwrap();
    assert!(
        m.starts_with(
            "Return-Path: <tester@test.example>\nDelivered-To: joe@test.example\nReceived: (qmail "
        ),
        "{m}"
    );
    assert!(
        m.contains("\nSubject: one\n") && m.ends_with("\n\nto the Maildir\n"),
        "{m}"
    );

    inject(&["joe-mbox"], "Subject: two\n\nFrom the mbox\n");
    assert!(
        wait_for(20, || std::fs::read(joe.join("mbox"))
            .is_ok_and(|b| b.ends_with(b"\n>From the mbox\n\n"))),
        "log:\n{}",
        q.log_text()
    );
    let mbox = std::fs::read_to_string(joe.join("mbox")).unwrap();
    assert!(mbox.starts_with("From tester@test.example "), "{mbox}");

    inject(&["joe-prog"], "Subject: three\n\nto a program\n");
    assert!(wait_for(20, || std::fs::read_to_string(
        joe.join("prog.out")
    )
    .is_ok_and(
        |s| s.ends_with("tester@test.example joe-prog@test.example\n")
    )));
    let out = std::fs::read_to_string(joe.join("prog.out")).unwrap();
    assert!(
        out.contains("Subject: three\n\nto a program\n") && !out.contains("Delivered-To: joe-prog"),
        "{out}"
    );

    inject(&["joe-fwd"], "Subject: four\n\nforwarded\n");
    assert!(count(&ann.join("Maildir"), 1), "log:\n{}", q.log_text());
    let m = String::from_utf8(maildir_messages(&ann.join("Maildir")).remove(0)).unwrap();
    assert!(
        m.starts_with("Return-Path: <tester@test.example>\nDelivered-To: ann@test.example\n"),
        "{m}"
    );
    assert!(
        m.contains("Delivered-To: joe-fwd@test.example\n") && m.ends_with("\n\nforwarded\n"),
        "{m}"
    );

    assert_eq!(q.stop(), Some(0));
    let log = q.log_text();
    assert!(log.contains("\nstatus: exiting\n"), "{log}");
    assert_eq!(log.matches("\nend msg ").count(), 5, "{log}");
}

#[test]
fn permanent_failure_bounces_to_sender_and_bounce_failure_goes_to_postmaster() {
    let _l = home_lock();
    let t = TmpDir::new("chain2");
    let mut q = Instance::fresh("./Maildir/");
    let h = assign_users(&t.0, &["joe", "postmaster"]);
    let (joe, pm) = (&h[0], &h[1]);
    std::fs::write(joe.join(".qmail-sender"), "./Maildir/\n").unwrap();
    std::fs::write(
        joe.join(".qmail-bad"),
        "|echo This address no longer accepts mail.; exit 100\n",
    )
    .unwrap();

    // joe-bad fails; the bounce goes to the sender, joe-sender, which is joe's Maildir.
    inject(
        &["-f", "joe-sender@test.example", "joe-bad"],
        "Subject: doomed\n\nbody\n",
    );
    assert!(count(&joe.join("Maildir"), 1), "log:\n{}", q.log_text());
    let b = String::from_utf8(maildir_messages(&joe.join("Maildir")).remove(0)).unwrap();
    assert!(
        b.starts_with("Return-Path: <>\nDelivered-To: joe-sender@test.example\n"),
        "{b}"
    );
    assert!(
        b.contains(
            "\nSubject: failure notice\n\nHi. This is the qmail-send program at test.example.\n"
        ),
        "{b}"
    );
    assert!(
        b.contains("\n<joe-bad@test.example>:\nThis address no longer accepts mail.\n"),
        "{b}"
    );
    assert!(b.contains("\nSubject: doomed\n\nbody\n"), "{b}");

    // A bounce (empty sender) that fails becomes a double bounce to postmaster.
    inject(&["-f", "", "joe-bad"], "Subject: bounce\n\nbody\n");
    assert!(count(&pm.join("Maildir"), 1), "log:\n{}", q.log_text());
    let d = String::from_utf8(maildir_messages(&pm.join("Maildir")).remove(0)).unwrap();
    assert!(
        d.starts_with("Return-Path: <#@[]>\nDelivered-To: postmaster@test.example\n"),
        "{d}"
    );
    assert!(d.contains("<joe-bad@test.example>:\n"), "{d}");

    // A double bounce that fails is dropped.
    std::fs::write(pm.join(".qmail"), "|exit 100\n").unwrap();
    inject(&["-f", "", "joe-bad"], "Subject: bounce 2\n\nbody\n");
    assert!(
        wait_for(20, || q
            .log_text()
            .contains("triple bounce: discarding bounce/")),
        "log:\n{}",
        q.log_text()
    );
    assert_eq!(q.stop(), Some(0));
}

#[test]
fn remote_recipients_are_deferred_never_lost() {
    let _l = home_lock();
    let _t = TmpDir::new("chain3");
    let mut q = Instance::fresh("./Maildir/");
    // Routed to a loopback port where nothing listens, so the answer does not depend on
    // this machine's DNS (NXDOMAIN would bounce): the connection is refused, a deferral.
    let free = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let route = format!(":127.0.0.1:{}\n", free.local_addr().unwrap().port());
    drop(free);
    std::fs::write(home().join("control/smtproutes"), route).unwrap();
    inject(&["someone@elsewhere.example"], "Subject: away\n\nbody\n");
    assert!(
        wait_for(20, || q.log_text().contains(": deferral: ")),
        "log:\n{}",
        q.log_text()
    );
    assert_eq!(q.stop(), Some(0));
    let log = q.log_text();
    assert!(
        log.contains("to remote someone@elsewhere.example\n"),
        "{log}"
    );
    assert!(!log.contains("end msg"), "{log}");
    let remote: Vec<String> = crate::common::ls(home().join("queue/remote"))
        .iter()
        .flat_map(|d| crate::common::ls(home().join("queue/remote").join(d)))
        .collect();
    assert_eq!(
        remote.len(),
        1,
        "the message stays queued for remote delivery"
    );
}

#[test]
fn usage_of_a_missing_daemon_is_a_clear_failure() {
    let _l = home_lock();
    crate::common::install_tree(&home());
    let o = run("qmail-start").env("PATH", "/nonexistent").go();
    assert_eq!(o.code, 111, "{}", o.stderr());
    assert_eq!(
        o.stderr(),
        "qmail-start: fatal: unable to start qmail-lspawn: file does not exist\n"
    );
}
