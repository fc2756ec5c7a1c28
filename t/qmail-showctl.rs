//! qmail-showctl on a known control set: the compiled-in settings and ids, each control
//! file's paragraph (defaults, `me` as the default of host names, values, lists without
//! comments, an unreadable file), the morercpthosts/morercpthosts.cdb check before and after
//! qmail-newmrh, and an unknown file.
//! Not tested here: the `Oops! Unable to chdir` lines (the compiled-in home always exists
//! in the tests).

use crate::common::{home, home_lock, install_tree, run};
use qlib::conf::{self, Group, User};

fn head() -> String {
    let u = |x| conf::uid(x).unwrap().to_string();
    let g = |x| conf::gid(x).unwrap().to_string();
    let users = [
        User::Alias,
        User::Qmaild,
        User::Qmaill,
        User::Root,
        User::Qmailp,
        User::Qmailq,
        User::Qmailr,
        User::Qmails,
    ]
    .map(u)
    .join(", ");
    format!(
        "qmail home directory: {}.\nuser-ext delimiter: {}.\npaternalism (in decimal): {}.\n\
         silent concurrency limit: {}.\nsubdirectory split: {}.\nuser ids: {users}.\n\
         group ids: {}, {}.\n",
        conf::HOME,
        conf::break_char() as char,
        conf::patrn(),
        conf::spawn(),
        conf::split(),
        g(Group::Nofiles),
        g(Group::Qmail)
    )
}

const BEFORE: &str = "
badmailfrom: 
spam@example.com not accepted in MAIL FROM.
@bad.example not accepted in MAIL FROM.

bouncefrom: (Default.) Bounce user name is MAILER-DAEMON.

bouncehost: (Default.) Bounce host name is test.example.

concurrencylocal: Local concurrency is 0.

concurrencyremote: (Default.) Remote concurrency is 20.

databytes: SMTP DATA limit is 1000000 bytes.

defaultdomain: (Default.) Default domain name is test.example.

defaulthost: Default host name is other.example.

doublebouncehost: (Default.) 2B recipient host: test.example.

doublebounceto: (Default.) 2B recipient user: postmaster.

envnoathost: (Default.) Presumed domain name is test.example.

helohost: (Default.) SMTP client HELO host name is test.example.

idhost: (Default.) Message-ID host name is test.example.

localiphost: (Default.) Local IP address becomes test.example.

locals: 
Messages for test.example are delivered locally.
Messages for localhost are delivered locally.

me: My name is test.example.

percenthack: (Default.) The percent hack is not allowed.

plusdomain: (Default.) Plus domain name is test.example.

qmqpservers: (Default.) No QMQP servers.

queuelifetime: (Default.) Message lifetime in the queue is 604800 seconds.

rcpthosts: 
SMTP clients may send messages to recipients at test.example.

morercpthosts: 
SMTP clients may send messages to recipients at more.example.

morercpthosts.cdb: ";

const AFTER: &str = "
smtpgreeting: (Default.) SMTP greeting: 220 test.example.

smtproutes: Oops! Trouble reading this file.

timeoutconnect: (Default.) SMTP client connection timeout is 60 seconds.

timeoutremote: SMTP client data timeout is 30 seconds.

timeoutsmtpd: (Default.) SMTP server data timeout is 1200 seconds.

virtualdomains: 
Virtual domain: virt.example:joe

frobnicate: I have no idea what this file does.
";

#[test]
fn explains_a_known_control_set() {
    let _l = home_lock();
    install_tree(&home());
    let c = home().join("control");
    for (name, text) in [
        ("me", "test.example\n"),
        ("locals", "test.example\n\nlocalhost  \n"),
        ("concurrencylocal", "0\n"),
        ("databytes", "1000000 bytes\n"),
        ("defaulthost", "other.example\t\nignored\n"),
        ("badmailfrom", "# nobody\nspam@example.com\n@bad.example\n"),
        ("rcpthosts", "test.example\n"),
        ("morercpthosts", "more.example\n"),
        ("timeoutremote", "30\n"),
        ("queuelifetime", "forever\n"),
        ("virtualdomains", "virt.example:joe\n"),
        ("frobnicate", "what?\n"),
    ] {
        std::fs::write(c.join(name), text).unwrap();
    }
    std::fs::create_dir(c.join("smtproutes")).unwrap();
    let missing = "Oops! morercpthosts exists but morercpthosts.cdb doesn't.\n";
    run("qmail-showctl")
        .go()
        .expect(0, &format!("{}{BEFORE}{missing}{AFTER}", head()), "");
    run("qmail-newmrh").go().expect(0, "", "");
    let fine = "Modified recently enough; hopefully up to date.\n";
    run("qmail-showctl")
        .go()
        .expect(0, &format!("{}{BEFORE}{fine}{AFTER}", head()), "");
    run("qmail-showctl")
        .arg("-v")
        .go()
        .expect(100, "", "qmail-showctl: usage: qmail-showctl\n");
}

#[test]
fn defaults_without_me() {
    let _l = home_lock();
    install_tree(&home());
    let o = run("qmail-showctl").go();
    assert_eq!(o.code, 0, "{}", o.stderr());
    let out = o.stdout();
    for line in [
        "\nbouncehost: (Default.) Bounce host name is bouncehost.\n",
        "\nlocals: (Default.) Messages for me are delivered locally.\n",
        "\nme: (Default.) My name is undefined! Uh-oh.\n",
        "\nrcpthosts: (Default.) SMTP clients may send messages to any recipient.\n",
        "\nmorercpthosts: (Default.) No rcpthosts; morercpthosts is irrelevant.\n",
        "\nmorercpthosts.cdb: (Default.) No effect.\n",
        "\nvirtualdomains: (Default.) No virtual domains.\n",
    ] {
        assert!(out.contains(line), "{line:?} in\n{out}");
    }
    assert!(!out.contains("I have no idea"), "{out}");
}
