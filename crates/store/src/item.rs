//! [`ImportItem`]: one activity prepared for the store on an import worker thread.
//!
//! Every value the writer binds (activity row, facts, admin-1 locations, mappings and their
//! evidence) is computed when the item is made, and every string of it lives in one buffer. The
//! item then crosses from the worker to the writer thread as a handful of allocations instead
//! of the parsed activity's dozens: freeing those on the writer thread, and the worker reusing
//! that memory afterwards, measured about 14 % of an import's CPU (see `docs/benchmarks.md`).

use crate::codec;
use rust_decimal::Decimal;
use senda_core::Activity;
use senda_core::attribution::FactRef;
use senda_core::mapping::{Evidence, Mapping};

/// A string inside [`ImportItem`]'s buffer: byte range `start..end`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct Span {
    start: usize,
    end: usize,
}

/// Values of the `activity` table row (see the schema in `migrations/sqlite/`).
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct RowSpans {
    pub iati_identifier: Span,
    pub reporting_org_ref: Option<Span>,
    pub reporting_org_name: Span,
    pub title: Span,
    pub title_key: Span,
    pub title_es: Span,
    pub status: Option<Span>,
    pub countries: Span,
    pub start_date: Option<Span>,
    pub end_date: Option<Span>,
    pub last_updated: Option<Span>,
    pub last_updated_utc: Span,
    pub commitments_usd: Span,
    pub disbursements_usd: Span,
    pub expenditures_usd: Span,
}

/// Values of one `fact` row.
#[derive(Debug, Clone, Copy)]
pub(crate) struct FactSpans {
    pub transaction_index: Option<i64>,
    pub transaction_type: Span,
    pub date: Option<Span>,
    pub currency: Span,
    pub country: Span,
    pub sector: Span,
    pub implementing_org: Span,
    pub amount: Span,
}

/// Values of one `activity_location` row: country, vocabulary, code, name.
pub(crate) type LocationSpans = [Span; 4];

/// Values of one `activity_mapping` row and its `mapping_evidence`: strategy, lines of effort
/// (`LOE1;LOE5`, empty when not mapped: then no `activity_mapping` row is written), their
/// confidence (`strong;weak`), evidence as JSON, near misses as JSON.
pub(crate) type MappingSpans = [Span; 5];

/// What is stored of one mapping (see [`mapping_row`]).
pub(crate) struct MappingRow {
    /// `activity_mapping.lines`; empty when not mapped (no `activity_mapping` row then).
    pub lines: String,
    /// `activity_mapping.confidence`, aligned with `lines`.
    pub confidence: String,
    /// `mapping_evidence.evidence` ([`write_evidence_json`]).
    pub evidence: String,
    /// `mapping_evidence.near_misses`, JSON.
    pub near_misses: String,
}

/// The rows one mapping is stored as, written the same way by the import and by a re-mapping
/// on both backends; `None` when there is nothing to store (not mapped, no near miss: "not
/// mapped" is the absence of rows).
pub(crate) fn mapping_row(m: &Mapping) -> Option<MappingRow> {
    if m.lines_of_effort.is_empty() && m.near_misses.is_empty() {
        return None;
    }
    let mut json = Vec::new();
    let evidence = match write_evidence_json(&m.evidence, &mut json) {
        Ok(()) => String::from_utf8(json).unwrap_or_else(|_| "[]".into()),
        Err(_) => "[]".into(),
    };
    Some(MappingRow {
        lines: m.lines_of_effort.join(";"),
        confidence: m.confidence_text(),
        evidence,
        near_misses: serde_json::to_string(&m.near_misses).unwrap_or_else(|_| "[]".into()),
    })
}

