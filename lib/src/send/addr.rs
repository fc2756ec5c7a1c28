//! Envelope addresses in qmail-send: recipient rewriting and the local/remote choice
//! (envnoathost, percenthack, locals, virtualdomains), undoing a virtualdomains prefix for a
//! bounce, and VERP expansion and reduction (qmail-send.c's `rewrite`, `addbounce`, VERP).

use super::{LOCAL, REMOTE};
use crate::control::Map;

/// The controls that decide where a recipient goes.
#[derive(Clone, Debug, Default)]
pub struct Rewrite {
    /// domain appended to a recipient without `@`
    pub envnoathost: Vec<u8>,
    /// domains for which `u%h@domain` becomes `u@h`
    pub percenthack: Map,
    /// domains delivered locally, address unchanged
    pub locals: Map,
    /// `key:prepend` entries: address, domain, `.suffix` or empty key
    pub vdoms: Map,
}

/// Splits at the last `@`: (local part, domain).
pub fn split(addr: &[u8]) -> Option<(&[u8], &[u8])> {
    memchr::memrchr(b'@', addr).map(|i| (&addr[..i], &addr[i + 1..]))
}

fn join(local: &[u8], domain: &[u8]) -> Vec<u8> {
    let mut a = Vec::with_capacity(local.len() + domain.len() + 1);
    a.extend_from_slice(local);
    a.push(b'@');
    a.extend_from_slice(domain);
    a
}

impl Rewrite {
    /// The channel (`LOCAL` or `REMOTE`) and the address to deliver to.
    pub fn rewrite(&self, addr: &[u8]) -> (usize, Vec<u8>) {
        let mut a = addr.to_vec();
        if memchr::memchr(b'@', &a).is_none() {
            a.push(b'@');
            a.extend_from_slice(&self.envnoathost);
        }
        while let Some((local, domain)) = split(&a) {
            let Some(p) = memchr::memrchr(b'%', local) else {
                break;
            };
            if !self.percenthack.contains(domain) {
                break;
            }
            a = join(&local[..p], &local[p + 1..]);
        }
        let domain = split(&a).map_or(&b""[..], |(_, d)| d);
        if self.locals.contains(domain) {
            return (LOCAL, a);
        }
        match self.prepend(&a) {
            Some(p) if !p.is_empty() => {
                let mut v = p.to_vec();
                v.push(b'-');
                v.extend_from_slice(&a);
                (LOCAL, v)
            }
            _ => (REMOTE, a),
        }
    }

    /// The virtualdomains value for `addr`: whole address, domain, `.suffix`es longest first,
    /// then the empty key; the first key present wins, even with an empty value.
    fn prepend(&self, addr: &[u8]) -> Option<&[u8]> {
        if let Some(v) = self.vdoms.get(addr) {
            return Some(v);
        }
        let domain = split(addr).map_or(&b""[..], |(_, d)| d);
        if let Some(v) = self.vdoms.get(domain) {
            return Some(v);
        }
        for (i, _) in domain.iter().enumerate().filter(|(_, &c)| c == b'.') {
            if let Some(v) = self.vdoms.get(&domain[i..]) {
                return Some(v);
            }
        }
        self.vdoms.get(b"")
    }

    /// The address the sender used, given the one delivered to: a virtualdomains prefix is
    /// removed again when rewriting the shorter address would have added exactly it.
    pub fn original(&self, addr: &[u8]) -> Vec<u8> {
        if let Some((local, domain)) = split(addr) {
            if !self.locals.contains(domain) {
                for (i, _) in local.iter().enumerate().filter(|(_, &c)| c == b'-') {
                    let orig = join(&local[i + 1..], domain);
                    if self.prepend(&orig) == Some(&local[..i]) && i > 0 {
                        return orig;
                    }
                }
            }
        }
        addr.to_vec()
    }
}

/// `P@H-@[]` → (`P`, `H`); `None` for a sender that is not a VERP request.
fn verp_parts(sender: &[u8]) -> Option<(&[u8], &[u8])> {
    split(sender.strip_suffix(b"-@[]")?)
}

/// The sender for one recipient: `P@H-@[]` to `box@dom` becomes `Pbox=dom@H`; anything else
/// (or a recipient without `@`) is used as it is.
pub fn verp(sender: &[u8], recip: &[u8]) -> Vec<u8> {
    match (verp_parts(sender), split(recip)) {
        (Some((p, h)), Some((bx, dom))) => {
            let mut s = p.to_vec();
            s.extend_from_slice(bx);
            s.push(b'=');
            s.extend_from_slice(dom);
            s.push(b'@');
            s.extend_from_slice(h);
            s
        }
        _ => sender.to_vec(),
    }
}

