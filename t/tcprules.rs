//! tcprules: the cdb bytes against Debian's tcprules (ucspi-tcp 0.88) for the same
//! djb-format input, and the errors and exit codes. (The IPv6/CIDR keys are read back in
//! t/tcprulescheck.rs.)
//!
//! Not tested here: write errors on a full disk (`unable to write to`), out of memory.

use crate::common::{run, TmpDir};

pub(crate) const INPUTS: [&str; 5] = [
    "1.2.3.4:deny\n1.2.3.:allow,A=\"x\",B=/y/\n=foo.bar:allow,C=\"z\"\n:allow,D=\"\"\n",
    "# comment:deny\n\njoe@1.2.3.5:deny,E=\"e\"\njoe@=h.example:allow\n10.2-3.:deny\n1.2.3.4-6:allow\n",
    "  #x:deny\nno colon line\na,b:allow,X=,a,\t \n=.example.com:allow,RELAYCLIENT=\"\"\n=:deny",
    "1.2.3.0-255:deny\n1.2.3.-5:deny\n1.2.3.4-:deny\n1.2.3.5-4:deny\n127.:allow,X=\x01\u{7f}\x01\n",
    "127.0.0.1:allow,RELAYCLIENT=\"\"\n127.0.0.1:deny\n1.2.3.254-300:allow,A=\"1\",A=\"2\"\n",
];

pub(crate) fn compile(prog: &str, dir: &TmpDir, name: &str, input: &str) -> Vec<u8> {
    let cdb = dir.join(name);
    run(prog)
        .arg(&cdb)
        .arg(dir.join("x.tmp"))
        .stdin(input)
        .go()
        .expect(0, "", "");
    std::fs::read(cdb).unwrap()
}

#[test]
fn same_bytes_as_debian_tcprules() {
    let dir = TmpDir::new("tcprules-same");
    let mut big = String::new();
    for i in 0..2500u32 {
        big += &format!("10.{}.{}.{}:deny,N=\"{i}\"\n", i % 7, i % 251, i % 13);
    }
    for input in INPUTS.iter().copied().chain([big.as_str(), ""]) {
        let ours = compile("tcprules", &dir, "ours.cdb", input);
        let theirs = compile("/usr/bin/tcprules", &dir, "theirs.cdb", input);
        assert!(ours == theirs, "cdb differs for {input:?}");
    }
    assert!(!dir.join("x.tmp").exists());
}

#[test]
fn errors_leave_the_old_cdb() {
    let dir = TmpDir::new("tcprules-err");
    let cdb = dir.join("r.cdb");
    let old = compile("tcprules", &dir, "r.cdb", "1.2.3.4:deny\n");
    for bad in [
        "a:allox  \n",
        "a:allow,X\n",
        "a:allow,=Y\"z\"\n",
        "a:allow\r\n",
        "1.2.3.x-5:deny\n",
    ] {
        let line = bad.trim_end_matches(['\n', ' ']);
        run("tcprules")
            .arg(&cdb)
            .arg(dir.join("r.tmp"))
            .stdin(format!("1.2.3.5:allow\n{bad}"))
            .go()
            .expect(
                100,
                "",
                &format!("tcprules: fatal: unable to parse this line: {line}\n"),
            );
        assert_eq!(std::fs::read(&cdb).unwrap(), old);
        assert!(!dir.join("r.tmp").exists());
    }
    run("tcprules").arg(&cdb).go().expect(
        100,
        "",
        "tcprules: usage: tcprules rules.cdb rules.tmp\n",
    );
    run("tcprules")
        .arg(&cdb)
        .arg(dir.join("no/r.tmp"))
        .stdin("x:allow\n")
        .go()
        .expect(
            111,
            "",
            &format!(
                "tcprules: fatal: unable to create {}/no/r.tmp: file does not exist\n",
                dir.0.display()
            ),
        );
    run("tcprules")
        .arg(dir.join("no/r.cdb"))
        .arg(dir.join("r.tmp"))
        .stdin("x:allow\n")
        .go()
        .expect(
            111,
            "",
            &format!(
                "tcprules: fatal: unable to move {d}/r.tmp to {d}/no/r.cdb: file does not exist\n",
                d = dir.0.display()
            ),
        );
    assert_eq!(std::fs::read(&cdb).unwrap(), old);
}
