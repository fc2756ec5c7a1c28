//! The resolver against a server in a thread on a loopback port: good answers, CNAME chains,
//! the TCP fallback, error codes, and hostile or stray packets (each one Soft, never a panic).

use super::packet::{self, tests::reply, A, AAAA, CNAME, MX, PTR, TXT};
use super::*;
use std::net::{TcpListener, UdpSocket};
use std::thread;

/// What the server does with one query: the datagram(s) to send back (none = stay silent).
type Handler = dyn Fn(u16, &[u8], u16) -> Vec<Vec<u8>> + Send + Sync;

struct Server {
    port: u16,
}

/// Serves `udp` on a loopback port (and `tcp`, on the same port, if given) until no query
/// comes for two seconds.
fn serve(udp: Box<Handler>, tcp: Option<Box<Handler>>) -> Server {
    let (u, t) = loop {
        let t = TcpListener::bind("127.0.0.1:0").expect("tcp bind");
        let port = t.local_addr().expect("addr").port();
        if let Ok(u) = UdpSocket::bind(("127.0.0.1", port)) {
            break (u, t);
        }
    };
    let port = u.local_addr().expect("addr").port();
    u.set_read_timeout(Some(Duration::from_secs(2)))
        .expect("timeout");
    thread::spawn(move || {
        let mut buf = [0u8; 512];
        while let Ok((n, from)) = u.recv_from(&mut buf) {
            let (id, q, qt) = parse_query(&buf[..n]);
            for d in udp(id, &q, qt) {
                let _ = u.send_to(&d, from);
            }
        }
    });
    if let Some(tcp) = tcp {
        thread::spawn(move || {
            if let Ok((mut s, _)) = t.accept() {
                let mut len = [0u8; 2];
                let _ = s.read_exact(&mut len);
                let mut q = vec![0u8; usize::from(u16::from_be_bytes(len))];
                let _ = s.read_exact(&mut q);
                let (id, qn, qt) = parse_query(&q);
                for d in tcp(id, &qn, qt) {
                    let mut m = (d.len() as u16).to_be_bytes().to_vec();
                    m.extend_from_slice(&d);
                    let _ = s.write_all(&m);
                }
            }
        });
    }
    Server { port }
}

use std::io::{Read, Write};

fn parse_query(q: &[u8]) -> (u16, Vec<u8>, u16) {
    let (name, pos) = name::read(q, 12).expect("query name");
    (
        u16::from_be_bytes([q[0], q[1]]),
        name,
        u16::from_be_bytes([q[pos], q[pos + 1]]),
    )
}

fn resolver(s: &Server) -> Resolver {
    let mut r = Resolver::with_servers(vec![Ipv4Addr::LOCALHOST.into()]);
    r.port = s.port;
    r.timeouts = vec![Duration::from_millis(300), Duration::from_millis(300)];
    r.tcp_timeout = Duration::from_secs(2);
    r
}

fn w(text: &str) -> Vec<u8> {
    name::from_dot(text.as_bytes()).expect("name")
}

fn soft(t: &str) -> DnsError {
    DnsError::Soft(t.into())
}

