//! An in-memory table of attributed facts: what a long-running reader (the web server) loads
//! once per data generation so that every report afterwards is a scan of memory, not of the
//! database. Strings (currencies, countries, sectors, implementers, transaction types) are
//! interned; amounts stay exact [`Decimal`]s.
//!
//! Reports are built by feeding the same [`ReportBuilder`](crate::report::ReportBuilder) the
//! command line uses, so both give the same figures by construction.

use crate::report::FactRef;
use crate::report::{ActivityInfo, Dimension, Filters, Report, ReportBuilder};
use rust_decimal::Decimal;
use rustc_hash::FxHashMap;
use std::collections::HashMap;
use time::Date;

/// Interned strings: id → text, text → id.
#[derive(Debug, Default, Clone)]
struct Interner {
    names: Vec<String>,
    ids: FxHashMap<String, u32>,
}

impl Interner {
    fn id(&mut self, s: &str) -> u32 {
        if let Some(&i) = self.ids.get(s) {
            return i;
        }
        let i = self.names.len() as u32;
        self.names.push(s.to_owned());
        self.ids.insert(s.to_owned(), i);
        i
    }
    fn get(&self, i: u32) -> &str {
        self.names.get(i as usize).map(String::as_str).unwrap_or("")
    }
}

/// Every fact of a database, column by column.
#[derive(Debug, Default, Clone)]
pub struct FactTable {
    activity: Vec<u32>,
    transaction_type: Vec<u32>,
    date: Vec<Option<Date>>,
    currency: Vec<u32>,
    country: Vec<u32>,
    sector: Vec<u32>,
    implementing_org: Vec<u32>,
    amount: Vec<Decimal>,
    strings: Interner,
}

impl FactTable {
    /// An empty table.
    pub fn new() -> Self {
        Self::default()
    }

    /// Appends one fact (its strings are interned).
    pub fn push(&mut self, f: FactRef<'_>) {
        self.activity.push(f.activity);
        let t = self.strings.id(f.transaction_type);
        self.transaction_type.push(t);
        self.date.push(f.date);
        let c = self.strings.id(f.currency);
        self.currency.push(c);
        let c = self.strings.id(f.country);
        self.country.push(c);
        let s = self.strings.id(f.sector);
        self.sector.push(s);
        let o = self.strings.id(f.implementing_org);
        self.implementing_org.push(o);
        self.amount.push(f.amount);
    }

    /// Number of facts.
    pub fn len(&self) -> usize {
        self.activity.len()
    }

    /// True when there is no fact.
    pub fn is_empty(&self) -> bool {
        self.activity.is_empty()
    }

    /// Approximate heap size in bytes (for logs).
    pub fn heap_bytes(&self) -> usize {
        self.len() * (4 * 6 + std::mem::size_of::<Option<Date>>() + std::mem::size_of::<Decimal>())
            + self.strings.names.iter().map(|s| 2 * s.len() + 48).sum::<usize>()
    }

    /// Calls `f` with every fact, in the order pushed.
    pub fn for_each(&self, mut f: impl FnMut(FactRef<'_>)) {
        let s = &self.strings;
        for i in 0..self.len() {
            f(FactRef {
                activity: self.activity[i],
                transaction_type: s.get(self.transaction_type[i]),
                date: self.date[i],
                currency: s.get(self.currency[i]),
                country: s.get(self.country[i]),
                sector: s.get(self.sector[i]),
                implementing_org: s.get(self.implementing_org[i]),
                amount: self.amount[i],
            });
        }
    }

    /// A report over the table: the activities' mapping in `infos` (one strategy), grouped by
    /// `dims`, filtered by `filters`.
    pub fn report(
        &self,
        infos: &HashMap<u32, ActivityInfo>,
        dims: Vec<Dimension>,
        calendar_year: bool,
        filters: Filters,
    ) -> Report {
        let mut b = ReportBuilder::new(dims, calendar_year, filters, infos);
        self.for_each(|f| b.add(f));
        b.finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_table_gives_back_what_was_pushed() {
        let mut t = FactTable::new();
        let d = crate::codes::parse_iso_date("2023-10-01").ok();
        for (i, c) in ["GT", "HN", "GT"].iter().enumerate() {
            t.push(FactRef {
                activity: i as u32,
                transaction_type: "3",
                date: d,
                currency: "USD",
                country: c,
                sector: "15190",
                implementing_org: "IOM",
                amount: Decimal::new(12345 + i as i64, 2),
            });
        }
        let mut seen = Vec::new();
        t.for_each(|f| seen.push((f.activity, f.country.to_owned(), f.amount.to_string())));
        assert_eq!(
            seen,
            vec![
                (0, "GT".into(), "123.45".into()),
                (1, "HN".into(), "123.46".into()),
                (2, "GT".into(), "123.47".into())
            ]
        );
        assert_eq!(t.len(), 3);
        assert_eq!(t.strings.names.len(), 6, "3, USD, GT, HN, 15190, IOM: each interned once");
    }
}
