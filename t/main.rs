//! Black-box tests of the programs, one module per program (see t/common for the harness).

mod common;

#[path = "maildirmake.rs"]
mod maildirmake;
#[path = "manifest.rs"]
mod manifest;
#[path = "qmail-inject.rs"]
mod qmail_inject;
#[path = "sendmail.rs"]
mod sendmail;
