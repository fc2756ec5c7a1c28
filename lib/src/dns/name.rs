//! Domain names: dotted text → wire form (djbdns `dns_domain_fromdot`), wire form → host-name
//! text (`dns_domain_todot`), case-insensitive comparison, and the strict reading of a
//! possibly compressed name out of an answer packet.
//!
//! Wire form here is the uncompressed sequence of length-prefixed labels ending in a zero
//! byte; it is at most 255 bytes, each label at most 63.

use super::Malformed;

/// Longest name in wire form, the final zero included.
pub const MAX_NAME: usize = 255;
/// Longest label.
pub const MAX_LABEL: usize = 63;
/// Most compression pointers followed in one name. Pointers must also go strictly backwards,
/// which alone makes a loop impossible; this is a second bound.
const MAX_HOPS: usize = 64;

/// Dotted text → wire form. Empty labels are skipped (so a trailing dot changes nothing);
/// `\ooo` (one to three octal digits) is that byte and `\c` is `c`. `None` if a label or the
/// whole name is too long.
pub fn from_dot(text: &[u8]) -> Option<Vec<u8>> {
    let mut wire = Vec::with_capacity(text.len() + 2);
    let mut label: Vec<u8> = Vec::new();
    let mut i = 0;
    while i < text.len() {
        let c = text[i];
        i += 1;
        match c {
            b'.' => {
                push_label(&mut wire, &mut label)?;
                continue;
            }
            b'\\' => {
                let mut n: u32 = 0;
                let mut digits = 0;
                while digits < 3 && i < text.len() && (b'0'..=b'7').contains(&text[i]) {
                    n = n * 8 + u32::from(text[i] - b'0');
                    i += 1;
                    digits += 1;
                }
                if digits > 0 {
                    label.push(n as u8);
                } else if i < text.len() {
                    label.push(text[i]);
                    i += 1;
                }
            }
            _ => label.push(c),
        }
        if label.len() > MAX_LABEL {
            return None;
        }
    }
    push_label(&mut wire, &mut label)?;
    wire.push(0);
    (wire.len() <= MAX_NAME).then_some(wire)
}

fn push_label(wire: &mut Vec<u8>, label: &mut Vec<u8>) -> Option<()> {
    if label.is_empty() {
        return Some(());
    }
    if label.len() > MAX_LABEL || wire.len() + 1 + label.len() >= MAX_NAME {
        return None;
    }
    wire.push(label.len() as u8);
    wire.append(label);
    Some(())
}

/// Wire form → host-name text (ucspi.md §1.3): labels joined by `.`, no trailing dot,
/// `A`–`Z` lower-cased, every byte other than `a`–`z`, `0`–`9`, `-`, `_` as `\ooo`.
/// The root name is `.`.
pub fn to_dot(wire: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(wire.len());
    let mut i = 0;
    while let Some(&len) = wire.get(i) {
        if len == 0 {
            break;
        }
        let label = wire.get(i + 1..i + 1 + len as usize).unwrap_or(&[]);
        if !out.is_empty() {
            out.push(b'.');
        }
        for &c in label {
            match c {
                b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' => out.push(c),
                b'A'..=b'Z' => out.push(c + 32),
                _ => {
                    out.push(b'\\');
                    out.push(b'0' + (c >> 6));
                    out.push(b'0' + ((c >> 3) & 7));
                    out.push(b'0' + (c & 7));
                }
            }
        }
        i += 1 + len as usize;
    }
    if out.is_empty() {
        out.push(b'.');
    }
    out
}

/// Two wire-form names are the same name (ASCII case ignored).
pub fn equal(a: &[u8], b: &[u8]) -> bool {
    a.eq_ignore_ascii_case(b)
}

