//! qmail-tcpok: both tables become all NUL bytes (tcpto 1024, tcpto6 2048), under the lock
//! qmail-remote takes; a missing tcpto6 stays missing; qmail's failure messages and exit 111.
//! Not tested here: a failing write (needs a full disk or fault injection); an unwritable
//! table when the tests run as root (root writes anyway).

use crate::common::{home, home_lock, install_tree, run, wait_for};
use crate::qmail_tcpto::{lock_file, now, rec4, rec6, table};
use std::time::Duration;

#[test]
fn clears_both_tables() {
    let _l = home_lock();
    install_tree(&home());
    let w = now() - 10;
    std::fs::write(
        lock_file("tcpto"),
        table(
            1024,
            &[
                (0, rec4([192, 0, 2, 1], 3, w)),
                (7, rec4([10, 0, 0, 1], 0, w)),
            ],
        ),
    )
    .unwrap();
    std::fs::write(
        lock_file("tcpto6"),
        table(2048, &[(63, rec6("2001:db8::1", 2, w))]),
    )
    .unwrap();
    run("qmail-tcpok").go().expect(0, "", "");
    assert_eq!(std::fs::read(lock_file("tcpto")).unwrap(), vec![0u8; 1024]);
    assert_eq!(std::fs::read(lock_file("tcpto6")).unwrap(), vec![0u8; 2048]);
    run("qmail-tcpto").go().expect(0, "", "");
    // as installed (tcpto6 empty), and a home from before tcpto6 (not created)
    install_tree(&home());
    run("qmail-tcpok").go().expect(0, "", "");
    assert_eq!(std::fs::read(lock_file("tcpto6")).unwrap(), vec![0u8; 2048]);
    std::fs::remove_file(lock_file("tcpto6")).unwrap();
    run("qmail-tcpok").go().expect(0, "", "");
    assert!(!lock_file("tcpto6").exists());
}

#[test]
fn waits_for_the_lock() {
    let _l = home_lock();
    install_tree(&home());
    let busy = table(1024, &[(0, rec4([192, 0, 2, 1], 3, now()))]);
    std::fs::write(lock_file("tcpto"), &busy).unwrap();
    let holder = std::fs::File::open(lock_file("tcpto")).unwrap();
    holder.lock().unwrap();
    let t = std::thread::spawn(|| run("qmail-tcpok").go());
    std::thread::sleep(Duration::from_millis(300));
    assert_eq!(
        std::fs::read(lock_file("tcpto")).unwrap(),
        busy,
        "cleared under the lock"
    );
    drop(holder);
    let o = t.join().unwrap();
    o.expect(0, "", "");
    assert!(wait_for(5, || std::fs::read(lock_file("tcpto")).unwrap()
        == vec![0u8; 1024]));
}

#[test]
fn failures() {
    let _l = home_lock();
    install_tree(&home());
    let h = home().display().to_string();
    run("qmail-tcpok")
        .arg("x")
        .go()
        .expect(100, "", "qmail-tcpok: usage: qmail-tcpok\n");
    std::fs::remove_file(lock_file("tcpto")).unwrap();
    run("qmail-tcpok").go().expect(
        111,
        "",
        &format!("qmail-tcpok: fatal: unable to write {h}/queue/lock/tcpto: file does not exist\n"),
    );
    assert!(!lock_file("tcpto").exists(), "not created");
    std::fs::remove_dir_all(home().join("queue/lock")).unwrap();
    run("qmail-tcpok").go().expect(
        111,
        "",
        &format!("qmail-tcpok: fatal: unable to chdir to {h}/queue/lock: file does not exist\n"),
    );
    install_tree(&home());
}
