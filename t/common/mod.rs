//! The test harness: run a program like an operator would, with a clean environment, and
//! compare its exit code and output byte for byte. Plain functions, no macros.
#![allow(dead_code)]

use std::ffi::OsStr;
use std::io::Write;
use std::os::unix::process::ExitStatusExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Mutex, MutexGuard};
use std::time::{Duration, Instant};

mod instance;
pub use instance::{
    assign_users, install_tree, maildir_messages, spawn_report, start_spawner, Instance,
};

/// Where the programs under test are: `$T_BIN`, else the directory above this test binary.
pub fn bin_dir() -> PathBuf {
    if let Some(d) = std::env::var_os("T_BIN") {
        return PathBuf::from(d);
    }
    let exe = std::env::current_exe().expect("current_exe");
    exe.parent()
        .and_then(Path::parent)
        .expect("bin dir")
        .to_path_buf()
}

/// The full path of program `name`.
pub fn bin(name: &str) -> PathBuf {
    bin_dir().join(name)
}

/// The qmail home compiled into the programs under test (package/test sets a private one).
pub fn home() -> PathBuf {
    PathBuf::from(qlib::conf::HOME)
}

/// A fresh directory for one test, removed when dropped.
pub struct TmpDir(pub PathBuf);

impl TmpDir {
    /// A new empty directory under the test area.
    pub fn new(tag: &str) -> TmpDir {
        static N: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(0);
        let base = std::env::var_os("T_TMP")
            .map(PathBuf::from)
            .unwrap_or_else(std::env::temp_dir);
        let n = N.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        let p = base.join(format!("rqmail-t.{}.{tag}.{n}", std::process::id()));
        let _ = std::fs::remove_dir_all(&p);
        std::fs::create_dir_all(&p).expect("create tmp dir");
        TmpDir(p)
    }
    /// `dir/rel`
    pub fn join(&self, rel: &str) -> PathBuf {
        self.0.join(rel)
    }
    /// Writes `dir/rel` (parents created).
    pub fn write(&self, rel: &str, data: &[u8]) -> PathBuf {
        let p = self.join(rel);
        std::fs::create_dir_all(p.parent().expect("parent")).expect("mkdir");
        std::fs::write(&p, data).expect("write");
        p
    }
}

impl Drop for TmpDir {
    fn drop(&mut self) {
        if std::env::var_os("T_KEEP").is_none() {
            let _ = std::fs::remove_dir_all(&self.0);
        }
    }
}

/// How a run ended.
#[derive(Debug)]
pub struct Out {
    /// exit code, or 128 + signal
    pub code: i32,
    /// standard output
    pub out: Vec<u8>,
    /// standard error
    pub err: Vec<u8>,
}

impl Out {
    /// Asserts code, stdout and stderr exactly.
    pub fn expect(&self, code: i32, out: &str, err: &str) {
        assert_eq!(
            (
                self.code,
                String::from_utf8_lossy(&self.out).as_ref(),
                String::from_utf8_lossy(&self.err).as_ref()
            ),
            (code, out, err)
        );
    }
    /// stdout as text
    pub fn stdout(&self) -> String {
        String::from_utf8_lossy(&self.out).into_owned()
    }
    /// stderr as text
    pub fn stderr(&self) -> String {
        String::from_utf8_lossy(&self.err).into_owned()
    }
}

/// A command with an empty environment (plus PATH to the programs under test).
pub struct Cmd {
    cmd: Command,
    input: Vec<u8>,
    timeout: Duration,
}

/// `name` (a program under test, or an absolute path / system program) with arguments.
pub fn run(name: &str) -> Cmd {
    let prog = if name.contains('/') || !bin(name).exists() {
        PathBuf::from(name)
    } else {
        bin(name)
    };
    let mut cmd = Command::new(prog);
    cmd.env_clear().env("PATH", path_env());
    Cmd {
        cmd,
        input: Vec::new(),
        timeout: Duration::from_secs(30),
    }
}

/// A stand-in qmail-queue for `QMAILQUEUE`: it saves the message in `t/q.msg` and the
/// envelope in `t/q.env`, then exits `code`. The script itself is written once per test
/// process and each test gets a symlink to it: executing a file just written races with
/// other threads' fork+exec (ETXTBSY), making a link does not.
pub fn fake_queue(t: &TmpDir, code: u8) -> String {
    static SCRIPT: std::sync::OnceLock<PathBuf> = std::sync::OnceLock::new();
    let script = SCRIPT.get_or_init(|| {
        use std::os::unix::fs::PermissionsExt;
        let base = std::env::var_os("T_TMP")
            .map(PathBuf::from)
            .unwrap_or_else(std::env::temp_dir);
        let p = base.join(format!("fake-queue.{}", std::process::id()));
        let text = "#!/bin/sh\nd=${0%/*}\ncat > \"$d/q.msg\" && cat <&1 > \"$d/q.env\" && exit \"${0##*-}\"\nexit 54\n";
        std::fs::write(&p, text).expect("write the fake qmail-queue");
        std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o755)).expect("chmod");
        p
    });
    let link = t.join(&format!("fakeq-{code}"));
    let _ = std::fs::remove_file(&link);
    std::os::unix::fs::symlink(script, &link).expect("symlink the fake qmail-queue");
    link.display().to_string()
}

