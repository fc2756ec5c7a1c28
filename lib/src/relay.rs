//! The plumbing of recordio and fixcrio (ucspi.md §7.1, §7.3): two pipes and a fork; the
//! parent becomes the program (so it keeps the pid) reading one pipe and writing the other,
//! while the child relays our fd 0 to the program's input and its output to our fd 1, one
//! read of at most 256 bytes at a time, letting the caller see and change every chunk. Also
//! recordio's log lines.

use crate::sys::fd::{self, PollFd};
use crate::sys::{proc, sig};
use std::fs::File;
use std::io::{self, Read, Write};
use std::os::fd::{AsRawFd, OwnedFd};

/// Which side of the fork we are on.
pub enum Side {
    /// the program to exec: its new fd 0 and fd 1
    Program {
        /// becomes the program's fd 0
        stdin: OwnedFd,
        /// becomes the program's fd 1
        stdout: OwnedFd,
    },
    /// the relay: the program's input (to write) and output (to read)
    Relay {
        /// writes to the program's fd 0
        to_prog: OwnedFd,
        /// reads the program's fd 1
        from_prog: OwnedFd,
    },
}

/// The program side of [`split`]: execs `program` (PATH search) with fd 0 and fd 1 on the
/// relay's pipes; returns only when that fails, with the failure to report.
pub fn exec_program(
    program: &[std::ffi::OsString],
    stdin: OwnedFd,
    stdout: OwnedFd,
) -> crate::fail::Fail {
    use std::os::unix::process::CommandExt;
    let e = std::process::Command::new(&program[0])
        .args(&program[1..])
        .stdin(std::process::Stdio::from(stdin))
        .stdout(std::process::Stdio::from(stdout))
        .exec();
    crate::fail::Fail::temp(format!(
        "unable to run {}: {}",
        program[0].to_string_lossy(),
        crate::errtext::text(&e)
    ))
}

/// Makes the pipes and forks (only for single-threaded programs).
pub fn split() -> io::Result<Side> {
    let (in_r, in_w) = fd::pipe()?;
    let (out_r, out_w) = fd::pipe()?;
    Ok(match proc::fork()? {
        Some(_) => Side::Program {
            stdin: in_r,
            stdout: out_w,
        },
        None => Side::Relay {
            to_prog: in_w,
            from_prog: out_r,
        },
    })
}

/// What the relay saw.
pub enum Event<'a> {
    /// a chunk of our input, on its way to the program
    In(&'a [u8]),
    /// a chunk of the program's output, on its way to our output
    Out(&'a [u8]),
    /// our input ended (the program's input is closed next)
    InEof,
    /// the program's output ended (the relay stops)
    OutEof,
}

/// Relays until the program's output ends. `on` is told of each event and puts the bytes to
/// pass on in its second argument. A failed write to the program stops only the input
/// direction (the program is gone or stopped reading; its output is still relayed); a failed
/// write to our fd 1 is an error.
pub fn relay(
    to_prog: OwnedFd,
    from_prog: OwnedFd,
    mut on: impl FnMut(Event<'_>, &mut Vec<u8>),
) -> io::Result<()> {
    sig::ignore(sig::SIGPIPE)?;
    let mut input = fd::inherited(0).map(File::from);
    let mut to_prog = Some(File::from(to_prog));
    let mut from_prog = File::from(from_prog);
    let mut output = fd::inherited(1)
        .map(File::from)
        .ok_or(io::ErrorKind::BrokenPipe)?;
    let (mut buf, mut pass) = ([0u8; 256], Vec::new());
    loop {
        let mut p = [
            poll_for(Some(&from_prog)),
            poll_for(input.as_ref().filter(|_| to_prog.is_some())),
        ];
        fd::poll(&mut p, -1)?;
        if p[1].readable {
            pass.clear();
            match read(input.as_mut(), &mut buf) {
                0 => {
                    on(Event::InEof, &mut pass);
                    (input, to_prog) = (None, None);
                }
                n => {
                    on(Event::In(&buf[..n]), &mut pass);
                    if let Some(Err(_)) = to_prog.as_mut().map(|t| t.write_all(&pass)) {
                        (input, to_prog) = (None, None);
                    }
                }
            }
        }
        if p[0].readable {
            pass.clear();
            match read(Some(&mut from_prog), &mut buf) {
                0 => {
                    on(Event::OutEof, &mut pass);
                    return Ok(());
                }
                n => {
                    on(Event::Out(&buf[..n]), &mut pass);
                    output.write_all(&pass)?;
                }
            }
        }
    }
}

fn poll_for(f: Option<&File>) -> PollFd {
    PollFd {
        fd: f.map_or(-1, |f| f.as_raw_fd()),
        read: f.is_some(),
        ..PollFd::default()
    }
}

/// One read; end of file and errors (other than EINTR) both give 0.
fn read(f: Option<&mut File>, buf: &mut [u8]) -> usize {
    let Some(f) = f else { return 0 };
    loop {
        match f.read(buf) {
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            r => return r.unwrap_or(0),
        }
    }
}

/// recordio's log of one chunk: a line `<pid> <dir> <piece>` per piece of `chunk` split after
/// each LF, the LF itself written as ` \n`; a last piece without LF ends in `+\n`.
pub fn record(pid: u32, dir: u8, chunk: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    let mut rest = chunk;
    while !rest.is_empty() {
        out.extend_from_slice(format!("{pid} {} ", dir as char).as_bytes());
        match memchr::memchr(b'\n', rest) {
            Some(i) => {
                out.extend_from_slice(&rest[..i]);
                out.extend_from_slice(b" \n");
                rest = &rest[i + 1..];
            }
            None => {
                out.extend_from_slice(rest);
                out.extend_from_slice(b"+\n");
                rest = b"";
            }
        }
    }
    out
}

/// recordio's end-of-stream line.
pub fn record_eof(pid: u32, dir: u8) -> Vec<u8> {
    format!("{pid} {} [EOF]\n", dir as char).into_bytes()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn record_lines() {
        assert_eq!(record(42, b'<', b"HELO x\r\n"), b"42 < HELO x\r \n");
        assert_eq!(
            record(42, b'>', b"a\nb\n\nc"),
            b"42 > a \n42 > b \n42 >  \n42 > c+\n"
        );
        assert_eq!(record(7, b'<', b"partial"), b"7 < partial+\n");
        assert_eq!(record(7, b'<', b""), b"");
        assert_eq!(record_eof(7, b'>'), b"7 > [EOF]\n");
    }
}
