//! tcpserver: real sockets on 127.0.0.1 and ::1, each server started with `-1 … 0` and
//! killed and reaped by a guard; names tested against the fake DNS server in a private
//! network namespace; interop with Debian's ucspi-tcp (its tcpserver reads our cdbs, ours
//! reads its cdbs).
//!
//! Not tested here: -g/-u success with real ids (needs root; only refusal and the test
//! user's own uid are tried); ident answers (needs a server on port 113 of the peer — the
//! query itself is unit-tested in lib/src/ident.rs; here -R, or refused queries leave
//! TCPREMOTEINFO unset); -O/-D effects (not observable from the peer); -I and link-local
//! TCP6INTERFACE (needs a link-local address); the failed-fork warning.

use crate::common::{netns, run, wait_for, Bg, TmpDir};
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::path::PathBuf;
use std::process::Stdio;
use std::time::Duration;

/// A tcpserver (ours or Debian's) in the background, its port and its stderr file.
struct Server {
    bg: Bg,
    port: u16,
    log: PathBuf,
}

fn start_with(prog: &str, dir: &TmpDir, env: &[(&str, &str)], args: &[&str]) -> Server {
    static N: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(0);
    let n = N.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
    let log = dir.join(&format!("log.{n}"));
    let mut cmd = run(prog).args(args);
    for (k, v) in env {
        cmd = cmd.env(k, v);
    }
    let err = std::fs::File::create(&log).expect("log file");
    cmd.raw().stdout(Stdio::piped()).stderr(err);
    let mut bg = cmd.spawn();
    let mut line = String::new();
    let out = bg.0.stdout.take().expect("stdout");
    BufReader::new(out).read_line(&mut line).expect("port line");
    let port = line.trim().parse().unwrap_or_else(|_| {
        panic!(
            "no port from {prog}: {line:?} {}",
            std::fs::read_to_string(&log).unwrap_or_default()
        )
    });
    Server { bg, port, log }
}

fn start(dir: &TmpDir, args: &[&str]) -> Server {
    start_with("tcpserver", dir, &[], args)
}

impl Server {
    fn log(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }
    /// Waits until the log holds `n` `end` lines, and returns the log.
    fn ended(&self, n: usize) -> String {
        wait_for(10, || self.log().matches("tcpserver: end ").count() >= n);
        self.log()
    }
}

/// Connects (to 127.0.0.1 or ::1), sends `input`, reads to EOF: (client address, bytes).
fn talk(host: &str, port: u16, input: &[u8]) -> (SocketAddr, Vec<u8>) {
    let mut s = TcpStream::connect((host, port)).expect("connect");
    s.set_read_timeout(Some(Duration::from_secs(20))).unwrap();
    let me = s.local_addr().unwrap();
    if !input.is_empty() {
        s.write_all(input).unwrap();
    }
    let mut out = Vec::new();
    let _ = s.read_to_end(&mut out);
    (me, out)
}

/// The environment lines `env` printed, sorted, PATH left out.
fn env_lines(out: &[u8]) -> Vec<String> {
    let mut v: Vec<String> = String::from_utf8_lossy(out)
        .lines()
        .filter(|l| !l.starts_with("PATH="))
        .map(str::to_string)
        .collect();
    v.sort();
    v
}

fn child_pid(log: &str) -> String {
    let at = log.find("tcpserver: pid ").expect("pid line") + 15;
    log[at..].split(' ').next().unwrap().to_string()
}

fn has_ipv6_loopback() -> bool {
    std::net::TcpListener::bind("[::1]:0").is_ok()
}

