//! A workspace's key ring: which keys exist, which one signs, which are published, until when.
//!
//! Persisted as `keys.json` (the states) beside `keys/{kid}.pem` (the private keys, 0600) in the
//! workspace directory. Every change writes the PEM first and the ring last, each atomically, so
//! a crash at any point leaves a ring that only names keys whose files exist.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use serde::{Deserialize, Serialize};

use super::signing::{KeyAlg, PublicJwk, SigningKey};
use crate::error::{Error, Result};
use crate::store;

/// Where a key is in its life.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "state", rename_all = "snake_case")]
pub enum KeyState {
    /// Generated but not in the JWKS; published automatically at `publish_at`, if set.
    Staged {
        /// When it appears in the JWKS (Unix seconds), if scheduled.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        publish_at: Option<i64>,
    },
    /// Signs new step tokens; published.
    Active,
    /// Published, not used for step tokens (extra ES256/EdDSA keys).
    Published,
    /// Published until `until`, then dropped from the JWKS (the old key after a rotation).
    Retiring {
        /// When it leaves the JWKS (Unix seconds).
        until: i64,
    },
}

/// One key as the control API, the CLI and the app list it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ts_rs::TS)]
pub struct KeyView {
    /// The key id.
    pub kid: String,
    /// Its algorithm.
    pub alg: KeyAlg,
    /// When it was generated (Unix seconds).
    pub created: i64,
    /// Whether it is in the JWKS now.
    pub published: bool,
    /// Its state, as of now.
    #[serde(flatten)]
    pub status: KeyStatus,
}

/// A key's state as listed: [`KeyState`] as of a moment, so a staged key whose time has come
/// reads as published.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ts_rs::TS)]
#[serde(tag = "state", rename_all = "snake_case")]
pub enum KeyStatus {
    /// Not in the JWKS; published at `publish_at`, if scheduled.
    Staged {
        /// When it appears in the JWKS (Unix seconds), if scheduled.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        publish_at: Option<i64>,
    },
    /// Signs new step tokens.
    Active,
    /// In the JWKS, not signing step tokens; `published_at` for a staged key published on
    /// schedule.
    Published {
        /// When a scheduled key was published (Unix seconds).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        published_at: Option<i64>,
    },
    /// In the JWKS until `until` (Unix seconds).
    Retiring {
        /// When it leaves the JWKS.
        until: i64,
    },
}

impl KeyState {
    /// Whether a key in this state is in the JWKS at `now`.
    pub fn is_published(&self, now: i64) -> bool {
        match *self {
            KeyState::Staged { publish_at } => publish_at.is_some_and(|t| t <= now),
            KeyState::Active | KeyState::Published => true,
            KeyState::Retiring { until } => until > now,
        }
    }
}

/// One key and its state.
#[derive(Debug, Clone)]
pub struct KeyEntry {
    /// The key.
    pub key: Arc<SigningKey>,
    /// Its state.
    pub state: KeyState,
    /// For the active key: it signs but stays out of the JWKS until then (a fault scenario).
    pub hidden_until: Option<i64>,
}

impl KeyEntry {
    fn is_published(&self, now: i64) -> bool {
        self.state.is_published(now) && self.hidden_until.is_none_or(|t| t <= now)
    }
}

#[derive(Debug, Serialize, Deserialize)]
struct RingFile {
    keys: Vec<Record>,
}

#[derive(Debug, Serialize, Deserialize)]
struct Record {
    kid: String,
    alg: KeyAlg,
    created: i64,
    #[serde(flatten)]
    state: KeyState,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    hidden_until: Option<i64>,
}

/// A workspace's keys. Exactly one is [`KeyState::Active`].
#[derive(Debug, Clone)]
pub struct KeyRing {
    dir: PathBuf,
    entries: Vec<KeyEntry>,
}

