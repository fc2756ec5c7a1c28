//! cdbdump — print every record of the constant database on standard input in cdbmake format.
//!
//! Usage:    cdbdump < f.cdb
//!           prints `+klen,dlen:key->data\n` for each record in file order, then an empty
//!           line; the output fed to cdbmake rebuilds the same records. Reads its input once,
//!           in order, so standard input may be a pipe.
//! Options:  none.
//! Environment: none.
//! Exit:     0 printed; 111 truncated input, read or write failure (the records before the
//!           damage have been printed).
//! Runs as:  anyone.  Trusts: nothing; lengths are checked against what arrives.
//! Spec:     shared/spec/formats.md §1.1, §1.6

use qlib::fail::{Fail, OrFail as _};
use qlib::{args, prog};
use std::ffi::OsString;
use std::io::{self, BufReader, BufWriter, Read, Write};
use std::process::ExitCode;

const USAGE: &str = "cdbdump";

fn main() -> ExitCode {
    prog::main("cdbdump", run)
}

fn run(argv: Vec<OsString>) -> Result<u8, Fail> {
    args::exactly(args::none(argv), 0, USAGE)?;
    let mut input = BufReader::with_capacity(65536, io::stdin().lock());
    let mut out = BufWriter::with_capacity(65536, io::stdout().lock());
    let mut header = [0u8; 2048];
    get(&mut input, &mut header)?;
    let eod = u64::from(u32le(&header[..4]));
    let mut pos: u64 = 2048;
    while pos < eod {
        let mut lens = [0u8; 8];
        get(&mut input, &mut lens)?;
        let (klen, dlen) = (u32le(&lens[..4]), u32le(&lens[4..]));
        put(&mut out, format!("+{klen},{dlen}:").as_bytes())?;
        copy(&mut input, &mut out, klen)?;
        put(&mut out, b"->")?;
        copy(&mut input, &mut out, dlen)?;
        put(&mut out, b"\n")?;
        pos += 8 + u64::from(klen) + u64::from(dlen);
    }
    put(&mut out, b"\n")?;
    out.flush().or_temp("unable to write output")?;
    Ok(0)
}

fn u32le(b: &[u8]) -> u32 {
    u32::from_le_bytes([b[0], b[1], b[2], b[3]])
}

fn get(r: &mut impl Read, buf: &mut [u8]) -> Result<(), Fail> {
    match r.read_exact(buf) {
        Err(e) if e.kind() == io::ErrorKind::UnexpectedEof => {
            Err(Fail::temp("unable to read input: truncated file"))
        }
        other => other.or_temp("unable to read input"),
    }
}

fn put(w: &mut impl Write, b: &[u8]) -> Result<(), Fail> {
    w.write_all(b).or_temp("unable to write output")
}

/// Copies exactly `len` bytes from input to output.
fn copy(r: &mut impl Read, w: &mut impl Write, len: u32) -> Result<(), Fail> {
    let mut buf = [0u8; 8192];
    let mut left = len as usize;
    while left > 0 {
        let n = left.min(buf.len());
        get(r, &mut buf[..n])?;
        put(w, &buf[..n])?;
        left -= n;
    }
    Ok(())
}