#[test]
fn environment_and_log_lines_ipv4() {
    let dir = TmpDir::new("tcpserver-env");
    let env = [
        ("TCPREMOTEHOST", "stale"),
        ("TCPREMOTEINFO", "stale"),
        ("TCP6REMOTEIP", "x"),
    ];
    let s = start_with(
        "tcpserver",
        &dir,
        &env,
        &["-v1RHl", "me", "127.0.0.1", "0", "/usr/bin/env"],
    );
    let (me, out) = talk("127.0.0.1", s.port, b"");
    let (p, cp) = (s.port, me.port());
    assert_eq!(
        env_lines(&out),
        [
            "PROTO=TCP".to_string(),
            "TCPLOCALHOST=me".into(),
            "TCPLOCALIP=127.0.0.1".into(),
            format!("TCPLOCALPORT={p}"),
            "TCPREMOTEIP=127.0.0.1".into(),
            format!("TCPREMOTEPORT={cp}"),
        ]
    );
    let log = s.ended(1);
    let pid = child_pid(&log);
    assert_eq!(
        log,
        format!(
            "tcpserver: status: 0/40\ntcpserver: status: 1/40\n\
             tcpserver: pid {pid} from 127.0.0.1\n\
             tcpserver: ok {pid} me:127.0.0.1:{p} :127.0.0.1::{cp}\n\
             tcpserver: end {pid} status 0\ntcpserver: status: 0/40\n"
        )
    );
}

#[test]
fn environment_ipv6_and_dual_stack() {
    if !has_ipv6_loopback() {
        eprintln!("no IPv6 loopback: skipped");
        return;
    }
    let dir = TmpDir::new("tcpserver-env6");
    let s = start(
        &dir,
        &[
            "-v",
            "-1",
            "-R",
            "-H",
            "-l",
            "me",
            "::1",
            "0",
            "/usr/bin/env",
        ],
    );
    let (me, out) = talk("::1", s.port, b"");
    let (p, cp) = (s.port, me.port());
    let mut want = vec!["PROTO=TCP6".to_string()];
    for pre in ["TCP", "TCP6"] {
        want.extend([
            format!("{pre}LOCALHOST=me"),
            format!("{pre}LOCALIP=::1"),
            format!("{pre}LOCALPORT={p}"),
            format!("{pre}REMOTEIP=::1"),
            format!("{pre}REMOTEPORT={cp}"),
        ]);
    }
    want.sort();
    assert_eq!(env_lines(&out), want);
    let log = s.ended(1);
    let pid = child_pid(&log);
    assert!(
        log.contains(&format!("tcpserver: ok {pid} me:::1:{p} :::1::{cp}\n")),
        "{log}"
    );

    let d = start(&dir, &["-1RHl0", ":0", "0", "/usr/bin/env"]);
    let (me, out) = talk("127.0.0.1", d.port, b"");
    let lines = env_lines(&out);
    assert!(lines.contains(&"PROTO=TCP".to_string()), "{lines:?}");
    assert!(lines.contains(&"TCPLOCALHOST=0".to_string()), "{lines:?}");
    assert!(lines.contains(&format!("TCPREMOTEPORT={}", me.port())));
    assert!(lines.contains(&"TCPREMOTEIP=127.0.0.1".to_string()));
    assert!(!lines.iter().any(|l| l.starts_with("TCP6")), "{lines:?}");
    let (_, out) = talk("::1", d.port, b"");
    assert!(env_lines(&out).contains(&"TCP6REMOTEIP=::1".to_string()));
}

fn rules(dir: &TmpDir, text: &str) -> PathBuf {
    let cdb = dir.join("rules.cdb");
    run("tcprules")
        .arg(&cdb)
        .arg(dir.join("rules.tmp"))
        .stdin(text)
        .go()
        .expect(0, "", "");
    cdb
}

#[test]
fn banner_then_deny_status_25600() {
    let dir = TmpDir::new("tcpserver-deny");
    let cdb = rules(&dir, "127.0.0.1:deny\n");
    let marker = dir.join("ran");
    let script = format!("touch {}", marker.display());
    let s = start(
        &dir,
        &[
            "-v1RH",
            "-l",
            "me",
            "-B",
            "hello\r\n",
            "-x",
            cdb.to_str().unwrap(),
            "127.0.0.1",
            "0",
            "sh",
            "-c",
            &script,
        ],
    );
    let (me, out) = talk("127.0.0.1", s.port, b"");
    assert_eq!(out, b"hello\r\n");
    let log = s.ended(1);
    let pid = child_pid(&log);
    let want = format!(
        "tcpserver: deny {pid} me:127.0.0.1:{} :127.0.0.1::{}\ntcpserver: end {pid} status 25600\n",
        s.port,
        me.port()
    );
    assert!(log.contains(&want), "{log}");
    assert!(!marker.exists());
}

