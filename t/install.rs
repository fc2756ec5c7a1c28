//! The real install, as root: package/users, package/upgrade, package/config and package/run
//! on a throwaway home with the real qmail accounts; every daemon under its own uid; a message
//! lands in a user's Maildir owned by that user; qmail-queue (setuid qmailq) cannot be
//! redirected; a full queue disk refuses new mail and keeps what it accepted; the queue tools
//! run by root get their requests carried out by qmail-send as qmails.
//! These need root and the build package/test makes for them (T_ROOT_HOME, T_ROOT_CMD).
//! The same install under daemontools, runit and s6: package/run links a service into a
//! running scanner, with the suite's own logger.
//! Not tested here: /var/qmail itself (never touched by tests); package/install, upgrade and
//! uninstall with their /package, /command and sendmail links are in t/operate.rs.

use crate::common::{ls, wait_for};
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

const NOBODY: u32 = 65534;
/// The port the installed SMTP service listens on in these tests (never 25).
const SMTP_PORT: &str = "2625";

fn root_home() -> PathBuf {
    PathBuf::from(
        std::env::var_os("T_ROOT_HOME").expect("T_ROOT_HOME: run through package/test as root"),
    )
}

fn sh(script: &str, args: &[&str], envs: &[(&str, &str)]) {
    let mut c = Command::new(format!("package/{script}"));
    c.current_dir(env!("CARGO_MANIFEST_DIR"))
        .args(args)
        .stdout(Stdio::null());
    c.env(
        "RQMAIL_COMMAND",
        std::env::var_os("T_ROOT_CMD").expect("T_ROOT_CMD"),
    );
    for (k, v) in envs {
        c.env(k, v);
    }
    let o = c.output().expect("run package script");
    assert!(
        o.status.success(),
        "package/{script}: {}",
        String::from_utf8_lossy(&o.stderr)
    );
}

/// Runs `prog args` as nobody with a clean environment plus `envs`; returns the exit code.
fn as_nobody(prog: &Path, args: &[&str], envs: &[(&str, &str)], stdin: &[u8]) -> i32 {
    use std::io::Write;
    let mut c = Command::new("setpriv");
    c.args(["--reuid=65534", "--regid=65534", "--clear-groups", "--"])
        .arg(prog)
        .args(args);
    c.env_clear()
        .env("PATH", "/usr/bin:/bin")
        .stdin(Stdio::piped());
    for (k, v) in envs {
        c.env(k, v);
    }
    let mut ch = c.spawn().expect("setpriv");
    ch.stdin.take().unwrap().write_all(stdin).unwrap();
    ch.wait().unwrap().code().unwrap_or(-1)
}

fn uid_of(pid: u32) -> u32 {
    let s = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    s.lines()
        .find_map(|l| l.strip_prefix("Uid:"))
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|u| u.parse().ok())
        .unwrap_or(u32::MAX)
}

fn children(pid: u32) -> Vec<(String, u32)> {
    ls("/proc")
        .iter()
        .filter_map(|p| p.parse::<u32>().ok())
        .filter_map(|p| {
            let st = std::fs::read_to_string(format!("/proc/{p}/stat")).ok()?;
            let (comm, rest) = st.split_once(") ")?;
            let ppid: u32 = rest.split_whitespace().nth(1)?.parse().ok()?;
            let name = comm.split_once('(')?.1.to_string();
            (ppid == pid).then(|| (name, uid_of(p)))
        })
        .collect()
}

fn account(name: &str) -> u32 {
    qlib::sys::id::getpwnam(name.as_bytes())
        .unwrap()
        .unwrap_or_else(|| panic!("no account {name}"))
        .uid
}

/// Installs, configures and starts; returns (home, user home, qmail-send pid). `before_run`
/// may change the tree first (it gets the home).
fn install(tag: &str) -> (PathBuf, PathBuf, u32) {
    install_with(tag, |_| {})
}

/// package/run in the background (never a supervision tree); the new qmail-send's pid.
fn run_background(home: &Path) -> u32 {
    sh(
        "run",
        &[&home.display().to_string()],
        &[("SCANDIR", "none"), ("ENABLE", "qmail-send")],
    );
    std::fs::read_to_string(home.join("log/qmail-send.pid"))
        .unwrap()
        .trim()
        .parse()
        .unwrap()
}

