//! setforward, printforward, setmaillist, printmaillist and fastforward, side by side with
//! Debian's fastforward package (which .ci/run installs): byte-identical databases and lists,
//! the same printouts, errors and exit codes, the same `-n` expansion of the same database;
//! then fastforward for real as qmail-local runs it, with a recorder as qmail-queue.

use crate::common::{recorder, run, Out, TmpDir};
use std::fs;
use std::os::unix::fs::PermissionsExt;

/// Debian's program of this name (its fastforward package installs them in /usr/bin).
fn deb(name: &str) -> String {
    let p = format!("/usr/bin/{name}");
    assert!(
        std::path::Path::new(&p).exists(),
        "{p} is missing: install Debian's fastforward package"
    );
    p
}

/// `prog args < input` in `t`.
fn go(t: &TmpDir, prog: &str, args: &[&str], input: &[u8]) -> Out {
    let f = t.write("stdin", input);
    run("sh")
        .args(["-c", "f=$1; shift; exec \"$@\" < \"$f\"", "sh"])
        .arg(&f)
        .arg(prog)
        .args(args)
        .cwd(&t.0)
        .go()
}

/// Both setforwards on `table`; their databases must be identical. Returns the image.
fn set_both(t: &TmpDir, table: &str) -> Vec<u8> {
    go(t, "setforward", &["ours.cdb", "ours.tmp"], table.as_bytes()).expect(0, "", "");
    go(
        t,
        &deb("setforward"),
        &["deb.cdb", "deb.tmp"],
        table.as_bytes(),
    )
    .expect(0, "", "");
    let (ours, theirs) = (
        fs::read(t.join("ours.cdb")).unwrap(),
        fs::read(t.join("deb.cdb")).unwrap(),
    );
    assert!(ours == theirs, "databases differ for {table:?}");
    assert!(!t.join("ours.tmp").exists());
    ours
}

const TABLE: &str = "# the manual's example, and more\n\
    sos@heaven.af.mil: joe@example.net, |dew-monitor, /etc/lists/sos.bin,\n  ?owner-sos@heaven.af.mil;\n\
    @Dom.test: &a\\,b@x, \\ spaced\\ name@y;\n\
    user@: !prog x, ./l.bin;  only@x: ?o@x;\n\
    X\\:y\\#z: \x01ctl, &, |;\n";

#[test]
fn setforward_and_printforward_match_debians() {
    let t = TmpDir::new("ff-set");
    let img = set_both(&t, TABLE);
    let ours = go(&t, "printforward", &[], &img);
    let theirs = go(&t, &deb("printforward"), &[], &img);
    ours.expect(0, &theirs.stdout(), "");
    assert_eq!(
        ours.stdout(),
        "sos@heaven.af.mil: ?owner-sos@heaven.af.mil;\nsos@heaven.af.mil:\n, &joe@example.net\n\
         , |dew-monitor\n, /etc/lists/sos.bin\n;\n@dom.test:\n, &a\\,b@x\n, &\\ spaced\\ name@y\n;\n\
         user@:\n, !progx\n, ./l.bin\n;\nonly@x: ?o@x;\nx\\:y\\#z:\n, &\\\x01ctl\n, &\n, |\n;\n"
    );
    // printforward's output reads back into the same database, with either setforward
    assert_eq!(set_both(&t, &ours.stdout()), img);
}