/// Where a bounce goes: a VERP request `P@H-@[]` is reduced to `P@H`.
pub fn bounce_to(sender: &[u8]) -> Vec<u8> {
    match verp_parts(sender) {
        Some((p, h)) => join(p, h),
        None => sender.to_vec(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::control::parse_list;

    fn rw() -> Rewrite {
        Rewrite {
            envnoathost: b"here.example".to_vec(),
            percenthack: Map::new(&parse_list(b"relay.example\nb.example\n"), false),
            locals: Map::new(&parse_list(b"here.example\nLocalhost\n"), false),
            vdoms: Map::new(
                &parse_list(
                    b"nowhere.mil:joe-foo\nbob@v.example:robert\nv.example:vee\n\
                      .sub.example:subs\n.example:ex\nexempt.example:\n",
                ),
                true,
            ),
        }
    }

    fn check(r: &Rewrite, a: &str, chan: usize, out: &str) {
        let (c, v) = r.rewrite(a.as_bytes());
        assert_eq!(
            (c, String::from_utf8_lossy(&v).as_ref()),
            (chan, out),
            "{a}"
        );
    }

    #[test]
    fn rewriting_examples() {
        let r = rw();
        check(&r, "alice", LOCAL, "alice@here.example");
        check(&r, "alice@HERE.example", LOCAL, "alice@HERE.example");
        check(&r, "info@nowhere.mil", LOCAL, "joe-foo-info@nowhere.mil");
        check(&r, "info@NoWhere.MIL", LOCAL, "joe-foo-info@NoWhere.MIL");
        check(&r, "bob@v.example", LOCAL, "robert-bob@v.example");
        check(&r, "ann@v.example", LOCAL, "vee-ann@v.example");
        check(&r, "x@a.b.sub.example", LOCAL, "subs-x@a.b.sub.example");
        check(&r, "x@other.example", LOCAL, "ex-x@other.example");
        check(&r, "x@exempt.example", REMOTE, "x@exempt.example");
        check(&r, "x@far.away", REMOTE, "x@far.away");
        // percenthack: the last % becomes the new @, repeatedly while the domain is listed
        check(
            &r,
            "u%b.example%relay.example@relay.example",
            LOCAL,
            "ex-u@b.example",
        );
        check(&r, "u%far.away@relay.example", REMOTE, "u@far.away");
        check(
            &r,
            "u%here.example@far.away",
            REMOTE,
            "u%here.example@far.away",
        );
        check(&r, "u%localhost@relay.example", LOCAL, "u@localhost");
    }

    #[test]
    fn catch_all_and_exceptions() {
        let mut r = rw();
        r.vdoms = Map::new(&parse_list(b":alias-all\nkeep.example:\n"), true);
        check(&r, "x@any.where", LOCAL, "alias-all-x@any.where");
        check(&r, "x@keep.example", REMOTE, "x@keep.example");
        check(&r, "x@here.example", LOCAL, "x@here.example");
    }

    #[test]
    fn prefix_removed_for_bounces() {
        let r = rw();
        for a in [
            "info@nowhere.mil",
            "bob@v.example",
            "ann@v.example",
            "x@a.sub.example",
            "a-b@v.example",
        ] {
            let (_, v) = r.rewrite(a.as_bytes());
            assert_eq!(r.original(&v), a.as_bytes(), "{a}");
        }
        assert_eq!(r.original(b"joe-x@here.example"), b"joe-x@here.example");
        assert_eq!(r.original(b"x@far.away"), b"x@far.away");
    }

    #[test]
    fn verp_example() {
        assert_eq!(
            verp(b"list-owner-@example.org-@[]", b"joe@x.net"),
            b"list-owner-joe=x.net@example.org"
        );
        assert_eq!(
            verp(b"list-owner-@example.org-@[]", b"joe"),
            b"list-owner-@example.org-@[]"
        );
        assert_eq!(
            verp(b"plain@example.org", b"joe@x.net"),
            b"plain@example.org"
        );
        assert_eq!(verp(b"-@[]", b"joe@x.net"), b"-@[]");
        assert_eq!(verp(b"#@[]", b"joe@x.net"), b"#@[]");
        assert_eq!(
            bounce_to(b"list-owner-@example.org-@[]"),
            b"list-owner-@example.org"
        );
        assert_eq!(bounce_to(b"a@b"), b"a@b");
        assert_eq!(bounce_to(b""), b"");
    }
}