/// `sendmail tuser` as nobody with `msg` on stdin; its exit code.
fn send_tuser(home: &Path, msg: &[u8]) -> i32 {
    as_nobody(
        &home.join("bin/sendmail"),
        &["tuser"],
        &[("USER", "nobody")],
        msg,
    )
}

fn install_with(tag: &str, before_run: impl FnOnce(&Path)) -> (PathBuf, PathBuf, u32) {
    let (home, user) = prepare(tag);
    before_run(&home);
    let pid = run_background(&home);
    assert!(
        wait_for(10, || children(pid).len() == 3),
        "daemons: {:?}",
        children(pid)
    );
    (home, user, pid)
}

/// Accounts, tree, configuration for `rqmail-test.example`, user `tuser` (uid nobody).
fn prepare(tag: &str) -> (PathBuf, PathBuf) {
    prepare_for(tag, "rqmail-test.example")
}

fn prepare_for(tag: &str, fqdn: &str) -> (PathBuf, PathBuf) {
    let home = root_home();
    let _ = std::fs::remove_dir_all(&home);
    std::fs::create_dir_all(&home).unwrap();
    let h = home.display().to_string();
    // The accounts get the configured home, as a real install gives them, not this one.
    sh("users", &[], &[]);
    sh("upgrade", &[&h], &[]);
    sh("config", &[&h, fqdn], &[]);
    sh("services", &[&h], &[("SMTPPORT", SMTP_PORT)]);
    let user = home.parent().unwrap().join(format!("rqmail-user.{tag}"));
    let _ = std::fs::remove_dir_all(&user);
    std::fs::create_dir(&user).unwrap();
    std::os::unix::fs::chown(&user, Some(NOBODY), Some(NOBODY)).unwrap();
    assert_eq!(
        as_nobody(
            &home.join("bin/maildirmake"),
            &[&format!("{}/Maildir", user.display())],
            &[],
            b""
        ),
        0
    );
    std::fs::write(
        home.join("users/assign"),
        format!("=tuser:nobody:{NOBODY}:{NOBODY}:{}:::\n.\n", user.display()),
    )
    .unwrap();
    let o = Command::new(home.join("bin/qmail-newu")).output().unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    (home, user)
}

fn stop(home: &Path, user: &Path, pid: u32) {
    let _ = qlib::sys::sig::kill(pid as i32, qlib::sys::sig::SIGTERM);
    assert!(
        wait_for(30, || !Path::new(&format!("/proc/{pid}")).exists()),
        "qmail-send did not stop"
    );
    let _ = std::fs::remove_dir_all(user);
    let _ = std::fs::remove_dir_all(home);
}

#[test]
#[ignore = "needs root"]
fn real_install_delivers_as_the_user_with_daemons_under_their_own_uids() {
    let (home, user, pid) = install("1");
    assert_eq!(uid_of(pid), account("qmails"), "qmail-send runs as qmails");
    let mut kids = children(pid);
    kids.sort();
    let want = vec![
        ("qmail-clean".to_string(), account("qmailq")),
        ("qmail-lspawn".into(), 0),
        ("qmail-rspawn".into(), account("qmailr")),
    ];
    assert_eq!(kids, want);
    let q = std::fs::metadata(home.join("bin/qmail-queue")).unwrap();
    assert_eq!((q.uid(), q.mode() & 0o7777), (account("qmailq"), 0o4711));
    for f in ls(home.join("bin")) {
        let m = std::fs::metadata(home.join("bin").join(&f)).unwrap();
        assert!(
            m.mode() & 0o4000 == 0 || (f == "qmail-queue" && m.uid() != 0),
            "{f} is setuid root"
        );
    }

    assert_eq!(send_tuser(&home, b"Subject: hi\n\nhello\n"), 0);
    let new = user.join("Maildir/new");
    assert!(
        wait_for(20, || ls(&new).len() == 1),
        "log:\n{}",
        std::fs::read_to_string(home.join("log/qmail-send")).unwrap_or_default()
    );
    let f = new.join(&ls(&new)[0]);
    assert_eq!(
        std::fs::metadata(&f).unwrap().uid(),
        NOBODY,
        "the message belongs to the user"
    );
    let m = std::fs::read_to_string(&f).unwrap();
    assert!(m.starts_with("Return-Path: <nobody@rqmail-test.example>\nDelivered-To: tuser@rqmail-test.example\nReceived: (qmail "), "{m}");
    assert!(
        m.contains(" invoked by uid 65534); ") && m.ends_with("\n\nhello\n"),
        "{m}"
    );
    stop(&home, &user, pid);
}

