//! splogger's line handling (splogger.c): input lines become syslog messages
//! `<sec>.<usec6> <line>`, with the severity taken from the line's first word, unprintable
//! bytes replaced by `?`, and long lines cut into 799-byte pieces logged as
//! `<sec>.<usec6>+<piece>` with the first piece's stamp and severity.

use crate::getln::{getln, Got};
use crate::syslog::{LOG_ALERT, LOG_INFO, LOG_MAIL, LOG_USER, LOG_WARNING, MAX_FACILITY};
use std::io::{self, BufRead};
use std::time::{SystemTime, UNIX_EPOCH};

/// The most line bytes in one message.
pub const PIECE: usize = 799;

/// The facility for splogger's second argument: a decimal facility code, shifted left by 3.
/// Code 0 (`kern`) gives `LOG_USER`, as glibc's openlog makes of it. Anything that is not a
/// code from 0 to 23 → `None`.
pub fn facility(arg: Option<&[u8]>) -> Option<u16> {
    let Some(arg) = arg else {
        return Some(LOG_MAIL);
    };
    let code = crate::scan::ulong_exact(arg)?;
    match u16::try_from(code) {
        Ok(0) => Some(LOG_USER),
        Ok(c) if c <= MAX_FACILITY => Some(c << 3),
        _ => None,
    }
}

/// The severity of a line: `alert:` → alert, `warning:` → warning, anything else → info.
pub fn level(line: &[u8]) -> u8 {
    if line.starts_with(b"alert:") {
        LOG_ALERT
    } else if line.starts_with(b"warning:") {
        LOG_WARNING
    } else {
        LOG_INFO
    }
}

/// Bytes outside 32–126 become `?`.
pub fn sanitise(bytes: &mut [u8]) {
    for b in bytes.iter_mut() {
        if !(32..=126).contains(b) {
            *b = b'?';
        }
    }
}

/// `<sec>.<usec6>` for `t` (times before the epoch read as the epoch).
pub fn stamp(t: SystemTime) -> String {
    let d = t.duration_since(UNIX_EPOCH).unwrap_or_default();
    format!("{}.{:06}", d.as_secs(), d.subsec_micros())
}

