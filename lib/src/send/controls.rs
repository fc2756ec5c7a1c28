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
            rewrite: Rewrite {
                envnoathost: or_me("envnoathost")?,
                percenthack: Map::new(
                    &control::list(dir.join("percenthack"))?.unwrap_or_default(),
                    false,
                ),
                locals: locals(dir, me)?,
                vdoms: vdoms(dir)?,
            },
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
