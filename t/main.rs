//! Black-box tests of the programs, one module per program (see t/common for the harness).

mod common;

#[path = "maildirmake.rs"]
mod maildirmake;
#[path = "manifest.rs"]
mod manifest;
#[path = "qmail-clean.rs"]
mod qmail_clean;
#[path = "qmail-queue.rs"]
mod qmail_queue;
#[path = "qmail-send.rs"]
mod qmail_send;
