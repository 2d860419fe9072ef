//! The access log on a stream (the CLI's stderr): one [`RequestRecord`] line each, written in
//! batches from a thread of its own, at most [`PRINT_RATE`] bytes a second.
//!
//! A client flooding the server must not flood the disk the log is redirected to: past the
//! budget (a [`PRINT_BURST`] after a quiet spell, then [`PRINT_RATE`] a second) lines are
//! dropped, and a line says how many, once a second while it lasts and once when it ends. The
//! request log itself (`GET /_stepmint/v1/requests`, `stepmint log`) is not thinned.

use std::fmt::Write as _;
use std::io::Write;
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use tokio::sync::broadcast;
use tokio::sync::broadcast::error::{RecvError, TryRecvError};

use super::record::RequestRecord;
use super::ring::RequestLog;

/// The bytes of log a second the printer writes once its burst is spent.
pub const PRINT_RATE: usize = 256 * 1024;
/// The bytes it may write at once after a quiet spell.
pub const PRINT_BURST: usize = 1024 * 1024;
/// How often, at most, a flood's dropped lines are counted in the log.
const REPORT_EVERY: Duration = Duration::from_secs(1);
/// How long the printer lets lines gather once it sees traffic; the feed holds
/// [`super::ring::FEED_CAPACITY`] lines, several times what a few milliseconds bring at full
/// load.
const GATHER: Duration = Duration::from_millis(5);
/// The most bytes one `write` carries.
const BATCH: usize = 64 * 1024;
/// Fewer bytes than any access-log line (a time, an address, a method, a path, a status).
const SHORTEST_LINE: usize = 40;

impl RequestLog {
    /// Prints every new record to `out`, one [`RequestRecord`] line each, from a thread of its
    /// own until the log is dropped or `out` fails.
    ///
    /// Records that arrive together are written together: one `write` per batch, not one per
    /// field, so a busy server spends its time serving rather than logging. A reader too slow
    /// to keep up loses lines, never the server's pace, and is told how many it lost; so is one
    /// whose server is flooded past [`PRINT_RATE`].
    pub fn print_to(&self, out: impl Write + Send + 'static) -> std::io::Result<JoinHandle<()>> {
        let feed = self.subscribe();
        std::thread::Builder::new()
            .name("stepmint-log".into())
            .spawn(move || print_feed(feed, out, Instant::now))
    }
}

/// The printer's allowance: refills at [`PRINT_RATE`] up to [`PRINT_BURST`].
struct Budget {
    bytes: f64,
    at: Instant,
}

impl Budget {
    fn full(now: Instant) -> Budget {
        Budget {
            bytes: PRINT_BURST as f64,
            at: now,
        }
    }

    /// The bytes that may be written at `now`.
    fn room(&mut self, now: Instant) -> usize {
        // A batch reads the clock once: its later lines find nothing to add.
        if now > self.at {
            let refill = (now - self.at).as_secs_f64() * PRINT_RATE as f64;
            self.bytes = (self.bytes + refill).min(PRINT_BURST as f64);
            self.at = now;
        }
        self.bytes as usize
    }

    /// Whether `len` bytes may be written at `now`, spending them if so.
    fn spend(&mut self, len: usize, now: Instant) -> bool {
        if self.room(now) < len {
            return false;
        }
        self.bytes -= len as f64;
        true
    }
}

/// The next record, waiting at most `wait` (`Empty` when none came).
fn recv_within(
    feed: &mut broadcast::Receiver<Arc<RequestRecord>>,
    wait: Duration,
) -> Result<Arc<RequestRecord>, TryRecvError> {
    let deadline = Instant::now() + wait;
    loop {
        match feed.try_recv() {
            Err(TryRecvError::Empty) if Instant::now() < deadline => {
                std::thread::sleep(GATHER * 10);
            }
            other => return other,
        }
    }
}

/// The printer's loop; `clock` is the budget's time (fixed in tests).
fn print_feed(
    mut feed: broadcast::Receiver<Arc<RequestRecord>>,
    mut out: impl Write,
    clock: impl Fn() -> Instant,
) {
    let mut batch = String::new();
    let mut budget = Budget::full(clock());
    let mut suppressed = 0u64;
    let mut reported = clock();
    loop {
        // With dropped lines still to count, wait at most a second for more: the count is
        // told even when the flood that caused it has stopped.
        let mut next = if suppressed == 0 {
            feed.blocking_recv().map_err(|e| match e {
                RecvError::Closed => TryRecvError::Closed,
                RecvError::Lagged(n) => TryRecvError::Lagged(n),
            })
        } else {
            recv_within(&mut feed, REPORT_EVERY)
        };
        let mut lines = 0usize;
        // One reading for the batch: its lines arrived together.
        let now = clock();
        let closed = loop {
            match next {
                Ok(record) => {
                    lines += 1;
                    // With no room for even a short line, not even formatted: a flood costs the
                    // printer a count, not its CPU.
                    let mark = batch.len();
                    if budget.room(now) >= SHORTEST_LINE {
                        let _ = writeln!(batch, "{record}");
                    }
                    if batch.len() == mark || !budget.spend(batch.len() - mark, now) {
                        batch.truncate(mark);
                        suppressed += 1;
                    }
                }
                Err(TryRecvError::Lagged(n)) => {
                    lines += 1;
                    let _ = writeln!(batch, "({n} log lines skipped)");
                }
                Err(TryRecvError::Empty) => break false,
                Err(TryRecvError::Closed) => break true,
            }
            if batch.len() > BATCH {
                break false;
            }
            next = feed.try_recv();
        };
        if suppressed > 0
            && (closed || lines == 0 || now.saturating_duration_since(reported) >= REPORT_EVERY)
        {
            let _ = writeln!(
                batch,
                "({suppressed} log lines suppressed: over {} KiB/s of log)",
                PRINT_RATE / 1024
            );
            suppressed = 0;
            reported = now;
        }
        if !batch.is_empty()
            && out
                .write_all(batch.as_bytes())
                .and_then(|()| out.flush())
                .is_err()
        {
            return;
        }
        if closed {
            return;
        }
        // Under load, let a few milliseconds of lines gather rather than wake (and be woken)
        // for each; a lone request is still printed at once.
        if lines > 2 {
            std::thread::sleep(GATHER);
        }
        batch.clear();
    }
}

