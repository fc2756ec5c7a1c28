//! The logic of qmail-local (qmail-local.c, dot-qmail.5, qmail-command.8): which `.qmail`
//! file controls an address, what its lines mean, the environment and the added header lines
//! a delivery gets, the sender used for forwards, loop detection, and how a program's exit
//! status is read. Files are looked up relative to a directory the caller names (the home
//! directory, which qmail-local has made its working directory).
//!
//! Beyond qmail: a trailing CR on a `.qmail` line is removed like trailing spaces and tabs
//! (a file saved with CRLF line ends would otherwise name files ending in CR), and a
//! delivery line containing a NUL byte is refused (it could not be passed on intact).

use crate::child::Wait;
use crate::quote;
use std::fs::{self, File, OpenOptions};
use std::io::{self, BufRead, Read};
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::{MetadataExt, OpenOptionsExt};
use std::path::Path;

/// A failure with qmail-local's code (100 or 111) and its text, which ends in `(#x.y.z)`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    /// 100 permanent, 111 temporary
    pub code: u8,
    /// the text for the report
    pub text: String,
}

fn temp(text: impl Into<String>) -> Problem {
    Problem {
        code: crate::exit::TEMP,
        text: text.into(),
    }
}

fn perm(text: impl Into<String>) -> Problem {
    Problem {
        code: crate::exit::PERM,
        text: text.into(),
    }
}

fn show(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

fn path(b: &[u8]) -> &Path {
    Path::new(std::ffi::OsStr::from_bytes(b))
}

/// `ext` lowercased, with every `.` turned into `:`.
pub fn safeext(ext: &[u8]) -> Vec<u8> {
    ext.iter()
        .map(|&c| {
            if c == b'.' {
                b':'
            } else {
                c.to_ascii_lowercase()
            }
        })
        .collect()
}

/// The names tried, in order, for `dash` and `ext`: the exact name first, then the
/// `-default` names from most to least specific, each with the offset into `ext` where the
/// part `default` stands for begins.
pub fn candidates(dash: &[u8], ext: &[u8]) -> Vec<(Vec<u8>, Option<usize>)> {
    let safe = safeext(ext);
    let base = |upto: &[u8]| {
        let mut n = b".qmail".to_vec();
        n.extend_from_slice(dash);
        n.extend_from_slice(upto);
        n
    };
    let exact_default = safe.ends_with(b"default").then(|| safe.len() - 7);
    let mut out = vec![(base(&safe), exact_default)];
    for i in (0..=safe.len()).rev() {
        if i == 0 || safe[i - 1] == b'-' {
            let mut n = base(&safe[..i]);
            n.extend_from_slice(b"default");
            out.push((n, Some(i)));
        }
    }
    out
}

/// The controlling file, once found.
#[derive(Debug, Default)]
pub struct Control {
    /// its name, `None` when no file exists (plain user address)
    pub name: Option<Vec<u8>>,
    /// the instructions: the file's contents, or `defaultdelivery` for an empty/absent file
    pub text: Vec<u8>,
    /// the file has its owner-execute bit set
    pub forward_only: bool,
    /// `$DEFAULT`, when a name containing `default` was matched
    pub default: Option<Vec<u8>>,
}

/// Opens `dir/name` if it is a regular file: `Ok(None)` if it does not count as existing.
fn open_qmail(dir: &Path, name: &[u8], patrn: u32) -> Result<Option<(File, bool)>, Problem> {
    let f = match OpenOptions::new()
        .read(true)
        .custom_flags(crate::sys::fs::O_NONBLOCK)
        .open(dir.join(path(name)))
    {
        Ok(f) => f,
        Err(e) if crate::errtext::is_temp(&e) || matches!(e.raw_os_error(), Some(1 | 13)) => {
            return Err(temp(format!(
                "Unable to open {}: {}. (#4.3.0)",
                show(name),
                crate::errtext::text(&e)
            )))
        }
        Err(_) => return Ok(None),
    };
    let md = f.metadata().map_err(|e| {
        temp(format!(
            "Unable to stat {}: {}. (#4.3.0)",
            show(name),
            crate::errtext::text(&e)
        ))
    })?;
    if !md.is_file() {
        return Ok(None);
    }
    if md.mode() & patrn != 0 {
        return Err(temp("Uh-oh: .qmail file is writable. (#4.7.0)"));
    }
    Ok(Some((f, md.mode() & 0o100 != 0)))
}

/// Finds the file controlling `dash`+`ext` in `dir` (§4.7) and reads it; an absent or empty
/// file gives `defaultdelivery`, except that no file at all for an extension bounces.
pub fn find(
    dir: &Path,
    dash: &[u8],
    ext: &[u8],
    defaultdelivery: &[u8],
    patrn: u32,
) -> Result<Control, Problem> {
    let mut found = None;
    for (name, default_at) in candidates(dash, ext) {
        if let Some(fx) = open_qmail(dir, &name, patrn)? {
            let default = default_at.map(|k| ext[k.min(ext.len())..].to_vec());
            found = Some((name, fx, default));
            break;
        }
    }
    let Some((name, (mut f, xbit), default)) = found else {
        if !dash.is_empty() {
            return Err(perm("Sorry, no mailbox here by that name. (#5.1.1)"));
        }
        return Ok(Control {
            text: defaultdelivery.to_vec(),
            ..Control::default()
        });
    };
    let mut text = Vec::new();
    f.read_to_end(&mut text).map_err(|e| {
        temp(format!(
            "Unable to read {}: {}. (#4.3.0)",
            show(&name),
            crate::errtext::text(&e)
        ))
    })?;
    let empty = text.is_empty();
    Ok(Control {
        name: Some(name),
        text: if empty {
            defaultdelivery.to_vec()
        } else {
            text
        },
        forward_only: xbit && !empty,
        default,
    })
}

/// One instruction of a `.qmail` file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Instr {
    /// `|command`: run with `/bin/sh -c`
    Program(Vec<u8>),
    /// a path ending in `/`
    Maildir(Vec<u8>),
    /// a path not ending in `/`
    Mbox(Vec<u8>),
    /// `&address` or a bare address
    Forward(Vec<u8>),
}

