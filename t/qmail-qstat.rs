//! qmail-qstat against a running private qmail whose local deliveries are held
//! (concurrencylocal 0): messages in the queue, and those not yet preprocessed (injected
//! while qmail-send is stopped).
//! Not tested here: unreadable queue directories (the queue's owner can read them all).

use crate::common::{home_lock, run};
use crate::qmail_qread::{inject, preprocessed, setup};

fn qstat(queued: usize, todo: usize) {
    run("qmail-qstat").go().expect(
        0,
        &format!(
            "messages in queue: {queued}\nmessages in queue but not yet preprocessed: {todo}\n"
        ),
        "",
    );
}

#[test]
fn counts_queued_and_unprocessed_messages() {
    let _l = home_lock();
    let mut q = setup(&[("concurrencylocal", "0\n")]);
    qstat(0, 0);
    inject(&["joe"], "Subject: one\n\n1\n");
    inject(&["ann", "joe"], "Subject: two\n\n2\n");
    preprocessed(&q, 2);
    qstat(2, 0);
    assert_eq!(q.stop(), Some(0));
    inject(&["joe"], "Subject: three\n\n3\n");
    qstat(3, 1);
    let o = run("qmail-qstat").arg("-v").go();
    o.expect(100, "", "qmail-qstat: usage: qmail-qstat\n");
}
