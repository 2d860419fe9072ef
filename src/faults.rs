//! Fault injection: make the relying-party endpoints (discovery, JWKS) misbehave on purpose,
//! per workspace and endpoint, changeable at run time. The control API is never affected.
//!
//! A [`Fault`] is plain data; the [`FaultTable`] holds the active ones and counts down
//! "fail the next N requests". Turning a healthy response into the faulty one is the HTTP
//! layer's (`http::faults`).

use std::collections::BTreeMap;
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};

/// Which relying-party endpoint.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, ts_rs::TS,
)]
#[serde(rename_all = "snake_case")]
pub enum FaultEndpoint {
    /// `.well-known/openid-configuration`
    Discovery,
    /// `keys.json`
    Jwks,
}

impl FaultEndpoint {
    /// Its name in paths and JSON: `discovery` or `jwks`.
    pub fn as_str(self) -> &'static str {
        match self {
            FaultEndpoint::Discovery => "discovery",
            FaultEndpoint::Jwks => "jwks",
        }
    }

    /// Parses `discovery` or `jwks`.
    pub fn parse(text: &str) -> Result<FaultEndpoint> {
        match text {
            "discovery" => Ok(FaultEndpoint::Discovery),
            "jwks" | "keys" | "keys.json" => Ok(FaultEndpoint::Jwks),
            other => Err(Error::invalid(
                "endpoint",
                format!("`{other}` is not an endpoint (discovery, jwks)"),
            )),
        }
    }
}

/// How an `ETag` misbehaves.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ts_rs::TS)]
#[serde(rename_all = "kebab-case")]
pub enum EtagMode {
    /// The same ETag whatever the content (a cache never sees changes).
    NeverChanges,
    /// A new ETag on every response (a cache never hits).
    AlwaysChanges,
}

/// One fault. Every member is optional; several combine (latency then status, say).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, ts_rs::TS)]
#[serde(default, deny_unknown_fields)]
#[ts(optional_fields = nullable)]
pub struct Fault {
    /// Added latency in milliseconds: `[fixed]` or `[min, max]` (uniformly random).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub latency_ms: Option<Vec<u64>>,
    /// Answer with this status (4xx or 5xx) instead of the document.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub status: Option<u16>,
    /// `Retry-After` seconds, with a status.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub retry_after: Option<u64>,
    /// Fail only the next N requests (with `status`, default 503), then recover.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub fail_next: Option<u32>,
    /// Reset the connection part-way through the body.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub reset: bool,
    /// Never answer (past any client timeout).
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub hang: bool,
    /// Send only the first half of the body.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub truncate: bool,
    /// Send a body that is not JSON.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub non_json: bool,
    /// Send this `Content-Type` instead of `application/json`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub content_type: Option<String>,
    /// Add this `Cache-Control` (`no-store`, `max-age=31536000`, ...).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cache_control: Option<String>,
    /// Add a misbehaving `ETag`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub etag: Option<EtagMode>,
    /// JWKS only: serve `{"keys": []}`.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub empty_jwks: bool,
    /// JWKS only: add a second key under the signing key's `kid`.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub duplicate_kid: bool,
}

impl Fault {
    /// Checks the values, naming the bad one.
    pub fn validate(&self) -> Result<()> {
        if let Some(l) = &self.latency_ms
            && (l.is_empty()
                || l.len() > 2
                || (l.len() == 2 && l[0] > l[1])
                || l.iter().any(|&v| v > 600_000))
        {
            return Err(Error::invalid(
                "latency_ms",
                "one value, or [min, max] with min <= max, at most 600000",
            ));
        }
        if let Some(s) = self.status
            && !(400..=599).contains(&s)
        {
            return Err(Error::invalid(
                "status",
                format!("{s} is not a 4xx or 5xx status"),
            ));
        }
        if self.fail_next == Some(0) {
            return Err(Error::invalid("fail_next", "must be at least 1"));
        }
        if *self == Fault::default() {
            return Err(Error::invalid(
                "fault",
                "nothing to inject: give at least one of latency, status, fail_next, reset, hang, truncate, non_json, content_type, cache_control, etag, empty_jwks, duplicate_kid",
            ));
        }
        let endings = [
            ("reset", self.reset),
            ("hang", self.hang),
            ("truncate", self.truncate),
        ];
        let chosen: Vec<&str> = endings
            .iter()
            .filter(|(_, on)| *on)
            .map(|(n, _)| *n)
            .collect();
        if chosen.len() > 1 {
            return Err(Error::invalid(
                chosen[1],
                format!(
                    "{} exclude each other: a response ends one way",
                    chosen.join(" and ")
                ),
            ));
        }
        // A hang never answers, so anything it would answer with is a contradiction, not a
        // fault that silently does one of the two.
        if self.hang {
            let answers = [
                ("status", self.status.is_some()),
                ("retry_after", self.retry_after.is_some()),
                ("non_json", self.non_json),
                ("content_type", self.content_type.is_some()),
                ("cache_control", self.cache_control.is_some()),
                ("empty_jwks", self.empty_jwks),
                ("duplicate_kid", self.duplicate_kid),
            ];
            if let Some((name, _)) = answers.iter().find(|(_, on)| *on) {
                return Err(Error::invalid(
                    *name,
                    format!("hang never answers, so it cannot answer with {name}"),
                ));
            }
        }
        for (name, v) in [
            ("content_type", &self.content_type),
            ("cache_control", &self.cache_control),
        ] {
            if let Some(v) = v
                && !v.bytes().all(|b| b == b'\t' || (b >= 0x20 && b != 0x7f))
            {
                return Err(Error::invalid(name, "not a valid header value"));
            }
        }
        Ok(())
    }

