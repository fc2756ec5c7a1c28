//! qmail-local, called directly with the argv qmail-lspawn would give it: a home directory
//! in a TmpDir, the message on stdin from a file, an empty environment plus PATH and
//! QMAILQUEUE (a recorder script standing in for qmail-queue: message → `qmsg`, envelope →
//! `qenv`). Covers every `.qmail` line form, the file search, the refusals, the program
//! environment and exit codes, forwarding, `-n`, and the mboxrd round trip.
//!
//! Not tested here: running as another user (qmail-lspawn's job; tests run as one account);
//! the 30 s mbox lock timeout (unit test in qlib::mbox with a zero bound, no timing here);
//! fsync durability (cannot be observed without a crash); temporary errno classes of
//! open/stat (cannot be provoked unprivileged); a real qmail-queue; the EEXIST retry of
//! Maildir names (qlib::maildir unit-tests that names are unique instead); an mbox write
//! error and the cut back (needs a full disk; qlib::mbox unit-tests it with a read error).

use crate::common::{recorder, run, Out, TmpDir};
use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::path::PathBuf;
use std::process::Stdio;

const DOMAIN: &str = "example.com";

struct L {
    t: TmpDir,
    home: PathBuf,
    domain: String,
    env: Vec<(&'static str, &'static str)>,
}

fn chmod(p: &std::path::Path, mode: u32) {
    fs::set_permissions(p, fs::Permissions::from_mode(mode)).expect("chmod");
}

impl L {
    fn new(tag: &str) -> L {
        let t = TmpDir::new(tag);
        let home = t.join("home");
        fs::create_dir(&home).expect("mkdir home");
        chmod(&home, 0o755);
        L {
            t,
            home,
            domain: DOMAIN.to_string(),
            env: Vec::new(),
        }
    }
    /// Writes `~/name` with `mode`.
    fn put(&self, name: &str, text: impl AsRef<[u8]>, mode: u32) {
        let p = self.home.join(name);
        fs::write(&p, text).expect("write");
        chmod(&p, mode);
    }
    fn qmail(&self, name: &str, text: impl AsRef<[u8]>) {
        self.put(name, text, 0o644);
    }
    fn maildir(&self, rel: &str) -> PathBuf {
        let md = self.home.join(rel);
        for s in ["tmp", "new", "cur"] {
            fs::create_dir_all(md.join(s)).expect("maildir");
        }
        md
    }
    fn read(&self, rel: &str) -> Vec<u8> {
        fs::read(self.home.join(rel)).unwrap_or_else(|e| panic!("{rel}: {e}"))
    }
    fn exists(&self, rel: &str) -> bool {
        self.home.join(rel).exists()
    }
    fn queued(&self) -> Option<(Vec<u8>, Vec<u8>)> {
        let m = fs::read(self.t.join("qmsg")).ok()?;
        Some((m, fs::read(self.t.join("qenv")).ok()?))
    }
    /// Runs `qmail-local opts -- joe HOME local dash ext example.com sender dd` with `msg`.
    fn go(&self, opts: &[&str], a: [&str; 5], msg: &[u8]) -> Out {
        self.go_bytes(opts, a.map(|s| s.as_bytes().to_vec()), msg)
    }
    fn go_bytes(&self, opts: &[&str], a: [Vec<u8>; 5], msg: &[u8]) -> Out {
        use std::os::unix::ffi::OsStrExt;
        let m = self.t.write("message", msg);
        let [local, dash, ext, sender, dd] = a;
        let os = |b: &[u8]| std::ffi::OsStr::from_bytes(b).to_os_string();
        let mut c = run("qmail-local")
            .args(opts)
            .arg("--")
            .arg("joe")
            .arg(&self.home)
            .args([os(&local), os(&dash), os(&ext)])
            .arg(&self.domain)
            .args([os(&sender), os(&dd)])
            .env("QMAILQUEUE", recorder())
            .env("Q_DIR", &self.t.0);
        for (k, v) in &self.env {
            c = c.env(k, v);
        }
        c.raw()
            .stdin(Stdio::from(fs::File::open(&m).expect("open message")));
        // forwards run the queue program with the compiled-in home as working directory
        let _home = crate::common::home_lock();
        c.go()
    }
}

