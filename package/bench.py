#!/usr/bin/env python3
"""package/bench.py: the measuring half of package/bench. Run package/bench, not this.

It expects what package/bench prepared: an rqmail tree in /tmp/rqmail-bench/rqhome built with
every account = rqbench, postfix installed, the account rqbench. It sets up both systems, runs
one at a time (the other stopped), stops whatever it started, and prints a table.

Environment (defaults in brackets):
  BENCH_N        messages per throughput run [2000]
  BENCH_LAT      messages sent one after another for latency [200]
  BENCH_HOLD     messages held in the queue for the memory figure [10000]
  BENCH_SIZES    message sizes in bytes, comma-separated [1024,10240]
  BENCH_PAR      parallel injectors, comma-separated [1,4]
  BENCH_SYSTEMS  which systems [rqmail,postfix]
  BENCH_ROUNDS   rounds, each system in turn; figures are medians over the rounds [1]
  BENCH_SMTP_N   messages per SMTP run [1000]
  BENCH_SMTP_SESS  concurrent SMTP sessions, comma-separated [1,5,20]
  BENCH_SMTP_RCPT  recipients per SMTP message, comma-separated [1,10]
  BENCH_CONN_N   connections for the tcpserver rate [2000]
  BENCH_REMOTE_N messages per remote-delivery run [2000]
  BENCH_POP_N    messages per POP3 run [100]
  BENCH_LOCAL_CONC  if set, the local delivery concurrency of BOTH systems (qmail-send
                 control/concurrencylocal, Postfix local_destination_concurrency_limit);
                 unset, each keeps its own default (10 and 2)

Figures: injection rate = N / (time until the last sendmail returned); end-to-end rate =
N / (time from the first injection until the N-th file is in Maildir/new, polled every 10 ms);
SMTP rate = messages / (time from starting Postfix's smtp-source, 2 KB of payload, one
message per connection, until every recipient's file is in Maildir/new): rqmail is
tcpserver -R -H + qmail-smtpd, Postfix its smtpd; recipients beyond the first are numbered
(0rqbench, 1rqbench...) and reach the same Maildir (rqmail: a wildcard users/assign line and
.qmail-default; Postfix: luser_relay). tcpserver rate = connections/s that our tcpserver and
Debian's serve (/bin/true, -R -H -l0, 8 client threads).
remote rate = messages / (time from the first injection until Postfix's smtp-sink has taken
them all), 1 KB messages, 4 injectors, each to one recipient: all at one domain, or spread
over ten domains; domain k is routed to an smtp-sink of its own on 127.0.0.1 (rqmail:
control/smtproutes, concurrencyremote 20; Postfix: transport_maps, destination concurrency 20).
POP3 rate = messages / (time from connecting until QUIT is answered) for one poplib session
that logs in as rqbench (password checked against its SHA-512 shadow entry) and RETRs and
DELEs BENCH_POP_N messages of 10 KB in the same Maildir, 5 runs each, alternating: rqmail's
tcpserver + qmail-popup + checkpassword + qmail-pop3d, and Dovecot's pop3 (a private
configuration: passdb shadow, userdb passwd), both serving rqbench's ~/Maildir.
latency = one message at a time on an idle system, from starting sendmail until the file is in
Maildir/new (polled every 0.5 ms); memory = VmHWM of the queue daemon (qmail-send, Postfix
qmgr) once BENCH_HOLD messages sit in its queue with local delivery held (rqmail:
control/concurrencylocal 0; Postfix: local_destination_rate_delay 3600s, which keeps them in
qmgr's active queue, in memory, as qmail-send keeps its whole queue).
All times are time.monotonic().
"""

import ctypes
import os
import pwd
import signal
import statistics
import subprocess
import sys
import threading
import time

B = "/tmp/rqmail-bench"
RQ = B + "/rqhome"
PF = B + "/postfix"
DOMAIN = "bench.rqmail.test"
RCPT = "rqbench@" + DOMAIN
ENV = {"PATH": "/usr/sbin:/usr/bin:/bin"}  # the injectors' whole environment


def num(name, default):
    return int(os.environ.get(name, default))


def nums(name, default):
    return [int(x) for x in os.environ.get(name, default).replace(" ", ",").split(",") if x]


N = num("BENCH_N", 2000)
LAT = num("BENCH_LAT", 200)
HOLD = num("BENCH_HOLD", 10000)
SIZES = nums("BENCH_SIZES", "1024,10240")
PAR = nums("BENCH_PAR", "1,4")
SYSTEMS = os.environ.get("BENCH_SYSTEMS", "rqmail,postfix").replace(" ", ",").split(",")
CONC = os.environ.get("BENCH_LOCAL_CONC", "")
SMTP_N = num("BENCH_SMTP_N", 1000)
SMTP_SESS = nums("BENCH_SMTP_SESS", "1,5,20")
SMTP_RCPT = nums("BENCH_SMTP_RCPT", "1,10")
CONN_N = num("BENCH_CONN_N", 2000)
REMOTE_N = num("BENCH_REMOTE_N", 2000)
REMOTE_DOMAINS = 10
REMOTE_PORT = 2600  # domain k's sink listens on REMOTE_PORT + k
POP_N = num("BENCH_POP_N", 100)
POP_RQ, POP_DV = 2627, 2628
DV = B + "/dovecot"
ROUNDS = num("BENCH_ROUNDS", 1)


