//! qmail-newu: users/assign → users/cdb (records checked with cdbdump and with the lookup
//! qmail-lspawn makes), precedence of `=` and `+` lines, and every malformed form refused with
//! exit 111, users/cdb left byte for byte as it was and no users/cdb.tmp left behind.
//! Not tested here: a crash between fsync and rename (needs fault injection); an unwritable
//! users/ directory when the tests run as root (root writes anyway).

use crate::common::{home, home_lock, install_tree, run, Out};
use qlib::cdb::Cdb;
use qlib::users::{lookup, Assign};
use std::os::unix::fs::PermissionsExt;

fn newu() -> Out {
    run("qmail-newu").go()
}

fn assign(text: &[u8]) {
    std::fs::write(home().join("users/assign"), text).expect("write assign");
}

fn found(local: &str) -> Option<(String, u32, String, String, String)> {
    let cdb = Cdb::open(home().join("users/cdb")).expect("open users/cdb");
    lookup(&cdb, local.as_bytes())
        .expect("lookup")
        .map(|a: Assign| {
            let s = |v: Vec<u8>| String::from_utf8(v).expect("utf8");
            (s(a.user), a.uid, s(a.home), s(a.dash), s(a.ext))
        })
}

fn f(
    user: &str,
    uid: u32,
    h: &str,
    dash: &str,
    ext: &str,
) -> Option<(String, u32, String, String, String)> {
    Some((user.into(), uid, h.into(), dash.into(), ext.into()))
}

const ASSIGN: &[u8] = b"=joe:joe:500:100:/home/joe:::\n\
+joe-:joe:500:100:/home/joe:-::\n\
+list-:lists:501:100:/l:-:x-:\n\
+list-big-:big:502:100:/b:-::\n\
=List-Big-X:exact:503:100:/e:::\n\
+Joe-:second:504:100:/s:-::\n\
+:alias:7:2:/var/qmail/alias:-::\n\
.\n\
=after:the:1:1:/dot:::\n";

#[test]
fn compiles_assign_into_the_cdb() {
    let _l = home_lock();
    install_tree(&home());
    assign(b"=Joe:joe:500:100:/home/joe:::extra\n+list-:lists:501:100:/l:-:x-:\n+:alias:7:2:/a:-::\n.\n");
    newu().expect(0, "", "");
    let mut c = run("cdbdump");
    c.raw()
        .stdin(std::fs::File::open(home().join("users/cdb")).expect("open"));
    c.go().expect(
        0,
        "+5,23:!joe\0->joe\x00500\x00100\x00/home/joe\0\0\n\
         +6,21:!list-->lists\x00501\x00100\x00/l\0-\0x-\n\
         +1,15:!->alias\x007\x002\0/a\0-\0\n\
         +0,1:->-\n\n",
        "",
    );
    let mode = std::fs::metadata(home().join("users/cdb"))
        .expect("stat")
        .permissions()
        .mode();
    assert_eq!(mode & 0o777, 0o644);
    assert_eq!(crate::common::ls(home().join("users")), ["assign", "cdb"]);
}

#[test]
fn precedence() {
    let _l = home_lock();
    install_tree(&home());
    assign(ASSIGN);
    newu().expect(0, "", "");
    assert_eq!(found("joe"), f("joe", 500, "/home/joe", "", ""));
    assert_eq!(found("JOE"), f("joe", 500, "/home/joe", "", ""));
    // first duplicate wins; the rest of the local part keeps its case
    assert_eq!(found("JOE-Foo"), f("joe", 500, "/home/joe", "-", "Foo"));
    // longest prefix wins
    assert_eq!(found("list-A"), f("lists", 501, "/l", "-", "x-A"));
    assert_eq!(found("list-big-Q"), f("big", 502, "/b", "-", "Q"));
    assert_eq!(found("list-big-"), f("big", 502, "/b", "-", ""));
    // a simple assignment beats every wildcard
    assert_eq!(found("LIST-BIG-x"), f("exact", 503, "/e", "", ""));
    // the catch-all takes the rest; lines after "." are ignored
    assert_eq!(
        found("Postmaster"),
        f("alias", 7, "/var/qmail/alias", "-", "Postmaster")
    );
    assert_eq!(
        found("after"),
        f("alias", 7, "/var/qmail/alias", "-", "after")
    );
    // no catch-all: no match
    assign(b"=joe:joe:500:100:/home/joe:::\n.\n");
    newu().expect(0, "", "");
    assert_eq!(found("joe-x"), None);
    assert_eq!(found("joe"), f("joe", 500, "/home/joe", "", ""));
}

#[test]
fn malformed_assign_files_change_nothing() {
    let _l = home_lock();
    install_tree(&home());
    assign(ASSIGN);
    newu().expect(0, "", "");
    let before = std::fs::read(home().join("users/cdb")).expect("read");
    for (text, line) in [
        (&b""[..], 1),
        (b"=joe:joe:500:100:/home/joe:::\n", 2),
        (b"=joe:joe:500:100:/home/joe:::", 1),
        (b"=joe:joe:500:100:/home/joe:::\n=x:x:1:1:/x:::", 2),
        (b"joe\n.\n", 1),
        (b"\n.\n", 1),
        (b":joe:500:100:/home/joe:::\n.\n", 1),
        (b"=joe:joe:500:100:/home/joe::\n.\n", 1),
        (b"+joe-:joe:500:100:/home/joe\n.\n", 1),
        (b"=ok:a:1:2:/h:::\n=j\0e:joe:500:100:/h:::\n.\n", 2),
        (b"=joe:joe:five:100:/home/joe:::\n.\n", 1),
        (b"=joe:joe:500:-1:/home/joe:::\n.\n", 1),
    ] {
        assign(text);
        newu().expect(
            111,
            "",
            &format!("qmail-newu: fatal: bad format in users/assign: line {line}\n"),
        );
        assert_eq!(
            std::fs::read(home().join("users/cdb")).expect("read"),
            before,
            "{text:?}"
        );
        assert_eq!(
            crate::common::ls(home().join("users")),
            ["assign", "cdb"],
            "{text:?}"
        );
    }
    std::fs::remove_file(home().join("users/assign")).expect("rm");
    newu().expect(
        111,
        "",
        "qmail-newu: fatal: unable to open users/assign: file does not exist\n",
    );
    assert_eq!(
        std::fs::read(home().join("users/cdb")).expect("read"),
        before
    );
    // users/ not writable: the temporary file cannot be created
    if qlib::sys::id::geteuid() != 0 {
        assign(b".\n");
        let users = home().join("users");
        std::fs::set_permissions(&users, std::fs::Permissions::from_mode(0o555)).expect("chmod");
        let o = newu();
        std::fs::set_permissions(&users, std::fs::Permissions::from_mode(0o755)).expect("chmod");
        o.expect(
            111,
            "",
            "qmail-newu: fatal: unable to open users/cdb.tmp: access denied\n",
        );
        assert_eq!(
            std::fs::read(home().join("users/cdb")).expect("read"),
            before
        );
    }
}

#[test]
fn usage() {
    run("qmail-newu")
        .arg("x")
        .go()
        .expect(100, "", "qmail-newu: usage: qmail-newu\n");
}