const USAGE: &str = "qmail-local: usage: qmail-local [ -nN ] user homedir local dash ext domain \
    sender defaultdelivery\n";

const MSG: &[u8] = b"Subject: hi\n\nbody\n";

/// `qp 1234` → `qp PID`
fn mask_qp(out: &Out) -> String {
    let s = out.stdout();
    match s.find("qp ") {
        Some(i) => {
            let digits = s[i + 3..].chars().take_while(char::is_ascii_digit).count();
            assert!(digits > 0, "qp without pid: {s:?}");
            format!("{}qp PID{}", &s[..i], &s[i + 3 + digits..])
        }
        None => s,
    }
}

fn env0(b: &[u8]) -> Vec<(String, String)> {
    let mut v: Vec<(String, String)> = b
        .split(|&c| c == 0)
        .filter(|r| !r.is_empty())
        .map(|r| {
            let s = String::from_utf8_lossy(r);
            let (k, v) = s.split_once('=').expect("k=v");
            (k.to_string(), v.to_string())
        })
        .collect();
    v.sort();
    v
}

#[test]
fn comments_are_ignored() {
    let l = L::new("ql-comment");
    l.qmail(
        ".qmail",
        "# a comment\n#./not-this\n./Mailbox\n#|touch ran\n",
    );
    let o = l.go(&[], ["joe", "", "", "a@b.org", "./Default"], MSG);
    o.expect(0, "did 1+0+0\n", "");
    assert!(l.exists("Mailbox"));
    for f in ["not-this", "ran", "Default"] {
        assert!(!l.exists(f), "{f}");
    }
}

#[test]
fn maildir_gets_exact_bytes_mode_0600_and_nothing_in_tmp() {
    let l = L::new("ql-maildir");
    let md = l.maildir("Maildir");
    l.qmail(".qmail-x", "./Maildir/\n");
    let o = l.go(&[], ["joe-x", "-", "x", "alice@example.org", ""], MSG);
    o.expect(0, "did 1+0+0\n", "");
    let new = crate::common::ls(md.join("new"));
    assert_eq!(new.len(), 1);
    assert_eq!(crate::common::ls(md.join("tmp")), Vec::<String>::new());
    let f = md.join("new").join(&new[0]);
    assert_eq!(
        fs::read(&f).expect("read"),
        [
            &b"Return-Path: <alice@example.org>\nDelivered-To: joe-x@example.com\n"[..],
            MSG
        ]
        .concat()
    );
    let mode = fs::metadata(&f).expect("stat").permissions().mode();
    assert_eq!(mode & 0o7777, 0o600);
    // <secs>.M<usec>P<pid>Q<n>.<host>
    let name = &new[0];
    let secs: String = name.chars().take_while(char::is_ascii_digit).collect();
    assert!(
        secs.len() >= 9 && name[secs.len()..].starts_with(".M"),
        "{name}"
    );
    assert!(name.contains('P') && name.contains('Q') && !name.contains(':'));
    // a missing maildir: temporary, nothing delivered
    l.qmail(".qmail-y", "./Nope/\n");
    l.go(&[], ["joe-y", "-", "y", "a@b", ""], MSG).expect(
        111,
        "",
        "Unable to chdir to maildir ./Nope/: file does not exist. (#4.2.1)\n",
    );
}

/// Checks `From <sender> Www Mmm DD HH:MM:SS YYYY\n` and returns the rest of the text.
fn strip_from_line<'a>(text: &'a [u8], sender: &str) -> &'a [u8] {
    let nl = text.iter().position(|&c| c == b'\n').expect("From_ line");
    let line = String::from_utf8_lossy(&text[..nl]).into_owned();
    let date = line
        .strip_prefix(&format!("From {sender} "))
        .unwrap_or_else(|| panic!("{line:?}"));
    let b = date.as_bytes();
    assert_eq!(b.len(), 24, "{date:?}");
    assert!(
        b[8].is_ascii_digit() && b[9].is_ascii_digit(),
        "day zero-padded: {date:?}"
    );
    assert_eq!(
        (b[3], b[7], b[10], b[13], b[16], b[19]),
        (b' ', b' ', b' ', b':', b':', b' ')
    );
    &text[nl + 1..]
}

