//! qmail-inject: the message it prints with -n (byte for byte, only the generated Date and
//! Message-ID values masked, after checking their form), the envelope and message it hands
//! to a recording $QMAILQUEUE, recipient strategies, sender precedence, every environment
//! variable and QMAILINJECT letter, address rewriting, header edge cases, and the mapping of
//! qmail-queue failures to exit codes.
//! Not tested here: a read error on stdin (cannot be provoked from outside); out of memory;
//! the real qmail-queue (not built in this branch; the recorder stands in for it).

use crate::common::{home, home_lock, install_tree, run, Cmd, Out, TmpDir};
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::sync::MutexGuard;

/// Holds the home lock with a fresh tree and these control files.
fn home_with(controls: &[(&str, &str)]) -> MutexGuard<'static, ()> {
    let g = home_lock();
    install_tree(&home());
    for (name, value) in controls {
        std::fs::write(home().join("control").join(name), value).expect("control");
    }
    g
}

fn me() -> MutexGuard<'static, ()> {
    home_with(&[("me", "mx.test\n")])
}

/// qmail-inject with stdin at end of file unless a test gives input.
fn inject() -> Cmd {
    let mut c = run("qmail-inject");
    c.raw().stdin(Stdio::null());
    c
}

/// The generated Date (`D Mon YYYY HH:MM:SS -0000`) as a Message-ID stamp, if it is one.
fn stamp_of(date: &str) -> Option<String> {
    const MONTHS: [&str; 12] = [
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
    ];
    let v: Vec<&str> = date.strip_suffix(" -0000")?.split(' ').collect();
    let [d, m, y, t] = v[..] else { return None };
    let m = MONTHS.iter().position(|&x| x == m)? + 1;
    let hms: Vec<&str> = t.split(':').collect();
    let digits = |s: &str, n: usize| s.len() == n && s.bytes().all(|c| c.is_ascii_digit());
    let ok = (1..=2).contains(&d.len())
        && d.bytes().all(|c| c.is_ascii_digit())
        && !d.starts_with('0')
        && digits(y, 4)
        && hms.len() == 3
        && hms.iter().all(|x| digits(x, 2));
    ok.then(|| format!("{y}{m:02}{:0>2}{}{}{}", d, hms[0], hms[1], hms[2]))
}

