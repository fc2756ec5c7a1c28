//! TAI64N labels: `@` and 24 hex digits, as multilog and tai64n write them.

use std::time::{SystemTime, UNIX_EPOCH};

/// TAI64 label of the Unix epoch: 2^62 + 10 (TAI−UTC in 1970).
const EPOCH: u64 = (1 << 62) + 10;

/// The label for `t`.
pub fn label(t: SystemTime) -> String {
    let d = t.duration_since(UNIX_EPOCH).unwrap_or_default();
    format!("@{:016x}{:08x}", EPOCH + d.as_secs(), d.subsec_nanos())
}

/// The label for now.
pub fn now() -> String {
    label(SystemTime::now())
}

/// Seconds and nanoseconds since the Unix epoch for a label (with or without `@`).
pub fn parse(s: &[u8]) -> Option<(u64, u32)> {
    let s = s.strip_prefix(b"@").unwrap_or(s);
    if s.len() < 24 {
        return None;
    }
    let hex = std::str::from_utf8(&s[..24]).ok()?;
    let secs = u64::from_str_radix(&hex[..16], 16).ok()?;
    let nanos = u32::from_str_radix(&hex[16..], 16).ok()?;
    Some((secs.checked_sub(EPOCH)?, nanos))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;
    #[test]
    fn epoch() {
        let t = UNIX_EPOCH + Duration::new(1, 500);
        assert_eq!(label(t), "@400000000000000b000001f4");
        assert_eq!(parse(b"@400000000000000b000001f4"), Some((1, 500)));
    }
}
