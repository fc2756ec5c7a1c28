//! The dates qmail writes, always in GMT: the RFC 822 form of Received and Date lines
//! (`28 Nov 2026 23:58:45 -0000`) and the mbox From_ form (`Sat Nov 28 23:58:45 2026`).

use std::time::{SystemTime, UNIX_EPOCH};

const MONTHS: [&str; 12] = [
    "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
];
const DAYS: [&str; 7] = ["Thu", "Fri", "Sat", "Sun", "Mon", "Tue", "Wed"];

/// Broken-down GMT time.
#[derive(Debug, PartialEq, Eq, Clone, Copy)]
pub struct Civil {
    /// year
    pub year: i64,
    /// 1–12
    pub month: u32,
    /// 1–31
    pub day: u32,
    /// 0–23
    pub hour: u32,
    /// 0–59
    pub min: u32,
    /// 0–60
    pub sec: u32,
    /// 0 = Thursday (1970-01-01 was a Thursday)
    wday: usize,
}

/// Seconds since the epoch → civil date (proleptic Gregorian).
pub fn civil(secs: i64) -> Civil {
    let days = secs.div_euclid(86400);
    let rem = secs.rem_euclid(86400);
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let month = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let year = yoe + era * 400 + i64::from(month <= 2);
    Civil {
        year,
        month,
        day,
        hour: (rem / 3600) as u32,
        min: (rem % 3600 / 60) as u32,
        sec: (rem % 60) as u32,
        wday: days.rem_euclid(7) as usize,
    }
}

/// Days since 1970-01-01 of a civil date (proleptic Gregorian); the inverse of [`civil`].
pub fn days_from_civil(year: i64, month: u32, day: u32) -> i64 {
    let y = if month <= 2 { year - 1 } else { year };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let m = i64::from(month);
    let doy = (153 * (if m > 2 { m - 3 } else { m + 9 }) + 2) / 5 + i64::from(day) - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// Seconds since the epoch for `t`.
pub fn secs(t: SystemTime) -> i64 {
    match t.duration_since(UNIX_EPOCH) {
        Ok(d) => d.as_secs() as i64,
        Err(e) => -(e.duration().as_secs() as i64),
    }
}

/// `28 Nov 2026 23:58:45 -0000`
pub fn rfc822(secs: i64) -> String {
    let c = civil(secs);
    format!(
        "{} {} {} {:02}:{:02}:{:02} -0000",
        c.day,
        MONTHS[c.month as usize - 1],
        c.year,
        c.hour,
        c.min,
        c.sec
    )
}

/// `Sat Nov 28 23:58:45 2026` (day of month zero-padded, unlike asctime)
pub fn mbox(secs: i64) -> String {
    let c = civil(secs);
    format!(
        "{} {} {:02} {:02}:{:02}:{:02} {}",
        DAYS[c.wday],
        MONTHS[c.month as usize - 1],
        c.day,
        c.hour,
        c.min,
        c.sec,
        c.year
    )
}

/// `YYYYMMDDHHMMSS` (qmail-inject's Message-ID stamp)
pub fn compact(secs: i64) -> String {
    let c = civil(secs);
    format!(
        "{}{:02}{:02}{:02}{:02}{:02}",
        c.year, c.month, c.day, c.hour, c.min, c.sec
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    #[test]
    fn known_dates() {
        assert_eq!(rfc822(0), "1 Jan 1970 00:00:00 -0000");
        assert_eq!(mbox(0), "Thu Jan 01 00:00:00 1970");
        assert_eq!(rfc822(1_795_996_725), "29 Nov 2026 23:58:45 -0000");
        assert_eq!(mbox(951_782_400), "Tue Feb 29 00:00:00 2000");
        assert_eq!(compact(951_782_401), "20000229000001");
        for secs in [0, 951_782_400, 1_795_996_725, -86_400 * 400] {
            let c = civil(secs);
            let back = days_from_civil(c.year, c.month, c.day) * 86400
                + i64::from(c.hour * 3600 + c.min * 60 + c.sec);
            assert_eq!(back, secs);
        }
    }
}
