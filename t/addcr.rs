//! addcr: every LF becomes CR LF, including after an existing CR; a last partial line gets
//! nothing; input larger than one read.
//! Not tested here: read/write errors.

use crate::common::run;

#[test]
fn table() {
    run("addcr")
        .stdin("a\nb\r\n\nc")
        .go()
        .expect(0, "a\r\nb\r\r\n\r\nc", "");
    run("addcr").go().expect(0, "", "");
    let big = "y\n".repeat(10000);
    run("addcr")
        .stdin(&big)
        .go()
        .expect(0, &"y\r\n".repeat(10000), "");
}
