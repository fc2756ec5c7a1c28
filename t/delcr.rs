//! delcr: CR LF becomes LF; a lone CR, a CR at the very end and the first CR of CR CR LF stay;
//! a CR LF split across two reads.
//! Not tested here: read/write errors.

use crate::common::run;

#[test]
fn table() {
    run("delcr")
        .stdin("a\r\nb\rc\r\r\nd\r")
        .go()
        .expect(0, "a\nb\rc\r\nd\r", "");
    run("delcr").stdin("\r").go().expect(0, "\r", "");
    run("delcr").stdin("\n\n").go().expect(0, "\n\n", "");
}

#[test]
fn cr_lf_across_a_read_boundary() {
    let mut input = "x".repeat(8191);
    input.push_str("\r\nz\r\n");
    let mut want = "x".repeat(8191);
    want.push_str("\nz\n");
    run("delcr").stdin(&input).go().expect(0, &want, "");
    run("sh")
        .args(["-c", "{ printf 'a\\r'; sleep 0.2; printf '\\nb'; } | delcr"])
        .go()
        .expect(0, "a\nb", "");
}
