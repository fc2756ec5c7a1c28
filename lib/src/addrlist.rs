//! RFC 822 address lists the way qmail-inject handles them (token822.c): a tokenizer, a
//! walker that finds each address of a list (groups `name: a, b;`, `phrase <addr>`,
//! comments, quoted strings, literals, source routes, `<>`) and hands it to a rewriting
//! callback, the serialiser that writes a field back folded at about 80 columns, and
//! `unquote`, which turns an address into envelope bytes.
//!
//! Everything here is linear in the input and allocation-bounded by it; malformed input
//! gives `None`, never a panic.

/// What a token is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum Kind {
    /// a run of ordinary characters
    #[default]
    Atom,
    /// `"…"` (text without the quotes, escapes resolved)
    Quote,
    /// `[…]`
    Literal,
    /// `(…)`
    Comment,
    /// `,`
    Comma,
    /// `@`
    At,
    /// `.`
    Dot,
    /// `<`
    Left,
    /// `>`
    Right,
    /// `;`
    Semi,
    /// `:`
    Colon,
}

/// One token; `text` is empty for the one-character kinds.
#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub struct Token {
    /// kind
    pub kind: Kind,
    /// contents of an atom, quoted string, literal or comment
    pub text: Vec<u8>,
}

impl Token {
    /// A token with text.
    pub fn new(kind: Kind, text: &[u8]) -> Token {
        Token {
            kind,
            text: text.to_vec(),
        }
    }
    /// A one-character token.
    pub fn mark(kind: Kind) -> Token {
        Token {
            kind,
            text: Vec::new(),
        }
    }
}

fn mark_of(c: u8) -> Option<Kind> {
    Some(match c {
        b'.' => Kind::Dot,
        b',' => Kind::Comma,
        b'@' => Kind::At,
        b'<' => Kind::Left,
        b'>' => Kind::Right,
        b':' => Kind::Colon,
        b';' => Kind::Semi,
        _ => return None,
    })
}

fn atom_char(c: u8) -> bool {
    !matches!(
        c,
        b' ' | b'\t'
            | b'\r'
            | b'\n'
            | b'('
            | b'['
            | b'"'
            | b'<'
            | b'>'
            | b';'
            | b':'
            | b'@'
            | b','
            | b'.'
    )
}

/// Text up to the closing `close` (nesting on `open` if given), with `\` escapes resolved;
/// nested delimiters are dropped, as token822 does. Returns the text and the index after.
fn enclosed(s: &[u8], mut i: usize, open: Option<u8>, close: u8) -> Option<(Vec<u8>, usize)> {
    let mut level = 1usize;
    let mut text = Vec::new();
    loop {
        let c = *s.get(i)?;
        i += 1;
        if Some(c) == open {
            level += 1;
        } else if c == close {
            level -= 1;
            if level == 0 {
                return Some((text, i));
            }
        } else if c == b'\\' {
            text.push(*s.get(i)?);
            i += 1;
        } else {
            text.push(c);
        }
    }
}

/// Splits `s` into tokens; `None` if a comment, quoted string or literal is unterminated or
/// a stray `)` or `]` appears.
pub fn parse(s: &[u8]) -> Option<Vec<Token>> {
    let mut out = Vec::new();
    let mut i = 0;
    while i < s.len() {
        let c = s[i];
        if let Some(kind) = mark_of(c) {
            out.push(Token::mark(kind));
            i += 1;
            continue;
        }
        let (kind, close, open) = match c {
            b' ' | b'\t' | b'\r' | b'\n' => {
                i += 1;
                continue;
            }
            b')' | b']' => return None,
            b'(' => (Kind::Comment, b')', Some(b'(')),
            b'"' => (Kind::Quote, b'"', None),
            b'[' => (Kind::Literal, b']', None),
            _ => {
                let mut text = Vec::new();
                loop {
                    if s[i] == b'\\' {
                        i += 1;
                        if i >= s.len() {
                            break;
                        }
                    }
                    text.push(s[i]);
                    i += 1;
                    if i >= s.len() || !atom_char(s[i]) {
                        break;
                    }
                }
                let bad = text
                    .iter()
                    .any(|&c| !(32..=126).contains(&c) || matches!(c, b')' | b']' | b'\\'));
                let kind = if bad { Kind::Quote } else { Kind::Atom };
                out.push(Token { kind, text });
                continue;
            }
        };
        let (text, next) = enclosed(s, i + 1, open, close)?;
        out.push(Token { kind, text });
        i = next;
    }
    Some(out)
}

fn word(k: Kind) -> bool {
    matches!(k, Kind::Atom | Kind::Literal | Kind::Quote | Kind::Comment)
}

