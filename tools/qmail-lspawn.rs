//! qmail-lspawn — make each local delivery qmail-send asks for, as the right user.
//!
//! Usage:    qmail-lspawn defaultdelivery      (started by qmail-start)
//! Input:    the spawn protocol on fd 0 (requests) and fd 1 (reports); see lib/src/spawn.rs.
//! Exit:     0 when fd 0 ends and every delivery has been reported; 100 usage; 111 trouble.
//! Runs as:  root (so that it can become each user); runs nothing as root: qmail-getpw runs as
//!           qmailp/nofiles, and each delivery in a child that has taken the recipient's uid
//!           and gid (never uid 0) before it reads anything of the user's.
//!           Run by an ordinary user (a private instance) it delivers only as that user.
//! Differs:  qmail exec'd bin/qmail-local for every delivery; rqmail's child runs the same
//!           code (qlib::local, which bin/qmail-local also is) without the exec, which saves
//!           one program start per delivery. The child's fds, ids and report are as qmail's:
//!           fd 0 the message, fd 1 and 2 the report pipe, exit codes as qmail-local's. A
//!           site that replaced bin/qmail-local with a wrapper must wrap qmail-lspawn instead.
//! Trusts:   qmail-send's requests only as far as lib/src/spawn.rs checks them (message files
//!           must be regular files owned by qmailq); users/cdb and qmail-getpw's output.
//! Spec:     shared/spec/qmail.md §2.3, §4.1–4.4, §12.

use qlib::child::Wait;
use qlib::fail::{Fail, OrFail as _};
use qlib::spawn::{self, Channel, Report, Request};
use qlib::sys::{fd, id, proc, sig};
use qlib::users::{self, Assign};
use qlib::{args, cdb::Cdb, conf, errtext, local, prog};
use std::ffi::{OsStr, OsString};
use std::fs::File;
use std::io::Write;
use std::os::fd::{AsRawFd, OwnedFd};
use std::os::unix::ffi::OsStrExt;
use std::path::PathBuf;
use std::process::{Command, ExitCode, Stdio};

const USAGE: &str = "qmail-lspawn defaultdelivery";
/// Most delivery output passed on in a report.
const REPORT_MAX: usize = 3000;

fn main() -> ExitCode {
    prog::main("qmail-lspawn", run)
}

fn run(argv: Vec<OsString>) -> Result<u8, Fail> {
    let dd = args::exactly(args::none(argv), 1, USAGE)?.remove(0);
    std::env::set_current_dir(conf::HOME).or_temp("unable to chdir to home")?;
    std::env::set_current_dir("queue/mess").or_temp("unable to chdir to queue/mess")?;
    let owner = conf::uid(conf::User::Qmailq).or_temp("unable to find qmailq")?;
    let getpw = (
        conf::uid(conf::User::Qmailp).or_temp("unable to find qmailp")?,
        conf::gid(conf::Group::Nofiles).or_temp("unable to find nofiles")?,
    );
    let home = PathBuf::from(conf::HOME);
    let mut local = Local {
        dd,
        getpw,
        home,
        root: id::geteuid() == 0,
    };
    spawn::run(&mut local, conf::spawn(), owner).or_temp("trouble in spawn loop")?;
    Ok(0)
}

struct Local {
    dd: OsString,
    getpw: (u32, u32),
    home: PathBuf,
    root: bool,
}

fn z(text: &str) -> Report {
    (b'Z', text.as_bytes().to_vec())
}

/// Child setup that switches to `uid`/`gid` with no other groups, when running as root.
fn become_user(cmd: &mut Command, root: bool, uid: u32, gid: u32) {
    if root {
        proc::setup(
            cmd,
            proc::Setup {
                groups: Some(vec![gid]),
                gid: Some(gid),
                uid: Some(uid),
                ..Default::default()
            },
        );
    }
}