/// One activity ready to store, made on a worker thread by [`ImportItem::new`].
#[derive(Debug)]
pub struct ImportItem {
    /// Position in its file (0-based).
    pub ordinal: u64,
    /// Byte offset of its `iati-activity` element in the file (for diagnostics).
    pub offset: u64,
    /// Number of transactions.
    pub transaction_count: u64,
    /// Hash of its stored form; equal fingerprints mean "unchanged".
    pub fingerprint: String,
    /// The activity and its transactions encoded for storage ([`codec::encode`]).
    pub encoded: codec::Encoded,
    /// True for synthetic (demo) data.
    pub synthetic: bool,
    /// Number of result indicators (`result/indicator`).
    pub indicators: u64,
    pub(crate) hierarchy: Option<u32>,
    pub(crate) humanitarian: Option<bool>,
    text: String,
    pub(crate) row: RowSpans,
    pub(crate) facts: Vec<FactSpans>,
    pub(crate) locations: Vec<LocationSpans>,
    pub(crate) mappings: Vec<MappingSpans>,
}

/// Everything an [`ImportItem`] is made from besides the activity itself.
#[derive(Debug)]
pub struct ItemParts<'a> {
    /// Position in its file (0-based).
    pub ordinal: u64,
    /// Byte offset of its `iati-activity` element.
    pub offset: u64,
    /// Hash of `encoded` (see [`ImportItem::fingerprint`]).
    pub fingerprint: String,
    /// The stored form ([`codec::encode`]).
    pub encoded: codec::Encoded,
    /// Attributed facts ([`senda_core::attribution::facts`], compacted).
    pub facts: &'a [FactRef<'a>],
    /// The rules' mapping for each built-in strategy: `(strategy id, mapping)`.
    pub mappings: &'a [(&'a str, Mapping)],
    /// True for synthetic (demo) data.
    pub synthetic: bool,
}

impl ImportItem {
    /// Prepares `a` for the store: the activity row (identifier, reporting-org, English and
    /// Spanish titles, status, start and end dates, `last-updated-datetime` as published and in
    /// UTC, recipient countries at activity and transaction level as `;GT;HN;`, USD totals of
    /// commitments, disbursements and expenditures), one row per fact, the admin-1 locations,
    /// and the mapped strategies (not-mapped ones are left out: "not mapped" is the absence of
    /// rows). Its transactions must still be in `a` (for the count and countries).
    pub fn new(a: &Activity, parts: ItemParts<'_>) -> ImportItem {
        let mut b = Builder { text: String::with_capacity(256 + 64 * parts.facts.len()) };
        let mut totals = [Decimal::ZERO; 3];
        for f in parts.facts {
            if f.currency == "USD" {
                match f.transaction_type {
                    "2" => totals[0] += f.amount,
                    "3" => totals[1] += f.amount,
                    "4" => totals[2] += f.amount,
                    _ => {}
                }
            }
        }
        let countries = b.push_with(|s| {
            let c = a.all_countries();
            if !c.is_empty() {
                s.push(';');
                for x in &c {
                    s.push_str(x.as_str());
                    s.push(';');
                }
            }
        });
        // The Spanish title, when one is published in Spanish (searchable by `--text`).
        let has_es = a
            .title
            .iter()
            .any(|n| n.lang.as_deref().or(a.default_language.as_deref()).is_some_and(|l| l.eq_ignore_ascii_case("es")));
        let title_es = if has_es {
            senda_core::text::pick_narrative(&a.title, Some("es"), a.default_language.as_deref()).unwrap_or("")
        } else {
            ""
        };
        let by = |t: &str| a.dates.iter().find(|d| d.date_type == t).map(|d| d.date);
        let start = by("2").or_else(|| by("1"));
        let end = by("4").or_else(|| by("3"));
        let row = RowSpans {
            iati_identifier: b.push(a.iati_identifier.as_str()),
            reporting_org_ref: a.reporting_org.r#ref.as_deref().map(|s| b.push(s)),
            reporting_org_name: b.push(a.reporting_org.display_name()),
            title: b.push(a.title_in("en")),
            title_key: b.push(&crate::rules::sort_key::title_key(a.title_in("en"))),
            title_es: b.push(title_es),
            status: a.status.as_deref().map(|s| b.push(s)),
            countries,
            start_date: start.map(|d| b.display(d)),
            end_date: end.map(|d| b.display(d)),
            last_updated: a.last_updated.as_deref().map(|s| b.push(s)),
            last_updated_utc: b.push_with(|s| normalise_datetime_into(a.last_updated.as_deref(), s)),
            commitments_usd: b.display(totals[0]),
            disbursements_usd: b.display(totals[1]),
            expenditures_usd: b.display(totals[2]),
        };
        let facts = parts
            .facts
            .iter()
            .map(|f| FactSpans {
                transaction_index: f.transaction_index.map(|i| i as i64),
                transaction_type: b.push(f.transaction_type),
                date: f.date.map(|d| b.display(d)),
                currency: b.push(f.currency),
                country: b.push(f.country),
                sector: b.push(f.sector),
                implementing_org: b.push(f.implementing_org),
                amount: b.display(f.amount),
            })
            .collect();
        let mut locations = Vec::new();
        for_each_admin1_location(a, |c, v, k, n| locations.push([b.push(c), b.push(v), b.push(k), b.push(n)]));
        // The rows of each mapping with something to store.
        let mappings = parts
            .mappings
            .iter()
            .filter_map(|(s, m)| {
                let row = mapping_row(m)?;
                Some([
                    b.push(s),
                    b.push(&row.lines),
                    b.push(&row.confidence),
                    b.push(&row.evidence),
                    b.push(&row.near_misses),
                ])
            })
            .collect();
        ImportItem {
            ordinal: parts.ordinal,
            offset: parts.offset,
            transaction_count: a.transactions.len() as u64,
            fingerprint: parts.fingerprint,
            encoded: parts.encoded,
            synthetic: parts.synthetic,
            indicators: a.results.iter().map(|r| r.indicators.len() as u64).sum(),
            hierarchy: a.hierarchy,
            humanitarian: a.humanitarian,
            text: b.text,
            row,
            facts,
            locations,
            mappings,
        }
    }

