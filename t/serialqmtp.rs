//! serialqmtp: serialmail's rts cases byte for byte — fd 6 a file of server responses, fd 7
//! a file catching the packages — for the package bytes (prefix stripped, envelope lines
//! left out), K/Z/D results, TCPREMOTEIP, unprintable text, several messages, a server that
//! hangs up, responses that are not QMTP, files that cannot be opened, usage.
//! Not tested here: the 73 s write timeout and the hour's read timeout (that long); sending
//! to our qmail-qmtpd (t/maildirqmtp.rs does, through maildirqmtp).

use crate::common::{run, TmpDir};
use crate::serialsmtp::{client, rts_files};

const PKG1: &str = "17:\nThis is a test.\n,6:Sender,11:8:Whatever,,";
const PKG2: &str = "17:\nThis is a test.\n,0:,16:12:You@Virt.Dom,,";

#[test]
fn serialmails_rts_transcripts() {
    let t = TmpDir::new("serialqmtp-rts");
    rts_files(&t);
    let qmtp = |files: &str, server: &[u8]| client(&t, "serialqmtp", "Account-", files, server);
    let (one, two) = ("dir/new/10000x", "dir/new/10000xdir/new/20000x");
    let (o, c) = client(&t, "serialqmtp", "Wrong-", one, b"");
    o.expect(0, "", "");
    assert_eq!(c, "");
    let (o, c) = qmtp(one, b"");
    o.expect(
        111,
        "",
        "serialqmtp: fatal: network read error: end of file\n",
    );
    assert_eq!(c, PKG1);
    let cases: [(&[u8], &str); 4] = [
        (b"7:Kthanks,", "Kthanks"),
        (b"7:K\nh\0n\xffs,", "K?h?n?s"),
        (b"18:Ztemporary failure,", "Ztemporary failure"),
        (b"18:Dpermanent failure,", "Dpermanent failure"),
    ];
    for (server, result) in cases {
        let (o, c) = qmtp(one, server);
        o.expect(0, &format!("dir/new/10000^@{result}\n"), "");
        assert_eq!(c, PKG1);
    }
    let (o, c) = qmtp(two, b"7:Kthanks,13:Kthanks again,");
    o.expect(
        0,
        "dir/new/10000^@Kthanks\ndir/new/20000^@Kthanks again\n",
        "",
    );
    assert_eq!(c, format!("{PKG1}{PKG2}"));
    let (o, _) = qmtp(two, b"7:Kthanks,");
    let eof = "serialqmtp: fatal: network read error: end of file\n";
    o.expect(111, "dir/new/10000^@Kthanks\n", eof);
    t.write("server", b"18:Ztemporary failure,7:Kthanks,");
    let sh = format!("printf '{two}' | tr x '\\0' | serialqmtp Account- 7>client 6<server");
    let o = run("sh")
        .arg("-c")
        .arg(format!("{sh} | tr '\\0' '|'"))
        .env("TCPREMOTEIP", "1.2.3.4")
        .cwd(&t.0)
        .go();
    o.expect(
        0,
        "dir/new/10000|Z1.2.3.4 said: temporary failure\ndir/new/20000|K1.2.3.4 said: thanks\n",
        "",
    );
    let proto = "serialqmtp: fatal: remote protocol violation\n";
    for bad in [&b"7:Xthanks,"[..], b"0:,", b"7:Kthanks;", b"hello"] {
        let (o, _) = qmtp(one, bad);
        assert_eq!((o.code, o.stderr()), (111, proto.to_string()), "{bad:?}");
    }
    let (o, _) = qmtp("dir/new/nonexistentx", b"7:Kthanks,");
    o.expect(111, "", "serialqmtp: fatal: unable to open file\n");
    // a partial last line is no problem for QMTP
    let (o, c) = qmtp("dir/new/30000x", b"2:Kk,");
    o.expect(0, "dir/new/30000^@Kk\n", "");
    assert_eq!(
        c,
        "38:\n. one dot\n.. two dots\nThis is a test.,24:needs quoting!@the..host,\
         26:22:more..quoting@Virt.Dom,,"
    );
    run("serialqmtp")
        .go()
        .expect(100, "", "serialqmtp: usage: serialqmtp prefix\n");
}
