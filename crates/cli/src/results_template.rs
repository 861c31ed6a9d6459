//! `senda results template`: a CSV a new user fills in to report results, one row per result
//! indicator of the strategy, focus country and kind (baseline, target, actual), in the
//! columns `senda results import` reads. Context indicators are left out: their values come
//! from `senda stats import`.

use anyhow::{Context, Result};
use senda_core::Strategy;
use senda_core::indicator::IndicatorKind;
use std::io::Write;
use std::path::Path;

/// The columns of a results CSV (the reader's own list).
pub use senda_stats::results::COLUMNS;

/// Writes the template of `strategy` to `out`.
pub fn write(strategy: &Strategy, out: &mut dyn Write) -> Result<()> {
    let mut w = csv::Writer::from_writer(out);
    w.write_record(COLUMNS)?;
    for def in strategy.indicators.iter().filter(|d| d.kind == IndicatorKind::Result) {
        let disaggregations: Vec<&str> = def.disaggregations.iter().map(|d| d.key()).collect();
        let note = format!(
            "{} ({}; {} is better){}. Period: 2024-03, 2024-Q2, FY2024 or 2024. Delete this note or write your own.",
            def.name,
            def.unit,
            match def.direction {
                senda_core::indicator::Direction::Up => "more",
                senda_core::indicator::Direction::Down => "less",
            },
            if disaggregations.is_empty() {
                String::new()
            } else {
                format!("; may be split by {}", disaggregations.join(", "))
            }
        );
        for country in &strategy.focus_countries {
            for kind in ["baseline", "target", "actual"] {
                w.write_record([def.code.as_str(), country.as_str(), "", "", kind, "", "", "", "", "", note.as_str()])?;
            }
        }
    }
    w.flush()?;
    Ok(())
}

/// `senda results template [--output FILE]`: to the file (never over an existing one without
/// `force`), else to standard output.
pub fn cmd_template(strategy: &str, output: Option<&Path>, force: bool) -> Result<()> {
    let st = Strategy::builtin(strategy)?;
    match output {
        None => write(&st, &mut std::io::stdout().lock()),
        Some(p) => {
            if p.exists() && !force {
                anyhow::bail!("{} exists: choose another --output, or --force to replace it", p.display());
            }
            let mut f = std::fs::File::create(p).with_context(|| format!("cannot write {}", p.display()))?;
            write(&st, &mut f)?;
            f.flush()?;
            eprintln!(
                "wrote {}: fill in period and value (and admin1, disaggregations), then `senda results import {}`",
                p.display(),
                p.display()
            );
            Ok(())
        }
    }
}