/// A stand-in qmail-queue for tests that set its place by environment: message →
/// `$Q_DIR/qmsg`, envelope → `$Q_DIR/qenv`, then exit `$Q_EXIT` (0 if unset). Written once per
/// test process (see [`fake_queue`] for why).
pub fn recorder() -> PathBuf {
    static REC: std::sync::OnceLock<PathBuf> = std::sync::OnceLock::new();
    REC.get_or_init(|| {
        use std::os::unix::fs::PermissionsExt;
        let base = std::env::var_os("T_TMP")
            .map(PathBuf::from)
            .unwrap_or_else(std::env::temp_dir);
        let p = base.join(format!("queue-recorder.{}", std::process::id()));
        let script = "#!/bin/sh\ncat > \"$Q_DIR/qmsg\" && cat <&1 > \"$Q_DIR/qenv\" \
            && exit ${Q_EXIT:-0}\nexit 54\n";
        std::fs::write(&p, script).expect("write recorder");
        std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o755)).expect("chmod");
        p
    })
    .clone()
}

/// The port a `tcpserver … 0 …` child prints on its stdout once it listens (-1 mode).
pub fn printed_port(child: &mut Child) -> u16 {
    use std::io::BufRead;
    let mut line = String::new();
    let out = child.stdout.take().expect("tcpserver's stdout");
    let _ = std::io::BufReader::new(out).read_line(&mut line);
    line.trim()
        .parse()
        .unwrap_or_else(|_| panic!("tcpserver said {line:?} for its port"))
}

/// PATH for children: the programs under test first.
pub fn path_env() -> String {
    format!(
        "{}:/usr/local/bin:/usr/bin:/bin:/usr/sbin:/sbin",
        bin_dir().display()
    )
}

impl Cmd {
    /// one argument
    pub fn arg(mut self, a: impl AsRef<OsStr>) -> Cmd {
        self.cmd.arg(a);
        self
    }
    /// several arguments
    pub fn args<I: IntoIterator<Item = S>, S: AsRef<OsStr>>(mut self, a: I) -> Cmd {
        self.cmd.args(a);
        self
    }
    /// one environment variable
    pub fn env(mut self, k: &str, v: impl AsRef<OsStr>) -> Cmd {
        self.cmd.env(k, v);
        self
    }
    /// standard input
    pub fn stdin(mut self, b: impl AsRef<[u8]>) -> Cmd {
        self.input = b.as_ref().to_vec();
        self
    }
    /// working directory
    pub fn cwd(mut self, d: impl AsRef<Path>) -> Cmd {
        self.cmd.current_dir(d);
        self
    }
    /// the underlying command, for what the builder lacks (fds, stdin from a file)
    pub fn raw(&mut self) -> &mut Command {
        &mut self.cmd
    }
    /// Runs to completion (killed after the timeout) and collects the output.
    pub fn go(mut self) -> Out {
        if self.cmd.get_program().to_string_lossy().is_empty() {
            panic!("no program");
        }
        let stdin_set = !self.input.is_empty();
        self.cmd.stdout(Stdio::piped()).stderr(Stdio::piped());
        if stdin_set {
            self.cmd.stdin(Stdio::piped());
        }
        let mut child = self
            .cmd
            .spawn()
            .unwrap_or_else(|e| panic!("spawn {:?}: {e}", self.cmd.get_program()));
        if let Some(mut si) = child.stdin.take() {
            let input = std::mem::take(&mut self.input);
            std::thread::spawn(move || {
                let _ = si.write_all(&input);
            });
        }
        let deadline = Instant::now() + self.timeout;
        let pid = child.id();
        let killer = std::thread::spawn(move || {
            while Instant::now() < deadline {
                std::thread::sleep(Duration::from_millis(50));
                if std::fs::metadata(format!("/proc/{pid}")).is_err() {
                    return;
                }
            }
            let _ = Command::new("kill").arg("-9").arg(pid.to_string()).status();
        });
        let o = child.wait_with_output().expect("wait");
        drop(killer);
        Out {
            code: o
                .status
                .code()
                .unwrap_or_else(|| 128 + o.status.signal().unwrap_or(0)),
            out: o.stdout,
            err: o.stderr,
        }
    }
    /// Starts it in the background; killed and reaped when the guard drops.
    pub fn spawn(mut self) -> Bg {
        Bg(self.cmd.stdin(Stdio::null()).spawn().expect("spawn"))
    }
}

/// A background process, killed and reaped on drop.
pub struct Bg(pub Child);

impl Drop for Bg {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Waits up to `secs` for `f` to hold.
pub fn wait_for(secs: u64, mut f: impl FnMut() -> bool) -> bool {
    let end = Instant::now() + Duration::from_secs(secs);
    while Instant::now() < end {
        if f() {
            return true;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    f()
}

/// Files in a directory (names), sorted; empty if it does not exist.
pub fn ls(dir: impl AsRef<Path>) -> Vec<String> {
    let mut v: Vec<String> = std::fs::read_dir(dir)
        .map(|r| {
            r.filter_map(Result::ok)
                .map(|e| e.file_name().to_string_lossy().into_owned())
                .collect()
        })
        .unwrap_or_default();
    v.sort();
    v
}

/// Serialises the tests that use the one compiled-in qmail home.
pub fn home_lock() -> MutexGuard<'static, ()> {
    static LOCK: Mutex<()> = Mutex::new(());
    LOCK.lock().unwrap_or_else(|e| e.into_inner())
}

/// The current user's name and primary group's name (the private instance runs as them).
pub fn whoami() -> (String, u32, u32) {
    let uid = qlib::sys::id::getuid();
    let name = Command::new("id").arg("-un").output().expect("id");
    (
        String::from_utf8_lossy(&name.stdout).trim().to_string(),
        uid,
        qlib::sys::id::getgid(),
    )
}
pub mod netns;