#[test]
fn setforward_errors_match_debians() {
    let t = TmpDir::new("ff-seterr");
    let long = "a".repeat(801);
    let cases = [
        "x: a: b;".to_string(),
        "x, y: a;".into(),
        ";".into(),
        "x: a".into(),
        "x: a\\".into(),
        "x: a\0b;".into(),
        format!("x: {long};"),
        format!("x: &{long};"),
    ];
    for c in cases {
        fs::write(t.join("ours.cdb"), "old").unwrap();
        let ours = go(&t, "setforward", &["ours.cdb", "ours.tmp"], c.as_bytes());
        let theirs = go(
            &t,
            &deb("setforward"),
            &["deb.cdb", "deb.tmp"],
            c.as_bytes(),
        );
        assert_eq!(
            (ours.code, ours.stderr()),
            (theirs.code, theirs.stderr()),
            "{c:?}"
        );
        assert_eq!(ours.code, 100, "{c:?}");
        assert_eq!(fs::read(t.join("ours.cdb")).unwrap(), b"old", "{c:?}");
        assert!(!t.join("ours.tmp").exists(), "{c:?}");
    }
    // a long owner, program or target is fine, in both
    let ok = format!("{long}: ?{long}, |{long}, {};", "b".repeat(800));
    set_both(&t, &ok);
    go(&t, "setforward", &["one"], b"").expect(
        100,
        "",
        "setforward: usage: setforward data.cdb data.tmp\n",
    );
    let o = go(
        &t,
        "setforward",
        &["no/such/dir/x.cdb", "no/such/dir/x.tmp"],
        b"a: b;",
    );
    assert_eq!(o.code, 111, "{}", o.stderr());
}

#[test]
fn the_discarding_record_our_newaliases_makes_for_dev_null() {
    let t = TmpDir::new("ff-null");
    go(&t, "setforward", &["n.cdb", "n.tmp"], b"null@x:;\n").expect(0, "", "");
    let img = fs::read(t.join("n.cdb")).unwrap();
    go(&t, "printforward", &[], &img).expect(0, "null@x:\n;\n", "");
    // Debian's setforward makes nothing of it (so a bounce); both fastforwards discard
    go(&t, &deb("setforward"), &["d.cdb", "d.tmp"], b"null@x:;\n").expect(0, "", "");
    go(&t, "printforward", &[], &fs::read(t.join("d.cdb")).unwrap()).expect(0, "", "");
    for ff in ["fastforward".to_string(), deb("fastforward")] {
        let o = run(&ff)
            .args(["-n", "n.cdb"])
            .cwd(&t.0)
            .env("RECIPIENT", "null@x")
            .env("SENDER", "s@x")
            .go();
        o.expect(0, "", "no forwarding\n");
    }
}

#[test]
fn printforward_refuses_what_is_not_a_forwarding_database() {
    let t = TmpDir::new("ff-bad");
    let img = set_both(&t, "a@: b, c;\n");
    let bad = "printforward: fatal: bad database format\n";
    go(&t, "printforward", &[], b"").expect(100, "", bad);
    go(&t, "printforward", &[], &img[..2060]).expect(100, "", bad);
    // a cdb whose key is neither `:` nor `?`, and a command list without its final NUL
    go(&t, "cdbmake", &["o.cdb", "o.tmp"], b"+1,1:k->v\n\n").expect(0, "", "");
    go(&t, "printforward", &[], &fs::read(t.join("o.cdb")).unwrap()).expect(100, "", bad);
    go(&t, "cdbmake", &["o.cdb", "o.tmp"], b"+2,2:a@->&b\n\n").expect(0, "", "");
    go(&t, "printforward", &[], &fs::read(t.join("o.cdb")).unwrap()).expect(100, "", bad);
}

