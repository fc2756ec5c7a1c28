//! Operating an installation, as root: package/install from a source tree anywhere (it copies
//! itself to /package/mail/rqmail-<version>), the services under a private daemontools svscan,
//! a private runit runsvdir and a private s6-svscan, mail over SMTP into a Maildir, the send service restarted in
//! the middle of a burst without a message lost or doubled, the log read through tai64nlocal,
//! package/uninstall stopping every process and putting the displaced sendmail back; and
//! package/upgrade from one package directory to another while mail flows.
//!
//! Nothing outside the checkout and /tmp is written: each test runs the scripts in a "jail", a
//! mount namespace (unshare -m) whose root is an overlay of / with its upper layer on a tmpfs
//! in /tmp, with /tmp, /proc, /sys and /dev bound in. /package, /command, /usr/sbin/sendmail
//! and the rest change only there; the qmail home is the throwaway one package/test builds
//! for (T_ROOT_HOME, programs in T_ROOT_CMD) and is visible from outside.

use crate::common::{ls, wait_for};
use std::io::{BufRead, BufReader};
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};

const NOBODY: u32 = 65534;
/// What `package/install` calls the package directory (Cargo.toml's version).
const VERSION: &str = env!("CARGO_PKG_VERSION");

fn env_path(var: &str) -> PathBuf {
    PathBuf::from(
        std::env::var_os(var).unwrap_or_else(|| panic!("{var}: run through package/test as root")),
    )
}

/// A scratch path beside the throwaway home (so per checkout), in /tmp.
fn scratch(name: &str) -> PathBuf {
    env_path("T_ROOT_HOME").parent().unwrap().join(name)
}

/// A mount namespace whose / is an overlay of the real one; `sleep` holds it open.
struct Jail {
    holder: Child,
    dir: PathBuf,
}

impl Jail {
    fn new(tag: &str) -> Jail {
        let dir = scratch(&format!("jail.{tag}"));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        let d = dir.display();
        let script = format!(
            "set -e; mount -t tmpfs tmpfs {d}; mkdir {d}/up {d}/work {d}/root
             mount -t overlay overlay -o lowerdir=/,upperdir={d}/up,workdir={d}/work {d}/root
             for m in proc sys dev tmp; do mount --rbind /$m {d}/root/$m; done
             touch {d}/up/.rqmail-jail
             exec chroot {d}/root sh -c 'echo ready; exec sleep 600'"
        );
        let mut holder = Command::new("unshare")
            .args(["-m", "--propagation", "private", "sh", "-c", &script])
            .stdout(Stdio::piped())
            .spawn()
            .expect("unshare");
        let mut line = String::new();
        BufReader::new(holder.stdout.take().unwrap())
            .read_line(&mut line)
            .unwrap();
        assert_eq!(line, "ready\n", "the jail's mounts failed");
        let jail = Jail { holder, dir };
        assert!(wait_for(5, || jail.ns() != ns_of(std::process::id())));
        jail
    }

    fn ns(&self) -> String {
        ns_of(self.holder.id())
    }

    /// `sh -c script` in the jail (cwd /), with `envs` added to a clean environment.
    fn cmd(&self, script: &str, envs: &[(&str, &str)]) -> Command {
        let mut c = Command::new("nsenter");
        c.arg("-t")
            .arg(self.holder.id().to_string())
            .args(["-m", "-r", "-w", "--", "/bin/sh", "-c"])
            // Never the real system: the jail's root has this mark, the real one not.
            .arg(format!("test -e /.rqmail-jail || exit 99\n{script}"));
        c.env_clear()
            .env("PATH", "/usr/sbin:/usr/bin:/sbin:/bin")
            .envs(envs.iter().copied())
            .current_dir("/")
            .stdin(Stdio::null());
        c
    }

    fn sh(&self, script: &str, envs: &[(&str, &str)]) -> Output {
        let o = self.cmd(script, envs).output().expect("nsenter");
        assert!(
            o.status.success(),
            "{script}: {}{}",
            String::from_utf8_lossy(&o.stdout),
            String::from_utf8_lossy(&o.stderr)
        );
        o
    }