    /// A short description for the request log.
    pub fn describe(&self) -> String {
        serde_json::to_string(self).unwrap_or_default()
    }

    /// What the fault did to one response, in a few words for a log row (`status 500`, `hang`,
    /// `delay 2s`, `delay 100-300ms, status 503, retry-after 30s`); `status_applied` is false
    /// once a `fail_next` count is spent (the status is then not sent).
    pub fn summary(&self, status_applied: bool) -> String {
        fn ms(v: u64) -> String {
            if v >= 1000 && v.is_multiple_of(1000) {
                format!("{}s", v / 1000)
            } else {
                format!("{v}ms")
            }
        }
        let mut parts: Vec<String> = Vec::new();
        match self.latency_ms.as_deref() {
            Some([fixed]) => parts.push(format!("delay {}", ms(*fixed))),
            Some([min, max]) => parts.push(format!("delay {}-{}", ms(*min), ms(*max))),
            _ => {}
        }
        if self.hang {
            parts.push("hang".into());
        }
        if status_applied && (self.status.is_some() || self.fail_next.is_some()) {
            parts.push(format!("status {}", self.status.unwrap_or(503)));
            if let Some(s) = self.retry_after {
                parts.push(format!("retry-after {s}s"));
            }
        }
        let flags = [
            (self.reset, "reset"),
            (self.truncate, "truncated body"),
            (self.non_json, "non-JSON body"),
            (self.empty_jwks, "empty JWKS"),
            (self.duplicate_kid, "duplicate kid"),
        ];
        parts.extend(
            flags
                .iter()
                .filter(|(on, _)| *on)
                .map(|(_, t)| t.to_string()),
        );
        if let Some(t) = &self.content_type {
            parts.push(format!("content-type {t}"));
        }
        if let Some(c) = &self.cache_control {
            parts.push(format!("cache-control {c}"));
        }
        match self.etag {
            Some(EtagMode::NeverChanges) => parts.push("etag never changes".into()),
            Some(EtagMode::AlwaysChanges) => parts.push("etag always changes".into()),
            None => {}
        }
        if parts.is_empty() {
            // A spent `fail_next` leaves nothing applied but the count.
            parts.push("fault spent".into());
        }
        parts.join(", ")
    }
}

#[derive(Debug, Clone)]
struct Active {
    fault: Fault,
    remaining: Option<u32>,
}

/// The active faults, by workspace and endpoint.
#[derive(Debug, Default)]
pub struct FaultTable {
    map: Mutex<BTreeMap<(String, FaultEndpoint), Active>>,
    /// Whether any fault is set, so healthy requests skip the lock.
    active: AtomicBool,
    etag_counter: AtomicU64,
}

/// A listed fault.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ts_rs::TS)]
pub struct FaultEntry {
    /// Workspace slug.
    pub workspace: String,
    /// Endpoint.
    pub endpoint: FaultEndpoint,
    /// The fault.
    pub fault: Fault,
    /// For `fail_next`: failures left.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub remaining: Option<u32>,
}

impl FaultTable {
    /// Sets (replaces) the fault of `workspace`'s `endpoint`.
    pub fn set(&self, workspace: &str, endpoint: FaultEndpoint, fault: Fault) -> Result<()> {
        fault.validate()?;
        let remaining = fault.fail_next;
        let mut map = self.lock();
        map.insert(
            (workspace.to_string(), endpoint),
            Active { fault, remaining },
        );
        self.active.store(true, Ordering::Release);
        Ok(())
    }

    /// Clears one fault, or all of a workspace's, or all; returns how many were cleared.
    pub fn clear(&self, workspace: Option<&str>, endpoint: Option<FaultEndpoint>) -> usize {
        let mut map = self.lock();
        let before = map.len();
        map.retain(|(w, e), _| {
            !(workspace.is_none_or(|x| x == w) && endpoint.is_none_or(|x| x == *e))
        });
        self.active.store(!map.is_empty(), Ordering::Release);
        before - map.len()
    }

