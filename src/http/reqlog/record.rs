//! One request as the log keeps it: a [`RequestRecord`], its access-log line, its wall-clock
//! time, and the classification of its path.
//!
//! Everything a client chose (method, path, user agent, the workspace named in the path) is
//! kept to [`MAX_FIELD`] bytes, with a note of how much was cut: a record costs about the same
//! whatever a client sends, so thousands of 256 KiB request heads cannot fill memory or disk.

use std::borrow::Cow;
use std::fmt;
use std::net::{IpAddr, SocketAddr};
use std::time::SystemTime;

use serde::{Deserialize, Serialize};

use crate::encoding::printable;
use crate::paths::CONTROL_PREFIX;

/// The most bytes of client-chosen text a record keeps in one field (path and query, user
/// agent, method, workspace); the rest is replaced by `... [N bytes cut]`.
pub const MAX_FIELD: usize = 512;
/// The most bytes of an internal error's detail a record keeps.
pub const MAX_DETAIL: usize = 2048;

/// The peer address of a connection, set by the server on every request it reads.
#[derive(Debug, Clone, Copy)]
pub struct PeerAddr(pub SocketAddr);

/// Which part of the server a request was for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ts_rs::TS)]
#[serde(rename_all = "snake_case")]
pub enum Endpoint {
    /// A workspace's discovery document.
    Discovery,
    /// A workspace's JWKS.
    Jwks,
    /// The control API.
    Control,
    /// The attacker documents hostile `jku`/`x5u` cases point at (relying-party traffic).
    Attacker,
    /// Anything else (a 404).
    Other,
}

/// One request.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ts_rs::TS)]
pub struct RequestRecord {
    /// Increasing id (use as `since`).
    pub id: u64,
    /// When it arrived; RFC 3339 UTC with milliseconds in JSON.
    #[ts(type = "string")]
    pub time: LogTime,
    /// The client's address (`"127.0.0.1:5000"` in JSON).
    pub peer: Option<SocketAddr>,
    /// HTTP method.
    pub method: Cow<'static, str>,
    /// Path and query (at most 512 bytes, then `... [N bytes cut]`).
    pub path: String,
    /// Response status.
    pub status: u16,
    /// The `User-Agent` header (at most 512 bytes, then `... [N bytes cut]`).
    pub user_agent: Option<String>,
    /// What it was for.
    pub endpoint: Endpoint,
    /// The workspace slug, for issuer paths.
    pub workspace: Option<String>,
    /// Time to the response head, in milliseconds.
    pub duration_ms: f64,
    /// Internal error detail, for 5xx responses.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    /// The injected fault this response carried, if any (the fault as set, JSON).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fault: Option<String>,
    /// What that fault did to this response, in a few words (`status 500`, `hang`, `delay 2s`):
    /// what the console's Log shows on the row.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fault_summary: Option<String>,
}

impl RequestRecord {
    /// The client address whose share of the log this record counts against (`None` for the
    /// server's own events). An IPv4 client reached over an IPv6 socket counts as itself.
    pub fn client(&self) -> Option<IpAddr> {
        self.peer.map(|p| p.ip().to_canonical())
    }
}

/// `text` as a record keeps it: whole when at most `cap` bytes long, else its first `cap`
/// bytes, cut where a character starts, and `... [N bytes cut]`.
pub fn clip_str(text: &str, cap: usize) -> String {
    if text.len() <= cap {
        return text.to_owned();
    }
    clip(text.as_bytes(), cap)
}

/// [`clip_str`] for bytes that should be UTF-8 (a header value): invalid sequences replaced.
pub fn clip(bytes: &[u8], cap: usize) -> String {
    if bytes.len() <= cap {
        // Checked first: `from_utf8_lossy` walks even valid text several times slower, and
        // this runs on every request.
        return match std::str::from_utf8(bytes) {
            Ok(text) => text.to_owned(),
            Err(_) => String::from_utf8_lossy(bytes).into_owned(),
        };
    }
    // Back up over continuation bytes (at most three) so a character is never split: valid
    // UTF-8 stays valid, and the count below is of whole characters cut.
    let mut end = cap;
    while end > cap.saturating_sub(3) && bytes.get(end).is_some_and(|b| b & 0xC0 == 0x80) {
        end -= 1;
    }
    let mut out = String::from_utf8_lossy(&bytes[..end]).into_owned();
    out.push_str(&format!("... [{} bytes cut]", bytes.len() - end));
    out
}