/// A small zone: answers like a recursive server that includes the CNAME chain.
fn zone(id: u16, q: &[u8], qt: u16) -> Vec<Vec<u8>> {
    let text = String::from_utf8_lossy(&name::to_dot(q)).into_owned();
    let rr = |t: u16, d: &[u8]| (b"\xc0\x0c".to_vec(), t, d.to_vec());
    let rrs: Vec<(Vec<u8>, u16, Vec<u8>)> = match (text.as_str(), qt) {
        ("a.test", A) => vec![rr(A, b"\x01\x02\x03\x04"), rr(A, b"\x05\x06\x07\x08")],
        ("a.test", AAAA) => vec![rr(
            AAAA,
            &[0x20, 1, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1],
        )],
        ("a.test", MX) => vec![
            rr(MX, b"\x00\x0a\x02mx\xc0\x0c"),
            rr(MX, b"\x00\x14\x03Mx2\x03Odd\x01\xc0\x00"),
        ],
        ("a.test", TXT) => vec![
            rr(TXT, b"\x03one\x03two"),
            rr(TXT, b""),
            rr(TXT, b"\x01\x00"),
        ],
        ("4.3.2.1.in-addr.arpa", PTR) => {
            vec![rr(PTR, b"\x04Host\x07example\x00"), rr(PTR, b"\x01z\x00")]
        }
        ("alias.test", A) => vec![
            rr(CNAME, b"\x06alias2\x04test\x00"),
            (w("alias2.test"), CNAME, w("a.test")),
            (w("a.test"), A, b"\x09\x09\x09\x09".to_vec()),
        ],
        ("alias.test", CNAME) => vec![rr(CNAME, b"\x06alias2\x04test\x00")],
        ("out.test", A) => vec![rr(CNAME, b"\x01a\x04test\x00")],
        ("loop.test", A) => vec![rr(CNAME, b"\xc0\x0c")],
        ("dangling.test", A) => {
            return vec![reply(
                id,
                q,
                qt,
                3,
                &[(b"\xc0\x0c", CNAME, b"\x04none\x04test\x00")],
            )]
        }
        ("nx.test", _) => return vec![reply(id, q, qt, 3, &[])],
        ("fail.test", _) => return vec![reply(id, q, qt, 2, &[])],
        ("refused.test", _) => return vec![reply(id, q, qt, 5, &[])],
        ("silent.test", _) => return vec![],
        ("wrongid.test", _) => {
            return vec![reply(
                id ^ 1,
                q,
                qt,
                0,
                &[(b"\xc0\x0c", A, b"\x01\x01\x01\x01")],
            )]
        }
        ("wrongq.test", _) => return vec![reply(id, &w("other.test"), qt, 0, &[])],
        ("late.test", _) => {
            // a stray packet first, then the real answer: the stray one is ignored
            return vec![
                reply(id ^ 0x8000, q, qt, 0, &[]),
                b"\x00".to_vec(),
                reply(id, q, qt, 0, &[(b"\xc0\x0c", A, b"\x07\x07\x07\x07")]),
            ];
        }
        _ => vec![],
    };
    let refs: Vec<(&[u8], u16, &[u8])> = rrs.iter().map(|(o, t, d)| (&o[..], *t, &d[..])).collect();
    vec![reply(id, q, qt, 0, &refs)]
}

#[test]
fn good_answers() {
    let r = resolver(&serve(Box::new(zone), None));
    assert_eq!(
        r.ip4(b"a.test"),
        Ok(vec![Ipv4Addr::new(1, 2, 3, 4), Ipv4Addr::new(5, 6, 7, 8)])
    );
    assert_eq!(
        r.ip4(b"A.TEST."),
        Ok(vec![Ipv4Addr::new(1, 2, 3, 4), Ipv4Addr::new(5, 6, 7, 8)])
    );
    assert_eq!(
        r.ip6(b"a.test"),
        Ok(vec!["2001:db8::1".parse().expect("ip6")])
    );
    assert_eq!(
        r.mx(b"a.test"),
        Ok(vec![
            (10, b"mx.a.test".to_vec()),
            (20, b"mx2.odd.\\300".to_vec())
        ])
    );
    assert_eq!(
        r.txt(b"a.test"),
        Ok(vec![b"onetwo".to_vec(), b"".to_vec(), b"\x00".to_vec()])
    );
    assert_eq!(
        r.ptr("1.2.3.4".parse().expect("ip")),
        Ok(Some(b"host.example".to_vec()))
    );
    assert_eq!(
        r.ptr("::ffff:1.2.3.4".parse().expect("ip")),
        Ok(Some(b"host.example".to_vec()))
    );
    assert_eq!(r.ptr("1.2.3.5".parse().expect("ip")), Ok(None));
    assert_eq!(r.cname(b"alias.test"), Ok(Some(b"alias2.test".to_vec())));
    assert_eq!(r.cname(b"a.test"), Ok(None));
    assert_eq!(r.mx(b"empty.test"), Ok(vec![]));
    assert_eq!(r.txt(b"empty.test"), Ok(vec![]));
}

#[test]
fn cname_chains() {
    let r = resolver(&serve(Box::new(zone), None));
    assert_eq!(r.ip4(b"alias.test"), Ok(vec![Ipv4Addr::new(9, 9, 9, 9)]));
    // the chain leaves the answer: the target is asked for
    assert_eq!(
        r.ip4(b"out.test"),
        Ok(vec![Ipv4Addr::new(1, 2, 3, 4), Ipv4Addr::new(5, 6, 7, 8)])
    );
    assert_eq!(r.ip4(b"loop.test"), Err(soft("CNAME chain too long")));
    assert_eq!(r.ip4(b"dangling.test"), Err(DnsError::Hard));
}