#[test]
fn maillists_match_debians() {
    let t = TmpDir::new("ff-list");
    let text =
        "# members\n\njoe@x.test  \t\n&bob@y.test\n/etc/other.bin\n./rel.bin\n5am@z\n \nlast@q";
    for (prog, out) in [
        ("setmaillist".to_string(), "ours"),
        (deb("setmaillist"), "deb"),
    ] {
        let script = format!("umask 077; exec \"$0\" {out}.bin {out}.tmp < in");
        t.write("in", text.as_bytes());
        run("sh")
            .args(["-c", &script, &prog])
            .cwd(&t.0)
            .go()
            .expect(0, "", "");
    }
    let ours = fs::read(t.join("ours.bin")).unwrap();
    assert_eq!(ours, fs::read(t.join("deb.bin")).unwrap());
    assert_eq!(
        ours,
        b"&joe@x.test\0&bob@y.test\0/etc/other.bin\0./rel.bin\0&5am@z\0&last@q\0"
    );
    let mode = fs::metadata(t.join("ours.bin"))
        .unwrap()
        .permissions()
        .mode();
    assert_eq!(mode & 0o777, 0o644, "world-readable whatever the umask");
    let printed = "&joe@x.test\n&bob@y.test\n/etc/other.bin\n./rel.bin\n&5am@z\n&last@q\n";
    go(&t, "printmaillist", &[], &ours).expect(0, printed, "");
    go(&t, &deb("printmaillist"), &[], &ours).expect(0, printed, "");
    // bad input: the same codes as Debian's
    let long = "a".repeat(801);
    for bad in [
        "a@b\0c\n".to_string(),
        long.clone(),
        format!("&{}", &long[1..]),
    ] {
        let o = go(&t, "setmaillist", &["o.bin", "o.tmp"], bad.as_bytes());
        let d = go(&t, &deb("setmaillist"), &["d.bin", "d.tmp"], bad.as_bytes());
        assert_eq!((o.code, o.stderr()), (d.code, d.stderr()), "{bad:?}");
        assert_eq!(o.code, 111);
        assert!(!t.join("o.bin").exists() && !t.join("o.tmp").exists());
    }
    for bad in [&b"a\0"[..], b"&a\0\0", b"&a"] {
        let o = go(&t, "printmaillist", &[], bad);
        o.expect(100, "", "printmaillist: fatal: bad mailing list format\n");
        assert_eq!(go(&t, &deb("printmaillist"), &[], bad).code, 100);
    }
}

/// A database of lists, owners, programs, wildcards and nesting, with its list files.
fn sample(t: &TmpDir) {
    let table = "sos@heaven.test: joe@example.net, |dew-monitor, ./sos.bin, ?owner-sos@heaven.test;\n\
        owner-sos@heaven.test: boss@heaven.test;\n\
        staff@heaven.test: ann@heaven.test, ./staff.bin, ./staff.bin, sos@heaven.test;\n\
        ann@heaven.test: ann@mail.test, !vacation\\ ann;\n\
        @catch.test: all@mail.test;  who@: whoever@mail.test;\n\
        loop1@heaven.test: loop2@heaven.test;  loop2@heaven.test: loop1@heaven.test, out@mail.test;\n\
        secret@heaven.test: ./secret.bin;\n";
    go(t, "setforward", &["db.cdb", "db.tmp"], table.as_bytes()).expect(0, "", "");
    go(
        t,
        "setmaillist",
        &["sos.bin", "x.tmp"],
        b"m1@mail.test\nm2@mail.test\n./nested.bin\n",
    )
    .expect(0, "", "");
    go(
        t,
        "setmaillist",
        &["nested.bin", "x.tmp"],
        b"deep@mail.test\nM1@MAIL.test\n",
    )
    .expect(0, "", "");
    go(
        t,
        "setmaillist",
        &["staff.bin", "x.tmp"],
        b"s1@mail.test\nann@heaven.test\n",
    )
    .expect(0, "", "");
    go(
        t,
        "setmaillist",
        &["secret.bin", "x.tmp"],
        b"hidden@mail.test\n",
    )
    .expect(0, "", "");
    fs::set_permissions(t.join("secret.bin"), fs::Permissions::from_mode(0o600)).unwrap();
}

type Flags = &'static [&'static str];
type Env = &'static [(&'static str, &'static str)];

