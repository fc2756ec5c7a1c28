//! Making hostile bytes safe for a log line (qmail-send's logsafe rule).

/// newline → `/`; bytes outside 33–126 and `%` → `_`.
pub fn safe(s: &[u8]) -> Vec<u8> {
    s.iter()
        .map(|&c| match c {
            b'\n' => b'/',
            b'%' => b'_',
            33..=126 => c,
            _ => b'_',
        })
        .collect()
}

#[cfg(test)]
mod tests {
    #[test]
    fn safe() {
        assert_eq!(super::safe(b"a b\nc%\xff~"), b"a_b/c__~");
    }
}