class Fatal(Exception):
    pass


def say(text):
    print("package/bench: " + text, flush=True)


def write(path, text, mode=0o644):
    with open(path, "w") as f:
        f.write(text)
    os.chmod(path, mode)


def run(cmd, **kw):
    r = subprocess.run(cmd, stdin=subprocess.DEVNULL, capture_output=True, **kw)
    if r.returncode != 0:
        raise Fatal(f"{' '.join(cmd)} exited {r.returncode}: {(r.stderr or r.stdout).decode(errors='replace').strip()}")
    return r.stdout.decode()


def files_under(path):
    n = 0
    for _, _, names in os.walk(path):
        n += len(names)
    return n


def comm(pid):
    try:
        with open(f"/proc/{pid}/comm") as f:
            return f.read().strip()
    except OSError:
        return None


def status(pid, key):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith(key + ":"):
                return int(line.split()[1])  # kB
    raise Fatal(f"no {key} for pid {pid}")


def pids():
    for d in os.listdir("/proc"):
        if d.isdigit():
            yield int(d)


def ppid(pid):
    try:
        with open(f"/proc/{pid}/stat") as f:
            return int(f.read().rsplit(")", 1)[1].split()[1])
    except (OSError, IndexError, ValueError):
        return None


def reap(keep=()):
    """Waits for exited orphans handed to us as the subreaper (Postfix's daemons outlive master)."""
    for p in pids():
        if p not in keep and ppid(p) == os.getpid() and state(p) == "Z":
            try:
                os.waitpid(p, os.WNOHANG)
            except ChildProcessError:
                pass


def children():
    return [p for p in pids() if ppid(p) == os.getpid()]


def state(pid):
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()[0]
    except (OSError, IndexError):
        return None


def wait_until(cond, what, timeout, step=0.01):
    end = time.monotonic() + timeout
    while not cond():
        if time.monotonic() > end:
            raise Fatal(f"gave up after {timeout:.0f} s waiting for {what}")
        time.sleep(step)


def make_maildir(home, uid, gid):
    for d in (home, home + "/Maildir", *(home + "/Maildir/" + s for s in ("tmp", "new", "cur"))):
        os.makedirs(d, mode=0o700, exist_ok=True)
        os.chown(d, uid, gid)


class Rqmail:
    name = "rqmail"
    daemon = "qmail-send"

    def __init__(self, pw):
        self.pw = pw
        self.home = B + "/home-rqmail"
        self.new = self.home + "/Maildir/new"
        self.inject = self.inject_to(RCPT)
        self.proc = None
        self.missing = [p for p in ("qmail-start", "qmail-send", "qmail-clean", "qmail-lspawn", "qmail-rspawn")
                        if not os.access(f"{RQ}/bin/{p}", os.X_OK)]

    @staticmethod
    def inject_to(rcpt):
        return [RQ + "/bin/sendmail", "-i", "-f", RCPT, rcpt]

    def setup(self):
        write(RQ + "/control/me", DOMAIN + "\n")
        write(RQ + "/control/locals", DOMAIN + "\n")
        write(RQ + "/control/rcpthosts", DOMAIN + "\n")
        write(RQ + "/control/smtproutes", "".join(f"{remote_domain(k)}:127.0.0.1:{REMOTE_PORT + k}\n"
                                                  for k in range(REMOTE_DOMAINS)))
        write(RQ + "/control/concurrencyremote", "20\n")
        ids = f"rqbench:{self.pw.pw_uid}:{self.pw.pw_gid}:{self.home}"
        write(RQ + "/users/assign", f"=rqbench:{ids}:::\n+:{ids}:-::\n.\n")
        run([RQ + "/bin/qmail-newu"])
        make_maildir(self.home, self.pw.pw_uid, self.pw.pw_gid)
        write(self.home + "/.qmail-default", "./Maildir/\n", 0o600)
        os.chown(self.home + "/.qmail-default", self.pw.pw_uid, self.pw.pw_gid)

    def settings(self):
        return (f"rqmail: {RQ}, concurrencylocal {CONC or 10}; sendmail -> qmail-inject -> qmail-queue; "
                "fsyncs queue files and their directories, Maildir file and new/")

    def start(self, hold):
        if self.missing:
            raise Fatal("not built: " + " ".join(self.missing))
        conc = "0" if hold else CONC
        if conc:
            write(RQ + "/control/concurrencylocal", conc + "\n")
        elif os.path.exists(RQ + "/control/concurrencylocal"):
            os.unlink(RQ + "/control/concurrencylocal")
        log = open(B + "/rqmail.log", "ab")
        self.proc = subprocess.Popen(
            ["setpriv", "--reuid=rqbench", f"--regid={self.pw.pw_gid}", "--init-groups",
             "env", "-", f"PATH={RQ}/bin:/usr/bin:/bin", "qmail-start", "./Maildir/"],
            stdin=subprocess.DEVNULL, stdout=log, stderr=log, cwd="/", start_new_session=True)
        log.close()
        write(B + "/rqmail.pid", f"{self.proc.pid}\n")
        try:
            wait_until(lambda: self.proc.poll() is not None or comm(self.proc.pid) == "qmail-send",
                       "qmail-start to become qmail-send", 10)
            time.sleep(0.5)
            if self.proc.poll() is not None:
                raise Fatal(f"qmail-start exited {self.proc.returncode}; see {B}/rqmail.log")
        except Fatal:
            self.stop()
            raise

    def daemon_pid(self):
        return self.proc.pid

    def smtp_start(self):
        log = open(B + "/rqmail-smtpd.log", "ab")
        self.smtpd = subprocess.Popen(
            ["setpriv", "--reuid=rqbench", f"--regid={self.pw.pw_gid}", "--init-groups",
             "env", "-", f"PATH={RQ}/bin:/usr/bin:/bin",
             "tcpserver", "-R", "-H", "-l", DOMAIN, "-c", "100", "127.0.0.1", str(RQ_SMTP), "qmail-smtpd"],
            stdin=subprocess.DEVNULL, stdout=log, stderr=log, cwd="/", start_new_session=True)
        log.close()
        wait_until(lambda: listening(RQ_SMTP) or self.smtpd.poll() is not None, "tcpserver to listen", 10)
        if self.smtpd.poll() is not None:
            raise Fatal(f"tcpserver exited {self.smtpd.returncode}; see {B}/rqmail-smtpd.log")

    def smtp_stop(self):
        stop_server(getattr(self, "smtpd", None))
        self.smtpd = None

    def busy(self):  # anything in the queue at all
        return files_under(RQ + "/queue/mess") + files_under(RQ + "/queue/todo")

    def intake(self):  # messages not yet taken over by the queue daemon
        return files_under(RQ + "/queue/todo")

    def stop(self):
        if self.proc is None:
            return
        pid = self.proc.pid
        if self.proc.poll() is None:
            os.kill(pid, signal.SIGTERM)
            try:
                self.proc.wait(30)
            except subprocess.TimeoutExpired:
                say("qmail-send did not exit within 30 s of SIGTERM; killing its process group")
        try:  # lspawn, rspawn, clean, qmail-local: gone with qmail-send, or killed here
            wait_until(lambda: reap() or not any(_pgid(p) == pid for p in pids()), "rqmail daemons to exit", 10)
        except Fatal:
            say("rqmail processes left after qmail-send exited; killing its process group")
            os.killpg(pid, signal.SIGKILL)
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()
        self.proc = None
        os.unlink(B + "/rqmail.pid")


