//! maildirserial — hand the messages of a Maildir to a client program, and act on its results.
//!
//! Usage:    maildirserial [ -b ] [ -t lifetime ] dir prefix client [ arg ... ]
//! Options:  -b  bounce each message the client refused for good back to its envelope
//!               sender (QSBMF, "the maildirbounce program"; a double bounce to
//!               doublebounceto if the sender is empty; dropped if it is `#@[]`) through
//!               qmail-queue, then remove it.
//!           -t lifetime  a message the client refused for now that is more than lifetime
//!               seconds old (by its mtime) counts as refused for good (a number below
//!               2^32; anything else is a usage error).
//! Behaviour: in dir, removes tmp/ files not accessed for 36 hours, picks the files in new/
//!           and cur/ (oldest first) whose second line is `Delivered-To: ` followed by
//!           prefix, starts client (looked up in $PATH) in dir and writes their names
//!           (`new/NAME\0` …) on its stdin. The client prints per file `name\0`, K, Z or D, a
//!           text, `\n`. K: the file is removed. Z: it stays. D: it stays, or with -b is
//!           bounced and removed. A client that ends without reporting every file (it could
//!           not connect, or the connection died) is run again for the files left, for as
//!           long as each run reports something; three runs in a row without a report end
//!           it. Files already reported Z or D are not offered again in this invocation.
//! Output:   on stderr, per result, `maildirserial: info: NAME succeeded: TEXT` (or `failed:`,
//!           `failed temporarily:`, `bounced:` then `returned NAME: qp PID`, `discarding
//!           NAME: triple bounce`), and warnings for files it could not remove or bounce.
//! Environment: QMAILQUEUE (for -b). Controls: me, bouncefrom, bouncehost,
//!           doublebouncehost, doublebounceto under the qmail home.
//! Exit:     0 every file offered was accepted (or there was none); 100 usage, or the client
//!           exited 100; 111 some files remain (refused or not accepted), the client crashed or
//!           could not be run, no progress (`making no progress, giving up`), or dir cannot be
//!           used.
//! Runs as:  the Maildir's owner (from cron, or after qmail-smtpd for AutoTURN). Trusts: the
//!           client (only names it was given are acted on).
//! Spec:     shared/spec/addons.md §4 (serialmail 0.75 maildirserial); formats.md §5, §8.

use qlib::fail::{Fail, OrFail as _};
use qlib::qmail::Queue;
use qlib::serial::bounce::{self, Bounce, Controls};
use qlib::serial::{self, Outcome};
use qlib::sys::sig;
use qlib::{args, child::Wait, conf, date, errtext, prog};
use std::collections::HashSet;
use std::ffi::{OsStr, OsString};
use std::fs::{self, File};
use std::io::{self, BufReader, BufWriter, Write};
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::MetadataExt;
use std::path::Path;
use std::process::{Command, ExitCode, Stdio};

const USAGE: &str = "maildirserial [ -b ] [ -t lifetime ] dir prefix client [ arg ... ]";

fn main() -> ExitCode {
    prog::main("maildirserial", run)
}

struct Job {
    prefix: Vec<u8>,
    client: Vec<OsString>,
    bounce: bool,
    lifetime: Option<i64>,
    controls: Controls,
    /// files reported Z or D (or that could not be removed): not offered again
    dead: HashSet<Vec<u8>>,
}

fn run(argv: Vec<OsString>) -> Result<u8, Fail> {
    let mut o = getopts::Options::new();
    o.optflagmulti("b", "", "bounce")
        .optmulti("t", "", "lifetime", "n");
    o.parsing_style(getopts::ParsingStyle::StopAtFirstFree);
    let p = args::parse(&o, argv, USAGE)?;
    let lifetime = match p.opts.opt_strs("t").last() {
        Some(t) => Some(t.parse::<u32>().map_err(|_| Fail::usage(USAGE))?.into()),
        None => None,
    };
    let rest = args::at_least(p.rest, 3, USAGE)?;
    let _ = sig::ignore(sig::SIGPIPE);
    std::env::set_current_dir(&rest[0])
        .or_temp(&format!("unable to chdir to {}", rest[0].to_string_lossy()))?;
    let controls = Controls::read(Path::new(conf::HOME))
        .or_temp(&format!("unable to read {}/control", conf::HOME))?;
    let mut job = Job {
        prefix: rest[1].as_bytes().to_vec(),
        client: rest[2..].to_vec(),
        bounce: p.opts.opt_present("b"),
        lifetime,
        controls,
        dead: HashSet::new(),
    };
    let mut idle = 0;
    loop {
        serial::clean_tmp(now());
        let files = job.usable()?;
        if files.is_empty() {
            return Ok(if job.dead.is_empty() { 0 } else { 111 });
        }
        if job.round(&files)? {
            idle = 0;
        } else {
            idle += 1;
            if idle == 3 {
                return Err(Fail::temp("making no progress, giving up"));
            }
        }
    }
}

fn now() -> i64 {
    date::secs(std::time::SystemTime::now())
}

