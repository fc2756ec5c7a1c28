//! qmail-local — deliver one message to one local recipient, as the recipient's `.qmail`
//! files say.
//!
//! Usage:    qmail-local [ -nN ] user homedir local dash ext domain sender defaultdelivery
//! Options:  -n  print the plan (`program …`, `maildir …`, `mbox …`, `forward …` lines, then
//!               the `did` line) instead of delivering; no loop check, stdin is not read.
//!           -N  deliver (the default). The last of -n/-N wins.
//! Environment: reads `QMAILQUEUE` (the queue program for forwards). Each `|program` gets
//!           USER HOME LOCAL HOST RECIPIENT SENDER NEWSENDER DTLINE RPLINE UFLINE EXT EXT2
//!           EXT3 EXT4 HOST2 HOST3 HOST4 and, for a `-default` file, DEFAULT (else unset),
//!           on top of what qmail-local inherited.
//! Exit:     0 delivered: stdout `did <files>+<forwards>+<programs>` and, if something was
//!           forwarded, `qp <pid of qmail-queue>`; 100 permanent failure (usage, relative
//!           homedir, no such `.qmail-ext`, looping message, a program's hard exit code,
//!           queue refusal); 111 temporary. qmail-local's own texts go to stderr and end in
//!           `(#x.y.z)`; programs write to fd 1.
//! Runs as:  the recipient (qmail-lspawn sets uid and gid). fd 0 is the message and must be
//!           seekable; fd 1 and fd 2 are the report pipe. umask 077, SIGPIPE ignored.
//! Trusts:   the user's `.qmail` files and home directory, and only if they are not
//!           writable by others (conf/patrn) — a sticky home means "being edited": defer.
//!           The message, the sender and the address are hostile: they reach programs only
//!           as stdin and environment values, never as shell text.
//! Spec:     shared/spec/qmail.md §4.6–4.15, §8.7, §12; formats.md §5, §6.3–6.4, §10.3.
//!           Maildir names and durability: see qlib::maildir. Beyond qmail: see
//!           qlib::dotqmail (CR at line end, NUL bytes); no 24 h alarm on maildir writes.

use qlib::dotqmail::{self, After, Delivery, Instr, Problem};
use qlib::fail::Fail;
use qlib::{args, conf, errtext, maildir, mbox, prog, qmail, sys};
use std::ffi::{OsStr, OsString};
use std::fs::File;
use std::io::{self, BufReader, Read, Seek, SeekFrom, Write};
use std::os::fd::AsFd;
use std::os::unix::ffi::{OsStrExt, OsStringExt};
use std::os::unix::fs::MetadataExt;
use std::path::Path;
use std::process::{Command, ExitCode, Stdio};

const USAGE: &str = "qmail-local [ -nN ] user homedir local dash ext domain sender defaultdelivery";

fn main() -> ExitCode {
    prog::main("qmail-local", run)
}

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

fn run(argv: Vec<OsString>) -> Result<u8, Fail> {
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
    let ufline = mbox::from_line(&d.sender, qlib::date::secs(std::time::SystemTime::now()));
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
        qlib::child::run(&mut cmd).map_err(|e| temp_err("Unable to run /bin/sh", &e, "4.3.0"))?;
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
    let mut buf = vec![0u8; 65536];
    loop {
        match msg.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => qq.put(&buf[..n]),
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            // Dropping qq unfinished: qmail-queue sees no envelope and queues nothing.
            Err(e) => return Err(temp_err("Unable to read message", &e, "4.3.0")),
        }
    }
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