#[test]
#[ignore = "needs root"]
fn qmail_queue_cannot_be_redirected() {
    let (home, user, pid) = install("2");
    let evil = home.parent().unwrap().join("rqmail-evil");
    let _ = std::fs::remove_dir_all(&evil);
    std::fs::create_dir_all(evil.join("queue/todo")).unwrap();
    let e = evil.display().to_string();
    let envs = [
        ("QMAILHOME", e.as_str()),
        ("QUEUEDIR", e.as_str()),
        ("HOME", e.as_str()),
    ];
    let t = home.parent().unwrap().join("rqmail-qq-input");
    std::fs::write(
        &t,
        b"Ftuser@rqmail-test.example\0Ttuser@rqmail-test.example\0\0",
    )
    .unwrap();
    let env_fd = std::fs::File::open(&t).unwrap();
    let mut c = Command::new("setpriv");
    c.args(["--reuid=65534", "--regid=65534", "--clear-groups", "--"])
        .arg(home.join("bin/qmail-queue"))
        .args([&e, "-q", &e]);
    c.env_clear()
        .envs(envs)
        .stdin(Stdio::piped())
        .stdout(env_fd);
    let mut ch = c.spawn().unwrap();
    use std::io::Write;
    ch.stdin
        .take()
        .unwrap()
        .write_all(b"Subject: redirected?\n\nno\n")
        .unwrap();
    assert_eq!(ch.wait().unwrap().code(), Some(0));
    assert_eq!(
        ls(evil.join("queue/todo")),
        Vec::<String>::new(),
        "nothing went to the other queue"
    );
    let new = user.join("Maildir/new");
    assert!(wait_for(20, || ls(&new).len() == 1));
    let m = std::fs::read_to_string(new.join(&ls(&new)[0])).unwrap();
    assert!(m.contains("Subject: redirected?"), "{m}");
    let _ = std::fs::remove_dir_all(&evil);
    let _ = std::fs::remove_file(&t);
    stop(&home, &user, pid);
}

#[test]
#[ignore = "needs root"]
fn a_full_queue_disk_refuses_new_mail_and_keeps_what_it_accepted() {
    let (home, user, pid) = install_with("3", |home| {
        // Deliveries on hold, so that the queue fills; the queue on a 1 MB filesystem.
        std::fs::write(home.join("control/concurrencylocal"), "0\n").unwrap();
        let q = home.join("queue");
        std::fs::rename(&q, home.join("queue.disk")).unwrap();
        std::fs::create_dir(&q).unwrap();
        assert!(Command::new("mount")
            .args(["-t", "tmpfs", "-o", "size=1m", "tmpfs"])
            .arg(&q)
            .status()
            .unwrap()
            .success());
        let o = Command::new("sh")
            .arg("-c")
            .arg("cp -a queue.disk/. queue/ && rm -rf queue.disk")
            .current_dir(home)
            .status()
            .unwrap();
        assert!(o.success());
    });
    let body = |n: usize| format!("Subject: fill {n}\n\n{}\nEND {n}\n", "x".repeat(100 * 1024));
    let mut accepted = Vec::new();
    let mut refused = 0;
    for n in 0..30 {
        match send_tuser(&home, body(n).as_bytes()) {
            0 => accepted.push(n),
            111 => refused += 1,
            c => panic!("sendmail exit {c}"),
        }
    }
    assert!(
        refused > 0 && accepted.len() >= 3,
        "{} accepted, {refused} refused",
        accepted.len()
    );
    for d in ["pid", "intd"] {
        assert_eq!(
            ls(home.join("queue").join(d)),
            Vec::<String>::new(),
            "{d}/ has leftovers"
        );
    }
    let mess: usize = ls(home.join("queue/mess"))
        .iter()
        .map(|s| ls(home.join("queue/mess").join(s)).len())
        .sum();
    assert_eq!(
        mess,
        accepted.len(),
        "a refused message left its body behind"
    );

    // Deliveries on again: everything accepted arrives intact.
    std::fs::write(home.join("control/concurrencylocal"), "10\n").unwrap();
    let pid2 = run_background(&home);
    assert!(!Path::new(&format!("/proc/{pid}")).exists());
    let new = user.join("Maildir/new");
    assert!(
        wait_for(30, || ls(&new).len() == accepted.len()),
        "delivered {} of {}",
        ls(&new).len(),
        accepted.len()
    );
    for f in ls(&new) {
        let m = std::fs::read_to_string(new.join(f)).unwrap();
        let n: usize = m
            .split("Subject: fill ")
            .nth(1)
            .and_then(|s| s.split('\n').next())
            .unwrap()
            .parse()
            .unwrap();
        assert!(
            m.ends_with(&body(n)[body(n).find("\n\n").unwrap()..]),
            "message {n} altered"
        );
    }
    let _ = qlib::sys::sig::kill(pid2 as i32, qlib::sys::sig::SIGTERM);
    assert!(wait_for(30, || !Path::new(&format!("/proc/{pid2}")).exists()));
    let _ = Command::new("umount").arg(home.join("queue")).status();
    stop(&home, &user, pid2);
}

