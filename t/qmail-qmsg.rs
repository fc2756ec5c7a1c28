//! qmail-qmsg against a running private qmail holding its local deliveries: one message's
//! qmail-qread lines, an empty line, and its stored text byte for byte; `#id` accepted; an
//! id not in the queue; bad usage.
//! Not tested here: unreadable queue files (the queue's owner can read them all).

use crate::common::{home_lock, run};
use crate::qmail_qread::{inject, listing, preprocessed, qpath, setup};

#[test]
fn shows_envelope_and_text() {
    let _l = home_lock();
    let mut q = setup(&[("concurrencylocal", "0\n")]);
    inject(&["joe", "ann"], "Subject: shown\n\nthe text\n");
    let id = preprocessed(&q, 1)[0];
    let text = String::from_utf8(std::fs::read(qpath("mess", id)).unwrap()).unwrap();
    assert!(text.starts_with("Received: (qmail ") && text.ends_with("\n\nthe text\n"));
    let env = listing(
        id,
        "tester@test.example",
        "",
        &["\tlocal\tjoe@test.example", "\tlocal\tann@test.example"],
    );
    let want = format!("{env}\n{text}");
    run("qmail-qmsg")
        .arg(id.to_string())
        .go()
        .expect(0, &want, "");
    run("qmail-qmsg")
        .arg(format!("#{id}"))
        .go()
        .expect(0, &want, "");
    run("qmail-qmsg").arg("1").go().expect(
        100,
        "",
        "qmail-qmsg: fatal: no message 1 in the queue\n",
    );
    let usage = "qmail-qmsg: usage: qmail-qmsg id\n";
    run("qmail-qmsg").go().expect(100, "", usage);
    run("qmail-qmsg").arg("12x").go().expect(100, "", usage);
    run("qmail-qmsg")
        .args(["1", "2"])
        .go()
        .expect(100, "", usage);
    assert_eq!(q.stop(), Some(0));
}
