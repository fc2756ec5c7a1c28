//! fixcrio: inserts CR before bare LFs in both directions, keeps CR LF and lone CRs, passes
//! the program's exit code; usage.
//! Not tested here: chunk boundaries inside one process (unit-tested in lib/src/crlf.rs).

use crate::common::{run, TmpDir};

#[test]
fn both_directions() {
    let t = TmpDir::new("fixcrio");
    let f = t.join("in");
    let prog = format!("cat > '{}'; printf 'x\\ny\\r\\nz\\r'; exit 5", f.display());
    run("fixcrio")
        .args(["sh", "-c", &prog])
        .stdin("a\nb\r\nc\r\r\n\n")
        .go()
        .expect(5, "x\r\ny\r\nz\r", "");
    assert_eq!(std::fs::read(&f).unwrap(), b"a\r\nb\r\nc\r\r\n\r\n");
}

#[test]
fn usage() {
    run("fixcrio")
        .go()
        .expect(100, "", "fixcrio: usage: fixcrio program [ arg ... ]\n");
}
