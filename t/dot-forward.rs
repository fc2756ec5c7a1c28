//! dot-forward run as qmail-local runs it (cwd = a home in a TmpDir, the message on stdin
//! from a file, the environment qmail-local sets), with QMAILQUEUE a recorder script
//! (message → `qmsg`, envelope → `qenv`); and under the real qmail-local, as the first line
//! of `~/.qmail` before `./Maildir/`.
//!
//! Not tested here: qualification of bare names against the controls (unit tests in
//! qlib::dotforward: the compiled-in home's controls are shared with other tests); a
//! temporary errno on opening the file (cannot be provoked unprivileged); a real
//! qmail-queue (t/qmail-queue.rs).

use crate::common::{recorder, run, Out, TmpDir};
use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::Stdio;

const MSG: &[u8] = b"Subject: hi\n\nbody\n";
const DT: &str = "Delivered-To: joe@ex.test\n";

struct D {
    t: TmpDir,
    home: PathBuf,
}

impl D {
    fn new(tag: &str) -> D {
        let t = TmpDir::new(tag);
        let home = t.join("home");
        fs::create_dir(&home).expect("mkdir home");
        fs::set_permissions(&home, fs::Permissions::from_mode(0o755)).expect("chmod");
        D { t, home }
    }
    fn put(&self, name: &str, text: &str) {
        fs::write(self.home.join(name), text).expect("write");
    }
    fn read(&self, rel: &str) -> String {
        let p = self.home.join(rel);
        String::from_utf8_lossy(&fs::read(&p).unwrap_or_else(|e| panic!("{rel}: {e}"))).into()
    }
    fn queued(&self) -> Option<(String, String)> {
        let m = fs::read(self.t.join("qmsg")).ok()?;
        let e = fs::read(self.t.join("qenv")).ok()?;
        Some((
            String::from_utf8_lossy(&m).into(),
            String::from_utf8_lossy(&e).into(),
        ))
    }
    /// `prog args` with cwd = home, stdin = MSG from a file and qmail-local's variables.
    fn go(&self, prog: &str, args: &[&str], extra: &[(&str, &str)]) -> Out {
        let m = self.t.write("message", MSG);
        let mut c = run(prog)
            .args(args)
            .cwd(&self.home)
            .env("QMAILQUEUE", recorder())
            .env("Q_DIR", &self.t.0);
        let vars = [
            ("USER", "joe"),
            ("HOME", self.home.to_str().expect("utf-8 home")),
            ("LOCAL", "joe"),
            ("HOST", "ex.test"),
            ("RECIPIENT", "joe@ex.test"),
            ("SENDER", "bob@src.test"),
            ("NEWSENDER", "bob@src.test"),
            ("DTLINE", DT),
            ("RPLINE", "Return-Path: <bob@src.test>\n"),
            ("UFLINE", "From bob@src.test Thu Jan  1 00:00:00 2026\n"),
        ];
        for (k, v) in vars.iter().chain(extra) {
            c = c.env(k, v);
        }
        c.raw()
            .stdin(Stdio::from(fs::File::open(&m).expect("open message")));
        let _home = crate::common::home_lock();
        c.go()
    }
}

#[test]
fn two_addresses_and_a_program_forward_pipe_and_exit_99() {
    let d = D::new("df-fwd");
    d.put(
        ".forward",
        "# my forwarding\na@x.test, \"B Smith\" <b@y.test>\n\"|cat > prog.out; echo $RECIPIENT > prog.env\"\n",
    );
    let o = d.go("dot-forward", &[".forward"], &[]);
    assert_eq!(o.code, 99, "{}", o.stderr());
    assert!(o.stdout().starts_with("qp "), "{}", o.stdout());
    assert_eq!(o.stderr(), "");
    let (m, e) = d.queued().expect("queued");
    assert_eq!(m, format!("{DT}Subject: hi\n\nbody\n"));
    assert_eq!(e, "Fbob@src.test\0Ta@x.test\0Tb@y.test\0\0");
    assert_eq!(
        d.read("prog.out"),
        format!(
            "From bob@src.test Thu Jan  1 00:00:00 2026\nReturn-Path: <bob@src.test>\n{DT}Subject: hi\n\nbody\n"
        )
    );
    assert_eq!(d.read("prog.env"), "joe@ex.test\n");
}

