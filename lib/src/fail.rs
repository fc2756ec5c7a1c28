//! `Fail`: an exit code and a one-line message, and `OrFail` to attach them to `io::Result`s.

use crate::{errtext, exit};
use std::io;

/// A program's failure: the code to exit with and the text to print (empty: print nothing).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Fail {
    /// exit code
    pub code: u8,
    /// message without the program name
    pub text: String,
}

impl Fail {
    /// `fatal: <what>`, exit 111.
    pub fn temp(what: impl AsRef<str>) -> Fail {
        Fail {
            code: exit::TEMP,
            text: format!("fatal: {}", what.as_ref()),
        }
    }
    /// `fatal: <what>`, exit 100.
    pub fn perm(what: impl AsRef<str>) -> Fail {
        Fail {
            code: exit::PERM,
            text: format!("fatal: {}", what.as_ref()),
        }
    }
    /// `usage: <usage>`, exit 100.
    pub fn usage(usage: &str) -> Fail {
        Fail {
            code: exit::PERM,
            text: format!("usage: {usage}"),
        }
    }
    /// Exit with `code` silently.
    pub fn silent(code: u8) -> Fail {
        Fail {
            code,
            text: String::new(),
        }
    }
    /// Exit with `code` and exactly `text`.
    pub fn with(code: u8, text: impl Into<String>) -> Fail {
        Fail {
            code,
            text: text.into(),
        }
    }
}

/// Attaches a code and a message to an `io::Result`.
pub trait OrFail<T> {
    /// error → `fatal: <what>: <errno text>`, exit 111
    fn or_temp(self, what: &str) -> Result<T, Fail>;
    /// error → `fatal: <what>: <errno text>`, exit 100
    fn or_perm(self, what: &str) -> Result<T, Fail>;
    /// error → 111 if the errno is temporary, else 100
    fn or_classify(self, what: &str) -> Result<T, Fail>;
    /// error → silent exit with `code`
    fn or_code(self, code: u8) -> Result<T, Fail>;
}

impl<T> OrFail<T> for io::Result<T> {
    fn or_temp(self, what: &str) -> Result<T, Fail> {
        self.map_err(|e| Fail::temp(format!("{what}: {}", errtext::text(&e))))
    }
    fn or_perm(self, what: &str) -> Result<T, Fail> {
        self.map_err(|e| Fail::perm(format!("{what}: {}", errtext::text(&e))))
    }
    fn or_classify(self, what: &str) -> Result<T, Fail> {
        self.map_err(|e| {
            let text = format!("{what}: {}", errtext::text(&e));
            if errtext::is_temp(&e) {
                Fail::temp(text)
            } else {
                Fail::perm(text)
            }
        })
    }
    fn or_code(self, code: u8) -> Result<T, Fail> {
        self.map_err(|_| Fail::silent(code))
    }
}