/// The access-log line: `TIME PEER METHOD PATH STATUS DURATIONms "USER-AGENT"`, with `-` for
/// what is missing and the fault, if one was injected, at the end.
impl fmt::Display for RequestRecord {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} ", self.time)?;
        match &self.peer {
            Some(peer) => write!(f, "{peer} ")?,
            None => f.write_str("- ")?,
        }
        // Request lines are the client's text: shown escaped, never as terminal controls.
        write!(
            f,
            "{} {} {} {:.1}ms ",
            printable(&self.method),
            printable(&self.path),
            self.status,
            self.duration_ms,
        )?;
        match &self.user_agent {
            Some(ua) => write!(f, "\"{}\"", printable(ua))?,
            None => f.write_str("-")?,
        }
        if let Some(fault) = &self.fault {
            write!(f, " fault={fault}")?;
        }
        // The cause of a 5xx, whose answer says only "see the server log": this line is that log.
        if let Some(error) = &self.error {
            write!(f, " error=\"{}\"", printable(error))?;
        }
        Ok(())
    }
}

/// Classifies a path: which endpoint, and for issuer paths which workspace (clipped like every
/// client-chosen field).
pub fn classify(path: &str) -> (Endpoint, Option<String>) {
    let slug = |s: &str| clip_str(s, MAX_FIELD);
    // The console's pages belong to the control plane, not to relying-party traffic.
    if path.starts_with(crate::paths::CONSOLE_PREFIX) {
        return (Endpoint::Control, None);
    }
    if let Some(rest) = path.strip_prefix(CONTROL_PREFIX) {
        if let Some(attacker) = rest.strip_prefix("/attacker/") {
            return (Endpoint::Attacker, attacker.split('/').next().map(slug));
        }
        return (Endpoint::Control, None);
    }
    if let Some(rest) = path.strip_prefix("/2.0/workspaces/")
        && let Some((ws, tail)) = rest.split_once('/')
    {
        let endpoint = match tail {
            "pipelines-config/identity/oidc/.well-known/openid-configuration" => {
                Endpoint::Discovery
            }
            "pipelines-config/identity/oidc/keys.json" => Endpoint::Jwks,
            _ => Endpoint::Other,
        };
        return (endpoint, Some(slug(ws)));
    }
    (Endpoint::Other, None)
}

/// A wall-clock instant of the log, formatted (RFC 3339 UTC, milliseconds) only when read:
/// the server records thousands a second and prints or serves far fewer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LogTime(pub SystemTime);

const LOG_TIME_FORMAT: &[time::format_description::BorrowedFormatItem<'static>] = time::macros::format_description!(
    "[year]-[month]-[day]T[hour]:[minute]:[second].[subsecond digits:3]Z"
);

impl fmt::Display for LogTime {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let utc = time::OffsetDateTime::from(self.0);
        match utc.format(LOG_TIME_FORMAT) {
            Ok(text) => f.write_str(&text),
            Err(_) => Err(fmt::Error),
        }
    }
}

impl Serialize for LogTime {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for LogTime {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = Cow::<str>::deserialize(deserializer)?;
        let parsed =
            time::OffsetDateTime::parse(&text, &time::format_description::well_known::Rfc3339)
                .map_err(serde::de::Error::custom)?;
        Ok(LogTime(parsed.into()))
    }
}

#[cfg(test)]
pub(super) mod tests {
    use super::*;

