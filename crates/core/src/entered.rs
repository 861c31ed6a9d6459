//! Interventions entered in Senda as report facts, beside the imported activities.
//!
//! The rules (ARCHITECTURE.md, "Entered interventions in reports"):
//! - A **foreign-assistance** intervention adds nothing: it links an imported IATI activity, whose
//!   money and count already are in the report (it cannot carry money of its own: the checker
//!   refuses it). Money is never counted twice.
//! - Every other intervention counts as one activity (a presence fact on its start date, so that
//!   counts per instrument, line of effort and country include diplomacy, messaging and
//!   immigration initiatives without money), and its `commitment` and `disbursement` entries are
//!   commitments (IATI transaction type 2) and disbursements (type 3) on their own dates, in
//!   their own currencies. `budget` entries are plans, not transactions: they are not in the
//!   report's totals.
//! - Money and presence are split equally over the intervention's countries (none: `REGIONAL`)
//!   and over its implementing partners (none: the owning organisation implements), and over its
//!   chosen lines of effort by the report itself (as for an imported activity): the parts add up
//!   to the amount exactly.
//! - The reporting organisation is the owning organisation; the sector is the intervention's
//!   (none: unspecified); the instrument is the intervention's.
//!
//! Which interventions a reader's report includes is decided before this module, by the access
//! policy's `ReadScope` in the store; this module only turns records into facts.

use crate::intervention::{Instrument, Intervention, MoneyKind};
use crate::money::allocate;
use crate::report::{ActivityInfo, Dimension, FactRef, Filters, Report, ReportBuilder};
use rust_decimal::Decimal;
use std::collections::HashMap;
use time::Date;

/// An entered intervention as reports see it.
#[derive(Debug, Clone, Copy)]
pub struct EnteredRecord<'a> {
    /// The owning organisation's name (the report's reporting organisation).
    pub organisation_name: &'a str,
    /// The record.
    pub intervention: &'a Intervention,
}

struct OwnedFact {
    activity: u32,
    transaction_type: &'static str,
    date: Date,
    currency: String,
    country: String,
    sector: String,
    implementing_org: String,
    amount: Decimal,
}

/// Whether `i` adds facts of its own to reports (every instrument but foreign assistance).
pub fn counts_in_reports(i: &Intervention) -> bool {
    i.instrument != Instrument::ForeignAssistance
}

/// The report of the entered interventions of `strategy` among `records`, grouped by `dims`,
/// filtered by `filters`, by the same builder (and so the same split and currency rules) as
/// imported facts. Combine it with the imported activities' report with
/// [`crate::report::combine`].
pub fn entered_report(
    records: &[EnteredRecord<'_>],
    strategy: &str,
    dims: Vec<Dimension>,
    calendar_year: bool,
    filters: Filters,
) -> Report {
    let mut infos: HashMap<u32, ActivityInfo> = HashMap::new();
    let mut facts: Vec<OwnedFact> = Vec::new();
    for (k, r) in records.iter().enumerate() {
        let i = r.intervention;
        if i.strategy != strategy || !counts_in_reports(i) {
            continue;
        }
        let Ok(activity) = u32::try_from(k) else { break };
        infos.insert(
            activity,
            ActivityInfo {
                reporting_org: r.organisation_name.to_owned(),
                lines_of_effort: i.line_ids().into_iter().map(str::to_owned).collect(),
                instrument: i.instrument.as_str().to_owned(),
            },
        );
        let countries: Vec<String> = if i.countries.is_empty() {
            vec![crate::attribution::REGIONAL.to_owned()]
        } else {
            i.countries.iter().map(|c| c.as_str().to_owned()).collect()
        };
        let partners: Vec<String> = if i.implementing_partners.is_empty() {
            vec![r.organisation_name.to_owned()]
        } else {
            i.implementing_partners.clone()
        };
        let places: Vec<(&str, &str)> =
            countries.iter().flat_map(|c| partners.iter().map(move |p| (c.as_str(), p.as_str()))).collect();
        let sector = i.sector.clone().unwrap_or_default();
        let mut push = |ttype: &'static str, date: Date, currency: &str, amount: Decimal| {
            let parts = allocate(amount, &vec![Decimal::ONE; places.len()]);
            for ((country, partner), part) in places.iter().zip(parts) {
                facts.push(OwnedFact {
                    activity,
                    transaction_type: ttype,
                    date,
                    currency: currency.to_owned(),
                    country: (*country).to_owned(),
                    sector: sector.clone(),
                    implementing_org: (*partner).to_owned(),
                    amount: part,
                });
            }
        };
        push("0", i.start, "USD", Decimal::ZERO);
        for m in &i.money {
            let ttype = match m.kind {
                MoneyKind::Commitment => "2",
                MoneyKind::Disbursement => "3",
                MoneyKind::Budget => continue,
            };
            push(ttype, m.date, m.currency.as_str(), m.amount);
        }
    }
    let mut b = ReportBuilder::new(dims, calendar_year, filters, &infos);
    for f in &facts {
        b.add(FactRef {
            activity: f.activity,
            transaction_type: f.transaction_type,
            date: Some(f.date),
            currency: &f.currency,
            country: &f.country,
            sector: &f.sector,
            implementing_org: &f.implementing_org,
            amount: f.amount,
        });
    }
    b.finish()
}