/// Reads lines from `input` until end of input, handing each message to `out` with its
/// severity. `now` is asked for the time once per line, when its first piece has been read.
/// Empty lines give nothing; a last line without a newline is logged too. Only read errors
/// are returned.
pub fn copy(
    input: &mut impl BufRead,
    mut now: impl FnMut() -> SystemTime,
    mut out: impl FnMut(u8, &[u8]),
) -> io::Result<()> {
    let mut buf = Vec::with_capacity(PIECE);
    let mut first: Option<(u8, String)> = None;
    loop {
        let got = getln(input, b'\n', PIECE, &mut buf)?;
        if got == Got::Eof {
            return Ok(());
        }
        if !buf.is_empty() {
            sanitise(&mut buf);
            let mut msg = Vec::with_capacity(buf.len() + 24);
            match &first {
                Some((lvl, st)) => {
                    msg.extend_from_slice(st.as_bytes());
                    msg.push(b'+');
                    msg.extend_from_slice(&buf);
                    out(*lvl, &msg);
                }
                None => {
                    let (lvl, st) = (level(&buf), stamp(now()));
                    msg.extend_from_slice(st.as_bytes());
                    msg.push(b' ');
                    msg.extend_from_slice(&buf);
                    out(lvl, &msg);
                    first = Some((lvl, st));
                }
            }
        }
        match got {
            Got::TooLong => {}
            Got::Partial => return Ok(()),
            _ => first = None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    /// Runs `copy` over `input`, reading the clock as 1000 s + 5 µs, 2000 s + 5 µs, …
    fn messages(input: &[u8]) -> Vec<(u8, String)> {
        let mut r = io::BufReader::with_capacity(64, input);
        let mut tick = 0;
        let mut got = Vec::new();
        copy(
            &mut r,
            || {
                tick += 1000;
                UNIX_EPOCH + Duration::new(tick, 5000)
            },
            |l, m| got.push((l, String::from_utf8(m.to_vec()).unwrap())),
        )
        .unwrap();
        got
    }

    fn m(l: u8, s: &str) -> (u8, String) {
        (l, s.to_string())
    }

    #[test]
    fn severities_and_stamps() {
        assert_eq!(
            messages(b"status: exiting\nwarning: trouble\nalert: oh no\nalert:x\nwarning:\nnot alert: x\nAlert: y\n"),
            vec![
                m(LOG_INFO, "1000.000005 status: exiting"),
                m(LOG_WARNING, "2000.000005 warning: trouble"),
                m(LOG_ALERT, "3000.000005 alert: oh no"),
                m(LOG_ALERT, "4000.000005 alert:x"),
                m(LOG_WARNING, "5000.000005 warning:"),
                m(LOG_INFO, "6000.000005 not alert: x"),
                m(LOG_INFO, "7000.000005 Alert: y"),
            ]
        );
    }

    #[test]
    fn empty_lines_are_skipped_and_a_last_partial_line_is_kept() {
        assert_eq!(
            messages(b"\n\na\n\nb"),
            vec![m(LOG_INFO, "1000.000005 a"), m(LOG_INFO, "2000.000005 b")]
        );
        assert_eq!(messages(b""), vec![]);
        assert_eq!(messages(b"\n"), vec![]);
    }

    #[test]
    fn unprintable_bytes_become_question_marks() {
        assert_eq!(
            messages(b"a\0b\x01c\td\re\x7ff\xffg\xc3\xa9 ~\x1f\n"),
            vec![m(LOG_INFO, "1000.000005 a?b?c?d?e?f?g?? ~?")]
        );
    }

    #[test]
    fn long_lines_are_cut_into_799_byte_pieces() {
        let a799 = "a".repeat(799);
        assert_eq!(
            messages(format!("{a799}\nx\n").as_bytes()),
            vec![
                m(LOG_INFO, &format!("1000.000005 {a799}")),
                m(LOG_INFO, "2000.000005 x")
            ]
        );
        let line = format!("warning: {}", "b".repeat(2000));
        let got = messages(format!("{line}\nalert: next\n").as_bytes());
        assert_eq!(
            got,
            vec![
                m(LOG_WARNING, &format!("1000.000005 {}", &line[..799])),
                m(LOG_WARNING, &format!("1000.000005+{}", &line[799..1598])),
                m(LOG_WARNING, &format!("1000.000005+{}", &line[1598..])),
                m(LOG_ALERT, "2000.000005 alert: next"),
            ]
        );
        // the piece after the cut is judged with the first piece's severity, not its own
        let line = format!("{}alert: no", "c".repeat(799));
        assert_eq!(
            messages(format!("{line}\n").as_bytes()),
            vec![
                m(LOG_INFO, &format!("1000.000005 {}", &line[..799])),
                m(LOG_INFO, "1000.000005+alert: no"),
            ]
        );
        // exactly two pieces, with the newline after the second; then a partial last line
        let line = "d".repeat(1598);
        assert_eq!(
            messages(format!("{line}\n{}", "e".repeat(800)).as_bytes()),
            vec![
                m(LOG_INFO, &format!("1000.000005 {}", &line[..799])),
                m(LOG_INFO, &format!("1000.000005+{}", &line[799..])),
                m(LOG_INFO, &format!("2000.000005 {}", "e".repeat(799))),
                m(LOG_INFO, "2000.000005+e"),
            ]
        );
    }

    #[test]
    fn stamp_has_six_digits_of_microseconds() {
        assert_eq!(
            stamp(UNIX_EPOCH + Duration::new(7, 999_999_999)),
            "7.999999"
        );
        assert_eq!(stamp(UNIX_EPOCH), "0.000000");
        assert_eq!(stamp(UNIX_EPOCH - Duration::from_secs(5)), "0.000000");
    }

    #[test]
    fn facility_codes() {
        assert_eq!(facility(None), Some(16));
        assert_eq!(facility(Some(b"2")), Some(16));
        assert_eq!(facility(Some(b"3")), Some(24));
        assert_eq!(facility(Some(b"23")), Some(184));
        assert_eq!(facility(Some(b"0")), Some(8));
        for bad in [
            &b"24"[..],
            b"",
            b"mail",
            b"-1",
            b"2x",
            b" 2",
            b"99999999999999999999999",
        ] {
            assert_eq!(facility(Some(bad)), None, "{bad:?}");
        }
    }
}
