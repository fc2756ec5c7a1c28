//! qmail-qmqpc: the qmail-queue interface and its exit codes, talking to qmail-qmqpd under
//! Debian's tcpserver on port 628 inside a user+network+pid namespace (`unshare -r -n -p -f
//! --kill-child`: there the test user may bind 628, 127.0.0.2 refuses connections, and
//! everything started inside dies with the namespace). Mini-qmail end to end: sendmail with
//! `QMAILQUEUE=qmail-qmqpc`, first server dead, second alive, message in a Maildir.
//! Not tested here: 72 (a connect timeout needs a peer that drops packets), 56 (running out
//! of sockets), 51 (running out of memory). The mini host and the hub share the one
//! compiled-in home, so the mini role is played by QMAILQUEUE alone; the Received line
//! `with QMQP` shows the message took the QMQP path.

use crate::common::{
    assign_users, bin, home, ls, maildir_messages, run, wait_for, Instance, Out, TmpDir,
};
use crate::qmail_qmtpd::{failing_queue, fresh, mask_date, queued};
use std::fs::File;
use std::os::unix::fs::PermissionsExt;
use std::process::{Command, Stdio};

/// Runs qmail-qmqpc here with `msg` on fd 0 and `env` readable on fd 1.
fn qmqpc(t: &TmpDir, msg: &[u8], env: &[u8]) -> i32 {
    let m = t.write("msg", msg);
    let e = t.write("env", env);
    let o = Command::new(bin("qmail-qmqpc"))
        .env_clear()
        .stdin(File::open(m).unwrap())
        .stdout(File::open(e).unwrap())
        .stderr(Stdio::piped())
        .output()
        .expect("qmail-qmqpc");
    assert_eq!(o.stderr, b"", "qmail-qmqpc never prints");
    o.status.code().unwrap_or(-1)
}

/// Runs `script` with sh in a fresh user+network+pid namespace whose loopback is up.
fn in_namespace(script: &str) -> Out {
    run("unshare")
        .args(["-r", "-n", "-p", "-f", "--kill-child", "sh", "-c"])
        .arg(format!("ip link set lo up || exit 120\n{script}"))
        .go()
}

/// Shell lines starting tcpserver on 127.0.0.1:628 with `prog` (and env assignments `vars`)
/// and waiting until it listens.
fn serve_628(t: &TmpDir, vars: &str, prog: &str) -> String {
    let port = t.join("port");
    format!(
        "rm -f {p}\n{vars} /usr/bin/tcpserver -1 -R -H -l0 127.0.0.1 628 {prog} >{p} 2>/dev/null &\n\
         n=0; until [ -s {p} ]; do n=$((n+1)); [ $n -lt 400 ] || exit 121; sleep 0.05; done\n",
        p = port.display()
    )
}

/// The shell line running qmail-qmqpc on the test's msg and env files.
fn client(t: &TmpDir, msg: &[u8], env: &[u8]) -> String {
    let m = t.write("msg", msg);
    let e = t.write("env", env);
    format!(
        "{} <{} 1<{}\n",
        bin("qmail-qmqpc").display(),
        m.display(),
        e.display()
    )
}

fn servers(list: &str) {
    std::fs::write(home().join("control/qmqpservers"), list).expect("qmqpservers");
}

#[test]
fn configuration_and_input_errors() {
    let t = TmpDir::new("qmqpc-cfg");
    let _l = fresh(&[]);
    assert_eq!(qmqpc(&t, b"m", b"Fa\0Tb\0\0"), 55, "no qmqpservers");
    servers("# nothing usable\nmx.example\n300.1.2.3\n");
    assert_eq!(qmqpc(&t, b"m", b"Fa\0Tb\0\0"), 55, "no server in the list");
    servers("127.0.0.2\n");
    for bad in [
        &b""[..],
        b"\0",
        b"Ta\0\0",
        b"Fa\0Xb\0\0",
        b"Fa\0Tb\0",
        b"Fa",
    ] {
        assert_eq!(qmqpc(&t, b"m", bad), 91, "{bad:?}");
    }
    let o = Command::new(bin("qmail-qmqpc"))
        .env_clear()
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .status()
        .expect("run");
    assert_eq!(o.code(), Some(54), "fd 1 is not readable");
    let mode = |m| std::fs::set_permissions(home(), std::fs::Permissions::from_mode(m));
    mode(0o000).expect("chmod home");
    let code = qmqpc(&t, b"m", b"Fa\0Tb\0\0");
    mode(0o755).expect("chmod home");
    assert_eq!(code, 61, "the qmail home cannot be entered");
    assert_eq!(queued(), []);
}