#[test]
fn missing_or_empty_file_exit_0_and_nothing_queued() {
    let d = D::new("df-missing");
    d.go("dot-forward", &[".forward"], &[]).expect(0, "", "");
    d.put(".empty", "# nothing here\n\n");
    d.go("dot-forward", &[".empty", ".forward"], &[])
        .expect(0, "", "");
    assert!(d.queued().is_none());
    // the first file with an entry is the one used
    d.put(".forward", "c@z.test\n");
    d.put(".second", "d@z.test\n");
    let o = d.go(
        "dot-forward",
        &[".missing", ".empty", ".forward", ".second"],
        &[],
    );
    assert_eq!(o.code, 99, "{}", o.stderr());
    assert_eq!(
        d.queued().expect("queued").1,
        "Fbob@src.test\0Tc@z.test\0\0"
    );
}

#[test]
fn own_name_is_direct_delivery_not_a_loop() {
    let d = D::new("df-direct");
    d.put(".forward", "\\joe, a@x.test\n");
    let o = d.go("dot-forward", &[".forward"], &[("NEWSENDER", "")]);
    assert_eq!(o.code, 0, "{}", o.stderr());
    assert_eq!(d.queued().expect("queued").1, "F\0Ta@x.test\0\0");
    // only the user: nothing forwarded, exit 0 so the next .qmail line delivers
    fs::remove_file(d.t.join("qmsg")).expect("rm");
    d.put(".forward", "JOE@ex.test\n");
    d.go("dot-forward", &[".forward"], &[]).expect(0, "", "");
    assert!(d.queued().is_none());
}

#[test]
fn n_says_what_it_would_do() {
    let d = D::new("df-n");
    d.put(".empty", "\n");
    d.put(
        ".forward",
        "a@x.test (Ann)\n\"|vacation joe\"\njoe\n/never/reached\n",
    );
    // a /file line is fatal even with -n: the whole file is checked
    let o = d.go("dot-forward", &["-n", ".empty", ".forward"], &[]);
    assert_eq!(o.code, 111);
    d.put(".forward", "a@x.test (Ann)\n\"|vacation joe\"\njoe\n");
    d.go("dot-forward", &["-n", ".empty", ".forward"], &[])
        .expect(
            0,
            "",
            "dot-forward: skipping empty file .empty\ndot-forward: forward a@x.test\n\
         dot-forward: pipe through vacation joe\ndot-forward: direct delivery\n",
        );
    // -N after -n acts
    let o = d.go("dot-forward", &["-n", "-N", ".forward"], &[]);
    assert_eq!(
        o.code,
        111,
        "vacation is not a command here: {}",
        o.stderr()
    );
    assert!(d.queued().is_none());
}

#[test]
fn garbage_files_and_includes_defer_and_nothing_runs() {
    let d = D::new("df-bad");
    let cases = [
        (
            "\"|touch ran\"\na@x.test, \"unterminated\n",
            "dot-forward: fatal: unable to parse .forward line 2\n",
        ),
        (
            "\"|touch ran\"\n/home/joe/mbox\n",
            "dot-forward: fatal: delivery to files is not supported: /home/joe/mbox\n",
        ),
        (
            "\"|touch ran\"\n:include: /etc/list\n",
            "dot-forward: fatal: :include: is not supported: .forward line 2\n",
        ),
    ];
    for (text, err) in cases {
        d.put(".forward", text);
        d.go("dot-forward", &[".forward"], &[]).expect(111, "", err);
        assert!(!d.home.join("ran").exists());
        assert!(d.queued().is_none());
    }
    fs::create_dir(d.home.join(".dir")).expect("mkdir");
    let o = d.go("dot-forward", &[".dir"], &[]);
    assert_eq!(o.code, 111, "{}", o.stderr());
    d.go("dot-forward", &[], &[]).expect(
        100,
        "",
        "dot-forward: usage: dot-forward [ -nN ] file ...\n",
    );
}

