//! recordio: the transcript on fd 2 byte for byte (pid of the program, ` \n` after each LF,
//! `+\n` after a piece without one, 256-byte reads, `[EOF]` both ways), data passed unchanged,
//! the program's exit code, usage and exec failure.
//! Not tested here: the order of `<` against `>` lines (it depends on scheduling; each
//! direction's own order is checked).

use crate::common::run;

fn direction(err: &[u8], pid: &str, dir: &str) -> Vec<u8> {
    let prefix = format!("{pid} {dir} ");
    let mut out = Vec::new();
    for line in err.split_inclusive(|&b| b == b'\n') {
        if line.starts_with(prefix.as_bytes()) {
            out.extend_from_slice(line);
        }
    }
    out
}

#[test]
fn transcript_is_byte_exact() {
    let o = run("recordio")
        .args([
            "sh",
            "-c",
            "read a; printf 'got %s\\n%s' \"$a\" $$; cat >/dev/null; exit 4",
        ])
        .stdin("HELO x\r\nQUIT\r\n")
        .go();
    assert_eq!(o.code, 4);
    let out = o.stdout();
    let pid = out.rsplit('\n').next().expect("pid").to_string();
    assert_eq!(out, format!("got HELO x\r\n{pid}"));
    assert_eq!(
        direction(&o.err, &pid, "<"),
        format!("{pid} < HELO x\r \n{pid} < QUIT\r \n{pid} < [EOF]\n").as_bytes()
    );
    assert_eq!(
        direction(&o.err, &pid, ">"),
        format!("{pid} > got HELO x\r \n{pid} > {pid}+\n{pid} > [EOF]\n").as_bytes()
    );
    assert_eq!(o.err.iter().filter(|&&b| b == b'\n').count(), 6);
}

#[test]
fn reads_of_at_most_256_bytes() {
    let input = "x".repeat(600);
    let o = run("recordio").args(["cat"]).stdin(&input).go();
    assert_eq!((o.code, o.stdout()), (0, input));
    let pid = o.stderr().split(' ').next().expect("pid").to_string();
    let want_in = format!(
        "{pid} < {}+\n{pid} < {}+\n{pid} < {}+\n{pid} < [EOF]\n",
        "x".repeat(256),
        "x".repeat(256),
        "x".repeat(88)
    );
    assert_eq!(direction(&o.err, &pid, "<"), want_in.as_bytes());
    let out = direction(&o.err, &pid, ">");
    assert!(out.ends_with(format!("{pid} > [EOF]\n").as_bytes()));
}

#[test]
fn usage_and_exec_failure() {
    run("recordio")
        .go()
        .expect(100, "", "recordio: usage: recordio program [ arg ... ]\n");
    let o = run("recordio").arg("/nonexistent").go();
    assert_eq!(o.code, 111);
    assert!(o
        .stderr()
        .contains("recordio: fatal: unable to run /nonexistent: file does not exist\n"));
}