    /// A record of a `GET` of `path` at a fixed time.
    pub fn rec(path: &str) -> RequestRecord {
        let (endpoint, workspace) = classify(path);
        RequestRecord {
            id: 0,
            time: LogTime(
                SystemTime::UNIX_EPOCH + std::time::Duration::from_millis(1_700_000_000_123),
            ),
            peer: None,
            method: "GET".into(),
            path: path.into(),
            status: 200,
            user_agent: None,
            endpoint,
            workspace,
            duration_ms: 0.0,
            error: None,
            fault: None,
            fault_summary: None,
        }
    }

    #[test]
    fn clipped_text_is_short_valid_and_says_how_much_was_cut() {
        assert_eq!(clip(b"/short", MAX_FIELD), "/short");
        let exact = "a".repeat(MAX_FIELD);
        assert_eq!(clip(exact.as_bytes(), MAX_FIELD), exact);
        let long = "a".repeat(256 * 1024);
        let kept = clip(long.as_bytes(), MAX_FIELD);
        assert_eq!(
            kept,
            format!("{}... [{} bytes cut]", "a".repeat(512), 256 * 1024 - 512)
        );
        // A three-byte character straddling the cap is cut whole, never split.
        for lead in 0..3 {
            let text = format!("{}{}", "a".repeat(MAX_FIELD - lead - 1), "€".repeat(400));
            let kept = clip(text.as_bytes(), MAX_FIELD);
            let (prefix, note) = kept.split_once("... [").unwrap();
            assert!(text.starts_with(prefix), "{lead}");
            assert!(prefix.len() <= MAX_FIELD && prefix.len() > MAX_FIELD - 3);
            let cut: usize = note.trim_end_matches(" bytes cut]").parse().unwrap();
            assert_eq!(prefix.len() + cut, text.len());
            assert!(!prefix.contains('\u{fffd}'));
        }
        // Bytes that are not UTF-8 are replaced, not kept raw.
        assert_eq!(clip(b"ua\xff", MAX_FIELD), "ua\u{fffd}");
        assert_eq!(clip_str("/short", MAX_FIELD), "/short");
        assert_eq!(clip_str(&long, MAX_FIELD), clip(long.as_bytes(), MAX_FIELD));
    }

    #[test]
    fn a_long_slug_in_a_path_is_clipped_too() {
        let path = format!(
            "/2.0/workspaces/{}/pipelines-config/identity/oidc/keys.json",
            "w".repeat(20_000)
        );
        let (endpoint, ws) = classify(&path);
        assert_eq!(endpoint, Endpoint::Jwks);
        assert!(ws.unwrap().ends_with("... [19488 bytes cut]"));
        let (endpoint, ws) = classify(&format!("/_stepmint/v1/attacker/{}", "a".repeat(600)));
        assert_eq!(endpoint, Endpoint::Attacker);
        assert!(ws.unwrap().ends_with("... [88 bytes cut]"));
    }

    #[test]
    fn the_log_line_carries_the_cause_of_an_internal_error() {
        let mut r = rec("/_stepmint/v1/tokens");
        r.status = 500;
        r.error = Some("cannot write history.json: disk full\x1b[2J".into());
        let line = r.to_string();
        assert!(
            line.ends_with(" error=\"cannot write history.json: disk full\\u{1b}[2J\""),
            "{line}"
        );
        assert!(!rec("/x").to_string().contains("error="));
    }

    #[test]
    fn records_keep_their_json_shape() {
        let mut r = rec("/2.0/workspaces/a/pipelines-config/identity/oidc/keys.json");
        r.peer = Some(SocketAddr::from(([127, 0, 0, 1], 5000)));
        r.method = "PROPFIND".into();
        let json = serde_json::to_value(&r).unwrap();
        assert_eq!(json["time"], "2023-11-14T22:13:20.123Z");
        assert_eq!(json["peer"], "127.0.0.1:5000");
        assert_eq!(json["method"], "PROPFIND");
        let back: RequestRecord = serde_json::from_value(json).unwrap();
        assert_eq!(back, r);
    }
}
