//! A private qmail instance on the compiled-in home, what tests do with one, and the
//! spawn protocol seen from qmail-send's side.

use super::{bin, bin_dir, home, ls, path_env, run, wait_for, whoami};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// A running private qmail: qmail-start (become qmail-send) and its daemons, on the
/// compiled-in home, logging to `log`. Hold `home_lock()` while it exists.
pub struct Instance {
    /// qmail-send's process (qmail-start became it)
    pub send: Option<Child>,
    /// qmail-send's activity log
    pub log: PathBuf,
}

impl Instance {
    /// A fresh tree with `me` = test.example (local), then qmail-start with default delivery `dd`.
    pub fn fresh(dd: &str) -> Instance {
        install_tree(&home());
        let c = home().join("control");
        std::fs::write(c.join("me"), "test.example\n").expect("me");
        std::fs::write(c.join("locals"), "test.example\nlocalhost\n").expect("locals");
        Instance::start(dd)
    }

    /// Starts qmail-start on the existing tree.
    pub fn start(dd: &str) -> Instance {
        let log = home().join("send.log");
        let before = std::fs::metadata(&log).map_or(0, |m| m.len() as usize);
        let out = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&log)
            .expect("log");
        let send = Command::new(bin("qmail-start"))
            .arg(dd)
            .env_clear()
            .env("PATH", path_env())
            .stdin(Stdio::null())
            .stdout(out)
            .stderr(Stdio::null())
            .spawn()
            .expect("qmail-start");
        let i = Instance {
            send: Some(send),
            log,
        };
        assert!(
            // Started when this qmail-send logged its first status line (not an earlier one's),
            // and so has its signal handlers in place.
            wait_for(10, || i
                .log_text()
                .get(before..)
                .is_some_and(|l| l.contains("status: local "))),
            "qmail-send did not start: {}",
            i.log_text()
        );
        i
    }

    /// The log so far.
    pub fn log_text(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    /// SIGTERM, and wait for qmail-send to exit; returns its exit code.
    pub fn stop(&mut self) -> Option<i32> {
        let mut c = self.send.take()?;
        let _ = Command::new("kill")
            .arg("-TERM")
            .arg(c.id().to_string())
            .status();
        let end = Instant::now() + Duration::from_secs(20);
        while Instant::now() < end {
            if let Ok(Some(s)) = c.try_wait() {
                return s.code();
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        let _ = c.kill();
        let _ = c.wait();
        None
    }

    /// SIGKILL qmail-send (its daemons exit when their input ends).
    pub fn kill(&mut self) {
        if let Some(mut c) = self.send.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }
}

impl Drop for Instance {
    fn drop(&mut self) {
        self.kill();
    }
}

/// users/assign lines mapping each `name` (and `name-ext`) to the test user with home
/// `dir/name` (created, with a Maildir), compiled with qmail-newu. Returns the homes.
pub fn assign_users(dir: &Path, names: &[&str]) -> Vec<PathBuf> {
    let (user, uid, gid) = whoami();
    let mut text = String::new();
    let mut homes = Vec::new();
    for n in names {
        let h = dir.join(n);
        std::fs::create_dir_all(&h).expect("home");
        let o = run("maildirmake").arg(h.join("Maildir")).go();
        assert_eq!(o.code, 0, "{}", o.stderr());
        text.push_str(&format!(
            "={n}:{user}:{uid}:{gid}:{}:::\n+{n}-:{user}:{uid}:{gid}:{}:-::\n",
            h.display(),
            h.display()
        ));
        homes.push(h);
    }
    text.push_str(".\n");
    std::fs::write(home().join("users/assign"), text).expect("assign");
    let o = run("qmail-newu").go();
    assert_eq!(o.code, 0, "{}", o.stderr());
    homes
}

/// Files in `maildir/new`, read, in name order.
pub fn maildir_messages(maildir: &Path) -> Vec<Vec<u8>> {
    ls(maildir.join("new"))
        .iter()
        .map(|f| std::fs::read(maildir.join("new").join(f)).unwrap_or_default())
        .collect()
}

/// Builds a private qmail tree at `home` from package/hier, as an ordinary user would get it
/// from package/upgrade (no owners), except that `bin` is a link to the programs under test.
/// Whatever was at `home` before is removed.
pub fn install_tree(home: &Path) {
    use std::os::unix::fs::PermissionsExt;
    let _ = std::fs::remove_dir_all(home);
    std::fs::create_dir_all(home).expect("mkdir home");
    let hier = std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("package/hier"))
        .expect("hier");
    let split = qlib::conf::split();
    for line in hier
        .lines()
        .filter(|l| !l.starts_with('#') && !l.trim().is_empty())
    {
        let f: Vec<&str> = line.split_whitespace().collect();
        let (kind, p, mode) = (
            f[0],
            home.join(f[1]),
            u32::from_str_radix(f[4], 8).expect("mode"),
        );
        let mut made = vec![p.clone()];
        match kind {
            "d" if f[1] == "bin" => {
                std::os::unix::fs::symlink(bin_dir(), &p).expect("link bin");
                continue;
            }
            "d" => std::fs::create_dir_all(&p).expect("mkdir"),
            "s" => {
                std::fs::create_dir_all(&p).expect("mkdir");
                for i in 0..split {
                    std::fs::create_dir(p.join(i.to_string())).expect("mkdir split");
                    made.push(p.join(i.to_string()));
                }
            }
            "p" => qlib::sys::fs::mkfifo(&p, 0o600).expect("mkfifo"),
            "z" => std::fs::write(&p, [0u8; 1024]).expect("tcpto"),
            "e" => std::fs::write(&p, b"").expect("empty"),
            _ => continue,
        }
        for m in made {
            std::fs::set_permissions(&m, std::fs::Permissions::from_mode(mode)).expect("chmod");
        }
    }
}

/// Starts a spawner (qmail-lspawn, qmail-rspawn) and reads its concurrency byte.
pub fn start_spawner(mut c: Command) -> (Child, std::process::ChildStdout) {
    use std::io::Read;
    let mut c = c
        .env("PATH", path_env())
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .expect("spawn");
    let mut out = c.stdout.take().expect("stdout");
    let mut b = [0u8; 1];
    out.read_exact(&mut b).expect("concurrency byte");
    assert_eq!(
        b[0],
        qlib::conf::spawn(),
        "first byte is the concurrency limit"
    );
    (c, out)
}

/// One spawner report: (slot, status, text).
pub fn spawn_report(out: &mut std::process::ChildStdout) -> (u8, u8, String) {
    use std::io::Read;
    let mut v = Vec::new();
    let mut b = [0u8; 1];
    loop {
        out.read_exact(&mut b).expect("report");
        if b[0] == 0 && v.len() >= 2 {
            break;
        }
        v.push(b[0]);
    }
    (v[0], v[1], String::from_utf8_lossy(&v[2..]).into_owned())
}
