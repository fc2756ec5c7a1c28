//! The bounce maildirserial -b sends for a message its client refused for good: qmail-send's
//! QSBMF layout (formats.md §8) from "the maildirbounce program", one recipient paragraph,
//! then `Return-Path: <sender>` and the message after its two envelope lines. A message
//! with the empty sender gets a double bounce (from `#@[]` to `doublebounceto`); one from
//! `#@[]` is dropped.

use super::Envelope;
use crate::{control, date, quote};
use std::io;
use std::path::Path;

/// The controls a bounce is made from (qmail-send's defaults).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Controls {
    /// `control/bouncefrom`, default `MAILER-DAEMON`
    pub bouncefrom: Vec<u8>,
    /// `control/bouncehost`, default `me`
    pub bouncehost: Vec<u8>,
    /// `doublebounceto@doublebouncehost`, defaults `postmaster` and `me`
    pub doublebounceto: Vec<u8>,
}

impl Controls {
    /// Reads them from `home/control` (`me` itself defaults to `me`).
    pub fn read(home: &Path) -> io::Result<Controls> {
        let c = home.join("control");
        let me = control::line(c.join("me"))?.unwrap_or_else(|| b"me".to_vec());
        let or = |f: &str, d: &[u8]| -> io::Result<Vec<u8>> {
            Ok(control::line(c.join(f))?.unwrap_or_else(|| d.to_vec()))
        };
        let host = or("doublebouncehost", &me)?;
        Ok(Controls {
            bouncefrom: or("bouncefrom", b"MAILER-DAEMON")?,
            bouncehost: or("bouncehost", &me)?,
            doublebounceto: [or("doublebounceto", b"postmaster")?, b"@".to_vec(), host].concat(),
        })
    }
}

/// What to do with a refused message.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Bounce {
    /// its sender is `#@[]`: discard it
    Triple,
    /// queue `head` followed by the rest of the file, from `sender` to `recipient`
    Send {
        /// the bounce's envelope sender (empty, or `#@[]` for a double bounce)
        sender: Vec<u8>,
        /// where it goes
        recipient: Vec<u8>,
        /// the bounce's header and text, up to the copy of the message's own lines
        head: Vec<u8>,
    },
}

/// The bounce for `env` (its recipient shown without `prefix`), refused because of `why`
/// (one line, the client's text); `too_old` adds the lifetime's sentence. `now` dates it.
pub fn compose(
    env: &Envelope,
    prefix: &[u8],
    why: &[u8],
    too_old: bool,
    c: &Controls,
    now: i64,
) -> Bounce {
    if env.sender == b"#@[]" {
        return Bounce::Triple;
    }
    let double = env.sender.is_empty();
    let (sender, recipient) = if double {
        (b"#@[]".to_vec(), c.doublebounceto.clone())
    } else {
        (Vec::new(), env.sender.clone())
    };
    let mut h = Vec::new();
    let mut put = |b: &[u8]| h.extend_from_slice(b);
    put(format!("Date: {}\nFrom: ", date::rfc822(now)).as_bytes());
    put(&quote::local(&c.bouncefrom));
    put(b"@");
    put(&c.bouncehost);
    put(b"\nTo: ");
    put(&quote::address(&recipient));
    put(b"\nSubject: failure notice\n\nHi. This is the maildirbounce program at ");
    put(&c.bouncehost);
    put(if double {
        b".\nI tried to deliver a bounce message to this address, but the bounce bounced!\n\n"
    } else {
        &b".\nI'm afraid I wasn't able to deliver your message to the following address.\n\
This is a permanent error; I've given up. Sorry it didn't work out.\n\n"[..]
    });
    put(b"<");
    put(env.recipient.strip_prefix(prefix).unwrap_or(&env.recipient));
    put(b">:\n");
    put(why);
    put(b"\n");
    if too_old {
        put(b"This message is too old. Giving up.\n");
    }
    put(if double {
        b"\n--- Below this line is the original bounce.\n\n"
    } else {
        &b"\n--- Below this line is a copy of the message.\n\n"[..]
    });
    put(b"Return-Path: <");
    put(&quote::address(&env.sender));
    put(b">\n");
    Bounce::Send {
        sender,
        recipient,
        head: h,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn controls() -> Controls {
        Controls {
            bouncefrom: b"MAILER-DAEMON".to_vec(),
            bouncehost: b"leaf.example".to_vec(),
            doublebounceto: b"postmaster@leaf.example".to_vec(),
        }
    }

    fn env(sender: &[u8]) -> Envelope {
        Envelope {
            sender: sender.to_vec(),
            recipient: b"autoturn-joe@dest.example".to_vec(),
            head_len: 0,
        }
    }

    #[test]
    fn a_bounce_to_the_sender() {
        let b = compose(
            &env(b"a b@x"),
            b"autoturn-",
            b"553 no",
            true,
            &controls(),
            0,
        );
        let Bounce::Send {
            sender,
            recipient,
            head,
        } = b
        else {
            panic!("no bounce")
        };
        assert_eq!((sender, recipient), (Vec::new(), b"a b@x".to_vec()));
        assert_eq!(
            String::from_utf8(head).unwrap(),
            "Date: 1 Jan 1970 00:00:00 -0000\nFrom: MAILER-DAEMON@leaf.example\n\
To: \"a b\"@x\nSubject: failure notice\n\n\
Hi. This is the maildirbounce program at leaf.example.\n\
I'm afraid I wasn't able to deliver your message to the following address.\n\
This is a permanent error; I've given up. Sorry it didn't work out.\n\n\
<joe@dest.example>:\n553 no\nThis message is too old. Giving up.\n\n\
--- Below this line is a copy of the message.\n\nReturn-Path: <\"a b\"@x>\n"
        );
    }

    #[test]
    fn double_and_triple_bounces() {
        let Bounce::Send {
            sender,
            recipient,
            head,
        } = compose(&env(b""), b"", b"D", false, &controls(), 0)
        else {
            panic!("no bounce")
        };
        assert_eq!(sender, b"#@[]");
        assert_eq!(recipient, b"postmaster@leaf.example");
        let head = String::from_utf8(head).unwrap();
        assert!(head.contains("but the bounce bounced!\n\n<autoturn-joe@dest.example>:\nD\n\n"));
        assert!(head.ends_with("the original bounce.\n\nReturn-Path: <>\n"));
        assert_eq!(
            compose(&env(b"#@[]"), b"", b"", false, &controls(), 0),
            Bounce::Triple
        );
    }
}
