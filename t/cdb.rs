//! cdbmake, cdbget, cdbdump, cdbstats, cdbtest: the byte format of the spec's worked example,
//! round trips with binary keys and data, duplicates and `cdbget key skip`, 100,000 records,
//! bad input to cdbmake (old file kept, no ftmp left), damaged files to the readers, and
//! interoperation with Debian's tinycdb (`/usr/bin/cdb`) in both directions.
//! Not tested here: write errors (a full disk, EIO on fsync) — they need a special filesystem;
//! files near the 4 GB limit — too big for a test; cdbstats' `>9` row with real counts — it
//! needs a contrived hash collision chain, and the probe counting is unit-tested in lib/src/cdb.rs.

use crate::common::{run, Cmd, Out, TmpDir};
use std::ffi::OsStr;
use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};

/// `prog args < file`
fn with_file(mut c: Cmd, file: &Path) -> Out {
    c.raw()
        .stdin(std::fs::File::open(file).expect("open stdin file"));
    c.go()
}

/// cdbmake `text` into `dir/name`; asserts success.
fn make(t: &TmpDir, name: &str, text: &[u8]) -> PathBuf {
    let f = t.join(name);
    run("cdbmake")
        .arg(&f)
        .arg(t.join(&format!("{name}.tmp")))
        .stdin(text)
        .go()
        .expect(0, "", "");
    f
}

/// One record in cdbmake format.
fn rec(k: &[u8], d: &[u8]) -> Vec<u8> {
    let mut v = format!("+{},{}:", k.len(), d.len()).into_bytes();
    v.extend_from_slice(k);
    v.extend_from_slice(b"->");
    v.extend_from_slice(d);
    v.push(b'\n');
    v
}

fn text(recs: &[(&[u8], &[u8])]) -> Vec<u8> {
    let mut v: Vec<u8> = recs.iter().flat_map(|(k, d)| rec(k, d)).collect();
    v.push(b'\n');
    v
}

fn get(f: &Path, key: &[u8], skip: Option<&str>) -> Out {
    let mut c = run("cdbget").arg(OsStr::from_bytes(key));
    if let Some(s) = skip {
        c = c.arg(s);
    }
    with_file(c, f)
}

fn stats(records: u64, d0: u64, d1: u64) -> String {
    let mut s = format!("records {records:>10}\nd0      {d0:>10}\nd1      {d1:>10}\n");
    for i in 2..10 {
        s.push_str(&format!("d{i}      {:>10}\n", 0));
    }
    s + ">9               0\n"
}

fn tinycdb() -> &'static str {
    let p = "/usr/bin/cdb";
    assert!(
        Path::new(p).exists(),
        "{p} is missing: install Debian's tinycdb (apt-get install tinycdb) to run the interop tests"
    );
    p
}

#[test]
fn worked_example_byte_for_byte() {
    let t = TmpDir::new("cdb-example");
    let f = make(&t, "ex.cdb", b"+3,5:one->Hello\n+3,7:two->Goodbye\n\n");
    let mut want = Vec::new();
    for i in 0..256u32 {
        let (pos, n) = match i {
            0..=40 => (2082u32, 0u32),
            41 => (2082, 2),
            42..=128 => (2098, 0),
            129 => (2098, 2),
            _ => (2114, 0),
        };
        want.extend_from_slice(&pos.to_le_bytes());
        want.extend_from_slice(&n.to_le_bytes());
    }
    want.extend_from_slice(b"\x03\0\0\0\x05\0\0\0oneHello\x03\0\0\0\x07\0\0\0twoGoodbye");
    want.extend_from_slice(b"\x29\x60\x87\x0b\x10\x08\0\0\0\0\0\0\0\0\0\0");
    want.extend_from_slice(b"\0\0\0\0\0\0\0\0\x81\x5b\x87\x0b\x00\x08\0\0");
    assert_eq!(std::fs::read(&f).expect("read"), want);
    assert_eq!(crate::common::ls(&t.0), ["ex.cdb"]);
    get(&f, b"one", None).expect(0, "Hello", "");
    get(&f, b"two", None).expect(0, "Goodbye", "");
    get(&f, b"three", None).expect(100, "", "");
    get(&f, b"one", Some("1")).expect(100, "", "");
    with_file(run("cdbdump"), &f).expect(0, "+3,5:one->Hello\n+3,7:two->Goodbye\n\n", "");
    with_file(run("cdbstats"), &f).expect(0, &stats(2, 2, 0), "");
    with_file(run("cdbtest"), &f).expect(
        0,
        "found: 2\ndifferent record: 0\nbad length: 0\nnot found: 0\nuntested: 0\n",
        "",
    );
}