def _pgid(p):
    try:
        return os.getpgid(p)
    except OSError:
        return None


MASTER_CF = """\
pickup    unix  n       -       n       60      1       pickup
cleanup   unix  n       -       n       -       0       cleanup
qmgr      unix  n       -       n       300     1       qmgr
rewrite   unix  -       -       n       -       -       trivial-rewrite
bounce    unix  -       -       n       -       0       bounce
defer     unix  -       -       n       -       0       bounce
trace     unix  -       -       n       -       0       bounce
verify    unix  -       -       n       -       1       verify
flush     unix  n       -       n       1000?   0       flush
proxymap  unix  -       -       n       -       -       proxymap
showq     unix  n       -       n       -       -       showq
error     unix  -       -       n       -       -       error
retry     unix  -       -       n       -       -       error
discard   unix  -       -       n       -       -       discard
local     unix  -       n       n       -       -       local
smtp      unix  -       -       n       -       -       smtp
anvil     unix  -       -       n       -       1       anvil
scache    unix  -       -       n       -       1       scache
postlog   unix-dgram n  -       n       -       1       postlogd
"""


class Postfix:
    name = "postfix"
    daemon = "qmgr"

    def __init__(self, pw):
        self.pw = pw
        self.home = pw.pw_dir
        self.new = self.home + "/Maildir/new"
        self.etc = PF + "/etc"
        self.inject = self.inject_to(RCPT)
        self.missing = []
        self.master = None
        self.version = ""
        self.smtp_port = PF_SMTP

    def inject_to(self, rcpt):
        return ["/usr/sbin/sendmail", "-C", self.etc, "-i", "-f", RCPT, rcpt]

    def main_cf(self, extra=""):
        conc = f"local_destination_concurrency_limit = {CONC}\n" if CONC else ""
        routes = ", ".join(f"{remote_domain(k)}=smtp:[127.0.0.1]:{REMOTE_PORT + k}" for k in range(REMOTE_DOMAINS))
        write(self.etc + "/main.cf", f"""\
compatibility_level = 3.6
queue_directory = {PF}/queue
data_directory = {PF}/data
maillog_file = {PF}/maillog
maillog_file_prefixes = {PF}
myhostname = {DOMAIN}
mydomain = rqmail.test
myorigin = $myhostname
mydestination = $myhostname, localhost
inet_interfaces = loopback-only
inet_protocols = ipv4
home_mailbox = Maildir/
alias_maps =
alias_database =
local_recipient_maps =
biff = no
luser_relay = rqbench
transport_maps = inline:{{{routes}}}
default_destination_concurrency_limit = 20
{conc}{extra}""")

    def setup(self):
        if self.home != B + "/home-postfix":
            raise Fatal(f"account rqbench has home {self.home}, not {B}/home-postfix: fix or remove it")
        for d in (self.etc, PF + "/queue", PF + "/data"):
            os.makedirs(d, exist_ok=True)
        os.chown(PF + "/data", pwd.getpwnam("postfix").pw_uid, -1)
        write(self.etc + "/master.cf", MASTER_CF + f"127.0.0.1:{PF_SMTP} inet n - n - - smtpd\n")
        self.main_cf()
        run(["postfix", "-c", self.etc, "check"])  # creates the queue directories
        make_maildir(self.home, self.pw.pw_uid, self.pw.pw_gid)
        self.version = run(["postconf", "-c", self.etc, "-h", "mail_version"]).strip()

    def settings(self):
        return (f"Postfix {self.version}: {self.etc}, local_destination_concurrency_limit {CONC or 2}; "
                "sendmail -C -> postdrop -> pickup -> cleanup -> qmgr -> local; "
                "fsyncs queue files and the Maildir file, not directories")

    def start(self, hold):
        # Holding: a one-hour pause between local deliveries keeps every message in qmgr's
        # active queue (in memory) without delivering it, as concurrencylocal 0 does for qmail-send.
        self.main_cf("local_destination_rate_delay = 3600s\n" if hold else "")
        run(["postfix", "-c", self.etc, "start"], env=ENV)
        pidfile = PF + "/queue/pid/master.pid"
        wait_until(lambda: os.path.exists(pidfile), "master.pid", 10)
        with open(pidfile) as f:
            self.master = int(f.read().split()[0])
        wait_until(lambda: self.daemon_pid() is not None, "qmgr", 10)

    def daemon_pid(self):
        for p in pids():
            if ppid(p) == self.master and comm(p) == "qmgr":
                return p
        return None

    def smtp_start(self):
        wait_until(lambda: listening(PF_SMTP), "Postfix's smtpd port", 10)

    def smtp_stop(self):
        pass

    def busy(self):
        return sum(files_under(f"{PF}/queue/{d}") for d in ("maildrop", "incoming", "active", "deferred"))

    def intake(self):
        return sum(files_under(f"{PF}/queue/{d}") for d in ("maildrop", "incoming"))

    def stop(self):
        if self.master is None:
            return
        run(["postfix", "-c", self.etc, "stop"], env=ENV)
        wait_until(lambda: reap() or not (postfix_procs() or children()), "Postfix to stop", 30)
        self.master = None


