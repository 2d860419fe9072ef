//! Minted-token history: what the desktop app shows and re-opens in its Inspector, kept across
//! restarts in the data directory's `history.json` (newest first, bounded).

use serde::{Deserialize, Serialize};

use crate::error::Result;
use crate::issuer::MintedToken;
use crate::store::{self, DataDir};

/// How many entries are kept.
pub const HISTORY_LIMIT: usize = 200;
/// Tokens longer than this are recorded without their text.
pub const HISTORY_MAX_TOKEN: usize = 64 * 1024;

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
}

/// The history file of a data directory.
#[derive(Debug, Clone)]
pub struct History {
    data: DataDir,
}

impl History {
    /// The history of `data`.
    pub fn new(data: DataDir) -> History {
        History { data }
    }

    fn path(&self) -> std::path::PathBuf {
        self.data.history_file()
    }

    /// Every entry, newest first.
    pub fn list(&self) -> Result<Vec<HistoryEntry>> {
        Ok(store::read_json(&self.path())?.unwrap_or_default())
    }

    /// Records `minted` and returns its entry.
    pub fn append(&self, minted: &MintedToken, workspace: &str, now: i64) -> Result<HistoryEntry> {
        let _lock = self.data.lock()?;
        let mut all = self.list()?;
        let entry = HistoryEntry {
            id: all.first().map_or(1, |e| e.id + 1),
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
        };
        all.insert(0, entry.clone());
        all.truncate(HISTORY_LIMIT);
        store::write_json(&self.path(), &all)?;
        Ok(entry)
    }

    /// Records `minted`, or, when the history cannot be written (a full disk, a history file
    /// that is not a file), says so in its `warning`: a token already minted is never lost
    /// because its record could not be kept.
    pub fn keep(&self, minted: &mut MintedToken, workspace: &str, now: i64) {
        if let Err(e) = self.append(minted, workspace, now) {
            minted.warning = Some(format!(
                "minted, but not kept in the history ({}): {e}",
                self.path().display()
            ));
        }
    }

    /// Forgets everything.
    pub fn clear(&self) -> Result<()> {
        let _lock = self.data.lock()?;
        store::write_json(&self.path(), &Vec::<HistoryEntry>::new())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn bounded_newest_first_and_persistent() {
        let tmp = tempfile::tempdir().unwrap();
        let h = History::new(DataDir::open(tmp.path()).unwrap());
        let minted = |sub: &str| MintedToken {
            token: format!("t-{sub}"),
            header: json!({}),
            claims: json!({ "sub": sub }),
            case: None,
            notes: vec![],
            warning: None,
        };
        for i in 0..HISTORY_LIMIT + 3 {
            h.append(&minted(&i.to_string()), "acme", i as i64).unwrap();
        }
        let all = History::new(DataDir::open(tmp.path()).unwrap())
            .list()
            .unwrap();
        assert_eq!(all.len(), HISTORY_LIMIT);
        assert_eq!(all[0].summary, (HISTORY_LIMIT + 2).to_string());
        assert!(all[0].id > all[1].id);
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
        let mut minted = MintedToken {
            token: "t".into(),
            header: json!({}),
            claims: json!({ "sub": "s" }),
            case: None,
            notes: vec![],
            warning: None,
        };
        h.keep(&mut minted, "acme", 1);
        assert_eq!(minted.token, "t");
        let warning = minted.warning.unwrap();
        assert!(warning.contains("not kept in the history"), "{warning}");
        assert!(warning.contains("history.json"), "{warning}");
    }
}
