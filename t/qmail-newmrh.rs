//! qmail-newmrh: control/morercpthosts compiled into morercpthosts.cdb (lower-cased, blanks
//! and comments dropped, written through morercpthosts.tmp), which qmail-smtpd then obeys;
//! a missing morercpthosts; bad usage.
//! Not tested here: a failing write or rename (needs a full disk or a read-only control/).

use crate::common::{home, home_lock, install_tree, run};

#[test]
fn compiles_morercpthosts_for_qmail_smtpd() {
    let _l = home_lock();
    install_tree(&home());
    let c = home().join("control");
    std::fs::write(c.join("me"), "mx.example\n").unwrap();
    std::fs::write(c.join("rcpthosts"), "test.example\n").unwrap();
    run("qmail-newmrh").go().expect(
        111,
        "",
        "qmail-newmrh: fatal: unable to read control/morercpthosts: file does not exist\n",
    );
    assert!(!c.join("morercpthosts.cdb").exists());
    std::fs::write(
        c.join("morercpthosts"),
        "More.Example  \n# comment\n\n.Sub.Example\t\nlast.example",
    )
    .unwrap();
    run("qmail-newmrh").go().expect(0, "", "");
    assert!(!c.join("morercpthosts.tmp").exists());
    let cdb = qlib::cdb::Cdb::open(c.join("morercpthosts.cdb")).unwrap();
    let keys: Vec<Vec<u8>> = cdb.iter().map(|r| r.unwrap().0).collect();
    assert_eq!(
        keys,
        vec![
            b"more.example".to_vec(),
            b".sub.example".to_vec(),
            b"last.example".to_vec()
        ]
    );
    let smtpd = |rcpt: &str| {
        let o = run("qmail-smtpd")
            .env("TCPREMOTEIP", "192.0.2.7")
            .env("TCPLOCALIP", "192.0.2.1")
            .stdin(format!("MAIL FROM:<a@b>\r\nRCPT TO:<{rcpt}>\r\n"))
            .go();
        o.stdout()
            .lines()
            .last()
            .unwrap_or("")
            .trim_end()
            .to_string()
    };
    let nope = "553 sorry, that domain isn't in my list of allowed rcpthosts (#5.7.1)";
    assert_eq!(smtpd("x@MORE.example"), "250 ok");
    assert_eq!(smtpd("x@a.sub.example"), "250 ok");
    assert_eq!(smtpd("x@sub.example"), nope);
    assert_eq!(smtpd("x@last.example"), "250 ok");
    assert_eq!(smtpd("x@test.example"), "250 ok");
    assert_eq!(smtpd("x@elsewhere.example"), nope);
    run("qmail-newmrh")
        .arg("x")
        .go()
        .expect(100, "", "qmail-newmrh: usage: qmail-newmrh\n");
}
