//! The environment as bytes.

use std::ffi::OsString;
use std::os::unix::ffi::OsStringExt;

/// The value of `name`, as bytes.
pub fn get(name: &str) -> Option<Vec<u8>> {
    std::env::var_os(name).map(OsString::into_vec)
}

/// The first of `names` that is set.
pub fn first(names: &[&str]) -> Option<Vec<u8>> {
    names.iter().find_map(|n| get(n))
}