#[test]
fn mbox_relative_and_absolute() {
    let l = L::new("ql-mbox");
    let abs = l.t.join("abs-mbox");
    fs::write(&abs, b"old\n\n").expect("write");
    l.qmail(".qmail", format!("./mbox\n{}\n", abs.display()));
    let m = b"From me\n>From you\nFrom: x\nno newline";
    l.go(&[], ["joe", "", "", "a b@x.org", ""], m)
        .expect(0, "did 2+0+0\n", "");
    let want = b"Return-Path: <\"a b\"@x.org>\nDelivered-To: joe@example.com\n>From me\n>>From you\nFrom: x\nno newline\n\n";
    let got = l.read("mbox");
    assert_eq!(strip_from_line(&got, "a-b@x.org"), &want[..]);
    let got = fs::read(&abs).expect("abs");
    assert_eq!(&got[..5], b"old\n\n");
    assert_eq!(strip_from_line(&got[5..], "a-b@x.org"), &want[..]);
    let mode = fs::metadata(l.home.join("mbox"))
        .expect("stat")
        .permissions()
        .mode();
    assert_eq!(mode & 0o777, 0o600);
    // the empty sender is MAILER-DAEMON in the From_ line and <> in Return-Path
    l.qmail(".qmail", "./bounces\n");
    l.go(&[], ["joe", "", "", "", ""], b"x\n")
        .expect(0, "did 1+0+0\n", "");
    let got = l.read("bounces");
    assert_eq!(
        strip_from_line(&got, "MAILER-DAEMON"),
        b"Return-Path: <>\nDelivered-To: joe@example.com\nx\n\n"
    );
}

#[test]
fn program_gets_message_environment_and_home() {
    let mut l = L::new("ql-env");
    l.domain = "mx.a.Example.org".to_string();
    l.qmail(
        ".qmail-list-default",
        "|env -0 > envdump; cat > stdin.copy; pwd > pwd.txt; echo said hello\n",
    );
    let o = l.go(
        &[],
        [
            "joe-list-Foo.Bar-baz",
            "-",
            "list-Foo.Bar-baz",
            "a b@x.org",
            "",
        ],
        MSG,
    );
    o.expect(0, "said hello\ndid 0+0+1\n", "");
    assert_eq!(l.read("stdin.copy"), MSG);
    assert_eq!(
        l.read("pwd.txt"),
        format!("{}\n", l.home.display()).into_bytes()
    );
    let env = env0(&l.read("envdump"));
    let shell_own = ["PWD", "SHLVL", "_", "OLDPWD"];
    let got: Vec<(String, String)> = env
        .iter()
        .filter(|(k, _)| !shell_own.contains(&k.as_str()))
        .cloned()
        .collect();
    let uf = env
        .iter()
        .find(|(k, _)| k == "UFLINE")
        .expect("UFLINE")
        .1
        .clone();
    assert_eq!(strip_from_line(uf.as_bytes(), "a-b@x.org"), b"");
    let mut want: Vec<(String, String)> = [
        ("DEFAULT", "Foo.Bar-baz"),
        (
            "DTLINE",
            "Delivered-To: joe-list-Foo.Bar-baz@mx.a.Example.org\n",
        ),
        ("EXT", "list-Foo.Bar-baz"),
        ("EXT2", "Foo.Bar-baz"),
        ("EXT3", "baz"),
        ("EXT4", ""),
        ("HOME", &l.home.display().to_string()),
        ("HOST", "mx.a.Example.org"),
        ("HOST2", "mx.a.Example"),
        ("HOST3", "mx.a"),
        ("HOST4", "mx"),
        ("LOCAL", "joe-list-Foo.Bar-baz"),
        ("NEWSENDER", "a b@x.org"),
        ("PATH", &crate::common::path_env()),
        ("QMAILQUEUE", &recorder().display().to_string()),
        ("Q_DIR", &l.t.0.display().to_string()),
        ("RECIPIENT", "joe-list-Foo.Bar-baz@mx.a.Example.org"),
        ("RPLINE", "Return-Path: <\"a b\"@x.org>\n"),
        ("SENDER", "a b@x.org"),
        ("UFLINE", &uf),
        ("USER", "joe"),
    ]
    .iter()
    .map(|(k, v)| (k.to_string(), v.to_string()))
    .collect();
    want.sort();
    assert_eq!(got, want);
}

