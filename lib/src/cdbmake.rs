//! Writing a constant database: records first, then the 256 hash tables, then the header
//! at offset 0. `atomic` writes `tmp`, fsyncs it and renames it over the target.

use crate::cdb::hash;
use std::fs::File;
use std::io::{self, BufWriter, Seek, SeekFrom, Write};
use std::path::Path;

/// A cdb being written.
pub struct Make<W: Write + Seek> {
    out: BufWriter<W>,
    pos: u32,
    entries: Vec<(u32, u32)>,
}

fn too_big() -> io::Error {
    io::Error::new(io::ErrorKind::OutOfMemory, "cdb would exceed 4 GB")
}

impl<W: Write + Seek> Make<W> {
    /// Starts a cdb in `w` (positioned at 0).
    pub fn new(w: W) -> io::Result<Self> {
        let mut out = BufWriter::new(w);
        out.write_all(&[0u8; 2048])?;
        Ok(Make {
            out,
            pos: 2048,
            entries: Vec::new(),
        })
    }

    fn advance(&mut self, n: usize) -> io::Result<()> {
        let n = u32::try_from(n).map_err(|_| too_big())?;
        self.pos = self.pos.checked_add(n).ok_or_else(too_big)?;
        Ok(())
    }

    /// Adds one record.
    pub fn add(&mut self, key: &[u8], data: &[u8]) -> io::Result<()> {
        let klen = u32::try_from(key.len()).map_err(|_| too_big())?;
        let dlen = u32::try_from(data.len()).map_err(|_| too_big())?;
        self.entries.push((hash(key), self.pos));
        self.out.write_all(&klen.to_le_bytes())?;
        self.out.write_all(&dlen.to_le_bytes())?;
        self.out.write_all(key)?;
        self.out.write_all(data)?;
        self.advance(8 + key.len() + data.len())
    }

    /// Writes the tables and header; returns the writer, flushed.
    pub fn finish(mut self) -> io::Result<W> {
        let mut buckets: Vec<Vec<(u32, u32)>> = vec![Vec::new(); 256];
        for &(h, p) in &self.entries {
            buckets[(h & 255) as usize].push((h, p));
        }
        let mut header = Vec::with_capacity(2048);
        for bucket in &buckets {
            let len = bucket.len() * 2;
            header.extend_from_slice(&self.pos.to_le_bytes());
            header.extend_from_slice(&(len as u32).to_le_bytes());
            let mut table = vec![(0u32, 0u32); len];
            for &(h, p) in bucket {
                let mut i = ((h >> 8) as usize) % len;
                while table[i].1 != 0 {
                    i = (i + 1) % len;
                }
                table[i] = (h, p);
            }
            for (h, p) in table {
                self.out.write_all(&h.to_le_bytes())?;
                self.out.write_all(&p.to_le_bytes())?;
            }
            self.advance(len * 8)?;
        }
        self.out.flush()?;
        let mut w = self.out.into_inner().map_err(|e| e.into_error())?;
        w.seek(SeekFrom::Start(0))?;
        w.write_all(&header)?;
        w.flush()?;
        Ok(w)
    }
}

/// Builds `target` from `records` through `tmp`: create, write, fsync, rename. On any error
/// `tmp` is removed and `target` is left as it was.
pub fn atomic<I>(target: &Path, tmp: &Path, records: I) -> io::Result<()>
where
    I: IntoIterator<Item = io::Result<(Vec<u8>, Vec<u8>)>>,
{
    let build = || -> io::Result<()> {
        let mut m = Make::new(File::create(tmp)?)?;
        for r in records {
            let (k, d) = r?;
            m.add(&k, &d)?;
        }
        let f = m.finish()?;
        f.sync_all()?;
        drop(f);
        std::fs::rename(tmp, target)?;
        crate::fsync_dir_of(target)
    };
    build().inspect_err(|_| {
        let _ = std::fs::remove_file(tmp);
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cdb::Cdb;

    #[test]
    fn round_trip() {
        let dir = std::env::temp_dir().join(format!("qlib-cdb-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let target = dir.join("t.cdb");
        let recs: Vec<io::Result<(Vec<u8>, Vec<u8>)>> = vec![
            Ok((b"one".to_vec(), b"1".to_vec())),
            Ok((b"two".to_vec(), b"2".to_vec())),
            Ok((b"one".to_vec(), b"uno".to_vec())),
            Ok((b"".to_vec(), b"empty".to_vec())),
        ];
        atomic(&target, &dir.join("t.tmp"), recs).unwrap();
        let c = Cdb::open(&target).unwrap();
        assert_eq!(c.find(b"two").unwrap(), Some(b"2".to_vec()));
        let ones: Vec<_> = c.find_iter(b"one").map(Result::unwrap).collect();
        assert_eq!(ones, vec![b"1".to_vec(), b"uno".to_vec()]);
        assert_eq!(c.find(b"").unwrap(), Some(b"empty".to_vec()));
        assert_eq!(c.find(b"three").unwrap(), None);
        assert_eq!(c.iter().count(), 4);
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
