//! Socket calls std does not offer: a listener with its own backlog and IPV6_V6ONLY choice,
//! a connect bound to a chosen local address with a timeout, and IP option stripping.

use super::{cvt, retry};
use std::io;
use std::mem::size_of;
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::os::fd::{AsRawFd, BorrowedFd, FromRawFd, OwnedFd};
use std::time::Duration;

fn socket(addr: &SocketAddr) -> io::Result<OwnedFd> {
    let family = match addr {
        SocketAddr::V4(_) => libc::AF_INET,
        SocketAddr::V6(_) => libc::AF_INET6,
    };
    // SAFETY: plain system call; a fresh descriptor is returned on success.
    let fd = cvt(unsafe { libc::socket(family, libc::SOCK_STREAM | libc::SOCK_CLOEXEC, 0) })?;
    // SAFETY: socket succeeded, so we own fd.
    Ok(unsafe { OwnedFd::from_raw_fd(fd) })
}

fn setopt(fd: BorrowedFd<'_>, level: i32, name: i32, value: i32) -> io::Result<()> {
    // SAFETY: value is a live c_int and its size is passed.
    cvt(unsafe {
        libc::setsockopt(
            fd.as_raw_fd(),
            level,
            name,
            (&value as *const i32).cast(),
            size_of::<i32>() as libc::socklen_t,
        )
    })
    .map(drop)
}

/// The C form of `addr`: storage and its length.
fn raw(addr: &SocketAddr) -> (libc::sockaddr_storage, libc::socklen_t) {
    // SAFETY: an all-zero sockaddr_storage is valid; we fill the part for the family.
    let mut ss: libc::sockaddr_storage = unsafe { std::mem::zeroed() };
    let len = match addr {
        SocketAddr::V4(a) => {
            // SAFETY: sockaddr_storage is large and aligned enough for sockaddr_in.
            let sin = unsafe { &mut *(&mut ss as *mut _ as *mut libc::sockaddr_in) };
            sin.sin_family = libc::AF_INET as libc::sa_family_t;
            sin.sin_port = a.port().to_be();
            sin.sin_addr.s_addr = u32::from_ne_bytes(a.ip().octets());
            size_of::<libc::sockaddr_in>()
        }
        SocketAddr::V6(a) => {
            // SAFETY: sockaddr_storage is large and aligned enough for sockaddr_in6.
            let sin6 = unsafe { &mut *(&mut ss as *mut _ as *mut libc::sockaddr_in6) };
            sin6.sin6_family = libc::AF_INET6 as libc::sa_family_t;
            sin6.sin6_port = a.port().to_be();
            sin6.sin6_addr.s6_addr = a.ip().octets();
            sin6.sin6_flowinfo = a.flowinfo();
            sin6.sin6_scope_id = a.scope_id();
            size_of::<libc::sockaddr_in6>()
        }
    };
    (ss, len as libc::socklen_t)
}

fn bind(fd: BorrowedFd<'_>, addr: &SocketAddr) -> io::Result<()> {
    let (ss, len) = raw(addr);
    // SAFETY: ss holds a valid address of length len.
    cvt(unsafe {
        libc::bind(
            fd.as_raw_fd(),
            (&ss as *const libc::sockaddr_storage).cast(),
            len,
        )
    })
    .map(drop)
}

/// A listening TCP socket on `addr` with SO_REUSEADDR and `backlog`. For an IPv6 address,
/// `v6only` sets IPV6_V6ONLY (`Some(false)` = dual stack); `None` leaves the system default.
pub fn listen(addr: SocketAddr, backlog: i32, v6only: Option<bool>) -> io::Result<TcpListener> {
    let fd = socket(&addr)?;
    setopt(fd.as_fd_ref(), libc::SOL_SOCKET, libc::SO_REUSEADDR, 1)?;
    if let (SocketAddr::V6(_), Some(only)) = (addr, v6only) {
        setopt(
            fd.as_fd_ref(),
            libc::IPPROTO_IPV6,
            libc::IPV6_V6ONLY,
            only as i32,
        )?;
    }
    bind(fd.as_fd_ref(), &addr)?;
    // SAFETY: plain system call on our socket.
    cvt(unsafe { libc::listen(fd.as_raw_fd(), backlog) })?;
    Ok(TcpListener::from(fd))
}

/// Connects to `remote` within `timeout`, first binding to `local` when given (port 0 = any).
pub fn connect(
    remote: SocketAddr,
    local: Option<SocketAddr>,
    timeout: Duration,
) -> io::Result<TcpStream> {
    connect_staged(remote, local, timeout).map_err(|(_, e)| e)
}