#[test]
#[ignore = "needs root"]
fn a_full_maildir_disk_defers_and_delivers_later() {
    let (home, user, pid) = install("4");
    let md = user.join("Maildir");
    assert!(Command::new("mount")
        .args([
            "-t",
            "tmpfs",
            "-o",
            "size=64k,uid=65534,gid=65534,mode=0700",
            "tmpfs"
        ])
        .arg(&md)
        .status()
        .unwrap()
        .success());
    for d in ["tmp", "new", "cur"] {
        assert_eq!(
            as_nobody(
                Path::new("/bin/mkdir"),
                &[&md.join(d).display().to_string()],
                &[],
                b""
            ),
            0
        );
    }
    let big = format!("Subject: big\n\n{}\n", "y".repeat(200 * 1024));
    assert_eq!(send_tuser(&home, big.as_bytes()), 0);
    let log = home.join("log/qmail-send");
    assert!(
        wait_for(20, || std::fs::read_to_string(&log)
            .unwrap_or_default()
            .contains(": deferral: ")),
        "{}",
        std::fs::read_to_string(&log).unwrap_or_default()
    );
    assert_eq!(
        ls(md.join("tmp")),
        Vec::<String>::new(),
        "a failed delivery left a partial file"
    );
    assert_eq!(ls(md.join("new")), Vec::<String>::new());
    // Room again: an ALRM makes qmail-send retry at once.
    assert!(Command::new("umount").arg(&md).status().unwrap().success());
    let _ = qlib::sys::sig::kill(pid as i32, qlib::sys::sig::SIGALRM);
    assert!(wait_for(20, || ls(md.join("new")).len() == 1));
    let m = std::fs::read_to_string(md.join("new").join(&ls(md.join("new"))[0])).unwrap();
    assert!(m.ends_with(&big[big.find("\n\n").unwrap()..]));
    stop(&home, &user, pid);
}

/// One supervision suite: its scanner, how to tell a supervisor to stop and exit, and the
/// first characters of a log line its logger writes.
struct Suite {
    scanner: &'static str,
    stop: &'static [&'static str],
    log_stop: &'static [&'static str],
    stamp: char,
}