#[test]
fn rule_variables_override_tcp_variables() {
    let dir = TmpDir::new("tcpserver-vars");
    let cdb = rules(
        &dir,
        "127.0.0.1:allow,TCPLOCALHOST=\"movie.edu\",RELAYCLIENT=\"\",X=/a b/\n:deny\n",
    );
    let s = start(
        &dir,
        &[
            "-1RHlme",
            "-x",
            cdb.to_str().unwrap(),
            "127.0.0.1",
            "0",
            "/usr/bin/env",
        ],
    );
    let (_, out) = talk("127.0.0.1", s.port, b"");
    let lines = env_lines(&out);
    for want in [
        "TCPLOCALHOST=movie.edu",
        "RELAYCLIENT=",
        "X=a b",
        "PROTO=TCP",
    ] {
        assert!(lines.contains(&want.to_string()), "{want} in {lines:?}");
    }
    assert!(!lines.contains(&"TCPLOCALHOST=me".to_string()));
}

#[test]
fn missing_and_unreadable_rules() {
    let dir = TmpDir::new("tcpserver-norules");
    let missing = dir.join("none.cdb");
    let m = missing.to_str().unwrap();
    let s = start(&dir, &["-1RHl0", "-x", m, "127.0.0.1", "0", "echo", "ran"]);
    assert_eq!(talk("127.0.0.1", s.port, b"").1, b"");
    let log = s.ended(1);
    assert!(
        log.starts_with(&format!(
            "tcpserver: warning: dropping connection, unable to read {m}: file does not exist\n"
        )),
        "{log}"
    );
    let x = start(&dir, &["-1RHXl0", "-x", m, "127.0.0.1", "0", "echo", "ran"]);
    assert_eq!(talk("127.0.0.1", x.port, b"").1, b"ran\n");
    let d = dir.join("dir.cdb");
    std::fs::create_dir(&d).unwrap();
    let ds = d.to_str().unwrap();
    let u = start(
        &dir,
        &["-v1RHXl0", "-x", ds, "127.0.0.1", "0", "echo", "ran"],
    );
    assert_eq!(talk("127.0.0.1", u.port, b"").1, b"");
    let log = u.ended(1);
    let pid = child_pid(&log);
    assert!(
        log.contains(&format!(
            "tcpserver: warning: dropping connection, unable to read {ds}: is a directory\n\
         tcpserver: end {pid} status 28416\n"
        )),
        "{log}"
    );
}

#[test]
fn unable_to_run_program() {
    let dir = TmpDir::new("tcpserver-norun");
    let s = start(&dir, &["-1RHl0", "127.0.0.1", "0", "/nonexistent/prog"]);
    assert_eq!(talk("127.0.0.1", s.port, b"").1, b"");
    wait_for(10, || s.log().contains('\n'));
    assert_eq!(
        s.log(),
        "tcpserver: warning: dropping connection, unable to run /nonexistent/prog: file does not exist\n"
    );
}

#[test]
fn at_most_c_children_and_everyone_served() {
    let dir = TmpDir::new("tcpserver-conc");
    let d = dir.join("d");
    std::fs::create_dir(&d).unwrap();
    let script = "mkdir \"$D/run.$$\"; ls \"$D\" | grep -c '^run\\.' >> \"$D/../counts\"; \
                  sleep 0.1; rmdir \"$D/run.$$\"; echo done";
    let dstr = d.to_str().unwrap().to_string();
    let s = start_with(
        "tcpserver",
        &dir,
        &[("D", &dstr)],
        &[
            "-v1RHl0",
            "-c",
            "5",
            "-b",
            "100",
            "127.0.0.1",
            "0",
            "sh",
            "-c",
            script,
        ],
    );
    let port = s.port;
    let clients: Vec<_> = (0..50)
        .map(|_| std::thread::spawn(move || talk("127.0.0.1", port, b"").1))
        .collect();
    for c in clients {
        assert_eq!(c.join().unwrap(), b"done\n");
    }
    let counts = std::fs::read_to_string(dir.join("counts")).unwrap();
    let counts: Vec<u32> = counts.lines().map(|l| l.parse().unwrap()).collect();
    assert_eq!(counts.len(), 50);
    assert!(counts.iter().all(|&n| (1..=5).contains(&n)), "{counts:?}");
    let log = s.ended(50);
    let mut busiest = 0;
    for l in log
        .lines()
        .filter_map(|l| l.strip_prefix("tcpserver: status: "))
    {
        let (n, limit) = l.split_once('/').unwrap();
        assert_eq!(limit, "5");
        busiest = busiest.max(n.parse::<u32>().unwrap());
    }
    assert_eq!(busiest, 5, "the limit was reached");
    assert!(log.ends_with("tcpserver: status: 0/5\n") || s.ended(50).contains("status: 0/5"));
}

