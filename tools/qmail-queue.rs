//! qmail-queue — put one message into the queue.
//!
//! Usage:    qmail-queue        (arguments are ignored)
//! Input:    fd 0: the message. fd 1: the envelope, `F<sender>\0` then `T<recipient>\0`
//!           records, then one more `\0`.
//! Exit:     0 queued; 11 address longer than 1002 bytes; 52 timeout (24 h); 53 write error or
//!           disk full; 54 cannot read message or envelope, or envelope ended early; 61 trouble
//!           in the home directory; 62 trouble in queue/; 63 pid/; 64 mess/; 65 intd/; 66 todo/;
//!           67 a qmail account is missing; 81 internal bug (crash signal); 91 envelope format.
//!           Never prints anything.
//! Runs as:  setuid qmailq (mode 4711), real uid = the caller, recorded in the envelope and the
//!           Received line.  Trusts: nothing it reads; takes no options and reads no environment.
//! Spec:     shared/spec/qmail.md §3.3–3.5; formats.md §7.
//!
//! Order of operations (each step fsynced before the next depends on it): pid/ temp file →
//! link mess/S/ID (ID = inode) → message → intd/ID → fsync both files (writeback of each
//! started when it is written) and mess/S → link
//! todo/ID → fsync todo/ (the commit point) → trigger. Beyond qmail, the directory fsyncs make
//! the links durable on filesystems without synchronous metadata (Linux).

use qlib::exit::qq;
use qlib::fail::Fail;
use qlib::sys::{fd, fs, id, sig};
use qlib::{conf, copy, date, getln, prog, queue};
use std::ffi::OsString;
use std::fs::{File, OpenOptions};
use std::io::{BufReader, BufWriter, Write};
use std::os::unix::fs::{MetadataExt, OpenOptionsExt};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

/// Longest address qmail-queue accepts (the man page says 1000; the code allows 1002).
const ADDR_MAX: usize = 1002;
/// The 24-hour death timer; qmail-send's 36-hour pid/ and mess/ cleanup must stay longer.
const DEATH: u32 = 86400;

fn main() -> ExitCode {
    prog::main("qmail-queue", run)
}

fn run(_argv: Vec<OsString>) -> Result<u8, Fail> {
    let _ = sig::unblock_all();
    for s in sig::QUEUE_IGNORED {
        let _ = sig::ignore(s);
    }
    let _ = sig::exit_on(sig::SIGALRM, qq::TIMEOUT);
    for s in sig::CRASH {
        let _ = sig::exit_on(s, qq::BUG);
    }
    sig::alarm(DEATH);
    qlib::sys::fs::umask(0o033);
    std::env::set_current_dir(conf::HOME).map_err(|_| Fail::silent(qq::HOME))?;
    std::env::set_current_dir("queue").map_err(|_| Fail::silent(qq::QUEUE))?;

    let uid = id::getuid();
    let who = invoker(uid)?;
    let pid = std::process::id();
    let start = date::secs(std::time::SystemTime::now());

    let mut q = Queued {
        mess: None,
        intd: None,
    };
    let r = enqueue(&mut q, uid, pid, start, &who);
    if r.is_err() {
        q.abandon();
    }
    r.map(|()| 0)
}

/// How the Received line names the caller: by the name of the account with its uid, one
/// lookup (qmail looked up the uids of alias, qmaild and qmails, three lookups).
fn invoker(uid: u32) -> Result<String, Fail> {
    let pw = id::getpwuid(uid).map_err(|_| Fail::silent(qq::UIDS))?;
    let name = pw.map(|p| p.name).unwrap_or_default();
    let is = |u| name == conf::user_name(u).as_bytes();
    Ok(if is(conf::User::Alias) {
        "by alias".into()
    } else if is(conf::User::Qmaild) {
        "from network".into()
    } else if is(conf::User::Qmails) {
        "for bounce".into()
    } else {
        format!("by uid {uid}")
    })
}

/// Files made so far, removed again if the message is not queued.
struct Queued {
    mess: Option<PathBuf>,
    intd: Option<PathBuf>,
}

impl Queued {
    fn abandon(&self) {
        for p in [&self.intd, &self.mess].into_iter().flatten() {
            if let Ok(f) = OpenOptions::new().write(true).open(p) {
                let _ = f.set_len(0);
            }
            let _ = std::fs::remove_file(p);
        }
    }
}

