//! [`MintedToken`]: what every front end gets back from a mint, genuine or crafted.

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::hostile::{CaseSummary, Forged};

/// A signed token with the header and claims it carries.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ts_rs::TS)]
pub struct MintedToken {
    /// The token (compact JWS, or whatever shape a crafted case has).
    pub token: String,
    /// The header: a JSON object, or the raw text when it is not one.
    pub header: Value,
    /// The claims: a JSON object, or the raw text when they are not one.
    pub claims: Value,
    /// The catalogue case this token was made for.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub case: Option<CaseSummary>,
    /// What is deliberately odd about it.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub notes: Vec<String>,
    /// Set when the token was minted but something asked for with it failed: it was not kept in
    /// the history (a full disk, say). The token itself is good.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[ts(optional = nullable)]
    pub warning: Option<String>,
}

impl From<Forged> for MintedToken {
    fn from(f: Forged) -> MintedToken {
        MintedToken {
            token: f.token,
            header: f.header,
            claims: f.claims,
            case: f.case,
            notes: f.notes,
            warning: None,
        }
    }
}