#[test]
fn literals_need_no_server() {
    let mut r = Resolver::with_servers(vec![Ipv4Addr::LOCALHOST.into()]);
    r.port = 9; // nothing there; a query would fail
    assert_eq!(r.ip4(b"10.0.0.1"), Ok(vec![Ipv4Addr::new(10, 0, 0, 1)]));
    assert_eq!(r.ip4(b"10.0.0.1."), Ok(vec![Ipv4Addr::new(10, 0, 0, 1)]));
    assert_eq!(r.ip6(b"::1"), Ok(vec![Ipv6Addr::LOCALHOST]));
    assert_eq!(
        r.ip4(&[b'x'; 64]),
        Err(DnsError::Hard),
        "label too long to exist"
    );
}

#[test]
fn error_codes() {
    let r = resolver(&serve(Box::new(zone), None));
    assert_eq!(r.ip4(b"nx.test"), Err(DnsError::Hard));
    assert_eq!(r.ptr("9.9.9.9".parse().expect("ip")), Ok(None));
    assert_eq!(r.txt(b"fail.test"), Err(soft("server failure")));
    assert_eq!(r.txt(b"refused.test"), Err(soft("query refused")));
    assert_eq!(r.ip4(b"silent.test"), Err(soft("timed out")));
    assert_eq!(format!("{}", DnsError::Hard), "name does not exist");
    assert_eq!(format!("{}", soft("timed out")), "timed out");
}

#[test]
fn stray_answers_are_ignored() {
    let r = resolver(&serve(Box::new(zone), None));
    assert_eq!(r.ip4(b"wrongid.test"), Err(soft("timed out")));
    assert_eq!(r.ip4(b"wrongq.test"), Err(soft("timed out")));
    assert_eq!(r.ip4(b"late.test"), Ok(vec![Ipv4Addr::new(7, 7, 7, 7)]));
}

#[test]
fn refused_port_is_soft_and_quick() {
    let mut r = Resolver::with_servers(vec![Ipv4Addr::LOCALHOST.into()]);
    r.port = 9;
    let t = Instant::now();
    assert!(matches!(r.ip4(b"a.test"), Err(DnsError::Soft(_))));
    assert!(t.elapsed() < Duration::from_secs(3));
}

#[test]
fn truncated_answer_goes_to_tcp() {
    let udp = |id: u16, q: &[u8], qt: u16| {
        let mut p = reply(id, q, qt, 0, &[]);
        p[2] |= 0x02;
        vec![p]
    };
    let long = [b'x'; 255];
    let mut data = vec![255u8];
    data.extend_from_slice(&long);
    data.push(255);
    data.extend_from_slice(&long);
    let tcp =
        move |id: u16, q: &[u8], qt: u16| vec![reply(id, q, qt, 0, &[(b"\xc0\x0c", TXT, &data)])];
    let r = resolver(&serve(Box::new(udp), Some(Box::new(tcp))));
    assert_eq!(r.txt(b"big.test"), Ok(vec![[b'x'; 510].to_vec()]));

    // truncated, and nobody on TCP: a temporary failure
    let r = resolver(&serve(Box::new(udp), None));
    assert!(matches!(r.txt(b"big.test"), Err(DnsError::Soft(_))));
}

