//! tcprulescheck: its output and exit codes against Debian's tcprulescheck for cdbs made by
//! Debian's tcprules, and the IPv6/CIDR rules of our tcprules read back.
//!
//! Not tested here: a cdb that turns unreadable halfway (covered by lib/src/cdb.rs tests).

use crate::common::{run, TmpDir};
use crate::tcprules::{compile, INPUTS};

fn check(prog: &str, cdb: &std::path::Path, env: &[(&str, &str)]) -> crate::common::Out {
    let mut c = run(prog).arg(cdb);
    for (k, v) in env {
        c = c.env(k, v);
    }
    c.go()
}

#[test]
fn tcprulescheck_matches_debian() {
    let dir = TmpDir::new("tcprules-check");
    let peers: [&[(&str, &str)]; 8] = [
        &[("TCPREMOTEIP", "1.2.3.4")],
        &[("TCPREMOTEIP", "1.2.3.9")],
        &[("TCPREMOTEIP", "9.9.9.9")],
        &[("TCPREMOTEIP", "1.2.3.5"), ("TCPREMOTEINFO", "joe")],
        &[
            ("TCPREMOTEIP", "9.2.3.5"),
            ("TCPREMOTEINFO", "joe"),
            ("TCPREMOTEHOST", "h.example"),
        ],
        &[("TCPREMOTEIP", "9.2.3.5"), ("TCPREMOTEHOST", "x.foo.bar")],
        &[
            ("TCPREMOTEIP", "10.3.0.1"),
            ("TCPREMOTEHOST", "a.example.com"),
        ],
        &[],
    ];
    for input in INPUTS {
        let cdb = dir.join("c.cdb");
        compile("/usr/bin/tcprules", &dir, "c.cdb", input);
        for env in peers {
            let ours = check("tcprulescheck", &cdb, env);
            let theirs = check("/usr/bin/tcprulescheck", &cdb, env);
            assert_eq!(
                (ours.code, &ours.out, &ours.err),
                (theirs.code, &theirs.out, &theirs.err),
                "{input:?} {env:?}"
            );
        }
    }
    run("tcprulescheck")
        .go()
        .expect(100, "", "tcprulescheck: usage: tcprulescheck rules.cdb\n");
    let none = dir.join("none.cdb");
    check("tcprulescheck", &none, &[]).expect(
        111,
        "",
        &format!(
            "tcprulescheck: fatal: unable to read {}: file does not exist\n",
            none.display()
        ),
    );
}

#[test]
fn ipv6_and_cidr_rules() {
    let dir = TmpDir::new("tcprules-v6");
    compile(
        "tcprules",
        &dir,
        "v6.cdb",
        "2001:db8::1:deny\njoe@::1:allow,WHO=\"joe\"\n2001:db8::/32:allow,NET=\"doc\"\n\
         10.0.0.0/8:allow,NET=\"ten\"\n10.1.:allow,NET=\"dot\"\n:deny\n",
    );
    let cdb = dir.join("v6.cdb");
    let cases: [(&[(&str, &str)], &str); 6] = [
        (&[("TCPREMOTEIP", "2001:db8::1")], "rule 2001:0DB8:0000:0000:0000:0000:0000:0001:\ndeny connection\n"),
        (&[("TCPREMOTEIP", "2001:db8::2")], "rule 2001:db8::/32:\nset environment variable NET=doc\nallow connection\n"),
        (&[("TCPREMOTEIP", "::1"), ("TCPREMOTEINFO", "joe")], "rule joe@0000:0000:0000:0000:0000:0000:0000:0001:\nset environment variable WHO=joe\nallow connection\n"),
        (&[("TCPREMOTEIP", "10.9.8.7")], "rule 10.0.0.0/8:\nset environment variable NET=ten\nallow connection\n"),
        (&[("TCPREMOTEIP", "10.1.8.7")], "rule 10.1.:\nset environment variable NET=dot\nallow connection\n"),
        (&[("TCPREMOTEIP", "2001:db9::1")], "rule :\ndeny connection\n"),
    ];
    for (env, want) in cases {
        check("tcprulescheck", &cdb, env).expect(0, want, "");
    }
}
