//! qmail-local — deliver one message to one local recipient, as the recipient's `.qmail`
//! files say.
//!
//! Usage:    qmail-local [ -nN ] user homedir local dash ext domain sender defaultdelivery
//! Options:  -n  print the plan (`program …`, `maildir …`, `mbox …`, `forward …` lines, then
//!               the `did` line) instead of delivering; no loop check, stdin is not read.
//!           -N  deliver (the default). The last of -n/-N wins.
//! Environment: reads `QMAILQUEUE` (the queue program for forwards). Each `|program` gets
//!           USER HOME LOCAL HOST RECIPIENT SENDER NEWSENDER DTLINE RPLINE UFLINE EXT EXT2
//!           EXT3 EXT4 HOST2 HOST3 HOST4 and, for a `-default` file, DEFAULT (else unset),
//!           on top of what qmail-local inherited.
//! Exit:     0 delivered: stdout `did <files>+<forwards>+<programs>` and, if something was
//!           forwarded, `qp <pid of qmail-queue>`; 100 permanent failure (usage, relative
//!           homedir, no such `.qmail-ext`, looping message, a program's hard exit code,
//!           queue refusal); 111 temporary. qmail-local's own texts go to stderr and end in
//!           `(#x.y.z)`; programs write to fd 1.
//! Runs as:  the recipient (qmail-lspawn sets uid and gid). fd 0 is the message and must be
//!           seekable; fd 1 and fd 2 are the report pipe. umask 077, SIGPIPE ignored.
//! Trusts:   the user's `.qmail` files and home directory, and only if they are not
//!           writable by others (conf/patrn) — a sticky home means "being edited": defer.
//!           The message, the sender and the address are hostile: they reach programs only
//!           as stdin and environment values, never as shell text.
//! Spec:     shared/spec/qmail.md §4.6–4.15, §8.7, §12; formats.md §5, §6.3–6.4, §10.3.
//!           Maildir names and durability: see qlib::maildir. Beyond qmail: see
//!           qlib::dotqmail (CR at line end, NUL bytes); no 24 h alarm on maildir writes.

use qlib::{local, prog};
use std::process::ExitCode;

fn main() -> ExitCode {
    prog::main("qmail-local", local::run)
}
