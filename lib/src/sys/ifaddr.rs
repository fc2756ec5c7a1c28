//! This host's own IP addresses, from the network interfaces (qmail's ipme.c).

use super::cvt;
use std::io;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

/// [`getifaddrs()`](https://man7.org/linux/man-pages/man3/getifaddrs.3.html): every IPv4 and
/// IPv6 address configured on an interface of this host (up or not), in the kernel's order,
/// duplicates removed.
pub fn local_ips() -> io::Result<Vec<IpAddr>> {
    let mut head: *mut libc::ifaddrs = std::ptr::null_mut();
    // SAFETY: getifaddrs fills `head` with a list we free below with freeifaddrs.
    cvt(unsafe { libc::getifaddrs(&mut head) })?;
    let mut ips = Vec::new();
    let mut p = head;
    while !p.is_null() {
        // SAFETY: p is a node of the list getifaddrs returned, valid until freeifaddrs.
        let ifa = unsafe { &*p };
        // SAFETY: ifa_addr is null or points to a sockaddr whose family says its real type.
        if let Some(ip) = unsafe { ip_of(ifa.ifa_addr) } {
            if !ips.contains(&ip) {
                ips.push(ip);
            }
        }
        p = ifa.ifa_next;
    }
    // SAFETY: head came from getifaddrs and is freed once.
    unsafe { libc::freeifaddrs(head) };
    Ok(ips)
}

/// The address in `sa`, if it is IPv4 or IPv6.
///
/// # Safety
/// `sa` is null or points to a sockaddr of the size its family implies.
unsafe fn ip_of(sa: *const libc::sockaddr) -> Option<IpAddr> {
    if sa.is_null() {
        return None;
    }
    // SAFETY: the caller's contract: a valid sockaddr, read as the type its family names.
    unsafe {
        match i32::from((*sa).sa_family) {
            libc::AF_INET => {
                let s = &*sa.cast::<libc::sockaddr_in>();
                Some(IpAddr::V4(Ipv4Addr::from(u32::from_be(s.sin_addr.s_addr))))
            }
            libc::AF_INET6 => {
                let s = &*sa.cast::<libc::sockaddr_in6>();
                Some(IpAddr::V6(Ipv6Addr::from(s.sin6_addr.s6_addr)))
            }
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn loopback_is_ours() {
        let ips = super::local_ips().unwrap();
        assert!(
            ips.contains(&std::net::IpAddr::from([127, 0, 0, 1])),
            "{ips:?}"
        );
    }
}
