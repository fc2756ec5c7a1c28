//! Reads the first line of each `conf/<name>` file and compiles it in as `$OUT_DIR/conf.rs`.
//! `RQMAIL_CONF` names an alternate conf directory (package/test uses one for a private home).

use std::{env, fs, path::PathBuf};

const SETTINGS: [&str; 8] = [
    "home", "users", "groups", "split", "spawn", "break", "patrn", "aliases",
];

fn main() {
    println!("cargo:rerun-if-env-changed=RQMAIL_CONF");
    let dir = match env::var_os("RQMAIL_CONF") {
        Some(d) => PathBuf::from(d),
        None => {
            PathBuf::from(env::var_os("CARGO_MANIFEST_DIR").expect("manifest dir")).join("../conf")
        }
    };
    let mut out = String::new();
    for name in SETTINGS {
        let path = dir.join(name);
        println!("cargo:rerun-if-changed={}", path.display());
        let text = fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        let value = text.lines().next().unwrap_or("").trim_end();
        out.push_str(&format!(
            "/// first line of conf/{name}\npub const {}: &str = {value:?};\n",
            name.to_uppercase()
        ));
    }
    let dest = PathBuf::from(env::var_os("OUT_DIR").expect("OUT_DIR")).join("conf.rs");
    fs::write(dest, out).expect("write conf.rs");
}
