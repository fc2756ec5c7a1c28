//! qmail-getpw against the real password database: accounts with uid 0, missing homes or
//! names of 32 bytes or more fall to the alias account (conf users, line 1) with dash `-` and
//! the whole local part as extension; an account whose home exists and is its own is found
//! by its longest prefix (tested with the first such account in /etc/passwd, if any).
//! Not tested here (unit-tested in lib/src/getpw.rs with a fake password database):
//! exit 115 (a temporary stat error: needs NFS trouble), 116 (no alias account: every conf
//! user is a real account in the test build), 118 (the password database failing).

use crate::common::run;
use qlib::conf::{self, User};
use qlib::sys::id::{getpwnam, Passwd};

fn fields(p: &Passwd, dash: &str, ext: &str) -> Vec<u8> {
    let mut v = Vec::new();
    for f in [
        &p.name[..],
        p.uid.to_string().as_bytes(),
        p.gid.to_string().as_bytes(),
        &p.dir,
        dash.as_bytes(),
        ext.as_bytes(),
    ] {
        v.extend_from_slice(f);
        v.push(0);
    }
    v
}

fn getpw(local: &str) -> (i32, Vec<u8>, Vec<u8>) {
    let o = run("qmail-getpw").arg(local).go();
    (o.code, o.out, o.err)
}

fn qualifies(p: &Passwd) -> bool {
    use std::os::unix::fs::MetadataExt;
    p.uid != 0
        && p.name.len() < 32
        && !p
            .name
            .iter()
            .any(|c| c.is_ascii_uppercase() || *c == conf::break_char())
        && std::fs::metadata(std::ffi::OsStr::new(
            &String::from_utf8_lossy(&p.dir).into_owned(),
        ))
        .is_ok_and(|m| m.uid() == p.uid)
}

#[test]
fn falls_back_to_the_alias_account() {
    let alias = conf::passwd(User::Alias).expect("alias account");
    let long = "a".repeat(32);
    for local in ["root", "Root-Foo", "no-such-user-here", "-x", long.as_str()] {
        assert_eq!(
            getpw(local),
            (0, fields(&alias, "-", local), Vec::new()),
            "{local}"
        );
    }
    // nobody's home (/nonexistent on Debian) does not exist, so nobody is not a mail user
    if let Ok(Some(nobody)) = getpwnam(b"nobody") {
        if !qualifies(&nobody) {
            assert_eq!(getpw("nobody-x").1, fields(&alias, "-", "nobody-x"));
        }
    }
}

#[test]
fn finds_an_account_by_its_longest_prefix() {
    let passwd = std::fs::read_to_string("/etc/passwd").unwrap_or_default();
    let account = passwd
        .lines()
        .filter_map(|l| l.split(':').next())
        .filter_map(|n| getpwnam(n.as_bytes()).ok().flatten())
        .find(qualifies);
    let Some(p) = account else {
        eprintln!("qmail-getpw: no account in /etc/passwd owns its home; prefix test not run");
        return;
    };
    let name = String::from_utf8_lossy(&p.name).into_owned();
    let upper = name.to_ascii_uppercase();
    assert_eq!(getpw(&upper), (0, fields(&p, "", ""), Vec::new()));
    let local = format!("{upper}-Zq9x-Ext");
    if getpwnam(format!("{name}-zq9x").as_bytes())
        .ok()
        .flatten()
        .is_none()
    {
        assert_eq!(getpw(&local), (0, fields(&p, "-", "Zq9x-Ext"), Vec::new()));
    }
}

#[test]
fn no_argument() {
    run("qmail-getpw").go().expect(100, "", "");
}