/// package/run into a real scanner of `suite` running on a scan directory of our own; a
/// message is delivered and logged; everything stops and is reaped afterwards.
fn supervised(tag: &str, suite: Suite) {
    let bin = format!("/usr/bin/{}", suite.scanner);
    assert!(
        Path::new(&bin).exists(),
        "{bin} is not installed (.ci/run installs daemontools, runit and s6)"
    );
    let (home, user) = prepare(tag);
    let scan = home.parent().unwrap().join(format!("rqmail-scan.{tag}"));
    let _ = std::fs::remove_dir_all(&scan);
    std::fs::create_dir(&scan).unwrap();
    let s = scan.display().to_string();
    sh(
        "run",
        &[&home.display().to_string()],
        &[
            ("SCANDIR", &s),
            ("SCANKIND", suite.scanner),
            ("ENABLE", "qmail-send"),
        ],
    );
    let sv = home.join("service/qmail-send");
    assert_eq!(std::fs::read_link(scan.join("qmail-send")).unwrap(), sv);
    let mut scanner = Command::new(&bin)
        .arg(&scan)
        .env_clear()
        .env("PATH", "/usr/bin:/bin")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    // Accepted even before qmail-send runs (qmail-queue needs nobody); delivered once it runs.
    assert_eq!(send_tuser(&home, b"Subject: supervised\n\nhi\n"), 0);
    let new = user.join("Maildir/new");
    let delivered = wait_for(30, || ls(&new).len() == 1);
    let current = sv.join("log/main/current");
    let logged = wait_for(10, || {
        std::fs::read_to_string(&current)
            .unwrap_or_default()
            .contains(" end msg ")
    });
    let log = std::fs::read_to_string(&current).unwrap_or_default();
    // Tear down before asserting: the service out of the scan directory, its supervisors told
    // to stop and exit (the scanner reaps them), then the scanner itself.
    let _ = std::fs::remove_file(scan.join("qmail-send"));
    for (cmd, dir) in [(suite.stop, sv.clone()), (suite.log_stop, sv.join("log"))] {
        if let Some((prog, args)) = cmd.split_first() {
            let _ = Command::new(prog)
                .args(args)
                .arg(&dir)
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .status();
        }
    }
    // supervisors run in the service directory: gone when no process has its cwd there.
    let gone = wait_for(30, || {
        ls("/proc")
            .iter()
            .filter(|p| p.parse::<u32>().is_ok())
            .all(|p| {
                std::fs::read_link(format!("/proc/{p}/cwd")).map_or(true, |d| !d.starts_with(&sv))
            })
    });
    // The scanner reaps its exited children on its next scan (every 5 s): wait for that.
    let reaped = wait_for(15, || children(scanner.id()).is_empty());
    let _ = scanner.kill();
    let _ = scanner.wait();
    let _ = std::fs::remove_dir_all(&scan);
    let _ = std::fs::remove_dir_all(&user);
    let _ = std::fs::remove_dir_all(&home);
    assert!(
        delivered && logged,
        "{}: delivered {delivered}, logged {logged}:\n{log}",
        suite.scanner
    );
    assert!(
        log.lines()
            .all(|l| l.starts_with(suite.stamp) && l.len() > 26),
        "the logger stamps every line:\n{log}"
    );
    assert!(log.contains(" status: local 0/10 remote 0/20\n"), "{log}");
    assert!(gone && reaped, "{}: supervisors left behind", suite.scanner);
}

#[test]
#[ignore = "needs root"]
fn runs_under_daemontools_with_multilog() {
    supervised(
        "5",
        Suite {
            scanner: "svscan",
            stop: &["svc", "-dx"],
            log_stop: &["svc", "-dx"],
            stamp: '@',
        },
    );
}

#[test]
#[ignore = "needs root"]
fn runs_under_runit_with_svlogd() {
    // runsv supervises the service and its log together; `sv exit` stops both and exits.
    supervised(
        "7",
        Suite {
            scanner: "runsvdir",
            stop: &["sv", "exit"],
            log_stop: &[],
            stamp: '2',
        },
    );
}

#[test]
#[ignore = "needs root"]
fn runs_under_s6_with_s6_log() {
    supervised(
        "8",
        Suite {
            scanner: "s6-svscan",
            stop: &["s6-svc", "-dx"],
            log_stop: &["s6-svc", "-dx"],
            stamp: '@',
        },
    );
}

#[test]
#[ignore = "needs root"]
fn a_bare_name_is_local_on_a_host_without_a_dot() {
    let (home, user) = prepare_for("6", "rqmailtesthost");
    assert_eq!(
        std::fs::read_to_string(home.join("control/defaultdomain")).unwrap(),
        "localdomain\n"
    );
    let pid = run_background(&home);
    assert_eq!(send_tuser(&home, b"Subject: bare\n\nhi\n"), 0);
    let new = user.join("Maildir/new");
    assert!(
        wait_for(20, || ls(&new).len() == 1),
        "log:\n{}",
        std::fs::read_to_string(home.join("log/qmail-send")).unwrap_or_default()
    );
    let m = std::fs::read_to_string(new.join(&ls(&new)[0])).unwrap();
    assert!(m.starts_with("Return-Path: <nobody@rqmailtesthost.localdomain>\nDelivered-To: tuser@rqmailtesthost.localdomain\n"), "{m}");
    stop(&home, &user, pid);
}