fn need_space(last: Option<Kind>, next: Kind) -> bool {
    match last {
        None => false,
        Some(Kind::Colon | Kind::Comma) => true,
        Some(_) if next == Kind::Left => true,
        Some(l) => word(l) && word(next),
    }
}

/// Tentatively breaks the line here; keeps the previous break only if the line it ends
/// would otherwise be longer than `linelen`.
fn line_break(out: &mut Vec<u8>, begin: &mut usize, brk: &mut Option<usize>, linelen: usize) {
    let here = out.len();
    match *brk {
        Some(b) if linelen == 0 || here - *begin <= linelen => {
            out.drain(b..b + 2);
            out.extend_from_slice(b"\n ");
            *brk = Some(out.len() - 2);
        }
        prev => {
            if let Some(b) = prev {
                *begin = b + 1;
            }
            *brk = Some(here);
            out.extend_from_slice(b"\n ");
        }
    }
}

/// Writes tokens back as header text ending in `\n`, breaking after commas so that lines
/// stay near `linelen` columns (continuation lines start with a blank).
pub fn unparse(tokens: &[Token], linelen: usize) -> Vec<u8> {
    let mut out = Vec::new();
    let (mut begin, mut brk) = (0usize, None);
    let mut last = None;
    for t in tokens {
        if need_space(last, t.kind) {
            out.push(b' ');
        }
        last = Some(t.kind);
        let (open, close): (&[u8], &[u8]) = match t.kind {
            Kind::Comma => {
                out.push(b',');
                line_break(&mut out, &mut begin, &mut brk, linelen);
                continue;
            }
            Kind::At => (b"@", &b""[..]),
            Kind::Dot => (b".", &b""[..]),
            Kind::Left => (b"<", &b""[..]),
            Kind::Right => (b">", &b""[..]),
            Kind::Semi => (b";", &b""[..]),
            Kind::Colon => (b":", &b""[..]),
            Kind::Atom => (b"", &b""[..]),
            Kind::Quote => (b"\"", &b"\""[..]),
            Kind::Literal => (b"[", &b"]"[..]),
            Kind::Comment => (b"(", &b")"[..]),
        };
        out.extend_from_slice(open);
        for &c in &t.text {
            if matches!(c, b'"' | b'[' | b']' | b'(' | b')' | b'\\' | b'\r' | b'\n') {
                out.push(b'\\');
            }
            out.push(c);
        }
        out.extend_from_slice(close);
    }
    line_break(&mut out, &mut begin, &mut brk, linelen);
    out.pop();
    out
}

/// The raw bytes of an address (for the envelope): comments dropped, no quoting.
pub fn unquote(tokens: &[Token]) -> Vec<u8> {
    let mut out = Vec::new();
    for t in tokens {
        match t.kind {
            Kind::Comma => out.push(b','),
            Kind::At => out.push(b'@'),
            Kind::Dot => out.push(b'.'),
            Kind::Left => out.push(b'<'),
            Kind::Right => out.push(b'>'),
            Kind::Semi => out.push(b';'),
            Kind::Colon => out.push(b':'),
            Kind::Literal => {
                out.push(b'[');
                out.extend_from_slice(&t.text);
                out.push(b']');
            }
            Kind::Atom | Kind::Quote => out.extend_from_slice(&t.text),
            Kind::Comment => {}
        }
    }
    out
}

/// Hands the collected address (held right to left) to `rewrite` in natural order and
/// moves the result to `out` (also held right to left).
fn got(out: &mut Vec<Token>, addr: &mut Vec<Token>, rewrite: &mut impl FnMut(&mut Vec<Token>)) {
    addr.reverse();
    rewrite(addr);
    out.extend(addr.drain(..).rev());
}

