//! Access rules for tcpserver (ucspi-tcp's rules.c and tcprules.c): compiling the text
//! form into cdb records, and finding the record that decides a connection.
//!
//! Text form (one rule a line): `address:allow` or `address:deny`, then any number of
//! `,NAME=QvalueQ` with Q any byte. Lines starting with `#`, empty lines and lines without a
//! `:` are skipped; trailing spaces, tabs and LF are dropped. Beyond djb, as in ucspi-tcp6:
//! an IPv6 address (`2001:db8::1`, stored expanded), `info@IPv6`, and CIDR blocks
//! `a.b.c.d/n` and `IPv6/n` (stored as ucspi-tcp6's `_`/`^` bit keys).
//!
//! **Where the address ends.** djb ends it at the first `:`, which cannot hold an IPv6
//! address. Here it ends at the first `:` that is followed by `allow` or `deny` and then the
//! end of the line or a `,`; only when no `:` is followed like that does the first `:` count
//! (and the line is then a syntax error, as in djb). Every line djb accepts is split at the
//! same place, so djb-format files compile to the same bytes; hex digits never spell
//! `allow` or `deny`, so IPv6 addresses need no brackets.
//!
//! Lookup order (first key present decides, first record only): `info@ip`, `info@=host`,
//! `ip`, `=host`, the IPv4 prefixes ending in `.` (longest first), the CIDR keys (longest
//! first, down to 2 bits), `=.suffix` (longest first), `=`, and the empty key. An IPv6 peer
//! is looked up by its expanded form.

use crate::cdb::Cdb;
use std::io;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

/// One compiled record: key and data.
pub type Record = (Vec<u8>, Vec<u8>);

/// The records for one line of rules text (without its LF): `Ok(vec![])` for a line that
/// is skipped, `Err(())` for a syntax error.
#[allow(clippy::result_unit_err)]
pub fn compile_line(line: &[u8]) -> Result<Vec<Record>, ()> {
    let line = strip(line);
    if line.is_empty() || line[0] == b'#' {
        return Ok(Vec::new());
    }
    let Some(colon) = address_end(line) else {
        return Ok(Vec::new());
    };
    let address = &line[..colon];
    let mut x = &line[colon + 1..];
    let mut data = Vec::new();
    if let Some(rest) = x.strip_prefix(b"deny") {
        data.extend_from_slice(b"D\0");
        x = rest;
    } else if let Some(rest) = x.strip_prefix(b"allow") {
        x = rest;
    } else {
        return Err(());
    }
    while !x.is_empty() {
        if x[0] != b',' {
            return Err(());
        }
        x = &x[1..];
        let eq = memchr::memchr(b'=', x).ok_or(())?;
        if eq == 0 {
            return Err(());
        }
        data.push(b'+');
        data.extend_from_slice(&x[..=eq]);
        x = &x[eq + 1..];
        let (&delim, rest) = x.split_first().ok_or(())?;
        let end = memchr::memchr(delim, rest).ok_or(())?;
        data.extend_from_slice(&rest[..end]);
        data.push(0);
        x = &rest[end + 1..];
    }
    Ok(keys_of(address)?
        .into_iter()
        .map(|k| (k, data.clone()))
        .collect())
}

/// The line without trailing spaces, tabs and LFs.
fn strip(mut line: &[u8]) -> &[u8] {
    while let [rest @ .., b' ' | b'\t' | b'\n'] = line {
        line = rest;
    }
    line
}

/// The `:` that ends the address (see the module doc).
fn address_end(line: &[u8]) -> Option<usize> {
    let first = memchr::memchr(b':', line)?;
    let instruction = |at: usize| {
        let after = &line[at + 1..];
        [&b"allow"[..], b"deny"]
            .iter()
            .any(|w| after.starts_with(w) && matches!(after.get(w.len()), None | Some(b',')))
    };
    Some(
        memchr::memchr_iter(b':', line)
            .find(|&at| instruction(at))
            .unwrap_or(first),
    )
}

/// The cdb keys an address stands for.
fn keys_of(address: &[u8]) -> Result<Vec<Vec<u8>>, ()> {
    if memchr::memchr(b'=', address).is_some() {
        return Ok(vec![address.to_vec()]);
    }
    let (info, addr) = match memchr::memrchr(b'@', address) {
        Some(at) => (Some(&address[..=at]), &address[at + 1..]),
        None => (None, address),
    };
    if memchr::memchr(b':', addr).is_some() {
        return ipv6_key(info, addr).map(|k| vec![k]);
    }
    if info.is_some() {
        return Ok(vec![address.to_vec()]);
    }
    if let Some(key) = ipv4_cidr_key(addr) {
        return Ok(vec![key]);
    }
    ranges(address)
}