#[test]
#[ignore = "needs root"]
fn reinstalling_upgrades_in_place_and_keeps_controls_users_and_queue() {
    // Deliveries on hold, so that a message waits in the queue across the upgrade.
    let (home, user, pid) = install_with("9", |home| {
        std::fs::write(home.join("control/concurrencylocal"), "0\n").unwrap()
    });
    assert_eq!(send_tuser(&home, b"Subject: across\n\nkept\n"), 0);
    let todo_gone = wait_for(20, || ls(home.join("queue/todo")).is_empty());
    std::fs::write(home.join("control/me"), "changed-by-operator.example\n").unwrap();
    let assign = std::fs::read(home.join("users/assign")).unwrap();
    let alias = std::fs::read(home.join("alias/.qmail-postmaster")).unwrap();
    let rc = std::fs::read(home.join("rc")).unwrap();

    // The same steps package/install runs again, programs replaced and qmail-send restarted.
    let h = home.display().to_string();
    sh("users", &[], &[]);
    sh("upgrade", &[&h], &[]);
    sh("config", &[&h, "another-name.example"], &[]);
    sh("services", &[&h], &[("SMTPPORT", SMTP_PORT)]);
    std::fs::write(home.join("control/concurrencylocal"), "10\n").unwrap();
    let pid2 = run_background(&home);
    assert!(
        !Path::new(&format!("/proc/{pid}")).exists(),
        "the old qmail-send was stopped"
    );

    assert_eq!(
        std::fs::read_to_string(home.join("control/me")).unwrap(),
        "changed-by-operator.example\n"
    );
    assert_eq!(std::fs::read(home.join("users/assign")).unwrap(), assign);
    assert_eq!(
        std::fs::read(home.join("alias/.qmail-postmaster")).unwrap(),
        alias
    );
    assert_eq!(std::fs::read(home.join("rc")).unwrap(), rc);
    let new = user.join("Maildir/new");
    assert!(
        todo_gone && wait_for(20, || ls(&new).len() == 1),
        "the queued message was not delivered after the upgrade"
    );
    let m = std::fs::read_to_string(new.join(&ls(&new)[0])).unwrap();
    assert!(m.ends_with("\n\nkept\n"), "{m}");
    stop(&home, &user, pid2);
}

#[test]
#[ignore = "needs root"]
fn the_smtp_service_accepts_mail_under_tcpserver_as_qmaild() {
    let (home, user) = prepare("10");
    let h = home.display().to_string();
    for (svc, rules) in [
        ("qmail-smtpd", "smtp"),
        ("qmail-qmtpd", "qmtp"),
        ("qmail-qmqpd", "qmqp"),
    ] {
        let run = std::fs::read_to_string(home.join(format!("service/{svc}/run"))).unwrap();
        assert!(
            run.contains(&format!("-x {h}/control/tcp.{rules}.cdb")),
            "{run}"
        );
        assert!(run.contains(&format!(" {svc}\n")), "{run}");
        assert!(home.join(format!("control/tcp.{rules}.cdb")).exists());
    }
    // POP3 (not enabled by default): tcpserver stays root so checkpassword can become the user.
    let pop = std::fs::read_to_string(home.join("service/qmail-pop3d/run")).unwrap();
    assert!(
        pop.contains(&format!("-x {h}/control/tcp.pop3.cdb")),
        "{pop}"
    );
    assert!(
        pop.contains(" \"$IP\" \"$PORT\" qmail-popup ")
            && pop.ends_with(" checkpassword qmail-pop3d Maildir\n"),
        "{pop}"
    );
    let env = |svc: &str, var: &str| {
        std::fs::read_to_string(home.join(format!("service/{svc}/env/{var}"))).unwrap()
    };
    assert_eq!(
        (env("qmail-pop3d", "PORT"), env("qmail-pop3d", "IP")),
        ("110\n".to_string(), "0\n".to_string())
    );
    assert_eq!(env("qmail-smtpd", "PORT"), format!("{SMTP_PORT}\n"));
    assert!(!pop.contains(" -u "), "{pop}");
    assert!(home.join("control/tcp.pop3.cdb").exists());
    sh(
        "run",
        &[&h],
        &[("SCANDIR", "none"), ("ENABLE", "qmail-send qmail-smtpd")],
    );
    let pid_of = |name: &str| -> u32 {
        let f = home.join(format!("log/{name}.pid"));
        std::fs::read_to_string(f).unwrap().trim().parse().unwrap()
    };
    let (send, smtpd) = (pid_of("qmail-send"), pid_of("qmail-smtpd"));
    let log = home.join("log/qmail-smtpd");
    let listening = wait_for(10, || {
        std::fs::read_to_string(&log)
            .unwrap_or_default()
            .contains("tcpserver: status: 0/20\n")
    });
    let script = format!(
        "import smtplib\ns = smtplib.SMTP('127.0.0.1', {SMTP_PORT}, timeout=30)\n\
         s.sendmail('sender@example.net', ['tuser@rqmail-test.example'], 'Subject: over smtp\\n\\nhello\\n')\ns.quit()\n"
    );
    let sent = listening
        && Command::new("python3")
            .args(["-c", &script])
            .status()
            .is_ok_and(|s| s.success());
    let new = user.join("Maildir/new");
    let delivered = sent && wait_for(30, || ls(&new).len() == 1);
    let msg = ls(&new)
        .first()
        .map(|f| std::fs::read_to_string(new.join(f)).unwrap())
        .unwrap_or_default();
    let server_uid = uid_of(smtpd);
    let _ = qlib::sys::sig::kill(smtpd as i32, qlib::sys::sig::SIGTERM);
    let log_text = std::fs::read_to_string(&log).unwrap_or_default();
    stop(&home, &user, send);
    assert!(listening && sent && delivered, "{log_text}");
    assert_eq!(server_uid, account("qmaild"), "tcpserver runs as qmaild");
    assert!(
        msg.contains("\nReceived: from ")
            && msg.contains("(127.0.0.1)\n  by rqmail-test.example with SMTP; "),
        "{msg}"
    );
    assert!(msg.ends_with("\n\nhello\n"), "{msg}");
    assert!(log_text.contains(" ok "), "{log_text}");
}

