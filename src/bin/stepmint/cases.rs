//! `stepmint cases`

use std::process::ExitCode;

use anyhow::Result;
use stepmint::hostile;

use crate::cli::CasesArgs;

pub fn run(args: CasesArgs) -> Result<ExitCode> {
    if args.json {
        println!("{}", serde_json::to_string_pretty(&hostile::summaries())?);
    } else if args.markdown {
        print!("{}", hostile::markdown_table());
    } else {
        for c in hostile::summaries() {
            let family = serde_json::to_value(c.family)?;
            println!(
                "{:<28} {:<17} {:<7} {}",
                c.name,
                family.as_str().unwrap_or_default(),
                c.expected,
                c.description
            );
        }
    }
    Ok(ExitCode::SUCCESS)
}