#[test]
fn host_and_ext_parts_and_no_default() {
    let mut l = L::new("ql-env2");
    // an inherited DEFAULT does not leak to programs when no -default file was selected
    l.env.push(("DEFAULT", "inherited"));
    l.qmail(".qmail-a-b-c-d-e", "|env -0 > envdump\n");
    l.go(&[], ["joe-a-b-c-d-e", "-", "a-b-c-d-e", "s@x", ""], MSG)
        .expect(0, "did 0+0+1\n", "");
    let env = env0(&l.read("envdump"));
    let get = |k: &str| env.iter().find(|(n, _)| n == k).map(|(_, v)| v.clone());
    assert_eq!(get("DEFAULT"), None);
    assert_eq!(get("EXT2").as_deref(), Some("b-c-d-e"));
    assert_eq!(get("EXT3").as_deref(), Some("c-d-e"));
    assert_eq!(get("EXT4").as_deref(), Some("d-e"));
    assert_eq!(get("HOST2").as_deref(), Some("example"));
}

#[test]
fn forwards_go_in_one_message_with_delivered_to_on_top() {
    let l = L::new("ql-fwd");
    l.qmail(
        ".qmail",
        "&first@x.org\nsecond@y.org\n|echo prog\n&third@z.org\n",
    );
    let o = l.go(&[], ["joe", "", "", "alice@example.org", ""], MSG);
    assert_eq!(
        (o.code, mask_qp(&o), o.stderr()),
        (0, "prog\ndid 0+3+1\nqp PID\n".into(), "".into())
    );
    let (m, e) = l.queued().expect("queued");
    assert_eq!(m, [&b"Delivered-To: joe@example.com\n"[..], MSG].concat());
    assert_eq!(
        e,
        b"Falice@example.org\0Tfirst@x.org\0Tsecond@y.org\0Tthird@z.org\0\0"
    );
}

#[test]
fn queue_refusal_is_reported() {
    let mut l = L::new("ql-qq");
    l.qmail(".qmail", "&a@x.org\n");
    l.env.push(("Q_EXIT", "31"));
    l.go(&[], ["joe", "", "", "s@x", ""], MSG).expect(
        100,
        "",
        "Unable to forward message: mail server permanently rejected message (#5.3.0)\n",
    );
    l.env[0] = ("Q_EXIT", "53");
    l.go(&[], ["joe", "", "", "s@x", ""], MSG).expect(
        111,
        "",
        "Unable to forward message: qq write error or disk full (#4.3.0)\n",
    );
}

#[test]
fn extension_search_cascades_to_default() {
    let l = L::new("ql-cascade");
    let files = [
        (".qmail-a-b-c:d", "|echo exact:$DEFAULT.\n"),
        (".qmail-a-b-default", "|echo a-b:$DEFAULT.\n"),
        (".qmail-a-default", "|echo a:$DEFAULT.\n"),
        (".qmail-default", "|echo any:$DEFAULT.\n"),
    ];
    for (f, t) in files {
        l.qmail(f, t);
    }
    let args = ["joe-A-b-C.d", "-", "A-b-C.d", "s@x", ""];
    for (f, want) in files
        .iter()
        .zip(["exact:.", "a-b:C.d.", "a:b-C.d.", "any:A-b-C.d."])
    {
        l.go(&[], args, MSG)
            .expect(0, &format!("{want}\ndid 0+0+1\n"), "");
        fs::remove_file(l.home.join(f.0)).expect("rm");
    }
    // nothing left: no such mailbox
    l.go(&[], args, MSG)
        .expect(100, "", "Sorry, no mailbox here by that name. (#5.1.1)\n");
    // an extension ending in default matches its own file; DEFAULT = its last 7 bytes
    l.qmail(".qmail-x-default", "|echo $DEFAULT\n");
    l.go(&[], ["joe-x-DEFAULT", "-", "x-DEFAULT", "s@x", ""], MSG)
        .expect(0, "DEFAULT\ndid 0+0+1\n", "");
}