#[test]
fn dead_servers_give_the_last_connect_failure() {
    let t = TmpDir::new("qmqpc-dead");
    let _l = fresh(&[]);
    servers("127.0.0.2\n::1\n127.0.0.3\n");
    let o = in_namespace(&client(&t, b"m", b"Fa\0Tb\0\0"));
    assert_eq!((o.code, o.stderr()), (73, String::new()));
}

#[test]
fn the_first_server_that_answers_decides() {
    let t = TmpDir::new("qmqpc-answers");
    let _l = fresh(&[]);
    servers("127.0.0.2\n127.0.0.1\n");
    let env = b"Fa@mini.example\0Tb@hub.example\0\0";
    for code in [31, 71] {
        let qq = failing_queue(&t, code);
        let vars = format!("QMAILQUEUE={}", qq.display());
        let script = serve_628(&t, &vars, &bin("qmail-qmqpd").display().to_string());
        let o = in_namespace(&(script + &client(&t, b"m\n", env)));
        assert_eq!((o.code, o.stderr()), (code as i32, String::new()), "D or Z");
    }
    let script = serve_628(&t, "", "/bin/true");
    let o = in_namespace(&(script + &client(&t, b"m\n", env)));
    assert_eq!(
        o.code, 74,
        "connected, then no answer: no other server is tried"
    );
    assert_eq!(queued(), []);

    let script = serve_628(&t, "", &bin("qmail-qmqpd").display().to_string());
    let o = in_namespace(&(script + &client(&t, b"Subject: s\n\nbody\n", env)));
    assert_eq!((o.code, o.stderr()), (0, String::new()));
    let r = "Received: from unknown (127.0.0.1)\n  by 0 with QMQP; DATE\n";
    assert_eq!(
        queued(),
        [(
            format!("{r}Subject: s\n\nbody\n"),
            "Fa@mini.example|Tb@hub.example|".into()
        )]
    );
}

#[test]
fn mini_qmail_end_to_end() {
    let t = TmpDir::new("qmqpc-mini");
    let _l = crate::common::home_lock();
    let q = Instance::fresh("./Maildir/");
    let joe = assign_users(&t.0, &["joe"]).remove(0);
    servers("127.0.0.2\n127.0.0.1\n");
    let msg = t.write("mail", b"Subject: from the leaf\n\nhello hub\n");
    let script = serve_628(&t, "", &bin("qmail-qmqpd").display().to_string())
        + &format!(
            "QMAILQUEUE={} {} -f ann@mini.example joe@test.example <{}\n",
            bin("qmail-qmqpc").display(),
            bin("sendmail").display(),
            msg.display()
        );
    let o = in_namespace(&script);
    assert_eq!((o.code, o.stderr()), (0, String::new()));
    let md = joe.join("Maildir");
    assert!(
        wait_for(20, || ls(md.join("new")).len() == 1),
        "{}",
        q.log_text()
    );
    let m = String::from_utf8(maildir_messages(&md).remove(0)).unwrap();
    assert!(
        m.starts_with("Return-Path: <ann@mini.example>\nDelivered-To: joe@test.example\n"),
        "{m}"
    );
    let m = mask_date(&m);
    assert!(
        m.contains("Received: from unknown (127.0.0.1)\n  by 0 with QMQP; DATE\n"),
        "{m}"
    );
    assert!(
        m.contains("\nSubject: from the leaf\n") && m.ends_with("\n\nhello hub\n"),
        "{m}"
    );
}
