//! `stepmint completions` and `stepmint man`: what the tool says about itself, generated from the
//! same argument definitions the parser uses, so they cannot drift.

use std::process::ExitCode;

use anyhow::{Context, Result};
use clap::CommandFactory;

use crate::cli::{CompletionsArgs, ManArgs};
use crate::out::human;

pub fn completions(args: CompletionsArgs) -> Result<ExitCode> {
    let mut cmd = crate::cli::Cli::command();
    let mut buf = Vec::new();
    clap_complete::generate(args.shell, &mut cmd, "stepmint", &mut buf);
    crate::out::text(&String::from_utf8_lossy(&buf))?;
    Ok(ExitCode::SUCCESS)
}

pub fn man(args: ManArgs) -> Result<ExitCode> {
    let cmd = crate::cli::Cli::command();
    match &args.dir {
        None => {
            let mut buf = Vec::new();
            clap_mangen::Man::new(cmd).render(&mut buf)?;
            crate::out::text(&String::from_utf8_lossy(&buf))?;
        }
        Some(dir) => {
            std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
            let mut pages = vec![("stepmint".to_string(), cmd.clone())];
            for sub in cmd.get_subcommands() {
                pages.push((format!("stepmint-{}", sub.get_name()), sub.clone()));
            }
            for (name, page) in pages {
                let mut buf = Vec::new();
                clap_mangen::Man::new(page)
                    .title(name.clone())
                    .render(&mut buf)?;
                let path = dir.join(format!("{name}.1"));
                std::fs::write(&path, buf)
                    .with_context(|| format!("writing {}", path.display()))?;
            }
            human(&format!("man pages written to {}", dir.display()))?;
        }
    }
    Ok(ExitCode::SUCCESS)
}
