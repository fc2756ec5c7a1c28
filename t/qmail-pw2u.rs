//! qmail-pw2u with a password file on stdin whose homes are directories the test creates
//! (so they belong to the test's uid): the default output, every option, the users/ controls
//! (include, exclude, mailnames, subusers, append), the fatal cases, and the chain
//! qmail-pw2u → users/assign → qmail-newu → the users/cdb lookup.
//! Not tested here: a home that cannot be stat'ed for a reason other than "does not exist"
//! (needs a directory the test user cannot search; root could search it anyway), write errors.

use crate::common::{home, home_lock, install_tree, run, whoami, Out, TmpDir};
use qlib::conf::{self, User};

struct Setup {
    t: TmpDir,
    uid: u32,
    alias: String,
}

impl Setup {
    fn new(tag: &str) -> Setup {
        install_tree(&home());
        let t = TmpDir::new(tag);
        for h in ["alias", "joe", "ann"] {
            std::fs::create_dir(t.join(h)).expect("mkdir home");
        }
        Setup {
            t,
            uid: whoami().1,
            alias: conf::user_name(User::Alias).to_string(),
        }
    }
    fn h(&self, name: &str) -> String {
        self.t.join(name).display().to_string()
    }
    /// alias, joe, ann (all owning their homes), a root account, an uppercase name,
    /// one without a home, one whose home belongs to another uid, and junk lines.
    fn passwd(&self) -> String {
        let (u, o) = (self.uid, self.uid + 1);
        format!(
            "root:x:0:0:root:/root:/bin/sh\n\
             {a}:*:{u}:2::{ha}:/bin/false\n\
             joe:x:{u}:100:Joe:{hj}:/bin/sh\n\
             ann:x:{u}:101::{hn}:\n\
             Upper:x:{u}:100::{hj}:/bin/sh\n\
             gone:x:{u}:100::{hg}:/bin/sh\n\
             other:x:{o}:100::{hj}:/bin/sh\n\
             short:x:{u}:100::{hj}\n\
             junk\n\
             ",
            a = self.alias,
            ha = self.h("alias"),
            hj = self.h("joe"),
            hn = self.h("ann"),
            hg = self.h("gone"),
        )
    }
    fn run(&self, opts: &[&str], passwd: &str) -> Out {
        run("qmail-pw2u").args(opts).stdin(passwd).go()
    }
    /// `=name:user:uid:gid:home:::` and, with a delimiter, `+name<d>:…:<dash>::`.
    fn lines(&self, name: &str, user: &str, gid: u32, brk: Option<char>, dash: &str) -> String {
        let uugh = format!(":{user}:{}:{gid}:{}:", self.uid, self.h(user));
        let mut s = format!("={name}{uugh}::\n");
        if let Some(b) = brk {
            s += &format!("+{name}{b}{uugh}{dash}::\n");
        }
        s
    }
    fn alias_line(&self, dash: &str) -> String {
        format!(
            "+:{}:{}:2:{}:{dash}::\n",
            self.alias,
            self.uid,
            self.h("alias")
        )
    }
    fn control(&self, name: &str, text: &str) {
        std::fs::write(home().join("users").join(name), text).expect("write control");
    }
}

#[test]
fn default_output() {
    let _l = home_lock();
    let s = Setup::new("pw2u-default");
    let want = s.alias_line("-")
        + &s.lines(&s.alias, "alias", 2, Some('-'), "-")
            .replace(":alias:", &format!(":{}:", s.alias))
        + &s.lines("joe", "joe", 100, Some('-'), "-")
        + &s.lines("ann", "ann", 101, Some('-'), "-")
        + ".\n";
    s.run(&[], &s.passwd()).expect(0, &want, "");
    s.run(&["-o", "-U"], &s.passwd()).expect(0, &want, "");
}

