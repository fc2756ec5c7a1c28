#!/usr/bin/python3
"""fakedns.py: a tiny DNS server for black-box tests (python3 standard library only).

Usage: fakedns.py zonefile readyfile [querylog [port]]

Serves the zone on UDP and TCP, 127.0.0.1 and (if available) ::1, port 53 unless given.
Once every socket is listening it creates readyfile. Each query is appended to querylog as
one line "UDP|TCP TYPE name". It exits when its parent process goes away, or after 300 s.

Zone file: one record per line, fields separated by single spaces; blank lines and lines
starting with # are ignored. Names are case-insensitive, a trailing dot is optional.
    A name 1.2.3.4              AAAA name 2001:db8::1
    MX name 10 mx.example       PTR 4.3.2.1.in-addr.arpa host.example
    CNAME name target           TXT name any text to the end of the line
TXT text may hold \\ooo (three octal digits) for any byte; it is cut into 255-byte strings.
Several lines of one name and type give several records. Switches for a name:
    SERVFAIL name   answer SERVFAIL
    TRUNC name      over UDP answer with TC set and no records; over TCP the full answer
    DROP name       never answer
A name that appears nowhere gets NXDOMAIN; a known name without records of the type asked
gets an empty NOERROR answer. CNAMEs are followed inside the zone (like a recursive server)
and the records of the target are added; a target outside the zone gives NXDOMAIN.
"""

import ipaddress
import os
import socket
import struct
import sys
import threading
import time

TYPES = {"A": 1, "CNAME": 5, "PTR": 12, "MX": 15, "TXT": 16, "AAAA": 28}
TYPE_NAMES = {v: k for k, v in TYPES.items()}
SWITCHES = ("SERVFAIL", "TRUNC", "DROP")


def wire(name):
    out = b""
    for label in name.strip(".").split("."):
        if label:
            b = label.encode()
            out += bytes([len(b)]) + b
    return out + b"\x00"


def unescape(text):
    out = bytearray()
    b = text.encode("utf-8", "surrogateescape")
    i = 0
    while i < len(b):
        if b[i] == 0x5C and i + 3 < len(b) and all(0x30 <= c <= 0x37 for c in b[i + 1:i + 4]):
            out.append(int(b[i + 1:i + 4], 8) & 0xFF)
            i += 4
        else:
            out.append(b[i])
            i += 1
    return bytes(out)


def load(path):
    records = {}  # (name, type) -> [rdata]
    names = set()
    switches = {}  # name -> set of switches
    with open(path, encoding="utf-8", errors="surrogateescape") as f:
        for line in f:
            line = line.rstrip("\n")
            if not line.strip() or line.startswith("#"):
                continue
            kind, _, rest = line.partition(" ")
            name, _, data = rest.partition(" ")
            name = name.strip(".").lower()
            names.add(name)
            if kind in SWITCHES:
                switches.setdefault(name, set()).add(kind)
                continue
            if kind == "A":
                rdata = ipaddress.IPv4Address(data.strip()).packed
            elif kind == "AAAA":
                rdata = ipaddress.IPv6Address(data.strip()).packed
            elif kind == "MX":
                pref, _, host = data.strip().partition(" ")
                rdata = struct.pack(">H", int(pref)) + wire(host)
            elif kind in ("PTR", "CNAME"):
                rdata = wire(data.strip())
            elif kind == "TXT":
                raw = unescape(data)
                chunks = [raw[i:i + 255] for i in range(0, len(raw), 255)] or [b""]
                rdata = b"".join(bytes([len(c)]) + c for c in chunks)
            else:
                raise SystemExit("fakedns: unknown record type: " + kind)
            records.setdefault((name, TYPES[kind]), []).append(rdata)
    return records, names, switches


def parse_query(msg):
    if len(msg) < 12:
        return None
    qid, flags, qd = struct.unpack(">HHH", msg[:6])
    if flags & 0x8000 or qd != 1:
        return None
    pos, labels = 12, []
    while True:
        if pos >= len(msg):
            return None
        n = msg[pos]
        if n == 0:
            pos += 1
            break
        if n > 63 or pos + 1 + n > len(msg):
            return None
        labels.append(msg[pos + 1:pos + 1 + n])
        pos += 1 + n
    if pos + 4 > len(msg):
        return None
    qtype, _ = struct.unpack(">HH", msg[pos:pos + 4])
    name = b".".join(labels).decode("latin-1").lower()
    return qid, flags, name, qtype, msg[12:pos + 4]