impl Instr {
    /// The `-n` plan line, without the newline.
    pub fn plan(&self) -> Vec<u8> {
        let (word, arg): (&[u8], &[u8]) = match self {
            Instr::Program(a) => (b"program ", a),
            Instr::Maildir(a) => (b"maildir ", a),
            Instr::Mbox(a) => (b"mbox ", a),
            Instr::Forward(a) => (b"forward ", a),
        };
        [word, arg].concat()
    }
}

/// Classifies the lines of `text` (§4.8). `forward_only` (the x bit) may also be turned on
/// by a `+list` line; in that mode only comments and forwards are allowed.
pub fn parse(text: &[u8], mut forward_only: bool) -> Result<Vec<Instr>, Problem> {
    let body = text.strip_suffix(b"\n").unwrap_or(text);
    let mut out = Vec::new();
    for (n, raw) in body.split(|&c| c == b'\n').enumerate() {
        let end = raw
            .iter()
            .rposition(|&c| !matches!(c, b' ' | b'\t' | b'\r'))
            .map_or(0, |i| i + 1);
        let line = &raw[..end];
        let Some(&first) = line.first() else {
            if n == 0 {
                return Err(temp("Uh-oh: first line of .qmail file is blank. (#4.2.1)"));
            }
            continue;
        };
        if first == b'#' {
            continue;
        }
        if line.contains(&0) {
            return Err(temp(format!(
                "Uh-oh: line {} of .qmail file contains a NUL byte. (#4.7.0)",
                n + 1
            )));
        }
        let instr = match first {
            b'+' => {
                if line == b"+list" {
                    forward_only = true;
                }
                continue;
            }
            b'|' => Instr::Program(line[1..].to_vec()),
            b'/' | b'.' if line.ends_with(b"/") => Instr::Maildir(line.to_vec()),
            b'/' | b'.' => Instr::Mbox(line.to_vec()),
            b'&' => Instr::Forward(line[1..].to_vec()),
            _ => Instr::Forward(line.to_vec()),
        };
        let kind = match instr {
            Instr::Program(_) => "prog",
            Instr::Forward(_) => "",
            _ => "file",
        };
        if forward_only && !kind.is_empty() {
            return Err(temp(format!(
                "Uh-oh: .qmail has {kind} delivery but has x bit set. (#4.7.0)"
            )));
        }
        out.push(instr);
    }
    Ok(out)
}

