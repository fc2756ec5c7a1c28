//! DNS messages: building a query, recognising the answer to it, and reading the answer
//! section strictly (every length checked against the end of the packet).

use super::{name, Malformed};

/// Record types used here.
pub const A: u16 = 1;
/// CNAME
pub const CNAME: u16 = 5;
/// PTR
pub const PTR: u16 = 12;
/// MX
pub const MX: u16 = 15;
/// TXT
pub const TXT: u16 = 16;
/// AAAA
pub const AAAA: u16 = 28;
const IN: u16 = 1;
const HEADER: usize = 12;
/// Smallest resource record: a one-byte (root) owner plus type, class, TTL and RDLENGTH.
const MIN_RR: usize = 11;

/// A query for `qname` (wire form) of type `qtype`, recursion desired.
pub fn query(id: u16, qname: &[u8], qtype: u16) -> Vec<u8> {
    let mut q = Vec::with_capacity(HEADER + qname.len() + 4);
    q.extend_from_slice(&id.to_be_bytes());
    q.extend_from_slice(&[0x01, 0x00, 0, 1, 0, 0, 0, 0, 0, 0]);
    q.extend_from_slice(qname);
    q.extend_from_slice(&qtype.to_be_bytes());
    q.extend_from_slice(&IN.to_be_bytes());
    q
}

fn u16_at(pkt: &[u8], pos: usize) -> Result<u16, Malformed> {
    match pkt.get(pos..pos + 2) {
        Some(b) => Ok(u16::from_be_bytes([b[0], b[1]])),
        None => Err(Malformed),
    }
}

/// Whether `pkt` is a response to the query `id`/`qname`/`qtype`: long enough for a header,
/// same id, QR set, standard query, exactly one question, equal to ours. Anything else is
/// not an answer to us and is ignored (it may be spoofed or stale).
pub fn answers(pkt: &[u8], id: u16, qname: &[u8], qtype: u16) -> bool {
    if pkt.len() < HEADER || u16_at(pkt, 0) != Ok(id) {
        return false;
    }
    if pkt[2] & 0x80 == 0 || pkt[2] & 0x78 != 0 || u16_at(pkt, 4) != Ok(1) {
        return false;
    }
    match name::read(pkt, HEADER) {
        Ok((q, pos)) => {
            name::equal(&q, qname)
                && u16_at(pkt, pos) == Ok(qtype)
                && u16_at(pkt, pos + 2) == Ok(IN)
        }
        Err(Malformed) => false,
    }
}

/// The TC bit.
pub fn truncated(pkt: &[u8]) -> bool {
    pkt.get(2).is_some_and(|b| b & 0x02 != 0)
}

/// The response code (low four bits of the fourth byte).
pub fn rcode(pkt: &[u8]) -> u8 {
    pkt.get(3).map_or(0, |b| b & 0x0f)
}

/// One resource record of the answer section.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Record {
    /// owner name, wire form
    pub owner: Vec<u8>,
    /// type
    pub rtype: u16,
    /// where RDATA starts in the packet
    pub at: usize,
    /// RDLENGTH
    pub len: usize,
}

/// The records of the answer section of class IN. Every record (of any type) is checked:
/// owner name, fixed fields and RDLENGTH must lie inside the packet; the count must be
/// possible for the packet's size.
pub fn answer_section(pkt: &[u8]) -> Result<Vec<Record>, Malformed> {
    if pkt.len() < HEADER || u16_at(pkt, 4)? != 1 {
        return Err(Malformed);
    }
    let count = usize::from(u16_at(pkt, 6)?);
    let (_, mut pos) = name::read(pkt, HEADER)?;
    pos += 4;
    if pos > pkt.len() || count * MIN_RR > pkt.len() - pos {
        return Err(Malformed);
    }
    let mut out = Vec::with_capacity(count);
    for _ in 0..count {
        let (owner, p) = name::read(pkt, pos)?;
        let rtype = u16_at(pkt, p)?;
        let class = u16_at(pkt, p + 2)?;
        let len = usize::from(u16_at(pkt, p + 8)?);
        let at = p + 10;
        if at + len > pkt.len() {
            return Err(Malformed);
        }
        if class == IN {
            out.push(Record {
                owner,
                rtype,
                at,
                len,
            });
        }
        pos = at + len;
    }
    Ok(out)
}