#[test]
#[ignore = "needs root"]
fn the_queue_tools_as_root_work_with_qmail_send_as_qmails() {
    // Deliveries on hold, so that the message waits in the queue.
    let (home, user, pid) = install_with("q", |home| {
        std::fs::write(home.join("control/concurrencylocal"), "0\n").unwrap()
    });
    assert_eq!(send_tuser(&home, b"Subject: q\n\nqueued\n"), 0);
    assert!(wait_for(20, || ls(home.join("queue/todo")).is_empty()));
    let tool = |name: &str, args: &[&str]| -> (i32, String) {
        let o = Command::new(home.join("bin").join(name))
            .args(args)
            .env_clear()
            .output()
            .unwrap();
        let err = String::from_utf8_lossy(&o.stderr).into_owned();
        (
            o.status.code().unwrap_or(-1),
            String::from_utf8_lossy(&o.stdout).into_owned() + &err,
        )
    };
    let (code, list) = tool("qmail-qread", &[]);
    assert_eq!(code, 0, "{list}");
    let id = list
        .split("  #")
        .nth(1)
        .and_then(|r| r.split(' ').next())
        .unwrap_or_else(|| panic!("{list}"))
        .to_string();
    assert!(list.contains("\n\tlocal\ttuser@"), "{list}");
    assert_eq!(
        tool("qmail-qstat", &[]),
        (
            0,
            "messages in queue: 1\nmessages in queue but not yet preprocessed: 0\n".into()
        )
    );
    // root's request is read by qmail-send as qmails, qmail-send's answer by root
    assert_eq!(
        tool("qmail-qhold", &[&id]),
        (0, format!("msg {id}: held\n"))
    );
    let hold = home.join("queue/hold").join(&id);
    assert_eq!(std::fs::metadata(&hold).unwrap().uid(), account("qmails"));
    assert!(tool("qmail-qread", &[]).1.contains(">  held\n"));
    let (code, shown) = tool("qmail-qmsg", &[&id]);
    assert!(code == 0 && shown.ends_with("\n\nqueued\n"), "{shown}");
    // nobody may not ask
    assert_eq!(
        as_nobody(&home.join("bin/qmail-qdel"), &[&id], &[], b""),
        111
    );
    assert_eq!(
        tool("qmail-qdel", &[&id]),
        (0, format!("msg {id}: deleted\n"))
    );
    assert_eq!(tool("qmail-qread", &[]), (0, String::new()));
    assert!(ls(home.join("queue/req")).is_empty() && !hold.exists());
    stop(&home, &user, pid);
}
