//! Strict number parsing from bytes (scan_ulong, scan_8long).

/// Leading decimal digits of `s` as a number, and how many bytes they took (0: none).
/// Saturates at `u64::MAX`.
pub fn ulong(s: &[u8]) -> (u64, usize) {
    let mut n: u64 = 0;
    let mut i = 0;
    while i < s.len() && s[i].is_ascii_digit() {
        n = n.saturating_mul(10).saturating_add(u64::from(s[i] - b'0'));
        i += 1;
    }
    (n, i)
}

/// The whole of `s` as a decimal number; `None` if empty or anything but digits.
pub fn ulong_exact(s: &[u8]) -> Option<u64> {
    let (n, len) = ulong(s);
    (len > 0 && len == s.len()).then_some(n)
}

/// Leading octal digits of `s`.
pub fn octal(s: &[u8]) -> (u64, usize) {
    let mut n: u64 = 0;
    let mut i = 0;
    while i < s.len() && (b'0'..=b'7').contains(&s[i]) {
        n = n.saturating_mul(8).saturating_add(u64::from(s[i] - b'0'));
        i += 1;
    }
    (n, i)
}

#[cfg(test)]
mod tests {
    use super::*;
    #[test]
    fn numbers() {
        assert_eq!(ulong(b"123abc"), (123, 3));
        assert_eq!(ulong(b"x"), (0, 0));
        assert_eq!(ulong_exact(b"42"), Some(42));
        assert_eq!(ulong_exact(b"4 2"), None);
        assert_eq!(ulong_exact(b""), None);
        assert_eq!(octal(b"002"), (2, 3));
        assert_eq!(ulong(b"99999999999999999999999"), (u64::MAX, 23));
    }
}
