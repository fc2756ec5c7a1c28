//! Sendmail's `/etc/aliases` and `:include:` lists as newaliases and newinclude read them
//! (newaliases.c, newinclude.c): RFC 822 address lists, read right to left as qmail-inject
//! reads them (so `root: joe, bob` stores bob first, like the original), qualified with
//! qmail-inject's rules, `"|command"` as a program fed through preline, `:include:path` as a
//! binary list made by newinclude.
//!
//! Choices where the original is silent or unhelpful, all on the side of what a Sendmail
//! site means: `/dev/null` is a recipient that discards (an alias of only `/dev/null` gets
//! an empty, discarding command list); any other `/file` is refused (the caller says how to
//! move it to a `.qmail` file); a group (`name: a, b;`) inside a list is refused rather
//! than half read; a nested `:include:` in an include file names `path.bin`, as newaliases
//! does, not the text file the original named (which fastforward would misread).

use super::MAX_ADDRESS;
use crate::addrlist::{self, Kind, Token};
use crate::inject::Rewrite;

/// One recipient of an alias or include file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Item {
    /// a qualified address
    Address(Vec<u8>),
    /// `"|command"`: the command text
    Program(Vec<u8>),
    /// `/path` (no `@`)
    File(Vec<u8>),
    /// `:include:path`: the path as written
    Include(Vec<u8>),
}

/// Why a line cannot be used.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Error {
    /// not an alias line / not an address list
    Syntax,
    /// a `/file` recipient other than `/dev/null`
    File(Vec<u8>),
    /// a program where none is allowed (include files)
    Program(Vec<u8>),
    /// an address over [`MAX_ADDRESS`] bytes
    TooLong,
}

/// The text of `:include:` is carried through addrlist as one quoted token starting with a
/// NUL, which no input can contain (callers refuse NULs).
const INCLUDE_MARK: u8 = 0;

fn is_include(t: &[Token], i: usize) -> bool {
    t.len() > i + 2
        && t[i].kind == Kind::Colon
        && t[i + 1].kind == Kind::Atom
        && t[i + 1].text.eq_ignore_ascii_case(b"include")
        && t[i + 2].kind == Kind::Colon
}

/// Replaces each `:include:path` (up to the next comma) by a marked token.
fn mark_includes(t: Vec<Token>) -> Vec<Token> {
    let mut out = Vec::with_capacity(t.len());
    let mut i = 0;
    while i < t.len() {
        if !is_include(&t, i) {
            out.push(t[i].clone());
            i += 1;
            continue;
        }
        let start = i + 3;
        let end = t[start..]
            .iter()
            .position(|x| x.kind == Kind::Comma)
            .map_or(t.len(), |p| start + p);
        let mut text = vec![INCLUDE_MARK];
        text.extend(addrlist::unquote(&t[start..end]));
        out.push(Token::new(Kind::Quote, &text));
        i = end;
    }
    out
}

/// The recipients of an address list, in the original's (right to left) order.
pub fn recipients(tokens: Vec<Token>, rw: &Rewrite) -> Result<Vec<Item>, Error> {
    let tokens = mark_includes(tokens);
    if tokens
        .iter()
        .any(|t| matches!(t.kind, Kind::Colon | Kind::Semi))
    {
        return Err(Error::Syntax);
    }
    let mut out = Vec::new();
    let mut err = None;
    addrlist::addrlist(tokens, 0, |a| match item(a, rw) {
        Ok(Some(i)) => out.push(i),
        Ok(None) => {}
        Err(e) => err = err.take().or(Some(e)),
    })
    .ok_or(Error::Syntax)?;
    match err {
        Some(e) => Err(e),
        None => Ok(out),
    }
}

fn item(a: &mut Vec<Token>, rw: &Rewrite) -> Result<Option<Item>, Error> {
    if let [t] = &a[..] {
        if t.kind == Kind::Quote && t.text.first() == Some(&INCLUDE_MARK) {
            return Ok(Some(Item::Include(t.text[1..].to_vec())));
        }
    }
    let raw = addrlist::unquote(a);
    if raw.is_empty() {
        return Ok(None);
    }
    if !a.iter().any(|t| t.kind == Kind::At) {
        match raw[0] {
            b'|' => return Ok(Some(Item::Program(raw[1..].to_vec()))),
            b'/' => return Ok(Some(Item::File(raw))),
            _ => {}
        }
    }
    rw.address(a);
    let addr = addrlist::unquote(a);
    if addr.len() > MAX_ADDRESS {
        return Err(Error::TooLong);
    }
    Ok(Some(Item::Address(addr)))
}

