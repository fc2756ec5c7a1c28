//! qmail-send's activity log (qmail-log(5)): the exact shape of every line, and a writer that
//! puts each line out with one `write` to descriptor 0. Fields from addresses and delivery
//! reports go through [`crate::log::safe`].

use crate::log::safe;
use std::io::Write;

/// The channel names used in log lines.
pub const CHAN: [&str; 2] = ["local", "remote"];

fn cat(parts: &[&[u8]]) -> Vec<u8> {
    let mut v = Vec::with_capacity(parts.iter().map(|p| p.len()).sum::<usize>() + 1);
    for p in parts {
        v.extend_from_slice(p);
    }
    v.push(b'\n');
    v
}

/// `status: local l/L remote r/R` (+ ` exitasap`).
pub fn status(used: [usize; 2], limit: [usize; 2], exiting: bool) -> Vec<u8> {
    let s = format!(
        "status: local {}/{} remote {}/{}{}",
        used[0],
        limit[0],
        used[1],
        limit[1],
        if exiting { " exitasap" } else { "" }
    );
    cat(&[s.as_bytes()])
}

/// `new msg ID`
pub fn new_msg(id: u64) -> Vec<u8> {
    cat(&[format!("new msg {id}").as_bytes()])
}

/// `info msg ID: bytes SIZE from <SENDER> qp PID uid UID`
pub fn info_msg(id: u64, size: u64, sender: &[u8], qp: &[u8], uid: &[u8]) -> Vec<u8> {
    cat(&[
        format!("info msg {id}: bytes {size} from <").as_bytes(),
        &safe(sender),
        b"> qp ",
        &safe(qp),
        b" uid ",
        &safe(uid),
    ])
}

/// `starting delivery D: msg ID to local|remote ADDR`
pub fn starting(delid: u64, id: u64, chan: usize, recip: &[u8]) -> Vec<u8> {
    cat(&[
        format!("starting delivery {delid}: msg {id} to {} ", CHAN[chan]).as_bytes(),
        &safe(recip),
    ])
}

/// `delivery D: success|failure|deferral: TEXT`, or `report mangled, will defer`.
pub fn result(delid: u64, status: u8, text: &[u8]) -> Vec<u8> {
    let word: &[u8] = match status {
        b'K' => b"success: ",
        b'D' => b"failure: ",
        b'Z' => b"deferral: ",
        _ => return cat(&[format!("delivery {delid}: report mangled, will defer").as_bytes()]),
    };
    cat(&[format!("delivery {delid}: ").as_bytes(), word, &safe(text)])
}

/// `bounce msg ID qp PID`
pub fn bounce_msg(id: u64, qp: u32) -> Vec<u8> {
    cat(&[format!("bounce msg {id} qp {qp}").as_bytes()])
}

/// `triple bounce: discarding bounce/ID`
pub fn triple(id: u64) -> Vec<u8> {
    cat(&[format!("triple bounce: discarding bounce/{id}").as_bytes()])
}

/// `end msg ID`
pub fn end_msg(id: u64) -> Vec<u8> {
    cat(&[format!("end msg {id}").as_bytes()])
}

/// `warning: TEXT`
pub fn warning(text: &str) -> Vec<u8> {
    cat(&[b"warning: ", text.as_bytes()])
}

/// `alert: TEXT`
pub fn alert(text: &str) -> Vec<u8> {
    cat(&[b"alert: ", text.as_bytes()])
}

/// The log descriptor. Write errors are ignored: a broken logger must not stop delivery.
pub struct Log(pub std::fs::File);

impl Log {
    /// Writes one prepared line.
    pub fn put(&mut self, line: &[u8]) {
        let _ = self.0.write_all(line);
    }
    /// `warning: TEXT`
    pub fn warn(&mut self, text: &str) {
        self.put(&warning(text));
    }
    /// `alert: TEXT`
    pub fn alert(&mut self, text: &str) {
        self.put(&alert(text));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn s(v: Vec<u8>) -> String {
        String::from_utf8(v).unwrap()
    }

    #[test]
    fn shapes() {
        assert_eq!(
            s(status([1, 0], [10, 20], false)),
            "status: local 1/10 remote 0/20\n"
        );
        assert_eq!(
            s(status([0, 2], [10, 20], true)),
            "status: local 0/10 remote 2/20 exitasap\n"
        );
        assert_eq!(s(new_msg(1054)), "new msg 1054\n");
        assert_eq!(
            s(info_msg(1054, 250, b"joe@example.org", b"4242", b"0")),
            "info msg 1054: bytes 250 from <joe@example.org> qp 4242 uid 0\n"
        );
        assert_eq!(
            s(starting(7, 1054, 0, b"fred@example.org")),
            "starting delivery 7: msg 1054 to local fred@example.org\n"
        );
        assert_eq!(
            s(starting(8, 9, 1, b"a@b")),
            "starting delivery 8: msg 9 to remote a@b\n"
        );
        assert_eq!(
            s(result(7, b'K', b"did 1+0+0\n")),
            "delivery 7: success: did_1+0+0/\n"
        );
        assert_eq!(s(result(7, b'D', b"no.\n")), "delivery 7: failure: no./\n");
        assert_eq!(
            s(result(7, b'Z', b"later")),
            "delivery 7: deferral: later\n"
        );
        assert_eq!(
            s(result(7, b'?', b"x")),
            "delivery 7: report mangled, will defer\n"
        );
        assert_eq!(s(bounce_msg(5, 99)), "bounce msg 5 qp 99\n");
        assert_eq!(s(triple(5)), "triple bounce: discarding bounce/5\n");
        assert_eq!(s(end_msg(5)), "end msg 5\n");
        assert_eq!(
            s(warning("trouble in select")),
            "warning: trouble in select\n"
        );
        assert_eq!(s(alert("oh no")), "alert: oh no\n");
    }

    #[test]
    fn hostile_fields_are_sanitised() {
        assert_eq!(
            s(info_msg(1, 2, b"a b\n%\x01\xff@x", b"1 2", b"\n")),
            "info msg 1: bytes 2 from <a_b/___@x> qp 1_2 uid /\n"
        );
        assert_eq!(
            s(result(3, b'K', b"ok\r\n250 fine%")),
            "delivery 3: success: ok_/250_fine_\n"
        );
    }
}
