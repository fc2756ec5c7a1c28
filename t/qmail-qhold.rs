//! qmail-qhold against a running private qmail: a held message gets no delivery attempt
//! (not even after SIGALRM), stays held across a qmail-send restart, qmail-qread shows it
//! ` held`, and it is delivered once released; holding twice, releasing what is not held,
//! ids not in the queue; no qmail-send running; bad usage.
//! Not tested here: holds chosen by pattern (the same choosing as qmail-qdel's, tested
//! there and in lib/src/queuectl.rs).

use crate::common::{assign_users, home, home_lock, install_tree, ls, run, wait_for, TmpDir};
use crate::qmail_qread::{inject, listing, preprocessed, qpath, qread, setup};

fn alarm(q: &crate::common::Instance) {
    let pid = q.send.as_ref().unwrap().id();
    let s = std::process::Command::new("kill")
        .args(["-ALRM", &pid.to_string()])
        .status()
        .unwrap();
    assert!(s.success());
}

#[test]
fn held_until_released_across_a_restart() {
    let _l = home_lock();
    let t = TmpDir::new("qhold");
    let mut q = setup(&[]);
    let joe = &assign_users(&t.0, &["joe"])[0];
    std::fs::write(
        joe.join(".qmail-flaky"),
        "|test -f ok || exit 111\n./Maildir/\n",
    )
    .unwrap();
    inject(
        &["-f", "joe@test.example", "joe-flaky"],
        "Subject: held\n\nh\n",
    );
    let id = preprocessed(&q, 1)[0];
    let attempt = format!(": msg {id} to local joe-flaky@test.example");
    let attempts = |q: &crate::common::Instance| q.log_text().matches(&attempt).count();
    assert!(
        wait_for(20, || qpath("local", id).exists() && attempts(&q) == 1),
        "{}",
        q.log_text()
    );
    run("qmail-qhold")
        .arg(id.to_string())
        .go()
        .expect(0, &format!("msg {id}: held\n"), "");
    assert!(q.log_text().contains(&format!("\nhold msg {id}\n")));
    assert!(home().join(format!("queue/hold/{id}")).exists());
    let recip = ["\tlocal\tjoe-flaky@test.example"];
    assert_eq!(qread(), listing(id, "joe@test.example", " held", &recip));
    run("qmail-qhold")
        .arg(id.to_string())
        .go()
        .expect(0, &format!("msg {id}: already held\n"), "");

    std::fs::write(joe.join("ok"), "").unwrap();
    alarm(&q);
    std::thread::sleep(std::time::Duration::from_millis(1500));
    assert_eq!(attempts(&q), 1, "no attempt while held: {}", q.log_text());
    assert_eq!(q.stop(), Some(0));
    let q2 = crate::common::Instance::start("./Maildir/");
    alarm(&q2);
    std::thread::sleep(std::time::Duration::from_millis(1500));
    assert_eq!(
        attempts(&q2),
        1,
        "still held after a restart: {}",
        q2.log_text()
    );
    assert!(ls(joe.join("Maildir/new")).is_empty());
    assert_eq!(qread(), listing(id, "joe@test.example", " held", &recip));

    run("qmail-qhold")
        .args(["-u", &id.to_string(), "4242"])
        .go()
        .expect(
            100,
            &format!("msg 4242: not in the queue\nmsg {id}: released\n"),
            "",
        );
    assert!(q2.log_text().contains(&format!("\nrelease msg {id}\n")));
    assert!(
        wait_for(20, || ls(joe.join("Maildir/new")).len() == 1),
        "delivered once released: {}",
        q2.log_text()
    );
    assert!(wait_for(20, || qread().is_empty()), "{}", qread());
    assert!(ls(home().join("queue/hold")).is_empty());
    run("qmail-qhold")
        .args(["-u", &id.to_string()])
        .go()
        .expect(100, &format!("msg {id}: not in the queue\n"), "");
    let mut q2 = q2;
    assert_eq!(q2.stop(), Some(0));
}

#[test]
fn release_of_a_message_not_held_and_usage() {
    let _l = home_lock();
    let mut q = setup(&[("concurrencylocal", "0\n")]);
    inject(&["joe"], "Subject: x\n\nx\n");
    let id = preprocessed(&q, 1)[0];
    run("qmail-qhold")
        .args(["-u", &id.to_string()])
        .go()
        .expect(0, &format!("msg {id}: not held\n"), "");
    assert_eq!(q.stop(), Some(0));
    install_tree(&home());
    run("qmail-qhold").args(["-t", "0", "1"]).go().expect(
        111,
        "",
        "qmail-qhold: fatal: no answer from qmail-send in 0 seconds; is qmail-send running? \
         (request withdrawn, nothing done)\n",
    );
    let usage = "qmail-qhold: usage: qmail-qhold [ -u ] [ -t seconds ] [ -s pattern ] [ -r pattern ] [ id ... ]\n";
    for args in [&[][..], &["-u"], &["1", "x"]] {
        run("qmail-qhold").args(args).go().expect(100, "", usage);
    }
    let bad = format!("qmail-qhold: illegal option -- e\n{usage}");
    run("qmail-qhold")
        .args(["-e", "1"])
        .go()
        .expect(100, "", &bad);
}