impl Record {
    fn rdata<'a>(&self, pkt: &'a [u8]) -> &'a [u8] {
        &pkt[self.at..self.at + self.len]
    }

    /// A: exactly four bytes.
    pub fn ip4(&self, pkt: &[u8]) -> Result<[u8; 4], Malformed> {
        self.rdata(pkt).try_into().map_err(|_| Malformed)
    }

    /// AAAA: exactly sixteen bytes.
    pub fn ip6(&self, pkt: &[u8]) -> Result<[u8; 16], Malformed> {
        self.rdata(pkt).try_into().map_err(|_| Malformed)
    }

    /// A name (CNAME, PTR) filling RDATA exactly; it may point back into the packet.
    pub fn name(&self, pkt: &[u8]) -> Result<Vec<u8>, Malformed> {
        self.name_at(pkt, self.at)
    }

    fn name_at(&self, pkt: &[u8], at: usize) -> Result<Vec<u8>, Malformed> {
        // Read within the packet up to the end of RDATA, so labels cannot run past it.
        let (n, end) = name::read(&pkt[..self.at + self.len], at)?;
        if end != self.at + self.len {
            return Err(Malformed);
        }
        Ok(n)
    }

    /// MX: preference, then a name filling the rest of RDATA.
    pub fn mx(&self, pkt: &[u8]) -> Result<(u16, Vec<u8>), Malformed> {
        if self.len < 3 {
            return Err(Malformed);
        }
        let pref = u16_at(pkt, self.at)?;
        Ok((pref, self.name_at(pkt, self.at + 2)?))
    }

    /// TXT: character-strings filling RDATA exactly, concatenated.
    pub fn txt(&self, pkt: &[u8]) -> Result<Vec<u8>, Malformed> {
        let data = self.rdata(pkt);
        let mut out = Vec::with_capacity(data.len());
        let mut i = 0;
        while i < data.len() {
            let n = usize::from(data[i]);
            out.extend_from_slice(data.get(i + 1..i + 1 + n).ok_or(Malformed)?);
            i += 1 + n;
        }
        Ok(out)
    }
}

#[cfg(test)]
pub mod tests {
    //! Building answers for the tests here and in `super::tests`.
    use super::*;

    /// An answer to `query(id, qname, qtype)` with `rcode` and these records (owner wire
    /// form, type, rdata), no compression.
    pub fn reply(
        id: u16,
        qname: &[u8],
        qtype: u16,
        rcode: u8,
        rrs: &[(&[u8], u16, &[u8])],
    ) -> Vec<u8> {
        let mut p = query(id, qname, qtype);
        p[2] = 0x81;
        p[3] = 0x80 | rcode;
        p[7] = rrs.len() as u8;
        for (owner, t, data) in rrs {
            p.extend_from_slice(owner);
            p.extend_from_slice(&t.to_be_bytes());
            p.extend_from_slice(&[0, 1, 0, 0, 0x0e, 0x10]);
            p.extend_from_slice(&(data.len() as u16).to_be_bytes());
            p.extend_from_slice(data);
        }
        p
    }

    const Q: &[u8] = b"\x03www\x07example\x03org\x00";

    #[test]
    fn query_bytes() {
        assert_eq!(
            query(0x1234, b"\x01a\x00", MX),
            b"\x12\x34\x01\x00\x00\x01\x00\x00\x00\x00\x00\x00\x01a\x00\x00\x0f\x00\x01"
        );
    }