/// The binary-list item for an include path: `./` before a relative one, `.bin` after.
pub fn include_item(path: &[u8]) -> Vec<u8> {
    let mut v = Vec::with_capacity(path.len() + 6);
    if path.first() != Some(&b'/') {
        v.extend_from_slice(b"./");
    }
    v.extend_from_slice(path);
    v.extend_from_slice(b".bin");
    v
}

/// The stored form of `items` (NUL-terminated commands): `&address`, `!command` (run through
/// preline, as Sendmail's programs get a From_ line), `path.bin` for an include; `/dev/null`
/// adds nothing. Programs are refused unless `programs`; other files always.
pub fn encode(items: &[Item], programs: bool) -> Result<Vec<u8>, Error> {
    let mut out = Vec::new();
    for it in items {
        match it {
            Item::Address(a) => {
                out.push(b'&');
                out.extend_from_slice(a);
            }
            Item::Program(p) if programs => {
                out.push(b'!');
                out.extend_from_slice(p);
            }
            Item::Program(p) => return Err(Error::Program(p.clone())),
            Item::Include(p) => out.extend(include_item(p)),
            Item::File(f) if f == b"/dev/null" => continue,
            Item::File(f) => return Err(Error::File(f.clone())),
        }
        out.push(0);
    }
    Ok(out)
}

/// The lines of `/etc/aliases` grouped into instructions: a line starting with space or
/// tab, or an empty line, continues the one before. Each comes with its first line's number;
/// comment instructions (`#` first) are left out.
pub fn instructions(text: &[u8]) -> Vec<(usize, Vec<u8>)> {
    let mut out: Vec<(usize, Vec<u8>)> = Vec::new();
    let mut comment = false;
    for (n, line) in text.split(|&c| c == b'\n').enumerate() {
        let cont = matches!(line.first(), None | Some(b' ' | b'\t'));
        if cont && (comment || !out.is_empty()) {
            if !comment {
                if let Some((_, t)) = out.last_mut() {
                    t.push(b'\n');
                    t.extend_from_slice(line);
                }
            }
            continue;
        }
        comment = line.first() == Some(&b'#');
        if !comment && !line.iter().all(u8::is_ascii_whitespace) {
            out.push((n + 1, line.to_vec()));
        }
    }
    out
}

/// One alias: its key form (lower case; `user@`, `user@host` or `@host`), the owner record
/// it implies (for `owner-X`: X's key and the qualified `owner-X` address), its recipients.
#[derive(Debug, PartialEq, Eq)]
pub struct Alias {
    /// the target, as stored after `:` or `?`
    pub name: Vec<u8>,
    /// `owner-X`'s `?X` record
    pub owner: Option<(Vec<u8>, Vec<u8>)>,
    /// recipients, in storage order
    pub items: Vec<Item>,
}

/// The tokens of the alias name: up to the first `:`, or without one the first word.
fn split_name(t: &[Token]) -> Option<usize> {
    if let Some(p) = t.iter().position(|x| x.kind == Kind::Colon) {
        return Some(p);
    }
    let mut last_word = false;
    for (i, x) in t.iter().enumerate() {
        match x.kind {
            Kind::Comment => {}
            Kind::Atom | Kind::Quote | Kind::Literal if last_word => return Some(i),
            Kind::Atom | Kind::Quote | Kind::Literal => last_word = true,
            Kind::Dot | Kind::At => last_word = false,
            _ => return Some(i),
        }
    }
    None
}

/// Reads one instruction: `name: recipient, …` (the colon may be left out).
pub fn alias(text: &[u8], rw: &Rewrite) -> Result<Alias, Error> {
    let mut tokens = addrlist::parse(text).ok_or(Error::Syntax)?;
    let at = split_name(&tokens).ok_or(Error::Syntax)?;
    let mut rest = tokens.split_off(at);
    if rest.first().map(|t| t.kind) == Some(Kind::Colon) && !is_include(&rest, 0) {
        rest.remove(0);
    }
    let mut name_tokens: Vec<Token> = tokens
        .into_iter()
        .filter(|t| t.kind != Kind::Comment)
        .collect();
    let raw = addrlist::unquote(&name_tokens);
    if raw.is_empty() || raw.ends_with(b"@") {
        return Err(Error::Syntax);
    }
    let mut name = raw.to_ascii_lowercase();
    if !name.contains(&b'@') {
        name.push(b'@');
    }
    let items = recipients(rest, rw)?;
    if items.is_empty() {
        return Err(Error::Syntax);
    }
    let owner = match name.strip_prefix(b"owner-") {
        Some(of) if !of.starts_with(b"@") => {
            rw.address(&mut name_tokens);
            Some((of.to_vec(), addrlist::unquote(&name_tokens)))
        }
        _ => None,
    };
    Ok(Alias { name, owner, items })
}

#[cfg(test)]
mod tests {
    use super::*;
    use Item::*;

