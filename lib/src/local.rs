//! One local delivery as qmail-local makes it (the program's manual is the header of
//! tools/qmail-local.rs). qmail-lspawn runs this same code in a child it forks and switches
//! to the recipient's ids, instead of exec'ing bin/qmail-local: one program start less per
//! delivery.

use crate::dotqmail::{self, After, Delivery, Instr, Problem};
use crate::fail::Fail;
use crate::{args, conf, errtext, maildir, mbox, qmail, sys};
use std::ffi::{OsStr, OsString};
use std::fs::File;
use std::io::{self, BufReader, Seek, SeekFrom, Write};
use std::os::fd::AsFd;
use std::os::unix::ffi::{OsStrExt, OsStringExt};
use std::os::unix::fs::MetadataExt;
use std::path::Path;
use std::process::{Command, Stdio};

const USAGE: &str = "qmail-local [ -nN ] user homedir local dash ext domain sender defaultdelivery";

/// qmail-local's own failures are written bare (they become the report or bounce text).
fn die(code: u8, text: impl AsRef<str>) -> Fail {
    let _ = io::stderr().write_all(format!("{}\n", text.as_ref()).as_bytes());
    Fail::silent(code)
}

fn problem(p: Problem) -> Fail {
    die(p.code, p.text)
}

fn temp_err(what: &str, e: &io::Error, code: &str) -> Fail {
    die(111, format!("{what}: {}. (#{code})", errtext::text(e)))
}