    fn out(&self, script: &str) -> String {
        String::from_utf8_lossy(&self.sh(script, &[]).stdout).into_owned()
    }

    /// The processes in the jail other than its holder.
    fn others(&self) -> Vec<String> {
        let ns = self.ns();
        ls("/proc")
            .iter()
            .filter(|p| p.parse::<u32>().is_ok_and(|p| p != self.holder.id()))
            .filter(|p| ns_of(p.parse().unwrap()) == ns)
            .map(|p| {
                let cmd = std::fs::read(format!("/proc/{p}/cmdline")).unwrap_or_default();
                format!("{p} {}", String::from_utf8_lossy(&cmd).replace('\0', " "))
            })
            .collect()
    }
}

impl Drop for Jail {
    fn drop(&mut self) {
        for p in self.others() {
            let pid: i32 = p.split(' ').next().unwrap().parse().unwrap();
            let _ = qlib::sys::sig::kill(pid, qlib::sys::sig::SIGKILL);
        }
        let _ = self.holder.kill();
        let _ = self.holder.wait();
        let _ = Command::new("umount")
            .arg("-l")
            .arg(&self.dir)
            .stderr(Stdio::null())
            .status();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

fn ns_of(pid: u32) -> String {
    std::fs::read_link(format!("/proc/{pid}/ns/mnt"))
        .map(|p| p.display().to_string())
        .unwrap_or_default()
}

/// A copy of this source tree in /tmp, built for the throwaway home (as package/test's
/// rootconf is), with `version` in its Cargo.toml.
fn source(tag: &str, version: &str) -> PathBuf {
    let src = scratch(&format!("src.{tag}"));
    let _ = std::fs::remove_dir_all(&src);
    std::fs::create_dir_all(&src).unwrap();
    let copy = format!(
        "tar cf - --exclude=./target --exclude=./command --exclude=./.git . | (cd {} && tar xf -)",
        src.display()
    );
    let ok = Command::new("sh")
        .args(["-c", &copy])
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .status()
        .unwrap();
    assert!(ok.success());
    let home = env_path("T_ROOT_HOME");
    std::fs::write(src.join("conf/home"), format!("{}\n", home.display())).unwrap();
    let toml = std::fs::read_to_string(src.join("Cargo.toml")).unwrap();
    let toml = toml.replacen(
        &format!("version = \"{VERSION}\""),
        &format!("version = \"{version}\""),
        1,
    );
    std::fs::write(src.join("Cargo.toml"), toml).unwrap();
    // The accounts, on the real system as t/install.rs makes them (the jail would keep
    // them to itself, and the daemons inside would run as ids nobody outside knows).
    let o = Command::new("package/users")
        .current_dir(&src)
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    src
}

/// The user `tuser` (uid nobody) with a Maildir, for the installed home.
fn add_user(home: &Path, tag: &str) -> PathBuf {
    let user = scratch(&format!("opuser.{tag}"));
    let _ = std::fs::remove_dir_all(&user);
    std::fs::create_dir(&user).unwrap();
    std::os::unix::fs::chown(&user, Some(NOBODY), Some(NOBODY)).unwrap();
    let md = user.join("Maildir");
    for d in ["", "/tmp", "/new", "/cur"] {
        std::fs::create_dir(format!("{}{d}", md.display())).unwrap();
        std::os::unix::fs::chown(format!("{}{d}", md.display()), Some(NOBODY), Some(NOBODY))
            .unwrap();
    }
    std::fs::write(
        home.join("users/assign"),
        format!("=tuser:nobody:{NOBODY}:{NOBODY}:{}:::\n.\n", user.display()),
    )
    .unwrap();
    let o = Command::new(home.join("bin/qmail-newu")).output().unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    user
}

/// A burst of `n` SMTP messages to tuser@localhost, one connection each, each retried until
/// accepted; prints `sent` at the end.
fn burst(port: &str, first: usize, n: usize) -> Child {
    let script = format!(
        "import smtplib, time, sys\n\
         for i in range({first}, {}):\n\
         \x20 for t in range(100):\n\
         \x20   try:\n\
         \x20     s = smtplib.SMTP('127.0.0.1', {port}, timeout=30)\n\
         \x20     s.sendmail('sender@example.net', ['tuser@localhost'], 'Subject: burst %d\\n\\nbody %d\\n' % (i, i))\n\
         \x20     s.quit(); break\n\
         \x20   except Exception as e:\n\
         \x20     time.sleep(0.1)\n\
         \x20 else:\n\
         \x20   sys.exit('message %d refused' % i)\n\
         \x20 time.sleep(0.02)\n\
         print('sent')\n",
        first + n
    );
    Command::new("python3")
        .args(["-c", &script])
        .stdout(Stdio::piped())
        .spawn()
        .unwrap()
}

/// The burst numbers in the Maildir's new/, sorted (with any duplicates).
fn delivered(user: &Path) -> Vec<usize> {
    let new = user.join("Maildir/new");
    let mut v: Vec<usize> = ls(&new)
        .iter()
        .filter_map(|f| std::fs::read_to_string(new.join(f)).ok())
        .filter_map(|m| {
            m.split("Subject: burst ")
                .nth(1)?
                .split('\n')
                .next()?
                .parse()
                .ok()
        })
        .collect();
    v.sort();
    v
}

fn finish(c: Child) -> bool {
    let out = c.wait_with_output().unwrap();
    out.status.success() && out.stdout == b"sent\n"
}

fn qmail_send_pid(jail: &Jail) -> Option<u32> {
    let ns = jail.ns();
    ls("/proc")
        .iter()
        .filter_map(|p| p.parse::<u32>().ok())
        .find(|p| {
            std::fs::read(format!("/proc/{p}/comm")).is_ok_and(|c| c == b"qmail-send\n")
                && ns_of(*p) == ns
        })
}

/// One supervision suite: its scanner, how to restart a service, the log file its logger
/// writes, and how its log lines look once through tai64nlocal (multilog's) or as they are.
struct Suite {
    scanner: &'static str,
    restart: &'static str,
    port: &'static str,
}

fn install_supervised(tag: &str, suite: Suite) {
    let home = env_path("T_ROOT_HOME");
    let cmd = env_path("T_ROOT_CMD");
    let _ = std::fs::remove_dir_all(&home);
    let src = source(tag, VERSION);
    let jail = Jail::new(tag);
    let scan = scratch(&format!("opscan.{tag}"));
    let _ = std::fs::remove_dir_all(&scan);
    std::fs::create_dir(&scan).unwrap();
    // The /command convention in use, one name already another package's.
    jail.sh(
        "mkdir -p /command /package/net/ucspi-tcp/command && ln -s /package/net/ucspi-tcp/command/tcpserver /command/tcpserver",
        &[],
    );
    let sendmail_before = jail.out("ls -l /usr/sbin/sendmail /usr/lib/sendmail /usr/bin/mailq /usr/bin/newaliases 2>&1; cksum /usr/sbin/sendmail 2>&1");
    let mut scanner = jail
        .cmd(&format!("exec {} {}", suite.scanner, scan.display()), &[])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let s = scan.display().to_string();
    jail.sh(
        &format!("{}/package/install", src.display()),
        &[
            ("RQMAIL_BUILT", &cmd.display().to_string()),
            ("SCANDIR", &s),
            ("SCANKIND", suite.scanner),
            ("SMTPPORT", suite.port),
        ],
    );
    let user = add_user(&home, tag);

    // The layout: the package directory and its link, /command, the sendmail links.
    let pkg = format!("/package/mail/rqmail-{VERSION}");
    assert_eq!(
        jail.out("readlink /package/mail/rqmail"),
        format!("rqmail-{VERSION}\n")
    );
    assert_eq!(
        jail.out(&format!("cd {pkg} && ls command | wc -l")).trim(),
        ls(&cmd).len().to_string()
    );
    assert_eq!(
        jail.out("readlink /command/qmail-send"),
        "/package/mail/rqmail/command/qmail-send\n"
    );
    assert_eq!(
        jail.out("readlink /command/tcpserver"),
        "/package/net/ucspi-tcp/command/tcpserver\n",
        "another package's /command entry kept"
    );
    for d in [
        "bin", "control", "users", "queue", "alias", "boot", "doc", "man", "service",
    ] {
        assert!(home.join(d).is_dir(), "no {d}/ in the home");
    }
    let bin = home.join("bin/sendmail").display().to_string();
    for l in ["/usr/sbin/sendmail", "/usr/lib/sendmail", "/usr/bin/mailq"] {
        assert_eq!(jail.out(&format!("readlink {l}")).trim(), bin, "{l}");
    }
    assert_eq!(
        jail.out("readlink /usr/bin/newaliases").trim(),
        home.join("bin/newaliases").display().to_string()
    );
    assert!(
        jail.out("cksum /usr/sbin/sendmail.pre-rqmail")
            == sendmail_before
                .lines()
                .last()
                .unwrap()
                .replace("sendmail", "sendmail.pre-rqmail")
                + "\n"
    );
    let smtpd = home.join("service/qmail-smtpd");
    assert_eq!(
        std::fs::read_to_string(smtpd.join("env/PORT")).unwrap(),
        format!("{}\n", suite.port)
    );
    assert_eq!(
        std::fs::read_to_string(smtpd.join("env/CONCURRENCY")).unwrap(),
        "20\n"
    );

    // Mail: SMTP in while the send service is restarted, then /usr/sbin/sendmail.
    let sv = home.join("service/qmail-send");
    let up = wait_for(20, || qmail_send_pid(&jail).is_some());
    let first = qmail_send_pid(&jail);
    let b = burst(suite.port, 0, 40);
    let some = wait_for(30, || delivered(&user).len() >= 8);
    let at_restart = delivered(&user).len();
    let r = jail
        .cmd(&format!("{} {}", suite.restart, sv.display()), &[])
        .output()
        .unwrap();
    let sent = finish(b);
    let restarted = wait_for(20, || {
        qmail_send_pid(&jail).is_some_and(|p| Some(p) != first)
    });
    let msg = b"Subject: burst 40\n\nbody 40\n";
    let mut c = jail.cmd("exec setpriv --reuid=65534 --regid=65534 --clear-groups /usr/sbin/sendmail tuser@localhost", &[]);
    let mut ch = c.stdin(Stdio::piped()).spawn().unwrap();
    std::io::Write::write_all(&mut ch.stdin.take().unwrap(), msg).unwrap();
    let injected = ch.wait().unwrap().success();
    let all = wait_for(60, || delivered(&user).len() >= 41);
    let got = delivered(&user);
    let log = match suite.scanner {
        "svscan" | "s6-svscan" => {
            jail.out(&format!("tai64nlocal < {}/log/main/current", sv.display()))
        }
        _ => std::fs::read_to_string(sv.join("log/main/current")).unwrap_or_default(),
    };

    // Everything stops; the links go back.
    let un = jail
        .cmd(
            "cd /package/mail/rqmail && package/uninstall",
            &[("SCANDIR", &s)],
        )
        .output()
        .unwrap();
    let _ = scanner.kill();
    let _ = scanner.wait();
    let left = jail.others();
    let after = jail.out("ls -l /usr/sbin/sendmail /usr/lib/sendmail /usr/bin/mailq /usr/bin/newaliases 2>&1; cksum /usr/sbin/sendmail 2>&1");
    let links = jail.out(
        "ls /command; ls /package/mail; ls /usr/sbin /usr/lib /usr/bin | grep -c pre-rqmail || :",
    );
    drop(jail);
    let _ = std::fs::remove_dir_all(&scan);
    let _ = std::fs::remove_dir_all(&src);
    assert!(
        up && some && sent && injected,
        "up {up}, some delivered {some}, sent {sent}, injected {injected}:\n{log}"
    );
    assert!(
        r.status.success(),
        "{}: {}",
        suite.restart,
        String::from_utf8_lossy(&r.stderr)
    );
    assert!(restarted, "qmail-send was not restarted:\n{log}");
    assert!(at_restart < 40, "the restart came after the burst");
    assert!(
        all && got == (0..41).collect::<Vec<_>>(),
        "delivered {got:?}:\n{log}"
    );
    for f in ls(user.join("Maildir/new")) {
        assert_eq!(
            std::fs::metadata(user.join("Maildir/new").join(f))
                .unwrap()
                .uid(),
            NOBODY
        );
    }
    let stamp = |l: &str| match suite.scanner {
        // tai64nlocal: 2026-12-04 04:35:30.123456789 (multilog's @4000… turned into local time)
        "svscan" | "s6-svscan" => {
            l.len() > 30
                && l.as_bytes()[4] == b'-'
                && l.as_bytes()[10] == b' '
                && l.as_bytes()[19] == b'.'
        }
        // svlogd -tt: 2026-12-04_04:35:30.12345
        _ => l.len() > 26 && l.as_bytes()[4] == b'-' && l.as_bytes()[10] == b'_',
    };
    assert!(log.lines().all(stamp), "every line stamped:\n{log}");
    assert!(
        log.contains(" status: exiting\n")
            && log.matches(" status: local 0/10 remote 0/20\n").count() >= 2,
        "the restart is logged:\n{log}"
    );
    assert!(log.contains(" end msg "), "{log}");
    assert!(
        un.status.success(),
        "uninstall: {}",
        String::from_utf8_lossy(&un.stderr)
    );
    assert_eq!(left, Vec::<String>::new(), "processes left behind");
    assert_eq!(
        after, sendmail_before,
        "the displaced sendmail and its links are back"
    );
    assert_eq!(
        links,
        format!("tcpserver\nrqmail-{VERSION}\n0\n"),
        "only links of other packages are left"
    );
    assert!(
        home.join("queue/mess").is_dir()
            && home.join("control/me").is_file()
            && !home.join("bin").exists()
    );
    let _ = std::fs::remove_dir_all(&user);
    let _ = std::fs::remove_dir_all(&home);
}

#[test]
#[ignore = "needs root"]
fn installs_and_runs_under_daemontools_restarts_without_loss_and_uninstalls() {
    install_supervised(
        "dt",
        Suite {
            scanner: "svscan",
            restart: "svc -t",
            port: "26251",
        },
    );
}

#[test]
#[ignore = "needs root"]
fn installs_and_runs_under_runit_restarts_without_loss_and_uninstalls() {
    install_supervised(
        "ru",
        Suite {
            scanner: "runsvdir",
            restart: "sv restart",
            port: "26252",
        },
    );
}

#[test]
#[ignore = "needs root"]
fn installs_and_runs_under_s6_restarts_without_loss_and_uninstalls() {
    install_supervised(
        "s6",
        Suite {
            scanner: "s6-svscan",
            restart: "s6-svc -r",
            port: "26254",
        },
    );
}

#[test]
#[ignore = "needs root"]
fn upgrading_to_another_package_while_mail_flows_loses_nothing_and_keeps_control() {
    let home = env_path("T_ROOT_HOME");
    let cmd = env_path("T_ROOT_CMD").display().to_string();
    let _ = std::fs::remove_dir_all(&home);
    let next = format!("{VERSION}-next");
    let (a, b) = (source("ua", VERSION), source("ub", &next));
    let jail = Jail::new("up");
    let port = "26253";
    let bg = [
        ("RQMAIL_BUILT", cmd.as_str()),
        ("SCANDIR", "none"),
        ("SMTPPORT", port),
    ];
    jail.sh(&format!("{}/package/install", a.display()), &bg);
    let user = add_user(&home, "up");
    std::fs::write(home.join("control/concurrencylocal"), "7\n").unwrap();
    let assign = std::fs::read(home.join("users/assign")).unwrap();
    std::fs::write(home.join("alias/.qmail-postmaster"), "&admin@example.org\n").unwrap();
    let before = jail.out("readlink /package/mail/rqmail");
    let ino = std::fs::metadata(home.join("bin/qmail-send"))
        .unwrap()
        .ino();
    let old = std::fs::read_to_string(home.join("log/qmail-send.pid")).unwrap();

    // The operator's upgrade, while a burst arrives: the new package directory, its
    // programs, package/upgrade from there, then qmail-send restarted on the new programs.
    let flow = burst(port, 0, 60);
    let some = wait_for(30, || delivered(&user).len() >= 5);
    let pkg = format!("/package/mail/rqmail-{next}");
    jail.sh(
        &format!(
            "mkdir {pkg} && cd {} && tar cf - . | (cd {pkg} && tar xf -) && cd {pkg} && \
             mkdir command && cp -p {cmd}/* command/ && package/upgrade && package/run",
            b.display()
        ),
        &[("SCANDIR", "none"), ("ENABLE", "qmail-send")],
    );
    let after = jail.out("readlink /package/mail/rqmail");
    let sent = finish(flow);
    let all = wait_for(60, || delivered(&user).len() >= 60);
    let got = delivered(&user);
    let new = std::fs::read_to_string(home.join("log/qmail-send.pid")).unwrap();
    let ino2 = std::fs::metadata(home.join("bin/qmail-send"))
        .unwrap()
        .ino();
    // The restarted qmail-send logs its first status line a moment after it starts.
    let read_log = || std::fs::read_to_string(home.join("log/qmail-send")).unwrap_or_default();
    wait_for(20, || {
        read_log().contains("status: local 0/7 remote 0/20\n")
    });
    let log = read_log();
    let un = jail
        .cmd("cd /package/mail/rqmail && package/uninstall", &[])
        .output()
        .unwrap();
    let left = jail.others();
    drop(jail);
    for d in [&a, &b] {
        let _ = std::fs::remove_dir_all(d);
    }
    assert_eq!(before, format!("rqmail-{VERSION}\n"));
    assert_eq!(after, format!("rqmail-{next}\n"), "the link switched");
    assert!(
        some && sent && all && got == (0..60).collect::<Vec<_>>(),
        "delivered {got:?}:\n{log}"
    );
    assert_ne!(old, new, "qmail-send restarted");
    assert_ne!(ino, ino2, "bin/ has the new programs");
    assert_eq!(
        std::fs::read_to_string(home.join("control/concurrencylocal")).unwrap(),
        "7\n"
    );
    assert_eq!(std::fs::read(home.join("users/assign")).unwrap(), assign);
    assert_eq!(
        std::fs::read_to_string(home.join("alias/.qmail-postmaster")).unwrap(),
        "&admin@example.org\n"
    );
    assert!(log.contains("status: local 0/7 remote 0/20\n"), "{log}");
    assert!(
        un.status.success(),
        "{}",
        String::from_utf8_lossy(&un.stderr)
    );
    assert_eq!(left, Vec::<String>::new(), "processes left behind");
    let _ = std::fs::remove_dir_all(&user);
    let _ = std::fs::remove_dir_all(&home);
}

/// Runs `home/service/name/run` from its directory the way a supervisor would, with only
/// `tool` (one of the envdir programs) and the basic commands on the supervisor's PATH; the
/// stand-in daemons in home/bin print their arguments and some variables.
fn run_script(home: &Path, name: &str, tool: &str) -> String {
    let path = home.join(format!("path.{tool}"));
    if !path.exists() {
        std::fs::create_dir(&path).unwrap();
        for p in [tool, "env", "cat", "head", "id", "getent", "cut"] {
            let real = ["/usr/bin", "/bin", "/usr/sbin"]
                .iter()
                .map(|d| Path::new(d).join(p))
                .find(|f| f.exists())
                .unwrap_or_else(|| panic!("{p} is not installed (.ci/run installs it)"));
            std::os::unix::fs::symlink(real, path.join(p)).unwrap();
        }
    }
    let o = Command::new(home.join(format!("service/{name}/run")))
        .current_dir(home.join(format!("service/{name}")))
        .env_clear()
        .env("PATH", &path)
        .env("LEAK", "from the supervisor")
        .output()
        .unwrap();
    assert!(o.status.success(), "{name} with {tool}: {o:?}");
    String::from_utf8_lossy(&o.stdout).into_owned()
}

#[test]
fn run_scripts_read_env_the_same_through_envdir_s6_envdir_and_chpst() {
    let t = crate::common::TmpDir::new("envdir");
    let home = t.0.clone();
    for d in ["bin", "control"] {
        std::fs::create_dir(home.join(d)).unwrap();
    }
    std::os::unix::fs::symlink(crate::common::bin("tcprules"), home.join("bin/tcprules")).unwrap();
    std::fs::write(home.join("control/me"), "me.example\n").unwrap();
    std::fs::write(home.join("control/defaultdelivery"), "./Maildir/\n").unwrap();
    let show = "#!/bin/sh\necho \"$0 $*|$DEFAULTDELIVERY|$PORT|$DNSCACHEIP|${LEAK-no leak}|${RQMAIL_ENVDIR%% *}\"\n";
    for p in ["tcpserver", "qmail-start"] {
        std::fs::write(home.join("bin").join(p), show).unwrap();
        let mut perm = std::fs::metadata(home.join("bin").join(p))
            .unwrap()
            .permissions();
        std::os::unix::fs::PermissionsExt::set_mode(&mut perm, 0o755);
        std::fs::set_permissions(home.join("bin").join(p), perm).unwrap();
    }
    let o = Command::new("package/services")
        .arg(&home)
        .env("SMTPPORT", "2525")
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .unwrap();
    assert!(o.status.success(), "{o:?}");
    let h = home.display();
    std::fs::write(
        home.join("service/qmail-smtpd/env/DNSCACHEIP"),
        "127.0.0.53\n",
    )
    .unwrap();
    for tool in ["envdir", "s6-envdir", "chpst"] {
        let smtpd = run_script(&home, "qmail-smtpd", tool);
        let want = format!(
            "-v -R -l me.example -x {h}/control/tcp.smtp.cdb -c 20 -u {} -g {} 0 2525 qmail-smtpd||2525|127.0.0.53|no leak|{tool}\n",
            run_script_id("-u"),
            run_script_id("-g"),
        );
        assert_eq!(smtpd, format!("{h}/bin/tcpserver {want}"), "with {tool}");
        let send = run_script(&home, "qmail-send", tool);
        assert_eq!(
            send,
            format!("{h}/bin/qmail-start ./Maildir/||||no leak|{tool}\n")
        );
    }
    // A value in env/ overrides control/defaultdelivery; kept when the services are rewritten.
    std::fs::write(
        home.join("service/qmail-send/env/DEFAULTDELIVERY"),
        "./Mailbox\n",
    )
    .unwrap();
    let o = Command::new("package/services")
        .arg(&home)
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .unwrap();
    assert!(o.status.success(), "{o:?}");
    assert_eq!(
        run_script(&home, "qmail-send", "chpst"),
        format!("{h}/bin/qmail-start ./Mailbox|./Mailbox|||no leak|chpst\n")
    );
    let port = std::fs::read_to_string(home.join("service/qmail-smtpd/env/PORT")).unwrap();
    assert_eq!(port, "2525\n", "env/PORT kept");
    // A run script the operator took over (its package/services line deleted) is kept.
    let run = home.join("service/qmail-smtpd/run");
    let mine: String = std::fs::read_to_string(&run)
        .unwrap()
        .lines()
        .filter(|l| !l.starts_with("# package/services"))
        .map(|l| l.replace(" qmail-smtpd", " rblsmtpd -r bl.example qmail-smtpd") + "\n")
        .collect();
    std::fs::write(&run, &mine).unwrap();
    let o = Command::new("package/services")
        .arg(&home)
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .unwrap();
    assert!(o.status.success(), "{o:?}");
    assert_eq!(std::fs::read_to_string(&run).unwrap(), mine);
    assert!(run_script(&home, "qmail-smtpd", "envdir")
        .contains(" 2525 rblsmtpd -r bl.example qmail-smtpd|"));
}

/// What the qmail-smtpd run script gives tcpserver for -u (qmaild's uid) or -g (nofiles' gid)
/// on this machine: empty where the account does not exist.
fn run_script_id(which: &str) -> String {
    let users =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/conf/users")).unwrap();
    let groups =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/conf/groups")).unwrap();
    let cmd = match which {
        "-u" => format!("id -u {}", users.split_whitespace().nth(1).unwrap()),
        _ => format!(
            "getent group {} | cut -d: -f3",
            groups.split_whitespace().nth(1).unwrap()
        ),
    };
    let o = Command::new("sh")
        .args(["-c", &cmd])
        .stderr(Stdio::null())
        .output()
        .unwrap();
    String::from_utf8_lossy(&o.stdout).trim().to_string()
}