impl KeyRing {
    /// Loads the ring kept in `dir` (a workspace directory), creating a first RS256 key if there
    /// is none. The caller should hold the data directory lock.
    pub fn load_or_create(dir: &Path, now: i64) -> Result<KeyRing> {
        let ring_path = store::keyring_file(dir);
        let Some(file) = store::read_json::<RingFile>(&ring_path)? else {
            let mut ring = KeyRing {
                dir: dir.to_path_buf(),
                entries: Vec::new(),
            };
            ring.insert(SigningKey::generate(KeyAlg::Rs256, now)?, KeyState::Active)?;
            return Ok(ring);
        };
        let mut entries = Vec::with_capacity(file.keys.len());
        for record in file.keys {
            let path = key_path(dir, &record.kid);
            let pem = store::read_optional(&path)?.ok_or_else(|| {
                Error::corrupt(
                    &ring_path,
                    format!("lists key {} but {} is missing", record.kid, path.display()),
                )
            })?;
            let key =
                SigningKey::from_pkcs8_pem(record.alg, &pem, record.created).map_err(|e| {
                    Error::corrupt(
                        &path,
                        format!("not a usable {} private key: {e}", record.alg),
                    )
                })?;
            if key.kid() != record.kid {
                return Err(Error::corrupt(
                    &path,
                    format!(
                        "its thumbprint is {}, not the kid {} it is filed under",
                        key.kid(),
                        record.kid
                    ),
                ));
            }
            entries.push(KeyEntry {
                key: Arc::new(key),
                state: record.state,
                hidden_until: record.hidden_until,
            });
        }
        let mut kids: Vec<&str> = entries.iter().map(|e| e.key.kid()).collect();
        kids.sort_unstable();
        if let Some(w) = kids.windows(2).find(|w| w[0] == w[1]) {
            // Two entries for one key would publish an ambiguous JWKS.
            return Err(Error::corrupt(
                &ring_path,
                format!("lists key {} twice", w[0]),
            ));
        }
        let active = entries
            .iter()
            .filter(|e| e.state == KeyState::Active)
            .count();
        if active != 1 {
            return Err(Error::corrupt(
                &ring_path,
                format!("{active} active keys; exactly one must sign"),
            ));
        }
        if entries
            .iter()
            .any(|e| e.state == KeyState::Active && e.key.alg() != KeyAlg::Rs256)
        {
            return Err(Error::corrupt(
                &ring_path,
                "the active key must be RS256, as Bitbucket's is",
            ));
        }
        Ok(KeyRing {
            dir: dir.to_path_buf(),
            entries,
        })
    }

    fn save(&self) -> Result<()> {
        let file = RingFile {
            keys: self
                .entries
                .iter()
                .map(|e| Record {
                    kid: e.key.kid().to_string(),
                    alg: e.key.alg(),
                    created: e.key.created(),
                    state: e.state,
                    hidden_until: e.hidden_until,
                })
                .collect(),
        };
        store::write_json(&store::keyring_file(&self.dir), &file)
    }

    fn insert(&mut self, key: SigningKey, state: KeyState) -> Result<Arc<SigningKey>> {
        store::write_atomic(
            &key_path(&self.dir, key.kid()),
            key.to_pkcs8_pem()?.as_bytes(),
        )?;
        let key = Arc::new(key);
        self.entries.push(KeyEntry {
            key: key.clone(),
            state,
            hidden_until: None,
        });
        self.save()?;
        Ok(key)
    }

    /// The key step tokens are signed with.
    pub fn active(&self) -> &Arc<SigningKey> {
        // load_or_create and every mutation keep exactly one active entry.
        match self.entries.iter().find(|e| e.state == KeyState::Active) {
            Some(e) => &e.key,
            None => &self.entries[0].key,
        }
    }

    /// Every key as the control API shows it: `kid`, `alg`, `created`, `published` (at `now`)
    /// and its state with the state's fields.
    pub fn describe(&self, now: i64) -> Vec<KeyView> {
        self.entries
            .iter()
            .map(|e| KeyView {
                kid: e.key.kid().to_string(),
                alg: e.key.alg(),
                created: e.key.created(),
                published: e.is_published(now),
                status: match e.state {
                    // A staged key whose time has come is published, whatever the file says.
                    KeyState::Staged {
                        publish_at: Some(t),
                    } if t <= now => KeyStatus::Published {
                        published_at: Some(t),
                    },
                    KeyState::Staged { publish_at } => KeyStatus::Staged { publish_at },
                    KeyState::Active => KeyStatus::Active,
                    KeyState::Published => KeyStatus::Published { published_at: None },
                    KeyState::Retiring { until } => KeyStatus::Retiring { until },
                },
            })
            .collect()
    }