#[test]
fn missing_or_empty_dot_qmail_means_defaultdelivery() {
    let l = L::new("ql-dd");
    let dd = "|echo one\n./Mailbox\n&fw@x.org";
    let o = l.go(&[], ["joe", "", "", "s@x", dd], MSG);
    assert_eq!(
        (o.code, mask_qp(&o)),
        (0, "one\ndid 1+1+1\nqp PID\n".into())
    );
    assert_eq!(l.queued().expect("queued").1, b"Fs@x\0Tfw@x.org\0\0");
    // an empty .qmail, even with the x bit (forward-only is cleared)
    l.put(".qmail", "", 0o755);
    l.go(&[], ["joe", "", "", "s@x", "./Other"], MSG)
        .expect(0, "did 1+0+0\n", "");
    assert!(l.exists("Other"));
    // an extension with an empty file also uses defaultdelivery
    l.qmail(".qmail-e", "");
    l.go(&[], ["joe-e", "-", "e", "s@x", "|echo dd"], MSG)
        .expect(0, "dd\ndid 0+0+1\n", "");
}

#[test]
fn program_exit_codes() {
    let l = L::new("ql-exit");
    let cases: &[(&str, i32, &str, &str)] = &[
        ("|echo ok; exit 0\n", 0, "ok\ndid 0+0+1\n", ""),
        ("|echo no such user; exit 100\n", 100, "no such user\n", ""),
        ("|echo later; exit 111\n", 111, "later\n", ""),
        ("|exit 64\n", 100, "", ""),
        ("|exit 112\n", 100, "", ""),
        ("|exit 1\n", 111, "", ""),
        ("|kill -9 $$\n", 111, "", "Aack, child crashed. (#4.3.0)\n"),
        ("|echo to stderr >&2; exit 100\n", 100, "to stderr\n", ""),
    ];
    for &(q, code, out, err) in cases {
        l.qmail(".qmail", q);
        l.go(&[], ["joe", "", "", "s@x", ""], MSG)
            .expect(code, out, err);
    }
}

#[test]
fn exit_99_stops_later_lines_but_keeps_earlier_forwards() {
    let l = L::new("ql-99");
    l.qmail(
        ".qmail",
        "&early@x.org\n|exit 99\n|touch ran\n./Mailbox\n&late@x.org\n",
    );
    let o = l.go(&[], ["joe", "", "", "s@x", ""], MSG);
    assert_eq!((o.code, mask_qp(&o)), (0, "did 0+1+1\nqp PID\n".into()));
    assert_eq!(l.queued().expect("queued").1, b"Fs@x\0Tearly@x.org\0\0");
    assert!(!l.exists("ran") && !l.exists("Mailbox"));
}

#[test]
fn a_failure_stops_everything_and_prevents_forwards() {
    let l = L::new("ql-fail");
    l.qmail(
        ".qmail",
        "&early@x.org\n|exit 111\n./Mailbox\n&late@x.org\n",
    );
    l.go(&[], ["joe", "", "", "s@x", ""], MSG)
        .expect(111, "", "");
    assert!(l.queued().is_none() && !l.exists("Mailbox"));
    l.qmail(".qmail", "./Mailbox\n&fw@x.org\n./Dir/\n|touch ran\n");
    l.go(&[], ["joe", "", "", "s@x", ""], MSG).expect(
        111,
        "",
        "Unable to chdir to maildir ./Dir/: file does not exist. (#4.2.1)\n",
    );
    assert!(l.queued().is_none() && !l.exists("ran"));
    assert!(l.exists("Mailbox"), "earlier lines were done");
}

#[test]
fn delivered_to_loop_bounces() {
    let l = L::new("ql-loop");
    l.qmail(".qmail", "./Mailbox\n");
    let looped = b"X: 1\nDelivered-To: joe@example.com\nY: 2\n\nbody\n";
    l.go(&[], ["joe", "", "", "s@x", ""], looped).expect(
        100,
        "",
        "This message is looping: it already has my Delivered-To line. (#5.4.6)\n",
    );
    assert!(!l.exists("Mailbox"));
    // only the header counts, and only the exact line
    let fine = b"Delivered-To: Joe@example.com\n\nDelivered-To: joe@example.com\n";
    l.go(&[], ["joe", "", "", "s@x", ""], fine)
        .expect(0, "did 1+0+0\n", "");
}