/// Replaces the values of generated Date/Resent-Date and Message-ID/Resent-Message-ID
/// fields in the header with DATE and <STAMP.PID.qmail@…>, checking their form and that
/// both name the same second. Everything else is left byte for byte.
fn mask(msg: &[u8]) -> String {
    let mut out = Vec::new();
    let mut stamp: Option<String> = None;
    let mut in_header = true;
    for line in msg.split_inclusive(|&c| c == b'\n') {
        if line == b"\n" {
            in_header = false;
        }
        let s = String::from_utf8_lossy(line);
        let s = s.trim_end_matches('\n');
        let (prefix, rest) = s.split_at(if s.starts_with("Resent-") { 7 } else { 0 });
        if in_header {
            if let Some(st) = rest.strip_prefix("Date: ").and_then(stamp_of) {
                stamp = Some(st);
                out.extend_from_slice(format!("{prefix}Date: DATE\n").as_bytes());
                continue;
            }
            if let Some(id) = rest.strip_prefix("Message-ID: <") {
                let (st, id) = id.split_at(id.find('.').unwrap_or(0));
                let pid_end = id[1..].find('.').map_or(0, |i| i + 1);
                let (pid, host) = id.split_at(pid_end);
                if st.len() == 14 && pid.len() > 1 && host.starts_with(".qmail@") {
                    assert!(pid[1..].bytes().all(|c| c.is_ascii_digit()), "{s}");
                    if let Some(d) = &stamp {
                        assert_eq!(d, st, "Message-ID and Date disagree");
                    }
                    out.extend_from_slice(
                        format!("{prefix}Message-ID: <STAMP.PID{host}\n").as_bytes(),
                    );
                    continue;
                }
            }
        }
        out.extend_from_slice(line);
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// The value of the first `name:` field of a message.
fn field(msg: &[u8], name: &str) -> String {
    let s = String::from_utf8_lossy(msg);
    s.lines()
        .find_map(|l| l.strip_prefix(&format!("{name}: ")))
        .unwrap_or_else(|| panic!("no {name} in {s}"))
        .to_string()
}

fn expect_n(o: Out, msg: &str) {
    assert_eq!((o.code, o.stderr()), (0, String::new()));
    assert_eq!(mask(&o.out), msg);
}

/// A stand-in for qmail-queue that keeps the message and envelope and exits with `code`
/// after writing `fd6` to descriptor 6.
struct Recorder {
    dir: TmpDir,
    prog: PathBuf,
}

impl Recorder {
    fn new(code: u8, fd6: &str) -> Recorder {
        let dir = TmpDir::new("qq");
        let d = dir.0.display();
        let script = format!(
            "#!/bin/sh\ncat > {d}/msg || exit 54\ncat <&1 > {d}/env || exit 54\npwd > {d}/cwd\nprintf '%s' '{fd6}' >&6\nexit {code}\n"
        );
        let prog = dir.write("qmail-queue", script.as_bytes());
        std::fs::set_permissions(&prog, std::fs::Permissions::from_mode(0o755)).expect("chmod");
        Recorder { dir, prog }
    }
    fn ok() -> Recorder {
        Recorder::new(0, "")
    }
    fn read(&self, name: &str) -> Vec<u8> {
        std::fs::read(self.dir.join(name)).unwrap_or_else(|e| panic!("{name}: {e}"))
    }
    fn env(&self) -> String {
        String::from_utf8_lossy(&self.read("env")).replace('\0', "|")
    }
    fn msg(&self) -> String {
        mask(&self.read("msg"))
    }
    fn cmd(&self) -> Cmd {
        inject().env("QMAILQUEUE", &self.prog)
    }
}

#[test]
fn prints_a_message_with_generated_fields_first() {
    let _g = me();
    let o = inject()
        .arg("-n")
        .env("USER", "alice")
        .stdin("Subject: hi\nTo: joe\n\nbody\n")
        .go();
    expect_n(
        o,
        "Return-Path: <alice@mx.test>\nDate: DATE\nMessage-ID: <STAMP.PID.qmail@mx.test>\n\
         From: alice@mx.test\nSubject: hi\nTo: joe@mx.test\n\nbody\n",
    );
}

#[test]
fn placeholders_without_me() {
    let _g = home_with(&[]);
    let o = inject().arg("-n").stdin("To: joe\n").go();
    expect_n(
        o,
        "Return-Path: <anonymous@defaulthost.defaultdomain>\nDate: DATE\n\
         Message-ID: <STAMP.PID.qmail@idhost>\nFrom: anonymous@defaulthost.defaultdomain\n\
         To: joe@defaulthost.defaultdomain\n",
    );
}

#[test]
fn rewriting_examples_of_the_spec() {
    let _g = home_with(&[
        ("me", "zippy.af.mil\n"),
        ("defaultdomain", "af.mil\n"),
        ("plusdomain", "berkeley.edu   \nignored\n"),
    ]);
    let q = Recorder::ok();
    q.cmd()
        .env("QMAILDEFAULTHOST", "af.mil")
        .env("USER", "u")
        .args([
            "joe",
            "joe@zippy",
            "eric@mammoth.cs+",
            "x@[1.2.3.4]",
            "y@host.",
            "@r1,@r2:z@q",
        ])
        .stdin("Subject: s\n")
        .go()
        .expect(0, "", "");
    assert_eq!(
        q.env(),
        "Fu@af.mil|Tjoe@af.mil|Tjoe@zippy.af.mil|Teric@mammoth.cs.berkeley.edu|\
         Tx@[1.2.3.4]|Ty@host.af.mil|T@r1,@r2:z@q.af.mil||"
    );
    assert_eq!(
        q.read("cwd"),
        format!("{}\n", home().display()).into_bytes()
    );
    let o = inject()
        .arg("-n")
        .stdin(
            "To: joe, joe@zippy, Eric <eric@mammoth.cs+>, <@a,@b:c@d.e>\nCc: djb fred, list: a, b;\n\
             Reply-To: (c) x@y.z.\n",
        )
        .env("USER", "u")
        .go();
    expect_n(
        o,
        "Return-Path: <u@zippy.af.mil>\nDate: DATE\nMessage-ID: <STAMP.PID.qmail@zippy.af.mil>\n\
         From: u@zippy.af.mil\n\
         To: joe@zippy.af.mil, joe@zippy.af.mil, Eric <eric@mammoth.cs.berkeley.edu>,\n  <c@d.e>\n\
         Cc: djb@zippy.af.mil, fred@zippy.af.mil, list: a@zippy.af.mil, b@zippy.af.mil;\n\
         Reply-To: x@y.z (c)\n",
    );
}

#[test]
fn recipient_strategies() {
    let _g = me();
    let header = "To: h1, h2\nBcc: hb\nApparently-To: ha\nCc: hc\nSubject: x\n\nbody\n";
    let cases: [(&[&str], &str); 9] = [
        (&["a1", "a2"], "Ta1@mx.test|Ta2@mx.test||"),
        (
            &[],
            "Th2@mx.test|Th1@mx.test|Thb@mx.test|Tha@mx.test|Thc@mx.test||",
        ),
        (&["-a"], "|"),
        (&["-a", "a1"], "Ta1@mx.test||"),
        (
            &["-h", "a1", "not@]parsed"],
            "Th2@mx.test|Th1@mx.test|Thb@mx.test|Tha@mx.test|Thc@mx.test||",
        ),
        (
            &["-H", "a1"],
            "Ta1@mx.test|Th2@mx.test|Th1@mx.test|Thb@mx.test|Tha@mx.test|Thc@mx.test||",
        ),
        (&["-hA", "a1"], "Ta1@mx.test||"),
        (&["-Ha", "a1"], "Ta1@mx.test||"),
        (
            &["-A"],
            "Th2@mx.test|Th1@mx.test|Thb@mx.test|Tha@mx.test|Thc@mx.test||",
        ),
    ];
    for (args, env) in cases {
        let q = Recorder::ok();
        q.cmd()
            .args(args)
            .env("USER", "s")
            .stdin(header)
            .go()
            .expect(0, "", "");
        assert_eq!(q.env(), format!("Fs@mx.test|{env}"), "{args:?}");
        assert_eq!(
            q.msg(),
            "Date: DATE\nMessage-ID: <STAMP.PID.qmail@mx.test>\nFrom: s@mx.test\n\
             To: h1@mx.test, h2@mx.test\nApparently-To: ha@mx.test\nCc: hc@mx.test\nSubject: x\n\nbody\n"
        );
    }
}

#[test]
fn sender_precedence() {
    let _g = me();
    let msg = "Return-Path: <rp@x.org>\nReturn-Path: <second@x.org>\nTo: t\n";
    let env = |args: &[&str], input: &str| {
        let q = Recorder::ok();
        q.cmd()
            .args(args)
            .env("QMAILUSER", "u")
            .env("QMAILSUSER", "su")
            .env("QMAILSHOST", "sh.test")
            .stdin(input)
            .go()
            .expect(0, "", "");
        assert!(!q.msg().contains("Return-Path"));
        q.env()
    };
    assert_eq!(env(&["-f", "f@x.org"], msg), "Ff@x.org|Tt@mx.test||");
    assert_eq!(env(&["-fjoe"], msg), "Fjoe@mx.test|Tt@mx.test||");
    assert_eq!(env(&["-f", ""], msg), "F|Tt@mx.test||");
    assert_eq!(
        env(&["-f", "a@x.org", "-f", "b@x.org"], msg),
        "Fb@x.org|Tt@mx.test||"
    );
    assert_eq!(env(&[], msg), "Frp@x.org|Tt@mx.test||");
    assert_eq!(env(&[], "Return-Path: <>\nTo: t\n"), "F|Tt@mx.test||");
    assert_eq!(
        env(&[], "Return-path: a@x.org, b@x.org\nTo: t\n"),
        "Fb@x.org|Tt@mx.test||"
    );
    assert_eq!(env(&[], "To: t\n"), "Fsu@sh.test|Tt@mx.test||");
    assert_eq!(env(&["-f", "x y"], "To: t\n"), "Fx y@mx.test|Tt@mx.test||");
    inject().args(["-f", "a@(b"]).go().expect(
        100,
        "",
        "qmail-inject: fatal: unable to parse this line:\na@(b\n",
    );
}

#[test]
fn user_host_and_name_variables() {
    let _g = me();
    let from = |vars: &[(&str, &str)]| {
        let mut c = inject().arg("-n");
        for (k, v) in vars {
            c = c.env(k, v);
        }
        let o = c.stdin("To: t\n").go();
        assert_eq!((o.code, o.stderr()), (0, String::new()));
        (field(&o.out, "Return-Path"), field(&o.out, "From"))
    };
    let all = [
        ("QMAILUSER", "qu"),
        ("MAILUSER", "mu"),
        ("USER", "us"),
        ("LOGNAME", "ln"),
        ("QMAILHOST", "qh.test"),
        ("MAILHOST", "mh.test"),
        ("QMAILNAME", "Q Name"),
        ("MAILNAME", "M Name"),
        ("NAME", "N Name"),
    ];
    assert_eq!(
        from(&all),
        ("<qu@qh.test>".into(), "\"Q Name\" <qu@qh.test>".into())
    );
    assert_eq!(
        from(&all[1..]),
        ("<mu@qh.test>".into(), "\"Q Name\" <mu@qh.test>".into())
    );
    assert_eq!(
        from(&all[2..4]),
        ("<us@mx.test>".into(), "us@mx.test".into())
    );
    assert_eq!(
        from(&all[3..4]),
        ("<ln@mx.test>".into(), "ln@mx.test".into())
    );
    assert_eq!(
        from(&[]),
        ("<anonymous@mx.test>".into(), "anonymous@mx.test".into())
    );
    assert_eq!(
        from(&all[5..6]),
        ("<anonymous@mh.test>".into(), "anonymous@mh.test".into())
    );
    assert_eq!(
        from(&all[7..]),
        (
            "<anonymous@mx.test>".into(),
            "\"M Name\" <anonymous@mx.test>".into()
        )
    );
    assert_eq!(
        from(&all[8..]),
        (
            "<anonymous@mx.test>".into(),
            "\"N Name\" <anonymous@mx.test>".into()
        )
    );
    assert_eq!(
        from(&[
            ("QMAILUSER", "a b"),
            ("QMAILSUSER", "s.u."),
            ("QMAILSHOST", "shost"),
            ("QMAILHOST", "h")
        ]),
        (
            "<\"s.u.\"@shost.mx.test>".into(),
            "\"a b\"@h.mx.test".into()
        )
    );
    assert_eq!(
        from(&[("QMAILNAME", "Evil\nBcc: x@y"), ("QMAILUSER", "e")]),
        ("<e@mx.test>".into(), "\"Evil Bcc: x@y\" <e@mx.test>".into())
    );
}

#[test]
fn default_names_and_their_variables() {
    let _g = home_with(&[
        ("me", "mx.test\n"),
        ("defaulthost", "dh\n"),
        ("defaultdomain", "dd.test\n"),
        ("plusdomain", "pd.test\n"),
        ("idhost", "id.test\n"),
    ]);
    let o = inject()
        .arg("-n")
        .env("USER", "u")
        .stdin("To: a, b@c, d@e+\n")
        .go();
    expect_n(
        o,
        "Return-Path: <u@dh.dd.test>\nDate: DATE\nMessage-ID: <STAMP.PID.qmail@id.test>\n\
         From: u@dh.dd.test\nTo: a@dh.dd.test, b@c.dd.test, d@e.pd.test\n",
    );
    let o = inject()
        .arg("-n")
        .env("USER", "u")
        .env("QMAILDEFAULTHOST", "h2")
        .env("QMAILDEFAULTDOMAIN", "d2.test")
        .env("QMAILPLUSDOMAIN", "p2.test")
        .env("QMAILIDHOST", "i2.test")
        .stdin("To: a, b@c, d@e+\n")
        .go();
    expect_n(
        o,
        "Return-Path: <u@h2.d2.test>\nDate: DATE\nMessage-ID: <STAMP.PID.qmail@i2.test>\n\
         From: u@h2.d2.test\nTo: a@h2.d2.test, b@c.d2.test, d@e.p2.test\n",
    );
    inject()
        .arg("-n")
        .env("QMAILDEFAULTHOST", "(bad")
        .go()
        .expect(
            100,
            "",
            "qmail-inject: fatal: unable to parse this line:\n@(bad\n",
        );
}

#[test]
fn unreadable_controls() {
    let _g = me();
    std::fs::create_dir(home().join("control/defaulthost")).expect("mkdir");
    inject().arg("-n").go().expect(
        111,
        "",
        "qmail-inject: fatal: unable to read controls: is a directory\n",
    );
}

#[test]
fn qmailinject_letters() {
    let _g = me();
    let input = "Return-Path: <rp@x.org>\nFrom: orig@x.org\nMessage-ID: <orig@x.org>\nTo: t\n";
    let run_with = |letters: &str| {
        let q = Recorder::ok();
        q.cmd()
            .env("QMAILINJECT", letters)
            .env("USER", "u")
            .env("NAME", "U Ser")
            .stdin(input)
            .go()
            .expect(0, "", "");
        (q.env(), q.read("msg"))
    };
    let (env, msg) = run_with("");
    assert_eq!(env, "Frp@x.org|Tt@mx.test||");
    assert_eq!(
        mask(&msg),
        "Date: DATE\nFrom: orig@x.org\nMessage-ID: <orig@x.org>\nTo: t@mx.test\n"
    );
    let (env, msg) = run_with("s");
    assert_eq!(env, "Fu@mx.test|Tt@mx.test||");
    assert_eq!(
        mask(&msg),
        "Date: DATE\nFrom: orig@x.org\nMessage-ID: <orig@x.org>\nTo: t@mx.test\n"
    );
    let (_, msg) = run_with("f");
    assert_eq!(
        mask(&msg),
        "Date: DATE\nFrom: \"U Ser\" <u@mx.test>\nMessage-ID: <orig@x.org>\nTo: t@mx.test\n"
    );
    let (_, msg) = run_with("i");
    assert_eq!(
        mask(&msg),
        "Date: DATE\nMessage-ID: <STAMP.PID.qmail@mx.test>\nFrom: orig@x.org\nTo: t@mx.test\n"
    );
    let (_, msg) = run_with("cfXYZ");
    assert_eq!(
        mask(&msg),
        "Date: DATE\nFrom: u@mx.test (U Ser)\nMessage-ID: <orig@x.org>\nTo: t@mx.test\n"
    );
    let (env, _) = run_with("r");
    assert_eq!(env, "Frp@x.org-@[]|Tt@mx.test||");
    let (env, _) = run_with("rs");
    assert_eq!(env, "Fu-@mx.test-@[]|Tt@mx.test||");
    let (env, _) = run_with("m");
    assert_eq!(env, "Frp@x.org|Tt@mx.test||");
    // m: the default sender carries the start time and the pid of the Message-ID
    for (letters, tail) in [("ms", "@mx.test"), ("msr", "-@mx.test-@[]")] {
        let (env, msg) = run_with(&format!("i{letters}"));
        let id = field(&msg, "Message-ID");
        let pid = id.split('.').nth(1).expect("pid");
        let date = field(&msg, "Date");
        let sender = env.strip_prefix("Fu-").expect("sender");
        let (secs, rest) = sender.split_once('.').expect("dot");
        let secs: i64 = secs.parse().expect("time");
        assert_eq!(qlib::date::rfc822(secs), date);
        assert_eq!(rest, format!("{pid}{tail}|Tt@mx.test||"));
    }
    let q = Recorder::ok();
    q.cmd()
        .args(["-f", "f@x.org"])
        .env("QMAILINJECT", "rm")
        .stdin(input)
        .go()
        .expect(0, "", "");
    assert_eq!(q.env(), "Ff@x.org|Tt@mx.test||");
}

#[test]
fn mail_followup_to() {
    let _g = me();
    let t = TmpDir::new("mft");
    t.write("lists", b"# mailing lists\nList@X.org  \n\nother@y.org\n");
    let q = Recorder::ok();
    q.cmd()
        .cwd(&t.0)
        .env("QMAILMFTFILE", "lists")
        .env("USER", "u")
        .stdin("To: a@x.org, list@x.org\nCc: c@x.org\nSubject: s\n")
        .go()
        .expect(0, "", "");
    assert_eq!(
        q.msg(),
        "Date: DATE\nMessage-ID: <STAMP.PID.qmail@mx.test>\nFrom: u@mx.test\n\
         Mail-Followup-To: c@x.org,\n  a@x.org,\n  list@x.org\n\
         To: a@x.org, list@x.org\nCc: c@x.org\nSubject: s\n"
    );
    assert_eq!(q.env(), "Fu@mx.test|Tlist@x.org|Ta@x.org|Tc@x.org||");
    for input in [
        "To: a@x.org\n",
        "To: list@x.org\nMail-Followup-To: me@x.org\n",
    ] {
        let o = inject()
            .arg("-n")
            .cwd(&t.0)
            .env("QMAILMFTFILE", "lists")
            .stdin(input)
            .go();
        assert_eq!(o.code, 0);
        assert_eq!(
            o.stdout().matches("Mail-Followup-To").count(),
            input.matches("Mail-").count()
        );
    }
    let o = inject()
        .arg("-n")
        .cwd(&t.0)
        .env("QMAILMFTFILE", "missing")
        .stdin("To: list@x.org\n")
        .go();
    assert_eq!(
        (o.code, o.stdout().contains("Mail-Followup-To")),
        (0, false)
    );
}

#[test]
fn resent_messages() {
    let _g = me();
    let q = Recorder::ok();
    q.cmd()
        .env("USER", "u")
        .stdin("From: a@x.org\nTo: t\nDate: old\nResent-Bcc: rb\nResent-Sender: s@x.org\n\nbody\n")
        .go()
        .expect(0, "", "");
    assert_eq!(q.env(), "Fu@mx.test|Trb@mx.test||");
    assert_eq!(
        q.msg(),
        "Resent-Date: DATE\nResent-Message-ID: <STAMP.PID.qmail@mx.test>\nResent-From: u@mx.test\n\
         Resent-Cc: recipient list not shown: ;\nFrom: a@x.org\nTo: t@mx.test\nDate: old\n\
         Resent-Sender: s@x.org\n\nbody\n"
    );
    let o = inject()
        .arg("-n")
        .stdin("Resent-To: r1, r2\nResent-Date: d\nResent-Message-ID: <m>\nResent-From: f@x.org\n")
        .go();
    expect_n(
        o,
        "Return-Path: <anonymous@mx.test>\nResent-To: r1@mx.test, r2@mx.test\nResent-Date: d\n\
         Resent-Message-ID: <m>\nResent-From: f@x.org\n",
    );
}

#[test]
fn header_edge_cases() {
    let _g = me();
    let n = |input: &[u8]| {
        let o = inject()
            .arg("-n")
            .env("QMAILINJECT", "s")
            .env("USER", "u")
            .stdin(input)
            .go();
        assert_eq!((o.code, o.stderr()), (0, String::new()));
        mask(&o.out)
    };
    let head = "Return-Path: <u@mx.test>\nDate: DATE\nMessage-ID: <STAMP.PID.qmail@mx.test>\nFrom: u@mx.test\n";
    let cc = "Cc: recipient list not shown: ;\n";
    assert_eq!(
        n(b"Subject: no newline"),
        format!("{head}{cc}Subject: no newline\n")
    );
    assert_eq!(
        n(b"To: t\n\nlast line"),
        format!("{head}To: t@mx.test\n\nlast line\n")
    );
    assert_eq!(
        n(b"From u@x Mon Jan 1 00:00:00 2001\nTo: t\n"),
        format!("{head}MBOX-Line: From u@x Mon Jan 1 00:00:00 2001\nTo: t@mx.test\n")
    );
    assert_eq!(n(b""), format!("{head}{cc}"));
    assert_eq!(
        n(b"hello world\nsecond\n"),
        format!("{head}{cc}\nhello world\nsecond\n")
    );
    assert_eq!(n(b"\nbody only\n"), format!("{head}{cc}\nbody only\n"));
    assert_eq!(
        n(b"To: t\nX-Long: a\n  b\n\tc\nnot a field\nY: z\n"),
        format!("{head}To: t@mx.test\nX-Long: a\n  b\n\tc\n\nnot a field\nY: z\n")
    );
    assert_eq!(
        n(b"TO : (comment) t\nContent-Length: 99\ncc: <>\n"),
        format!("{head}TO: t@mx.test (comment)\ncc: <>\n")
    );
    assert_eq!(
        n(b"To: (unterminated\nCc: b>\n"),
        format!("{head}To: (unterminated\nCc: b>\n")
    );
    let o = inject()
        .stdin("To: a, b>\n")
        .env("QMAILQUEUE", "/nonexistent")
        .go();
    assert_eq!(o.code, 111, "tolerated To, then queueing fails");
    inject()
        .arg("-n")
        .stdin("To: t\nFrom: (x\nSubject: s\n\nbody\n")
        .go()
        .expect(
            100,
            "",
            "qmail-inject: fatal: unable to parse this line:\nFrom: (x\n",
        );
    inject().arg("-n").stdin("Reply-To: a>\n  b\n").go().expect(
        100,
        "",
        "qmail-inject: fatal: unable to parse this line:\nReply-To: a>\n  b\n",
    );
}

#[test]
fn body_bytes_pass_unchanged() {
    let _g = me();
    let body: Vec<u8> = (0..=255u8)
        .chain(b"\r\n\0\0\xff\n.\n".iter().copied())
        .collect();
    let input = [b"Subject: \xe9t\xe9\n\n".to_vec(), body.clone()].concat();
    let q = Recorder::ok();
    q.cmd().stdin(&input).go().expect(0, "", "");
    let msg = q.read("msg");
    let at = msg
        .windows(2)
        .position(|w| w == b"\n\n")
        .expect("blank line")
        + 2;
    assert_eq!(&msg[at..], &body[..]);
    assert!(msg[..at].ends_with(b"Subject: \xe9t\xe9\n\n"));
    let o = inject().arg("-n").stdin(&input).go();
    assert_eq!(o.code, 0);
    assert!(o.out.ends_with(&body));
    let big: Vec<u8> = (0..3_000_000u32).map(|i| (i % 251) as u8).collect();
    let q = Recorder::ok();
    q.cmd()
        .stdin([b"\n".to_vec(), big.clone()].concat())
        .go()
        .expect(0, "", "");
    let msg = q.read("msg");
    assert_eq!(&msg[msg.len() - big.len() - 1..msg.len() - 1], &big[..]);
    assert_eq!(msg.last(), Some(&b'\n'));
}

#[test]
fn huge_header_lines() {
    let _g = me();
    let subject = format!("Subject: {}\n", "x".repeat(200_000));
    let o = inject()
        .arg("-n")
        .stdin(format!("To: t\n{subject}\nb\n"))
        .go();
    assert_eq!(o.code, 0);
    assert!(o
        .stdout()
        .ends_with(&format!("To: t@mx.test\n{subject}\nb\n")));
    let mut to = String::from("To: ");
    for i in 0..5000 {
        to.push_str(&format!("user{i}, "));
    }
    to.push_str("last\n");
    let q = Recorder::ok();
    q.cmd().stdin(&to).go().expect(0, "", "");
    let msg = q.read("msg");
    let text = String::from_utf8_lossy(&msg);
    let to_out: Vec<&str> = text
        .lines()
        .skip_while(|l| !l.starts_with("To: "))
        .collect();
    assert!(to_out.len() > 100);
    assert!(to_out.iter().all(|l| l.len() <= 80));
    assert!(to_out[1..]
        .iter()
        .all(|l| l.starts_with("  user") || l.starts_with("  last")));
    let env = q.env();
    assert!(env.starts_with("Fanonymous@mx.test|Tlast@mx.test|Tuser4999@mx.test|"));
    assert_eq!(env.matches("|T").count(), 5001);
    let o = inject()
        .arg("-n")
        .stdin(format!("Subject: {}\n", "y".repeat(2 << 20)))
        .go();
    o.expect(100, "", "qmail-inject: fatal: header too long\n");
    let many = format!("X: {}\n", "w".repeat(900_000)).repeat(5);
    inject()
        .arg("-n")
        .stdin(many)
        .go()
        .expect(100, "", "qmail-inject: fatal: header too long\n");
    let folded = format!("Subject: s\n{}", " continued\n".repeat(200_000));
    inject()
        .arg("-n")
        .stdin(folded)
        .go()
        .expect(100, "", "qmail-inject: fatal: header too long\n");
}

#[test]
fn queue_failures_map_to_exit_codes() {
    let _g = me();
    let cases: [(u8, &str, i32, &str); 7] = [
        (53, "", 111, "qq write error or disk full (#4.3.0)"),
        (11, "", 100, "envelope address too long for qq (#5.1.3)"),
        (82, "Dsorry (#5.7.1)", 100, "sorry (#5.7.1)"),
        (82, "Ztry later (#4.3.0)", 111, "try later (#4.3.0)"),
        (82, "D", 111, "qq temporary problem (#4.3.0)"),
        (
            31,
            "",
            100,
            "mail server permanently rejected message (#5.3.0)",
        ),
        (91, "", 111, "qq internal bug (#4.3.0)"),
    ];
    for (code, fd6, exit, text) in cases {
        let q = Recorder::new(code, fd6);
        q.cmd()
            .arg("t@x.org")
            .stdin("Subject: s\n\nbody\n")
            .go()
            .expect(exit, "", &format!("qmail-inject: fatal: {text}\n"));
    }
    let q = Recorder::ok();
    let missing = q.dir.join("missing");
    inject()
        .env("QMAILQUEUE", &missing)
        .stdin("To: t\n")
        .go()
        .expect(
            111,
            "",
            "qmail-inject: fatal: unable to run qmail-queue: file does not exist\n",
        );
    let early = q.dir.write("early", b"#!/bin/sh\nexit 0\n");
    std::fs::set_permissions(&early, std::fs::Permissions::from_mode(0o755)).expect("chmod");
    let big = format!("To: t\n\n{}", "z".repeat(1 << 20));
    inject().env("QMAILQUEUE", &early).stdin(big).go().expect(
        111,
        "",
        "qmail-inject: fatal: qq write error or disk full (#4.3.0)\n",
    );
}

#[test]
fn usage_and_bad_arguments() {
    let _g = me();
    let usage = "qmail-inject: usage: qmail-inject [ -nNaAhH ] [ -f sender ] [ recip ... ]\n";
    let said = |what: &str| format!("qmail-inject: {what}\n{usage}");
    inject()
        .arg("-x")
        .go()
        .expect(100, "", &said("illegal option -- x"));
    let f = said("option requires an argument -- f");
    inject().arg("-f").go().expect(100, "", &f);
    inject().args(["-n", "ok", "bad@]x"]).go().expect(
        100,
        "",
        "qmail-inject: fatal: unable to parse address: bad@]x\n",
    );
    let o = inject().args(["-n", "--", "-x"]).stdin("To: t\n").go();
    assert_eq!(o.code, 0);
    let q = Recorder::ok();
    q.cmd()
        .args(["-Nn", "-N", "a b", "\"q\"@x.org"])
        .go()
        .expect(0, "", "");
    assert_eq!(q.env(), "Fanonymous@mx.test|Ta b@mx.test|T\"q\"@x.org||");
    assert!(Path::new(&q.dir.join("msg")).exists());
}
