//! Minted-token history: what the desktop app and the console show and re-open in their
//! Inspector, kept across restarts in the data directory's `history.json` (newest first,
//! bounded). Every way of minting records, with where the mint came from ([`MintOrigin`]): the
//! console's Crafter, the app, `stepmint mint`, the control API.
//!
//! A control-API mint is the hot path (`scripts/bench` measures it): it is queued
//! ([`History::enqueue`]) and written by one flush for everything queued meanwhile
//! ([`History::flush`]), so a burst of mints costs a few file writes, not one each. Listing
//! flushes first, so a mint is listed as soon as its answer has been sent.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};

use serde::{Deserialize, Serialize};

use crate::error::Result;
use crate::issuer::MintedToken;
use crate::store::{self, DataDir};

/// How many entries are kept.
pub const HISTORY_LIMIT: usize = 200;
/// Tokens longer than this are recorded without their text.
pub const HISTORY_MAX_TOKEN: usize = 64 * 1024;

/// Where a mint came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ts_rs::TS)]
#[serde(rename_all = "snake_case")]
pub enum MintOrigin {
    /// The web console's Crafter.
    Console,
    /// The desktop app.
    App,
    /// `stepmint mint`.
    Cli,
    /// The control API (a script, a pipeline, `curl`).
    Api,
}

/// One minted token.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ts_rs::TS)]
pub struct HistoryEntry {
    /// Increasing id.
    pub id: u64,
    /// When it was minted (Unix seconds).
    pub time: i64,
    /// The workspace.
    pub workspace: String,
    /// The catalogue case, if crafted from one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub case: Option<String>,
    /// `sub`, or the case name.
    pub summary: String,
    /// The token (empty when it was too long to keep).
    pub token: String,
    /// Where it was minted (none for entries written before origins were kept).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub origin: Option<MintOrigin>,
}

impl HistoryEntry {
    /// The entry for `minted` (its id is given when it is written).
    fn of(minted: &MintedToken, workspace: &str, now: i64, origin: MintOrigin) -> HistoryEntry {
        HistoryEntry {
            id: 0,
            time: now,
            workspace: workspace.to_string(),
            case: minted.case.as_ref().map(|c| c.name.clone()),
            summary: match &minted.case {
                Some(c) => c.name.clone(),
                None => minted
                    .claims
                    .get("sub")
                    .and_then(|s| s.as_str())
                    .unwrap_or_default()
                    .to_string(),
            },
            token: if minted.token.len() <= HISTORY_MAX_TOKEN {
                minted.token.clone()
            } else {
                String::new()
            },
            origin: Some(origin),
        }
    }
}

/// Mints waiting to be written, shared by every clone of one [`History`].
#[derive(Debug, Default)]
struct Queue {
    /// Oldest first, at most [`HISTORY_LIMIT`] (older ones would be dropped by the write).
    waiting: Mutex<Vec<HistoryEntry>>,
    /// Held while a batch is written, so a list after a flush sees every earlier mint.
    writing: Mutex<()>,
    /// Whether a flush has been asked for and not yet started.
    scheduled: AtomicBool,
}

/// The history file of a data directory.
#[derive(Debug, Clone)]
pub struct History {
    data: DataDir,
    queue: Arc<Queue>,
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    // A panicked writer leaves plain data behind; the file itself is written atomically.
    m.lock().unwrap_or_else(|e| e.into_inner())
}

impl History {
    /// The history of `data`.
    pub fn new(data: DataDir) -> History {
        History {
            data,
            queue: Arc::default(),
        }
    }

    fn path(&self) -> std::path::PathBuf {
        self.data.history_file()
    }

    /// Every entry, newest first (as written: [`History::flush`] first for queued mints).
    pub fn list(&self) -> Result<Vec<HistoryEntry>> {
        Ok(store::read_json(&self.path())?.unwrap_or_default())
    }

    /// Writes `entries` (oldest first) on top of the file, numbering them on.
    fn write(&self, entries: Vec<HistoryEntry>) -> Result<Vec<HistoryEntry>> {
        let _lock = self.data.lock()?;
        let mut all = self.list()?;
        let first = all.first().map_or(1, |e| e.id + 1);
        let mut written = Vec::with_capacity(entries.len());
        for (id, mut e) in (first..).zip(entries) {
            e.id = id;
            written.push(e.clone());
            all.insert(0, e);
        }
        all.truncate(HISTORY_LIMIT);
        store::write_json(&self.path(), &all)?;
        Ok(written)
    }

    /// Records `minted` now and returns its entry.
    pub fn append(
        &self,
        minted: &MintedToken,
        workspace: &str,
        now: i64,
        origin: MintOrigin,
    ) -> Result<HistoryEntry> {
        let written = self.write(vec![HistoryEntry::of(minted, workspace, now, origin)])?;
        Ok(written.into_iter().next().unwrap_or_else(|| {
            // `write` returns one entry per entry given.
            HistoryEntry::of(minted, workspace, now, origin)
        }))
    }