    /// The text of a span of this item.
    pub(crate) fn s(&self, span: Span) -> &str {
        self.text.get(span.start..span.end).unwrap_or("")
    }

    /// The text of an optional span.
    pub(crate) fn opt(&self, span: Option<Span>) -> Option<&str> {
        span.map(|s| self.s(s))
    }

    /// `iati-identifier`.
    pub fn iati_identifier(&self) -> &str {
        self.s(self.row.iati_identifier)
    }
}

/// Appends strings to the item's buffer and returns where they are.
struct Builder {
    text: String,
}

impl Builder {
    fn push(&mut self, s: &str) -> Span {
        let start = self.text.len();
        self.text.push_str(s);
        Span { start, end: self.text.len() }
    }

    fn push_with(&mut self, f: impl FnOnce(&mut String)) -> Span {
        let start = self.text.len();
        f(&mut self.text);
        Span { start, end: self.text.len() }
    }

    fn display(&mut self, v: impl std::fmt::Display) -> Span {
        use std::fmt::Write;
        self.push_with(|s| {
            let _ = write!(s, "{v}");
        })
    }
}

/// Writes mapping evidence as stored in `mapping_evidence.evidence`: a JSON array with one array
/// per piece of evidence, `[line_of_effort, rule, kind, field, value, strength]` (positional:
/// the keys of the object form were a third of the table). Read back as `Vec<Evidence>` by
/// serde, which takes a struct from an array by position or from an object by name, so rows
/// written in the object form before read the same, and so do rows written before strengths
/// (five elements: the strength reads as weak).
pub(crate) fn write_evidence_json(evidence: &[Evidence], out: &mut Vec<u8>) -> Result<(), serde_json::Error> {
    use serde::Serializer;
    let mut ser = serde_json::Serializer::new(out);
    ser.collect_seq(evidence.iter().map(|e| {
        (e.line_of_effort.as_str(), e.rule.as_str(), e.kind.as_str(), &e.field, &e.value, e.strength.as_str())
    }))
}

