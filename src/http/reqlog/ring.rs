//! The log itself: a bounded ring of [`RequestRecord`]s with increasing ids, and a live feed of
//! new ones.
//!
//! Each client address gets a share of the ring: when it is full, the oldest record of the
//! address holding the most records goes, so one client's flood pushes out only its own
//! records, never another relying party's.

use std::collections::{HashMap, VecDeque};
use std::net::IpAddr;
use std::sync::{Arc, Mutex};
use std::time::SystemTime;

use tokio::sync::broadcast;

use super::record::{Endpoint, LogTime, RequestRecord};

/// How many records the log keeps.
pub const LOG_CAPACITY: usize = 2000;
/// The most records one read returns (`GET /requests?limit=N` above it reads as this many;
/// page on with `since`).
pub const MAX_PAGE: usize = 1000;
/// How many new records the live feed holds for a subscriber that has not read them yet.
pub const FEED_CAPACITY: usize = 2048;

/// The log itself.
#[derive(Debug)]
pub struct RequestLog {
    inner: Mutex<Ring>,
    // Shared, not cloned: the ring and every subscriber hold the same record.
    tx: broadcast::Sender<Arc<RequestRecord>>,
}

#[derive(Debug, Default)]
struct Ring {
    next_id: u64,
    records: VecDeque<Arc<RequestRecord>>,
    /// How many of `records` each client address holds (`None`: the server's own events).
    held: HashMap<Option<IpAddr>, usize>,
    /// A client holding at least as many records as any other, once the ring is full.
    heaviest: Option<Option<IpAddr>>,
}

impl Ring {
    /// Adds `record`, evicting when the ring is full: the oldest record of the client holding
    /// the most (counting `record`) goes.
    fn add(&mut self, record: Arc<RequestRecord>) {
        let client = record.client();
        if self.records.len() >= LOG_CAPACITY && self.heaviest == Some(client) {
            // The usual case, one busy client (or a flooder): it gives up its own oldest record,
            // and no count changes. No hashing on the hot path.
            match self.records.iter().position(|r| r.client() == client) {
                Some(0) | None => self.records.pop_front(),
                Some(at) => self.records.remove(at),
            };
            self.records.push_back(record);
            return;
        }
        // Counted before the eviction, so a client that has just drawn level with another gives
        // up its own oldest record rather than taking one of the other's.
        *self.held.entry(client).or_default() += 1;
        if self.records.len() >= LOG_CAPACITY {
            self.evict();
        }
        self.records.push_back(record);
    }

    fn evict(&mut self) {
        let Some(most) = self.held.values().copied().max() else {
            return;
        };
        let heaviest: Vec<Option<IpAddr>> = self
            .held
            .iter()
            .filter(|(_, n)| **n == most)
            .map(|(c, _)| *c)
            .collect();
        // Ties go to the client whose record is the oldest, so equal shares age out in order.
        // Under a flood the flooder's oldest record is near the front: a short scan.
        let at = self
            .records
            .iter()
            .position(|r| heaviest.contains(&r.client()))
            .unwrap_or(0);
        if let Some(gone) = self.records.remove(at) {
            let client = gone.client();
            if let Some(n) = self.held.get_mut(&client) {
                *n -= 1;
                if *n == 0 {
                    self.held.remove(&client);
                }
            }
        }
        self.heaviest = self.held.iter().max_by_key(|(_, n)| **n).map(|(c, _)| *c);
    }
}

impl Default for RequestLog {
    fn default() -> Self {
        RequestLog {
            inner: Mutex::new(Ring {
                next_id: 1,
                ..Ring::default()
            }),
            tx: broadcast::channel(FEED_CAPACITY).0,
        }
    }
}

impl RequestLog {
    /// Appends a record, assigning its id.
    pub fn push(&self, mut record: RequestRecord) {
        let record = {
            let mut ring = self.inner.lock().unwrap_or_else(|p| p.into_inner());
            record.id = ring.next_id;
            ring.next_id += 1;
            let record = Arc::new(record);
            // Only a reference: an evicted record may still be in the feed below.
            ring.add(record.clone());
            record
        };
        // No subscribers is fine.
        let _ = self.tx.send(record);
    }

