//! qmail-qdel against a running private qmail, while qmail-send runs and delivers: deleting
//! by id and by sender pattern (logged, files gone, qmail-qread agreeing, no bounce),
//! expiring by recipient pattern (the bounce arrives), a delete asked for during a delivery
//! of that very message (carried out after the delivery ends); ids not in the queue; no
//! qmail-send running (a clear message, the request withdrawn); bad usage.
//! Not tested here: a request qmail-send took but could not answer in time (it would need
//! a delivery slower than the timeout, and the test would only wait longer).

use crate::common::{assign_users, home, home_lock, install_tree, ls, maildir_messages, run};
use crate::common::{wait_for, Instance, TmpDir};
use crate::qmail_qread::{inject, listing, preprocessed, qpath, qread, setup};

/// Waits until message `id` is a queued message (deferred once, written out).
fn deferred(q: &Instance, id: u64) {
    assert!(
        wait_for(20, || qpath("info", id).exists()
            && qpath("local", id).exists()
            && q.log_text().contains(&format!("msg {id} to local"))),
        "{}",
        q.log_text()
    );
}

#[test]
fn deletes_and_expires_while_qmail_send_runs() {
    let _l = home_lock();
    let t = TmpDir::new("qdel");
    let mut q = setup(&[]);
    let joe = &assign_users(&t.0, &["joe"])[0];
    std::fs::write(joe.join(".qmail-flaky"), "|exit 111\n").unwrap();
    std::fs::write(joe.join(".qmail-slow"), "|sleep 2; exit 111\n").unwrap();
    inject(&["joe-flaky"], "Subject: a\n\na\n");
    inject(
        &["-f", "spam@Spam.example", "joe-flaky"],
        "Subject: b\n\nb\n",
    );
    inject(
        &["-f", "joe@test.example", "joe-flaky"],
        "Subject: c\n\nc\n",
    );
    let ids = preprocessed(&q, 3);
    let (a, b, c) = (ids[0], ids[1], ids[2]);
    for id in [a, b, c] {
        deferred(&q, id);
    }
    let flaky = ["\tlocal\tjoe-flaky@test.example"];

    run("qmail-qdel")
        .arg("999999999")
        .go()
        .expect(100, "msg 999999999: not in the queue\n", "");
    run("qmail-qdel")
        .args([a.to_string(), format!("#{a}")])
        .go()
        .expect(0, &format!("msg {a}: deleted\n"), "");
    let log = q.log_text();
    assert!(
        log.contains(&format!("\ndelete msg {a}: by request\nend msg {a}\n")),
        "{log}"
    );
    for dir in ["info", "local", "mess"] {
        assert!(!qpath(dir, a).exists(), "{dir}");
    }
    let mut rest = [(b, "spam@Spam.example"), (c, "joe@test.example")];
    rest.sort();
    let both: String = rest
        .iter()
        .map(|(id, s)| listing(*id, s, "", &flaky))
        .collect();
    assert_eq!(qread(), both);

    run("qmail-qdel")
        .args(["-s", "*@SPAM.EXAMPLE", &format!("#{a}")])
        .go()
        .expect(
            100,
            &format!("msg {a}: not in the queue\nmsg {b}: deleted\n"),
            "",
        );
    assert_eq!(qread(), listing(c, "joe@test.example", "", &flaky));

    run("qmail-qdel")
        .args(["-e", "-r", "JOE-FLAKY@*"])
        .go()
        .expect(0, &format!("msg {c}: expired\n"), "");
    let md = joe.join("Maildir");
    assert!(
        wait_for(20, || ls(md.join("new")).len() == 1),
        "{}",
        q.log_text()
    );
    let bounce = String::from_utf8(maildir_messages(&md).remove(0)).unwrap();
    assert!(bounce.starts_with("Return-Path: <>\n"), "{bounce}");
    assert!(
        bounce.contains(
            "<joe-flaky@test.example>:\nGiving up: the message was expired from the queue on request.\n"
        ),
        "{bounce}"
    );
    assert!(
        bounce.contains("\nSubject: c\n"),
        "the original follows: {bounce}"
    );
    let log = q.log_text();
    assert!(
        log.contains(&format!("\nexpire msg {c}: by request\nbounce msg {c} qp ")),
        "{log}"
    );
    assert!(log.contains(&format!("\nend msg {c}\n")), "{log}");
    assert!(wait_for(20, || qread().is_empty()), "{}", qread());
    assert_eq!(ls(home().join("queue/req")), Vec::<String>::new());

    // asked while a delivery of the message is running: done once it has ended
    inject(&["joe-slow"], "Subject: d\n\nd\n");
    let d = *preprocessed(&q, 5).last().unwrap();
    let start = format!(": msg {d} to local joe-slow@test.example");
    assert!(
        wait_for(20, || q.log_text().contains(&start)),
        "{}",
        q.log_text()
    );
    run("qmail-qdel")
        .arg(d.to_string())
        .go()
        .expect(0, &format!("msg {d}: deleted\n"), "");
    let log = q.log_text();
    let delid = log
        .lines()
        .find(|l| l.ends_with(&start))
        .and_then(|l| l.strip_prefix("starting delivery "))
        .and_then(|l| l.split(':').next())
        .unwrap()
        .to_string();
    // Message ids are inode numbers: d may be the id of a message deleted above, so both
    // lines are looked for after this delivery's start.
    let from = log.find(&start).expect("start");
    let ended = log[from..]
        .find(&format!("delivery {delid}: deferral"))
        .expect("deferral");
    let deleted = log[from..]
        .find(&format!("delete msg {d}: by request"))
        .expect("delete");
    assert!(ended < deleted, "{log}");
    assert_eq!(qread(), "");
    assert_eq!(q.stop(), Some(0));
}

#[test]
fn without_qmail_send_and_bad_usage() {
    let _l = home_lock();
    install_tree(&home());
    run("qmail-qdel").args(["-t", "1", "123"]).go().expect(
        111,
        "",
        "qmail-qdel: fatal: no answer from qmail-send in 1 seconds; is qmail-send running? \
         (request withdrawn, nothing done)\n",
    );
    assert_eq!(ls(home().join("queue/req")), Vec::<String>::new());
    let usage = "qmail-qdel: usage: qmail-qdel [ -e ] [ -t seconds ] [ -s pattern ] [ -r pattern ] [ id ... ]\n";
    for args in [&[][..], &["-e"], &["x1"], &["-t", "soon", "1"]] {
        run("qmail-qdel").args(args).go().expect(100, "", usage);
    }
    let bad = format!("qmail-qdel: illegal option -- x\n{usage}");
    run("qmail-qdel")
        .args(["-x", "1"])
        .go()
        .expect(100, "", &bad);
}
