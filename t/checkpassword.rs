//! checkpassword: the fd-3 interface (misuse 2, oversized 1, unknown user 1 or Dovecot's 3,
//! read errors 111), Dovecot's lookup without a password, and, as root in a private mount
//! namespace with the test's own passwd, shadow, group and nsswitch.conf bound over the
//! real ones (which are never written): yescrypt and SHA-512 logins that end up with the
//! user's uid, gid, supplementary groups, home and USER/HOME/SHELL; wrong, locked and empty
//! passwords; missing home; prog not found; an unreadable shadow database; no libcrypt.
//! fd 3 is given through `sh -c 'exec checkpassword … 3<file'` (a pre_exec hook would
//! need `unsafe`).
//! Not tested here: a temporary NSS failure such as EIO or ETXTBSY from getpwnam_r (needs a
//! failing NSS module; it takes the same path to 111 as getspnam_r's EACCES, which is
//! tested); crypt running out of memory; timing (wrong password against unknown user).

use crate::common::{bin, path_env, run, Out, TmpDir};
use qlib::sys::id;
use std::os::unix::fs::PermissionsExt;

/// `checkpassword args…` with `input` on fd 3, as the test's own user, in `dir`.
fn check(dir: &TmpDir, input: &[u8], args: &[&str], env: &[(&str, &str)]) -> Out {
    let fd3 = dir.write("fd3", input);
    let mut c = run("sh")
        .arg("-c")
        .arg(r#"exec "$CP" "$@" 3<"$FD3""#)
        .arg("sh")
        .args(args)
        .env("CP", bin("checkpassword"))
        .env("FD3", fd3)
        .cwd(&dir.0);
    for (k, v) in env {
        c = c.env(k, v);
    }
    c.go()
}

const NONE: &[(&str, &str)] = &[];
const UNKNOWN: &[u8] = b"rqmail-no-such-user\0pw\0";

#[test]
fn misuse_is_2_and_silent() {
    let t = TmpDir::new("cp-misuse");
    check(&t, b"root\0pw\0", &[], NONE).expect(2, "", "");
    for bad in [&b""[..], b"root", b"root\0", b"root\0pw"] {
        let o = check(&t, bad, &["true"], NONE);
        assert_eq!((o.code, o.stderr()), (2, String::new()), "{bad:?}");
    }
}

#[test]
fn oversized_input_is_a_bad_password() {
    let t = TmpDir::new("cp-big");
    let mut big = b"root\0pw\0".to_vec();
    big.resize(600, b'x');
    check(&t, &big, &["true"], NONE).expect(1, "", "");
    big.truncate(513);
    check(&t, &big, &["true"], NONE).expect(1, "", "");
    // 512 bytes are still read as a login: Dovecot's mode tells an unknown user (3) apart.
    let dovecot = [("CHECKPASSWORD_DOVECOT", "1")];
    let mut max = UNKNOWN.to_vec();
    max.resize(512, b'x');
    check(&t, &max, &["true"], &dovecot).expect(3, "", "");
    max.push(b'x');
    check(&t, &max, &["true"], &dovecot).expect(1, "", "");
}

#[test]
fn unknown_user_is_1_or_3_for_dovecot() {
    let t = TmpDir::new("cp-unknown");
    check(&t, UNKNOWN, &["true"], NONE).expect(1, "", "");
    for var in [
        ("CHECKPASSWORD_DOVECOT", "1"),
        ("AUTHORIZED", "1"),
        ("CREDENTIALS_LOOKUP", "1"),
        ("MASTER_USER", "admin"),
    ] {
        check(&t, UNKNOWN, &["true"], &[var]).expect(3, "", "");
    }
}

#[test]
fn unreadable_fd_3_is_temporary() {
    let t = TmpDir::new("cp-fd3");
    run("sh")
        .arg("-c")
        .arg(r#"exec "$CP" true 3<&-"#)
        .env("CP", bin("checkpassword"))
        .go()
        .expect(
            111,
            "",
            "checkpassword: fatal: unable to read fd 3: not open\n",
        );
    std::fs::create_dir(t.join("dir")).unwrap();
    run("sh")
        .arg("-c")
        .arg(r#"exec "$CP" true 3<"$D""#)
        .env("CP", bin("checkpassword"))
        .env("D", t.join("dir"))
        .go()
        .expect(
            111,
            "",
            "checkpassword: fatal: unable to read fd 3: is a directory\n",
        );
}

/// As an ordinary user the shadow database cannot be read. With `shadow: files` alone
/// getspnam_r fails with EACCES: 111 and a message. When a later NSS module (Debian's
/// `files systemd`) answers "not found", the passwd field (`x`) is all there is: 1. Either
/// way the login is refused and no program runs. Root reads it: a wrong password, 1.
#[test]
fn a_known_user_checked_without_access_to_shadow() {
    let t = TmpDir::new("cp-shadow");
    let o = check(&t, b"root\0wrong\0", &["echo", "ran"], NONE);
    let readable = std::fs::File::open("/etc/shadow").is_ok();
    let denied = "checkpassword: fatal: unable to read the shadow password database: \
                  access denied\n";
    match (readable, o.code) {
        (true, _) | (false, 1) => o.expect(1, "", ""),
        (false, _) => o.expect(111, "", denied),
    }
}

#[test]
fn dovecot_lookup_without_a_password() {
    let t = TmpDir::new("cp-lookup");
    let root = id::getpwnam(b"root").unwrap().expect("root account");
    let show = "echo $(id -u) \"$AUTHORIZED|$userdb_uid|$userdb_gid|$userdb_home|$EXTRA\"; \
                echo \"$USER|$HOME|$SHELL|$SERVICE|$TCPREMOTEIP|$userdb_quota\"; pwd";
    let env = [
        ("AUTHORIZED", "1"),
        ("SERVICE", "imap"),
        ("TCPREMOTEIP", "192.0.2.1"),
        ("EXTRA", "userdb_quota"),
        ("userdb_quota", "10M"),
        ("USER", "intruder"),
        ("HOME", "/nowhere"),
    ];
    let o = check(&t, b"root\0\0\0", &["sh", "-c", show], &env);
    let s = |b: &[u8]| String::from_utf8_lossy(b).into_owned();
    let want = format!(
        "{} 2|{}|{}|{}|userdb_quota userdb_uid userdb_gid userdb_home\n\
         root|{}|{}|imap|192.0.2.1|10M\n{}\n",
        id::getuid(),
        root.uid,
        root.gid,
        s(&root.dir),
        s(&root.dir),
        s(&root.shell),
        t.0.canonicalize().unwrap().display()
    );
    o.expect(0, &want, "");
    // Plain credentials cannot come from a hash: 1, and the program does not run.
    let cred = [("AUTHORIZED", "1"), ("CREDENTIALS_LOOKUP", "1")];
    check(&t, b"root\0\0\0", &["echo", "ran"], &cred).expect(1, "", "");
    // The program is searched in PATH; not found is 111.
    let p = path_env();
    let env = [("AUTHORIZED", "1"), ("PATH", p.as_str())];
    let o = check(&t, b"root\0\0", &["rqmail-no-such-program"], &env);
    let err = "checkpassword: fatal: unable to run rqmail-no-such-program: file does not exist\n";
    o.expect(111, "", err);
}

// ---- as root, in a private mount namespace ----

/// The test accounts (uids 64001…, clear of real ones), their files, homes and a program
/// that shows what it runs with.
struct Fixture {
    t: TmpDir,
    root: String,
}

const SHOW: &str = r#"#!/bin/sh
echo "ids $(id -u) $(id -g) $(id -G)"
echo "cwd $(pwd)"
echo "env $USER $HOME $SHELL $TCPREMOTEIP"
if [ -e /dev/fd/3 ]; then echo "fd 3 open"; fi
echo "dovecot ${userdb_uid-} ${userdb_gid-} ${userdb_home-} ${EXTRA-}"
"#;

/// Hashes `pw` with Python's crypt module (an implementation independent of ours) for
/// `method`: `y` yescrypt, `6` SHA-512.
fn hash(method: &str, pw: &str) -> String {
    let script = "import crypt, sys\n\
                  s = crypt.mksalt(crypt.METHOD_SHA512)\n\
                  salt = '$y$j9T$' + s[3:19] + '$' if sys.argv[1] == 'y' else s\n\
                  print(crypt.crypt(sys.argv[2], salt))";
    let o = std::process::Command::new("python3")
        .args(["-W", "ignore", "-c", script, method, pw])
        .output()
        .expect("python3");
    let h = String::from_utf8_lossy(&o.stdout).trim().to_string();
    assert!(
        h.starts_with(&format!("${method}$")),
        "python3 crypt: {h:?} {o:?}"
    );
    h
}

impl Fixture {
    fn new(tag: &str) -> Fixture {
        let t = TmpDir::new(tag);
        let root = t.0.canonicalize().unwrap().display().to_string();
        let home = |u: &str| format!("{root}/home/{u}");
        for u in ["cpyes", "cpsha"] {
            std::fs::create_dir_all(home(u)).unwrap();
        }
        let sha = hash("6", "sha secret");
        let users = [
            ("cpyes", 64001, hash("y", "yes-secret")),
            ("cpsha", 64002, sha.clone()),
            ("cplocked", 64003, format!("!{}", hash("6", "pw"))),
            ("cpempty", 64004, String::new()),
            ("cpnohome", 64005, hash("6", "pw")),
        ];
        let (mut passwd, mut group) = (read("/etc/passwd"), read("/etc/group"));
        let mut shadow = String::new(); // the real hashes are never copied
        for (u, n, h) in &users {
            let dir = if *u == "cpnohome" {
                home("missing")
            } else {
                home(u)
            };
            passwd += &format!("{u}:x:{n}:{n}:test:{dir}:/bin/sh\n");
            group += &format!("{u}:x:{n}:\n");
            shadow += &format!("{u}:{h}:19000:0:99999:7:::\n");
        }
        group += "cpextra:x:64010:cpyes,cpsha\n";
        t.write("etc/passwd", passwd.as_bytes());
        t.write("etc/group", group.as_bytes());
        let s = t.write("etc/shadow", shadow.as_bytes());
        std::fs::set_permissions(s, std::fs::Permissions::from_mode(0o600)).unwrap();
        let nss = "passwd: files\ngroup: files\nshadow: files\n";
        t.write("etc/nsswitch.conf", nss.as_bytes());
        let show = t.write("bin/show", SHOW.as_bytes());
        std::fs::set_permissions(show, std::fs::Permissions::from_mode(0o755)).unwrap();
        Fixture { t, root }
    }

    /// checkpassword `args…` with `input` on fd 3, after the bind mounts and `before` (a
    /// shell command) in a new mount namespace, run through `runas` (e.g. setpriv).
    fn check(&self, input: &[u8], args: &[&str], env: &[(&str, &str)], before: &str) -> Out {
        let fd3 = self.t.write("fd3", input);
        let script = format!(
            r#"set -e
for f in passwd shadow group nsswitch.conf; do mount --bind "$T/etc/$f" "/etc/$f"; done
{before}
exec $RUNAS "$CP" "$@" 3<"$FD3""#
        );
        let path = format!("{}/bin:/usr/bin:/bin:/usr/sbin:/sbin", self.root);
        let mut c = run("unshare")
            .args(["-m", "sh", "-c", &script, "sh"])
            .args(args)
            .env("T", &self.root)
            .env("CP", bin("checkpassword"))
            .env("FD3", fd3)
            .env("PATH", path)
            .env("RUNAS", "")
            .cwd("/");
        for (k, v) in env {
            c = c.env(k, v);
        }
        c.go()
    }

    fn login(&self, input: &[u8], args: &[&str]) -> Out {
        self.check(input, args, &[("TCPREMOTEIP", "192.0.2.7")], "")
    }
}

fn read(p: &str) -> String {
    let s = std::fs::read_to_string(p).unwrap_or_else(|e| panic!("{p}: {e}"));
    if s.ends_with('\n') || s.is_empty() {
        s
    } else {
        s + "\n"
    }
}

#[test]
#[ignore = "needs root"]
fn yescrypt_and_sha512_users_run_with_their_ids_groups_and_home() {
    let f = Fixture::new("cp-login");
    let r = &f.root;
    let o = f.login(b"cpyes\0yes-secret\0<1.2@host>\0", &["show"]);
    let want = format!(
        "ids 64001 64001 64001 64010\ncwd {r}/home/cpyes\nenv cpyes {r}/home/cpyes /bin/sh \
         192.0.2.7\ndovecot    \n"
    );
    o.expect(0, &want, "");
    let o = f.check(
        b"cpsha\0sha secret\0",
        &[&format!("{r}/bin/show"), "ignored-arg"],
        &[("USER", "intruder"), ("HOME", "/nowhere"), ("SHELL", "/x")],
        "",
    );
    let want = format!(
        "ids 64002 64002 64002 64010\ncwd {r}/home/cpsha\nenv cpsha {r}/home/cpsha /bin/sh \
         \ndovecot    \n"
    );
    o.expect(0, &want, "");
}

#[test]
#[ignore = "needs root"]
fn bad_locked_empty_unknown_and_oversized_are_1() {
    let f = Fixture::new("cp-refuse");
    let mut big = b"cpsha\0sha secret\0".to_vec();
    big.resize(600, b'x');
    for input in [
        &b"cpsha\0sha secreT\0"[..],
        b"cpsha\0\0",
        b"cpyes\0sha secret\0",
        b"cplocked\0pw\0",
        b"cplocked\0\0",
        b"cpempty\0\0",
        b"cpempty\0pw\0",
        b"rqmail-no-such-user\0pw\0",
        &big,
    ] {
        let o = f.login(input, &["show"]);
        let got = (o.code, o.stdout(), o.stderr());
        assert_eq!(
            got,
            (1, "".into(), "".into()),
            "{:?}",
            String::from_utf8_lossy(input)
        );
    }
    // An APOP digest of the greeting is not the password: refused as with djb's.
    f.login(
        b"cpsha\0d41d8cd98f00b204e9800998ecf8427e\0<1.2@h>\0",
        &["show"],
    )
    .expect(1, "", "");
}

#[test]
#[ignore = "needs root"]
fn missing_home_and_missing_program_are_temporary() {
    let f = Fixture::new("cp-temp");
    let err = "checkpassword: fatal: unable to chdir to the home directory: file does not exist\n";
    f.login(b"cpnohome\0pw\0", &["show"]).expect(111, "", err);
    let err = "checkpassword: fatal: unable to run rqmail-no-such-program: file does not exist\n";
    f.login(b"cpsha\0sha secret\0", &["rqmail-no-such-program"])
        .expect(111, "", err);
}

#[test]
#[ignore = "needs root"]
fn dovecot_mode_checks_the_password_but_changes_no_ids() {
    let f = Fixture::new("cp-dovecot");
    let r = &f.root;
    let env = [("CHECKPASSWORD_DOVECOT", "1"), ("EXTRA", "")];
    let o = f.check(b"cpsha\0sha secret\0", &["show"], &env, "");
    let ids = |o: &str| {
        let o = std::process::Command::new("id").arg(o).output().unwrap();
        String::from_utf8_lossy(&o.stdout).trim().to_string()
    };
    let mine = format!("{} {} {}", ids("-u"), ids("-g"), ids("-G"));
    let want = format!(
        "ids {mine}\ncwd /\nenv cpsha {r}/home/cpsha /bin/sh \ndovecot 64002 64002 \
         {r}/home/cpsha userdb_uid userdb_gid userdb_home\n"
    );
    o.expect(0, &want, "");
    f.check(b"cpsha\0wrong\0", &["show"], &env, "")
        .expect(1, "", "");
    f.check(b"rqmail-no-such-user\0x\0", &["show"], &env, "")
        .expect(3, "", "");
}

#[test]
#[ignore = "needs root"]
fn unreadable_shadow_and_missing_libcrypt_are_temporary() {
    let f = Fixture::new("cp-nolib");
    let runas = [(
        "RUNAS",
        "setpriv --reuid=65534 --regid=65534 --clear-groups --",
    )];
    let err = "checkpassword: fatal: unable to read the shadow password database: access denied\n";
    f.check(b"cpsha\0sha secret\0", &["show"], &runas, "")
        .expect(111, "", err);
    let hide = r#"lib=$(ldconfig -p | sed -n 's/.*libcrypt\.so\.1 .*=> //p' | head -n 1)
mount --bind /dev/null "$lib""#;
    let err = "checkpassword: fatal: unable to load libcrypt.so.1\n";
    f.check(b"cpsha\0sha secret\0", &["show"], &[], hide)
        .expect(111, "", err);
    // No password to check, no libcrypt needed.
    f.check(b"cpsha\0\0", &["true"], &[("AUTHORIZED", "1")], hide)
        .expect(0, "", "");
}

/// The whole POP3 chain as an operator runs it, as root: tcpserver, qmail-popup, this
/// checkpassword and qmail-pop3d, with poplib as the client, for a yescrypt user whose
/// Maildir holds a message; a wrong password first. (The empty line before the end is
/// qmail-pop3d's, kept for clients that lose the last line.)
#[test]
#[ignore = "needs root"]
fn poplib_logs_in_through_the_whole_chain_as_a_real_user() {
    let f = Fixture::new("cp-pop3");
    let md = format!("{}/home/cpyes/Maildir", f.root);
    for d in ["tmp", "new", "cur"] {
        std::fs::create_dir_all(format!("{md}/{d}")).unwrap();
    }
    let msg = "Subject: hi\n\n.dotted\nbody\n";
    std::fs::write(format!("{md}/new/1000000000.P1.host"), msg).unwrap();
    let own = run("chown")
        .args(["-R", "64001:64001", &format!("{}/home/cpyes", f.root)])
        .go();
    assert_eq!(own.code, 0, "{}", own.stderr());
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let client = format!(
        "import poplib, sys\n\
         p = poplib.POP3('127.0.0.1', {port}, timeout=20)\n\
         p.user('cpyes')\n\
         try:\n    p.pass_('wrong')\n    sys.exit('wrong password accepted')\n\
         except poplib.error_proto as e:\n    print(e)\n\
         p = poplib.POP3('127.0.0.1', {port}, timeout=20)\n\
         p.user('cpyes'); p.pass_('yes-secret')\n\
         print(p.stat()); print(b'\\n'.join(p.retr(1)[1]).decode()); p.dele(1); p.quit()\n"
    );
    let script = format!(
        r#"for f in passwd shadow group nsswitch.conf; do mount --bind "$T/etc/$f" "/etc/$f"; done
tcpserver -R -H -l0 127.0.0.1 {port} qmail-popup pop.test checkpassword qmail-pop3d Maildir 2>/dev/null &
n=0; until python3 -c 'import socket; socket.create_connection(("127.0.0.1", {port}))' 2>/dev/null; do
  n=$((n+1)); [ $n -gt 100 ] && exit 125; sleep 0.05; done
python3 -c "$1"; rc=$?; kill $!; exit $rc"#
    );
    let o = run("unshare")
        .args(["-m", "sh", "-c", &script, "sh", &client])
        .env("T", &f.root)
        .env("PATH", path_env())
        .cwd("/")
        .go();
    o.expect(
        0,
        "b'-ERR authorization failed'\n(1, 26)\nSubject: hi\n\n.dotted\nbody\n\n",
        "",
    );
    assert_eq!(std::fs::read_dir(format!("{md}/new")).unwrap().count(), 0);
    assert_eq!(std::fs::read_dir(format!("{md}/cur")).unwrap().count(), 0);
}
