//! Making a change survive a crash: fsync of a file's data and of the directory entries it
//! depends on. qmail assumed synchronous directory updates (BSD FFS); Linux filesystems do
//! not give them, so every link, rename and create that a success report depends on is
//! followed by an fsync of the directory that holds it.

use std::fs::File;
use std::io;
use std::path::Path;

/// fsyncs the directory `dir`.
pub fn fsync_dir(dir: &Path) -> io::Result<()> {
    File::open(dir)?.sync_all()
}

/// fsyncs the directory that contains `path`.
pub fn fsync_dir_of(path: &Path) -> io::Result<()> {
    match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => fsync_dir(p),
        _ => fsync_dir(Path::new(".")),
    }
}