#[test]
fn binary_keys_data_and_duplicates() {
    let t = TmpDir::new("cdb-binary");
    let recs: &[(&[u8], &[u8])] = &[
        (b"nul\0key", b"data\0with\0nuls"),
        (b"line\nbreak", b"two\nlines\n"),
        (b"\xff\xfe", b"\xff"),
        (b"", b"empty key"),
        (b"empty data", b""),
        (b"dup", b"first"),
        (b"+3,5:x->", b"->:,+\n\n"),
        (b"dup", b"second"),
        (b"dup", b""),
        (b"dup", b"fourth"),
    ];
    let input = text(recs);
    let f = make(&t, "bin.cdb", &input);
    let dump = with_file(run("cdbdump"), &f);
    assert_eq!(
        (dump.code, &dump.out[..], &dump.err[..]),
        (0, &input[..], &b""[..])
    );
    let o = get(&f, b"line\nbreak", None);
    assert_eq!((o.code, &o.out[..]), (0, &b"two\nlines\n"[..]));
    let o = get(&f, b"\xff\xfe", None);
    assert_eq!((o.code, &o.out[..]), (0, &b"\xff"[..]));
    get(&f, b"", None).expect(0, "empty key", "");
    get(&f, b"empty data", None).expect(0, "", "");
    get(&f, b"+3,5:x->", None).expect(0, "->:,+\n\n", "");
    get(&f, b"nul", None).expect(100, "", "");
    get(&f, b"dup", None).expect(0, "first", "");
    get(&f, b"dup", Some("0")).expect(0, "first", "");
    get(&f, b"dup", Some("1")).expect(0, "second", "");
    get(&f, b"dup", Some("2")).expect(0, "", "");
    get(&f, b"dup", Some("3")).expect(0, "fourth", "");
    get(&f, b"dup", Some("4")).expect(100, "", "");
    get(&f, b"dup", Some("x")).expect(0, "first", "");
    with_file(run("cdbtest"), &f).expect(
        0,
        "found: 7\ndifferent record: 3\nbad length: 0\nnot found: 0\nuntested: 0\n",
        "",
    );
    let s = with_file(run("cdbstats"), &f);
    assert_eq!(s.code, 0);
    assert!(
        s.stdout().starts_with("records         10\n"),
        "{}",
        s.stdout()
    );
    // the three later "dup" records sit at least 1, 2 and 3 probes beyond the first
    assert!(
        !s.stdout().contains("d0              10\n"),
        "{}",
        s.stdout()
    );
}

#[test]
fn empty_database() {
    let t = TmpDir::new("cdb-empty");
    let f = make(&t, "e.cdb", b"\n");
    assert_eq!(std::fs::metadata(&f).expect("stat").len(), 2048);
    with_file(run("cdbdump"), &f).expect(0, "\n", "");
    get(&f, b"", None).expect(100, "", "");
    with_file(run("cdbstats"), &f).expect(0, &stats(0, 0, 0), "");
}

#[test]
fn a_hundred_thousand_records() {
    let t = TmpDir::new("cdb-100k");
    let mut input = Vec::new();
    for i in 0..100_000u32 {
        input.extend(rec(
            format!("key{i}").as_bytes(),
            format!("value {} {}", i * 7, "x".repeat((i % 13) as usize)).as_bytes(),
        ));
    }
    input.push(b'\n');
    let f = make(&t, "big.cdb", &input);
    let dump = with_file(run("cdbdump"), &f);
    assert_eq!(dump.code, 0);
    assert!(
        dump.out == input,
        "cdbdump output differs from cdbmake input"
    );
    get(&f, b"key0", None).expect(0, "value 0 ", "");
    get(&f, b"key99999", None).expect(0, "value 699993 xxx", "");
    get(&f, b"key100000", None).expect(100, "", "");
    with_file(run("cdbtest"), &f).expect(
        0,
        "found: 100000\ndifferent record: 0\nbad length: 0\nnot found: 0\nuntested: 0\n",
        "",
    );
    let s = with_file(run("cdbstats"), &f).stdout();
    let counts: Vec<u64> = s
        .lines()
        .map(|l| l[8..].trim().parse().expect("count"))
        .collect();
    assert_eq!(counts.len(), 12, "{s}");
    assert_eq!(counts[0], 100_000, "{s}");
    assert_eq!(counts[1..].iter().sum::<u64>(), 100_000, "{s}");
    assert!(counts[1] > counts[2], "{s}");
}

