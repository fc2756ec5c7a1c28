//! Bounces in QSBMF (qmail-send.c `addbounce` and `injectbounce`): the failure paragraph
//! appended to `bounce/ID` for each permanent failure, and the bounce message composed when
//! the message is finished. The wording is rqmail's; the structure is what QSBMF parsers use:
//! a body starting `Hi. This is the`, paragraphs separated by single empty lines, failure
//! paragraphs starting `<address>:`, a break paragraph starting with `-`.

use crate::quote;

/// The double-bounce envelope sender.
pub const DOUBLE_SENDER: &[u8] = b"#@[]";

/// Added to a deferral that arrives after the queue lifetime, which then bounces.
pub const TOO_LONG: &[u8] =
    b"Giving up: the message has been in the queue longer than the queue lifetime allows.\n";

/// A Z report's text turned into the D text of a message past its lifetime.
pub fn expired(text: &[u8]) -> Vec<u8> {
    let mut t = text.to_vec();
    if !t.is_empty() && !t.ends_with(b"\n") {
        t.push(b'\n');
    }
    t.extend_from_slice(TOO_LONG);
    t
}

/// One failure paragraph: `<recipient>:\n`, the text with a final newline, an empty line.
/// Newlines in the recipient become `_`; a newline right after another becomes `/`, so the
/// paragraph never contains an empty line.
pub fn paragraph(recip: &[u8], text: &[u8]) -> Vec<u8> {
    let mut p = Vec::with_capacity(recip.len() + text.len() + 6);
    p.push(b'<');
    p.extend(recip.iter().map(|&c| if c == b'\n' { b'_' } else { c }));
    p.extend_from_slice(b">:\n");
    for &c in text {
        let c = if c == b'\n' && p.last() == Some(&b'\n') {
            b'/'
        } else {
            c
        };
        p.push(c);
    }
    if !text.is_empty() && p.last() != Some(&b'\n') {
        p.push(b'\n');
    }
    p.push(b'\n');
    p
}

/// Who gets a bounce, and from whom, given the failed message's sender.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Plan {
    /// an ordinary bounce: envelope sender empty, to this address
    Bounce(Vec<u8>),
    /// the message was itself a bounce: sender `#@[]`, to doublebounceto@doublebouncehost
    Double(Vec<u8>),
    /// the message was a double bounce: drop the failures
    Discard,
}

/// Decides the bounce for a message from `sender` (VERP requests are reduced to `P@H`).
pub fn plan(sender: &[u8], doublebounceto: &[u8], doublebouncehost: &[u8]) -> Plan {
    if sender == DOUBLE_SENDER {
        Plan::Discard
    } else if sender.is_empty() {
        let mut r = doublebounceto.to_vec();
        r.push(b'@');
        r.extend_from_slice(doublebouncehost);
        Plan::Double(r)
    } else {
        Plan::Bounce(super::addr::bounce_to(sender))
    }
}

/// What goes before the copy of the message: header, introduction, the failure paragraphs
/// (`bounce/ID` as it is), the break paragraph and the Return-Path line.
pub struct Head<'a> {
    /// seconds since the epoch for the Date field
    pub date: i64,
    /// local part of From:
    pub bouncefrom: &'a [u8],
    /// domain of From:, and the host named in the introduction
    pub bouncehost: &'a [u8],
    /// the failed message's envelope sender
    pub sender: &'a [u8],
    /// the contents of bounce/ID
    pub paragraphs: &'a [u8],
}

