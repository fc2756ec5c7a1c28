//! The queue's layout: directories, split subdirectories and file names (fmtqfn).

use std::path::PathBuf;

/// Directories split into `conf/split` subdirectories.
pub const SPLIT_DIRS: [&str; 4] = ["mess", "info", "local", "remote"];

/// `dir/S/id` for split directories, `dir/id` for the others; relative to the queue.
pub fn path(dir: &str, id: u64) -> PathBuf {
    if SPLIT_DIRS.contains(&dir) {
        PathBuf::from(format!("{dir}/{}/{id}", id % crate::conf::split()))
    } else {
        PathBuf::from(format!("{dir}/{id}"))
    }
}

/// `S/id`: the message path relative to `queue/mess`, as the spawn protocol carries it.
pub fn mess_rel(id: u64) -> String {
    format!("{}/{id}", id % crate::conf::split())
}
