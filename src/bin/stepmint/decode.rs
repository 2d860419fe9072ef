//! `stepmint decode [TOKEN|-]`

use std::process::ExitCode;

use anyhow::Result;
use serde_json::Value;

use crate::cli::DecodeArgs;

pub fn run(args: DecodeArgs) -> Result<ExitCode> {
    let token = crate::common::token_arg(args.token)?;
    let decoded = stepmint::decode_unverified(&token)?;
    if args.json {
        let mut v = serde_json::to_value(&decoded)?;
        if let Some(o) = v.as_object_mut() {
            o.insert("verified".into(), Value::Bool(false));
        }
        println!("{}", serde_json::to_string_pretty(&v)?);
        return Ok(ExitCode::SUCCESS);
    }
    eprintln!("NOT VERIFIED: decoded only; the signature and claims were not checked.");
    println!(
        "Header:\n{}",
        serde_json::to_string_pretty(&decoded.header)?
    );
    println!(
        "Claims:\n{}",
        serde_json::to_string_pretty(&decoded.claims)?
    );
    for claim in ["iat", "nbf", "exp"] {
        if let Some(t) = decoded.claims.get(claim).and_then(Value::as_i64) {
            let when = time::OffsetDateTime::from_unix_timestamp(t)
                .ok()
                .and_then(|d| {
                    d.format(&time::format_description::well_known::Rfc3339)
                        .ok()
                })
                .unwrap_or_else(|| "out of range".into());
            println!("  {claim}: {when}");
        }
    }
    println!(
        "Signature: {} bytes ({} parts)",
        decoded.signature_len, decoded.parts
    );
    for note in &decoded.notes {
        println!("Note: {note}");
    }
    Ok(ExitCode::SUCCESS)
}
