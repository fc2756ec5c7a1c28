//! qmail-popup: transcripts over pipes byte for byte (greeting, every command before the
//! login, hostile lines), what the checkpassword program gets on fd 3 and fd 0/1/2, the
//! verdicts and their delay; and through our tcpserver with Python's poplib and raw
//! sockets: CAPA, USER/PASS and APOP into qmail-pop3d, a wrong password, a stalled client.
//! [`Chain`] is the tcpserver + qmail-popup + test checkpassword + qmail-pop3d set-up that
//! t/qmail-pop3d.rs uses too. Every test holds `home_lock()`: the programs read
//! control/timeoutpop3 from the one compiled-in home, which some tests change.
//! Not tested here: running as root with the real checkpassword changing uid (needs root;
//! t/checkpassword.rs); a failing pipe or fork (cannot be provoked unprivileged); the write
//! timeout (a client that never reads).

use crate::common::{bin, home, home_lock, path_env, printed_port, run, Out, TmpDir};
use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

/// The test checkpassword, run as `python3 cp.py qmail-pop3d Maildir` (through the
/// interpreter: a script just written cannot be executed safely while other tests fork).
/// joe's password is `secret`; `crash` kills it; fd 3 is saved in `$CP_DIR/fd3`.
const CHECKPASSWORD: &str = r#"
import hashlib, os, sys
data = b''
while True:
    b = os.read(3, 512)
    if not b:
        break
    data += b
with open(os.path.join(os.environ['CP_DIR'], 'fd3'), 'wb') as f:
    f.write(data)
sys.stderr.write('cp: on fd 2\n')
user, pw, ts = data.split(b'\0')[:3]
if pw == b'crash':
    os.kill(os.getpid(), 9)
apop = hashlib.md5(ts + b'secret').hexdigest().encode()
if user != b'joe' or pw not in (b'secret', apop):
    sys.exit(1)
os.chdir(os.environ['CP_HOME'])
os.environ['HOME'] = os.environ['CP_HOME']
os.execvp(sys.argv[1], sys.argv[1:])
"#;

/// The poplib client: argv port, directory, code; `p` is the connection, `show` prints a
/// repr, `save` writes a RETR/TOP result's lines joined by LF to a file and prints its name.
const CLIENT: &str = r#"
import os, poplib, sys
port, d = int(sys.argv[1]), sys.argv[2]
p = poplib.POP3('127.0.0.1', port, timeout=20)
def show(x):
    print(repr(x), flush=True)
def save(name, r):
    with open(os.path.join(d, name), 'wb') as f:
        f.write(b'\n'.join(r[1]))
    show((name, r[0]))
exec(sys.argv[3])
"#;

/// tcpserver on a free port of 127.0.0.1 running `qmail-popup pop.test python3 cp.py
/// qmail-pop3d Maildir` for joe, whose home (with a Maildir) is `home`. Killed on drop.
pub struct Chain {
    /// the test's directory: cp.py, fd3, tcpserver's stderr (`log`), saved messages
    pub t: TmpDir,
    /// joe's home
    pub home: PathBuf,
    /// the listening port
    pub port: u16,
    child: Child,
}

impl Chain {
    /// A fresh home with an empty Maildir, and the server.
    pub fn start(tag: &str) -> Chain {
        let t = TmpDir::new(tag);
        let home = t.join("joe");
        std::fs::create_dir(&home).unwrap();
        run("maildirmake")
            .arg(home.join("Maildir"))
            .go()
            .expect(0, "", "");
        t.write("cp.py", CHECKPASSWORD.as_bytes());
        let log = std::fs::File::create(t.join("log")).unwrap();
        let mut child = Command::new(bin("tcpserver"))
            .env_clear()
            .env("PATH", path_env())
            .env("CP_DIR", &t.0)
            .env("CP_HOME", &home)
            .args(["-1", "-v", "-R", "-H", "-l", "pop.test", "127.0.0.1", "0"])
            .arg(bin("qmail-popup"))
            .args(["pop.test", "/usr/bin/python3"])
            .arg(t.join("cp.py"))
            .args(["qmail-pop3d", "Maildir"])
            .stdout(Stdio::piped())
            .stderr(log)
            .spawn()
            .unwrap();
        let port = printed_port(&mut child);
        Chain {
            t,
            home,
            port,
            child,
        }
    }

