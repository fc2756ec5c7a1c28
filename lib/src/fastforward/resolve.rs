//! fastforward's walk over a forwarding database (fastforward.c), computed as a plan before
//! anything runs: the programs to feed the message to, in the order the original runs them,
//! the envelope sender, and the recipients of the one forwarded copy (in the original's
//! order: the reverse of the order the walk finds them).
//!
//! The original target is looked up with wildcards (`user@host`, then `@host`, then `user@`),
//! owner (`?`) record first; its commands are taken in stored order, programs noted,
//! addresses and lists pushed on a stack. Popping (last in, first out), each string is
//! handled once: a list file's items are pushed; an address with an exact `?` record is
//! forwarded as it is (its own delivery applies its owner), one with an exact `:` record is
//! expanded, any other is a recipient.
//!
//! Beyond the original: because the plan is made first, an unreadable list defers the
//! message before any program has run (the original could run a program, then defer, and
//! run it again on the retry).

use std::collections::HashSet;
use std::io;

/// Where records and list files come from.
pub trait Source {
    /// The data of the first record with this key.
    fn get(&mut self, key: &[u8]) -> io::Result<Option<Vec<u8>>>;
    /// The contents of a binary list file named by a `/…` or `./…` item.
    fn list(&mut self, path: &[u8]) -> Result<Vec<u8>, String>;
}

/// Why no plan could be made (always temporary).
#[derive(Debug, PartialEq, Eq)]
pub enum Error {
    /// the database could not be read
    Db(io::ErrorKind),
    /// a list file could not be used: the text says why
    List(String),
}

/// What to do with a message for a known target.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Plan {
    /// `|prog` and `!prog` items, marker included, in running order
    pub programs: Vec<Vec<u8>>,
    /// the owner address replacing the envelope sender, if one applies
    pub owner: Option<Vec<u8>>,
    /// recipients of the forwarded copy, in order
    pub recipients: Vec<Vec<u8>>,
}

/// Addresses this long or longer (with their `&`) are ignored, as in the original.
const MAX_ITEM: usize = 900;

/// The keys tried for a target: itself, `@domain`, `local@` (lower case).
fn wildcards(kind: u8, target: &[u8]) -> Vec<Vec<u8>> {
    let t = target.to_ascii_lowercase();
    let key = |s: &[u8]| [&[kind][..], s].concat();
    match t.iter().rposition(|&c| c == b'@') {
        Some(at) => vec![key(&t), key(&t[at..]), key(&t[..=at])],
        None => vec![key(&t)],
    }
}

fn first_of(src: &mut impl Source, keys: Vec<Vec<u8>>) -> Result<Option<Vec<u8>>, Error> {
    for k in keys {
        if let Some(d) = src.get(&k).map_err(|e| Error::Db(e.kind()))? {
            return Ok(Some(d));
        }
    }
    Ok(None)
}

/// Whether the database has a command record for `target` (with the same wildcards as
/// [`resolve`]): what decides between forwarding and "no mailbox here by that name".
pub fn known(src: &mut impl Source, target: &[u8]) -> Result<bool, Error> {
    Ok(first_of(src, wildcards(b':', target))?.is_some())
}

/// The plan for `target` with envelope sender `sender`; `None` if the database has no
/// command record for it.
pub fn resolve(src: &mut impl Source, target: &[u8], sender: &[u8]) -> Result<Option<Plan>, Error> {
    let owner = first_of(src, wildcards(b'?', target))?;
    let Some(commands) = first_of(src, wildcards(b':', target))? else {
        return Ok(None);
    };
    let mut plan = Plan {
        owner: owner.filter(|_| !sender.is_empty() && sender != b"#@[]"),
        ..Plan::default()
    };
    let mut stack: Vec<Vec<u8>> = Vec::new();
    take(&commands, &mut plan, &mut stack);
    let mut done: HashSet<Vec<u8>> = HashSet::new();
    while let Some(item) = stack.pop() {
        if !done.insert(item.clone()) {
            continue;
        }
        if let Some(addr) = item.strip_prefix(b"&") {
            let lower = addr.to_ascii_lowercase();
            let get = |src: &mut _, kind: u8| first_of(src, vec![[&[kind][..], &lower].concat()]);
            if get(src, b'?')?.is_some() {
                plan.recipients.push(addr.to_vec());
            } else if let Some(data) = get(src, b':')? {
                take(&data, &mut plan, &mut stack);
            } else {
                plan.recipients.push(addr.to_vec());
            }
        } else {
            let list = src.list(&item).map_err(Error::List)?;
            for entry in list.split(|&c| c == 0) {
                if pushable(entry) {
                    stack.push(entry.to_vec());
                }
            }
        }
    }
    // The original lists recipients in the reverse of the order the walk finds them.
    plan.recipients.reverse();
    Ok(Some(plan))
}

fn pushable(item: &[u8]) -> bool {
    match item.first() {
        Some(b'&') => item.len() < MAX_ITEM,
        Some(b'/' | b'.') => true,
        _ => false,
    }
}

/// A command list: programs into the plan, addresses and lists onto the stack.
fn take(data: &[u8], plan: &mut Plan, stack: &mut Vec<Vec<u8>>) {
    // Only NUL-terminated items count; a trailing fragment is ignored as in the original.
    let mut items: Vec<&[u8]> = data.split(|&c| c == 0).collect();
    items.pop();
    for item in items {
        match item.first() {
            Some(b'|' | b'!') => plan.programs.push(item.to_vec()),
            _ if pushable(item) => stack.push(item.to_vec()),
            _ => {}
        }
    }
}