#[test]
fn sigterm_exits_0_and_children_keep_running() {
    let dir = TmpDir::new("tcpserver-term");
    let pidfile = dir.join("pid");
    let script = format!(
        "echo $$ > {}; echo started; exec sleep 30",
        pidfile.display()
    );
    let mut s = start(&dir, &["-1RHl0", "127.0.0.1", "0", "sh", "-c", &script]);
    let mut c = TcpStream::connect(("127.0.0.1", s.port)).unwrap();
    c.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    let mut buf = [0u8; 8];
    c.read_exact(&mut buf).unwrap();
    assert_eq!(&buf, b"started\n");
    let pid = std::fs::read_to_string(&pidfile)
        .unwrap()
        .trim()
        .to_string();
    let _handler = Kill(pid.clone());
    run("kill")
        .args(["-TERM", &s.bg.0.id().to_string()])
        .go()
        .expect(0, "", "");
    let status = s.bg.0.wait().unwrap();
    assert_eq!(status.code(), Some(0));
    assert!(
        std::path::Path::new(&format!("/proc/{pid}")).exists(),
        "handler still runs"
    );
}

/// Kills a process by pid when dropped.
struct Kill(String);

impl Drop for Kill {
    fn drop(&mut self) {
        let _ = std::process::Command::new("kill")
            .args(["-9", &self.0])
            .status();
    }
}

#[test]
fn uid_and_gid() {
    let dir = TmpDir::new("tcpserver-uid");
    let uid = qlib::sys::id::getuid();
    if uid != 0 {
        run("tcpserver")
            .args(["-1", "-u", "1", "127.0.0.1", "0", "true"])
            .go()
            .expect(
                111,
                "",
                "tcpserver: fatal: unable to set uid: permission denied\n",
            );
        run("tcpserver")
            .args(["-g", "1", "127.0.0.1", "0", "true"])
            .go()
            .expect(
                111,
                "",
                "tcpserver: fatal: unable to set gid: permission denied\n",
            );
        run("tcpserver")
            .args(["-q", "-g", "1", "127.0.0.1", "0", "true"])
            .go()
            .expect(111, "", "");
        let own = uid.to_string();
        let s = start(&dir, &["-1RHl0", "-u", &own, "127.0.0.1", "0", "id", "-u"]);
        assert_eq!(
            talk("127.0.0.1", s.port, b"").1,
            format!("{uid}\n").into_bytes()
        );
    }
    let s = start_with(
        "tcpserver",
        &dir,
        &[("UID", "0"), ("GID", "0")],
        &["-1URHl0", "127.0.0.1", "0", "id", "-u"],
    );
    assert_eq!(
        talk("127.0.0.1", s.port, b"").1,
        format!("{uid}\n").into_bytes()
    );
}

const USAGE: &str = "tcpserver: usage: tcpserver [ -1UXpPhHrRoOdDqQv46 ] [ -c limit ] \
[ -x rules.cdb ] [ -B banner ] [ -g gid ] [ -u uid ] [ -b backlog ] [ -l localname ] \
[ -t timeout ] [ -I interface ] host port program\n";

