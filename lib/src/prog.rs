//! The program scaffold every tool's `main` calls: the name for messages, SIGPIPE back to
//! its default, argv as `OsString`s, and the `Fail` printed as one DJB-style line.

use crate::fail::Fail;
use std::ffi::OsString;
use std::io::Write;
use std::process::ExitCode;
use std::sync::OnceLock;

static NAME: OnceLock<&'static str> = OnceLock::new();

/// The program's name, as given to [`main`].
pub fn name() -> &'static str {
    NAME.get().copied().unwrap_or("rqmail")
}

/// Runs `run` with the whole argv (program name first) and turns its result into an exit code.
pub fn main(name: &'static str, run: fn(Vec<OsString>) -> Result<u8, Fail>) -> ExitCode {
    let _ = NAME.set(name);
    let _ = crate::sys::sig::default(crate::sys::sig::SIGPIPE);
    let argv: Vec<OsString> = std::env::args_os().collect();
    ExitCode::from(finish(run(argv)))
}

/// The exit code for a program's result, its failure text (if any) said on fd 2.
pub fn finish(result: Result<u8, Fail>) -> u8 {
    match result {
        Ok(code) => code,
        Err(fail) => {
            if !fail.text.is_empty() {
                say(&fail.text);
            }
            fail.code
        }
    }
}

/// Writes `<prog>: <text>\n` to fd 2 with one write.
pub fn say(text: &str) {
    let line = format!("{}: {}\n", name(), text);
    let _ = std::io::stderr().write_all(line.as_bytes());
}

/// Writes `<prog>: warning: <text>\n` to fd 2.
pub fn warn(text: &str) {
    say(&format!("warning: {text}"));
}