fn show(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

/// `maildirserial: info: <text>` on stderr, as one write.
fn info(text: &[u8]) {
    let line = [b"maildirserial: info: ", text, b"\n"].concat();
    let _ = io::stderr().write_all(&line);
}

impl Job {
    /// The files to offer, oldest first.
    fn usable(&self) -> Result<Vec<Vec<u8>>, Fail> {
        let all = serial::scan().or_temp("unable to scan the maildir")?;
        let mut v = Vec::new();
        for f in all.into_iter().filter(|f| !self.dead.contains(f)) {
            match File::open(OsStr::from_bytes(&f))
                .and_then(|h| serial::has_prefix(&mut BufReader::new(h), &self.prefix))
            {
                Ok(true) => v.push(f),
                Ok(false) => {}
                Err(e) if e.kind() == io::ErrorKind::NotFound => {}
                Err(e) => prog::warn(&format!(
                    "unable to read {}: {}",
                    show(&f),
                    errtext::text(&e)
                )),
            }
        }
        Ok(v)
    }

    /// Runs the client once on `files`; whether it reported anything.
    fn round(&mut self, files: &[Vec<u8>]) -> Result<bool, Fail> {
        let mut child = Command::new(&self.client[0])
            .args(&self.client[1..])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .spawn()
            .or_temp(&format!(
                "unable to run {}",
                self.client[0].to_string_lossy()
            ))?;
        let (stdin, stdout) = (child.stdin.take(), child.stdout.take());
        let names: Vec<u8> = files
            .iter()
            .flat_map(|f| [&f[..], b"\0"].concat())
            .collect();
        // A client that stops reading only ends the feeding: its results still count.
        let feeder = std::thread::spawn(move || {
            if let Some(w) = stdin {
                let _ = BufWriter::new(w).write_all(&names);
            }
        });
        let offered: HashSet<&[u8]> = files.iter().map(Vec::as_slice).collect();
        let mut progress = false;
        if let Some(out) = stdout {
            let mut r = BufReader::new(out);
            while let Some(o) =
                serial::read_outcome(&mut r).or_temp("unable to read from client")?
            {
                if offered.contains(&o.name[..]) {
                    progress = true;
                    self.outcome(o);
                }
            }
        }
        let _ = feeder.join();
        let status = child.wait().or_temp("unable to get client status")?;
        match Wait::from(status) {
            Wait::Crashed(_) => Err(Fail::temp("client crashed")),
            Wait::Exited(100) => Err(Fail::silent(100)),
            Wait::Exited(_) => Ok(progress),
        }
    }

    fn outcome(&mut self, o: Outcome) {
        let (name, text) = (&o.name[..], &o.text[..]);
        let path = Path::new(OsStr::from_bytes(name));
        if o.status == b'K' {
            info(&[name, b" succeeded: ", text].concat());
            if let Err(e) = fs::remove_file(path) {
                let e = errtext::text(&e);
                let n = show(name);
                prog::warn(&format!(
                    "message will be delivered twice! unable to unlink {n}: {e}"
                ));
                self.dead.insert(o.name);
            }
            return;
        }
        let mut status = o.status;
        let mut too_old = false;
        if let (Some(life), true) = (self.lifetime, status != b'D') {
            match fs::metadata(path) {
                Ok(md) if now() > md.mtime() + life => (status, too_old) = (b'D', true),
                Ok(_) => {}
                Err(e) => prog::warn(&format!(
                    "assuming message is still alive; unable to stat {}: {}",
                    show(name),
                    errtext::text(&e)
                )),
            }
        }
        if self.bounce && status == b'D' {
            info(&[name, b" bounced: ", text].concat());
            if self.bounce_one(name, text, too_old) {
                return;
            }
        } else if status == b'D' {
            info(&[name, b" failed: ", text].concat());
        } else {
            info(&[name, b" failed temporarily: ", text].concat());
        }
        self.dead.insert(o.name);
    }

    /// Bounces file `name` and removes it; whether it is gone.
    fn bounce_one(&self, name: &[u8], why: &[u8], too_old: bool) -> bool {
        let n = show(name);
        let path = Path::new(OsStr::from_bytes(name));
        match self.send_bounce(path, why, too_old) {
            Ok(None) => info(format!("discarding {n}: triple bounce").as_bytes()),
            Ok(Some(qp)) => info(format!("returned {n}: qp {qp}").as_bytes()),
            Err(e) => {
                prog::warn(&format!("unable to bounce {n}: {e}"));
                return false;
            }
        }
        match fs::remove_file(path) {
            Ok(()) => true,
            Err(e) => {
                let e = errtext::text(&e);
                prog::warn(&format!(
                    "message has been bounced but not removed! unable to unlink {n}: {e}"
                ));
                false
            }
        }
    }

    /// Queues the bounce of `path`: `Some(qp)`, or `None` for a triple bounce.
    fn send_bounce(&self, path: &Path, why: &[u8], too_old: bool) -> Result<Option<u32>, String> {
        let f = File::open(path).map_err(|e| errtext::text(&e))?;
        let mut msg = BufReader::new(f);
        let env = match serial::envelope(&mut msg) {
            Ok(Some(e)) => e,
            Ok(None) => return Err("bad file format".into()),
            Err(e) => return Err(errtext::text(&e)),
        };
        let c = &self.controls;
        let (sender, recipient, head) =
            match bounce::compose(&env, &self.prefix, why, too_old, c, now()) {
                Bounce::Triple => return Ok(None),
                Bounce::Send {
                    sender,
                    recipient,
                    head,
                } => (sender, recipient, head),
            };
        let mut qq =
            Queue::open().map_err(|e| format!("unable to run qq: {}", errtext::text(&e)))?;
        qq.put(&head);
        if let Err(e) = qq.copy_from(&mut msg) {
            qq.abort();
            let _ = qq.close();
            return Err(errtext::text(&e));
        }
        qq.from(&sender);
        qq.to(&recipient);
        let qp = qq.pid();
        qq.close()
            .map(|()| Some(qp))
            .map_err(|r| format!("qq failed: {}", r.text))
    }
}