#[test]
fn home_directory_checks() {
    let l = L::new("ql-home");
    l.qmail(".qmail", "./Mailbox\n");
    let a = ["joe", "", "", "s@x", ""];
    chmod(&l.home, 0o1755);
    l.go(&[], a, MSG).expect(
        111,
        "",
        "Home directory is sticky: user is editing his .qmail file. (#4.2.1)\n",
    );
    l.go(&["-n"], a, MSG).expect(
        0,
        "mbox ./Mailbox\ndid 1+0+0\n",
        "Warning: home directory is sticky.\n",
    );
    chmod(&l.home, 0o757);
    l.go(&[], a, MSG)
        .expect(111, "", "Uh-oh: home directory is writable. (#4.7.0)\n");
    chmod(&l.home, 0o775);
    if qlib::conf::patrn() & 0o020 == 0 {
        l.go(&[], a, MSG).expect(0, "did 1+0+0\n", "");
    } else {
        l.go(&[], a, MSG)
            .expect(111, "", "Uh-oh: home directory is writable. (#4.7.0)\n");
    }
    // relative homedir is a usage error, whatever else is right
    run("qmail-local")
        .args(["--", "joe", "home", "joe", "", "", DOMAIN, "s@x", ""])
        .cwd(&l.t.0)
        .go()
        .expect(100, "", USAGE);
}

#[test]
fn writable_or_odd_dot_qmail_files() {
    let l = L::new("ql-qfile");
    let a = ["joe", "", "", "s@x", ""];
    l.put(".qmail", "./Mailbox\n", 0o646);
    l.go(&[], a, MSG)
        .expect(111, "", "Uh-oh: .qmail file is writable. (#4.7.0)\n");
    l.put(".qmail", "\n./Mailbox\n", 0o644);
    l.go(&[], a, MSG).expect(
        111,
        "",
        "Uh-oh: first line of .qmail file is blank. (#4.2.1)\n",
    );
    l.put(".qmail", " \t\n./Mailbox\n", 0o644);
    l.go(&[], a, MSG).expect(
        111,
        "",
        "Uh-oh: first line of .qmail file is blank. (#4.2.1)\n",
    );
    // blank lines further down are fine
    l.put(".qmail", "./Mailbox\n\n\n", 0o644);
    l.go(&[], a, MSG).expect(0, "did 1+0+0\n", "");
}

#[test]
fn forward_only_files() {
    let l = L::new("ql-fwdonly");
    let a = ["joe", "", "", "s@x", ""];
    l.put(".qmail", "&a@x.org\n./Mailbox\n", 0o744);
    l.go(&[], a, MSG).expect(
        111,
        "",
        "Uh-oh: .qmail has file delivery but has x bit set. (#4.7.0)\n",
    );
    l.put(".qmail", "&a@x.org\n./Maildir/\n", 0o744);
    l.go(&[], a, MSG).expect(
        111,
        "",
        "Uh-oh: .qmail has file delivery but has x bit set. (#4.7.0)\n",
    );
    l.put(".qmail", "&a@x.org\n|touch ran\n", 0o744);
    l.go(&[], a, MSG).expect(
        111,
        "",
        "Uh-oh: .qmail has prog delivery but has x bit set. (#4.7.0)\n",
    );
    l.put(".qmail", "+list\n&a@x.org\n|touch ran\n", 0o644);
    l.go(&[], a, MSG).expect(
        111,
        "",
        "Uh-oh: .qmail has prog delivery but has x bit set. (#4.7.0)\n",
    );
    assert!(l.queued().is_none() && !l.exists("ran") && !l.exists("Mailbox"));
    // forwards and comments only: fine; other + lines are ignored
    l.put(
        ".qmail",
        "# list\n+list\n+other\n&a@x.org\nb@y.org\n",
        0o744,
    );
    let o = l.go(&[], a, MSG);
    assert_eq!((o.code, mask_qp(&o)), (0, "did 0+2+0\nqp PID\n".into()));
    assert_eq!(
        l.queued().expect("queued").1,
        b"Fs@x\0Ta@x.org\0Tb@y.org\0\0"
    );
}

