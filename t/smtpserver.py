#!/usr/bin/python3
"""smtpserver.py: a scriptable SMTP server for black-box tests of SMTP clients (stdlib only).

Usage: smtpserver.py config.json

config: {"listen": [["127.0.0.1", 2525], ["::1", 2525]], "ready": path, "log": path,
         "ehlo": ["PIPELINING", "8BITMIME", "SIZE 1000"] | null (EHLO refused with 502),
         "greeting": "220 ..." or {local ip: greeting, "*": default}, "replies": {"MAIL": "...", "RCPT": "...", "DATA": "...",
         "DOT": "...", "RSET": "..."}, "slow_mail": 0.3}
A reply is sent as given with "\n" turned into CRLF and a final CRLF added, except for the
special replies "close" (hang up without a word), "stall" (say nothing, wait to be killed)
and "partial:TEXT" (send TEXT without a line end, then hang up). RCPT replies may be a
dict from recipient address to reply ("*" the default). Unset replies are 250 (354 for
DATA). "slow_mail": before answering MAIL, wait up to that long for more commands and log
whether they came (a client that pipelines has sent them; one that must not, cannot).
Each event is one JSON line in the log: {"local": ip, "peer": ip} for a connection,
{"local": ip, "cmd": line} for commands,
{"local": ip, "pipelined": bool} after a slow MAIL, {"local": ip, "data": text} for a
message (dot-stuffing undone, CRLF kept). It exits when its parent goes away or after 120 s.
"""

import json
import os
import select
import socket
import sys
import threading
import time

cfg = json.load(open(sys.argv[1]))
lock = threading.Lock()


def log(event):
    with lock, open(cfg["log"], "a") as f:
        f.write(json.dumps(event) + "\n")


def send(conn, text):
    if text == "close":
        raise EOFError
    if text == "stall":
        time.sleep(120)
        raise EOFError
    if text.startswith("partial:"):
        conn.sendall(text[8:].encode())
        raise EOFError
    conn.sendall(text.replace("\n", "\r\n").encode() + b"\r\n")


class Lines:
    """Line reading on a socket that can tell whether more input is already waiting."""

    def __init__(self, conn):
        self.conn, self.buf = conn, b""

    def readline(self):
        while b"\n" not in self.buf:
            more = self.conn.recv(65536)
            if not more:
                line, self.buf = self.buf, b""
                return line
            self.buf += more
        i = self.buf.index(b"\n") + 1
        line, self.buf = self.buf[:i], self.buf[i:]
        return line

    def waiting(self, wait=0):
        """Whether more input is here, or arrives within `wait` seconds."""
        return bool(self.buf) or bool(select.select([self.conn], [], [], wait)[0])


def serve(conn):
    local = conn.getsockname()[0]
    f = Lines(conn)
    replies = cfg.get("replies", {})
    log({"local": local, "peer": conn.getpeername()[0]})
    greeting = cfg.get("greeting", "220 test.example ESMTP")
    if isinstance(greeting, dict):
        greeting = greeting.get(local, greeting.get("*", "220 test.example ESMTP"))
    try:
        send(conn, greeting)
        while True:
            line = f.readline()
            if not line:
                return
            cmd = line.rstrip(b"\r\n").decode("latin-1")
            log({"local": local, "cmd": cmd})
            verb = cmd[:4].upper()
            if verb == "EHLO":
                ext = cfg.get("ehlo", [])
                if ext is None:
                    send(conn, "502 unimplemented")
                else:
                    send(conn, "\n".join(["250-test.example"] * bool(ext) + ["250-" + e for e in ext[:-1]]
                                         + ["250 " + (ext[-1] if ext else "test.example")]))
            elif verb == "HELO":
                send(conn, "250 test.example")
            elif verb == "MAIL":
                if cfg.get("slow_mail"):
                    log({"local": local, "pipelined": f.waiting(cfg["slow_mail"])})
                send(conn, replies.get("MAIL", "250 ok"))
            elif verb == "RCPT":
                r = replies.get("RCPT", "250 ok")
                if isinstance(r, dict):
                    addr = cmd.split("<", 1)[-1].split(">", 1)[0]
                    r = r.get(addr, r.get("*", "250 ok"))
                send(conn, r)
            elif verb == "DATA":
                r = replies.get("DATA", "354 go ahead")
                send(conn, r)
                if not r.startswith("354"):
                    continue
                data = b""
                while True:
                    l = f.readline()
                    if not l:
                        return
                    if l == b".\r\n":
                        break
                    data += l[1:] if l.startswith(b".") else l
                log({"local": local, "data": data.decode("latin-1")})
                send(conn, replies.get("DOT", "250 ok queued"))
            elif verb == "RSET":
                send(conn, replies.get("RSET", "250 flushed"))
            elif verb == "QUIT":
                send(conn, "221 bye")
                return
            else:
                send(conn, "502 unimplemented")
    except (EOFError, OSError):
        pass
    finally:
        conn.close()


def main():
    socks = []
    for host, port in cfg["listen"]:
        s = socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET)
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        s.bind((host, port))
        s.listen(16)
        socks.append(s)
    open(cfg["ready"], "w").close()
    parent, end = os.getppid(), time.time() + 120
    while time.time() < end and os.getppid() == parent:
        ready, _, _ = select.select(socks, [], [], 0.2)
        for s in ready:
            conn, _ = s.accept()
            threading.Thread(target=serve, args=(conn,), daemon=True).start()


main()