    /// The entry for `kid`.
    pub fn find(&self, kid: &str) -> Option<&KeyEntry> {
        self.entries.iter().find(|e| e.key.kid() == kid)
    }

    /// The public JWKs in the JWKS at `now`.
    pub fn published(&self, now: i64) -> Vec<&PublicJwk> {
        self.entries
            .iter()
            .filter(|e| e.is_published(now))
            .map(|e| e.key.public_jwk())
            .collect()
    }

    /// The next instant after `now` at which the published set changes on its own.
    pub fn next_change(&self, now: i64) -> Option<i64> {
        self.entries
            .iter()
            .flat_map(|e| {
                let scheduled = match e.state {
                    KeyState::Staged {
                        publish_at: Some(t),
                    } if t > now => Some(t),
                    KeyState::Retiring { until } if until > now => Some(until),
                    _ => None,
                };
                [scheduled, e.hidden_until.filter(|t| *t > now)]
            })
            .flatten()
            .min()
    }

    /// The first published key of `alg` at `now`.
    pub fn published_of(&self, alg: KeyAlg, now: i64) -> Option<&Arc<SigningKey>> {
        self.entries
            .iter()
            .find(|e| e.key.alg() == alg && e.is_published(now))
            .map(|e| &e.key)
    }

    /// The kids of staged keys with no publication scheduled: what [`KeyRing::staged_or_new`]
    /// reuses or adds.
    pub fn staged_unscheduled(&self) -> Vec<String> {
        self.entries
            .iter()
            .filter(|e| e.state == KeyState::Staged { publish_at: None })
            .map(|e| e.key.kid().to_string())
            .collect()
    }

    /// The staged (next) RS256 key, generating and persisting one if there is none.
    pub fn staged_or_new(&mut self, now: i64) -> Result<Arc<SigningKey>> {
        if let Some(e) = self
            .entries
            .iter()
            // Only a key with no publication scheduled: a scheduled one may already be public.
            .find(|e| {
                e.state == KeyState::Staged { publish_at: None } && e.key.alg() == KeyAlg::Rs256
            })
        {
            return Ok(e.key.clone());
        }
        self.insert(
            SigningKey::generate(KeyAlg::Rs256, now)?,
            KeyState::Staged { publish_at: None },
        )
    }

    /// Adds a new key of `alg` in `state` (not active).
    pub fn add(&mut self, alg: KeyAlg, state: KeyState, now: i64) -> Result<Arc<SigningKey>> {
        if state == KeyState::Active {
            return Err(Error::invalid(
                "state",
                "use rotate to change the signing key",
            ));
        }
        self.insert(SigningKey::generate(alg, now)?, state)
    }

    /// Rotates: the staged RS256 key (or a new one) starts signing and is published; the old
    /// signing key stays published for `overlap` seconds, then leaves the JWKS.
    pub fn rotate(&mut self, now: i64, overlap: u64) -> Result<Arc<SigningKey>> {
        self.rotate_unpublished(now, overlap, 0)
    }

    /// As [`KeyRing::rotate`], but the new key signs for `unpublished_for` seconds before it
    /// appears in the JWKS: what a relying party sees when an issuer publishes late.
    pub fn rotate_unpublished(
        &mut self,
        now: i64,
        overlap: u64,
        unpublished_for: u64,
    ) -> Result<Arc<SigningKey>> {
        let next = self.staged_or_new(now)?;
        let until = now.saturating_add(i64::try_from(overlap).unwrap_or(i64::MAX));
        for e in &mut self.entries {
            if e.state == KeyState::Active {
                e.state = KeyState::Retiring { until };
            } else if e.key.kid() == next.kid() {
                e.state = KeyState::Active;
                e.hidden_until = (unpublished_for > 0).then(|| {
                    now.saturating_add(i64::try_from(unpublished_for).unwrap_or(i64::MAX))
                });
            }
        }
        // Keys whose overlap is over are gone from the JWKS; drop them from the ring too.
        self.entries
            .retain(|e| !matches!(e.state, KeyState::Retiring { until } if until <= now));
        self.save()?;
        Ok(next)
    }