    /// Delivers `msg` to joe's Maildir with qmail-local, its mtime `age` seconds ago;
    /// returns the file.
    pub fn deliver(&self, msg: &[u8], age: u64) -> PathBuf {
        let m = self.t.write("message", msg);
        let mut c = run("qmail-local")
            .args(["--", "joe"])
            .arg(&self.home)
            .args(["joe", "", "", "test.example", "sender@x.test", "./Maildir/"]);
        c.raw().stdin(std::fs::File::open(&m).unwrap());
        c.go().expect(0, "did 1+0+0\n", "");
        let new = self.home.join("Maildir/new");
        let f = std::fs::read_dir(&new)
            .unwrap()
            .map(|e| e.unwrap().path())
            .find(|p| std::fs::read(p).unwrap().ends_with(msg))
            .expect("delivered");
        let when = SystemTime::now() - Duration::from_secs(age);
        let times = std::fs::FileTimes::new().set_modified(when);
        std::fs::File::open(&f).unwrap().set_times(times).unwrap();
        f
    }

    /// Runs `code` in the poplib client (see CLIENT); its stdout.
    pub fn poplib(&self, code: &str) -> String {
        let o = run("/usr/bin/python3")
            .args(["-c", CLIENT, &self.port.to_string()])
            .arg(&self.t.0)
            .arg(code)
            .go();
        assert_eq!(o.code, 0, "{}{}", o.stdout(), o.stderr());
        o.stdout()
    }

    /// How many connections tcpserver has seen end (its `end` log lines).
    pub fn ended(&self) -> usize {
        let log = std::fs::read_to_string(self.t.join("log")).unwrap_or_default();
        log.lines()
            .filter(|l| l.starts_with("tcpserver: end "))
            .count()
    }

    /// A raw connection.
    pub fn connect(&self) -> Conn {
        let s = TcpStream::connect(("127.0.0.1", self.port)).unwrap();
        s.set_read_timeout(Some(Duration::from_secs(20))).unwrap();
        Conn { s, got: Vec::new() }
    }
}