#[test]
fn bad_input_keeps_the_old_file_and_leaves_no_ftmp() {
    let t = TmpDir::new("cdb-bad");
    let f = make(&t, "f.cdb", b"+3,3:old->old\n\n");
    let before = std::fs::read(&f).expect("read");
    let bad = "cdbmake: fatal: unable to read input: bad format\n";
    for (input, err) in [
        (&b"+3,5:one->Hello\n"[..], bad),
        (b"+3,5:one->Hel", bad),
        (b"+3,5:on", bad),
        (b"+3,5", bad),
        (b"+3,5:one-Hello\n\n", bad),
        (b"+3,5:one=>Hello\n\n", bad),
        (b"+3,5:one->Hello!\n\n", bad),
        (b"+3,5:one->Hell\n\n", bad),
        (b"+3;5:one->Hello\n\n", bad),
        (b"+-3,5:one->Hello\n\n", bad),
        (b"+3,x:one->Hello\n\n", bad),
        (b"3,5:one->Hello\n\n", bad),
        (b"+3,5:one->Hello\n\x00", bad),
        (b"garbage\n", bad),
        (b"\n\n", ""),
        (
            b"+99999999999,1:x->y\n\n",
            "cdbmake: fatal: unable to read input: length too big\n",
        ),
    ] {
        let o = run("cdbmake")
            .arg(&f)
            .arg(t.join("f.tmp"))
            .stdin(input)
            .go();
        if err.is_empty() {
            // trailing bytes after the final empty line are not read
            o.expect(0, "", "");
            make(&t, "f.cdb", b"+3,3:old->old\n\n");
        } else {
            o.expect(111, "", err);
        }
        assert_eq!(std::fs::read(&f).expect("read"), before, "{input:?}");
        assert_eq!(crate::common::ls(&t.0), ["f.cdb"], "{input:?}");
    }
    // no input at all
    let mut c = run("cdbmake").arg(&f).arg(t.join("f.tmp"));
    c.raw().stdin(std::process::Stdio::null());
    c.go().expect(111, "", bad);
    assert_eq!(std::fs::read(&f).expect("read"), before);
    assert_eq!(crate::common::ls(&t.0), ["f.cdb"]);
}

#[test]
fn cdbmake_cannot_create_or_rename() {
    let t = TmpDir::new("cdb-fs");
    let tmp = t.join("no/such/dir/f.tmp");
    run("cdbmake")
        .arg(t.join("f.cdb"))
        .arg(&tmp)
        .stdin(b"\n")
        .go()
        .expect(
            111,
            "",
            &format!(
                "cdbmake: fatal: unable to create {}: file does not exist\n",
                tmp.display()
            ),
        );
    // the target is a non-empty directory: rename fails, ftmp is removed
    t.write("d.cdb/keep", b"x");
    run("cdbmake")
        .arg(t.join("d.cdb"))
        .arg(t.join("d.tmp"))
        .stdin(b"+1,1:a->b\n\n")
        .go()
        .expect(
            111,
            "",
            &format!(
                "cdbmake: fatal: unable to rename {} to {}: is a directory\n",
                t.join("d.tmp").display(),
                t.join("d.cdb").display()
            ),
        );
    assert_eq!(crate::common::ls(&t.0), ["d.cdb"]);
}