fn ipv6_key(info: Option<&[u8]>, addr: &[u8]) -> Result<Vec<u8>, ()> {
    let text = std::str::from_utf8(addr).map_err(drop)?;
    let mut key = info.unwrap_or_default().to_vec();
    match text.split_once('/') {
        Some((a, n)) if info.is_none() => {
            let ip: Ipv6Addr = a.parse().map_err(drop)?;
            let n = crate::scan::ulong_exact(n.as_bytes()).ok_or(())?;
            if !(1..=128).contains(&n) {
                return Err(());
            }
            key = bits6(ip, n as usize);
        }
        Some(_) => return Err(()),
        None => {
            let ip: Ipv6Addr = text.parse().map_err(drop)?;
            key.extend_from_slice(crate::ip::expanded(ip).as_bytes());
        }
    }
    Ok(key)
}

fn ipv4_cidr_key(addr: &[u8]) -> Option<Vec<u8>> {
    let slash = memchr::memchr(b'/', addr)?;
    let ip: Ipv4Addr = std::str::from_utf8(&addr[..slash]).ok()?.parse().ok()?;
    let n = crate::scan::ulong_exact(&addr[slash + 1..])?;
    (1..=32).contains(&n).then(|| bits4(ip, n as usize))
}

/// ucspi-tcp6's IPv4 CIDR key: `_`, then per leading bit `0` or the bit's own letter.
pub fn bits4(ip: Ipv4Addr, n: usize) -> Vec<u8> {
    const LETTERS: &[u8; 32] = b"abcdefghijklmnopqrstuvwxyz123456";
    let v = u32::from(ip);
    let mut key = vec![b'_'];
    key.extend((0..n.min(32)).map(|i| {
        if v & (1 << (31 - i)) != 0 {
            LETTERS[i]
        } else {
            b'0'
        }
    }));
    key
}

/// ucspi-tcp6's IPv6 CIDR key: `^`, then per leading bit `0`, or for a one bit a byte
/// that starts at 0x60 and goes up by one with each one bit.
pub fn bits6(ip: Ipv6Addr, n: usize) -> Vec<u8> {
    let v = u128::from(ip);
    let mut key = vec![b'^'];
    let mut one = 0x60u8;
    for i in 0..n.min(128) {
        if v & (1 << (127 - i)) != 0 {
            key.push(one);
            one = one.wrapping_add(1);
        } else {
            key.push(b'0');
        }
    }
    key
}

/// djb's ranges: `1.2.3.37-53`, `10.2-3.` (one `-`, numbers of its component only).
fn ranges(address: &[u8]) -> Result<Vec<Vec<u8>>, ()> {
    let Some(dash) = memchr::memchr(b'-', address) else {
        return Ok(vec![address.to_vec()]);
    };
    let left = memchr::memrchr(b'.', &address[..dash]).map_or(0, |d| d + 1);
    let right = memchr::memchr(b'.', &address[dash + 1..]).map_or(address.len(), |d| dash + 1 + d);
    let bot = number(&address[left..dash])?;
    let top = number(&address[dash + 1..right])?.min(255);
    let mut keys = Vec::new();
    let mut n = bot;
    while n <= top {
        let mut key = address[..left].to_vec();
        key.extend_from_slice(n.to_string().as_bytes());
        key.extend_from_slice(&address[right..]);
        keys.push(key);
        n += 1;
    }
    Ok(keys)
}

/// A range bound: decimal digits only (none = 0), wrapping like the original's arithmetic.
fn number(s: &[u8]) -> Result<u64, ()> {
    s.iter().try_fold(0u64, |n, &c| {
        if c.is_ascii_digit() {
            Ok(n.wrapping_mul(10).wrapping_add(u64::from(c - b'0')))
        } else {
            Err(())
        }
    })
}