    /// Records something the server did on its own (a scenario step firing) in the same feed,
    /// as an `EVENT` record whose path says what happened.
    pub fn event(&self, workspace: Option<String>, what: String) {
        self.push(RequestRecord {
            id: 0,
            time: LogTime(SystemTime::now()),
            peer: None,
            method: "EVENT".into(),
            path: what,
            status: 0,
            user_agent: None,
            endpoint: Endpoint::Other,
            workspace,
            duration_ms: 0.0,
            error: None,
            fault: None,
            fault_summary: None,
        });
    }

    /// Records with an id above `since`, oldest first, at most `limit` (and at most
    /// [`MAX_PAGE`]: read on from the last id for more).
    pub fn since(&self, since: u64, limit: usize, include_control: bool) -> Vec<RequestRecord> {
        let ring = self.inner.lock().unwrap_or_else(|p| p.into_inner());
        // Ids increase along the ring (eviction keeps the order), so the start is a search.
        let start = ring.records.partition_point(|r| r.id <= since);
        ring.records
            .range(start..)
            .filter(|r| include_control || r.endpoint != Endpoint::Control)
            .take(limit.min(MAX_PAGE))
            .map(|r| RequestRecord::clone(r))
            .collect()
    }

    /// The newest `limit` records with an id above `since` (at most [`MAX_PAGE`]), oldest
    /// first, and how many older ones above `since` were left out: what `stepmint log` shows
    /// first, so the faults just injected and the request just made are never the ones cut.
    pub fn newest(
        &self,
        since: u64,
        limit: usize,
        include_control: bool,
    ) -> (Vec<RequestRecord>, usize) {
        let ring = self.inner.lock().unwrap_or_else(|p| p.into_inner());
        let start = ring.records.partition_point(|r| r.id <= since);
        let matching: Vec<&Arc<RequestRecord>> = ring
            .records
            .range(start..)
            .filter(|r| include_control || r.endpoint != Endpoint::Control)
            .collect();
        let keep = limit.min(MAX_PAGE).min(matching.len());
        let left_out = matching.len() - keep;
        let page = matching[left_out..]
            .iter()
            .map(|r| RequestRecord::clone(r))
            .collect();
        (page, left_out)
    }

    /// How many records have an id above `since`.
    pub fn count_after(&self, since: u64, include_control: bool) -> usize {
        let ring = self.inner.lock().unwrap_or_else(|p| p.into_inner());
        let start = ring.records.partition_point(|r| r.id <= since);
        ring.records
            .range(start..)
            .filter(|r| include_control || r.endpoint != Endpoint::Control)
            .count()
    }

    /// A live feed of new records.
    pub fn subscribe(&self) -> broadcast::Receiver<Arc<RequestRecord>> {
        self.tx.subscribe()
    }
}

#[cfg(test)]
mod tests {
    use std::net::SocketAddr;

    use super::super::record::tests::rec;
    use super::*;

    const JWKS: &str = "/2.0/workspaces/a/pipelines-config/identity/oidc/keys.json";

    fn all(log: &RequestLog) -> Vec<RequestRecord> {
        let mut out: Vec<RequestRecord> = Vec::new();
        loop {
            let page = log.since(out.last().map_or(0, |r| r.id), usize::MAX, true);
            if page.is_empty() {
                return out;
            }
            out.extend(page);
        }
    }

    fn from(ip: [u8; 4], port: u16, path: &str) -> RequestRecord {
        let mut r = rec(path);
        r.peer = Some(SocketAddr::from((ip, port)));
        r
    }

