//! The local time zone, which std does not know: the UTC offset in effect at a given moment.

/// [`localtime_r()`](https://pubs.opengroup.org/onlinepubs/9799919799/functions/localtime_r.html):
/// seconds east of UTC in the local time zone (`TZ`, else `/etc/localtime`) at `secs` after the
/// epoch; 0 if the C library cannot tell.
pub fn utc_offset(secs: i64) -> i64 {
    // musl's libc crate marks time_t deprecated (its width changed on 32-bit targets); it is
    // 64 bits on every target rqmail builds for.
    #[allow(deprecated)]
    let t = secs as libc::time_t;
    // SAFETY: an all-zero `tm` is a valid value (integers and a null zone pointer).
    let mut tm: libc::tm = unsafe { std::mem::zeroed() };
    // SAFETY: both pointers are valid for the call; localtime_r writes only into `tm`.
    let r = unsafe { libc::localtime_r(&t, &mut tm) };
    if r.is_null() {
        0
    } else {
        tm.tm_gmtoff as i64
    }
}
