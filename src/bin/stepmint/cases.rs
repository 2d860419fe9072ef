//! `stepmint cases`

use std::process::ExitCode;

use anyhow::Result;
use stepmint::hostile;

use crate::cli::CasesArgs;
use crate::out::line;

pub fn run(args: CasesArgs) -> Result<ExitCode> {
    if args.generators {
        let gens = hostile::boundary::GENERATORS;
        if args.json {
            let list: Vec<_> = gens
                .iter()
                .map(|g| serde_json::json!({"name": g.name, "applies_to": g.applies_to, "description": g.description}))
                .collect();
            line(&serde_json::to_string_pretty(&list)?)?;
        } else {
            line(
                "Policy-boundary generators: `stepmint probe` makes a case `policy-SLOT-NAME` from each for every",
            )?;
            line("value the relying party declares (SLOT: aud, iss, sub, claim-NAME, time).")?;
            for g in gens {
                line(&format!(
                    "{:<22} {:<7} {}",
                    g.name, g.applies_to, g.description
                ))?;
            }
        }
    } else if args.json {
        line(&serde_json::to_string_pretty(&hostile::summaries())?)?;
    } else if args.markdown {
        crate::out::text(&hostile::markdown_table())?;
    } else {
        for c in hostile::summaries() {
            let family = serde_json::to_value(c.family)?;
            line(&format!(
                "{:<28} {:<17} {:<7} {}",
                c.name,
                family.as_str().unwrap_or_default(),
                c.expected,
                c.description
            ))?;
        }
        line("")?;
        line(&format!(
            "Also, generated per relying party by `stepmint probe`: policy-boundary cases from {} generators (`stepmint cases --generators`), and fuzzed tokens (`--fuzz N`).",
            hostile::boundary::GENERATORS.len()
        ))?;
    }
    Ok(ExitCode::SUCCESS)
}
