//! qmail-send and qmail-clean (qmail-send.c, qmail-clean.c), cut by concept:
//! - `addr`: recipient rewriting (envnoathost, percenthack, locals, virtualdomains) and VERP;
//! - `sched`: retry formula, lifetime, time-ordered queues;
//! - `jobs`: the passes, jobs and delivery slots, without I/O;
//! - `spawn`: the spawn protocol's requests and reports;
//! - `clean`: the clean protocol, both ends;
//! - `todo`: preprocessing of new envelopes, committed with fsyncs;
//! - `fresh`: new local messages delivered from memory, written out only if deferred;
//! - `bounce`: failure paragraphs and QSBMF bounces;
//! - `logline`: the activity log's lines;
//! - `controls`: the control files;
//! - `requests`: delete, expire, hold and release on request (beyond qmail);
//! - `daemon` and `finish`: the main loop and the queue files it manages.

pub mod addr;
pub mod bounce;
pub mod clean;
pub mod controls;
pub mod daemon;
pub mod finish;
pub mod fresh;
pub mod jobs;
pub mod logline;
pub mod requests;
pub mod sched;
pub mod spawn;
pub mod todo;

/// The local channel (qmail-lspawn, fds 1 and 2).
pub const LOCAL: usize = 0;
/// The remote channel (qmail-rspawn, fds 3 and 4).
pub const REMOTE: usize = 1;