#[test]
fn owner_files_set_newsender() {
    let l = L::new("ql-owner");
    l.qmail(".qmail-list", "&sub@x.org\n");
    let a = ["joe-list", "-", "list", "s@x", ""];
    let sender = |l: &L| {
        let e = l.queued().expect("queued").1;
        let end = e.iter().position(|&c| c == 0).expect("F");
        String::from_utf8_lossy(&e[1..end]).into_owned()
    };
    l.go(&[], a, MSG);
    assert_eq!(sender(&l), "s@x");
    l.qmail(".qmail-list-owner", "&owner@x.org\n");
    l.go(&[], a, MSG);
    assert_eq!(sender(&l), "joe-list-owner@example.com");
    l.qmail(".qmail-list-owner-default", "&owner@x.org\n");
    l.go(&[], a, MSG);
    assert_eq!(sender(&l), "joe-list-owner-@example.com-@[]");
    // bounces keep their sender
    for bounce in ["", "#@[]"] {
        l.go(&[], ["joe-list", "-", "list", bounce, ""], MSG);
        assert_eq!(sender(&l), bounce);
    }
    // the owner test uses the full extension, even when a -default file was selected
    l.qmail(".qmail-sub-default", "&sub@x.org\n");
    l.go(&[], ["joe-sub-X", "-", "sub-X", "s@x", ""], MSG);
    assert_eq!(sender(&l), "s@x");
    l.qmail(".qmail-sub-x-owner", "");
    l.go(&[], ["joe-sub-X", "-", "sub-X", "s@x", ""], MSG);
    assert_eq!(sender(&l), "joe-sub-X-owner@example.com");
}

#[test]
fn dash_n_prints_the_plan_and_delivers_nothing() {
    let l = L::new("ql-plan");
    l.maildir("Maildir");
    l.qmail(".qmail", "|touch ran\n./Maildir/\n./mbox\n&a@b.org\n");
    l.go(&["-n"], ["joe", "", "", "s@x", ""], MSG).expect(
        0,
        "program touch ran\nmaildir ./Maildir/\nmbox ./mbox\nforward a@b.org\ndid 2+1+1\n",
        "",
    );
    assert!(!l.exists("ran") && !l.exists("mbox") && l.queued().is_none());
    assert!(crate::common::ls(l.home.join("Maildir/new")).is_empty());
    // -n then -N: the last wins
    l.go(&["-n", "-N"], ["joe", "", "", "s@x", ""], MSG);
    assert!(l.exists("ran") && l.exists("mbox"));
    // -n skips the loop check
    l.go(
        &["-n"],
        ["joe", "", "", "s@x", ""],
        b"Delivered-To: joe@example.com\n\n",
    )
    .expect(
        0,
        "program touch ran\nmaildir ./Maildir/\nmbox ./mbox\nforward a@b.org\ndid 2+1+1\n",
        "",
    );
}

#[test]
fn usage_errors() {
    let usage = USAGE;
    run("qmail-local")
        .args(["--", "joe", "/tmp", "joe", "", "", DOMAIN, "s@x"])
        .go()
        .expect(100, "", usage);
    run("qmail-local")
        .args([
            "--", "joe", "/tmp", "joe", "", "", DOMAIN, "s@x", "", "extra",
        ])
        .go()
        .expect(100, "", usage);
    run("qmail-local")
        .args(["--", "joe", "tmp", "joe", "", "", DOMAIN, "s@x", ""])
        .go()
        .expect(100, "", usage);
    run("qmail-local")
        .args(["-x", "joe", "/tmp", "joe", "", "", DOMAIN, "s@x", ""])
        .go()
        .expect(
            100,
            "",
            &format!("qmail-local: illegal option -- x\n{usage}"),
        );
}

#[test]
fn unseekable_stdin_defers() {
    let l = L::new("ql-pipe");
    l.qmail(".qmail", "./Mailbox\n");
    run("qmail-local")
        .args(["--", "joe"])
        .arg(&l.home)
        .args(["joe", "", "", DOMAIN, "s@x", ""])
        .stdin(MSG)
        .go()
        .expect(
            111,
            "",
            "Unable to rewind message: unseekable descriptor. (#4.3.0)\n",
        );
    assert!(!l.exists("Mailbox"));
    let o = l.go(&[], ["joe", "", "", "s@x", ""], MSG);
    o.expect(0, "did 1+0+0\n", "");
}

