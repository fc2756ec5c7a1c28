//! Exit codes: the 0/99/100/111 discipline, and the qmail-queue interface codes.

/// success
pub const OK: u8 = 0;
/// success; skip the rest of the .qmail file
pub const SKIP: u8 = 99;
/// permanent failure, usage error
pub const PERM: u8 = 100;
/// temporary failure
pub const TEMP: u8 = 111;

/// checkpassword(8) exit codes (beside 0 and 111), with Dovecot's 3.
pub mod checkpw {
    /// credentials unacceptable (also: oversized input, unknown user in djb's mode)
    pub const BAD: u8 = 1;
    /// misuse: no program, malformed input
    pub const MISUSE: u8 = 2;
    /// unknown user (Dovecot's convention)
    pub const NOUSER: u8 = 3;
}

/// qmail-queue(8) exit codes.
pub mod qq {
    /// an envelope address is too long
    pub const ADDR_TOO_LONG: u8 = 11;
    /// permanently refused
    pub const REFUSED: u8 = 31;
    /// out of memory
    pub const NOMEM: u8 = 51;
    /// timeout
    pub const TIMEOUT: u8 = 52;
    /// write error or disk full
    pub const WRITE: u8 = 53;
    /// cannot read message or envelope
    pub const READ: u8 = 54;
    /// cannot read configuration
    pub const CONFIG: u8 = 55;
    /// trouble with the home directory
    pub const HOME: u8 = 61;
    /// trouble with the queue directory
    pub const QUEUE: u8 = 62;
    /// trouble in pid/
    pub const PID: u8 = 63;
    /// trouble in mess/
    pub const MESS: u8 = 64;
    /// trouble in intd/
    pub const INTD: u8 = 65;
    /// trouble linking into todo/
    pub const TODO: u8 = 66;
    /// a qmail account or group does not exist (rqmail; qmail compiled the ids in)
    pub const UIDS: u8 = 67;
    /// internal bug (crash signal)
    pub const BUG: u8 = 81;
    /// custom refusal text on fd 6
    pub const CUSTOM: u8 = 82;
    /// envelope format error
    pub const FORMAT: u8 = 91;
}
