//! The spawn protocol between qmail-send and qmail-lspawn/qmail-rspawn: request framing and
//! the incremental parsing of reports (qmail-send.c `comm_*` and `del_dochan`).
//!
//! Request: `<slot> S/ID \0 sender \0 recipient \0`. Report: `<slot> <K|Z|D> text \0`; the
//! text is not trusted, so at most [`REPORT_MAX`] bytes of it are kept.

/// Most bytes of a report's text that are kept.
pub const REPORT_MAX: usize = 10000;

/// A delivery request for slot `slot`.
pub fn request(slot: u8, mess: &str, sender: &[u8], recip: &[u8]) -> Vec<u8> {
    let mut v = Vec::with_capacity(mess.len() + sender.len() + recip.len() + 4);
    v.push(slot);
    v.extend_from_slice(mess.as_bytes());
    v.push(0);
    v.extend_from_slice(sender);
    v.push(0);
    v.extend_from_slice(recip);
    v.push(0);
    v
}

/// One report from a spawner.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Report {
    /// the slot of the request it answers
    pub slot: u8,
    /// `K`, `Z`, `D`, or anything else (mangled; NUL if the report was only a slot byte)
    pub status: u8,
    /// the text, at most [`REPORT_MAX`] bytes
    pub text: Vec<u8>,
}

#[derive(Debug, Default)]
enum At {
    #[default]
    Slot,
    Status(u8),
    Text(u8, u8),
}

/// Reassembles reports from the bytes of a spawner's output, however they are split.
#[derive(Debug, Default)]
pub struct Reports {
    at: At,
    text: Vec<u8>,
}

impl Reports {
    /// Feeds bytes; every report they complete is appended to `out`.
    pub fn feed(&mut self, mut data: &[u8], out: &mut Vec<Report>) {
        while let Some((&b, rest)) = data.split_first() {
            match self.at {
                At::Slot => {
                    self.at = At::Status(b);
                    data = rest;
                }
                At::Status(slot) => {
                    data = rest;
                    if b == 0 {
                        out.push(Report {
                            slot,
                            status: 0,
                            text: Vec::new(),
                        });
                        self.at = At::Slot;
                    } else {
                        self.at = At::Text(slot, b);
                    }
                }
                At::Text(slot, status) => match memchr::memchr(0, data) {
                    Some(i) => {
                        self.keep(&data[..i]);
                        out.push(Report {
                            slot,
                            status,
                            text: std::mem::take(&mut self.text),
                        });
                        self.at = At::Slot;
                        data = &data[i + 1..];
                    }
                    None => {
                        self.keep(data);
                        data = &[];
                    }
                },
            }
        }
    }

    fn keep(&mut self, b: &[u8]) {
        let room = REPORT_MAX - self.text.len();
        self.text.extend_from_slice(&b[..b.len().min(room)]);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn request_bytes() {
        assert_eq!(
            request(3, "19/1054", b"joe@example.org", b"fred@example.org"),
            b"\x0319/1054\0joe@example.org\0fred@example.org\0"
        );
        assert_eq!(request(0, "0/5", b"", b"a@b"), b"\x000/5\0\0a@b\0");
    }

    #[test]
    fn reports_split_anywhere() {
        let stream = b"\x03Kdid 1+0+0\n\0\x00Zlater\0\x01\0\x02Dno\nway\0";
        for cut in 0..stream.len() {
            let mut r = Reports::default();
            let mut out = Vec::new();
            r.feed(&stream[..cut], &mut out);
            r.feed(&stream[cut..], &mut out);
            assert_eq!(
                out,
                vec![
                    Report {
                        slot: 3,
                        status: b'K',
                        text: b"did 1+0+0\n".to_vec()
                    },
                    Report {
                        slot: 0,
                        status: b'Z',
                        text: b"later".to_vec()
                    },
                    Report {
                        slot: 1,
                        status: 0,
                        text: vec![]
                    },
                    Report {
                        slot: 2,
                        status: b'D',
                        text: b"no\nway".to_vec()
                    },
                ],
                "cut at {cut}"
            );
        }
    }

    #[test]
    fn long_reports_are_capped() {
        let mut r = Reports::default();
        let mut out = Vec::new();
        r.feed(b"\x00K", &mut out);
        for _ in 0..30 {
            r.feed(&[b'x'; 1000], &mut out);
        }
        r.feed(b"\0\x01Kok\0", &mut out);
        assert_eq!(out.len(), 2);
        assert_eq!(out[0].text.len(), REPORT_MAX);
        assert_eq!(out[1].text, b"ok");
    }
}
