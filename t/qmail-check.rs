//! qmail-check on a tree built from package/hier as package/upgrade builds one (with small
//! files standing in for the programs: it checks their place, owner and mode, not their
//! contents): no problems; then ten things broken at once, each reported with its fix.
//! Not tested here: missing accounts and a uid 0 account (the test build's accounts are all
//! the test user); other owners (the tree belongs to the test user, as every role does).

use crate::common::{home, home_lock, install_tree, run};
use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::time::{Duration, SystemTime};

fn chmod(p: &std::path::Path, mode: u32) {
    fs::set_permissions(p, fs::Permissions::from_mode(mode)).expect("chmod");
}

/// A complete tree at the compiled-in home.
fn tree() {
    install_tree(&home());
    let bin = home().join("bin");
    fs::remove_file(&bin).expect("bin link");
    fs::create_dir(&bin).expect("bin");
    chmod(&bin, 0o755);
    for e in qlib::check::hier(include_str!("../package/hier")) {
        if e.kind == b'c' {
            let p = home().join(&e.path);
            fs::write(&p, "#!/bin/sh\n").expect("program");
            chmod(&p, e.mode);
        }
    }
    for (f, v) in [("me", "test.example\n"), ("rcpthosts", "test.example\n")] {
        fs::write(home().join("control").join(f), v).expect("control");
    }
}

#[test]
fn a_sound_tree_then_ten_problems() {
    let _l = home_lock();
    tree();
    run("qmail-check")
        .go()
        .expect(0, "qmail-check: no problems\n", "");
    let h = home();
    let q = h.join("queue");
    let split = qlib::conf::split();
    fs::create_dir(q.join(format!("mess/{split}"))).unwrap();
    fs::remove_dir(q.join("info/0")).unwrap();
    chmod(&q.join("lock/trigger"), 0o600);
    chmod(&h.join("bin/qmail-queue"), 0o711);
    fs::remove_file(h.join("control/rcpthosts")).unwrap();
    fs::write(h.join("control/concurrencyremote"), "lots\n").unwrap();
    fs::write(
        h.join("control/smtproutes"),
        "ok.test:relay.test\nbad.test:[oops\n",
    )
    .unwrap();
    fs::write(h.join("control/tcp.smtp"), "127.:allow,RELAYCLIENT=\"\"\n").unwrap();
    fs::write(h.join("users/assign"), ".\n").unwrap();
    // a todo entry without its message, old enough to judge, and a fresh one that is not
    let old = fs::File::create(q.join("todo/123")).unwrap();
    old.set_modified(SystemTime::now() - Duration::from_secs(3600))
        .unwrap();
    fs::write(q.join("todo/124"), "").unwrap();
    let o = run("qmail-check").go();
    let hd = h.display();
    let problems = [
        (format!("{hd}/queue/mess/{split} is beyond conf/split ({split})"), "the queue was made with another conf/split: rebuild with that one".to_string()),
        (format!("{hd}/queue/info/0 is missing"), "run package/upgrade".into()),
        (format!("{hd}/queue/lock/trigger has mode 0600, not 0622"), format!("chmod 0622 {hd}/queue/lock/trigger")),
        (format!("{hd}/bin/qmail-queue has mode 0711, not 4711"), format!("chmod 4711 {hd}/bin/qmail-queue")),
        ("control/rcpthosts is missing: qmail-smtpd takes mail for any domain".into(), "list the domains this host takes mail for, one per line".into()),
        ("control/concurrencyremote (remote deliveries at once) is not a number: \"lots\"".into(), "write one decimal number into it, or remove it for the default".into()),
        ("control/smtproutes line \"bad.test:[oops\" does not parse".into(), "write domain:relay[:port], the relay a name, an IPv4 address or [an IPv6 one]".into()),
        (format!("{hd}/control/tcp.smtp.cdb is older than {hd}/control/tcp.smtp, or missing"), format!("tcprules {hd}/control/tcp.smtp.cdb {hd}/control/tcp.smtp.cdb.tmp < {hd}/control/tcp.smtp")),
        (format!("{hd}/users/cdb is older than {hd}/users/assign, or missing"), "run qmail-newu".into()),
        ("queue/todo/123 has no message in queue/mess".into(), "stop qmail-send, remove that file, start qmail-send".into()),
    ];
    let mut want = String::new();
    for (what, fix) in &problems {
        want += &format!("problem: {what}\n   fix: {fix}\n");
    }
    want += &format!("qmail-check: {} problems\n", problems.len());
    o.expect(111, &want, "");
    run("qmail-check")
        .arg("x")
        .go()
        .expect(100, "", "qmail-check: usage: qmail-check\n");
    install_tree(&h);
}