impl Local {
    /// users/cdb, then qmail-getpw.
    fn find(&self, local: &[u8]) -> Result<Assign, Report> {
        match Cdb::open(self.home.join("users/cdb")) {
            Ok(db) => match users::lookup(&db, local) {
                Ok(Some(a)) => return Ok(a),
                Ok(None) => {}
                Err(_) => return Err(z("Trouble reading users/cdb in qmail-lspawn.\n")),
            },
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(_) => return Err(z("Trouble reading users/cdb in qmail-lspawn.\n")),
        }
        let mut cmd = Command::new(self.home.join("bin/qmail-getpw"));
        cmd.arg(OsStr::from_bytes(local))
            .stdin(Stdio::null())
            .stderr(Stdio::null());
        become_user(&mut cmd, self.root, self.getpw.0, self.getpw.1);
        let out = cmd
            .output()
            .map_err(|_| z("Unable to run qmail-getpw.\n"))?;
        match Wait::from(out.status) {
            Wait::Exited(0) => users::parse_getpw(&out.stdout)
                .ok_or_else(|| z("Trouble reading qmail-getpw output.\n")),
            Wait::Exited(100) => Err((
                b'D',
                b"Internal qmail-lspawn bug: bad address for qmail-getpw. (#5.3.5)\n".to_vec(),
            )),
            Wait::Exited(115) => Err(z("NFS failure in qmail-getpw. (#4.3.0)\n")),
            Wait::Exited(116) => Err(z("Unable to find alias user! (#4.3.0)\n")),
            _ => Err(z("Temporary failure in qmail-getpw. (#4.3.0)\n")),
        }
    }
}

/// The forked child: the message on fd 0, the report pipe on fd 1 and 2, the recipient's ids
/// (when running as root), then qmail-local's code in this process; never returns.
fn deliver(message: File, out: OwnedFd, ids: Option<(u32, u32)>, argv: Vec<OsString>) -> ! {
    let setup = || -> std::io::Result<()> {
        fd::dup2(message.as_raw_fd(), 0)?;
        fd::dup2(out.as_raw_fd(), 1)?;
        fd::dup2(out.as_raw_fd(), 2)?;
        sig::default(sig::SIGCHLD)?;
        if let Some((uid, gid)) = ids {
            id::setgroups(&[gid])?;
            id::setgid(gid)?;
            id::setuid(uid)?;
        }
        Ok(())
    };
    if let Err(e) = setup() {
        let text = format!(
            "Unable to set up the delivery: {}. (#4.3.0)\n",
            errtext::text(&e)
        );
        let _ = File::from(out).write_all(text.as_bytes());
        proc::exit_now(111);
    }
    drop((message, out));
    proc::exit_now(prog::finish(local::run(argv)))
}

impl Channel for Local {
    fn start(&mut self, req: Request<'_>, out: OwnedFd) -> Result<i32, Report> {
        let at = req.recipient.iter().rposition(|&c| c == b'@').unwrap_or(0);
        let (local, domain) = (&req.recipient[..at], &req.recipient[at + 1..]);
        if local.is_empty() {
            return Err((b'K', Vec::new())); // the trash address
        }
        let a = self.find(local)?;
        if a.uid == 0 {
            return Err(z("Not allowed to perform deliveries as root. (#4.3.0)\n"));
        }
        let mut argv: Vec<OsString> = vec!["qmail-local".into(), "--".into()];
        for f in [&a.user, &a.home, local, &a.dash, &a.ext, domain, req.sender] {
            argv.push(OsStr::from_bytes(f).to_os_string());
        }
        argv.push(self.dd.clone());
        match proc::fork() {
            Ok(Some(pid)) => Ok(pid),
            Ok(None) => deliver(req.message, out, self.root.then_some((a.uid, a.gid)), argv),
            Err(e) => Err(z(&format!(
                "Unable to fork: {}. (#4.3.0)\n",
                errtext::text(&e)
            ))),
        }
    }

    fn report(&self, wait: Wait, output: &[u8]) -> Report {
        let mut text = output[..output.len().min(REPORT_MAX)].to_vec();
        if output.len() > REPORT_MAX {
            text.extend_from_slice(b"\n[qmail-lspawn: report truncated]\n");
        }
        match wait {
            Wait::Crashed(_) => z("qmail-local crashed.\n"),
            Wait::Exited(0) => (b'K', text),
            Wait::Exited(111 | 71 | 74 | 75) => (b'Z', text),
            Wait::Exited(_) => (b'D', text),
        }
    }
}
