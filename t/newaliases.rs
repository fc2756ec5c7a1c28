//! newaliases and newinclude on a Sendmail-style aliases file, side by side with Debian's
//! (its qmail-newaliases runs in a private mount namespace where /etc and /var/lib/qmail are
//! fresh tmpfs, so nothing real is touched): the same database bytes, each read by the other
//! fastforward; then the whole path — qmail-inject, qmail-send, qmail-local, `| fastforward
//! -d` in ~alias/.qmail-default — for lists, nested aliases, `:include:`, a program, an
//! `owner-` address, `/dev/null`, a `/file` moved to a `.qmail` file, an unknown name.
//!
//! Our newaliases reads the aliases file named by conf/aliases (package/test points it into
//! its private tree) and the controls of the compiled-in home, so these tests hold
//! `home_lock`.

use crate::common::{home, home_lock, ls, run, wait_for, whoami, Out, TmpDir};
use crate::common::{maildir_messages, Instance};
use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

const CONTROLS: [(&str, &str); 4] = [
    ("me", "test.example"),
    ("defaulthost", "test.example"),
    ("defaultdomain", "example"),
    ("plusdomain", "plus.example"),
];

fn aliases() -> PathBuf {
    PathBuf::from(qlib::conf::ALIASES)
}

fn cdb() -> PathBuf {
    PathBuf::from(format!("{}.cdb", qlib::conf::ALIASES))
}

fn write_controls() {
    let c = home().join("control");
    fs::create_dir_all(&c).expect("control dir");
    for (f, v) in CONTROLS {
        fs::write(c.join(f), format!("{v}\n")).expect("control");
    }
}

/// Our newaliases on `text`.
fn ours(text: &str) -> Out {
    fs::write(aliases(), text).expect("aliases");
    run("newaliases").go()
}

/// Debian's qmail-newaliases on `text`, with the same controls; its database is copied to
/// `t/deb.cdb`.
fn debians(t: &TmpDir, text: &str) -> Out {
    assert!(
        Path::new("/usr/sbin/qmail-newaliases").exists() && Path::new("/var/lib/qmail").is_dir(),
        "Debian's fastforward package is missing"
    );
    t.write("aliases.in", text.as_bytes());
    let mut script = String::from(
        "set -e; mount -t tmpfs tmpfs /etc; cp \"$1/aliases.in\" /etc/aliases\n\
         mount -t tmpfs tmpfs /var/lib/qmail; mkdir /var/lib/qmail/control\n",
    );
    for (f, v) in CONTROLS {
        script += &format!("echo {v} > /var/lib/qmail/control/{f}\n");
    }
    script += "set +e; /usr/sbin/qmail-newaliases; rc=$?\n\
               [ -f /etc/aliases.cdb ] && cp /etc/aliases.cdb \"$1/deb.cdb\"; exit $rc\n";
    let _ = fs::remove_file(t.join("deb.cdb"));
    run("unshare")
        .args(["-r", "-m", "sh", "-c", &script, "sh"])
        .arg(&t.0)
        .go()
}

fn printforward(img: &[u8]) -> String {
    let o = run("printforward").stdin(img).go();
    assert_eq!(o.code, 0, "{}", o.stderr());
    o.stdout()
}

/// Sendmail features both newaliases take.
const COMMON: &str = "# Sendmail aliases\n\
postmaster: root\n\
root: joe, Bob Smith <bob@remote.example>\n\
MAILER-DAEMON postmaster\n\
staff: joe,\n\tann,\n  mary@host+\n\
# a comment\n\twith a continuation line\n\
\n\
list: :include:/etc/lists/members\n\
rel: :include:lists/local\n\
prog: \"|/usr/bin/vacation joe\"\n\
owner-staff: joe\n\
dup: first\n\
dup: second\n\
User@Virtual.Example: x@elsewhere.example\n\
@whole.example: catch\n\
quoted: \"John Q\"@remote.example (John), <angle@remote.example>\n";