/// The keys tried for a peer, in order. `ip` is the address text as tcpserver writes it
/// (`TCPREMOTEIP`); `host` the verified remote name; `info` the ident answer.
pub fn keys(ip: &[u8], host: Option<&[u8]>, info: Option<&[u8]>) -> Vec<Vec<u8>> {
    let v6 = memchr::memchr(b':', ip).is_some();
    let parsed = crate::ip::parse(ip);
    let exact: Vec<u8> = match parsed {
        Some(IpAddr::V6(a)) if v6 => crate::ip::expanded(a).into_bytes(),
        _ => ip.to_vec(),
    };
    let cat = |parts: &[&[u8]]| parts.concat();
    let mut k = Vec::new();
    if let Some(info) = info {
        k.push(cat(&[info, b"@", &exact]));
        if let Some(host) = host {
            k.push(cat(&[info, b"@=", host]));
        }
    }
    k.push(exact.clone());
    if let Some(host) = host {
        k.push(cat(&[b"=", host]));
    }
    if !v6 {
        k.extend(
            (1..=ip.len())
                .rev()
                .filter(|&n| ip[n - 1] == b'.')
                .map(|n| ip[..n].to_vec()),
        );
    }
    match parsed {
        Some(IpAddr::V6(a)) if v6 => k.extend((2..=128).rev().map(|n| bits6(a, n))),
        Some(IpAddr::V4(a)) if !v6 => k.extend((2..=32).rev().map(|n| bits4(a, n))),
        _ => {}
    }
    if let Some(host) = host {
        k.extend(
            (0..host.len())
                .filter(|&i| host[i] == b'.')
                .map(|i| cat(&[b"=", &host[i..]])),
        );
        k.push(b"=".to_vec());
    }
    k.push(Vec::new());
    k
}

/// The deciding rule for a peer: the key that matched and its record's data; `None` when
/// no key is present (allow, nothing to set).
pub fn find(
    cdb: &Cdb,
    ip: &[u8],
    host: Option<&[u8]>,
    info: Option<&[u8]>,
) -> io::Result<Option<Record>> {
    for key in keys(ip, host, info) {
        if let Some(data) = cdb.find(&key)? {
            return Ok(Some((key, data)));
        }
    }
    Ok(None)
}

/// One item of a rule's data.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Item<'a> {
    /// `D`: deny the connection
    Deny,
    /// `+NAME=value` (the text after `+`)
    Set(&'a [u8]),
}

/// The NUL-terminated items of a rule's data, in order; unknown items are left out.
pub fn items(mut data: &[u8]) -> Vec<Item<'_>> {
    let mut v = Vec::new();
    while let Some(nul) = memchr::memchr(0, data) {
        match data[0] {
            b'D' => v.push(Item::Deny),
            b'+' => v.push(Item::Set(&data[1..nul])),
            _ => {}
        }
        data = &data[nul + 1..];
    }
    v
}

