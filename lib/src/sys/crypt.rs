//! The system's crypt(3), loaded at run time: every program but checkpassword is a static
//! musl binary that must not link libcrypt, so the library is `dlopen`ed (libxcrypt's
//! `libcrypt.so.1` on Debian 12: yescrypt, SHA-512, SHA-256, MD5, DES…) and its reentrant
//! entry point found with `dlsym`. Also the wiping of secrets.

use std::ffi::{c_char, c_int, c_void, CStr};
use std::io;

/// libxcrypt: `char *crypt_rn(const char *phrase, const char *setting, void *data, int size)`.
type CryptRn =
    unsafe extern "C" fn(*const c_char, *const c_char, *mut c_void, c_int) -> *mut c_char;
/// `char *crypt_r(const char *phrase, const char *setting, struct crypt_data *data)`.
type CryptR = unsafe extern "C" fn(*const c_char, *const c_char, *mut c_void) -> *mut c_char;

/// Room for `struct crypt_data`: 32 KiB in libxcrypt, 128 KiB in glibc's old libcrypt.
const DATA: usize = 1 << 18;

/// A loaded crypt(3) implementation.
pub struct Crypt(Entry);

enum Entry {
    Rn(CryptRn),
    R(CryptR),
}

/// [`dlopen(lib)`](https://pubs.opengroup.org/onlinepubs/9799919799/functions/dlopen.html)
/// and [`dlsym`](https://pubs.opengroup.org/onlinepubs/9799919799/functions/dlsym.html) of
/// `crypt_rn`, else `crypt_r`. The library stays loaded. `Err` (NotFound) when either fails.
pub fn load(lib: &CStr) -> io::Result<Crypt> {
    let missing = || io::Error::from(io::ErrorKind::NotFound);
    // SAFETY: lib is NUL-terminated; loading libcrypt runs only its own initialisers.
    let handle = unsafe { libc::dlopen(lib.as_ptr(), libc::RTLD_NOW | libc::RTLD_LOCAL) };
    if handle.is_null() {
        return Err(missing());
    }
    // SAFETY: handle is live (never closed) and the symbol name is NUL-terminated.
    let rn = unsafe { libc::dlsym(handle, c"crypt_rn".as_ptr()) };
    if !rn.is_null() {
        // SAFETY: libxcrypt's crypt_rn has exactly the CryptRn signature.
        return Ok(Crypt(Entry::Rn(unsafe {
            std::mem::transmute::<*mut c_void, CryptRn>(rn)
        })));
    }
    // SAFETY: as above.
    let r = unsafe { libc::dlsym(handle, c"crypt_r".as_ptr()) };
    if r.is_null() {
        return Err(missing());
    }
    // SAFETY: crypt_r has the CryptR signature in every libcrypt that exports it.
    Ok(Crypt(Entry::R(unsafe {
        std::mem::transmute::<*mut c_void, CryptR>(r)
    })))
}

impl Crypt {
    /// [`crypt(phrase, setting)`](https://pubs.opengroup.org/onlinepubs/9799919799/functions/crypt.html):
    /// the hash; `Ok(None)` when the library refuses the setting (unknown method, a locked
    /// `!`/`*` entry, bad salt: NULL or a `*` failure token); `Err` when it could not work
    /// (ENOMEM). The copies of `phrase` made for the call are wiped before returning.
    pub fn hash(&self, phrase: &[u8], setting: &[u8]) -> io::Result<Option<Vec<u8>>> {
        if phrase.contains(&0) || setting.contains(&0) {
            return Ok(None);
        }
        let mut p = Vec::with_capacity(phrase.len() + 1);
        p.extend_from_slice(phrase);
        p.push(0);
        let s = [setting, b"\0"].concat();
        let mut data = vec![0u8; DATA];
        let (pp, sp, dp) = (
            p.as_ptr().cast(),
            s.as_ptr().cast(),
            data.as_mut_ptr().cast(),
        );
        let out = match self.0 {
            // SAFETY: NUL-terminated phrase and setting; data is DATA zeroed bytes, as
            // crypt_rn's size argument says and crypt_r's struct crypt_data needs.
            Entry::Rn(f) => unsafe { f(pp, sp, dp, DATA as c_int) },
            // SAFETY: as above.
            Entry::R(f) => unsafe { f(pp, sp, dp) },
        };
        let result = if out.is_null() {
            let e = io::Error::last_os_error();
            match e.raw_os_error() {
                Some(libc::ENOMEM) => Err(e),
                _ => Ok(None),
            }
        } else {
            // SAFETY: a non-NULL result is a NUL-terminated string inside data.
            let h = unsafe { CStr::from_ptr(out) }.to_bytes().to_vec();
            Ok((!h.starts_with(b"*")).then_some(h))
        };
        wipe(&mut p);
        wipe(&mut data);
        result
    }
}

/// Zeroes `buf` with volatile writes, so the compiler cannot drop the stores as dead
/// (best effort: copies made elsewhere, by the kernel or the allocator, are not reached).
pub fn wipe(buf: &mut [u8]) {
    for b in buf.iter_mut() {
        // SAFETY: b is a valid, aligned, exclusive reference to one byte.
        unsafe { std::ptr::write_volatile(b, 0) };
    }
    std::sync::atomic::compiler_fence(std::sync::atomic::Ordering::SeqCst);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wipes() {
        let mut b = *b"secret";
        wipe(&mut b);
        assert_eq!(b, [0; 6]);
    }

    #[test]
    fn hashes_with_the_system_library() {
        let Ok(c) = load(c"libcrypt.so.1") else {
            return; // no libcrypt here (a musl-only build host): nothing to check
        };
        let h = c.hash(b"pw", b"$6$saltsalt$").unwrap().unwrap();
        assert!(
            h.starts_with(b"$6$saltsalt$"),
            "{}",
            String::from_utf8_lossy(&h)
        );
        assert_eq!(c.hash(b"pw", &h).unwrap(), Some(h.clone()));
        assert_ne!(c.hash(b"pw2", &h).unwrap(), Some(h.clone()));
        let y = c.hash(b"pw", b"$y$j9T$abcdefghijklmnop$").unwrap().unwrap();
        assert_eq!(c.hash(b"pw", &y).unwrap(), Some(y.clone()));
        assert_eq!(c.hash(b"pw", &[b"!", &h[..]].concat()).unwrap(), None);
        assert_eq!(c.hash(b"pw", b"*").unwrap(), None);
        assert_eq!(c.hash(b"pw", b"").unwrap(), None);
    }
}
