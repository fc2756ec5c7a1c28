//! Reading a constant database (D. J. Bernstein's cdb): lookups by key, all values of a key,
//! and a walk over every record. Reads with `pread`, so one open file serves many lookups.

use std::fs::File;
use std::io;
use std::os::unix::fs::FileExt;

/// The cdb hash: h = 5381; h = ((h << 5) + h) ^ c.
pub fn hash(key: &[u8]) -> u32 {
    key.iter()
        .fold(5381u32, |h, &c| (h << 5).wrapping_add(h) ^ u32::from(c))
}

fn bad() -> io::Error {
    io::Error::new(io::ErrorKind::InvalidData, "format error")
}

/// An open cdb file.
pub struct Cdb {
    file: File,
    size: u64,
}

impl Cdb {
    /// Uses an open file as a cdb.
    pub fn new(file: File) -> io::Result<Cdb> {
        let size = file.metadata()?.len();
        Ok(Cdb { file, size })
    }

    /// The cdb on standard input, as D. J. Bernstein's cdb tools read it (`cdbget k < f.cdb`).
    /// Standard input must be seekable: a pipe gives the seek's error.
    pub fn stdin() -> io::Result<Cdb> {
        use std::io::Seek as _;
        use std::os::fd::AsFd as _;
        let mut file = File::from(io::stdin().as_fd().try_clone_to_owned()?);
        file.stream_position()?;
        Cdb::new(file)
    }

    /// Opens `path`.
    pub fn open(path: impl AsRef<std::path::Path>) -> io::Result<Cdb> {
        Cdb::new(File::open(path)?)
    }

    fn read(&self, pos: u64, buf: &mut [u8]) -> io::Result<()> {
        if pos
            .checked_add(buf.len() as u64)
            .is_none_or(|end| end > self.size)
        {
            return Err(bad());
        }
        self.file.read_exact_at(buf, pos)
    }

    fn pair(&self, pos: u64) -> io::Result<(u32, u32)> {
        let mut b = [0u8; 8];
        self.read(pos, &mut b)?;
        Ok((
            u32::from_le_bytes([b[0], b[1], b[2], b[3]]),
            u32::from_le_bytes([b[4], b[5], b[6], b[7]]),
        ))
    }

    /// The first value stored under `key`.
    pub fn find(&self, key: &[u8]) -> io::Result<Option<Vec<u8>>> {
        let mut all = self.find_iter(key);
        all.next().transpose()
    }

    /// Every value stored under `key`, in insertion order.
    pub fn find_iter<'a>(&'a self, key: &'a [u8]) -> Find<'a> {
        Find {
            cdb: self,
            key,
            h: hash(key),
            started: false,
            hpos: 0,
            hslots: 0,
            kpos: 0,
            loop_: 0,
        }
    }

    /// Every record in file order, from the start of the data area.
    pub fn iter(&self) -> Records<'_> {
        Records {
            cdb: self,
            pos: 2048,
            end: None,
        }
    }

    /// The file's size in bytes.
    pub fn size(&self) -> u64 {
        self.size
    }

    /// Where the record area ends (the first table's position, from the header).
    pub fn end_of_records(&self) -> io::Result<u64> {
        self.pair(0).map(|(pos, _)| u64::from(pos))
    }

    /// The key and data lengths of the record at `pos`, checked to lie inside the file.
    pub fn lengths_at(&self, pos: u64) -> io::Result<(u32, u32)> {
        let (klen, dlen) = self.pair(pos)?;
        self.fits(pos + 8, u64::from(klen) + u64::from(dlen))?;
        Ok((klen, dlen))
    }

    /// `len` bytes at `pos`, checked against the file size before anything is allocated.
    pub fn read_at(&self, pos: u64, len: u32) -> io::Result<Vec<u8>> {
        self.fits(pos, u64::from(len))?;
        let mut buf = vec![0u8; len as usize];
        self.read(pos, &mut buf)?;
        Ok(buf)
    }

    /// An error unless `len` bytes at `pos` lie inside the file.
    fn fits(&self, pos: u64, len: u64) -> io::Result<()> {
        match pos.checked_add(len) {
            Some(end) if end <= self.size => Ok(()),
            _ => Err(bad()),
        }
    }

    /// Reads the record at `pos`: (key, data, position of the next record).
    pub fn record_at(&self, pos: u64) -> io::Result<(Vec<u8>, Vec<u8>, u64)> {
        let (klen, dlen) = self.pair(pos)?;
        self.fits(pos + 8, u64::from(klen) + u64::from(dlen))?;
        let mut key = vec![0u8; klen as usize];
        self.read(pos + 8, &mut key)?;
        let mut data = vec![0u8; dlen as usize];
        self.read(pos + 8 + u64::from(klen), &mut data)?;
        Ok((key, data, pos + 8 + u64::from(klen) + u64::from(dlen)))
    }
}

