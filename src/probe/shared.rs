//! What every send of one probe run shares (the issuer, the sender, the declared policy, the
//! step), how a token is minted and judged, and the progress a run reports.

use std::sync::Arc;

use crate::hostile::{Edit, Outcome, RecipeStep};
use crate::issuer::Issuer;
use crate::token::{Crafting, MintRequest, StepRequest};
use crate::validate::{self, Policy};

use super::send;

/// Where a run is, for live progress (the Probe screen's `progress` events).
#[derive(Debug, Clone, PartialEq, serde::Serialize, ts_rs::TS)]
#[ts(rename = "ProbeProgress")]
pub struct Progress {
    /// `cases`, `fuzz` or `shrink`.
    pub phase: &'static str,
    /// Tokens done in this phase.
    pub done: usize,
    /// How many there will be, when known.
    pub total: Option<usize>,
    /// Hostile tokens accepted so far (fuzz).
    pub findings: usize,
    /// Tokens per second (fuzz).
    pub rate: f64,
}

/// What every send of one run shares.
pub(crate) struct Shared {
    pub(crate) issuer: Arc<Issuer>,
    pub(crate) sender: send::Sender,
    pub(crate) slug: String,
    pub(crate) policy: Policy,
    pub(crate) step: StepRequest,
    /// The step as flags and a recipe's `[step]`: what reproduces a token.
    pub(crate) context: RecipeStep,
    pub(crate) concurrency: usize,
}

impl Shared {
    fn request(&self, edits: Vec<Edit>) -> MintRequest {
        MintRequest {
            step: self.step.clone(),
            craft: Crafting {
                edits,
                ..Crafting::default()
            },
        }
    }

    /// Mints the token `edits` make (off the async workers) and whether the reference
    /// validator accepts it under the declared policy.
    pub(crate) async fn mint_and_judge(
        self: &Arc<Self>,
        edits: Vec<Edit>,
    ) -> Option<(String, bool)> {
        let me = self.clone();
        tokio::task::spawn_blocking(move || {
            let token = me.issuer.craft(&me.request(edits)).ok()?.token;
            let accepts = me.judge(&token).accepted;
            Some((token, accepts))
        })
        .await
        .ok()
        .flatten()
    }

    pub(crate) fn judge(&self, token: &str) -> validate::Report {
        judge(&self.issuer, &self.slug, &self.policy, token)
    }

    pub(crate) async fn reason(&self, token: &str) -> String {
        let r = self.judge(token);
        r.reason.unwrap_or_else(|| r.verdict.clone())
    }

    /// The validator's reason and the relying party's answer for the token `edits` make.
    pub(crate) async fn explain(self: &Arc<Self>, edits: &[Edit]) -> (String, String) {
        match self.mint_and_judge(edits.to_vec()).await {
            Some((token, _)) => {
                let answer = self.sender.send(&token).await;
                (self.reason(&token).await, answer.detail)
            }
            None => (String::new(), String::new()),
        }
    }

    /// A command that mints the token again, in the run's whole step context.
    pub(crate) fn reproduce(&self, edits: &[Edit]) -> String {
        self.context.reproduce(edits)
    }
}

/// The reference validator's report on `token` under `policy`, with workspace `slug`'s published
/// keys at the issuer's now: how every generated and policy-boundary case is judged.
pub fn judge(issuer: &Issuer, slug: &str, policy: &Policy, token: &str) -> validate::Report {
    match issuer.workspace(slug) {
        Ok(ws) => validate::verify(token, ws.keyset(), policy, issuer.clock().now()),
        Err(e) => validate::Report {
            accepted: false,
            verdict: "refused".into(),
            reason: Some(e.to_string()),
            checks: Vec::new(),
            header: None,
            claims: None,
        },
    }
}

/// What a strict relying party declaring `policy` must do with `token`: accept it exactly when
/// the reference validator does ([`judge`]).
pub fn expected_outcome(issuer: &Issuer, slug: &str, policy: &Policy, token: &str) -> Outcome {
    if judge(issuer, slug, policy, token).accepted {
        Outcome::Accept
    } else {
        Outcome::Refuse
    }
}