impl Head<'_> {
    /// The bytes for `plan` (`None` for [`Plan::Discard`]).
    pub fn compose(&self, plan: &Plan) -> Option<Vec<u8>> {
        let (to, double) = match plan {
            Plan::Bounce(to) => (to, false),
            Plan::Double(to) => (to, true),
            Plan::Discard => return None,
        };
        let mut m = Vec::with_capacity(512 + self.paragraphs.len());
        m.extend_from_slice(format!("Date: {}\n", crate::date::rfc822(self.date)).as_bytes());
        m.extend_from_slice(b"From: ");
        m.extend_from_slice(&quote::local(self.bouncefrom));
        m.push(b'@');
        m.extend_from_slice(self.bouncehost);
        m.extend_from_slice(b"\nTo: ");
        m.extend_from_slice(&quote::address(to));
        m.extend_from_slice(b"\nSubject: failure notice\n\nHi. This is the qmail-send program at ");
        m.extend_from_slice(self.bouncehost);
        m.extend_from_slice(b".\n");
        m.extend_from_slice(if double {
            &b"A bounce message sent to the address below could not be delivered either;\n\
               the bounce itself bounced. This is a permanent error.\n\n"[..]
        } else {
            &b"Your message could not be delivered to the addresses below.\n\
               This is a permanent error; no further attempts will be made.\n\n"[..]
        });
        m.extend_from_slice(self.paragraphs);
        m.extend_from_slice(if double {
            &b"--- The original bounce message follows.\n\n"[..]
        } else {
            &b"--- A copy of the message follows.\n\n"[..]
        });
        m.extend_from_slice(b"Return-Path: <");
        m.extend_from_slice(&quote::address(&super::addr::bounce_to(self.sender)));
        m.extend_from_slice(b">\n");
        Some(m)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paragraphs() {
        assert_eq!(paragraph(b"a@b", b"Sorry.\n"), b"<a@b>:\nSorry.\n\n");
        assert_eq!(paragraph(b"a@b", b"no newline"), b"<a@b>:\nno newline\n\n");
        assert_eq!(
            paragraph(b"a\n@b", b"x\n\ny\n\n\nz"),
            b"<a_@b>:\nx\n/y\n/\nz\n\n"
        );
        assert_eq!(paragraph(b"a@b", b"\nlead"), b"<a@b>:\n/lead\n\n");
        assert_eq!(paragraph(b"a@b", b""), b"<a@b>:\n\n");
        assert_eq!(expired(b"busy"), [&b"busy\n"[..], TOO_LONG].concat());
        assert_eq!(expired(b""), TOO_LONG);
    }

    #[test]
    fn plans() {
        assert_eq!(
            plan(b"joe@x", b"postmaster", b"me.example"),
            Plan::Bounce(b"joe@x".to_vec())
        );
        assert_eq!(
            plan(b"list-@l.example-@[]", b"pm", b"h"),
            Plan::Bounce(b"list-@l.example".to_vec())
        );
        assert_eq!(
            plan(b"", b"pm", b"h.example"),
            Plan::Double(b"pm@h.example".to_vec())
        );
        assert_eq!(plan(b"#@[]", b"pm", b"h"), Plan::Discard);
    }

    #[test]
    fn layout_byte_exact() {
        let paras = [
            paragraph(
                b"bad@here.example",
                b"No mailbox here by that name. (#5.1.1)\n",
            ),
            paragraph(
                b"worse@far.example",
                b"Remote host said: 550 no\n\nreally\n",
            ),
        ]
        .concat();
        let h = Head {
            date: 1_795_996_725,
            bouncefrom: b"MAILER-DAEMON",
            bouncehost: b"me.example",
            sender: b"joe smith@x.example",
            paragraphs: &paras,
        };
        let m = h
            .compose(&plan(h.sender, b"postmaster", b"me.example"))
            .unwrap();
        assert_eq!(
            String::from_utf8(m).unwrap(),
            "Date: 29 Nov 2026 23:58:45 -0000\n\
             From: MAILER-DAEMON@me.example\n\
             To: \"joe smith\"@x.example\n\
             Subject: failure notice\n\
             \n\
             Hi. This is the qmail-send program at me.example.\n\
             Your message could not be delivered to the addresses below.\n\
             This is a permanent error; no further attempts will be made.\n\
             \n\
             <bad@here.example>:\n\
             No mailbox here by that name. (#5.1.1)\n\
             \n\
             <worse@far.example>:\n\
             Remote host said: 550 no\n\
             /really\n\
             \n\
             --- A copy of the message follows.\n\
             \n\
             Return-Path: <\"joe smith\"@x.example>\n"
        );
        let h = Head {
            sender: b"",
            bouncefrom: b"mailer daemon",
            ..h
        };
        let m = h
            .compose(&plan(h.sender, b"postmaster", b"me.example"))
            .unwrap();
        assert_eq!(
            String::from_utf8(m).unwrap(),
            "Date: 29 Nov 2026 23:58:45 -0000\n\
             From: \"mailer daemon\"@me.example\n\
             To: postmaster@me.example\n\
             Subject: failure notice\n\
             \n\
             Hi. This is the qmail-send program at me.example.\n\
             A bounce message sent to the address below could not be delivered either;\n\
             the bounce itself bounced. This is a permanent error.\n\
             \n\
             <bad@here.example>:\n\
             No mailbox here by that name. (#5.1.1)\n\
             \n\
             <worse@far.example>:\n\
             Remote host said: 550 no\n\
             /really\n\
             \n\
             --- The original bounce message follows.\n\
             \n\
             Return-Path: <>\n"
        );
        assert_eq!(
            Head {
                sender: b"#@[]",
                ..h
            }
            .compose(&Plan::Discard),
            None
        );
    }
}