/// Writes a `last-updated-datetime` normalised to UTC (for comparison); nothing when missing or
/// unparsable (so it sorts first; the reader warns about an unparsable one).
fn normalise_datetime_into(s: Option<&str>, out: &mut String) {
    if let Some(s) = s {
        senda_core::codes::normalise_datetime_into(s, out);
    }
}

/// Admin-1 locations of an activity: (country, vocabulary, code, name) per `location` with an
/// `administrative[@level=1]`. The country is the location's level-0 A4 code, else the
/// activity's only `recipient-country`, else empty.
pub(crate) fn admin1_locations(a: &Activity) -> Vec<(String, String, String, String)> {
    let mut out = Vec::new();
    for_each_admin1_location(a, |c, v, k, n| out.push((c.to_owned(), v.to_owned(), k.to_owned(), n.to_owned())));
    out
}

fn for_each_admin1_location(a: &Activity, mut f: impl FnMut(&str, &str, &str, &str)) {
    let only_country = match a.recipient_countries.as_slice() {
        [one] => one.code.as_str(),
        _ => "",
    };
    for l in &a.locations {
        let level0 = l
            .administratives
            .iter()
            .find(|x| x.level.as_deref() == Some("0") && x.vocabulary.as_deref() == Some("A4"))
            .map(|x| x.code.to_ascii_uppercase());
        let country = level0.as_deref().unwrap_or(only_country);
        let name = senda_core::text::pick_narrative(&l.name, Some("en"), a.default_language.as_deref()).unwrap_or("");
        for adm in l.administratives.iter().filter(|x| x.level.as_deref() == Some("1")) {
            f(country, adm.vocabulary.as_deref().unwrap_or(""), &adm.code, name);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn evidence_is_stored_by_position_and_both_forms_read_back_the_same() {
        let evidence = vec![
            Evidence {
                line_of_effort: "LOE5".into(),
                rule: "loe5-returned-migrants-terms-title".into(),
                kind: "keyword".into(),
                field: "title/narrative[@xml:lang=en]".into(),
                value: "returned \"migrants\" <script>".into(),
                strength: senda_core::mapping::Strength::Medium,
            },
            Evidence {
                line_of_effort: "LOE1".into(),
                rule: "loe1-dac".into(),
                kind: "sector".into(),
                field: "sector[@vocabulary=1]".into(),
                value: "15142 (Macroeconomic policy)".into(),
                strength: senda_core::mapping::Strength::Strong,
            },
        ];
        let mut json = Vec::new();
        write_evidence_json(&evidence, &mut json).expect("written");
        let text = std::str::from_utf8(&json).expect("UTF-8");
        assert!(text.starts_with(r#"[["LOE5","loe5-returned-migrants-terms-title","keyword","#), "{text}");
        assert!(!text.contains("line_of_effort"), "no keys: {text}");
        // Smaller than the object form written before.
        let objects = serde_json::to_string(&evidence).expect("objects");
        assert!(json.len() * 10 < objects.len() * 7, "{} against {}", json.len(), objects.len());
        // Both read back as the same evidence (rows in the object form stay readable).
        let from_arrays: Vec<Evidence> = serde_json::from_str(text).expect("arrays");
        let from_objects: Vec<Evidence> = serde_json::from_str(&objects).expect("objects");
        assert_eq!(from_arrays, evidence);
        assert_eq!(from_objects, evidence);
        // None at all: an empty array.
        json.clear();
        write_evidence_json(&[], &mut json).expect("written");
        assert_eq!(json, b"[]");
        // A row written before strengths (five elements) reads with the default strength.
        let old: Vec<Evidence> =
            serde_json::from_str(r#"[["LOE1","r","sector","sector[@vocabulary=1]","72010"]]"#).expect("old row");
        assert_eq!(old[0].strength, senda_core::mapping::Strength::Weak);
    }
}