/// Answers whose framing or data is hostile: each is Soft.
#[test]
fn hostile_answers() {
    let hostile = |id: u16, q: &[u8], qt: u16| {
        let base = reply(id, q, qt, 0, &[]);
        let text = String::from_utf8_lossy(&name::to_dot(q)).into_owned();
        let mut p = base.clone();
        match text.as_str() {
            "loop.test" => {
                p[7] = 1;
                p.extend_from_slice(
                    b"\x01a\xc0\x1b\x00\x01\x00\x01\x00\x00\x00\x00\x00\x04\x01\x02\x03\x04",
                );
            }
            "forward.test" => {
                p[7] = 1;
                p.extend_from_slice(
                    b"\xc0\xf0\x00\x01\x00\x01\x00\x00\x00\x00\x00\x04\x01\x02\x03\x04",
                );
            }
            "rdlength.test" => {
                p[7] = 1;
                p.extend_from_slice(
                    b"\xc0\x0c\x00\x01\x00\x01\x00\x00\x00\x00\x00\x09\x01\x02\x03\x04",
                );
            }
            "count.test" => p[7] = 40,
            "shortaddr.test" => {
                p[7] = 1;
                p.extend_from_slice(
                    b"\xc0\x0c\x00\x01\x00\x01\x00\x00\x00\x00\x00\x03\x01\x02\x03",
                );
            }
            "badptr.test" => {
                p[7] = 1;
                p.extend_from_slice(b"\xc0\x0c\x00\x05\x00\x01\x00\x00\x00\x00\x00\x02\xc0\x30");
            }
            "labeltype.test" => {
                p[7] = 1;
                p.extend_from_slice(
                    b"\x41a\x00\x00\x01\x00\x01\x00\x00\x00\x00\x00\x04\x01\x02\x03\x04",
                );
            }
            "cut.test" => {
                p[7] = 1;
                p.extend_from_slice(b"\xc0\x0c\x00\x01\x00");
            }
            _ => {}
        }
        vec![p]
    };
    let r = resolver(&serve(Box::new(hostile), None));
    let bad = Err(soft("malformed answer"));
    for n in [
        "loop",
        "forward",
        "rdlength",
        "count",
        "shortaddr",
        "labeltype",
        "cut",
    ] {
        assert_eq!(r.ip4(format!("{n}.test").as_bytes()), bad, "{n}");
    }
    assert_eq!(
        r.cname(b"badptr.test").map(|_| ()),
        Err(soft("malformed answer"))
    );
    assert_eq!(r.ip4(b"fine.test"), Ok(vec![]));
}

/// Packets that are not even a header, or a question cut short, never count as answers.
#[test]
fn short_packets_are_not_answers() {
    let short = |id: u16, q: &[u8], qt: u16| {
        let p = reply(id, q, qt, 0, &[]);
        vec![p[..11].to_vec(), p[..14].to_vec(), vec![]]
    };
    let r = resolver(&serve(Box::new(short), None));
    assert_eq!(r.ip4(b"x.test"), Err(soft("timed out")));
}

#[test]
fn rounds_and_servers() {
    // first server silent, second answers: the second one's answer is used
    let good = serve(Box::new(zone), None);
    let _silent = UdpSocket::bind(("127.0.0.2", good.port)).expect("bind 127.0.0.2");
    let mut r = resolver(&good);
    r.servers = vec![
        Ipv4Addr::new(127, 0, 0, 2).into(),
        Ipv4Addr::LOCALHOST.into(),
    ];
    assert_eq!(r.ip4(b"a.test").map(|v| v.len()), Ok(2));
}

#[test]
fn configuration() {
    assert_eq!(
        parse_list(b"127.0.0.1, ::1,10.0.0.2  ").expect("list"),
        vec![
            IpAddr::from(Ipv4Addr::LOCALHOST),
            IpAddr::from(Ipv6Addr::LOCALHOST),
            IpAddr::from(Ipv4Addr::new(10, 0, 0, 2))
        ]
    );
    assert!(parse_list(b"127.0.0.1 bogus").is_err());
    assert_eq!(parse_list(b" , ").expect("empty"), Vec::<IpAddr>::new());
    assert_eq!(
        resolv_conf(b"# x\nsearch a\nnameserver 10.1.1.1\nnameserver\tfe80::1%eth0\n  nameserver ::1 \nnameserverx 1.1.1.1\n"),
        vec![IpAddr::from(Ipv4Addr::new(10, 1, 1, 1)), IpAddr::from(Ipv6Addr::LOCALHOST)]
    );
    let r = Resolver::with_servers(vec![]);
    assert_eq!(r.servers(), &[IpAddr::from(Ipv4Addr::LOCALHOST)]);
    assert_eq!(r.timeouts.iter().sum::<Duration>(), Duration::from_secs(60));
}

#[test]
fn reverse_names() {
    assert_eq!(reverse_name("1.2.3.4".parse().expect("ip")), b"4.3.2.1.");
    assert_eq!(
        reverse_name("10.0.255.1".parse().expect("ip")),
        b"1.255.0.10."
    );
    assert_eq!(
        reverse_name("2001:db8::567:89ab".parse().expect("ip")),
        b"b.a.9.8.7.6.5.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.8.b.d.0.1.0.0.2."
    );
}

#[test]
fn query_is_sent_as_built() {
    let q = packet::query(0xabcd, &w("a.test"), A);
    assert_eq!(&q[12..], b"\x01a\x04test\x00\x00\x01\x00\x01");
}