/// Reads the name at `pos` in `pkt`, following compression pointers. Returns the name in wire
/// form and the position just after it (after the first pointer, if any).
///
/// Refused: a pointer that does not point strictly before the labels it ends, more than
/// `MAX_HOPS` pointers, a label type other than 00/11, anything past the end of the packet, a
/// name over 255 bytes.
pub fn read(pkt: &[u8], mut pos: usize) -> Result<(Vec<u8>, usize), Malformed> {
    let mut wire = Vec::new();
    let mut after = None;
    let mut segment = pos;
    let mut hops = 0;
    loop {
        let c = *pkt.get(pos).ok_or(Malformed)?;
        match c & 0xc0 {
            0xc0 => {
                let low = *pkt.get(pos + 1).ok_or(Malformed)?;
                let target = (usize::from(c & 0x3f) << 8) | usize::from(low);
                if target >= segment {
                    return Err(Malformed);
                }
                hops += 1;
                if hops > MAX_HOPS {
                    return Err(Malformed);
                }
                after.get_or_insert(pos + 2);
                pos = target;
                segment = target;
            }
            0x00 if c == 0 => {
                wire.push(0);
                return Ok((wire, after.unwrap_or(pos + 1)));
            }
            0x00 => {
                let len = usize::from(c);
                let label = pkt.get(pos + 1..pos + 1 + len).ok_or(Malformed)?;
                if wire.len() + 1 + len >= MAX_NAME {
                    return Err(Malformed);
                }
                wire.push(c);
                wire.extend_from_slice(label);
                pos += 1 + len;
            }
            _ => return Err(Malformed),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn from_dot_forms() {
        assert_eq!(from_dot(b"a.Bc").as_deref(), Some(&b"\x01a\x02Bc\x00"[..]));
        assert_eq!(from_dot(b"a.bc.").as_deref(), Some(&b"\x01a\x02bc\x00"[..]));
        assert_eq!(from_dot(b"a..bc").as_deref(), Some(&b"\x01a\x02bc\x00"[..]));
        assert_eq!(from_dot(b"").as_deref(), Some(&b"\x00"[..]));
        assert_eq!(from_dot(b".").as_deref(), Some(&b"\x00"[..]));
        assert_eq!(
            from_dot(b"a\\056b\\.c\\040.d").as_deref(),
            Some(&b"\x06a.b.c \x01d\x00"[..])
        );
        assert_eq!(from_dot(&[b'x'; 63]).map(|w| w.len()), Some(65));
        assert_eq!(from_dot(&[b'x'; 64]), None);
        let long: Vec<u8> = b"abcdefghi.".repeat(25);
        assert_eq!(from_dot(&long).map(|w| w.len()), Some(251));
        let too_long: Vec<u8> = b"abcdefghi.".repeat(26);
        assert_eq!(from_dot(&too_long), None);
    }

    #[test]
    fn to_dot_forms() {
        assert_eq!(
            to_dot(b"\x04Mail\x07Example\x03org\x00"),
            b"mail.example.org"
        );
        assert_eq!(to_dot(b"\x00"), b".");
        assert_eq!(to_dot(b"\x05a b_-\x01\xff\x00"), b"a\\040b_-.\\377");
        assert_eq!(to_dot(b"\x03a.b\x00"), b"a\\056b");
        let round = from_dot(&to_dot(b"\x03a.b\x02\x00Z\x00")).expect("fits");
        assert_eq!(round, b"\x03a.b\x02\x00z\x00");
    }

    #[test]
    fn read_plain_and_compressed() {
        let pkt = b"\x03foo\x03bar\x00\x03baz\xc0\x00\xc0\x04";
        assert_eq!(read(pkt, 0), Ok((b"\x03foo\x03bar\x00".to_vec(), 9)));
        assert_eq!(
            read(pkt, 9),
            Ok((b"\x03baz\x03foo\x03bar\x00".to_vec(), 15))
        );
        assert_eq!(read(pkt, 15), Ok((b"\x03bar\x00".to_vec(), 17)));
    }

    #[test]
    fn read_refuses_hostile_names() {
        // pointer to itself, pointer forward, pointer past the end
        assert_eq!(read(b"\xc0\x00", 0), Err(Malformed));
        assert_eq!(read(b"\x01a\xc0\x00", 0), Err(Malformed));
        assert_eq!(read(b"\x00\xc0\x04\x00\x00", 1), Err(Malformed));
        assert_eq!(read(b"\x00\xc0\x40", 1), Err(Malformed));
        // two names pointing at each other's middle: a loop
        assert_eq!(read(b"\x01a\xc0\x04\x01b\xc0\x00", 4), Err(Malformed));
        // label past the end, pointer cut in half, missing terminator, reserved label types
        assert_eq!(read(b"\x05ab", 0), Err(Malformed));
        assert_eq!(read(b"\x01a\xc0", 0), Err(Malformed));
        assert_eq!(read(b"\x01a", 0), Err(Malformed));
        assert_eq!(read(b"\x41a\x00", 0), Err(Malformed));
        assert_eq!(read(b"\x81a\x00", 0), Err(Malformed));
        // over 255 bytes by chained labels
        let mut long = Vec::new();
        for _ in 0..5 {
            long.push(63);
            long.extend_from_slice(&[b'x'; 63]);
        }
        long.push(0);
        assert_eq!(read(&long, 0), Err(Malformed));
        // a long chain of backward pointers is bounded
        let mut chain = vec![0u8];
        for i in 0..100u16 {
            let at = if i == 0 { 0 } else { 1 + 2 * (i - 1) };
            chain.extend_from_slice(&[0xc0 | (at >> 8) as u8, at as u8]);
        }
        assert_eq!(read(&chain, chain.len() - 2), Err(Malformed));
        assert!(read(&chain, 1 + 2 * 10).is_ok());
    }
}