/// A CIDR key (`_…` or `^…`) as `address/bits` for display; `None` for other keys.
pub fn cidr_text(key: &[u8]) -> Option<String> {
    let (&kind, bits) = key.split_first()?;
    if bits.is_empty() || !matches!(kind, b'_' | b'^') {
        return None;
    }
    let max = if kind == b'_' { 32 } else { 128 };
    if bits.len() > max {
        return None;
    }
    let mut v: u128 = 0;
    for (i, &b) in bits.iter().enumerate() {
        if b != b'0' {
            v |= 1 << (max - 1 - i);
        }
    }
    let ip = if kind == b'_' {
        IpAddr::V4(Ipv4Addr::from(v as u32))
    } else {
        IpAddr::V6(Ipv6Addr::from(v))
    };
    Some(format!("{}/{}", crate::ip::text(ip), bits.len()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn one(line: &str) -> Vec<(String, String)> {
        compile_line(line.as_bytes())
            .unwrap()
            .into_iter()
            .map(|(k, d)| {
                (
                    String::from_utf8_lossy(&k).into_owned(),
                    String::from_utf8_lossy(&d).into_owned(),
                )
            })
            .collect()
    }

    fn pair(k: &str, d: &str) -> (String, String) {
        (k.to_string(), d.to_string())
    }

    #[test]
    fn djb_syntax() {
        assert_eq!(one("1.2.3.4:deny"), vec![pair("1.2.3.4", "D\0")]);
        assert_eq!(
            one("1.2.3.:allow,A=\"x\",B=/y:z/  \t\n"),
            vec![pair("1.2.3.", "+A=x\0+B=y:z\0")]
        );
        assert_eq!(one(":allow,X=\"\""), vec![pair("", "+X=\0")]);
        assert_eq!(
            one("=.example.com:deny"),
            vec![pair("=.example.com", "D\0")]
        );
        assert_eq!(one("joe@=h.x:allow"), vec![pair("joe@=h.x", "")]);
        assert_eq!(one("  #x:allow"), vec![pair("  #x", "")]);
        assert!(one("#1.2.3.4:deny").is_empty());
        assert!(one("no colon here").is_empty());
        assert!(one("").is_empty());
        assert_eq!(one("a,b:allow,X=,a,"), vec![pair("a,b", "+X=a\0")]);
        for bad in [
            "a:allox",
            "a:allow ,X=\"1\"",
            "a:allow,X",
            "a:allow,=Y\"z\"",
            "a:allow,X=",
            "a:allow,X=\"1",
            "a:allow\r",
            "a:deny,X:1:2",
            "a:denyx",
            "joe:x:allox",
        ] {
            assert_eq!(compile_line(bad.as_bytes()), Err(()), "{bad}");
        }
    }

    #[test]
    fn djb_ranges() {
        let keys = |l: &str| one(l).into_iter().map(|(k, _)| k).collect::<Vec<_>>();
        assert_eq!(keys("1.2.3.4-6:deny"), ["1.2.3.4", "1.2.3.5", "1.2.3.6"]);
        assert_eq!(keys("10.2-3.:deny"), ["10.2.", "10.3."]);
        assert_eq!(keys("1-2.3:deny"), ["1.3", "2.3"]);
        assert_eq!(keys("1.2.3.-1:deny"), ["1.2.3.0", "1.2.3.1"]);
        assert_eq!(keys("1.2.3.0004-5:deny"), ["1.2.3.4", "1.2.3.5"]);
        assert_eq!(keys("1.2.3.254-300:deny"), ["1.2.3.254", "1.2.3.255"]);
        assert!(keys("1.2.3.5-4:deny").is_empty());
        assert!(keys("1.2.3.4-:deny").is_empty());
        assert_eq!(keys("x@1.2.3.4-5:deny"), ["x@1.2.3.4-5"]);
        assert_eq!(keys("=a-b.c:deny"), ["=a-b.c"]);
        assert_eq!(compile_line(b"1.2.3.x-5:deny"), Err(()));
        assert_eq!(compile_line(b"1.2.3.4-5-6:deny"), Err(()));
    }

    #[test]
    fn ipv6_and_cidr() {
        assert_eq!(
            one("2001:db8::1:allow,X=\"y\""),
            vec![pair("2001:0DB8:0000:0000:0000:0000:0000:0001", "+X=y\0")]
        );
        assert_eq!(
            one("joe@::1:deny"),
            vec![pair("joe@0000:0000:0000:0000:0000:0000:0000:0001", "D\0")]
        );
        assert_eq!(one("10.0.0.0/8:deny"), vec![pair("_0000e0g0", "D\0")]);
        assert_eq!(one("128.0.0.0/1:deny"), vec![pair("_a", "D\0")]);
        assert_eq!(one("2001:db8::/16:deny")[0].0, "^00`000000000000a");
        assert_eq!(compile_line(b"2001:db8::g:allow"), Err(()));
        assert_eq!(compile_line(b"::1/129:allow"), Err(()));
        assert_eq!(one("1.2.3.4/33:deny"), vec![pair("1.2.3.4/33", "D\0")]);
        assert_eq!(cidr_text(b"_0000e0g0").as_deref(), Some("10.0.0.0/8"));
        assert_eq!(
            cidr_text(&bits6("2001:db8::".parse().unwrap(), 32)).as_deref(),
            Some("2001:db8::/32")
        );
        assert_eq!(cidr_text(b"1.2.3.4"), None);
    }

    #[test]
    fn lookup_order() {
        let k = keys(b"1.2.3.4", Some(b"a.b.example"), Some(b"joe"));
        let s: Vec<String> = k
            .iter()
            .map(|k| String::from_utf8_lossy(k).into())
            .collect();
        let head = [
            "joe@1.2.3.4",
            "joe@=a.b.example",
            "1.2.3.4",
            "=a.b.example",
            "1.2.3.",
            "1.2.",
            "1.",
        ];
        assert_eq!(&s[..7], head);
        let ip: Ipv4Addr = "1.2.3.4".parse().unwrap();
        let cidr: Vec<Vec<u8>> = (2..=32).rev().map(|n| bits4(ip, n)).collect();
        assert_eq!(&k[7..38], &cidr[..]);
        assert_eq!(s[7], "_0000000h000000o0000000wx00000400");
        assert_eq!(&s[38..], ["=.b.example", "=.example", "=", ""]);
        let k = keys(b"::1", None, None);
        assert_eq!(k[0], b"0000:0000:0000:0000:0000:0000:0000:0001");
        assert_eq!(k[1].len(), 129);
        assert_eq!(k.len(), 1 + 127 + 1);
        assert_eq!(keys(b"x", None, None), [b"x".to_vec(), Vec::new()]);
    }

    #[test]
    fn data_items() {
        assert_eq!(
            items(b"+A=1\0D\0?x\0+B\0+C=2"),
            vec![Item::Set(b"A=1"), Item::Deny, Item::Set(b"B")]
        );
    }
}