#[test]
fn fastforward_n_expands_as_debians_does() {
    let t = TmpDir::new("ff-n");
    sample(&t);
    let cases: &[(Flags, Env)] = &[
        (
            &["-n"],
            &[("RECIPIENT", "sos@heaven.test"), ("SENDER", "s@x.test")],
        ),
        (&["-n"], &[("RECIPIENT", "SOS@Heaven.TEST"), ("SENDER", "")]),
        (
            &["-n"],
            &[("RECIPIENT", "sos@heaven.test"), ("SENDER", "#@[]")],
        ),
        (&["-n"], &[("RECIPIENT", "sos@heaven.test")]),
        (
            &["-n"],
            &[("RECIPIENT", "staff@heaven.test"), ("SENDER", "s@x.test")],
        ),
        (
            &["-n"],
            &[("RECIPIENT", "x@catch.test"), ("SENDER", "s@x.test")],
        ),
        (
            &["-n"],
            &[("RECIPIENT", "who@anywhere.test"), ("SENDER", "s@x.test")],
        ),
        (
            &["-n"],
            &[("RECIPIENT", "loop1@heaven.test"), ("SENDER", "s@x.test")],
        ),
        (
            &["-n"],
            &[("RECIPIENT", "nobody@heaven.test"), ("SENDER", "s@x.test")],
        ),
        (
            &["-np"],
            &[("RECIPIENT", "nobody@heaven.test"), ("SENDER", "s@x.test")],
        ),
        (
            &["-n", "-p"],
            &[("RECIPIENT", "sos@heaven.test"), ("SENDER", "s@x.test")],
        ),
        (
            &["-np", "-P"],
            &[("RECIPIENT", "nobody@heaven.test"), ("SENDER", "s@x.test")],
        ),
        (
            &["-nd"],
            &[
                ("DEFAULT", "Staff"),
                ("HOST", "heaven.test"),
                ("SENDER", "s@x"),
            ],
        ),
        (
            &["-nd"],
            &[("EXT", "staff"), ("HOST", "heaven.test"), ("SENDER", "s@x")],
        ),
        (
            &["-nd", "-D"],
            &[("RECIPIENT", "who@h"), ("DEFAULT", "x"), ("HOST", "h")],
        ),
        (&["-n"], &[]),
        (&["-nd"], &[("HOST", "h")]),
        (&["-nd"], &[("DEFAULT", "x")]),
        (
            &["-n", "-N", "-n"],
            &[("RECIPIENT", "ann@heaven.test"), ("SENDER", "s@x.test")],
        ),
    ];
    for (flags, env) in cases {
        let both = ["fastforward".to_string(), deb("fastforward")].map(|ff| {
            let mut c = run(&ff).args(*flags).arg("db.cdb").cwd(&t.0);
            for (k, v) in *env {
                c = c.env(k, v);
            }
            c.go()
        });
        let what = format!("{flags:?} {env:?}");
        assert_eq!(both[0].stderr(), both[1].stderr(), "{what}");
        assert_eq!(both[0].code, both[1].code, "{what}");
    }
    // what the sample expands to, spelled out once
    let o = run("fastforward")
        .args(["-n", "db.cdb"])
        .cwd(&t.0)
        .env("RECIPIENT", "staff@heaven.test")
        .env("SENDER", "s@x.test")
        .go();
    o.expect(0, "", "run !vacation ann\nfrom <s@x.test>\nto <s1@mail.test>\nto <ann@mail.test>\nto <sos@heaven.test>\n");
    // a list that is not world-readable defers, in both
    for ff in ["fastforward".to_string(), deb("fastforward")] {
        let o = run(&ff)
            .args(["-n", "db.cdb"])
            .cwd(&t.0)
            .env("RECIPIENT", "secret@heaven.test")
            .go();
        assert_eq!(o.code, 111, "{ff}: {}", o.stderr());
    }
    let o = run("fastforward")
        .args(["-n", "missing.cdb"])
        .cwd(&t.0)
        .env("RECIPIENT", "a@b")
        .go();
    assert_eq!(o.code, 111);
    assert!(
        o.stderr()
            .starts_with("fastforward: fatal: unable to read missing.cdb: "),
        "{}",
        o.stderr()
    );
    run("fastforward").go().expect(
        100,
        "",
        "fastforward: usage: fastforward [ -nNpPdD ] data.cdb\n",
    );
    run("fastforward").args(["-x", "db.cdb"]).go().expect(
        100,
        "",
        "fastforward: illegal option -- x\nfastforward: usage: fastforward [ -nNpPdD ] data.cdb\n",
    );
}