#[test]
fn program_exit_codes_and_queue_refusals() {
    let d = D::new("df-codes");
    for (code, want) in [
        (0, 99),
        (100, 100),
        (64, 100),
        (112, 100),
        (1, 111),
        (111, 111),
    ] {
        d.put(".forward", &format!("\"|cat >/dev/null; exit {code}\"\n"));
        let o = d.go("dot-forward", &[".forward"], &[]);
        assert_eq!(o.code, want, "exit {code}: {}", o.stderr());
    }
    // a failing program stops the forward
    d.put(".forward", "\"|exit 1\", a@x.test\n");
    assert_eq!(d.go("dot-forward", &[".forward"], &[]).code, 111);
    assert!(d.queued().is_none());
    // a program that reads nothing does not hurt
    d.put(".forward", "\"|true\"\n");
    d.go("dot-forward", &[".forward"], &[]).expect(99, "", "");
    d.put(".forward", "a@x.test\n");
    let o = d.go("dot-forward", &[".forward"], &[("Q_EXIT", "31")]);
    assert_eq!(o.code, 100, "{}", o.stderr());
    let o = d.go("dot-forward", &[".forward"], &[("Q_EXIT", "53")]);
    assert_eq!(o.code, 111, "{}", o.stderr());
}

fn local(d: &D, dd: &str) -> Out {
    let home = d.home.to_str().expect("utf-8 home");
    let args = [
        "--",
        "joe",
        home,
        "joe",
        "",
        "",
        "ex.test",
        "bob@src.test",
        dd,
    ];
    let md = d.home.join("Maildir");
    for s in ["tmp", "new", "cur"] {
        fs::create_dir_all(md.join(s)).expect("maildir");
    }
    d.go("qmail-local", &args, &[])
}

fn new_mail(home: &Path) -> usize {
    crate::common::ls(home.join("Maildir/new")).len()
}

#[test]
fn under_qmail_local_before_the_maildir_line() {
    let d = D::new("df-local");
    let dd = "|dot-forward .forward\n./Maildir/\n";
    // no .forward: the Maildir line delivers
    local(&d, dd).expect(0, "did 1+0+1\n", "");
    assert_eq!(new_mail(&d.home), 1);
    // forward only: dot-forward exits 99, qmail-local stops
    d.put(".forward", "a@x.test\n");
    let o = local(&d, dd);
    assert_eq!(o.code, 0, "{}", o.stderr());
    assert!(o.stdout().starts_with("qp "), "{}", o.stdout());
    assert!(o.stdout().ends_with("did 0+0+1\n"), "{}", o.stdout());
    assert_eq!(new_mail(&d.home), 1);
    let (m, e) = d.queued().expect("queued");
    assert_eq!(m, format!("{DT}Subject: hi\n\nbody\n"));
    assert_eq!(e, "Fbob@src.test\0Ta@x.test\0\0");
    // keep a copy too
    d.put(".forward", "joe, a@x.test\n");
    let o = local(&d, dd);
    assert_eq!(o.code, 0, "{}", o.stderr());
    assert_eq!(new_mail(&d.home), 2);
    // the same from ~/.qmail
    d.put(".qmail", dd);
    d.put(".forward", "\\joe\n");
    local(&d, "./Mailbox\n").expect(0, "did 1+0+1\n", "");
    assert_eq!(new_mail(&d.home), 3);
    assert!(!d.home.join("Mailbox").exists());
}
