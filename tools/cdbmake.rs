//! cdbmake — build a constant database from records in cdbmake text format.
//!
//! Usage:    cdbmake f ftmp
//!           reads `+klen,dlen:key->data\n` records, then an empty line, on standard input;
//!           writes them to `ftmp`, fsyncs it, renames it to `f` and fsyncs the directory.
//! Options:  none.
//! Environment: none.
//! Exit:     0 `f` replaced; 100 usage; 111 bad input, read or write failure (`f` is left as it
//!           was and `ftmp` is removed).
//! Runs as:  anyone.  Trusts: nothing; input lengths are checked against what arrives.
//! Spec:     shared/spec/formats.md §1.4, §1.6

use qlib::cdbmake::Make;
use qlib::fail::{Fail, OrFail as _};
use qlib::{args, prog};
use std::ffi::OsString;
use std::fs::File;
use std::io::{self, BufRead, BufReader, Read};
use std::os::unix::fs::OpenOptionsExt;
use std::path::Path;
use std::process::ExitCode;

const USAGE: &str = "cdbmake f ftmp";

/// A key and its data.
type Record = (Vec<u8>, Vec<u8>);

fn main() -> ExitCode {
    prog::main("cdbmake", run)
}

fn run(argv: Vec<OsString>) -> Result<u8, Fail> {
    let names = args::exactly(args::none(argv), 2, USAGE)?;
    let (f, ftmp) = (Path::new(&names[0]), Path::new(&names[1]));
    let made = make(f, ftmp);
    if made.is_err() {
        let _ = std::fs::remove_file(ftmp);
    }
    made.map(|()| 0)
}

fn make(f: &Path, ftmp: &Path) -> Result<(), Fail> {
    let create = format!("unable to create {}", ftmp.display());
    let file = File::options()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(0o644)
        .open(ftmp)
        .or_temp(&create)?;
    let mut m = Make::new(file).or_temp(&create)?;
    let mut input = BufReader::with_capacity(65536, io::stdin().lock());
    while let Some((key, data)) = record(&mut input)? {
        m.add(&key, &data).or_temp(&create)?;
    }
    let file = m.finish().or_temp(&create)?;
    file.sync_all().or_temp(&create)?;
    drop(file);
    std::fs::rename(ftmp, f).or_temp(&format!(
        "unable to rename {} to {}",
        ftmp.display(),
        f.display()
    ))?;
    qlib::fsync_dir_of(f).or_temp(&format!("unable to fsync directory of {}", f.display()))
}

fn bad_format() -> Fail {
    Fail::temp("unable to read input: bad format")
}

/// One byte of input; end of input is a format error.
fn byte(r: &mut impl BufRead) -> Result<u8, Fail> {
    let mut c = [0u8];
    match r.read_exact(&mut c) {
        Ok(()) => Ok(c[0]),
        Err(e) if e.kind() == io::ErrorKind::UnexpectedEof => Err(bad_format()),
        Err(e) => Err(e).or_temp("unable to read input"),
    }
}

/// Decimal digits up to `end` (none at all means 0, as in the original).
fn number(r: &mut impl BufRead, end: u8) -> Result<u32, Fail> {
    let mut n: u32 = 0;
    loop {
        match byte(r)? {
            c if c == end => return Ok(n),
            c @ b'0'..=b'9' => {
                n = n
                    .checked_mul(10)
                    .and_then(|n| n.checked_add(u32::from(c - b'0')))
                    .ok_or_else(|| Fail::temp("unable to read input: length too big"))?;
            }
            _ => return Err(bad_format()),
        }
    }
}

/// Exactly `len` bytes; fewer before the end of input is a format error. Memory grows with
/// what actually arrives, not with what the length claims.
fn bytes(r: &mut impl BufRead, len: u32) -> Result<Vec<u8>, Fail> {
    let mut v = Vec::new();
    r.take(u64::from(len))
        .read_to_end(&mut v)
        .or_temp("unable to read input")?;
    if v.len() != len as usize {
        return Err(bad_format());
    }
    Ok(v)
}

fn expect(r: &mut impl BufRead, want: u8) -> Result<(), Fail> {
    if byte(r)? == want {
        Ok(())
    } else {
        Err(bad_format())
    }
}

/// The next record, or `None` at the empty line that ends the input.
fn record(r: &mut impl BufRead) -> Result<Option<Record>, Fail> {
    match byte(r)? {
        b'\n' => return Ok(None),
        b'+' => {}
        _ => return Err(bad_format()),
    }
    let klen = number(r, b',')?;
    let dlen = number(r, b':')?;
    let key = bytes(r, klen)?;
    expect(r, b'-')?;
    expect(r, b'>')?;
    let data = bytes(r, dlen)?;
    expect(r, b'\n')?;
    Ok(Some((key, data)))
}
