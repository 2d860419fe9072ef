//! Deliberately broken and edge-case tokens. Nothing outside this module makes them.
//!
//! Two ways in, both reached through [`crate::Issuer::craft`] when a request asks for crafting:
//! a named case of the [catalogue](CATALOGUE) (`"case": "alg-none"`), or edits to the genuine
//! token ([`recipe::apply`]; raw surgery's fields, the header or payload as raw JSON text, any
//! signer, the signature kept or dropped, are edits too). Tokens are made at
//! request time with the workspace's real keys, so a relying party sees exactly what it would
//! see from a compromised or buggy issuer, or from an attacker who holds only public material.
//!
//! This module sits below the issuer: what it needs from it (the public URL, the attacker's
//! keys, a staged key) comes through the small [`Armory`] trait, asked for before a builder
//! runs; builders themselves take plain data and return a [`Forged`] token.

mod armory;
mod attacker;
pub mod boundary;
mod cases;
mod cases_crypto;
mod cases_reach;
mod ctx;
mod forge;
pub mod fuzz;
mod kinds;
pub mod reach;
pub mod recipe;
mod recipe_files;
mod recipe_step;
mod signing;
mod summary;

use serde_json::Map;

pub use crate::token::{Edit, EncodingEdit, Signer};
pub use armory::{Armory, Genuine};
pub use attacker::AttackerKeys;
pub use cases::{CATALOGUE, Case, find};
pub use forge::Forged;
pub use kinds::{CaseSummary, Expected, ExploitableBy, Family, Needs, Outcome};
pub use reach::{Reach, reach};
pub use recipe::{Recipe, RecipeStep};
pub use recipe_files::{MAX_RECIPE_DIR_LEN, MAX_RECIPE_LEN, RecipeDir, Skipped};
pub use summary::{markdown_table, summaries};

use crate::error::{Error, Result};
use crate::token::{self, MintRequest};
use ctx::Ctx;
use signing::Material;

/// Makes the crafted token `req` asks for (a case, or edits: the raw fields are edits too) from
/// the genuine one. The material a case needs is asked of `armory` first; then the builder runs
/// on plain data.
pub fn craft(armory: &dyn Armory, genuine: Genuine<'_>, req: &MintRequest) -> Result<Forged> {
    let craft = &req.craft;
    craft.check()?;
    if let Some(name) = &craft.case {
        let case = find(name).ok_or_else(|| {
            Error::invalid(
                "case",
                if name.starts_with("policy-") {
                    // Policy-boundary cases are generated from what one relying party
                    // declares, so no name alone says which token they are.
                    format!(
                        "`{name}` is a policy-boundary case, generated from what a relying party declares: mint it with the reproduce line the probe printed for it (`--edits ...`), or save it with `probe --save-findings DIR` and use `--recipe`"
                    )
                } else {
                    format!("no case named `{name}` (list them with `stepmint cases`)")
                },
            )
        })?;
        return build_case(armory, case, genuine);
    }
    let mut genuine = genuine;
    if let Some(signer) = &craft.sign_with {
        // A request's `sign_with` (unlike an edit list's `sign`, which leaves the header alone)
        // makes the header declare the signer's `alg` and `kid`, under the request's overrides.
        let material = Material::of(signer, armory, genuine.workspace, "sign_with")?;
        let (alg, kid) = material.declared();
        let mut header = Map::new();
        header.insert("alg".into(), alg.into());
        if let Some(kid) = kid {
            header.insert("kid".into(), kid.into());
        }
        header.insert("typ".into(), "JWT".into());
        token::merge(&mut header, &req.step.header);
        genuine.header = header;
    }
    recipe::apply(armory, genuine, &craft.edits())
}

/// Builds `case` from the genuine token, with the material it needs.
pub fn build_case(armory: &dyn Armory, case: &Case, genuine: Genuine<'_>) -> Result<Forged> {
    let attacker = match case.needs {
        Needs::Attacker => Some(armory.attacker()?),
        _ => None,
    };
    let staged = match case.needs {
        Needs::StagedKey => Some(armory.staged_key(&genuine.workspace.slug)?),
        _ => None,
    };
    let ctx = Ctx {
        workspace: genuine.workspace,
        issuer: genuine.issuer,
        public_url: armory.public_url(),
        now: genuine.now,
        claims: genuine.claims,
        header: genuine.header,
        attacker: attacker.as_deref(),
        staged: staged.as_deref(),
    };
    let mut forged = (case.build)(&ctx)?;
    forged.case = Some(case.summary());
    Ok(forged)
}