RQ_SMTP, PF_SMTP, CONN_PORT = 2525, 2526, 2527


def listening(port):
    import socket
    try:
        socket.create_connection(("127.0.0.1", port), timeout=1).close()
        return True
    except OSError:
        return False


def stop_server(p):
    if p is not None and p.poll() is None:
        p.terminate()
        p.wait(10)


def smtp_batch(s, n, sess, rcpts):
    """n messages over SMTP from sess parallel sessions; seconds until all are in Maildir/new."""
    clear_new(s)
    port = RQ_SMTP if s.name == "rqmail" else PF_SMTP
    t0 = time.monotonic()
    src = subprocess.Popen(["smtp-source", "-s", str(sess), "-m", str(n), "-l", "2048", "-r", str(rcpts),
                            "-f", RCPT, "-t", RCPT, "-M", DOMAIN, f"127.0.0.1:{port}"],
                           stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    want, end = n * rcpts, t0 + 120 + n * rcpts * 0.1
    while count(s) < want:
        if src.poll() not in (None, 0):
            raise Fatal(f"smtp-source against {s.name} exited {src.returncode}: {src.stderr.read().decode(errors='replace')}")
        if time.monotonic() > end:
            src.kill()
            raise Fatal(f"{s.name}: {count(s)} of {want} SMTP deliveries after {end - t0:.0f} s")
        time.sleep(0.01)
    done = time.monotonic()
    src.wait()
    return done - t0


def smtp_measure(s, res):
    if not all(os.access(f"{RQ}/bin/{p}", os.X_OK) for p in ("tcpserver", "qmail-smtpd")):
        say(f"{s.name}: SMTP skipped: tcpserver or qmail-smtpd not built")
        return
    s.smtp_start()
    try:
        for rcpts in SMTP_RCPT:
            for sess in SMTP_SESS:
                say(f"{s.name}: SMTP, {SMTP_N} messages of 2 KB, {rcpts} recipient(s), {sess} session(s)")
                res[f"SMTP-to-Maildir, {rcpts} rcpt, {sess} sess (msg/s)"] = SMTP_N / smtp_batch(s, SMTP_N, sess, rcpts)
    finally:
        s.smtp_stop()


def remote_domain(k):
    return f"d{k}.remote.test"


class Sinks:
    """Postfix's smtp-sink, one per remote domain, each counting the messages it took."""

    def __init__(self):
        self.procs, self.outs = [], []
        for k in range(REMOTE_DOMAINS):
            out = f"{B}/sink{k}.out"
            self.outs.append(out)
            with open(out, "wb") as f:
                self.procs.append(subprocess.Popen(
                    ["smtp-sink", "-c", "-u", "rqbench", f"127.0.0.1:{REMOTE_PORT + k}", "256"],
                    stdin=subprocess.DEVNULL, stdout=f, stderr=subprocess.STDOUT, start_new_session=True))
        for k in range(REMOTE_DOMAINS):
            wait_until(lambda: listening(REMOTE_PORT + k), f"smtp-sink on port {REMOTE_PORT + k}", 10)

    def count(self):
        """Messages taken: each sink rewrites `sess=... mesg=N` after every message."""
        n = 0
        for out in self.outs:
            with open(out, "rb") as f:
                last = f.read().rsplit(b"mesg=", 1)
            n += int(last[1].split(b"\r")[0] or 0) if len(last) == 2 else 0
        return n

    def stop(self):
        for p in self.procs:
            stop_server(p)


def remote_measure(s, res):
    """REMOTE_N messages to smtp-sinks, to one domain and spread over ten."""
    if s.name == "rqmail" and not os.access(f"{RQ}/bin/qmail-remote", os.X_OK):
        say("rqmail: remote delivery skipped: qmail-remote not built")
        return
    for doms in (1, REMOTE_DOMAINS):
        sinks = Sinks()
        try:
            say(f"{s.name}: remote, {REMOTE_N} messages of 1 KB to {doms} domain(s), {max(PAR)} injectors")
            _, e2e = batch(s, REMOTE_N, max(PAR), 1024, f"remote{doms}", to=lambda i: f"r{i}@{remote_domain(i % doms)}",
                           delivered=sinks.count)
            res[f"remote delivery to smtp-sink, {doms} domain(s) (msg/s)"] = REMOTE_N / e2e
        finally:
            sinks.stop()
        wait_until(lambda: not s.busy(), f"{s.name}'s queue to empty", 60)


DOVECOT_CONF = """\
base_dir = {dv}/run
state_dir = {dv}/state
log_path = {dv}/log
protocols = pop3
listen = 127.0.0.1
ssl = no
disable_plaintext_auth = no
mail_location = maildir:~/Maildir
pop3_uidl_format = %f
passdb {{
  driver = shadow
}}
userdb {{
  driver = passwd
}}
service pop3-login {{
  inet_listener pop3 {{
    port = {port}
  }}
}}
service imap-login {{
  inet_listener imap {{
    port = 0
  }}
}}
"""


def pop_fill(maildir, n, pw):
    """n messages of 10 KB in maildir/new, their mtime a minute ago (qmail-pop3d skips newer)."""
    for sub in ("new", "cur"):
        for name in os.listdir(f"{maildir}/{sub}"):
            os.unlink(f"{maildir}/{sub}/{name}")
    then = time.time() - 60
    for i in range(n):
        path = f"{maildir}/new/{int(then)}.P{i}.bench"
        write(path, message("pop", i, 10240).decode(), 0o600)
        os.chown(path, pw.pw_uid, pw.pw_gid)
        os.utime(path, (then, then))


def pop_session(port, n):
    """Seconds for one session: log in, RETR and DELE n messages, QUIT."""
    import poplib
    t0 = time.monotonic()
    p = poplib.POP3("127.0.0.1", port, timeout=30)
    p.user("rqbench")
    p.pass_("bench")
    count = p.stat()[0]
    if count != n:
        raise Fatal(f"POP3 on port {port}: {count} messages, not {n}")
    for i in range(1, n + 1):
        p.retr(i)
        p.dele(i)
    p.quit()
    return time.monotonic() - t0


def pop_measure(pw, pops):
    """POP3 retrieval, rqmail's chain against Dovecot's pop3, alternating."""
    if not all(os.access(f"{RQ}/bin/{p}", os.X_OK) for p in ("qmail-popup", "qmail-pop3d", "checkpassword")):
        say("POP3 skipped: qmail-popup, qmail-pop3d or checkpassword not built")
        return
    if not os.access("/usr/sbin/dovecot", os.X_OK):
        say("POP3 skipped: Dovecot (dovecot-pop3d) not installed")
        return
    maildir = pw.pw_dir + "/Maildir"
    make_maildir(pw.pw_dir, pw.pw_uid, pw.pw_gid)
    for d in ("run", "state"):
        os.makedirs(f"{DV}/{d}", exist_ok=True)
    write(DV + "/dovecot.conf", DOVECOT_CONF.format(dv=DV, port=POP_DV))
    log = open(B + "/pop3.log", "ab")
    rq = subprocess.Popen(["env", "-", f"PATH={RQ}/bin:/usr/bin:/bin", "tcpserver", "-R", "-H", "-l0", "-c", "10",
                           "127.0.0.1", str(POP_RQ), "qmail-popup", DOMAIN, "checkpassword", "qmail-pop3d", "Maildir"],
                          stdin=subprocess.DEVNULL, stdout=log, stderr=log, cwd="/", start_new_session=True)
    log.close()
    try:
        # Dovecot's master keeps the descriptors it was given: a log file, not a pipe.
        with open(B + "/pop3.log", "ab") as log:
            if subprocess.run(["/usr/sbin/dovecot", "-c", DV + "/dovecot.conf"], stdin=subprocess.DEVNULL,
                              stdout=log, stderr=log).returncode != 0:
                raise Fatal(f"dovecot did not start; see {B}/pop3.log")
        wait_until(lambda: listening(POP_RQ) and listening(POP_DV), "the POP3 servers to listen", 10)
        for r in range(5):
            for name, port in (("rqmail", POP_RQ), ("dovecot", POP_DV)):
                pop_fill(maildir, POP_N, pw)
                pops.setdefault(name, []).append(POP_N / pop_session(port, POP_N))
            say(f"POP3 round {r + 1}: rqmail {pops['rqmail'][-1]:.0f}, Dovecot {pops['dovecot'][-1]:.0f} msg/s")
    finally:
        stop_server(rq)
        subprocess.run(["/usr/sbin/dovecot", "-c", DV + "/dovecot.conf", "stop"], stderr=subprocess.DEVNULL)


def conn_rate(binary):
    """Connections per second tcpserver `binary` serves running /bin/true, from 8 client threads."""
    import socket
    p = subprocess.Popen([binary, "-R", "-H", "-l0", "-c", "40", "127.0.0.1", str(CONN_PORT), "/bin/true"],
                         stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                         cwd="/", start_new_session=True)
    try:
        wait_until(lambda: listening(CONN_PORT) or p.poll() is not None, f"{binary} to listen", 10)
        lock, left, errors = threading.Lock(), [CONN_N], []

        def client():
            while True:
                with lock:
                    if left[0] <= 0 or errors:
                        return
                    left[0] -= 1
                try:
                    c = socket.create_connection(("127.0.0.1", CONN_PORT), timeout=10)
                    while c.recv(256):
                        pass
                    c.close()
                except OSError as e:
                    errors.append(e)
        threads = [threading.Thread(target=client) for _ in range(8)]
        t0 = time.monotonic()
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        if errors:
            raise Fatal(f"{binary}: {errors[0]}")
        return CONN_N / (time.monotonic() - t0)
    finally:
        stop_server(p)


def message(tag, i, size):
    head = (f"From: {RCPT}\nTo: {RCPT}\nSubject: bench {tag} {i}\nMessage-ID: <{tag}.{i}@{DOMAIN}>\n"
            f"Date: {time.strftime('%a, %d %b %Y %H:%M:%S +0000', time.gmtime())}\n\n").encode()
    need = max(size - len(head), 1)
    return head + (b"x" * 71 + b"\n") * (need // 72) + b"y" * (need % 72 - 1) + b"\n" * (need % 72 > 0)


def ceiling(par):
    """Spawns/s of the injector loop itself: what the figures below cannot exceed."""
    class TrueSystem:
        inject = ["/bin/true"]
    inj, _ = batch(TrueSystem, N, par, SIZES[0], "true", deliver=False)
    return N / inj


def inject_one(s, data, cmd=None):
    cmd = cmd or s.inject
    r = subprocess.run(cmd, input=data, env=ENV, cwd="/", stdout=subprocess.DEVNULL,
                       stderr=subprocess.PIPE)
    if r.returncode != 0:
        raise Fatal(f"{cmd[0]} exited {r.returncode}: {r.stderr.decode(errors='replace').strip()}")


def clear_new(s):
    wait_until(lambda: not s.busy(), f"{s.name}'s queue to empty", 120)
    for name in os.listdir(s.new):
        os.unlink(os.path.join(s.new, name))


def count(s):
    return len(os.listdir(s.new))


def batch(s, n, par, size, tag, deliver=True, to=None, delivered=None):
    """Injects n messages from par threads; returns (injection seconds, end-to-end seconds).
    With `to`, message i goes to recipient to(i), and delivered() counts what has arrived."""
    if deliver and delivered is None:
        clear_new(s)
    delivered = delivered or (lambda: count(s))
    msgs = [message(tag, i, size) for i in range(n)]
    lock, nxt, errors, ends = threading.Lock(), [0], [], []

    def worker():
        while not errors:
            with lock:
                i = nxt[0]
                nxt[0] += 1
            if i >= n:
                break
            try:
                inject_one(s, msgs[i], s.inject_to(to(i)) if to else None)
            except Exception as e:  # reported by the main thread
                errors.append(e)
        ends.append(time.monotonic())

    threads = [threading.Thread(target=worker) for _ in range(par)]
    t0 = time.monotonic()
    for t in threads:
        t.start()
    end = t0 + 120 + n * 0.2
    done = None
    while done is None:
        time.sleep(0.01)
        if errors:
            break
        if not deliver:
            if len(ends) == par:
                break
        elif delivered() >= n:
            done = time.monotonic()
        if time.monotonic() > end:
            errors.append(Fatal(f"{s.name}: {delivered()} of {n} delivered after {end - t0:.0f} s"))
    for t in threads:
        t.join()
    if errors:
        raise errors[0]
    return max(ends) - t0, (done - t0 if done else None)


def latency(s, size, tag):
    clear_new(s)
    out = []
    for i in range(LAT):
        wait_until(lambda: not s.busy(), f"{s.name}'s queue to empty", 30, 0.001)
        c0, data = count(s), message(tag, i, size)
        t0 = time.monotonic()
        p = subprocess.Popen(s.inject, stdin=subprocess.PIPE, env=ENV, cwd="/",
                             stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        p.stdin.write(data)
        p.stdin.close()
        while count(s) == c0:
            if p.poll() not in (None, 0):
                raise Fatal(f"{s.inject[0]} exited {p.returncode}")
            if time.monotonic() - t0 > 30:
                raise Fatal(f"{s.name}: message {i} not delivered after 30 s")
            time.sleep(0.0005)
        out.append(time.monotonic() - t0)
        if p.wait() != 0:
            raise Fatal(f"{s.inject[0]} exited {p.returncode}")
    out.sort()
    return statistics.median(out), out[max(0, -(-len(out) * 9 // 10) - 1)]


def measure(s, res, hold):
    say(f"{s.name}: start")
    s.start(hold=False)
    try:
        for size in SIZES:
            say(f"{s.name}: latency, {LAT} messages of {size} bytes one at a time")
            med, p90 = latency(s, size, f"lat{size}")
            res[f"latency median, {size} B (ms)"] = med * 1000
            res[f"latency p90, {size} B (ms)"] = p90 * 1000
        for size in SIZES:
            for par in PAR:
                say(f"{s.name}: {N} messages of {size} bytes, {par} injector(s)")
                inj, e2e = batch(s, N, par, size, f"tp{size}x{par}")
                res[f"injection, {size} B, {par} inj (msg/s)"] = N / inj
                res[f"injection-to-Maildir, {size} B, {par} inj (msg/s)"] = N / e2e
        if SMTP_N:
            smtp_measure(s, res)
        if REMOTE_N:
            remote_measure(s, res)
        clear_new(s)
    finally:
        s.stop()
    if not hold:
        return
    say(f"{s.name}: start with local delivery held")
    s.start(hold=True)
    try:
        say(f"{s.name}: queueing {HOLD} messages of {SIZES[0]} bytes, {max(PAR)} injectors")
        batch(s, HOLD, max(PAR), SIZES[0], "hold", deliver=False)
        wait_until(lambda: s.intake() == 0, f"{s.daemon} to take in {HOLD} messages", 300, 0.1)
        time.sleep(1)
        pid = s.daemon_pid()
        if comm(pid) != s.daemon:
            raise Fatal(f"pid {pid} is {comm(pid)}, not {s.daemon}")
        res[f"queue daemon peak RSS, {HOLD} queued (KiB)"] = float(status(pid, "VmHWM"))
    finally:
        s.stop()


def injection_only(s, res):
    """rqmail without its queue daemon: only the injection figures, flagged as such."""
    say(f"rqmail: {' '.join(s.missing)} not built: injection only, nothing delivering")
    for size in SIZES:
        for par in PAR:
            say(f"{s.name}: {N} messages of {size} bytes, {par} injector(s), no delivery")
            inj, _ = batch(s, N, par, size, f"tp{size}x{par}", deliver=False)
            res[f"injection, {size} B, {par} inj (msg/s)"] = f"{N / inj:.0f}*"


def postfix_procs():
    """Processes of the bench's Postfix: master passes MAIL_CONFIG to all it starts."""
    mine = []
    for p in pids():
        try:
            with open(f"/proc/{p}/environ", "rb") as f:
                if b"MAIL_CONFIG=" + PF.encode() in f.read():
                    mine.append(p)
        except OSError:
            pass
    return mine


def leftovers():
    uid = pwd.getpwnam("rqbench").pw_uid
    return sorted(set(postfix_procs()) | {p for p in pids() if _owner(p) == uid})


def _owner(p):
    try:
        return os.stat(f"/proc/{p}").st_uid
    except OSError:
        return None


def fmt(v):
    if v is None:
        return "n/a"
    if isinstance(v, str):
        return v
    return f"{v:.1f}" if v < 100 else f"{v:.0f}"


def main():
    # Orphans of what we start (Postfix's master, when it quits before its children; qmail-send's
    # spawners) come to us instead of init, so that we reap them and leave not even a zombie.
    if ctypes.CDLL(None, use_errno=True).prctl(36, 1, 0, 0, 0) != 0:  # PR_SET_CHILD_SUBREAPER
        say("warning: cannot become a subreaper: exited daemons may linger as zombies of init")
    pw = pwd.getpwnam("rqbench")
    systems = {"rqmail": Rqmail(pw), "postfix": Postfix(pw)}
    res = {name: {} for name in systems}
    say(f"N={N} per throughput run, LAT={LAT}, HOLD={HOLD}, ROUNDS={ROUNDS}, sizes {SIZES} bytes, injectors {PAR}; "
        f"{os.cpu_count()} CPUs, {os.uname().release}, load average {os.getloadavg()[0]:.2f}")
    say("injectors run as root for both systems (Postfix's sendmail honours -C for a private "
        "configuration only for root), environment PATH only")
    say("harness ceiling (the same injector loop running /bin/true): "
        + ", ".join(f"{par} inj {ceiling(par):.0f}/s" for par in PAR))
    runs = {name: [] for name in systems}
    conns, pops = {}, {}
    try:
        if CONN_N and os.access(RQ + "/bin/tcpserver", os.X_OK) and os.access("/usr/bin/tcpserver", os.X_OK):
            for r in range(ROUNDS):
                for name, binary in (("rqmail", RQ + "/bin/tcpserver"), ("debian", "/usr/bin/tcpserver")):
                    say(f"tcpserver rate: {binary}, {CONN_N} connections")
                    conns.setdefault(name, []).append(conn_rate(binary))
                    say(f"tcpserver rate: {binary}: {conns[name][-1]:.0f} connections/s")
        for name in SYSTEMS:
            systems[name].setup()
            say(systems[name].settings())
        for r in range(ROUNDS):
            if ROUNDS > 1:
                say(f"round {r + 1} of {ROUNDS}")
            for name in SYSTEMS:
                s, d = systems[name], {}
                runs[name].append(d)
                if name == "rqmail" and s.missing:
                    injection_only(s, d)
                else:  # the held queue is not emptied again: last round only
                    measure(s, d, hold=r == ROUNDS - 1)
        if POP_N:
            pop_measure(pw, pops)
    except (Fatal, KeyboardInterrupt) as e:
        say(f"fatal: {e}")
        return 111
    finally:
        for s in systems.values():
            try:
                s.stop()
            except Exception as e:
                say(f"warning: stopping {s.name}: {e}")
        reap()
        left = leftovers()
        if left:
            say(f"warning: processes left behind: {left}")
    for name in SYSTEMS:
        for d in runs[name]:
            for k, v in d.items():
                res[name].setdefault(k, []).append(v)
        res[name] = {k: v[0] if isinstance(v[0], str) else statistics.median(v) for k, v in res[name].items()}
    say(f"load average now {os.getloadavg()[0]:.2f} (other work on the machine skews the figures)")
    rows = list(dict.fromkeys(k for name in SYSTEMS for k in res[name]))
    w = max(len(r) for r in rows) + 2
    print()
    print(f"{'figure':<{w}}{'rqmail':>10}{'postfix':>10}{'rq/pf':>8}")
    for r in rows:
        a, b = res["rqmail"].get(r), res["postfix"].get(r)
        ratio = f"{a / b:.2f}" if isinstance(a, float) and isinstance(b, float) and b else "n/a"
        print(f"{r:<{w}}{fmt(a):>10}{fmt(b):>10}{ratio:>8}")
    print()
    if conns:
        a, b = statistics.median(conns["rqmail"]), statistics.median(conns["debian"])
        print(f"{'tcpserver connections/s (vs Debian ucspi-tcp)':<{w}}{a:>10.0f}{b:>10.0f}{a / b:>8.2f}")
        print(f"target tcpserver rate >= Debian's: {'met' if a >= b else 'NOT met'} ({a / b:.2f})")
        print()
    if pops:
        a, b = statistics.median(pops["rqmail"]), statistics.median(pops["dovecot"])
        print(f"{f'POP3 RETR+DELE, {POP_N} x 10 KB (msg/s, vs Dovecot)':<{w}}{a:>10.0f}{b:>10.0f}{a / b:>8.2f}")
        print(f"target POP3 rate >= Dovecot's: {'met' if a >= b else 'NOT met'} ({a / b:.2f})")
        print()
    if ROUNDS > 1:
        print(f"Each figure is the median of {ROUNDS} rounds (memory: the last round only).")
    print("Queue daemon: qmail-send for rqmail, qmgr for Postfix (VmHWM; Postfix's includes its shared")
    print("libraries); held by concurrencylocal 0 and by local_destination_rate_delay 3600s.")
    print("Ratios: rq/pf; throughput wants more, latency and memory want less.")
    print("Both systems durable: every message fsynced in the queue before sendmail returns and in")
    print("Maildir before it shows in new/ (rqmail also fsyncs the directories; Postfix does not).")
    if any(isinstance(v, str) for v in res["rqmail"].values()):
        print("* rqmail injection measured with no queue daemon running (nothing delivering): not")
        print("  comparable with Postfix's figure, which has delivery running alongside.")
    targets = [("injection-to-Maildir", 2.5, "throughput >= 2.5x Postfix"),
               ("SMTP-to-Maildir", 1.0, "SMTP throughput >= Postfix (the target is for 5 and 20 sessions)"),
               ("remote delivery", 1.0, "remote delivery throughput >= Postfix"),
               ("latency median", -1.0, "median latency <= Postfix")]  # negative: at most
    for key, goal, text in targets:
        for r in rows:
            a, b = res["rqmail"].get(r), res["postfix"].get(r)
            if r.startswith(key) and isinstance(a, float) and isinstance(b, float):
                ok = a / b >= goal if goal > 0 else a / b <= -goal
                print(f"target {text}: {r}: {'met' if ok else 'NOT met'} ({a / b:.2f})")
    return 0


if __name__ == "__main__":
    signal.signal(signal.SIGTERM, signal.default_int_handler)  # TERM stops cleanly, as INT does
    sys.exit(main())