/// fastforward as qmail-local runs it: cwd `t`, the message on fd 0 from a file.
fn deliver(t: &TmpDir, args: &[&str], rcpt: &str, qexit: &str) -> Out {
    let m = t.write("message", b"Subject: hi\n\nbody\n");
    let script = "m=$1; shift; exec \"$@\" < \"$m\"";
    run("sh")
        .args(["-c", script, "sh"])
        .arg(&m)
        .arg("fastforward")
        .args(args)
        .cwd(&t.0)
        .env("QMAILQUEUE", recorder())
        .env("Q_DIR", &t.0)
        .env("Q_EXIT", qexit)
        .env("RECIPIENT", rcpt)
        .env("SENDER", "s@x.test")
        .env("DTLINE", "Delivered-To: list@heaven.test\n")
        .env("RPLINE", "Return-Path: <s@x.test>\n")
        .env("UFLINE", "From s@x.test Thu Dec  3 00:00:00 2026\n")
        .go()
}

#[test]
fn fastforward_runs_programs_and_queues_one_copy() {
    let t = TmpDir::new("ff-real");
    // setforward drops unescaped spaces
    let table = "list@heaven.test: a@mail.test, |cat>piped, !cat>prelined, ?owner-list@heaven.test, b@mail.test;\n\
        fail@heaven.test: |exit\\ 100;  soft@heaven.test: |exit\\ 1;  crash@heaven.test: |kill\\ -9\\ $$;\n\
        null@heaven.test: ;  later@heaven.test: |touch\\ ran, ./missing.bin;\n";
    go(&t, "setforward", &["db.cdb", "db.tmp"], table.as_bytes()).expect(0, "", "");
    let o = deliver(&t, &["db.cdb"], "list@heaven.test", "0");
    assert_eq!(o.code, 0, "{}", o.stderr());
    assert!(
        o.stderr().starts_with("fastforward: qp ") && o.stderr().ends_with('\n'),
        "{}",
        o.stderr()
    );
    assert_eq!(
        fs::read_to_string(t.join("piped")).unwrap(),
        "Subject: hi\n\nbody\n"
    );
    assert_eq!(
        fs::read_to_string(t.join("prelined")).unwrap(),
        "From s@x.test Thu Dec  3 00:00:00 2026\nReturn-Path: <s@x.test>\n\
         Delivered-To: list@heaven.test\nSubject: hi\n\nbody\n"
    );
    assert_eq!(
        fs::read_to_string(t.join("qmsg")).unwrap(),
        "Delivered-To: list@heaven.test\nSubject: hi\n\nbody\n"
    );
    assert_eq!(
        fs::read_to_string(t.join("qenv")).unwrap(),
        "Fowner-list@heaven.test\0Ta@mail.test\0Tb@mail.test\0\0"
    );
    assert_eq!(
        deliver(&t, &["-p", "db.cdb"], "list@heaven.test", "0").code,
        99
    );
    // unknown: bounce, or pass through with -p
    let o = deliver(&t, &["db.cdb"], "who@heaven.test", "0");
    o.expect(100, "", "Sorry, no mailbox here by that name. (#5.1.1)\n");
    deliver(&t, &["-p", "db.cdb"], "who@heaven.test", "0").expect(0, "", "");
    // programs and the queue decide the exit code
    let codes = [
        ("fail", "0", 100),
        ("soft", "0", 111),
        ("crash", "0", 111),
        ("list", "11", 100),
        ("list", "71", 111),
    ];
    for (who, qexit, want) in codes {
        let o = deliver(&t, &["db.cdb"], &format!("{who}@heaven.test"), qexit);
        assert_eq!(o.code, want, "{who} {qexit}: {}", o.stderr());
    }
    // nothing to forward: exit 0, nothing queued; a missing list defers before any program runs
    fs::remove_file(t.join("qenv")).unwrap();
    deliver(&t, &["db.cdb"], "null@heaven.test", "0").expect(0, "", "");
    assert!(!t.join("qenv").exists());
    let o = deliver(&t, &["db.cdb"], "later@heaven.test", "0");
    assert_eq!(o.code, 111, "{}", o.stderr());
    assert!(
        o.stderr().contains("unable to read ./missing.bin: "),
        "{}",
        o.stderr()
    );
    assert!(!t.join("ran").exists());
}
