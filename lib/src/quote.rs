//! Quoting an address's local part for a header or an SMTP command (quote.c).

fn atom_ok(c: u8) -> bool {
    c.is_ascii_alphanumeric() || b"!#$%&'*+-/=?^_`{|}~.".contains(&c)
}

/// Whether the local part can be written without quotes.
fn bare(local: &[u8]) -> bool {
    !local.is_empty()
        && local.iter().all(|&c| atom_ok(c))
        && local[0] != b'.'
        && local[local.len() - 1] != b'.'
        && !local.windows(2).any(|w| w == b"..")
}

/// The local part, quoted if it needs to be.
pub fn local(l: &[u8]) -> Vec<u8> {
    if bare(l) {
        return l.to_vec();
    }
    let mut out = Vec::with_capacity(l.len() + 2);
    out.push(b'"');
    for &c in l {
        if matches!(c, b'\r' | b'\n' | b'"' | b'\\') {
            out.push(b'\\');
        }
        out.push(c);
    }
    out.push(b'"');
    out
}

/// `local@domain` with the local part quoted as needed (split at the last `@`); the empty
/// address stays empty; an address without `@` is quoted whole.
pub fn address(addr: &[u8]) -> Vec<u8> {
    if addr.is_empty() {
        return Vec::new();
    }
    match memchr::memrchr(b'@', addr) {
        Some(i) => {
            let mut out = local(&addr[..i]);
            out.extend_from_slice(&addr[i..]);
            out
        }
        None => local(addr),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    #[test]
    fn quoting() {
        assert_eq!(address(b"joe@x.org"), b"joe@x.org");
        assert_eq!(address(b"a b@x"), b"\"a b\"@x");
        assert_eq!(address(b"@x"), b"\"\"@x");
        assert_eq!(address(b""), b"");
        assert_eq!(address(b"a..b@x"), b"\"a..b\"@x");
        assert_eq!(address(b"q\"\\@x"), b"\"q\\\"\\\\\"@x");
        assert_eq!(address(b"a@b@c"), b"\"a@b\"@c");
    }
}
