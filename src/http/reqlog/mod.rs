//! The request log: what relying parties (and everyone else) asked of the server.
//!
//! A bounded ring of records with increasing ids (`ring`), readable through the control API
//! (`GET /_stepmint/v1/requests?since=ID`, a page at a time) and streamed to subscribers (the
//! CLI prints each to stderr, rate-limited: `print`; the desktop app's Log screen updates
//! live). What a client sends costs the log a bounded amount however large it is: each
//! client-chosen field is clipped (`record`), and each client address gets a share of the ring.
//! Times are wall-clock: they record when something happened, which a fixed token clock must
//! not hide.

mod pending;
mod print;
mod record;
mod ring;

pub use pending::Pending;
pub use print::{PRINT_BURST, PRINT_RATE};
pub use record::{Endpoint, MAX_FIELD, PeerAddr, RequestRecord};
pub use ring::{LOG_CAPACITY, MAX_PAGE, RequestLog};