fn show(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

/// qmail-local's whole job, for the program and for qmail-lspawn's in-process delivery:
/// `argv` is the program name and the arguments; fd 0 the message, fd 1 and 2 the report.
pub fn run(argv: Vec<OsString>) -> Result<u8, Fail> {
    let mut o = getopts::Options::new();
    o.optflagmulti("n", "", "print the plan")
        .optflagmulti("N", "", "deliver")
        .parsing_style(getopts::ParsingStyle::StopAtFirstFree);
    let p = args::parse(&o, argv, USAGE)?;
    let last = |f: &str| p.opts.opt_positions(f).into_iter().max();
    let doit = last("n") <= last("N");
    let a: Vec<Vec<u8>> = args::exactly(p.rest, 8, USAGE)?
        .into_iter()
        .map(OsString::into_vec)
        .collect();
    let [user, home, local, dash, ext, domain, sender, defaultdelivery]: [Vec<u8>; 8] =
        a.try_into().map_err(|_| Fail::usage(USAGE))?;
    if !home.starts_with(b"/") {
        return Err(Fail::usage(USAGE));
    }
    let d = Delivery {
        user,
        home,
        local,
        dash,
        ext,
        domain,
        sender,
        defaultdelivery,
    };
    sys::fs::umask(0o077);
    let _ = sys::sig::ignore(sys::sig::SIGPIPE);
    let home = Path::new(OsStr::from_bytes(&d.home));
    std::env::set_current_dir(home).map_err(|e| {
        temp_err(
            &format!("Unable to switch to {}", show(&d.home)),
            &e,
            "4.3.0",
        )
    })?;
    let st = std::fs::metadata(".")
        .map_err(|e| temp_err("Unable to stat home directory", &e, "4.3.0"))?;
    if st.mode() & conf::patrn() != 0 {
        return Err(die(111, "Uh-oh: home directory is writable. (#4.7.0)"));
    }
    if st.mode() & 0o1000 != 0 {
        if doit {
            return Err(die(
                111,
                "Home directory is sticky: user is editing his .qmail file. (#4.2.1)",
            ));
        }
        let _ = io::stderr().write_all(b"Warning: home directory is sticky.\n");
    }
    let mut msg = None;
    if doit {
        let mut m = io::stdin()
            .as_fd()
            .try_clone_to_owned()
            .map(File::from)
            .map_err(|e| temp_err("Unable to read message", &e, "4.3.0"))?;
        rewind(&mut m)?;
        let looping = dotqmail::has_line(&mut BufReader::new(&m), &d.dtline())
            .map_err(|e| temp_err("Unable to read message", &e, "4.3.0"))?;
        if looping {
            return Err(die(
                100,
                "This message is looping: it already has my Delivered-To line. (#5.4.6)",
            ));
        }
        msg = Some(m);
    }
    let bounce = d.sender.is_empty() || d.sender == b"#@[]";
    let here = Path::new(".");
    let (owner, owner_default) = if bounce {
        (false, false)
    } else {
        (
            dotqmail::owner_file(here, &d, b"-owner").map_err(problem)?,
            dotqmail::owner_file(here, &d, b"-owner-default").map_err(problem)?,
        )
    };
    let newsender = dotqmail::newsender(&d, owner, owner_default);
    let control = dotqmail::find(here, &d.dash, &d.ext, &d.defaultdelivery, conf::patrn())
        .map_err(problem)?;
    let plan = dotqmail::parse(&control.text, control.forward_only).map_err(problem)?;
    let ufline = mbox::from_line(&d.sender, crate::date::secs(std::time::SystemTime::now()));
    let env = dotqmail::environment(&d, &newsender, &ufline, control.default.as_deref());
    let mut out = Vec::new();
    let (mut files, mut forwards, mut programs) = (0, Vec::new(), 0);
    let Some(mut msg) = msg else {
        for i in &plan {
            out.extend_from_slice(&i.plan());
            out.push(b'\n');
            match i {
                Instr::Program(_) => programs += 1,
                Instr::Forward(a) => forwards.push(a.clone()),
                _ => files += 1,
            }
        }
        out.extend_from_slice(format!("did {files}+{}+{programs}\n", forwards.len()).as_bytes());
        return say(&out);
    };
    for i in &plan {
        rewind(&mut msg)?;
        match i {
            Instr::Program(c) => {
                programs += 1;
                match program(c, &msg, &env)? {
                    After::Next => {}
                    After::Stop => break,
                    After::Perm => return Err(Fail::silent(100)),
                    After::Temp => return Err(Fail::silent(111)),
                    After::Crashed => return Err(die(111, "Aack, child crashed. (#4.3.0)")),
                }
            }
            Instr::Maildir(dir) => {
                files += 1;
                let head = [d.rpline(), d.dtline()].concat();
                maildir::deliver(Path::new(OsStr::from_bytes(dir)), &head, &mut msg)
                    .map_err(|e| die(111, e.report(dir)))?;
            }
            Instr::Mbox(file) => {
                files += 1;
                let head = [ufline.clone(), d.rpline(), d.dtline()].concat();
                let path = Path::new(OsStr::from_bytes(file));
                mbox::deliver(path, &head, &mut msg, mbox::LOCK_SECS)
                    .map_err(|e| die(111, e.report(file)))?;
            }
            Instr::Forward(a) => forwards.push(a.clone()),
        }
    }
    let mut qp = None;
    if !forwards.is_empty() {
        rewind(&mut msg)?;
        qp = Some(forward(&d, &newsender, &forwards, &mut msg)?);
    }
    out.extend_from_slice(format!("did {files}+{}+{programs}\n", forwards.len()).as_bytes());
    if let Some(pid) = qp {
        out.extend_from_slice(format!("qp {pid}\n").as_bytes());
    }
    say(&out)
}

fn say(out: &[u8]) -> Result<u8, Fail> {
    let mut so = io::stdout().lock();
    so.write_all(out)
        .and_then(|()| so.flush())
        .map_err(|e| temp_err("Unable to write output", &e, "4.3.0"))?;
    Ok(0)
}

fn rewind(m: &mut File) -> Result<(), Fail> {
    m.seek(SeekFrom::Start(0))
        .map(drop)
        .map_err(|e| temp_err("Unable to rewind message", &e, "4.3.0"))
}

/// Runs `|command` with the message on stdin and the report pipe (fd 1) as stdout/stderr.
fn program(c: &[u8], msg: &File, env: &[(&str, Option<Vec<u8>>)]) -> Result<After, Fail> {
    let fork = |e: io::Error| temp_err("Unable to fork", &e, "4.3.0");
    let out = io::stdout().as_fd().try_clone_to_owned().map_err(fork)?;
    let mut cmd = Command::new("/bin/sh");
    cmd.arg("-c")
        .arg(OsStr::from_bytes(c))
        .stdin(Stdio::from(msg.try_clone().map_err(fork)?))
        .stdout(Stdio::from(out.try_clone().map_err(fork)?))
        .stderr(Stdio::from(out));
    for (k, v) in env {
        match v {
            Some(v) => cmd.env(k, OsStr::from_bytes(v)),
            None => cmd.env_remove(k),
        };
    }
    let w =
        crate::child::run(&mut cmd).map_err(|e| temp_err("Unable to run /bin/sh", &e, "4.3.0"))?;
    Ok(dotqmail::after(w))
}

/// Sends one message to all forward recipients: Delivered-To on top, NEWSENDER as sender.
fn forward(d: &Delivery, sender: &[u8], to: &[Vec<u8>], msg: &mut File) -> Result<u32, Fail> {
    let mut qq = qmail::Queue::open().map_err(|e| {
        temp_err(
            "Unable to forward message: unable to run qmail-queue",
            &e,
            "4.3.0",
        )
    })?;
    let pid = qq.pid();
    qq.put(&d.dtline());
    // On a read error qq is dropped unfinished: qmail-queue sees no envelope, queues nothing.
    qq.copy_from(msg)
        .map_err(|e| temp_err("Unable to read message", &e, "4.3.0"))?;
    qq.from(sender);
    for t in to {
        qq.to(t);
    }
    match qq.close() {
        Ok(()) => Ok(pid),
        Err(r) => Err(die(
            if r.perm { 100 } else { 111 },
            format!("Unable to forward message: {}", r.text),
        )),
    }
}