#[test]
fn usage_and_fatal_errors() {
    run("tcpserver").go().expect(100, "", USAGE);
    run("tcpserver")
        .args(["0", "25"])
        .go()
        .expect(100, "", USAGE);
    run("tcpserver")
        .args(["-z", "0", "25", "true"])
        .go()
        .expect(100, "", &format!("tcpserver: illegal option -- z\n{USAGE}"));
    run("tcpserver").args(["-v", "-c"]).go().expect(
        100,
        "",
        &format!("tcpserver: option requires an argument -- c\n{USAGE}"),
    );
    run("tcpserver")
        .args(["127.0.0.1", "no-such-service-here", "true"])
        .go()
        .expect(
            111,
            "",
            "tcpserver: fatal: unable to figure out port number for no-such-service-here\n",
        );
    let held = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = held.local_addr().unwrap().port().to_string();
    run("tcpserver")
        .args(["127.0.0.1", &port, "true"])
        .go()
        .expect(
            111,
            "",
            "tcpserver: fatal: unable to bind: address already used\n",
        );
    run("tcpserver")
        .args(["-q", "127.0.0.1", &port, "true"])
        .go()
        .expect(111, "", "");
    run("tcpserver")
        .args(["-4", "::1", "0", "true"])
        .go()
        .expect(111, "", "tcpserver: fatal: no IP address for ::1\n");
}

/// Runs `script` (sh) inside a network namespace with the fake DNS server serving `zone`;
/// `$CLIENT port source...` connects from each source address and prints what it got.
fn in_netns(zone: &str, script: &str) -> String {
    const CLIENT: &str = "import socket,sys\n\
        for src in sys.argv[2:]:\n\
        \x20   s=socket.create_connection(('127.0.0.1',int(sys.argv[1])),source_address=(src,0))\n\
        \x20   d=b''\n\
        \x20   while True:\n\
        \x20       b=s.recv(4096)\n\
        \x20       if not b: break\n\
        \x20       d+=b\n\
        \x20   print('--', src); sys.stdout.write(''.join(sorted(d.decode().splitlines(True))))\n";
    let dir = TmpDir::new("tcpserver-dns");
    let full = format!(
        "cd {d}; client() {{ python3 -c \"$CLIENT\" \"$@\"; }}; {script}",
        d = dir.0.display()
    );
    let o = netns::with_dns(
        zone,
        run("sh")
            .arg("-c")
            .arg(full)
            .env("CLIENT", CLIENT)
            .env("TCPREMOTEHOST", "stale.example"),
    );
    assert_eq!(o.code, 0, "{}", o.stderr());
    o.stdout()
}

const ZONE: &str = "PTR 1.0.0.127.in-addr.arpa Local.Test\n\
                    PTR 2.0.0.127.in-addr.arpa Good.Test\n\
                    A good.test 127.0.0.2\n\
                    PTR 3.0.0.127.in-addr.arpa liar.test\n\
                    A liar.test 10.9.9.9\n";

/// Starts tcpserver with `opts` in the background, waits for its port, runs the client.
const SERVE: &str = "tcpserver -1 -R $OPTS 127.0.0.1 0 sh -c 'env | grep -E \"^TCP(LOCAL|REMOTE)HOST=\"; true' >port 2>log & \
    n=0; while [ ! -s port ] && [ $n -lt 200 ]; do sleep 0.05; n=$((n+1)); done; \
    client $(cat port) 127.0.0.2 127.0.0.3 127.0.0.4; kill $!";

#[test]
fn names_from_dns() {
    let out = in_netns(ZONE, &format!("OPTS=-h; {SERVE}"));
    assert_eq!(
        out,
        "-- 127.0.0.2\nTCPLOCALHOST=local.test\nTCPREMOTEHOST=good.test\n\
         -- 127.0.0.3\nTCPLOCALHOST=local.test\nTCPREMOTEHOST=liar.test\n\
         -- 127.0.0.4\nTCPLOCALHOST=local.test\n"
    );
    let out = in_netns(ZONE, &format!("OPTS='-p -l me'; {SERVE}"));
    assert_eq!(
        out,
        "-- 127.0.0.2\nTCPLOCALHOST=me\nTCPREMOTEHOST=good.test\n\
         -- 127.0.0.3\nTCPLOCALHOST=me\n\
         -- 127.0.0.4\nTCPLOCALHOST=me\n"
    );
    let out = in_netns(ZONE, &format!("OPTS=-H; {SERVE}"));
    assert_eq!(
        out,
        "-- 127.0.0.2\nTCPLOCALHOST=local.test\n\
         -- 127.0.0.3\nTCPLOCALHOST=local.test\n\
         -- 127.0.0.4\nTCPLOCALHOST=local.test\n"
    );
}