/// The operands of qmail-local.
#[derive(Debug, Clone, Default)]
pub struct Delivery {
    /// account name
    pub user: Vec<u8>,
    /// home directory
    pub home: Vec<u8>,
    /// full local part
    pub local: Vec<u8>,
    /// `-` or empty
    pub dash: Vec<u8>,
    /// extension
    pub ext: Vec<u8>,
    /// domain
    pub domain: Vec<u8>,
    /// envelope sender
    pub sender: Vec<u8>,
    /// instructions when there is no (or an empty) `.qmail`
    pub defaultdelivery: Vec<u8>,
}

impl Delivery {
    /// `local@domain`
    pub fn recipient(&self) -> Vec<u8> {
        [&self.local[..], b"@", &self.domain].concat()
    }
    /// `Delivered-To: local@domain\n`, newlines in the address as `_`
    pub fn dtline(&self) -> Vec<u8> {
        line(b"Delivered-To: ", &self.recipient())
    }
    /// `Return-Path: <sender>\n`, local part quoted as needed, newlines as `_`
    pub fn rpline(&self) -> Vec<u8> {
        let q = [&b"<"[..], &quote::address(&self.sender), b">"].concat();
        line(b"Return-Path: ", &q)
    }
}

fn line(field: &[u8], value: &[u8]) -> Vec<u8> {
    let mut l = field.to_vec();
    l.extend(value.iter().map(|&c| if c == b'\n' { b'_' } else { c }));
    l.push(b'\n');
    l
}

/// `EXT2`..`EXT4`: `ext` after its first, second, third `-` (empty if there are fewer).
pub fn ext_parts(ext: &[u8]) -> [Vec<u8>; 3] {
    let mut i = 0;
    let mut out: [Vec<u8>; 3] = Default::default();
    for slot in &mut out {
        match memchr::memchr(b'-', &ext[i..]) {
            Some(k) => i += k + 1,
            None => i = ext.len(),
        }
        *slot = ext[i..].to_vec();
    }
    out
}

/// `HOST2`..`HOST4`: the host with its last one, two, three dot-components removed; a step
/// that finds no dot leaves the previous value.
pub fn host_parts(host: &[u8]) -> [Vec<u8>; 3] {
    let mut end = host.len();
    let mut out: [Vec<u8>; 3] = Default::default();
    for slot in &mut out {
        if let Some(k) = memchr::memrchr(b'.', &host[..end]) {
            end = k;
        }
        *slot = host[..end].to_vec();
    }
    out
}

/// The sender for forwarded copies (§4.13), given whether `.qmail<dash><safeext>-owner` and
/// `…-owner-default` exist.
pub fn newsender(d: &Delivery, owner: bool, owner_default: bool) -> Vec<u8> {
    if d.sender.is_empty() || d.sender == b"#@[]" || !owner {
        return d.sender.clone();
    }
    let tail: &[u8] = if owner_default {
        b"-owner-@"
    } else {
        b"-owner@"
    };
    let mut s = [&d.local[..], tail, &d.domain].concat();
    if owner_default {
        s.extend_from_slice(b"-@[]");
    }
    s
}

/// Whether `.qmail<dash><safeext><suffix>` exists in `dir` (only `stat`; a temporary
/// error is a problem).
pub fn owner_file(dir: &Path, d: &Delivery, suffix: &[u8]) -> Result<bool, Problem> {
    let name = [&b".qmail"[..], &d.dash, &safeext(&d.ext), suffix].concat();
    match fs::metadata(dir.join(path(&name))) {
        Ok(_) => Ok(true),
        Err(e) if crate::errtext::is_temp(&e) => Err(temp(format!(
            "Unable to stat {}: {}. (#4.3.0)",
            show(&name),
            crate::errtext::text(&e)
        ))),
        Err(_) => Ok(false),
    }
}