#[test]
fn the_same_database_as_debians_newaliases() {
    let _l = home_lock();
    let t = TmpDir::new("newaliases");
    write_controls();
    ours(COMMON).expect(0, "", "");
    let img = fs::read(cdb()).expect("our cdb");
    let d = debians(&t, COMMON);
    assert_eq!(d.code, 0, "{}", d.stderr());
    assert!(
        img == fs::read(t.join("deb.cdb")).unwrap(),
        "the databases differ"
    );
    assert_eq!(
        printforward(&img),
        "postmaster@:\n, &root@test.example\n;\n\
         root@:\n, &bob@remote.example\n, &joe@test.example\n;\n\
         mailer-daemon@:\n, &postmaster@test.example\n;\n\
         staff@:\n, &mary@host.plus.example\n, &ann@test.example\n, &joe@test.example\n;\n\
         list@:\n, /etc/lists/members.bin\n;\n\
         rel@:\n, ./lists/local.bin\n;\n\
         prog@:\n, !/usr/bin/vacation\\ joe\n;\n\
         staff@: ?owner-staff@test.example;\n\
         owner-staff@:\n, &joe@test.example\n;\n\
         dup@:\n, &first@test.example\n;\n\
         dup@:\n, &second@test.example\n;\n\
         user@virtual.example:\n, &x@elsewhere.example\n;\n\
         @whole.example:\n, &catch@test.example\n;\n\
         quoted@:\n, &angle@remote.example\n, &John\\ Q@remote.example\n;\n"
    );
    assert_eq!(
        fs::metadata(cdb()).unwrap().permissions().mode() & 0o777,
        0o644
    );
    // each fastforward reads the other's database the same way
    fs::write(t.join("ours.cdb"), &img).unwrap();
    for who in [
        "postmaster@test.example",
        "staff@any.example",
        "dup@x",
        "prog@x",
        "a@whole.example",
        "user@virtual.example",
        "nobody@x",
    ] {
        let n = |ff: &str, db: &str| {
            run(ff)
                .args(["-n", db])
                .cwd(&t.0)
                .env("RECIPIENT", who)
                .env("SENDER", "s@x")
                .go()
        };
        let (a, b) = (
            n("fastforward", "deb.cdb"),
            n("/usr/bin/fastforward", "ours.cdb"),
        );
        assert_eq!((a.code, a.stderr()), (b.code, b.stderr()), "{who}");
    }
}

#[test]
fn dev_null_discards_and_other_files_are_refused() {
    let _l = home_lock();
    let t = TmpDir::new("newaliases-file");
    write_controls();
    ours("a: b\nnull: /dev/null\nsome: x, /dev/null\n").expect(0, "", "");
    let img = fs::read(cdb()).unwrap();
    assert_eq!(
        printforward(&img),
        "a@:\n, &b@test.example\n;\nnull@:\n;\nsome@:\n, &x@test.example\n;\n"
    );
    fs::write(t.join("n.cdb"), &img).unwrap();
    for ff in ["fastforward", "/usr/bin/fastforward"] {
        let o = run(ff)
            .args(["-n", "n.cdb"])
            .cwd(&t.0)
            .env("RECIPIENT", "null@x")
            .env("SENDER", "s")
            .go();
        o.expect(0, "", "no forwarding\n");
    }
    // Debian's refuses even /dev/null
    let d = debians(&t, "null: /dev/null\n");
    assert_eq!(
        (d.code, d.stderr()),
        (
            111,
            "newaliases: fatal: file delivery /dev/null not supported\n".into()
        )
    );
    // a real file: refused, with the way out; the database stays as it was
    let o = ours("a: b\n# c\narchive: joe, /var/spool/archive\n");
    let at = format!("{} line 3", aliases().display());
    o.expect(
        111,
        "",
        &format!(
            "newaliases: fatal: file delivery /var/spool/archive not supported ({at}): give the \
             alias its own .qmail file under ~alias containing the line /var/spool/archive, and \
             remove it here\n"
        ),
    );
    assert_eq!(fs::read(cdb()).unwrap(), img);
    assert!(!Path::new(&format!("{}.tmp", qlib::conf::ALIASES)).exists());
    // lines that do not parse name themselves; so does an unreadable file
    let o = ours("a: b\nc:\n");
    o.expect(
        111,
        "",
        &format!(
            "newaliases: fatal: unable to parse {} line 2: c:\n",
            aliases().display()
        ),
    );
    let o = ours("x: \"unterminated\n\tmore\n");
    assert!(
        o.stderr().ends_with("line 1: x: \"unterminated \tmore\n"),
        "{}",
        o.stderr()
    );
    assert_eq!(fs::read(cdb()).unwrap(), img);
    fs::remove_file(aliases()).unwrap();
    let o = run("newaliases").go();
    assert_eq!(o.code, 111);
    assert!(
        o.stderr().starts_with("newaliases: fatal: unable to read "),
        "{}",
        o.stderr()
    );
    run("newaliases")
        .arg("x")
        .go()
        .expect(100, "", "newaliases: usage: newaliases\n");
}

fn newinclude(prog: &str, t: &TmpDir, list: &str) -> Out {
    run(prog)
        .arg(list)
        .cwd(&t.0)
        .env("QMAILDEFAULTDOMAIN", "dd.example")
        .env("QMAILDEFAULTHOST", "dh.example")
        .env("QMAILPLUSDOMAIN", "pd.example")
        .go()
}

