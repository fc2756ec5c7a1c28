//! qmail-start — build the pipes between the delivery daemons and start them.
//!
//! Usage:    qmail-start [ defaultdelivery [ logger arg ... ] ]
//! Exit:     never returns on success: it becomes qmail-send. 111 on any failure, with one line
//!           on fd 2 (qmail's prints nothing; a line helps the operator and costs nothing).
//! Runs as:  root; gives every child its own account: qmail-lspawn root/qmail, qmail-rspawn
//!           qmailr (with its groups), qmail-clean qmailq/qmail, qmail-send qmails/qmail, the
//!           logger qmaill/nofiles. Started by an ordinary user it runs everything as that user
//!           (a private instance; the conf accounts must then all be that user).
//! Trusts:   its arguments and environment (the operator's); both pass down to every daemon.
//! Spec:     shared/spec/qmail.md §2.1, §2.2, §4.15.
//!
//! Programs are found through PATH, which must contain the qmail home's bin/. The default
//! delivery is `./Mailbox`, as in qmail. The logger, if any, gets the log on fd 0 and has no
//! fd 2. qmail-send gets fd 0 = log, fd 1/2 = to/from qmail-lspawn, fd 3/4 = qmail-rspawn,
//! fd 5/6 = qmail-clean.

use qlib::conf::{self, Group, User};
use qlib::fail::{Fail, OrFail as _};
use qlib::sys::{fd, id, proc};
use qlib::{args, prog};
use std::ffi::OsString;
use std::os::fd::{AsRawFd, OwnedFd};
use std::os::unix::process::CommandExt;
use std::process::{Command, ExitCode};

fn main() -> ExitCode {
    prog::main("qmail-start", run)
}

/// The ids of the qmail accounts and groups, looked up at start.
struct Ids {
    qmail: u32,
    nofiles: u32,
    qmaill: u32,
    qmailq: u32,
    qmailr: u32,
    qmails: u32,
    rgroups: Vec<u32>,
}

fn run(argv: Vec<OsString>) -> Result<u8, Fail> {
    let mut rest = args::none(argv).into_iter();
    let dd = rest.next().unwrap_or_else(|| "./Mailbox".into());
    let logger: Vec<OsString> = rest.collect();
    std::env::set_current_dir("/").or_temp("unable to chdir to /")?;
    qlib::sys::fs::umask(0o077);
    let look =
        |u: User| conf::uid(u).or_temp(&format!("unable to find user {}", conf::user_name(u)));
    let group =
        |g: Group| conf::gid(g).or_temp(&format!("unable to find group {}", conf::group_name(g)));
    let qmail = group(Group::Qmail)?;
    let qmailr = look(User::Qmailr)?;
    let rname = conf::user_name(User::Qmailr).as_bytes();
    let ids = Ids {
        qmail,
        nofiles: group(Group::Nofiles)?,
        qmaill: look(User::Qmaill)?,
        qmailq: look(User::Qmailq)?,
        qmailr,
        qmails: look(User::Qmails)?,
        rgroups: id::grouplist(rname, qmail).or_temp("unable to list groups of qmailr")?,
    };
    let root = id::geteuid() == 0;
    if root {
        qlib::prot::gid(ids.qmail).or_temp("unable to set group qmail")?;
    }
    let as_user = |groups: Vec<u32>, gid: u32, uid: u32| -> proc::Setup {
        if root {
            proc::Setup {
                groups: Some(groups),
                gid: Some(gid),
                uid: Some(uid),
                ..Default::default()
            }
        } else {
            proc::Setup::default()
        }
    };

    let log: OwnedFd = if logger.is_empty() {
        fd::inherited(1).ok_or_else(|| Fail::temp("fd 1 is not open"))?
    } else {
        let (r, w) = fd::pipe().or_temp("unable to create pipe")?;
        let mut s = as_user(vec![ids.nofiles], ids.nofiles, ids.qmaill);
        s.fds = vec![(r.as_raw_fd(), 0)];
        s.close = vec![2, 3, 4, 5, 6];
        let mut cmd = Command::new(&logger[0]);
        cmd.args(&logger[1..]);
        proc::setup(&mut cmd, s);
        cmd.spawn().or_temp("unable to start logger")?;
        w
    };

    let mut to_send = Vec::new();
    let daemons: [(&str, Vec<OsString>, proc::Setup); 3] = [
        (
            "qmail-lspawn",
            vec![dd],
            as_user(vec![ids.qmail], ids.qmail, 0),
        ),
        (
            "qmail-rspawn",
            vec![],
            as_user(ids.rgroups.clone(), ids.qmail, ids.qmailr),
        ),
        (
            "qmail-clean",
            vec![],
            as_user(vec![ids.qmail], ids.qmail, ids.qmailq),
        ),
    ];
    for (name, argv, mut setup) in daemons {
        let (cmd_r, cmd_w) = fd::pipe().or_temp("unable to create pipe")?;
        let (rep_r, rep_w) = fd::pipe().or_temp("unable to create pipe")?;
        setup.fds = vec![(cmd_r.as_raw_fd(), 0), (rep_w.as_raw_fd(), 1)];
        setup.close = vec![2, 3, 4, 5, 6];
        if name == "qmail-lspawn" {
            setup.uid = None; // stays root: it must become each user
        }
        let mut cmd = Command::new(name);
        cmd.args(argv);
        proc::setup(&mut cmd, setup);
        cmd.spawn().or_temp(&format!("unable to start {name}"))?;
        to_send.push((cmd_w, rep_r));
    }

    let mut send = as_user(vec![ids.qmail], ids.qmail, ids.qmails);
    send.fds.push((log.as_raw_fd(), 0));
    for (i, (w, r)) in to_send.iter().enumerate() {
        send.fds.push((w.as_raw_fd(), 1 + 2 * i as i32));
        send.fds.push((r.as_raw_fd(), 2 + 2 * i as i32));
    }
    let mut cmd = Command::new("qmail-send");
    proc::setup(&mut cmd, send);
    let e = cmd.exec();
    Err(Fail::temp(format!(
        "unable to run qmail-send: {}",
        qlib::errtext::text(&e)
    )))
}