impl Drop for Chain {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A client socket and what it has read so far.
pub struct Conn {
    /// the socket
    pub s: TcpStream,
    got: Vec<u8>,
}

impl Conn {
    /// Writes `b`.
    pub fn send(&mut self, b: &[u8]) {
        self.s.write_all(b).unwrap();
    }
    /// Reads until the output ends with `tail` (or the end); all of it so far.
    pub fn until(&mut self, tail: &str) -> String {
        let mut buf = [0u8; 65536];
        while !self.got.ends_with(tail.as_bytes()) {
            match self.s.read(&mut buf) {
                Ok(0) | Err(_) => break,
                Ok(n) => self.got.extend_from_slice(&buf[..n]),
            }
        }
        String::from_utf8_lossy(&self.got).into_owned()
    }
    /// Everything until the server closes the connection (a read timeout fails the test).
    pub fn end(&mut self) -> String {
        if let Err(e) = self.s.read_to_end(&mut self.got) {
            panic!("the server did not close the connection: {e}");
        }
        String::from_utf8_lossy(&self.got).into_owned()
    }
}

/// Writes control/timeoutpop3 (or removes it). Hold `home_lock()`.
pub fn timeout_control(secs: Option<&str>) {
    let c = home().join("control");
    std::fs::create_dir_all(&c).unwrap();
    match secs {
        Some(s) => std::fs::write(c.join("timeoutpop3"), s).unwrap(),
        None => {
            let _ = std::fs::remove_file(c.join("timeoutpop3"));
        }
    }
}

/// The greeting's `<pid.time@pop.test>`, checked for its shape.
pub fn stamp(greeting: &str) -> String {
    let s = greeting
        .strip_prefix("+OK ")
        .and_then(|s| s.split("\r\n").next())
        .unwrap_or_else(|| panic!("greeting {greeting:?}"));
    let inner = s
        .strip_prefix('<')
        .and_then(|s| s.strip_suffix("@pop.test>"));
    let (pid, time) = inner.and_then(|i| i.split_once('.')).expect("pid.time");
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs();
    assert!(pid.parse::<u32>().is_ok(), "{s}");
    assert!(now - time.parse::<u64>().unwrap() < 30, "{s}");
    s.to_string()
}

/// qmail-popup pop.test `prog…` with `input` on stdin.
fn popup(prog: &[&str], input: &[u8]) -> Out {
    run("qmail-popup")
        .arg("pop.test")
        .args(prog)
        .stdin(input)
        .go()
}

/// The output after the greeting, and the greeting's stamp.
fn after_greeting(o: &Out) -> (String, String) {
    let text = o.stdout();
    let (g, rest) = text.split_once("\r\n").expect("greeting");
    (rest.to_string(), stamp(&format!("{g}\r\n")))
}

const CAPA: &str =
    "+OK capability list follows\r\nTOP\r\nUIDL\r\nUSER\r\nIMPLEMENTATION rqmail\r\n.\r\n";

#[test]
fn usage_errors() {
    let _l = home_lock();
    for args in [&[][..], &["pop.test"]] {
        let o = run("qmail-popup").args(args).stdin("QUIT\r\n").go();
        o.expect(1, "-ERR usage: popup hostname subprogram\r\n", "");
    }
}

#[test]
fn every_command_before_the_login() {
    let _l = home_lock();
    let o = popup(
        &["/bin/false"],
        b"NOOP\r\nnoop\nUSER\r\nPASS x\r\nSTAT\r\nRETR 1\r\nAPOP joe\r\nCAPA\r\nUSER joe\r\n\
          PASS\r\nQUIT\r\nNOOP\r\n",
    );
    assert_eq!(o.code, 1);
    let (rest, _) = after_greeting(&o);
    assert_eq!(
        rest,
        format!(
            "+OK \r\n+OK \r\n-ERR syntax error\r\n-ERR USER first\r\n\
             -ERR authorization first\r\n-ERR authorization first\r\n-ERR syntax error\r\n\
             {CAPA}+OK \r\n-ERR syntax error\r\n+OK \r\n"
        )
    );
    // the end of input, in the middle of a line or not: exit 1, nothing more
    let o = popup(&["/bin/false"], b"NOOP\r\nNOO");
    assert_eq!((o.code, after_greeting(&o).0.as_str()), (1, "+OK \r\n"));
}

#[test]
fn hostile_lines_before_the_login() {
    let _l = home_lock();
    let long = [vec![b'U'; 10240], b"\r\n".to_vec()].concat();
    let longest = [b"NOOP ".to_vec(), vec![b'x'; 1017], b"\r\n".to_vec()].concat();
    let input = [
        &long[..],
        &longest,
        b"USER jo\0e\r\nPASS secret\r\n\0\0\0\r\n\xff\xfe\r\nUSER joe\0\r\nQUIT\r\n",
    ]
    .concat();
    let o = popup(&["/bin/false"], &input);
    assert_eq!(o.code, 1);
    assert_eq!(
        after_greeting(&o).0,
        "-ERR line too long\r\n+OK \r\n-ERR syntax error\r\n-ERR USER first\r\n\
         -ERR syntax error\r\n-ERR authorization first\r\n-ERR syntax error\r\n+OK \r\n"
    );
    // a line without end, 20 MB: read in bounded memory, then the next command is answered
    let endless = vec![b'x'; 20 << 20];
    let o = popup(&["/bin/false"], &[&endless[..], b"\nQUIT\r\n"].concat());
    assert_eq!(after_greeting(&o).0, "-ERR line too long\r\n+OK \r\n");
}

#[test]
fn the_subprogram_gets_fd_3_the_client_and_fd_2() {
    let _l = home_lock();
    let t = TmpDir::new("popup-fd3");
    let fd3 = t.join("fd3");
    // `sh` is found in PATH, as execvp would; USER's +OK leaves before the child writes.
    // The masks are read by an exec'd grep from its own status: it has sh's as qmail-popup
    // gave them (/proc/$$ could catch sh blocking every signal around a fork of its own).
    let script = format!(
        "cat <&3 > {}; echo \"+OK child on fd 1\"; echo child on fd 2 >&2; \
         exec grep -E '^Sig(Blk|Ign)' /proc/self/status >&2",
        fd3.display()
    );
    let o = popup(
        &["sh", "-c", &script],
        b"USER joe\r\nPASS sec ret \r\nNOOP\r\n",
    );
    // SIGPIPE back at its default (bit 12 of the mask), nothing blocked. (glibc's
    // posix_spawn, which started qmail-popup, leaves its internal signals 32 and 33 ignored.)
    let err = o.stderr();
    let ign = err.split("SigIgn:\t").nth(1).expect("SigIgn").trim();
    assert_eq!(u64::from_str_radix(ign, 16).unwrap() & 0x1000, 0, "{err}");
    assert!(
        err.starts_with("child on fd 2\nSigBlk:\t0000000000000000\n"),
        "{err}"
    );
    assert_eq!(o.code, 1);
    let (rest, stamp) = after_greeting(&o);
    assert_eq!(rest, "+OK \r\n+OK child on fd 1\n");
    let want = format!("joe\0sec ret \0{stamp}\0");
    assert_eq!(std::fs::read(&fd3).unwrap(), want.as_bytes());
    // APOP: name and digest split at the first space
    let o = popup(&["sh", "-c", &script], b"APOP joe 0123 abc\r\n");
    let (rest, stamp) = after_greeting(&o);
    assert_eq!(rest, "+OK child on fd 1\n");
    let want = format!("joe\x000123 abc\0{stamp}\0");
    assert_eq!(std::fs::read(&fd3).unwrap(), want.as_bytes());
}

#[test]
fn failures_are_told_after_a_delay() {
    let _l = home_lock();
    let cases: [(&[&str], &str, &str); 4] = [
        (&["sh", "-c", "exit 1"], "-ERR authorization failed\r\n", ""),
        (
            &["sh", "-c", "exit 111"],
            "-ERR authorization failed\r\n",
            "",
        ),
        (
            &["sh", "-c", "kill -9 $$"],
            "-ERR aack, child crashed\r\n",
            "",
        ),
        (
            &["/nonexistent/checkpassword", "qmail-pop3d"],
            "-ERR authorization failed\r\n",
            "qmail-popup: warning: unable to run /nonexistent/checkpassword: file does not exist\n",
        ),
    ];
    let threads: Vec<_> = cases
        .iter()
        .map(|&(prog, reply, err)| {
            let prog: Vec<String> = prog.iter().map(|s| s.to_string()).collect();
            std::thread::spawn(move || {
                let start = Instant::now();
                let p: Vec<&str> = prog.iter().map(String::as_str).collect();
                let o = popup(&p, b"USER joe\r\nPASS wrong\r\n");
                let took = start.elapsed();
                assert!(took >= Duration::from_secs(2), "{prog:?}: {took:?}");
                assert_eq!((o.code, o.stderr().as_str()), (1, err));
                assert_eq!(after_greeting(&o).0, format!("+OK \r\n{reply}"));
            })
        })
        .collect();
    for t in threads {
        t.join().unwrap();
    }
}

#[test]
fn poplib_capa_login_and_apop_through_tcpserver() {
    let _l = home_lock();
    timeout_control(None);
    let c = Chain::start("popup-poplib");
    c.deliver(b"Subject: hi\n\nhello\n", 10);
    let out = c.poplib(
        "show(p.getwelcome()); show(p.capa()); show(p.user('joe')); show(p.pass_('secret'));\
         show(p.stat()); show(p.capa()); show(p.quit())",
    );
    let lines: Vec<&str> = out.lines().collect();
    let welcome = lines[0]
        .strip_prefix("b'")
        .unwrap()
        .strip_suffix('\'')
        .unwrap();
    let stamp = stamp(&format!("{welcome}\r\n"));
    let size = std::fs::read_dir(c.home.join("Maildir/cur"))
        .unwrap()
        .map(|e| e.unwrap().metadata().unwrap().len())
        .sum::<u64>();
    assert_eq!(
        lines[1..],
        [
            "{'TOP': [], 'UIDL': [], 'USER': [], 'IMPLEMENTATION': ['rqmail']}",
            "b'+OK '",
            "b'+OK '",
            &format!("(1, {size})"),
            "{'TOP': [], 'UIDL': [], 'USER': [], 'PIPELINING': [], 'IMPLEMENTATION': ['rqmail']}",
            "b'+OK '",
        ]
    );
    assert_eq!(
        std::fs::read(c.t.join("fd3")).unwrap(),
        format!("joe\0secret\0{stamp}\0").as_bytes()
    );
    // the checkpassword program's fd 2 is tcpserver's, not the client
    let log = std::fs::read_to_string(c.t.join("log")).unwrap();
    assert!(log.contains("cp: on fd 2\n"), "{log:?}");
    // APOP: the digest of the greeting's stamp and the secret
    let out = c.poplib("show(p.apop('joe', 'secret')); show(p.stat()); show(p.quit())");
    assert_eq!(out, format!("b'+OK '\n(1, {size})\nb'+OK '\n"));
}

#[test]
fn a_wrong_password_is_refused_after_a_delay() {
    let _l = home_lock();
    timeout_control(None);
    let c = Chain::start("popup-wrong");
    let start = Instant::now();
    let out = c.poplib(
        "p.user('joe')\ntry:\n    p.pass_('guess')\nexcept poplib.error_proto as e:\n    show(e.args[0])\n\
         show(p.sock.recv(100))",
    );
    assert!(start.elapsed() >= Duration::from_secs(2));
    assert_eq!(out, "b'-ERR authorization failed'\nb''\n");
    let out = c.poplib(
        "p.user('nobody')\ntry:\n    p.pass_('secret')\nexcept poplib.error_proto as e:\n    show(e.args[0])",
    );
    assert_eq!(out, "b'-ERR authorization failed'\n");
}

#[test]
fn a_stalled_client_is_dropped() {
    let _l = home_lock();
    timeout_control(Some("1\n"));
    let c = Chain::start("popup-stall");
    let start = Instant::now();
    let mut s = c.connect();
    let greeting = s.end();
    stamp(&greeting);
    let took = start.elapsed();
    assert!(took >= Duration::from_secs(1), "{took:?}");
    // in the middle of a line
    let mut s = c.connect();
    s.send(b"USER joe\r\nPASS sec");
    let out = s.end();
    assert!(out.ends_with("\r\n+OK \r\n"), "{out:?}");
    timeout_control(None);
}

#[test]
fn unreadable_controls_refuse_the_session() {
    let _l = home_lock();
    timeout_control(None);
    std::fs::create_dir(home().join("control/timeoutpop3")).unwrap();
    let refuse = "-ERR unable to read controls\r\n";
    popup(&["/bin/true"], b"QUIT\r\n").expect(1, refuse, "");
    let t = TmpDir::new("popup-controls");
    run("maildirmake")
        .arg(t.join("Maildir"))
        .go()
        .expect(0, "", "");
    let o = run("qmail-pop3d")
        .arg("Maildir")
        .cwd(&t.0)
        .stdin("QUIT\r\n")
        .go();
    std::fs::remove_dir(home().join("control/timeoutpop3")).unwrap();
    o.expect(0, refuse, "");
}
