//! Black-box tests of the programs, one module per program (see t/common for the harness).

mod common;

#[path = "addcr.rs"]
mod addcr;
#[path = "argv0.rs"]
mod argv0;
#[path = "bouncesaying.rs"]
mod bouncesaying;
#[path = "cdb.rs"]
mod cdb;
#[path = "chain-crash.rs"]
mod chain_crash;
#[path = "checkpassword.rs"]
mod checkpassword;
#[path = "condredirect.rs"]
mod condredirect;
#[path = "datemail.rs"]
mod datemail;
#[path = "delcr.rs"]
mod delcr;
#[path = "dot-forward.rs"]
mod dot_forward;
#[path = "except.rs"]
mod except;
#[path = "fastforward.rs"]
mod fastforward;
#[path = "fixcrio.rs"]
mod fixcrio;
#[path = "forward.rs"]
mod forward;
#[path = "install.rs"]
mod install;
#[path = "maildir2mbox.rs"]
mod maildir2mbox;
#[path = "maildirmake.rs"]
mod maildirmake;
#[path = "maildirqmtp.rs"]
mod maildirqmtp;
#[path = "maildirserial.rs"]
mod maildirserial;
#[path = "maildirsmtp.rs"]
mod maildirsmtp;
#[path = "maildirwatch.rs"]
mod maildirwatch;
#[path = "mailsubj.rs"]
mod mailsubj;
#[path = "man.rs"]
mod man;
#[path = "manifest.rs"]
mod manifest;
#[path = "mconnect.rs"]
mod mconnect;
#[path = "mconnect-io.rs"]
mod mconnect_io;
#[path = "newaliases.rs"]
mod newaliases;
#[path = "operate.rs"]
mod operate;
#[path = "predate.rs"]
mod predate;
#[path = "preline.rs"]
mod preline;
#[path = "qbiff.rs"]
mod qbiff;
#[path = "qmail-analog.rs"]
mod qmail_analog;
#[path = "qmail-check.rs"]
mod qmail_check;
#[path = "qmail-clean.rs"]
mod qmail_clean;
#[path = "qmail-getpw.rs"]
mod qmail_getpw;
#[path = "qmail-inject.rs"]
mod qmail_inject;
#[path = "qmail-local.rs"]
mod qmail_local;
#[path = "qmail-lspawn.rs"]
mod qmail_lspawn;
#[path = "qmail-newmrh.rs"]
mod qmail_newmrh;
#[path = "qmail-newu.rs"]
mod qmail_newu;
#[path = "qmail-pop3d.rs"]
mod qmail_pop3d;
#[path = "qmail-popup.rs"]
mod qmail_popup;
#[path = "qmail-pw2u.rs"]
mod qmail_pw2u;
#[path = "qmail-qdel.rs"]
mod qmail_qdel;
#[path = "qmail-qhold.rs"]
mod qmail_qhold;
#[path = "qmail-qmqpc.rs"]
mod qmail_qmqpc;
#[path = "qmail-qmqpd.rs"]
mod qmail_qmqpd;
#[path = "qmail-qmsg.rs"]
mod qmail_qmsg;
#[path = "qmail-qmtpd.rs"]
mod qmail_qmtpd;
#[path = "qmail-qread.rs"]
mod qmail_qread;
#[path = "qmail-qstat.rs"]
mod qmail_qstat;
#[path = "qmail-queue.rs"]
mod qmail_queue;
#[path = "qmail-rcptcheck.rs"]
mod qmail_rcptcheck;
#[path = "qmail-remote.rs"]
mod qmail_remote;
#[path = "qmail-rspawn.rs"]
mod qmail_rspawn;
#[path = "qmail-send.rs"]
mod qmail_send;
#[path = "qmail-showctl.rs"]
mod qmail_showctl;
#[path = "qmail-smtpd.rs"]
mod qmail_smtpd;
#[path = "qmail-start.rs"]
mod qmail_start;
#[path = "qmail-tcpok.rs"]
mod qmail_tcpok;
#[path = "qmail-tcpto.rs"]
mod qmail_tcpto;
#[path = "qreceipt.rs"]
mod qreceipt;
#[path = "rblsmtpd.rs"]
mod rblsmtpd;
#[path = "recordio.rs"]
mod recordio;
#[path = "remote-delivery.rs"]
mod remote_delivery;
#[path = "sendmail.rs"]
mod sendmail;
#[path = "serialqmtp.rs"]
mod serialqmtp;
#[path = "serialsmtp.rs"]
mod serialsmtp;
#[path = "setlock.rs"]
mod setlock;
#[path = "splogger.rs"]
mod splogger;
#[path = "tcp-env.rs"]
mod tcp_env;
#[path = "tcpclient.rs"]
mod tcpclient;
#[path = "tcprules.rs"]
mod tcprules;
#[path = "tcprulescheck.rs"]
mod tcprulescheck;
#[path = "tcpserver.rs"]
mod tcpserver;