fn code(c: u8) -> impl Fn(std::io::Error) -> Fail {
    move |_| Fail::silent(c)
}

fn create(path: &Path) -> std::io::Result<File> {
    OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o644)
        .open(path)
}

fn enqueue(q: &mut Queued, uid: u32, pid: u32, start: i64, who: &str) -> Result<(), Fail> {
    // 1. A temporary name in pid/, whose inode number becomes the message id.
    let (pidfile, mess) = (1..=9)
        .find_map(|seq| {
            let p = PathBuf::from(format!("pid/{pid}.{start}.{seq}"));
            create(&p).ok().map(|f| (p, f))
        })
        .ok_or(Fail::silent(qq::PID))?;
    let ino = mess.metadata().map_err(code(qq::PID))?.ino();
    let messpath = queue::path("mess", ino);
    std::fs::hard_link(&pidfile, &messpath).map_err(code(qq::MESS))?;
    q.mess = Some(messpath.clone());
    std::fs::remove_file(&pidfile).map_err(code(qq::PID))?;

    // 2. The message: our trace line, then fd 0 verbatim.
    let mut mess = mess;
    let received = format!(
        "Received: (qmail {pid} invoked {who}); {}\n",
        date::rfc822(start)
    );
    let mut input = fd::inherited(0)
        .map(File::from)
        .ok_or(Fail::silent(qq::READ))?;
    copy::with_head(received.as_bytes(), &mut input, &mut mess).map_err(|e| match e {
        copy::Failed::Read(_) => Fail::silent(qq::READ),
        copy::Failed::Write(_) => Fail::silent(qq::WRITE),
    })?;
    fs::start_writeback(&mess);

    // 3. The envelope, into intd/ID.
    let intdpath = queue::path("intd", ino);
    let intd = create(&intdpath).map_err(code(qq::INTD))?;
    q.intd = Some(intdpath.clone());
    let mut out = BufWriter::new(intd);
    let envfd = fd::inherited(1)
        .map(File::from)
        .ok_or(Fail::silent(qq::READ))?;
    let mut env = BufReader::with_capacity(16384, envfd);
    write!(out, "u{uid}\0p{pid}\0").map_err(code(qq::WRITE))?;
    let mut rec = Vec::new();
    let mut first = true;
    loop {
        match getln::getln(&mut env, 0, ADDR_MAX + 1, &mut rec) {
            Ok(getln::Got::Record) => {}
            Ok(getln::Got::TooLong) => return Err(Fail::silent(qq::ADDR_TOO_LONG)),
            Ok(_) | Err(_) => return Err(Fail::silent(qq::READ)),
        }
        match (first, rec.first()) {
            (true, Some(b'F')) | (false, Some(b'T')) => {}
            (false, None) => break,
            _ => return Err(Fail::silent(qq::FORMAT)),
        }
        first = false;
        out.write_all(&rec).map_err(code(qq::WRITE))?;
        out.write_all(b"\0").map_err(code(qq::WRITE))?;
    }
    let intd = out.into_inner().map_err(|_| Fail::silent(qq::WRITE))?;
    // Both files are written, and their writeback started, before either is synced, so
    // that one journal commit carries both and mess/S/ID's link (the second fsync and the
    // directory's find theirs done) instead of three commits one after the other; todo/ID
    // still comes only after all of it.
    fs::start_writeback(&intd);
    intd.sync_all().map_err(code(qq::WRITE))?;
    mess.sync_all().map_err(code(qq::WRITE))?;
    qlib::fsync_dir_of(&messpath).map_err(code(qq::WRITE))?;

    // 4. The commit point: todo/ID, made durable.
    let todopath = queue::path("todo", ino);
    std::fs::hard_link(&intdpath, &todopath).map_err(code(qq::TODO))?;
    qlib::fsync_dir_of(&todopath).map_err(code(qq::TODO))?;
    trigger();
    Ok(())
}

/// Wakes qmail-send: one byte into lock/trigger if somebody is reading it.
fn trigger() {
    let fifo = OpenOptions::new()
        .write(true)
        .custom_flags(qlib::sys::fs::O_NONBLOCK)
        .open("lock/trigger");
    if let Ok(mut f) = fifo {
        let _ = f.write(&[0]);
    }
}
