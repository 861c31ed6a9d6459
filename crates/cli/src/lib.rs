//! The `senda` command line as a library: every subcommand is a function that tests can call
//! without spawning the binary. `main.rs` only parses arguments and prints errors.

pub mod cli;
pub mod commands;
pub mod format;
pub mod generate;
pub mod import;
pub mod printable;
pub mod values;

use anyhow::Result;

/// Runs one parsed command line; returns the process exit status.
pub fn run(args: cli::Cli) -> Result<i32> {
    commands::dispatch(args)
}