#[test]
fn garbage_lines_give_clear_results() {
    let l = L::new("ql-garbage");
    let a = ["joe", "", "", "s@x", ""];
    // binary bytes in an address are passed on verbatim
    l.qmail(".qmail", b"&\xff\xfe\x01@x.org\n\x80bare\n");
    let o = l.go(&[], a, MSG);
    assert_eq!((o.code, mask_qp(&o)), (0, "did 0+2+0\nqp PID\n".into()));
    assert_eq!(
        l.queued().expect("queued").1,
        b"Fs@x\0T\xff\xfe\x01@x.org\0T\x80bare\0\0"
    );
    // a NUL byte cannot be passed on: refused before anything is done
    l.qmail(".qmail", b"./Mailbox\n&a\0b@x.org\n");
    l.go(&[], a, MSG).expect(
        111,
        "",
        "Uh-oh: line 2 of .qmail file contains a NUL byte. (#4.7.0)\n",
    );
    assert!(!l.exists("Mailbox"));
    // CRLF line ends: the CR goes with the trailing white space (beyond qmail)
    l.qmail(".qmail", b"./Mailbox\r\n|echo hi \r\n");
    l.go(&[], a, MSG).expect(0, "hi\ndid 1+0+1\n", "");
    assert!(l.exists("Mailbox"));
    // a very long file name
    let long = format!("./{}\n", "a".repeat(5000));
    l.qmail(".qmail", &long);
    let o = l.go(&[], a, MSG);
    assert_eq!(o.code, 111);
    assert_eq!(
        o.stderr(),
        format!(
            "Unable to open {}: file name too long. (#4.2.1)\n",
            long.trim_end()
        )
    );
    // a very long program line
    l.qmail(".qmail", format!("|: {}\n", "x".repeat(300_000)));
    let o = l.go(&[], a, MSG);
    assert_eq!(
        (o.code, o.stderr()),
        (
            111,
            "Unable to run /bin/sh: argument list too long. (#4.3.0)\n".into()
        )
    );
    // a line of only ".": an mbox that is a directory
    l.qmail(".qmail", ".\n");
    l.go(&[], a, MSG)
        .expect(111, "", "Unable to open .: is a directory. (#4.2.1)\n");
    // every other byte value: a comment, then a forward to a strange address
    let noisy: Vec<u8> = (1..=255u8).filter(|&c| c != b'\n').collect();
    l.qmail(".qmail", [&b"#"[..], &noisy, b"\n", &noisy, b"\n"].concat());
    let o = l.go(&[], a, MSG);
    assert_eq!(
        (o.code, mask_qp(&o), o.stderr()),
        (0, "did 0+1+0\nqp PID\n".into(), "".into())
    );
    assert_eq!(
        l.queued().expect("queued").1,
        [&b"Fs@x\0T"[..], &noisy, b"\0\0"].concat()
    );
}

#[test]
fn mboxrd_round_trip() {
    let l = L::new("ql-mboxrd");
    l.qmail(".qmail", "./mbox\n");
    let mut m = b"From: a\nSubject: From x\n\nFrom here\n>From there\n>>From everywhere\n \
        From not\n>>>From\n>From\0nul\0\n"
        .to_vec();
    m.extend(std::iter::repeat_n(b'y', 1 << 20));
    m.extend_from_slice(b"\nFrom 1MB above\nlast line without newline, From ");
    l.go(&[], ["joe", "", "", "s@x", ""], &m)
        .expect(0, "did 1+0+0\n", "");
    let second = b"From a second message\n";
    l.go(&[], ["joe", "", "", "s@x", ""], second)
        .expect(0, "did 1+0+0\n", "");
    let mbox = l.read("mbox");
    // Each delivery is From_ + Return-Path + Delivered-To, the quoted message, one empty line.
    let rest = skip_lines(strip_from_line(&mbox, "s@x"), 2);
    let cut = rest
        .windows(7)
        .position(|w| w == b"\n\nFrom ")
        .expect("second From_ line");
    let (first, tail) = (&rest[..cut + 1], &rest[cut + 2..]);
    // The rule: unquoting (mboxrd) gives back the message exactly, except that a message
    // whose last line lacked a newline gets one.
    let mut want = m.clone();
    want.push(b'\n');
    assert_eq!(qlib::mbox::unquote(first), want);
    let tail = skip_lines(strip_from_line(tail, "s@x"), 2);
    assert_eq!(tail, b">From a second message\n\n");
}

fn skip_lines(t: &[u8], n: usize) -> &[u8] {
    let mut at = 0;
    for _ in 0..n {
        at += t[at..].iter().position(|&c| c == b'\n').expect("line") + 1;
    }
    &t[at..]
}
