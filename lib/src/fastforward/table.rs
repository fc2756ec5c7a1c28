//! setforward's input language (setforward.c), read character by character: `#` comments
//! to the end of the line, space, tab and newline ignored everywhere, `\` quoting the next
//! byte, and instructions `target: command, command, …;`.
//!
//! Each instruction gives its `?target` owner records first, then one `:target` record with
//! all its commands; targets are lower-cased in keys. Beyond the original: an instruction
//! with a colon and neither commands nor owner (`x:;`, which printforward prints for the
//! discarding record newaliases makes from `x: /dev/null`) gives an empty `:x` record
//! instead of nothing, so printforward's output always reads back into the same database.

use super::MAX_ADDRESS;

/// Why the input is refused (setforward exits 100 with this text).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Error {
    /// a NUL byte anywhere
    Nul,
    /// a second `:` in one instruction
    DoubleColon,
    /// `,` or `;` before the instruction's `:`
    CommaBeforeColon,
    /// the input ends inside an instruction
    NoSemicolon,
    /// an address longer than [`MAX_ADDRESS`]
    TooLong,
}

impl Error {
    /// The original's message.
    pub fn message(self) -> &'static str {
        match self {
            Error::Nul => "NUL bytes are not permitted",
            Error::DoubleColon => "double colons are not permitted",
            Error::CommaBeforeColon => "commas are not permitted before colons",
            Error::NoSemicolon => "final instruction must end with semicolon",
            Error::TooLong => "addresses over 800 bytes are not permitted",
        }
    }
}

/// One record: key and data.
pub type Record = (Vec<u8>, Vec<u8>);

#[derive(Default)]
struct Instruction {
    target: Vec<u8>,
    colon: bool,
    word: Vec<u8>,
    commands: Vec<u8>,
    owners: Vec<Vec<u8>>,
    started: bool,
}

impl Instruction {
    /// Ends the command being read: `?owner`, a kept command, or an address.
    fn command(&mut self) -> Result<(), Error> {
        let w = std::mem::take(&mut self.word);
        match w.first() {
            None => {}
            Some(b'?') => self.owners.push(w[1..].to_vec()),
            Some(b'|' | b'!' | b'.' | b'/') => {
                self.commands.extend_from_slice(&w);
                self.commands.push(0);
            }
            Some(&c) => {
                let addr = if c == b'&' { &w[1..] } else { &w[..] };
                if addr.len() > MAX_ADDRESS {
                    return Err(Error::TooLong);
                }
                self.commands.push(b'&');
                self.commands.extend_from_slice(addr);
                self.commands.push(0);
            }
        }
        Ok(())
    }

    fn finish(self, out: &mut Vec<Record>) {
        let key = |kind: u8| {
            let mut k = vec![kind];
            k.extend(self.target.iter().map(u8::to_ascii_lowercase));
            k
        };
        for o in &self.owners {
            out.push((key(b'?'), o.clone()));
        }
        if !self.commands.is_empty() || self.owners.is_empty() {
            out.push((key(b':'), self.commands));
        }
    }
}

/// The records of a whole table, in the order setforward writes them.
pub fn parse(input: &[u8]) -> Result<Vec<Record>, Error> {
    let mut out = Vec::new();
    let mut ins = Instruction::default();
    let mut bytes = input.iter().copied();
    while let Some(c) = bytes.next() {
        let literal = match c {
            0 => return Err(Error::Nul),
            b'#' => {
                if bytes.by_ref().any(|c| c == b'\n') {
                    continue;
                }
                break;
            }
            b' ' | b'\t' | b'\n' => continue,
            b'\\' => match bytes.next() {
                None => break,
                Some(0) => return Err(Error::Nul),
                Some(l) => l,
            },
            b':' if ins.colon => return Err(Error::DoubleColon),
            b':' => {
                ins.colon = true;
                ins.started = true;
                continue;
            }
            b',' | b';' if !ins.colon => return Err(Error::CommaBeforeColon),
            b',' => {
                ins.command()?;
                continue;
            }
            b';' => {
                ins.command()?;
                std::mem::take(&mut ins).finish(&mut out);
                continue;
            }
            other => other,
        };
        ins.started = true;
        if ins.colon {
            ins.word.push(literal);
        } else {
            ins.target.push(literal);
        }
    }
    if ins.started {
        return Err(Error::NoSemicolon);
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn recs(s: &str) -> Vec<(String, String)> {
        parse(s.as_bytes())
            .unwrap()
            .into_iter()
            .map(|(k, d)| {
                let s = |v: Vec<u8>| String::from_utf8(v).unwrap().replace('\0', "|0");
                (s(k), s(d))
            })
            .collect()
    }
    fn r(k: &str, d: &str) -> (String, String) {
        (k.into(), d.into())
    }

    #[test]
    fn the_manual_example() {
        let t = "sos@heaven.af.mil: joe@example.net, |dew-monitor, /etc/lists/sos.bin,\n  \
                 ?owner-sos@heaven.af.mil;\n# comment: here, too;\n";
        assert_eq!(
            recs(t),
            vec![
                r("?sos@heaven.af.mil", "owner-sos@heaven.af.mil"),
                r(
                    ":sos@heaven.af.mil",
                    "&joe@example.net|0|dew-monitor|0/etc/lists/sos.bin|0"
                ),
            ]
        );
    }

    #[test]
    fn spaces_escapes_case_and_empty_commands() {
        assert_eq!(
            recs("X@Y: A@B, , !prog x, ./l.bin,;"),
            vec![r(":x@y", "&A@B|0!progx|0./l.bin|0")]
        );
        assert_eq!(
            recs("x\\ y\\:z: a\\#b # comm\n, \\,c;"),
            vec![r(":x y:z", "&a#b|0&,c|0")]
        );
        assert_eq!(recs(": &;"), vec![r(":", "&|0")]);
        assert_eq!(
            recs("x: ?o1, a, ?o2;"),
            vec![r("?x", "o1"), r("?x", "o2"), r(":x", "&a|0")]
        );
        assert_eq!(recs("only@x: ?o@x;"), vec![r("?only@x", "o@x")]);
        assert_eq!(recs("null@x:;"), vec![r(":null@x", "")]);
        assert_eq!(recs("  # nothing\n\n"), vec![]);
    }

    #[test]
    fn errors() {
        let e = |s: &[u8]| parse(s).unwrap_err();
        assert_eq!(e(b"x: a: b;"), Error::DoubleColon);
        assert_eq!(e(b"x, y: a;"), Error::CommaBeforeColon);
        assert_eq!(e(b";"), Error::CommaBeforeColon);
        assert_eq!(e(b"x: a"), Error::NoSemicolon);
        assert_eq!(e(b"x"), Error::NoSemicolon);
        assert_eq!(e(b"x: a\\"), Error::NoSemicolon);
        assert!(parse(b"x: a;\\").is_ok());
        assert_eq!(e(b"x: a\0;"), Error::Nul);
        let long = "a".repeat(801);
        assert_eq!(e(format!("x: {long};").as_bytes()), Error::TooLong);
        assert_eq!(e(format!("x: &{long};").as_bytes()), Error::TooLong);
        let ok = "a".repeat(800);
        assert!(parse(format!("{long}: {ok}, ?{long}, |{long};").as_bytes()).is_ok());
    }
}