/// The step of [`connect_staged`] that failed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Stage {
    /// creating the socket
    Socket,
    /// binding it to the local address
    Bind,
    /// connecting (including a timeout)
    Connect,
}

/// [`connect`], saying which step failed (tcpclient treats a bind failure as fatal and a
/// connect failure as a reason to try the next address).
pub fn connect_staged(
    remote: SocketAddr,
    local: Option<SocketAddr>,
    timeout: Duration,
) -> Result<TcpStream, (Stage, io::Error)> {
    let fd = socket(&remote).map_err(|e| (Stage::Socket, e))?;
    if let Some(l) = local {
        bind(fd.as_fd_ref(), &l).map_err(|e| (Stage::Bind, e))?;
    }
    connect_fd(fd, remote, timeout).map_err(|e| (Stage::Connect, e))
}

fn connect_fd(fd: OwnedFd, remote: SocketAddr, timeout: Duration) -> io::Result<TcpStream> {
    super::fd::set_nonblock(fd.as_fd_ref(), true)?;
    let (ss, len) = raw(&remote);
    // SAFETY: ss holds a valid address of length len.
    let r = unsafe {
        libc::connect(
            fd.as_raw_fd(),
            (&ss as *const libc::sockaddr_storage).cast(),
            len,
        )
    };
    if r == -1 {
        let e = io::Error::last_os_error();
        if e.raw_os_error() != Some(libc::EINPROGRESS) {
            return Err(e);
        }
        let deadline = std::time::Instant::now() + timeout;
        loop {
            let left = deadline.saturating_duration_since(std::time::Instant::now());
            if left.is_zero() {
                return Err(io::Error::from(io::ErrorKind::TimedOut));
            }
            let mut p = [super::fd::PollFd {
                fd: fd.as_raw_fd(),
                read: false,
                write: true,
                readable: false,
                writable: false,
            }];
            let ms = left.as_millis().clamp(1, i32::MAX as u128) as i32;
            if super::fd::poll(&mut p, ms)? > 0 {
                break;
            }
        }
        let stream = TcpStream::from(fd);
        if let Some(e) = stream.take_error()? {
            return Err(e);
        }
        super::fd::set_nonblock(std::os::fd::AsFd::as_fd(&stream), false)?;
        return Ok(stream);
    }
    super::fd::set_nonblock(fd.as_fd_ref(), false)?;
    Ok(TcpStream::from(fd))
}

/// Removes any IP options (source routes) the peer sent on an IPv4 connection; a no-op for IPv6.
pub fn kill_ip_options(fd: BorrowedFd<'_>) -> io::Result<()> {
    // SAFETY: a null option buffer of length 0 clears IP_OPTIONS.
    let r = retry(|| unsafe {
        libc::setsockopt(
            fd.as_raw_fd(),
            libc::IPPROTO_IP,
            libc::IP_OPTIONS,
            std::ptr::null(),
            0,
        )
    });
    match r {
        Err(e) if e.raw_os_error() == Some(libc::ENOPROTOOPT) => Ok(()),
        Err(e) if e.raw_os_error() == Some(libc::EINVAL) => Ok(()),
        other => other.map(drop),
    }
}

trait AsFdRef {
    fn as_fd_ref(&self) -> BorrowedFd<'_>;
}

impl AsFdRef for OwnedFd {
    fn as_fd_ref(&self) -> BorrowedFd<'_> {
        std::os::fd::AsFd::as_fd(self)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::{Read, Write};

    #[test]
    fn listen_connect_from_chosen_local_address() {
        let l = listen("127.0.0.1:0".parse().unwrap(), 5, None).unwrap();
        let port = l.local_addr().unwrap().port();
        let remote: SocketAddr = format!("127.0.0.1:{port}").parse().unwrap();
        let local: SocketAddr = "127.0.0.1:0".parse().unwrap();
        let mut c = connect(remote, Some(local), Duration::from_secs(5)).unwrap();
        let (mut s, peer) = l.accept().unwrap();
        assert_eq!(peer, c.local_addr().unwrap());
        kill_ip_options(std::os::fd::AsFd::as_fd(&s)).unwrap();
        c.write_all(b"hi").unwrap();
        let mut buf = [0; 2];
        s.read_exact(&mut buf).unwrap();
        assert_eq!(&buf, b"hi");
    }

    #[test]
    fn refused_connect_is_an_error() {
        let l = listen("127.0.0.1:0".parse().unwrap(), 1, None).unwrap();
        let addr = l.local_addr().unwrap();
        drop(l);
        let e = connect(addr, None, Duration::from_secs(5)).unwrap_err();
        assert_eq!(e.kind(), io::ErrorKind::ConnectionRefused);
    }
}