class Server:
    def __init__(self, zone, log):
        self.records, self.names, self.switches = load(zone)
        self.log = log
        self.lock = threading.Lock()

    def answer(self, msg, proto):
        q = parse_query(msg)
        if q is None:
            return None
        qid, flags, name, qtype, question = q
        if self.log:
            with self.lock, open(self.log, "a") as f:
                f.write("%s %s %s\n" % (proto, TYPE_NAMES.get(qtype, str(qtype)), name))
        sw = self.switches.get(name, set())
        if "DROP" in sw:
            return None
        rcode, rrs, tc = 0, [], False
        if "SERVFAIL" in sw:
            rcode = 2
        elif "TRUNC" in sw and proto == "UDP":
            tc = True
        else:
            cur = name
            for _ in range(10):
                if (cur, qtype) in self.records:
                    rrs += [(cur, qtype, d) for d in self.records[(cur, qtype)]]
                    break
                if qtype != 5 and (cur, 5) in self.records:
                    target = self.records[(cur, 5)][0]
                    rrs.append((cur, 5, target))
                    cur = b".".join(
                        target[i + 1:i + 1 + target[i]] for i in label_starts(target)
                    ).decode("latin-1").lower()
                    continue
                break
            if cur not in self.names:
                rcode = 3
        head = struct.pack(
            ">HHHHHH",
            qid,
            0x8400 | (flags & 0x0100) | 0x0080 | (0x0200 if tc else 0) | rcode,
            1, len(rrs), 0, 0,
        )
        body = b"".join(
            wire(n) + struct.pack(">HHIH", t, 1, 3600, len(d)) + d for n, t, d in rrs
        )
        return head + question + body


def label_starts(w):
    i = 0
    while i < len(w) and w[i] != 0:
        yield i
        i += 1 + w[i]


def serve_udp(sock, server):
    while True:
        try:
            msg, peer = sock.recvfrom(65535)
        except OSError:
            return
        reply = server.answer(msg, "UDP")
        if reply is not None:
            try:
                sock.sendto(reply, peer)
            except OSError:
                pass


def recv_exact(conn, n):
    data = b""
    while len(data) < n:
        chunk = conn.recv(n - len(data))
        if not chunk:
            return None
        data += chunk
    return data


def serve_tcp_conn(conn, server):
    conn.settimeout(10)
    try:
        while True:
            head = recv_exact(conn, 2)
            if head is None:
                break
            msg = recv_exact(conn, struct.unpack(">H", head)[0])
            if msg is None:
                break
            reply = server.answer(msg, "TCP")
            if reply is None:
                break
            conn.sendall(struct.pack(">H", len(reply)) + reply)
    except OSError:
        pass
    finally:
        conn.close()


def serve_tcp(sock, server):
    while True:
        try:
            conn, _ = sock.accept()
        except OSError:
            return
        threading.Thread(target=serve_tcp_conn, args=(conn, server), daemon=True).start()


def main():
    if len(sys.argv) < 3:
        raise SystemExit("usage: fakedns.py zonefile readyfile [querylog [port]]")
    zone, ready = sys.argv[1], sys.argv[2]
    log = sys.argv[3] if len(sys.argv) > 3 and sys.argv[3] else None
    port = int(sys.argv[4]) if len(sys.argv) > 4 else 53
    server = Server(zone, log)
    parent = os.getppid()
    sockets = []
    for family, addr in ((socket.AF_INET, "127.0.0.1"), (socket.AF_INET6, "::1")):
        try:
            u = socket.socket(family, socket.SOCK_DGRAM)
            u.bind((addr, port))
            t = socket.socket(family, socket.SOCK_STREAM)
            t.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            t.bind((addr, port))
            t.listen(16)
        except OSError:
            if family == socket.AF_INET:
                raise
            continue
        sockets += [(serve_udp, u), (serve_tcp, t)]
    for fn, s in sockets:
        threading.Thread(target=fn, args=(s, server), daemon=True).start()
    with open(ready + ".tmp", "w") as f:
        f.write("ready\n")
    os.rename(ready + ".tmp", ready)
    end = time.time() + 300
    while time.time() < end and os.getppid() == parent:
        time.sleep(0.1)


if __name__ == "__main__":
    main()