/// Finds the addresses in `tokens[head..]` (`head` tokens, the field name and its colon,
/// are kept as they are) and lets `rewrite` change each one in place. The list is read
/// from right to left, as qmail-inject does, so the last address is seen first. Words
/// with nothing between them are separate addresses (`djb fred` → `djb, fred`).
/// Returns the whole list with rewritten addresses, or `None` if its structure is broken
/// (`;` inside a group, `:` outside one, `>` without `<`).
pub fn addrlist(
    mut tokens: Vec<Token>,
    head: usize,
    mut rewrite: impl FnMut(&mut Vec<Token>),
) -> Option<Vec<Token>> {
    let head = head.min(tokens.len());
    let mut out: Vec<Token> = Vec::with_capacity(tokens.len());
    let mut addr: Vec<Token> = Vec::new();
    let (mut in_group, mut word_ok) = (false, true);
    let mut i = tokens.len();
    let take = |tokens: &mut Vec<Token>, i: &mut usize| {
        *i -= 1;
        std::mem::take(&mut tokens[*i])
    };
    while i > head {
        let kind = tokens[i - 1].kind;
        match kind {
            Kind::Semi => {
                if !addr.is_empty() {
                    got(&mut out, &mut addr, &mut rewrite);
                    out.push(Token::mark(Kind::Comma));
                }
                if in_group {
                    return None;
                }
                in_group = true;
                word_ok = true;
                out.push(take(&mut tokens, &mut i));
            }
            Kind::Colon => {
                if !addr.is_empty() {
                    got(&mut out, &mut addr, &mut rewrite);
                }
                if !in_group {
                    return None;
                }
                in_group = false;
                while i > head && tokens[i - 1].kind != Kind::Comma {
                    out.push(take(&mut tokens, &mut i));
                }
                if i > head {
                    out.push(take(&mut tokens, &mut i));
                }
                word_ok = true;
            }
            Kind::Right => {
                if !addr.is_empty() {
                    got(&mut out, &mut addr, &mut rewrite);
                    out.push(Token::mark(Kind::Comma));
                }
                out.push(take(&mut tokens, &mut i));
                while i > head && tokens[i - 1].kind != Kind::Left {
                    addr.push(take(&mut tokens, &mut i));
                }
                got(&mut out, &mut addr, &mut rewrite); // even when empty: <>
                if i <= head {
                    return None;
                }
                out.push(take(&mut tokens, &mut i));
                while i > head
                    && matches!(
                        tokens[i - 1].kind,
                        Kind::Comment | Kind::Atom | Kind::Quote | Kind::At | Kind::Dot
                    )
                {
                    out.push(take(&mut tokens, &mut i));
                }
                word_ok = false;
            }
            Kind::Atom | Kind::Quote | Kind::Literal => {
                if !word_ok && !addr.is_empty() {
                    got(&mut out, &mut addr, &mut rewrite);
                    out.push(Token::mark(Kind::Comma));
                }
                word_ok = false;
                addr.push(take(&mut tokens, &mut i));
            }
            Kind::Comment => out.push(take(&mut tokens, &mut i)),
            Kind::Comma => {
                if !addr.is_empty() {
                    got(&mut out, &mut addr, &mut rewrite);
                }
                word_ok = true;
                out.push(take(&mut tokens, &mut i));
            }
            Kind::At | Kind::Dot | Kind::Left => {
                word_ok = true;
                addr.push(take(&mut tokens, &mut i));
            }
        }
    }
    if !addr.is_empty() {
        got(&mut out, &mut addr, &mut rewrite);
    }
    while i > 0 {
        out.push(take(&mut tokens, &mut i));
    }
    out.reverse();
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn roundtrip(s: &[u8]) -> Vec<u8> {
        let t = parse(s).expect("parses");
        let t = addrlist(t, 2, |_| {}).expect("list");
        unparse(&t, 80)
    }

    fn addresses(s: &[u8]) -> Vec<Vec<u8>> {
        let mut v = Vec::new();
        addrlist(parse(s).expect("parses"), 2, |a| v.push(unquote(a))).expect("list");
        v
    }

    #[test]
    fn tokens() {
        let t = parse(b"To: \"a \\\" b\" (c (d) e) <x@[1.2\\]]>, q\\.r \x01").unwrap();
        let kinds: Vec<Kind> = t.iter().map(|t| t.kind).collect();
        use Kind::*;
        assert_eq!(
            kinds,
            vec![Atom, Colon, Quote, Comment, Left, Atom, At, Literal, Right, Comma, Atom, Quote]
        );
        assert_eq!(t[2].text, b"a \" b");
        assert_eq!(t[3].text, b"c d e");
        assert_eq!(t[7].text, b"1.2]");
        assert_eq!(t[10].text, b"q.r");
        assert_eq!(t[11].text, b"\x01");
        assert_eq!(parse(b"a\\").unwrap(), vec![Token::new(Atom, b"a")]);
        assert_eq!(parse(b"a)b").unwrap(), vec![Token::new(Quote, b"a)b")]);
        for bad in [&b"(a"[..], b"\"a", b"[a", b")", b"]", b"(a\\", b"\"\\"] {
            assert_eq!(parse(bad), None, "{:?}", String::from_utf8_lossy(bad));
        }
    }

    #[test]
    fn serialising() {
        assert_eq!(roundtrip(b"To: a@b"), b"To: a@b\n");
        assert_eq!(roundtrip(b"to :a@b,c"), b"to: a@b, c\n");
        assert_eq!(roundtrip(b"To: djb fred"), b"To: djb, fred\n");
        assert_eq!(roundtrip(b"To:"), b"To:\n");
        assert_eq!(
            roundtrip(b"From: \"J. \\\"Q\\\" Public\" <j@q> (the (real) one)"),
            b"From: \"J. \\\"Q\\\" Public\" <j@q>(the real one)\n"
        );
        assert_eq!(roundtrip(b"To: x: a, b;, <>"), b"To: x: a, b;, <>\n");
        assert_eq!(roundtrip(b"To: [1.2.3.4]"), b"To: [1.2.3.4]\n");
        assert_eq!(
            unparse(&parse(b"X: a\\\nb").unwrap(), 80),
            b"X: \"a\\\nb\"\n"
        );
    }

    #[test]
    fn folding() {
        let mut s = b"To: ".to_vec();
        for i in 0..12 {
            s.extend_from_slice(format!("user{i}@example.com, ").as_bytes());
        }
        s.extend_from_slice(b"last@example.com");
        let out = roundtrip(&s);
        let text = String::from_utf8(out).unwrap();
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(
            lines[0],
            "To: user0@example.com, user1@example.com, user2@example.com,"
        );
        assert_eq!(
            lines[1],
            "  user3@example.com, user4@example.com, user5@example.com, user6@example.com,"
        );
        assert!(lines.iter().all(|l| l.len() <= 80), "{text}");
        assert!(lines[1..].iter().all(|l| l.starts_with("  ")));
        let mut one = String::from_utf8(s).unwrap();
        one.push('\n');
        assert_eq!(text.replace("\n ", ""), one);
    }

    #[test]
    fn finding_addresses() {
        assert_eq!(
            addresses(b"To: a, B <b@x>, g: c, d;, (e) e@y (E)"),
            vec![
                b"e@y".to_vec(),
                b"d".to_vec(),
                b"c".to_vec(),
                b"b@x".to_vec(),
                b"a".to_vec()
            ]
        );
        assert_eq!(addresses(b"To: <>"), vec![Vec::<u8>::new()]);
        assert_eq!(addresses(b"To: \"a b\"@c"), vec![b"a b@c".to_vec()]);
        assert_eq!(
            addresses(b"To: <@r1,@r2:u@h>"),
            vec![b"@r1,@r2:u@h".to_vec()]
        );
        for bad in [&b"To: a: b"[..], b"To: a>", b"To: g: a;;", b"To: a> b"] {
            assert!(addrlist(parse(bad).unwrap(), 2, |_| {}).is_none());
        }
    }

    #[test]
    fn rewriting_in_place() {
        let t = parse(b"Cc: Joe <joe>, ann").unwrap();
        let t = addrlist(t, 2, |a| a.extend(parse(b"@h.x").unwrap())).unwrap();
        assert_eq!(unparse(&t, 80), b"Cc: Joe <joe@h.x>, ann@h.x\n");
    }

    /// xorshift, so the random tests need no crate and repeat exactly
    fn rng(seed: &mut u64) -> u64 {
        *seed ^= *seed << 13;
        *seed ^= *seed >> 7;
        *seed ^= *seed << 17;
        *seed
    }

    #[test]
    fn random_bytes_never_panic() {
        let mut seed = 0x9e37_79b9_7f4a_7c15u64;
        let alphabet = b"aZ09 \t\n\r\\\"()[]<>@,;:.\x00\xff";
        for round in 0..20_000 {
            let len = (rng(&mut seed) % 64) as usize;
            let s: Vec<u8> = (0..len)
                .map(|_| {
                    let r = rng(&mut seed);
                    if round % 2 == 0 {
                        alphabet[(r % alphabet.len() as u64) as usize]
                    } else {
                        r as u8
                    }
                })
                .collect();
            if let Some(t) = parse(&s) {
                let n = t.len();
                if let Some(t) = addrlist(t, (round % 3) as usize, |a| {
                    a.push(Token::mark(Kind::At));
                    a.push(Token::new(Kind::Atom, b"h"));
                }) {
                    assert!(t.len() >= n.min(2));
                    let out = unparse(&t, 80);
                    assert_eq!(out.last(), Some(&b'\n'));
                    let _ = unquote(&t);
                    // what we write, we can read again
                    assert!(parse(&out).is_some(), "{:?} -> {:?}", s, out);
                }
            }
        }
    }

    #[test]
    fn deep_and_long_input_is_linear() {
        let mut s = vec![b'('; 100_000];
        s.extend(vec![b')'; 100_000]);
        assert_eq!(parse(&s).unwrap().len(), 1);
        let mut s = b"To: ".to_vec();
        for _ in 0..100_000 {
            s.extend_from_slice(b"a, ");
        }
        let t = addrlist(parse(&s).unwrap(), 2, |_| {}).unwrap();
        let out = unparse(&t, 80);
        assert!(out.len() > 300_000);
    }
}