    /// Records `minted` now, or, when the history cannot be written (a full disk, a history
    /// file that is not a file), says so in its `warning`: a token already minted is never lost
    /// because its record could not be kept.
    pub fn keep(&self, minted: &mut MintedToken, workspace: &str, now: i64, origin: MintOrigin) {
        if let Err(e) = self.append(minted, workspace, now, origin) {
            minted.warning = Some(self.not_kept(&e));
        }
    }

    /// The warning for a mint whose record could not be written.
    pub fn not_kept(&self, e: &crate::error::Error) -> String {
        format!(
            "minted, but not kept in the history ({}): {e}",
            self.path().display()
        )
    }

    /// Queues `minted` for the next [`History::flush`]; true when the caller should run one
    /// (none is pending yet).
    pub fn enqueue(
        &self,
        minted: &MintedToken,
        workspace: &str,
        now: i64,
        origin: MintOrigin,
    ) -> bool {
        let entry = HistoryEntry::of(minted, workspace, now, origin);
        {
            let mut waiting = lock(&self.queue.waiting);
            waiting.push(entry);
            if waiting.len() > HISTORY_LIMIT {
                let extra = waiting.len() - HISTORY_LIMIT;
                waiting.drain(..extra);
            }
        }
        !self.queue.scheduled.swap(true, Ordering::AcqRel)
    }

    /// Writes every queued mint in one write; returns how many. Blocks on the file.
    pub fn flush(&self) -> Result<usize> {
        let _writing = lock(&self.queue.writing);
        self.queue.scheduled.store(false, Ordering::Release);
        let batch = std::mem::take(&mut *lock(&self.queue.waiting));
        if batch.is_empty() {
            return Ok(0);
        }
        Ok(self.write(batch)?.len())
    }

    /// Forgets everything (queued mints too).
    pub fn clear(&self) -> Result<()> {
        let _writing = lock(&self.queue.writing);
        lock(&self.queue.waiting).clear();
        let _lock = self.data.lock()?;
        store::write_json(&self.path(), &Vec::<HistoryEntry>::new())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    /// A token as the history sees it: only its `sub` is summarised.
    fn minted(sub: &str) -> MintedToken {
        MintedToken {
            token: format!("t-{sub}"),
            header: json!({}),
            claims: json!({ "sub": sub }),
            case: None,
            notes: vec![],
            warning: None,
        }
    }

    #[test]
    fn bounded_newest_first_and_persistent() {
        let tmp = tempfile::tempdir().unwrap();
        let h = History::new(DataDir::open(tmp.path()).unwrap());
        for i in 0..HISTORY_LIMIT + 3 {
            h.append(&minted(&i.to_string()), "acme", i as i64, MintOrigin::Cli)
                .unwrap();
        }
        let all = History::new(DataDir::open(tmp.path()).unwrap())
            .list()
            .unwrap();
        assert_eq!(all.len(), HISTORY_LIMIT);
        assert_eq!(all[0].summary, (HISTORY_LIMIT + 2).to_string());
        assert!(all[0].id > all[1].id);
        assert_eq!(all[0].origin, Some(MintOrigin::Cli));
        h.clear().unwrap();
        assert!(h.list().unwrap().is_empty());
    }

    #[test]
    fn a_history_that_cannot_be_written_leaves_the_token_with_a_warning() {
        let tmp = tempfile::tempdir().unwrap();
        let data = DataDir::open(tmp.path()).unwrap();
        // A directory where the file should be: neither read nor replaced.
        std::fs::create_dir(data.history_file()).unwrap();
        let h = History::new(data);
        let mut minted = minted("s");
        h.keep(&mut minted, "acme", 1, MintOrigin::App);
        assert_eq!(minted.token, "t-s");
        let warning = minted.warning.unwrap();
        assert!(warning.contains("not kept in the history"), "{warning}");
        assert!(warning.contains("history.json"), "{warning}");
    }

    #[test]
    fn queued_mints_are_written_together_by_one_flush_with_their_origin() {
        let tmp = tempfile::tempdir().unwrap();
        let h = History::new(DataDir::open(tmp.path()).unwrap());
        assert!(
            h.enqueue(&minted("a"), "acme", 1, MintOrigin::Api),
            "the first asks for a flush"
        );
        assert!(
            !h.clone().enqueue(&minted("b"), "acme", 2, MintOrigin::Api),
            "one is pending"
        );
        assert!(h.list().unwrap().is_empty(), "not written before the flush");
        assert_eq!(h.flush().unwrap(), 2);
        let all = h.list().unwrap();
        assert_eq!(
            all.iter()
                .map(|e| (e.summary.as_str(), e.id))
                .collect::<Vec<_>>(),
            [("b", 2), ("a", 1)]
        );
        assert!(all.iter().all(|e| e.origin == Some(MintOrigin::Api)));
        assert_eq!(h.flush().unwrap(), 0);
        assert!(
            h.enqueue(&minted("c"), "acme", 3, MintOrigin::Api),
            "a new flush after one ran"
        );
    }
}
