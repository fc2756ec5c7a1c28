//! Running a command in a private network namespace, optionally with a fake DNS server on
//! 127.0.0.1:53 and [::1]:53 (t/fakedns.py, python3 stdlib).
//!
//! The command runs under `unshare -r -n -p -f --kill-child`: a user namespace where the test
//! user is root (so port 53, 25, 628 … can be bound), its own loopback (brought up first), and
//! its own pid namespace, so that everything started inside dies with it — even when the
//! harness kills a hung test. Files it creates belong to the real test user outside.
//!
//! ```ignore
//! use crate::common::{netns, run};
//! let zone = "TXT 2.0.0.127.rbl.test listed\nA host.test 127.0.0.1\n";
//! let o = netns::with_dns(zone, run("rblsmtpd").args(["-r", "rbl.test", "true"])
//!     .env("TCPREMOTEIP", "127.0.0.2").stdin("QUIT\r\n"));
//! o.expect(0, "220 rblsmtpd.local\r\n221 rblsmtpd.local\r\n", "…");
//! // several programs at once: give a shell script as the command
//! let o = netns::with_dns(zone, run("sh").arg("-c").arg("tcpserver … & sleep 1; …"));
//! // which queries reached the server ("UDP TXT 2.0.0.127.rbl.test", "TCP A host.test" …)
//! let (o, queries) = netns::with_dns_queries(zone, run("rblsmtpd") … );
//! // no DNS, just a private loopback where privileged ports can be bound
//! let o = netns::isolated(run("sh").arg("-c").arg("…"));
//! ```
//!
//! The command keeps everything the `Cmd` was given (arguments, environment, stdin, working
//! directory); `DNSCACHEIP=127.0.0.1` is added unless the `Cmd` set it. The zone format is in
//! t/fakedns.py: `A`, `AAAA`, `MX`, `PTR`, `CNAME`, `TXT` lines (TXT text may hold `\ooo`),
//! and the switches `SERVFAIL name`, `TRUNC name` (TC over UDP, full answer over TCP) and
//! `DROP name` (never answered). Unknown names get NXDOMAIN. The result is the command's own
//! `Out`; if the namespace or the server cannot be set up, the code is 125 and stderr says why.

use super::{Cmd, Out, TmpDir};
use std::path::Path;

/// Brings up lo, starts the DNS server if `$1/zone` exists and waits for it, runs the rest,
/// stops the server, and exits with the command's status.
const WRAPPER: &str = r#"
ip=$1 dir=$2; shift 2
"$ip" link set lo up || { echo "netns: cannot bring up lo" >&2; exit 125; }
dns=
if [ -f "$dir/zone" ]; then
  /usr/bin/python3 "$dir/fakedns.py" "$dir/zone" "$dir/ready" "$dir/queries" </dev/null >/dev/null 2>"$dir/fakedns.err" &
  dns=$!
  n=0
  while [ ! -e "$dir/ready" ]; do
    n=$((n + 1))
    if [ $n -gt 600 ] || ! kill -0 $dns 2>/dev/null; then
      echo "netns: the fake DNS server did not start:" >&2; /bin/cat "$dir/fakedns.err" >&2; exit 125
    fi
    /bin/sleep 0.05
  done
fi
"$@"
rc=$?
if [ -n "$dns" ]; then kill $dns 2>/dev/null; wait $dns 2>/dev/null; fi
exit $rc
"#;

/// Runs `cmd` in a private network namespace with the fake DNS server serving `zone`.
pub fn with_dns(zone: &str, cmd: Cmd) -> Out {
    with_dns_queries(zone, cmd).0
}

/// As [`with_dns`], and also the queries the server saw, one "PROTO TYPE name" each.
pub fn with_dns_queries(zone: &str, cmd: Cmd) -> (Out, Vec<String>) {
    let dir = TmpDir::new("netns");
    dir.write("zone", zone.as_bytes());
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("t/fakedns.py");
    std::fs::copy(&script, dir.join("fakedns.py")).expect("copy fakedns.py");
    let out = wrap(&dir, cmd, true).go();
    let queries = std::fs::read_to_string(dir.join("queries")).unwrap_or_default();
    (out, queries.lines().map(str::to_string).collect())
}

/// Runs `cmd` in a private network namespace (loopback up, no DNS server).
pub fn isolated(cmd: Cmd) -> Out {
    let dir = TmpDir::new("netns");
    wrap(&dir, cmd, false).go()
}

/// `cmd` turned into `unshare … sh -c WRAPPER sh ip dir program args…`.
fn wrap(dir: &TmpDir, mut cmd: Cmd, dns: bool) -> Cmd {
    let ip = ["/usr/sbin/ip", "/sbin/ip", "/usr/bin/ip", "/bin/ip"]
        .into_iter()
        .find(|p| Path::new(p).exists())
        .expect("the ip command (iproute2)");
    let inner = cmd.raw();
    let mut outer = super::run("/usr/bin/unshare")
        .args([
            "-r",
            "-n",
            "-p",
            "-f",
            "--kill-child",
            "/bin/sh",
            "-c",
            WRAPPER,
            "sh",
            ip,
        ])
        .arg(&dir.0)
        .arg(inner.get_program())
        .args(inner.get_args());
    let mut has_dnscacheip = false;
    for (k, v) in inner.get_envs() {
        has_dnscacheip |= k == "DNSCACHEIP";
        if let Some(v) = v {
            outer.cmd.env(k, v);
        } else {
            outer.cmd.env_remove(k);
        }
    }
    if dns && !has_dnscacheip {
        outer.cmd.env("DNSCACHEIP", "127.0.0.1");
    }
    if let Some(d) = inner.get_current_dir() {
        outer.cmd.current_dir(d);
    }
    outer.input = std::mem::take(&mut cmd.input);
    outer.timeout = cmd.timeout;
    outer
}