    fn rw() -> Rewrite {
        Rewrite::new(b"dh.test", b"dd.test", b"pd.test").unwrap()
    }
    fn a(s: &str) -> Item {
        Address(s.as_bytes().to_vec())
    }
    fn al(s: &str) -> Result<Alias, Error> {
        alias(s.as_bytes(), &rw())
    }

    #[test]
    fn continuation_and_comment_lines() {
        let t = b"# c\n  cont of comment\na: b,\n\tc\n\nd e\n# x\n\t y\n   \nf: g";
        let got: Vec<(usize, String)> = instructions(t)
            .into_iter()
            .map(|(n, s)| (n, String::from_utf8(s).unwrap()))
            .collect();
        assert_eq!(
            got,
            vec![
                (3, "a: b,\n\tc\n".into()),
                (6, "d e".into()),
                (10, "f: g".into())
            ]
        );
        assert_eq!(instructions(b"  lead: x\n").len(), 1);
    }

    #[test]
    fn aliases_read_right_to_left_and_qualified() {
        let x = al("Root: joe, Bob Smith <bob@remote.test>,\n ann@host+, x@y").unwrap();
        assert_eq!(x.name, b"root@");
        assert_eq!(x.owner, None);
        assert_eq!(
            x.items,
            vec![
                a("x@y.dd.test"),
                a("ann@host.pd.test"),
                a("bob@remote.test"),
                a("joe@dh.test")
            ]
        );
        assert_eq!(
            al("MAILER-DAEMON postmaster").unwrap().name,
            b"mailer-daemon@"
        );
        assert_eq!(
            al("User@Virt.test: x@y.test").unwrap().name,
            b"user@virt.test"
        );
        assert_eq!(
            al("@whole.test: catch").unwrap().items,
            vec![a("catch@dh.test")]
        );
        assert_eq!(al("d: (comm) e").unwrap().items, vec![a("e@dh.test")]);
        assert_eq!(al("b: \\joe").unwrap().items, vec![a("joe@dh.test")]);
    }

    #[test]
    fn programs_includes_files_and_owners() {
        let x = al("l: \"|/usr/bin/vacation joe\", :include:/etc/l, :include: rel/m, \"|x\"@y")
            .unwrap();
        assert_eq!(
            x.items,
            vec![
                a("|x@y.dd.test"),
                Include(b"rel/m".to_vec()),
                Include(b"/etc/l".to_vec()),
                Program(b"/usr/bin/vacation joe".to_vec())
            ]
        );
        assert_eq!(
            al("list: :include:/etc/lists/list.txt")
                .unwrap()
                .items
                .len(),
            1
        );
        assert_eq!(include_item(b"/etc/l"), b"/etc/l.bin");
        assert_eq!(include_item(b"rel/m"), b"./rel/m.bin");
        assert_eq!(
            al("n: /dev/null").unwrap().items,
            vec![File(b"/dev/null".to_vec())]
        );
        let o = al("owner-staff: joe").unwrap();
        assert_eq!(o.name, b"owner-staff@");
        assert_eq!(
            o.owner,
            Some((b"staff@".to_vec(), b"owner-staff@dh.test".to_vec()))
        );
        let o = al("owner-l@lists.test: joe").unwrap();
        assert_eq!(
            o.owner,
            Some((b"l@lists.test".to_vec(), b"owner-l@lists.test".to_vec()))
        );
        assert_eq!(al("owner-: joe").unwrap().owner, None);
    }

    #[test]
    fn stored_forms() {
        let items = vec![
            a("x@y"),
            Program(b"vacation joe".to_vec()),
            Include(b"l".to_vec()),
            File(b"/dev/null".to_vec()),
        ];
        assert_eq!(
            encode(&items, true).unwrap(),
            b"&x@y\0!vacation joe\0./l.bin\0".to_vec()
        );
        assert_eq!(
            encode(&items, false),
            Err(Error::Program(b"vacation joe".to_vec()))
        );
        assert_eq!(
            encode(&[File(b"/var/log/x".to_vec())], true),
            Err(Error::File(b"/var/log/x".to_vec()))
        );
        assert_eq!(encode(&[File(b"/dev/null".to_vec())], true).unwrap(), b"");
    }

    #[test]
    fn bad_lines() {
        assert_eq!(al("c:"), Err(Error::Syntax));
        assert_eq!(al("x: \"unterminated"), Err(Error::Syntax));
        assert_eq!(al("z@: w"), Err(Error::Syntax));
        assert_eq!(al("g: grp: x, y;"), Err(Error::Syntax));
        assert_eq!(al(": x"), Err(Error::Syntax));
        let long = format!("x: {}@y.test", "a".repeat(800));
        assert_eq!(al(&long), Err(Error::TooLong));
    }
}