#[test]
fn options() {
    let _l = home_lock();
    let s = Setup::new("pw2u-options");
    let pw = s.passwd();
    let joe = |brk, dash| s.lines("joe", "joe", 100, brk, dash);
    // -C: no extension addresses; -/: dash "-/"; -cX: another delimiter; the last one wins
    let out = s.run(&["-C"], &pw).stdout();
    assert!(
        out.contains(&joe(None, "-")) && !out.contains("+joe"),
        "{out}"
    );
    let out = s.run(&["-/"], &pw).stdout();
    assert!(
        out.starts_with(&s.alias_line("-/")) && out.contains(&joe(Some('-'), "-/")),
        "{out}"
    );
    let out = s.run(&["-c+"], &pw).stdout();
    assert!(out.contains(&joe(Some('+'), "-")), "{out}");
    let out = s.run(&["-C", "-c", "="], &pw).stdout();
    assert!(out.contains(&joe(Some('='), "-")), "{out}");
    let out = s.run(&["-c=", "-C"], &pw).stdout();
    assert!(
        out.contains(&joe(None, "-")) && !out.contains("+joe"),
        "{out}"
    );
    // -u admits Upper; -uU does not
    let upper = format!("=Upper:Upper:{}:100:{}:::\n", s.uid, s.h("joe"));
    assert!(s.run(&["-u"], &pw).stdout().contains(&upper));
    assert!(!s.run(&["-uU"], &pw).stdout().contains("Upper"));
    // -H: no home checks, so gone and other appear too
    let out = s.run(&["-H"], &pw).stdout();
    assert!(
        out.contains(&format!("=gone:gone:{}:100:{}:::\n", s.uid, s.h("gone"))),
        "{out}"
    );
    assert!(
        out.contains(&format!(
            "=other:other:{}:100:{}:::\n",
            s.uid + 1,
            s.h("joe")
        )),
        "{out}"
    );
    assert!(!out.contains("root"), "{out}");
    // -h: a missing home is fatal; -hH is not
    s.run(&["-h"], &pw).expect(
        111,
        &(s.alias_line("-")
            + &s.lines(&s.alias, "alias", 2, Some('-'), "-")
                .replace(":alias:", &format!(":{}:", s.alias))
            + &joe(Some('-'), "-")
            + &s.lines("ann", "ann", 101, Some('-'), "-")),
        &format!(
            "qmail-pw2u: fatal: unable to stat {}: file does not exist\n",
            s.h("gone")
        ),
    );
    assert_eq!(s.run(&["-hH"], &pw).code, 0);
    s.run(&["-x"], &pw).expect(
        100,
        "",
        "qmail-pw2u: illegal option -- x\nqmail-pw2u: usage: qmail-pw2u [ -/ohHuUC ] [ -cchar ]\n",
    );
    s.run(&["extra"], &pw).expect(
        100,
        "",
        "qmail-pw2u: usage: qmail-pw2u [ -/ohHuUC ] [ -cchar ]\n",
    );
}

#[test]
fn controls() {
    let _l = home_lock();
    let s = Setup::new("pw2u-controls");
    let pw = s.passwd();
    s.control("include", &format!("# who\n{}\nJOE\ngone\n", s.alias));
    s.control("exclude", &format!("{}\n", s.alias));
    s.run(&[], &pw).expect(
        111,
        &s.lines("joe", "joe", 100, Some('-'), "-"),
        &format!("qmail-pw2u: fatal: unable to find {} user\n", s.alias),
    );
    std::fs::remove_file(home().join("users/include")).expect("rm");
    std::fs::remove_file(home().join("users/exclude")).expect("rm");
    s.control("mailnames", "joe:Joe.User::ju\nann:\n");
    s.control("subusers", "help:JOE:hd:\nbroken:joe\n\n# c\n");
    s.control("append", "=extra:x:1:1:/x:::\n");
    let out = s.run(&[], &pw).stdout();
    let want = s.alias_line("-")
        + &s.lines(&s.alias, "alias", 2, Some('-'), "-")
            .replace(":alias:", &format!(":{}:", s.alias))
        + &s.lines("Joe.User", "joe", 100, Some('-'), "-")
        + &s.lines("ju", "joe", 100, Some('-'), "-")
        + &format!(
            "=help:joe:{u}:100:{h}:-:hd:\n+help-:joe:{u}:100:{h}:-:hd-:\n",
            u = s.uid,
            h = s.h("joe")
        )
        + "=extra:x:1:1:/x:::\n.\n";
    assert_eq!(out, want);
    s.control("subusers", "x:gone:p:\n");
    let o = s.run(&[], &pw);
    assert_eq!(
        (o.code, o.stderr()),
        (
            111,
            "qmail-pw2u: fatal: unable to find gone user for subuser\n".to_string()
        )
    );
}

#[test]
fn chain_into_qmail_newu() {
    let _l = home_lock();
    let s = Setup::new("pw2u-chain");
    let o = s.run(&[], &s.passwd());
    assert_eq!(o.code, 0);
    std::fs::write(home().join("users/assign"), &o.out).expect("write assign");
    run("qmail-newu").go().expect(0, "", "");
    let cdb = qlib::cdb::Cdb::open(home().join("users/cdb")).expect("open");
    let a = qlib::users::lookup(&cdb, b"Joe-Lists-X")
        .expect("lookup")
        .expect("found");
    assert_eq!(
        (a.user, a.uid, a.gid, a.home, a.dash, a.ext),
        (
            b"joe".to_vec(),
            s.uid,
            100,
            s.h("joe").into_bytes(),
            b"-".to_vec(),
            b"Lists-X".to_vec()
        )
    );
    let a = qlib::users::lookup(&cdb, b"postmaster")
        .expect("lookup")
        .expect("found");
    assert_eq!(
        (a.user, a.ext),
        (s.alias.clone().into_bytes(), b"postmaster".to_vec())
    );
}
