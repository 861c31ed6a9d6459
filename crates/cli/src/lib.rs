//! The `senda` command line as a library: every subcommand is a function that tests can call
//! without spawning the binary. `main.rs` only parses arguments and prints errors.

/// `println!` that returns the write error instead of panicking: a closed pipe (`senda imports |
/// head`) then ends the program quietly in `main` (`is_broken_pipe`). Only in functions that
/// return `anyhow::Result`.
macro_rules! outln {
    ($($arg:tt)*) => {{
        use std::io::Write as _;
        writeln!(std::io::stdout().lock(), $($arg)*)?
    }};
}

pub mod accounts;
pub mod activities;
pub mod cli;
pub mod commands;
pub mod contributions;
pub mod coverage;
pub mod demo_entered;
pub mod format;
pub mod generate;
pub mod import;
pub mod interventions;
pub mod orgs;
pub mod plan;
pub mod printable;
pub mod report_cmd;
pub mod reporting;
pub mod results_template;
pub mod review;
pub mod values;

use anyhow::Result;

/// Runs one parsed command line; returns the process exit status.
pub fn run(args: cli::Cli) -> Result<i32> {
    commands::dispatch(args)
}