/// The values of one key; see [`Cdb::find_iter`].
pub struct Find<'a> {
    cdb: &'a Cdb,
    key: &'a [u8],
    h: u32,
    started: bool,
    hpos: u64,
    hslots: u32,
    kpos: u64,
    loop_: u32,
}

/// One record found by [`Find::next_hit`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Hit {
    /// where the record (its length pair) starts
    pub record: u64,
    /// where its data starts
    pub data: u64,
    /// the data's length
    pub dlen: u32,
    /// slots examined since the lookup started, this record's slot included (cdb's `loop`):
    /// 1 for a record in the first slot probed
    pub probes: u32,
}

impl Find<'_> {
    /// The next record stored under the key, without reading its data.
    pub fn next_hit(&mut self) -> io::Result<Option<Hit>> {
        if !self.started {
            self.started = true;
            let (pos, slots) = self.cdb.pair(u64::from(self.h & 255) * 8)?;
            self.hpos = u64::from(pos);
            self.hslots = slots;
            if slots == 0 {
                return Ok(None);
            }
            self.kpos = self.hpos + u64::from((self.h >> 8) % slots) * 8;
        }
        while self.loop_ < self.hslots {
            let (h, pos) = self.cdb.pair(self.kpos)?;
            if pos == 0 {
                return Ok(None);
            }
            self.loop_ += 1;
            self.kpos += 8;
            if self.kpos == self.hpos + u64::from(self.hslots) * 8 {
                self.kpos = self.hpos;
            }
            if h == self.h {
                let pos = u64::from(pos);
                let (klen, dlen) = self.cdb.lengths_at(pos)?;
                if klen as usize == self.key.len() && self.cdb.read_at(pos + 8, klen)? == self.key {
                    return Ok(Some(Hit {
                        record: pos,
                        data: pos + 8 + u64::from(klen),
                        dlen,
                        probes: self.loop_,
                    }));
                }
            }
        }
        Ok(None)
    }

    fn step(&mut self) -> io::Result<Option<Vec<u8>>> {
        match self.next_hit()? {
            Some(hit) => self.cdb.read_at(hit.data, hit.dlen).map(Some),
            None => Ok(None),
        }
    }
}

impl Iterator for Find<'_> {
    type Item = io::Result<Vec<u8>>;
    fn next(&mut self) -> Option<Self::Item> {
        match self.step() {
            Ok(Some(d)) => Some(Ok(d)),
            Ok(None) => {
                self.loop_ = self.hslots;
                None
            }
            Err(e) => {
                self.loop_ = self.hslots;
                Some(Err(e))
            }
        }
    }
}

/// All records; see [`Cdb::iter`].
pub struct Records<'a> {
    cdb: &'a Cdb,
    pos: u64,
    end: Option<u64>,
}