#[test]
fn damaged_files_to_the_readers() {
    let t = TmpDir::new("cdb-damaged");
    let good = std::fs::read(make(
        &t,
        "g.cdb",
        &text(&[(b"one", b"Hello"), (b"two", b"Bye")]),
    ))
    .expect("read");
    let short = t.write("short.cdb", &good[..1000]);
    get(&short, b"one", None).expect(
        111,
        "",
        "cdbget: fatal: unable to read input: format error\n",
    );
    let trunc = "fatal: unable to read input: truncated file\n";
    for prog in ["cdbdump", "cdbstats", "cdbtest"] {
        with_file(run(prog), &short).expect(111, "", &format!("{prog}: {trunc}"));
    }
    // header intact, records cut off: cdbdump prints what it read, then fails
    let cut = t.write("cut.cdb", &good[..2060]);
    with_file(run("cdbdump"), &cut).expect(111, "+3,5:one->", &format!("cdbdump: {trunc}"));
    get(&cut, b"one", None).expect(
        111,
        "",
        "cdbget: fatal: unable to read input: format error\n",
    );
    // a slot pointing past the end of the file ("one": table 129, slot 1)
    let mut slot = good.clone();
    let table = u32::from_le_bytes(good[129 * 8..129 * 8 + 4].try_into().expect("4")) as usize;
    slot[table + 12..table + 16].copy_from_slice(&0x7fff_0000u32.to_le_bytes());
    let slot = t.write("slot.cdb", &slot);
    let fmt = "fatal: unable to read input: format error\n";
    get(&slot, b"one", None).expect(111, "", &format!("cdbget: {fmt}"));
    get(&slot, b"two", None).expect(0, "Bye", "");
    with_file(run("cdbtest"), &slot).expect(111, "", &format!("cdbtest: {fmt}"));
    with_file(run("cdbstats"), &slot).expect(111, "", &format!("cdbstats: {fmt}"));
    // a record no lookup reaches (its slot emptied)
    let mut lost = good.clone();
    lost[table + 8..table + 16].copy_from_slice(&[0; 8]);
    let lost = t.write("lost.cdb", &lost);
    get(&lost, b"one", None).expect(100, "", "");
    with_file(run("cdbtest"), &lost).expect(
        0,
        "found: 1\ndifferent record: 0\nbad length: 0\nnot found: 1\nuntested: 0\n",
        "",
    );
    with_file(run("cdbstats"), &lost).expect(111, "", &format!("cdbstats: {trunc}"));
    with_file(run("cdbdump"), &lost).expect(0, "+3,5:one->Hello\n+3,3:two->Bye\n\n", "");
    // a record whose length runs past the end of the file
    let mut long = good.clone();
    long[2052..2056].copy_from_slice(&u32::MAX.to_le_bytes());
    let long = t.write("long.cdb", &long);
    get(&long, b"one", None).expect(111, "", &format!("cdbget: {fmt}"));
    get(&long, b"two", None).expect(0, "Bye", "");
    with_file(run("cdbdump"), &long).expect(
        111,
        "+3,4294967295:one->",
        &format!("cdbdump: {trunc}"),
    );
    for prog in ["cdbstats", "cdbtest"] {
        with_file(run(prog), &long).expect(111, "", &format!("{prog}: {trunc}"));
    }
    // garbage that is not a cdb at all
    let junk = t.write("junk.cdb", &vec![0xa5u8; 4096]);
    get(&junk, b"one", None).expect(
        111,
        "",
        "cdbget: fatal: unable to read input: format error\n",
    );
    // a pipe on standard input cannot be a cdb for cdbget
    run("cdbget").arg("one").stdin(&good).go().expect(
        111,
        "",
        "cdbget: fatal: unable to read input: unseekable descriptor\n",
    );
    // cdbdump reads a stream, so a pipe is fine
    run("cdbdump")
        .stdin(&good)
        .go()
        .expect(0, "+3,5:one->Hello\n+3,3:two->Bye\n\n", "");
}

#[test]
fn usage() {
    for args in [&[][..], &["f"][..], &["f", "t", "x"][..]] {
        run("cdbmake")
            .args(args)
            .go()
            .expect(100, "", "cdbmake: usage: cdbmake f ftmp\n");
    }
    run("cdbget")
        .go()
        .expect(100, "", "cdbget: usage: cdbget key [skip]\n");
    for prog in ["cdbdump", "cdbstats", "cdbtest"] {
        run(prog)
            .arg("x")
            .go()
            .expect(100, "", &format!("{prog}: usage: {prog}\n"));
    }
}