    /// Every active fault.
    pub fn list(&self) -> Vec<FaultEntry> {
        self.lock()
            .iter()
            .map(|((w, e), a)| FaultEntry {
                workspace: w.clone(),
                endpoint: *e,
                fault: a.fault.clone(),
                remaining: a.remaining,
            })
            .collect()
    }

    /// Whether any fault is set (no lock taken: the healthy path asks this on every request).
    pub(crate) fn any_active(&self) -> bool {
        self.active.load(Ordering::Acquire)
    }

    /// A new value for an always-changing `ETag`.
    pub(crate) fn next_etag(&self) -> u64 {
        self.etag_counter.fetch_add(1, Ordering::Relaxed)
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, BTreeMap<(String, FaultEndpoint), Active>> {
        self.map.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// The fault to apply to this request, counting down `fail_next` (which removes itself
    /// when spent).
    pub(crate) fn take(&self, workspace: &str, endpoint: FaultEndpoint) -> Option<(Fault, bool)> {
        let mut map = self.lock();
        let key = (workspace.to_string(), endpoint);
        let active = map.get_mut(&key)?;
        let fault = active.fault.clone();
        let fail = match &mut active.remaining {
            None => fault.status.is_some(),
            Some(0) => false,
            Some(n) => {
                *n -= 1;
                true
            }
        };
        if active.remaining == Some(0) && fault.fail_next.is_some() {
            map.remove(&key);
            self.active.store(!map.is_empty(), Ordering::Release);
        }
        Some((fault, fail))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_fault_summary_names_what_was_done_in_a_few_words() {
        let f = |fault: Fault| fault.summary(true);
        assert_eq!(
            f(Fault {
                status: Some(500),
                ..Default::default()
            }),
            "status 500"
        );
        assert_eq!(
            f(Fault {
                hang: true,
                ..Default::default()
            }),
            "hang"
        );
        assert_eq!(
            f(Fault {
                latency_ms: Some(vec![2000]),
                ..Default::default()
            }),
            "delay 2s"
        );
        assert_eq!(
            f(Fault {
                latency_ms: Some(vec![100, 300]),
                fail_next: Some(2),
                retry_after: Some(30),
                ..Default::default()
            }),
            "delay 100ms-300ms, status 503, retry-after 30s"
        );
        let spent = Fault {
            status: Some(500),
            fail_next: Some(1),
            ..Default::default()
        };
        assert_eq!(spent.summary(false), "fault spent");
        assert_eq!(
            f(Fault {
                empty_jwks: true,
                etag: Some(EtagMode::NeverChanges),
                ..Default::default()
            }),
            "empty JWKS, etag never changes"
        );
    }

    #[test]
    fn validation_names_the_member() {
        let bad = [
            (
                Fault {
                    status: Some(200),
                    ..Default::default()
                },
                "status",
            ),
            (
                Fault {
                    latency_ms: Some(vec![5, 1]),
                    ..Default::default()
                },
                "latency_ms",
            ),
            (
                Fault {
                    latency_ms: Some(vec![]),
                    ..Default::default()
                },
                "latency_ms",
            ),
            (
                Fault {
                    fail_next: Some(0),
                    ..Default::default()
                },
                "fail_next",
            ),
            (
                Fault {
                    content_type: Some("a\nb".into()),
                    ..Default::default()
                },
                "content_type",
            ),
            (Fault::default(), "fault"),
            (
                Fault {
                    reset: true,
                    hang: true,
                    ..Default::default()
                },
                "hang",
            ),
        ];
        for (f, field) in bad {
            assert!(
                f.validate().unwrap_err().to_string().starts_with(field),
                "{field}"
            );
        }
    }

    #[test]
    fn fail_next_counts_down_and_removes_itself() {
        let t = FaultTable::default();
        t.set(
            "a",
            FaultEndpoint::Jwks,
            Fault {
                fail_next: Some(2),
                ..Default::default()
            },
        )
        .unwrap();
        assert!(t.take("a", FaultEndpoint::Jwks).unwrap().1);
        assert!(t.take("a", FaultEndpoint::Jwks).unwrap().1);
        assert!(t.take("a", FaultEndpoint::Jwks).is_none());
        assert!(t.take("a", FaultEndpoint::Discovery).is_none());
        let slow = Fault {
            latency_ms: Some(vec![5]),
            ..Default::default()
        };
        t.set("a", FaultEndpoint::Jwks, slow.clone()).unwrap();
        t.set("b", FaultEndpoint::Jwks, slow).unwrap();
        assert_eq!(t.clear(Some("a"), None), 1);
        assert_eq!(t.list().len(), 1);
    }
}
