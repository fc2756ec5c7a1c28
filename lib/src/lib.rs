//! qlib — the library under every rqmail program.
//!
//! Layers, each using only those above it:
//! 1. `sys` — the only `unsafe` and `libc` calls: descriptors, ids, signals, fs, exec setup.
//! 2. General modules that know nothing of mail: `prog`, `fail`, `exit`, `errtext`, `args`,
//!    `getln`, `scan`, `env`, `child`, `prot`, `durable`, `cdb`, `cdbmake`, `tai64n`, `date`.
//! 3. qmail modules: `conf`, `control`, `queue`, `qread`, `queuectl`, `qmail`, `quote`, `log`.

pub mod sys;

pub mod args;
pub mod cdb;
pub mod cdbmake;
pub mod check;
pub mod checkpw;
pub mod child;
pub mod conf;
pub mod control;
pub mod copy;
pub mod date;
pub mod durable;
pub mod env;
pub mod envedit;
pub mod errtext;
pub mod exit;
pub mod fail;
pub mod fastforward;
pub mod getln;
pub mod ident;
pub mod ip;
pub mod local;
pub mod log;
pub mod prog;
pub mod prot;
pub mod qmail;
pub mod qread;
pub mod queue;
pub mod queuectl;
pub mod quote;
pub mod rcpthosts;
pub mod received;
pub mod remote;
pub mod scan;
pub mod spawn;
pub mod tai64n;
pub mod tcpto;
pub mod timeout;

pub use durable::{fsync_dir, fsync_dir_of};
pub mod addrlist;
pub mod analog;
pub mod crlf;
pub mod dns;
pub mod dotforward;
pub mod dotqmail;
pub mod getopt;
pub mod getpw;
pub mod header;
pub mod inject;
pub mod maildir;
pub mod mbox;
pub mod netstring;
pub mod pop3;
pub mod pw2u;
pub mod qmqp;
pub mod qmtp;
pub mod rbl;
pub mod rcptcheck;
pub mod relay;
pub mod rules;
pub mod send;
pub mod serial;
pub mod smtpd;
pub mod splog;
pub mod syslog;
pub mod tcpclient;
pub mod tcpenv;
pub mod tcpserver;
pub mod users;