impl Iterator for Records<'_> {
    type Item = io::Result<(Vec<u8>, Vec<u8>)>;
    fn next(&mut self) -> Option<Self::Item> {
        let end = match self.end {
            Some(e) => e,
            None => match self.cdb.pair(0) {
                Ok((e, _)) => *self.end.insert(u64::from(e)),
                Err(e) => {
                    self.end = Some(0);
                    return Some(Err(e));
                }
            },
        };
        if self.pos >= end {
            return None;
        }
        match self.cdb.record_at(self.pos) {
            Ok((k, d, next)) if next <= end => {
                self.pos = next;
                Some(Ok((k, d)))
            }
            Ok(_) | Err(_) => {
                self.pos = end;
                Some(Err(bad()))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    #[test]
    fn known_hashes() {
        assert_eq!(hash(b""), 5381);
        assert_eq!(hash(b"a"), ((5381u32 << 5) + 5381) ^ 97);
    }

    fn build(recs: &[(&[u8], &[u8])]) -> Vec<u8> {
        let mut m = crate::cdbmake::Make::new(io::Cursor::new(Vec::new())).unwrap();
        for (k, d) in recs {
            m.add(k, d).unwrap();
        }
        m.finish().unwrap().into_inner()
    }

    fn file(bytes: &[u8], tag: &str) -> Cdb {
        let p = std::env::temp_dir().join(format!("qlib-cdb-{}-{tag}", std::process::id()));
        std::fs::write(&p, bytes).unwrap();
        let c = Cdb::open(&p).unwrap();
        std::fs::remove_file(&p).unwrap();
        c
    }

    #[test]
    fn worked_example_of_the_spec() {
        let b = build(&[(b"one", b"Hello"), (b"two", b"Goodbye")]);
        assert_eq!(b.len(), 2114);
        assert_eq!(&b[41 * 8..42 * 8], &[0x22, 8, 0, 0, 2, 0, 0, 0]);
        assert_eq!(&b[2082..2090], &[0x29, 0x60, 0x87, 0x0b, 0x10, 8, 0, 0]);
        assert_eq!(&b[2098..2106], &[0; 8]);
        let c = file(&b, "example");
        assert_eq!(c.end_of_records().unwrap(), 2082);
        assert_eq!(c.lengths_at(2064).unwrap(), (3, 7));
        assert_eq!(c.read_at(2072, 3).unwrap(), b"two");
        let hit = c.find_iter(b"one").next_hit().unwrap();
        assert_eq!(
            hit,
            Some(Hit {
                record: 2048,
                data: 2059,
                dlen: 5,
                probes: 1
            })
        );
    }

    #[test]
    fn duplicates_probe_further() {
        let b = build(&[(b"k", b"1"), (b"x", b""), (b"k", b"22"), (b"k", b"")]);
        let c = file(&b, "dups");
        let mut f = c.find_iter(b"k");
        let mut seen = Vec::new();
        while let Some(h) = f.next_hit().unwrap() {
            seen.push((h.dlen, h.probes));
        }
        assert_eq!(seen, vec![(1, 1), (2, 2), (0, 3)]);
        let all: Vec<_> = c.find_iter(b"k").map(Result::unwrap).collect();
        assert_eq!(all, vec![b"1".to_vec(), b"22".to_vec(), b"".to_vec()]);
    }

    #[test]
    fn corrupt_lengths_are_errors_not_allocations() {
        let mut b = build(&[(b"one", b"Hello")]);
        b[2052..2056].copy_from_slice(&u32::MAX.to_le_bytes());
        let c = file(&b, "corrupt");
        assert!(c.find(b"one").is_err());
        assert!(c.record_at(2048).is_err());
        assert!(c.lengths_at(2048).is_err());
        assert!(c.read_at(2040, 100).is_err());
        assert!(c.iter().next().unwrap().is_err());
        let short = file(&b[..1000], "short");
        assert!(short.find(b"one").is_err());
        assert!(short.end_of_records().is_ok());
    }
}