/// The environment every program gets (§4.10). `DEFAULT` is `None` when no `-default`
/// file was selected (the caller removes any inherited value).
pub fn environment(
    d: &Delivery,
    newsender: &[u8],
    ufline: &[u8],
    default: Option<&[u8]>,
) -> Vec<(&'static str, Option<Vec<u8>>)> {
    let [e2, e3, e4] = ext_parts(&d.ext);
    let [h2, h3, h4] = host_parts(&d.domain);
    let v = |b: &[u8]| Some(b.to_vec());
    vec![
        ("USER", v(&d.user)),
        ("HOME", v(&d.home)),
        ("LOCAL", v(&d.local)),
        ("HOST", v(&d.domain)),
        ("RECIPIENT", v(&d.recipient())),
        ("SENDER", v(&d.sender)),
        ("NEWSENDER", v(newsender)),
        ("DTLINE", v(&d.dtline())),
        ("RPLINE", v(&d.rpline())),
        ("UFLINE", v(ufline)),
        ("EXT", v(&d.ext)),
        ("EXT2", Some(e2)),
        ("EXT3", Some(e3)),
        ("EXT4", Some(e4)),
        ("HOST2", Some(h2)),
        ("HOST3", Some(h3)),
        ("HOST4", Some(h4)),
        ("DEFAULT", default.map(<[u8]>::to_vec)),
    ]
}

/// Whether the header of the message (up to the first empty line) has a line identical to
/// `line` (which ends in `\n`); lines longer than it are skipped without being held whole.
pub fn has_line(r: &mut impl BufRead, line: &[u8]) -> io::Result<bool> {
    use crate::getln::{getln, Got};
    let mut buf = Vec::new();
    loop {
        match getln(r, b'\n', line.len(), &mut buf)? {
            Got::Record => {
                if buf.is_empty() {
                    return Ok(false);
                }
                if buf.len() + 1 == line.len() && line.starts_with(&buf) {
                    return Ok(true);
                }
            }
            Got::TooLong => {
                let mut skip = Vec::new();
                while getln(r, b'\n', 65536, &mut skip)? == Got::TooLong {}
            }
            Got::Partial | Got::Eof => return Ok(false),
        }
    }
}

/// What a program's ending means for the rest of the `.qmail` file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum After {
    /// success: next line
    Next,
    /// exit 99: success, ignore the following lines
    Stop,
    /// permanent failure (100 and sendmail's hard sysexits)
    Perm,
    /// temporary failure
    Temp,
    /// killed by a signal (temporary)
    Crashed,
}