#[test]
fn newinclude_as_debians_except_nested_lists() {
    let t = TmpDir::new("newinclude");
    let text = "# members\njoe, bob@x (Bob)\n\"Ann Q\" <ann@host+>,\n\n  mary@dotless\nx\\y\n";
    t.write("ours", text.as_bytes());
    t.write("theirs", text.as_bytes());
    newinclude("newinclude", &t, "ours").expect(0, "", "");
    newinclude("/usr/bin/newinclude", &t, "theirs").expect(0, "", "");
    let bin = fs::read(t.join("ours.bin")).unwrap();
    assert_eq!(bin, fs::read(t.join("theirs.bin")).unwrap());
    run("printmaillist").stdin(&bin).go().expect(
        0,
        "&bob@x.dd.example\n&joe@dh.example\n&ann@host.pd.example\n&mary@dotless.dd.example\n&xy@dh.example\n",
        "",
    );
    // a nested list names the binary file (Debian's names the text file)
    t.write(
        "outer",
        b"a@b.example\n:include:inner\n:include: /etc/lists/abs\n",
    );
    newinclude("newinclude", &t, "outer").expect(0, "", "");
    let o = run("printmaillist")
        .stdin(fs::read(t.join("outer.bin")).unwrap())
        .go();
    o.expect(0, "&a@b.example\n./inner.bin\n/etc/lists/abs.bin\n", "");
    // programs and files are refused, as by Debian's
    for (line, why) in [
        ("\"|prog\"", "program delivery |prog not supported"),
        ("/var/mail/x", "file delivery /var/mail/x not supported"),
    ] {
        t.write("bad", format!("a@b.example\n{line}\n").as_bytes());
        let _ = fs::remove_file(t.join("bad.tmp")); // Debian's leaves it behind
        let o = newinclude("newinclude", &t, "bad");
        o.expect(111, "", &format!("newinclude: fatal: {why}\n"));
        assert!(!t.join("bad.bin").exists() && !t.join("bad.tmp").exists());
        let d = newinclude("/usr/bin/newinclude", &t, "bad");
        assert_eq!((d.code, d.stderr()), (o.code, o.stderr()));
    }
    t.write("bad", b"a@b, (unterminated\n");
    newinclude("newinclude", &t, "bad").expect(
        111,
        "",
        "newinclude: fatal: unable to parse this line: a@b, (unterminated\n",
    );
    assert_eq!(newinclude("newinclude", &t, "missing").code, 111);
}

/// `home` for each name, with a Maildir, and a catch-all to `alias` (as the alias user's
/// home would be), compiled into users/cdb.
fn users(t: &TmpDir, names: &[&str], alias: &Path) -> Vec<PathBuf> {
    let (user, uid, gid) = whoami();
    let mut text = String::new();
    let mut homes = Vec::new();
    for n in names {
        let h = t.join(n);
        fs::create_dir(&h).unwrap();
        run("maildirmake")
            .arg(h.join("Maildir"))
            .go()
            .expect(0, "", "");
        text += &format!("={n}:{user}:{uid}:{gid}:{}:::\n", h.display());
        homes.push(h.join("Maildir"));
    }
    text += &format!("+:{user}:{uid}:{gid}:{}:-::\n.\n", alias.display());
    fs::write(home().join("users/assign"), text).unwrap();
    run("qmail-newu").go().expect(0, "", "");
    homes
}