    /// Removes `kid` from the ring (and so from the JWKS) now. Its PEM file is kept.
    pub fn retire(&mut self, kid: &str) -> Result<()> {
        let Some(pos) = self.entries.iter().position(|e| e.key.kid() == kid) else {
            return Err(Error::invalid(
                "kid",
                format!("no key `{kid}` in this workspace"),
            ));
        };
        if self.entries[pos].state == KeyState::Active {
            return Err(Error::invalid(
                "kid",
                format!("`{kid}` signs step tokens; rotate first"),
            ));
        }
        self.entries.remove(pos);
        self.save()
    }
}

fn key_path(dir: &Path, kid: &str) -> PathBuf {
    store::key_file(dir, kid)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ring_persists_and_detects_tampering() {
        let tmp = tempfile::tempdir().unwrap();
        let ring = KeyRing::load_or_create(tmp.path(), 100).unwrap();
        let again = KeyRing::load_or_create(tmp.path(), 200).unwrap();
        assert_eq!(ring.active().kid(), again.active().kid());
        assert_eq!(again.active().created(), 100);

        // Swap the key file for another valid key: the kid no longer matches.
        let other = SigningKey::generate(KeyAlg::Rs256, 0).unwrap();
        std::fs::write(
            key_path(tmp.path(), ring.active().kid()),
            other.to_pkcs8_pem().unwrap(),
        )
        .unwrap();
        let err = KeyRing::load_or_create(tmp.path(), 0).unwrap_err();
        assert!(err.to_string().contains(".pem"), "{err}");
    }

    #[test]
    fn a_ring_listing_a_key_twice_is_corrupt() {
        let tmp = tempfile::tempdir().unwrap();
        KeyRing::load_or_create(tmp.path(), 0).unwrap();
        let path = tmp.path().join("keys.json");
        let mut file: serde_json::Value =
            serde_json::from_slice(&std::fs::read(&path).unwrap()).unwrap();
        let mut twin = file["keys"][0].clone();
        twin["state"] = "published".into();
        file["keys"].as_array_mut().unwrap().push(twin);
        std::fs::write(&path, serde_json::to_vec(&file).unwrap()).unwrap();
        let err = KeyRing::load_or_create(tmp.path(), 0)
            .unwrap_err()
            .to_string();
        assert!(err.contains("keys.json") && err.contains("twice"), "{err}");
    }

    #[test]
    fn rotation_overlap_and_retirement() {
        let tmp = tempfile::tempdir().unwrap();
        let mut ring = KeyRing::load_or_create(tmp.path(), 1000).unwrap();
        let first = ring.active().kid().to_string();
        let staged = ring.staged_or_new(1000).unwrap();
        assert!(
            !ring.published(1000).iter().any(|j| j.kid == staged.kid()),
            "staged keys are not published"
        );

        let next = ring.rotate(1000, 60).unwrap();
        assert_eq!(next.kid(), staged.kid(), "rotation promotes the staged key");
        assert_eq!(ring.active().kid(), next.kid());
        let kids = |r: &KeyRing, t| {
            r.published(t)
                .iter()
                .map(|j| j.kid.clone())
                .collect::<Vec<_>>()
        };
        assert_eq!(kids(&ring, 1059), [first.clone(), next.kid().to_string()]);
        assert_eq!(kids(&ring, 1060), [next.kid().to_string()]);
        assert_eq!(ring.next_change(1000), Some(1060));

        let reloaded = KeyRing::load_or_create(tmp.path(), 0).unwrap();
        assert_eq!(reloaded.active().kid(), next.kid());
        assert_eq!(kids(&reloaded, 1059).len(), 2);

        assert!(
            ring.retire(next.kid()).is_err(),
            "the active key cannot be retired"
        );
        ring.retire(&first).unwrap();
        assert_eq!(kids(&ring, 1000), [next.kid().to_string()]);

        let ec = ring.add(KeyAlg::Es256, KeyState::Published, 1000).unwrap();
        assert_eq!(
            ring.published_of(KeyAlg::Es256, 1000).unwrap().kid(),
            ec.kid()
        );
        let later = ring
            .add(
                KeyAlg::Rs256,
                KeyState::Staged {
                    publish_at: Some(2000),
                },
                1000,
            )
            .unwrap();
        assert!(!kids(&ring, 1999).contains(&later.kid().to_string()));
        assert!(kids(&ring, 2000).contains(&later.kid().to_string()));
    }
}