/// The exit-status table of §4.10.
pub fn after(w: Wait) -> After {
    match w {
        Wait::Exited(0) => After::Next,
        Wait::Exited(99) => After::Stop,
        Wait::Exited(100 | 64 | 65 | 70 | 76 | 77 | 78 | 112) => After::Perm,
        Wait::Exited(_) => After::Temp,
        Wait::Crashed(_) => After::Crashed,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names(dash: &[u8], ext: &[u8]) -> Vec<(String, Option<usize>)> {
        candidates(dash, ext)
            .into_iter()
            .map(|(n, d)| (show(&n), d))
            .collect()
    }

    #[test]
    fn search_order() {
        let s = |v: &[(&str, Option<usize>)]| -> Vec<(String, Option<usize>)> {
            v.iter().map(|(a, b)| (a.to_string(), *b)).collect()
        };
        assert_eq!(
            names(b"-", b"A-b-C"),
            s(&[
                (".qmail-a-b-c", None),
                (".qmail-a-b-default", Some(4)),
                (".qmail-a-default", Some(2)),
                (".qmail-default", Some(0)),
            ])
        );
        assert_eq!(
            names(b"-", b"a-b-"),
            s(&[
                (".qmail-a-b-", None),
                (".qmail-a-b-default", Some(4)),
                (".qmail-a-default", Some(2)),
                (".qmail-default", Some(0)),
            ])
        );
        assert_eq!(
            names(b"", b""),
            s(&[(".qmail", None), (".qmaildefault", Some(0))])
        );
        assert_eq!(safeext(b"P.D.Q.Bach/X"), b"p:d:q:bach/x");
        assert_eq!(
            names(b"-", b"x-DEFAULT")[0],
            (".qmail-x-default".into(), Some(2))
        );
    }

    fn dir(tag: &str) -> std::path::PathBuf {
        let d = std::env::temp_dir().join(format!("qlib-dotqmail.{}.{tag}", std::process::id()));
        let _ = fs::remove_dir_all(&d);
        fs::create_dir_all(&d).unwrap();
        d
    }

    fn put(d: &Path, name: &str, text: &[u8], mode: u32) {
        use std::os::unix::fs::PermissionsExt;
        fs::write(d.join(name), text).unwrap();
        fs::set_permissions(d.join(name), fs::Permissions::from_mode(mode)).unwrap();
    }

    #[test]
    fn finding_files() {
        let d = dir("find");
        let dd = b"./Maildir/\n";
        // plain user, no file: defaultdelivery
        let c = find(&d, b"", b"", dd, 0o002).unwrap();
        assert_eq!((c.name, c.text.as_slice()), (None, &dd[..]));
        // extension, no file: bounce
        assert_eq!(find(&d, b"-", b"x", dd, 0o002).unwrap_err().code, 100);
        put(&d, ".qmail-default", b"&a@b\n", 0o644);
        put(&d, ".qmail-a-default", b"", 0o744);
        let c = find(&d, b"-", b"Zz.Y", dd, 0o002).unwrap();
        assert_eq!(c.name.as_deref(), Some(&b".qmail-default"[..]));
        assert_eq!(c.default.as_deref(), Some(&b"Zz.Y"[..]));
        assert_eq!(c.text, b"&a@b\n");
        // an empty file: defaultdelivery, forward-only cleared
        let c = find(&d, b"-", b"A-Q", dd, 0o002).unwrap();
        assert_eq!((c.text.as_slice(), c.forward_only), (&dd[..], false));
        assert_eq!(c.default.as_deref(), Some(&b"Q"[..]));
        put(&d, ".qmail-a-default", b"&x@y\n", 0o744);
        assert!(find(&d, b"-", b"a-q", dd, 0o002).unwrap().forward_only);
        // exact name that ends in "default"
        put(&d, ".qmail-b-default", b"&x@y\n", 0o644);
        let c = find(&d, b"-", b"B-DEFAULT", dd, 0o002).unwrap();
        assert_eq!(c.default.as_deref(), Some(&b"DEFAULT"[..]));
        put(&d, ".qmail-c", b"&x@y\n", 0o664);
        assert_eq!(
            find(&d, b"-", b"c", dd, 0o002).unwrap().name.unwrap(),
            b".qmail-c"
        );
        assert_eq!(find(&d, b"-", b"c", dd, 0o022).unwrap_err().code, 111);
        // a directory does not count
        fs::create_dir(d.join(".qmail-e")).unwrap();
        assert_eq!(
            find(&d, b"-", b"e", dd, 0o002).unwrap().name.unwrap(),
            b".qmail-default"
        );
        fs::remove_dir_all(&d).unwrap();
    }

    #[test]
    fn lines() {
        use Instr::*;
        let t = b"# c\n|prog a  \t\n./Maildir/\n./mbox\n/abs/mbox\r\n&fw@x\nbare@y\n+list\n\n+x\n";
        assert_eq!(
            parse(t, false).unwrap(),
            vec![
                Program(b"prog a".to_vec()),
                Maildir(b"./Maildir/".to_vec()),
                Mbox(b"./mbox".to_vec()),
                Mbox(b"/abs/mbox".to_vec()),
                Forward(b"fw@x".to_vec()),
                Forward(b"bare@y".to_vec()),
            ]
        );
        assert_eq!(parse(b" \nx@y\n", false).unwrap_err().code, 111);
        // an empty defaultdelivery reads as one blank line, as in qmail
        assert_eq!(parse(b"", false).unwrap_err().code, 111);
        assert_eq!(
            parse(b"a@b", false).unwrap(),
            vec![Forward(b"a@b".to_vec())]
        );
        assert_eq!(
            parse(b"&a@b\n#x\n", true).unwrap(),
            vec![Forward(b"a@b".to_vec())]
        );
        let e = parse(b"&a@b\n|x\n", true).unwrap_err();
        assert_eq!(
            e.text,
            "Uh-oh: .qmail has prog delivery but has x bit set. (#4.7.0)"
        );
        let e = parse(b"+list\n&a@b\n./Mailbox\n", false).unwrap_err();
        assert_eq!(
            e.text,
            "Uh-oh: .qmail has file delivery but has x bit set. (#4.7.0)"
        );
        assert_eq!(parse(b"&a\0b\n", false).unwrap_err().code, 111);
        assert_eq!(Program(b"x y".to_vec()).plan(), b"program x y");
    }

    fn delivery() -> Delivery {
        Delivery {
            user: b"joe".to_vec(),
            home: b"/home/joe".to_vec(),
            local: b"joe-list-foo".to_vec(),
            dash: b"-".to_vec(),
            ext: b"list-foo".to_vec(),
            domain: b"mx.example.org".to_vec(),
            sender: b"a b@x".to_vec(),
            defaultdelivery: b"./Mailbox\n".to_vec(),
        }
    }

    #[test]
    fn lines_and_variables() {
        let d = delivery();
        assert_eq!(d.dtline(), b"Delivered-To: joe-list-foo@mx.example.org\n");
        assert_eq!(d.rpline(), b"Return-Path: <\"a b\"@x>\n");
        let mut d2 = d.clone();
        d2.sender = Vec::new();
        d2.local = b"a\nb".to_vec();
        assert_eq!(d2.rpline(), b"Return-Path: <>\n");
        assert_eq!(d2.dtline(), b"Delivered-To: a_b@mx.example.org\n");
        assert_eq!(
            ext_parts(b"a-b-c-d"),
            [b"b-c-d".to_vec(), b"c-d".to_vec(), b"d".to_vec()]
        );
        assert_eq!(ext_parts(b"a"), [vec![], vec![], vec![]]);
        assert_eq!(
            host_parts(b"a.b.c.d"),
            [b"a.b.c".to_vec(), b"a.b".to_vec(), b"a".to_vec()]
        );
        assert_eq!(
            host_parts(b"a.b"),
            [b"a".to_vec(), b"a".to_vec(), b"a".to_vec()]
        );
        assert_eq!(
            host_parts(b"h"),
            [b"h".to_vec(), b"h".to_vec(), b"h".to_vec()]
        );
        let env = environment(&d, b"ns", b"UF\n", None);
        assert_eq!(env.len(), 18);
        assert_eq!(env.last().unwrap(), &("DEFAULT", None));
    }

    #[test]
    fn owner_rules() {
        let mut d = delivery();
        assert_eq!(newsender(&d, false, true), b"a b@x");
        assert_eq!(
            newsender(&d, true, false),
            b"joe-list-foo-owner@mx.example.org"
        );
        assert_eq!(
            newsender(&d, true, true),
            b"joe-list-foo-owner-@mx.example.org-@[]"
        );
        for bounce in [&b""[..], b"#@[]"] {
            d.sender = bounce.to_vec();
            assert_eq!(newsender(&d, true, true), bounce);
        }
        let dir = dir("owner");
        d.ext = b"List.Foo".to_vec();
        assert!(!owner_file(&dir, &d, b"-owner").unwrap());
        put(&dir, ".qmail-list:foo-owner", b"", 0o644);
        assert!(owner_file(&dir, &d, b"-owner").unwrap());
        fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn loops() {
        let dt = b"Delivered-To: a@b\n";
        let yes = |m: &[u8]| has_line(&mut io::Cursor::new(m), dt).unwrap();
        assert!(yes(b"X: 1\nDelivered-To: a@b\n\nbody\n"));
        assert!(!yes(b"X: 1\n\nDelivered-To: a@b\n"));
        assert!(!yes(b"Delivered-To: A@b\n\n"));
        assert!(!yes(b"Delivered-To: a@bc\nDelivered-To: a@b"));
        let mut long = vec![b'x'; 100_000];
        long.extend_from_slice(b"\nDelivered-To: a@b\n");
        assert!(yes(&long));
    }

    #[test]
    fn exit_codes() {
        assert_eq!(after(Wait::Exited(0)), After::Next);
        assert_eq!(after(Wait::Exited(99)), After::Stop);
        for c in [100, 64, 65, 70, 76, 77, 78, 112] {
            assert_eq!(after(Wait::Exited(c)), After::Perm);
        }
        for c in [1, 111, 66, 127] {
            assert_eq!(after(Wait::Exited(c)), After::Temp);
        }
        assert_eq!(after(Wait::Crashed(9)), After::Crashed);
    }
}