#[cfg(test)]
mod tests {
    use std::net::SocketAddr;

    use super::super::record::tests::rec;
    use super::super::record::{MAX_FIELD, clip};
    use super::super::ring::FEED_CAPACITY;
    use super::*;

    /// A pipe that hands each `write` call to the test as one chunk.
    struct Chunks(std::sync::mpsc::Sender<Vec<u8>>);

    impl Write for Chunks {
        fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
            self.0
                .send(buf.to_vec())
                .map_err(|_| std::io::Error::other("closed"))?;
            Ok(buf.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    /// Everything the printer writes for `feed` once the log is gone, with time standing still.
    fn printed(feed: broadcast::Receiver<Arc<RequestRecord>>) -> Vec<Vec<u8>> {
        let (tx, rx) = std::sync::mpsc::channel();
        let now = Instant::now();
        print_feed(feed, Chunks(tx), move || now);
        rx.iter().collect()
    }

    #[test]
    fn printer_batches_whole_lines_and_stops_with_the_log() {
        let log = RequestLog::default();
        let feed = log.subscribe();
        let mut r = rec("/2.0/workspaces/a/pipelines-config/identity/oidc/keys.json");
        r.user_agent = Some("curl/8".into());
        r.peer = Some(SocketAddr::from(([127, 0, 0, 1], 5000)));
        r.fault = Some("latency 5ms".into());
        for _ in 0..300 {
            log.push(r.clone());
        }
        drop(log);
        let chunks = printed(feed);
        // Everything was waiting: one write, not one per line (or per field).
        assert_eq!(chunks.len(), 1);
        let text = String::from_utf8(chunks[0].clone()).unwrap();
        assert!(text.ends_with('\n'));
        assert_eq!(text.lines().count(), 300);
        for line in text.lines() {
            assert_eq!(
                line,
                "2023-11-14T22:13:20.123Z 127.0.0.1:5000 GET \
                 /2.0/workspaces/a/pipelines-config/identity/oidc/keys.json 200 0.0ms \"curl/8\" \
                 fault=latency 5ms"
            );
        }
    }

    #[test]
    fn printer_says_how_many_lines_a_slow_reader_lost() {
        let log = RequestLog::default();
        let feed = log.subscribe();
        for _ in 0..FEED_CAPACITY + 76 {
            log.push(rec("/x"));
        }
        drop(log);
        let text: String = printed(feed)
            .into_iter()
            .map(|c| String::from_utf8(c).unwrap())
            .collect();
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines[0], "(76 log lines skipped)");
        assert_eq!(lines.len(), 1 + FEED_CAPACITY);
        assert_eq!(lines[1], "2023-11-14T22:13:20.123Z - GET /x 200 0.0ms -");
    }

    #[test]
    fn a_flood_prints_a_burst_then_says_how_many_lines_it_dropped() {
        let log = RequestLog::default();
        let feed = log.subscribe();
        // The largest line a client can cause: every clipped field full of bytes that print
        // escaped (a C1 control prints as six characters).
        let wide = "\u{9b}".repeat(1024);
        let mut r = rec(&clip(wide.as_bytes(), MAX_FIELD));
        r.user_agent = Some(clip(wide.as_bytes(), MAX_FIELD));
        r.peer = Some(SocketAddr::from(([127, 0, 0, 1], 5000)));
        let line = format!("{r}\n").len();
        for _ in 0..FEED_CAPACITY {
            log.push(r.clone());
        }
        drop(log);
        let chunks = printed(feed);
        assert!(chunks.iter().all(|c| c.len() <= BATCH + line + 100));
        let text: String = chunks
            .into_iter()
            .map(|c| String::from_utf8(c).unwrap())
            .collect();
        let kept = PRINT_BURST / line;
        assert!(kept < FEED_CAPACITY, "the test floods: {line} bytes a line");
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines.len(), kept + 1);
        assert_eq!(
            lines[kept],
            format!(
                "({} log lines suppressed: over 256 KiB/s of log)",
                FEED_CAPACITY - kept
            )
        );
        assert!(text.len() <= PRINT_BURST + 100);
    }

    #[test]
    fn the_budget_refills_at_the_rate_and_no_further_than_the_burst() {
        let t0 = Instant::now();
        let mut b = Budget::full(t0);
        assert!(b.spend(PRINT_BURST, t0));
        assert!(!b.spend(1, t0));
        let t1 = t0 + Duration::from_secs(1);
        assert!(!b.spend(PRINT_RATE + 1, t1));
        assert!(b.spend(PRINT_RATE, t1));
        // An hour of quiet buys one burst, not an hour's worth.
        let t2 = t1 + Duration::from_secs(3600);
        assert!(!b.spend(PRINT_BURST + 1, t2));
        assert!(b.spend(PRINT_BURST, t2));
        // A clock read before the last one (threads) takes nothing back.
        assert!(!b.spend(1, t1));
    }
}
