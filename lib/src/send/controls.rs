//! The control files qmail-send reads at startup, and the two (locals, virtualdomains) that
//! SIGHUP rereads. Missing `locals` falls back to `me`; with neither, qmail-send will not start.

use super::addr::Rewrite;
use super::sched::LIFETIME;
use crate::control::{self, Map};
use std::io;
use std::path::Path;

/// Everything qmail-send takes from `control/`.
#[derive(Clone, Debug, Default)]
pub struct Controls {
    /// concurrencylocal, concurrencyremote (before the spawners' limit)
    pub concurrency: [u64; 2],
    /// queuelifetime, seconds
    pub lifetime: u64,
    /// local part of the bounce From:
    pub bouncefrom: Vec<u8>,
    /// domain of the bounce From: and the host in its introduction
    pub bouncehost: Vec<u8>,
    /// local part of the double-bounce recipient
    pub doublebounceto: Vec<u8>,
    /// domain of the double-bounce recipient
    pub doublebouncehost: Vec<u8>,
    /// recipient rewriting
    pub rewrite: Rewrite,
}

fn locals(dir: &Path, me: Option<&[u8]>) -> io::Result<Map> {
    match (control::list(dir.join("locals"))?, me) {
        (Some(l), _) => Ok(Map::new(&l, false)),
        (None, Some(me)) => Ok(Map::new(&[me.to_vec()], false)),
        (None, None) => Err(io::Error::new(
            io::ErrorKind::NotFound,
            "no locals and no me",
        )),
    }
}

fn vdoms(dir: &Path) -> io::Result<Map> {
    Ok(Map::new(
        &control::list(dir.join("virtualdomains"))?.unwrap_or_default(),
        true,
    ))
}

/// The recipient rewriting qmail-send does, from the controls in `dir`: envnoathost (else
/// me), percenthack, locals (else me) and virtualdomains.
pub fn rewrite(dir: &Path) -> io::Result<Rewrite> {
    let me = control::line(dir.join("me"))?;
    let me = me.as_deref();
    Ok(Rewrite {
        envnoathost: control::line_or_me(dir.join("envnoathost"), me, "envnoathost")?,
        percenthack: Map::new(
            &control::list(dir.join("percenthack"))?.unwrap_or_default(),
            false,
        ),
        locals: locals(dir, me)?,
        vdoms: vdoms(dir)?,
    })
}

impl Controls {
    /// Reads the controls in `dir` (normally `control`, relative to the qmail home).
    pub fn read(dir: &Path) -> io::Result<Controls> {
        let me = control::line(dir.join("me"))?;
        let me = me.as_deref();
        let or_me = |name: &str| control::line_or_me(dir.join(name), me, name);
        let plain = |name: &str, dflt: &str| {
            control::line(dir.join(name)).map(|v| v.unwrap_or_else(|| dflt.as_bytes().to_vec()))
        };
        Ok(Controls {
            concurrency: [
                control::int(dir.join("concurrencylocal"), 10)?,
                control::int(dir.join("concurrencyremote"), 20)?,
            ],
            lifetime: control::int(dir.join("queuelifetime"), LIFETIME)?,
            bouncefrom: plain("bouncefrom", "MAILER-DAEMON")?,
            bouncehost: or_me("bouncehost")?,
            doublebounceto: plain("doublebounceto", "postmaster")?,
            doublebouncehost: or_me("doublebouncehost")?,
            rewrite: rewrite(dir)?,
        })
    }

    /// SIGHUP: rereads locals and virtualdomains; on failure the old table stays and the
    /// alert text is returned.
    pub fn reread(&mut self, dir: &Path) -> Result<(), &'static str> {
        let me = control::line(dir.join("me")).map_err(|_| "unable to reread control/locals")?;
        self.rewrite.locals =
            locals(dir, me.as_deref()).map_err(|_| "unable to reread control/locals")?;
        self.rewrite.vdoms = vdoms(dir).map_err(|_| "unable to reread control/virtualdomains")?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::send::{LOCAL, REMOTE};

    fn dir(tag: &str, files: &[(&str, &str)]) -> std::path::PathBuf {
        let d = std::env::temp_dir().join(format!("qlib-controls.{}.{tag}", std::process::id()));
        let _ = std::fs::remove_dir_all(&d);
        std::fs::create_dir_all(&d).unwrap();
        for (name, text) in files {
            std::fs::write(d.join(name), text).unwrap();
        }
        d
    }

    #[test]
    fn defaults_follow_me() {
        let d = dir("me", &[("me", "me.example\n")]);
        let c = Controls::read(&d).unwrap();
        assert_eq!(c.concurrency, [10, 20]);
        assert_eq!(c.lifetime, 604800);
        assert_eq!(c.bouncefrom, b"MAILER-DAEMON");
        assert_eq!(c.bouncehost, b"me.example");
        assert_eq!(c.doublebounceto, b"postmaster");
        assert_eq!(c.doublebouncehost, b"me.example");
        assert_eq!(
            c.rewrite.rewrite(b"joe"),
            (LOCAL, b"joe@me.example".to_vec())
        );
        assert_eq!(
            c.rewrite.rewrite(b"joe@ME.example"),
            (LOCAL, b"joe@ME.example".to_vec())
        );
        let _ = std::fs::remove_dir_all(d);
    }

    #[test]
    fn explicit_values_and_hup() {
        let d = dir(
            "set",
            &[
                ("me", "me.example\n"),
                ("locals", "a.example\n"),
                ("envnoathost", "env.example\n"),
                ("concurrencylocal", "3\n"),
                ("concurrencyremote", "x\n"),
                ("queuelifetime", "60\n"),
                ("doublebounceto", "dbl\n"),
                ("virtualdomains", "v.example:vv\n"),
            ],
        );
        let mut c = Controls::read(&d).unwrap();
        assert_eq!((c.concurrency, c.lifetime), ([3, 20], 60));
        assert_eq!(c.doublebounceto, b"dbl");
        assert_eq!(
            c.rewrite.rewrite(b"joe"),
            (REMOTE, b"joe@env.example".to_vec())
        );
        assert_eq!(c.rewrite.rewrite(b"x@me.example").0, REMOTE);
        assert_eq!(
            c.rewrite.rewrite(b"x@v.example"),
            (LOCAL, b"vv-x@v.example".to_vec())
        );
        std::fs::write(d.join("locals"), "me.example\n").unwrap();
        std::fs::remove_file(d.join("virtualdomains")).unwrap();
        c.reread(&d).unwrap();
        assert_eq!(c.rewrite.rewrite(b"x@me.example").0, LOCAL);
        assert_eq!(
            c.rewrite.rewrite(b"x@v.example"),
            (REMOTE, b"x@v.example".to_vec())
        );
        std::fs::remove_file(d.join("locals")).unwrap();
        std::fs::remove_file(d.join("me")).unwrap();
        assert_eq!(c.reread(&d), Err("unable to reread control/locals"));
        assert!(c.rewrite.locals.contains(b"me.example"), "old table kept");
        assert!(Controls::read(&d).is_err(), "neither locals nor me");
        let _ = std::fs::remove_dir_all(d);
    }
}
