//! `stepmint decode [TOKEN|-]`

use std::process::ExitCode;

use anyhow::Result;
use serde_json::Value;

use std::io::Write as _;

use crate::cli::DecodeArgs;
use crate::out::{human, line};

pub fn run(args: DecodeArgs) -> Result<ExitCode> {
    let token = crate::common::token_arg(args.token)?;
    let decoded = stepmint::decode_unverified(&token)?;
    if args.json {
        let mut v = serde_json::to_value(&decoded)?;
        if let Some(o) = v.as_object_mut() {
            o.insert("verified".into(), Value::Bool(false));
        }
        line(&serde_json::to_string_pretty(&v)?)?;
        return Ok(ExitCode::SUCCESS);
    }
    let _ = writeln!(
        std::io::stderr(),
        "NOT VERIFIED: decoded only; the signature and claims were not checked."
    );
    if args.raw {
        human(&format!("Header (raw):\n{}", decoded.raw_header))?;
        human(&format!("Payload (raw):\n{}", decoded.raw_payload))?;
    } else {
        human(&format!(
            "Header:\n{}",
            serde_json::to_string_pretty(&decoded.header)?
        ))?;
        human(&format!(
            "Claims:\n{}",
            serde_json::to_string_pretty(&decoded.claims)?
        ))?;
    }
    for claim in ["iat", "nbf", "exp"] {
        if let Some(t) = decoded.claims.get(claim).and_then(Value::as_i64) {
            let when = time::OffsetDateTime::from_unix_timestamp(t)
                .ok()
                .and_then(|d| {
                    d.format(&time::format_description::well_known::Rfc3339)
                        .ok()
                })
                .unwrap_or_else(|| "out of range".into());
            human(&format!("  {claim}: {when}"))?;
        }
    }
    human(&format!(
        "Signature: {} bytes ({} parts)",
        decoded.signature_len, decoded.parts
    ))?;
    for note in &decoded.notes {
        human(&format!("Note: {note}"))?;
    }
    Ok(ExitCode::SUCCESS)
}