#[test]
fn host_rules_match_verified_names() {
    let rules_text = "=good.test:allow,WHO=\"good\"\n=.test:allow,WHO=\"test\"\n127.0.0.4:deny\n";
    let script = format!(
        "printf '{}' | tcprules r.cdb r.tmp && \
         tcpserver -1 -R -p -l0 -x r.cdb 127.0.0.1 0 sh -c 'echo WHO=$WHO' >port 2>log & \
         n=0; while [ ! -s port ] && [ $n -lt 200 ]; do sleep 0.05; n=$((n+1)); done; \
         client $(cat port) 127.0.0.2 127.0.0.3 127.0.0.4; kill $!",
        rules_text.replace('\n', "\\n")
    );
    let out = in_netns(ZONE, &script);
    assert_eq!(
        out,
        "-- 127.0.0.2\nWHO=good\n-- 127.0.0.3\nWHO=\n-- 127.0.0.4\n"
    );
}

#[test]
fn debian_tcpserver_obeys_our_cdb_and_ours_obeys_debians() {
    let dir = TmpDir::new("tcpserver-interop");
    let text = "127.0.0.1:allow,RELAYCLIENT=\"\",GREETING=/hi there/\n";
    let deny = "127.0.0.1:deny\n";
    for (maker, server) in [
        ("tcprules", "/usr/bin/tcpserver"),
        ("/usr/bin/tcprules", "tcpserver"),
    ] {
        for (rules_text, want) in [
            (text, Some(["GREETING=hi there", "RELAYCLIENT="])),
            (deny, None),
        ] {
            let cdb = dir.join("i.cdb");
            run(maker)
                .arg(&cdb)
                .arg(dir.join("i.tmp"))
                .stdin(rules_text)
                .go()
                .expect(0, "", "");
            let c = cdb.to_str().unwrap();
            let s = start_with(
                server,
                &dir,
                &[],
                &["-1RHl0", "-x", c, "127.0.0.1", "0", "/usr/bin/env"],
            );
            let (_, out) = talk("127.0.0.1", s.port, b"");
            let lines = env_lines(&out);
            match want {
                Some(vars) => {
                    for v in vars {
                        assert!(
                            lines.contains(&v.to_string()),
                            "{maker} → {server}: {lines:?}"
                        );
                    }
                }
                None => assert!(out.is_empty(), "{maker} → {server} should deny"),
            }
        }
    }
}

/// The log with the child's pid and the two ports replaced by names.
fn masked(log: &str, port: u16, client: u16) -> String {
    let pid = child_pid(log);
    log.replace(&pid, "PID")
        .replace(&port.to_string(), "PORT")
        .replace(&client.to_string(), "CLIENT")
}

#[test]
fn log_lines_same_as_debian() {
    let dir = TmpDir::new("tcpserver-debianlog");
    let cdb = rules(&dir, "127.0.0.1:deny\n");
    for extra in [&[][..], &["-x", cdb.to_str().unwrap()][..]] {
        let mut logs = Vec::new();
        for prog in ["tcpserver", "/usr/bin/tcpserver"] {
            let mut args = vec!["-v", "-1", "-R", "-H", "-l", "a b%c:d", "-c", "7"];
            args.extend_from_slice(extra);
            args.extend(["127.0.0.1", "0", "true"]);
            let s = start_with(prog, &dir, &[], &args);
            let (me, _) = talk("127.0.0.1", s.port, b"");
            let log = s.ended(1);
            logs.push(masked(&log, s.port, me.port()));
        }
        assert_eq!(logs[0], logs[1]);
    }
}