    #[test]
    fn ring_is_bounded_and_filters_control() {
        let log = RequestLog::default();
        for _ in 0..LOG_CAPACITY + 5 {
            log.push(rec(JWKS));
        }
        log.push(rec("/_stepmint/v1/health"));
        let all = all(&log);
        assert_eq!(all.len(), LOG_CAPACITY);
        assert_eq!(all.last().unwrap().endpoint, Endpoint::Control);
        assert_eq!(all[0].id, 7);
        assert!(all.windows(2).all(|w| w[0].id < w[1].id));
        let rp = log.since(0, usize::MAX, false);
        assert!(
            rp.iter()
                .all(|r| r.endpoint == Endpoint::Jwks && r.workspace.as_deref() == Some("a"))
        );
        assert_eq!(log.since(all[all.len() - 2].id, 10, true).len(), 1);
    }

    #[test]
    fn one_read_returns_at_most_a_page() {
        let log = RequestLog::default();
        for _ in 0..LOG_CAPACITY {
            log.push(rec(JWKS));
        }
        let page = log.since(0, 100_000, true);
        assert_eq!(page.len(), MAX_PAGE);
        assert_eq!(page[0].id, 1);
        let rest = log.since(page[MAX_PAGE - 1].id, 100_000, true);
        assert_eq!(rest.len(), LOG_CAPACITY - MAX_PAGE);
        assert_eq!(log.since(0, 3, true).len(), 3);
        // The newest page: the last records, oldest first, and how many older were cut.
        let (tail, cut) = log.newest(0, 3, true);
        let ids: Vec<u64> = tail.iter().map(|r| r.id).collect();
        let last = LOG_CAPACITY as u64;
        assert_eq!(ids, [last - 2, last - 1, last]);
        assert_eq!(cut, LOG_CAPACITY - 3);
        // Still at most a page.
        let (tail, cut) = log.newest(0, 100_000, true);
        assert_eq!((tail.len(), cut), (MAX_PAGE, LOG_CAPACITY - MAX_PAGE));
        assert_eq!(tail.last().map(|r| r.id), Some(last));
        assert_eq!(log.newest(last - 3, 100_000, true).1, 0);
        assert_eq!(log.count_after(3, true), LOG_CAPACITY - 3);
    }

    #[test]
    fn a_flood_from_one_client_pushes_out_only_its_own_records() {
        let log = RequestLog::default();
        // A relying party's few requests, and an event of the server's own, come first...
        for port in 0..10 {
            log.push(from([127, 0, 0, 2], 4000 + port, JWKS));
        }
        log.event(None, "fault set".into());
        // ...then one client (over many connections) sends five times what the ring holds.
        for n in 0..LOG_CAPACITY * 5 {
            log.push(from([127, 0, 0, 1], 5000 + (n % 8) as u16, "/flood"));
        }
        let all = all(&log);
        assert_eq!(all.len(), LOG_CAPACITY);
        let theirs = |ip: [u8; 4]| {
            all.iter()
                .filter(|r| r.peer.map(|p| p.ip()) == Some(IpAddr::from(ip)))
                .count()
        };
        assert_eq!(
            theirs([127, 0, 0, 2]),
            10,
            "the relying party's records stay"
        );
        assert_eq!(all.iter().filter(|r| r.peer.is_none()).count(), 1);
        assert_eq!(theirs([127, 0, 0, 1]), LOG_CAPACITY - 11);
        // The flooder's newest records are the ones kept.
        assert_eq!(all.last().unwrap().id, (10 + 1 + LOG_CAPACITY * 5) as u64);
        assert!(all.windows(2).all(|w| w[0].id < w[1].id));
    }

    #[test]
    fn two_busy_clients_end_up_with_equal_shares() {
        let log = RequestLog::default();
        for _ in 0..LOG_CAPACITY {
            log.push(from([10, 0, 0, 1], 1, JWKS));
        }
        for _ in 0..LOG_CAPACITY {
            log.push(from([10, 0, 0, 2], 1, JWKS));
        }
        let all = all(&log);
        let a = all
            .iter()
            .filter(|r| r.peer.unwrap().ip() == IpAddr::from([10, 0, 0, 1]))
            .count();
        assert_eq!(a, LOG_CAPACITY / 2);
        assert_eq!(all.len(), LOG_CAPACITY);
    }
}