/// `s` with control characters (and DEL) shown as `_`, for `-n` output.
pub fn printable(s: &[u8]) -> String {
    s.iter()
        .map(|&c| if c < 32 || c == 127 { '_' } else { c as char })
        .collect::<String>()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    #[derive(Default)]
    struct Mem {
        recs: HashMap<Vec<u8>, Vec<u8>>,
        lists: HashMap<Vec<u8>, Vec<u8>>,
        looked: Vec<String>,
    }
    impl Source for Mem {
        fn get(&mut self, key: &[u8]) -> io::Result<Option<Vec<u8>>> {
            self.looked.push(String::from_utf8_lossy(key).into());
            Ok(self.recs.get(key).cloned())
        }
        fn list(&mut self, path: &[u8]) -> Result<Vec<u8>, String> {
            self.lists
                .get(path)
                .cloned()
                .ok_or_else(|| "no such list".into())
        }
    }
    fn mem(recs: &[(&str, &str)], lists: &[(&str, &str)]) -> Mem {
        let b = |s: &&str| s.replace('|', "\0").into_bytes();
        let mut m = Mem::default();
        for (k, d) in recs {
            let d = d
                .replace("\\|", "\u{1}")
                .replace('|', "\0")
                .replace('\u{1}', "|");
            m.recs.insert(k.as_bytes().to_vec(), d.into_bytes());
        }
        for (k, d) in lists {
            m.lists.insert(k.as_bytes().to_vec(), b(d));
        }
        m
    }
    fn strs(v: &[Vec<u8>]) -> Vec<String> {
        v.iter()
            .map(|s| String::from_utf8_lossy(s).into())
            .collect()
    }

    #[test]
    fn wildcards_owner_first_then_commands() {
        let mut m = mem(&[(":@dom.test", "&catch@x|")], &[]);
        let p = resolve(&mut m, b"Joe@DOM.test", b"s@x").unwrap().unwrap();
        assert_eq!(strs(&p.recipients), ["catch@x"]);
        assert_eq!(
            m.looked,
            [
                "?joe@dom.test",
                "?@dom.test",
                "?joe@",
                ":joe@dom.test",
                ":@dom.test",
                "?catch@x",
                ":catch@x"
            ]
        );
        assert_eq!(resolve(&mut m, b"joe@other.test", b"s@x").unwrap(), None);
        assert_eq!(resolve(&mut mem(&[], &[]), b"nohost", b"").unwrap(), None);
    }

    #[test]
    fn known_uses_the_same_wildcards() {
        let mut m = mem(
            &[
                (":@dom.test", "&c@x|"),
                (":Joe@", "&j@x|"),
                ("?ann@x", "o|"),
            ],
            &[],
        );
        assert_eq!(known(&mut m, b"anyone@DOM.test"), Ok(true));
        assert_eq!(known(&mut m, b"ann@x"), Ok(false));
        assert_eq!(known(&mut m, b"bob@x"), Ok(false));
        let mut m = mem(&[(":joe@", "&j@x|")], &[]);
        assert_eq!(known(&mut m, b"JOE@y"), Ok(true));
    }

    #[test]
    fn programs_lists_nesting_loops_and_owners() {
        let mut m = mem(
            &[
                (":sos@h", "&joe@x|\\|dew-monitor|/l.bin|!vacation|"),
                ("?sos@h", "owner-sos@h"),
                (":joe@x", "&ann@y|&sos@h|"),
                (":sub@h", "&deep@z|"),
                ("?sub@h", "owner-sub@h"),
            ],
            &[
                ("/l.bin", "&bob@z|&joe@x|&Sub@h|./nested|junk|"),
                ("./nested", "&last@q|"),
            ],
        );
        let p = resolve(&mut m, b"sos@h", b"s@x").unwrap().unwrap();
        assert_eq!(strs(&p.programs), ["|dew-monitor", "!vacation"]);
        assert_eq!(p.owner, Some(b"owner-sos@h".to_vec()));
        // Stack [joe, /l.bin]; /l.bin pushes bob, joe, Sub, ./nested; ./nested pushes last;
        // Sub has an owner so goes as it is; joe expands to ann and sos, and sos (the
        // original target, which is not marked done, as in the original) has an owner too.
        // The list comes out in reverse.
        assert_eq!(
            strs(&p.recipients),
            ["bob@z", "ann@y", "sos@h", "Sub@h", "last@q"]
        );
        let p = resolve(&mut m, b"sos@h", b"").unwrap().unwrap();
        assert_eq!(p.owner, None);
        let p = resolve(&mut m, b"sos@h", b"#@[]").unwrap().unwrap();
        assert_eq!(p.owner, None);
    }

    #[test]
    fn empty_records_long_items_and_unreadable_lists() {
        let mut m = mem(&[(":null@", "")], &[]);
        assert_eq!(
            resolve(&mut m, b"null@h", b"s").unwrap(),
            Some(Plan::default())
        );
        let long = format!("&{}", "a".repeat(899));
        let mut m = mem(&[(":x@", &format!("{long}|&ok@h|&trail"))], &[]);
        let p = resolve(&mut m, b"x@h", b"s").unwrap().unwrap();
        assert_eq!(strs(&p.recipients), ["ok@h"]);
        let mut m = mem(&[(":x@", "/missing|")], &[]);
        assert_eq!(
            resolve(&mut m, b"x@h", b"s"),
            Err(Error::List("no such list".into()))
        );
        assert_eq!(printable(b"a\x01b\x7f"), "a_b_");
    }
}