#[test]
fn aliases_through_the_whole_queue() {
    let _l = home_lock();
    let t = TmpDir::new("aliases-queue");
    let q = Instance::fresh("./Maildir/");
    write_controls();
    let alias = t.join("alias");
    fs::create_dir(&alias).unwrap();
    let md = users(&t, &["joe", "ann", "bob"], &alias);
    fs::write(
        alias.join(".qmail-default"),
        format!("| fastforward -d {}\n", cdb().display()),
    )
    .unwrap();
    t.write("members", b"# the list\nann, bob@test.example\n");
    run("newinclude")
        .arg(t.join("members"))
        .go()
        .expect(0, "", "");
    let text = format!(
        "postmaster: root\nroot: joe\nMAILER-DAEMON: postmaster\nstaff: joe, ann,\n  bob\n\
         owner-staff: joe\nlist: :include:{}\nprog: \"|cat > {}\"\ndevnull: /dev/null\n\
         archive: {}\n",
        t.join("members").display(),
        t.join("prog.out").display(),
        t.join("archive.mbox").display()
    );
    // the /file line is refused; moved to its own .qmail file it works, as qmail-local's mbox
    assert_eq!(ours(&text).code, 111);
    let text = text.replace(
        &format!("archive: {}\n", t.join("archive.mbox").display()),
        "",
    );
    ours(&text).expect(0, "", "");
    fs::write(
        alias.join(".qmail-archive"),
        format!("{}\n", t.join("archive.mbox").display()),
    )
    .unwrap();
    for to in [
        "postmaster",
        "staff",
        "list",
        "prog",
        "devnull",
        "archive",
        "nosuch",
    ] {
        let msg = format!(
            "From: joe@test.example\nTo: {to}@test.example\nSubject: to {to}\n\nhello {to}\n"
        );
        run("qmail-inject")
            .arg("-fjoe@test.example")
            .arg(format!("{to}@test.example"))
            .stdin(msg)
            .go()
            .expect(0, "", "");
    }
    let count = |m: &Path| ls(m.join("new")).len();
    let (joe, ann, bob) = (&md[0], &md[1], &md[2]);
    assert!(
        wait_for(30, || count(joe) == 3
            && count(ann) == 2
            && count(bob) == 2
            && finished(&q.log_text()).len() >= 15),
        "joe {} ann {} bob {}\n{}",
        count(joe),
        count(ann),
        count(bob),
        q.log_text()
    );
    let text_of = |m: &Path| -> Vec<String> {
        maildir_messages(m)
            .into_iter()
            .map(|b| String::from_utf8_lossy(&b).into_owned())
            .collect()
    };
    let joes = text_of(joe);
    let find = |all: &[String], s: &str| {
        all.iter()
            .find(|m| m.contains(s))
            .cloned()
            .unwrap_or_default()
    };
    // postmaster → root → joe, through the queue twice (root@ matches any host)
    let pm = find(&joes, "Subject: to postmaster");
    assert!(
        pm.starts_with("Return-Path: <joe@test.example>\nDelivered-To: joe@test.example\n"),
        "{pm}"
    );
    assert!(
        pm.contains("Delivered-To: root@test.example\n")
            && pm.contains("Delivered-To: postmaster@test.example\n"),
        "{pm}"
    );
    // staff: everyone, from owner-staff
    for m in [&joes, &text_of(ann), &text_of(bob)] {
        let s = find(m, "Subject: to staff");
        assert!(
            s.starts_with("Return-Path: <owner-staff@test.example>\n"),
            "{s}"
        );
    }
    for m in [&text_of(ann), &text_of(bob)] {
        assert!(find(m, "Subject: to list").starts_with("Return-Path: <joe@test.example>\n"));
    }
    // the program got Sendmail's From_ line (preline), the file an mbox message
    let p = fs::read_to_string(t.join("prog.out")).unwrap();
    assert!(
        p.starts_with("From joe@test.example ")
            && p.contains("\nReturn-Path: <joe@test.example>\nDelivered-To: prog@test.example\n"),
        "{p}"
    );
    assert!(p.ends_with("\nhello prog\n"), "{p}");
    let a = fs::read_to_string(t.join("archive.mbox")).unwrap();
    assert!(
        a.starts_with("From joe@test.example ") && a.contains("Subject: to archive\n"),
        "{a}"
    );
    // the unknown name bounced to joe; /dev/null delivered nowhere, successfully
    let b = find(&joes, "nosuch@test.example");
    assert!(
        b.contains("Sorry, no mailbox here by that name. (#5.1.1)"),
        "{b}"
    );
    assert!(find(&joes, "to devnull").is_empty());
    let log = q.log_text();
    let done = finished(&log);
    let devnull = done.iter().find(|(to, _)| to == "devnull@test.example");
    assert!(devnull.is_some_and(|(_, how)| how == "success"), "{log}");
    let failed: Vec<_> = done.iter().filter(|(_, how)| how != "success").collect();
    assert_eq!(failed.len(), 1, "only nosuch fails: {log}");
    assert!(failed[0].0 == "nosuch@test.example", "{log}");
}

/// Each finished delivery in qmail-send's log: its recipient and `success`, `failure` or
/// `deferral`.
fn finished(log: &str) -> Vec<(String, String)> {
    let mut to = std::collections::HashMap::new();
    let mut out = Vec::new();
    for l in log.lines() {
        if let Some(rest) = l.split("starting delivery ").nth(1) {
            let n = rest.split(':').next().unwrap_or("").to_string();
            to.insert(n, rest.rsplit(' ').next().unwrap_or("").to_string());
        } else if let Some(rest) = l.split("delivery ").nth(1) {
            let mut f = rest.splitn(3, ": ");
            if let (Some(n), Some(how)) = (f.next(), f.next()) {
                if let Some(r) = to.get(n) {
                    out.push((r.clone(), how.to_string()));
                }
            }
        }
    }
    out
}