#[test]
fn interop_our_files_read_by_tinycdb() {
    let cdb = tinycdb();
    let t = TmpDir::new("cdb-interop1");
    let recs: &[(&[u8], &[u8])] = &[
        (b"one", b"Hello"),
        (b"bin\xff\0", b"\0\n\xff"),
        (b"", b"empty"),
        (b"dup", b"1"),
        (b"dup", b"22"),
        (b"nodata", b""),
    ];
    let input = text(recs);
    let f = make(&t, "ours.cdb", &input);
    let d = run(cdb).arg("-d").arg(&f).go();
    assert_eq!((d.code, &d.out[..]), (0, &input[..]), "{}", d.stderr());
    run(cdb)
        .args(["-q"])
        .arg(&f)
        .arg("one")
        .go()
        .expect(0, "Hello", "");
    run(cdb)
        .args(["-q", "-n", "2"])
        .arg(&f)
        .arg("dup")
        .go()
        .expect(0, "22", "");
    run(cdb)
        .args(["-q"])
        .arg(&f)
        .arg("")
        .go()
        .expect(0, "empty", "");
    let q = run(cdb)
        .arg("-q")
        .arg(&f)
        .arg(OsStr::from_bytes(b"bin\xff"))
        .go();
    assert_eq!((q.code, &q.out[..]), (100, &b""[..]));
    // tinycdb writes the same bytes from the same input
    let theirs = t.join("theirs.cdb");
    let mut c = run(cdb)
        .args(["-c", "-t"])
        .arg(t.join("theirs.tmp"))
        .arg(&theirs);
    c.raw()
        .stdin(std::fs::File::open(t.write("in.txt", &input)).expect("open"));
    c.go().expect(0, "", "");
    assert!(
        std::fs::read(&theirs).expect("read") == std::fs::read(&f).expect("read"),
        "tinycdb -c and cdbmake wrote different bytes"
    );
}

#[test]
fn interop_tinycdb_files_read_by_us() {
    let cdb = tinycdb();
    let t = TmpDir::new("cdb-interop2");
    let mut input = Vec::new();
    for i in 0..2000u32 {
        input.extend(rec(
            format!("k\n{i}\0").as_bytes(),
            format!("d:{}\u{ff}", i * 3).as_bytes(),
        ));
    }
    input.extend(rec(b"new\nline", b"found"));
    input.extend(rec(b"dup", b"a"));
    input.extend(rec(b"dup", b"b"));
    input.push(b'\n');
    let theirs = t.join("theirs.cdb");
    let mut c = run(cdb).args(["-c"]).arg(&theirs);
    c.raw()
        .stdin(std::fs::File::open(t.write("in.txt", &input)).expect("open"));
    c.go().expect(0, "", "");
    let dump = with_file(run("cdbdump"), &theirs);
    assert!(
        dump.code == 0 && dump.out == input,
        "cdbdump of tinycdb's file: {}",
        dump.stderr()
    );
    let o = get(&theirs, b"k\n1999", None);
    assert_eq!((o.code, &o.out[..]), (100, &b""[..]));
    get(&theirs, b"new\nline", None).expect(0, "found", "");
    get(&theirs, b"dup", Some("1")).expect(0, "b", "");
    with_file(run("cdbtest"), &theirs).expect(
        0,
        "found: 2002\ndifferent record: 1\nbad length: 0\nnot found: 0\nuntested: 0\n",
        "",
    );
    // and byte for byte: our cdbmake rebuilds the same file from the dump
    let ours = make(&t, "ours.cdb", &dump.out);
    assert!(
        std::fs::read(&ours).expect("read") == std::fs::read(&theirs).expect("read"),
        "cdbmake of tinycdb's dump differs from tinycdb's file"
    );
}

#[test]
fn keys_over_1024_bytes_are_untested() {
    let t = TmpDir::new("cdb-longkey");
    let (k1024, k1025) = ("k".repeat(1024), "k".repeat(1025));
    let f = make(
        &t,
        "l.cdb",
        &text(&[(k1024.as_bytes(), b"a"), (k1025.as_bytes(), b"b")]),
    );
    get(&f, k1025.as_bytes(), None).expect(0, "b", "");
    with_file(run("cdbtest"), &f).expect(
        0,
        "found: 1\ndifferent record: 0\nbad length: 0\nnot found: 0\nuntested: 1\n",
        "",
    );
    with_file(run("cdbstats"), &f).expect(0, &stats(1, 1, 0), "");
}