    #[test]
    fn recognises_its_answer_only() {
        let r = reply(7, Q, A, 0, &[]);
        assert!(answers(&r, 7, Q, A));
        assert!(answers(&r, 7, b"\x03WWW\x07Example\x03ORG\x00", A));
        assert!(!answers(&r, 8, Q, A), "wrong id");
        assert!(!answers(&r, 7, Q, MX), "wrong type");
        assert!(
            !answers(&r, 7, b"\x03xxx\x07example\x03org\x00", A),
            "wrong name"
        );
        assert!(!answers(&r[..11], 7, Q, A), "truncated header");
        assert!(!answers(&r[..20], 7, Q, A), "truncated question");
        assert!(
            !answers(&query(7, Q, A), 7, Q, A),
            "a query, not a response"
        );
        let mut two = r.clone();
        two[5] = 2;
        assert!(!answers(&two, 7, Q, A), "two questions");
    }

    #[test]
    fn reads_records() {
        let r = reply(
            1,
            Q,
            MX,
            0,
            &[
                (b"\xc0\x0c", MX, b"\x00\x0a\x02mx\xc0\x10"),
                (b"\x00", A, b"\x01\x02\x03\x04"),
                (b"\xc0\x0c", TXT, b"\x03abc\x00\x02de"),
            ],
        );
        let rrs = answer_section(&r).expect("good");
        assert_eq!(rrs.len(), 3);
        assert_eq!(rrs[0].owner, Q);
        assert_eq!(
            rrs[0].mx(&r),
            Ok((10, b"\x02mx\x07example\x03org\x00".to_vec()))
        );
        assert_eq!(rrs[1].ip4(&r), Ok([1, 2, 3, 4]));
        assert_eq!(rrs[2].txt(&r), Ok(b"abcde".to_vec()));
        assert_eq!(rrs[1].ip6(&r), Err(Malformed));
    }

    #[test]
    fn refuses_bad_lengths() {
        let good = reply(1, Q, A, 0, &[(b"\xc0\x0c", A, b"\x01\x02\x03\x04")]);
        assert!(answer_section(&good).is_ok());
        // cut anywhere inside the record
        for cut in 30..good.len() {
            assert_eq!(answer_section(&good[..cut]), Err(Malformed), "cut {cut}");
        }
        // RDLENGTH past the end
        let mut bogus = good.clone();
        let n = bogus.len();
        bogus[n - 5] = 9;
        assert_eq!(answer_section(&bogus), Err(Malformed));
        // more records claimed than can fit
        let mut many = good.clone();
        many[6] = 0xff;
        assert_eq!(answer_section(&many), Err(Malformed));
        // truncated header
        assert_eq!(answer_section(&good[..5]), Err(Malformed));
    }

    #[test]
    fn refuses_bad_rdata() {
        let r = reply(
            1,
            Q,
            PTR,
            0,
            &[
                (b"\xc0\x0c", A, b"\x01\x02\x03"),
                (b"\xc0\x0c", PTR, b"\x01a\x00\x00"),
                (b"\xc0\x0c", PTR, b"\x05a\x00"),
                (b"\xc0\x0c", TXT, b"\x05ab"),
                (b"\xc0\x0c", MX, b"\x00"),
                (b"\xc0\x0c", PTR, b"\xc0\x50"),
            ],
        );
        let rrs = answer_section(&r).expect("framing is fine");
        assert_eq!(rrs[0].ip4(&r), Err(Malformed), "short A");
        assert_eq!(
            rrs[1].name(&r),
            Err(Malformed),
            "name shorter than RDLENGTH"
        );
        assert_eq!(rrs[2].name(&r), Err(Malformed), "name longer than RDLENGTH");
        assert_eq!(rrs[3].txt(&r), Err(Malformed), "string past RDLENGTH");
        assert_eq!(rrs[4].mx(&r), Err(Malformed), "short MX");
        assert_eq!(rrs[5].name(&r), Err(Malformed), "pointer forward");
    }
}
