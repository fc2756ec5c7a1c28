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

    /// Reads the record at `pos`: (key, data, position of the next record).
    pub fn record_at(&self, pos: u64) -> io::Result<(Vec<u8>, Vec<u8>, u64)> {
        let (klen, dlen) = self.pair(pos)?;
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

impl Find<'_> {
    fn step(&mut self) -> io::Result<Option<Vec<u8>>> {
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
                let (klen, dlen) = self.cdb.pair(u64::from(pos))?;
                if klen as usize == self.key.len() {
                    let mut k = vec![0u8; klen as usize];
                    self.cdb.read(u64::from(pos) + 8, &mut k)?;
                    if k == self.key {
                        let mut d = vec![0u8; dlen as usize];
                        self.cdb
                            .read(u64::from(pos) + 8 + u64::from(klen), &mut d)?;
                        return Ok(Some(d));
                    }
                }
            }
        }
        Ok(None)
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
}
