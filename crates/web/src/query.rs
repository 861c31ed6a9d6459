//! The portfolio selection shared by pages and the API: which strategy, line of effort,
//! country, agency, implementer, instrument, fiscal years, status and words. Parsed from the
//! query string and checked: a bad value is a 400 that names the parameter.

use crate::error::WebError;
use crate::state::AppState;
use senda_core::CountryCode;
use senda_core::orgs::{implementers, resolve};
use senda_core::report::{Dimension, Filters, NOT_MAPPED};
use senda_core::strategy::Strategy;
use senda_store::{ActivityCursor, ActivityFilter, ActivitySort};
use serde::Deserialize;

/// Raw query parameters (all optional). Pages and the API use the same names.
#[derive(Debug, Clone, Default, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct RawQuery {
    /// Strategy id (`cmms-2021`, `rc-2021`); default `cmms-2021` (pages also remember the
    /// last choice in the `senda_strategy` cookie; the API does not read cookies).
    #[param(pattern = "^(cmms-2021|rc-2021)?$")]
    pub strategy: Option<String>,
    /// Line of effort id (e.g. `LOE5`), or `NOT_MAPPED`.
    pub line_of_effort: Option<String>,
    /// ISO 3166-1 alpha-2 country code, `REGIONAL` or `UNKNOWN`.
    #[param(pattern = "^([A-Za-z]{2}|REGIONAL|UNKNOWN)?$")]
    pub country: Option<String>,
    /// Agency: an IATI organisation identifier (`US-GOV-1`), a name as published (any case,
    /// accents and spacing) or a common acronym (`USAID`), read as the CLI's `--reporting-org`
    /// (`senda_core::orgs::resolve`); an unknown organisation is a 400 with suggestions.
    pub reporting_org: Option<String>,
    /// Implementing organisation: a name (any case, accents and spacing) or a common acronym
    /// (`IOM`), read as the CLI's `--implementing-org`; an unknown one is a 400 with suggestions.
    pub implementing_org: Option<String>,
    /// Instrument id of the strategy (IATI activities are `foreign_assistance`).
    pub instrument: Option<String>,
    /// U.S. fiscal year `2023` or range `2020..2024`.
    pub fiscal_year: Option<String>,
    /// First fiscal year (pages' form; combined with `fy_to`).
    pub fy_from: Option<String>,
    /// Last fiscal year (pages' form).
    pub fy_to: Option<String>,
    /// `activity-status/@code` (1 to 6).
    #[param(pattern = "^[1-6]?$")]
    pub status: Option<String>,
    /// Words in the title (English or Spanish) or identifier.
    pub q: Option<String>,
    /// `true`: only activities with a negative commitment or disbursement (U.S.
    /// de-obligations and returned funds). Activity lists only; reports net them.
    #[param(pattern = "^(true|false)?$")]
    pub negative_money: Option<String>,
    /// Order of activity lists: identifier, title, start_date, disbursements, commitments.
    pub sort: Option<String>,
    /// Keyset cursor from the previous page's `next_cursor`.
    pub cursor: Option<String>,
    /// Rows per page (1 to 1000; default 50).
    #[param(pattern = "^[0-9]*$")]
    pub limit: Option<String>,
    /// Interface language (`en`, `es`); pages only.
    pub lang: Option<String>,
}

/// The organisation filters as read by `senda_core::orgs::resolve` (the CLI's rule).
#[derive(Debug, Clone, Default)]
pub struct ResolvedOrgs {
    /// Reporting organisations' names for reports.
    pub reporting_names: Vec<String>,
    /// Reporting organisation for activity lists (an identifier or a name).
    pub reporting_list: Option<String>,
    /// Implementing organisations' names for reports.
    pub implementing_names: Vec<String>,
    /// Implementing organisations for activity lists (the names of one organisation).
    pub implementing_list: Vec<String>,
    /// Organisations known (an acronym of the table) but without data here: (parameter, what
    /// was typed read as, e.g. `MCC = US-GOV-18`). The filter then matches nothing; pages say why.
    pub without_data: Vec<(&'static str, String)>,
}

/// A checked selection.
#[derive(Debug, Clone, Default)]
pub struct Selection {
    /// Strategy id.
    pub strategy: String,
    /// Line of effort id as in the strategy, or `NOT_MAPPED`.
    pub line_of_effort: Option<String>,
    /// Country label.
    pub country: Option<String>,
    /// Agency, as typed (links and forms keep it).
    pub reporting_org: Option<String>,
    /// Implementer, as typed.
    pub implementing_org: Option<String>,
    /// What the typed organisations stand for ([`Selection::resolve_orgs`]): the names
    /// reports keep and the value activity lists filter by.
    pub orgs: ResolvedOrgs,
    /// Instrument id.
    pub instrument: Option<String>,
    /// Fiscal years, inclusive.
    pub fiscal_years: Option<(i32, i32)>,
    /// Status code.
    pub status: Option<String>,
    /// Words.
    pub text: Option<String>,
    /// Only activities with negative money (de-obligations, returns).
    pub negative_money: bool,
}

fn nonempty(v: &Option<String>) -> Option<String> {
    v.as_ref().map(|s| s.trim().to_owned()).filter(|s| !s.is_empty())
}

fn year(name: &str, s: &str) -> Result<i32, WebError> {
    s.trim()
        .parse::<i32>()
        .ok()
        .filter(|y| (1950..=2100).contains(y))
        .ok_or_else(|| WebError::BadRequest(format!("{name}: {s:?} is not a year (expected e.g. 2023)")))
}

/// Parses `2023` or `2020..2024` (also `2020-2024`).
pub fn parse_years(name: &str, s: &str) -> Result<(i32, i32), WebError> {
    let s = s.trim();
    let (a, b) = match s.split_once("..").or_else(|| s.split_once('-')) {
        Some((a, b)) => (year(name, a)?, year(name, b)?),
        None => {
            let y = year(name, s)?;
            (y, y)
        }
    };
    if a > b {
        return Err(WebError::BadRequest(format!("{name}: {s:?} runs backwards")));
    }
    Ok((a, b))
}

impl RawQuery {
    /// Checks the parameters against `strategy` (already chosen by the caller).
    pub fn selection(&self, strategy: &Strategy) -> Result<Selection, WebError> {
        // Free text goes into LIKE patterns and comparisons: a control character (a NUL ends a
        // LIKE pattern in SQLite, so `q=%00` matched everything) is refused, on every endpoint.
        for (name, v) in
            [("reporting_org", &self.reporting_org), ("implementing_org", &self.implementing_org), ("q", &self.q)]
        {
            if let Some(c) = v.as_deref().and_then(|s| s.chars().find(|c| c.is_control())) {
                return Err(WebError::BadRequest(format!(
                    "{name}: control characters are not allowed (found U+{:04X})",
                    u32::from(c)
                )));
            }
        }
        let line_of_effort = match nonempty(&self.line_of_effort) {
            None => None,
            Some(l) if l.eq_ignore_ascii_case(NOT_MAPPED) => Some(NOT_MAPPED.to_owned()),
            Some(l) => Some(
                strategy
                    .lines_of_effort
                    .iter()
                    .find(|x| x.id.eq_ignore_ascii_case(&l))
                    .map(|x| x.id.clone())
                    .ok_or_else(|| {
                        WebError::BadRequest(format!(
                            "line_of_effort: {l:?} is not a line of effort of {} (known: {}, NOT_MAPPED)",
                            strategy.id,
                            strategy.lines_of_effort.iter().map(|x| x.id.as_str()).collect::<Vec<_>>().join(", ")
                        ))
                    })?,
            ),
        };
        let country = match nonempty(&self.country) {
            None => None,
            Some(c) if c.eq_ignore_ascii_case("REGIONAL") || c.eq_ignore_ascii_case("UNKNOWN") => {
                Some(c.to_ascii_uppercase())
            }
            Some(c) => Some(
                CountryCode::parse(&c)
                    .map_err(|_| {
                        WebError::BadRequest(format!(
                            "country: {c:?} is not an ISO 3166-1 alpha-2 code of the IATI Country codelist (or REGIONAL, UNKNOWN)"
                        ))
                    })?
                    .as_str()
                    .to_owned(),
            ),
        };
        let instrument = match nonempty(&self.instrument) {
            None => None,
            Some(i) => Some(
                strategy.instruments.iter().find(|x| x.id.eq_ignore_ascii_case(&i)).map(|x| x.id.clone()).ok_or_else(
                    || {
                        WebError::BadRequest(format!(
                            "instrument: {i:?} is not an instrument of {} (known: {})",
                            strategy.id,
                            strategy.instruments.iter().map(|x| x.id.as_str()).collect::<Vec<_>>().join(", ")
                        ))
                    },
                )?,
            ),
        };
        let fiscal_years = match (nonempty(&self.fiscal_year), nonempty(&self.fy_from), nonempty(&self.fy_to)) {
            (Some(fy), _, _) => Some(parse_years("fiscal_year", &fy)?),
            (None, None, None) => None,
            (None, a, b) => {
                let a = a.map(|a| year("fy_from", &a)).transpose()?.unwrap_or(1950);
                let b = b.map(|b| year("fy_to", &b)).transpose()?.unwrap_or(2100);
                if a > b {
                    return Err(WebError::BadRequest(format!("fy_from {a} is after fy_to {b}")));
                }
                Some((a, b))
            }
        };
        let status = match nonempty(&self.status) {
            None => None,
            Some(s) if matches!(s.as_str(), "1" | "2" | "3" | "4" | "5" | "6") => Some(s),
            Some(s) => {
                return Err(WebError::BadRequest(format!("status: {s:?} is not an IATI ActivityStatus code (1 to 6)")));
            }
        };
        let negative_money = match nonempty(&self.negative_money).as_deref() {
            None | Some("false") => false,
            Some("true") => true,
            Some(v) => return Err(WebError::BadRequest(format!("negative_money: {v:?} is not true or false"))),
        };
        Ok(Selection {
            negative_money,
            strategy: strategy.id.clone(),
            line_of_effort,
            country,
            reporting_org: nonempty(&self.reporting_org),
            implementing_org: nonempty(&self.implementing_org),
            orgs: ResolvedOrgs::default(),
            instrument,
            fiscal_years,
            status,
            text: nonempty(&self.q),
        })
    }

    /// The activity order (default: identifier).
    pub fn sort(&self) -> Result<ActivitySort, WebError> {
        match nonempty(&self.sort) {
            None => Ok(ActivitySort::Identifier),
            Some(s) => ActivitySort::parse(&s).ok_or_else(|| {
                WebError::BadRequest(format!(
                    "sort: {s:?} is not one of {}",
                    ActivitySort::ALL.map(|x| x.name()).join(", ")
                ))
            }),
        }
    }

    /// Rows per page: 1 to `max` (default 50).
    pub fn limit(&self, max: u64) -> Result<u64, WebError> {
        match nonempty(&self.limit) {
            None => Ok(50.min(max)),
            // Digits only: `+5` and ` 5` are not what the API documents.
            Some(s) => Some(s.as_str())
                .filter(|s| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit()))
                .and_then(|s| s.parse::<u64>().ok())
                .filter(|n| (1..=max).contains(n))
                .ok_or_else(|| WebError::BadRequest(format!("limit: {s:?} is not a number from 1 to {max}"))),
        }
    }

    /// The decoded cursor.
    pub fn cursor(&self) -> Result<Option<ActivityCursor>, WebError> {
        nonempty(&self.cursor).map(|c| decode_cursor(&c)).transpose()
    }
}

/// An opaque cursor: the hex of the cursor's JSON.
pub fn encode_cursor(c: &ActivityCursor) -> String {
    let json = serde_json::to_string(c).unwrap_or_default();
    json.bytes().map(|b| format!("{b:02x}")).collect()
}

/// Reads a cursor made by [`encode_cursor`].
pub fn decode_cursor(s: &str) -> Result<ActivityCursor, WebError> {
    let shown: String = s.chars().take(40).collect();
    let bad = || {
        WebError::BadRequest(format!(
            "cursor: {shown:?}{} is not a cursor from a previous page",
            if s.len() > 40 { "…" } else { "" }
        ))
    };
    if !s.len().is_multiple_of(2) || s.len() > 4096 {
        return Err(bad());
    }
    // Byte pairs, never string slices: a multi-byte character must not cut a slice (it panicked).
    let bytes: Option<Vec<u8>> = s
        .as_bytes()
        .chunks(2)
        .map(|pair| std::str::from_utf8(pair).ok().and_then(|h| u8::from_str_radix(h, 16).ok()))
        .collect();
    let bytes = bytes.ok_or_else(bad)?;
    serde_json::from_slice(&bytes).map_err(|_| bad())
}

impl Selection {
    /// Reads the organisation filters as the CLI does (`senda_core::orgs::resolve` against the
    /// organisations of the data): an identifier, a name in any case or accents, or an acronym.
    /// Unknown: [`WebError::UnknownOrg`] naming the parameter, with suggestions.
    pub async fn resolve_orgs(mut self, state: &AppState) -> Result<Self, WebError> {
        if let Some(typed) = self.reporting_org.clone() {
            let known = state.cached("orgs|reporting".into(), |s| s.reporting_orgs()).await?;
            let r = resolve(&typed, &known).map_err(|error| WebError::UnknownOrg { param: "reporting_org", error })?;
            if r.names.is_empty() {
                self.orgs.without_data.push(("reporting_org", r.label.clone()));
            }
            self.orgs.reporting_list = Some(r.list_value(&typed));
            self.orgs.reporting_names = r.report_names(&typed);
        }
        if let Some(typed) = self.implementing_org.clone() {
            let by = state.report(&self.strategy, vec![Dimension::ImplementingOrg], false, Filters::new()).await?;
            let known = implementers(by.rows.iter().filter_map(|r| r.key.first().map(String::as_str)));
            let r =
                resolve(&typed, &known).map_err(|error| WebError::UnknownOrg { param: "implementing_org", error })?;
            if r.names.is_empty() {
                self.orgs.without_data.push(("implementing_org", r.label.clone()));
            }
            let names = r.report_names(&typed);
            self.orgs.implementing_list = names.clone();
            self.orgs.implementing_names = names;
        }
        Ok(self)
    }

    /// True when the instrument chosen has no IATI activities (they are all foreign assistance).
    pub fn excludes_iati(&self) -> bool {
        self.instrument.as_deref().is_some_and(|i| i != "foreign_assistance")
    }

    /// The store filter for activity lists.
    pub fn activity_filter(
        &self,
        sort: ActivitySort,
        after: Option<ActivityCursor>,
        limit: Option<u64>,
    ) -> ActivityFilter {
        ActivityFilter {
            strategy: self.strategy.clone(),
            line_of_effort: self.line_of_effort.clone(),
            country: self.country.clone(),
            reporting_org: self.orgs.reporting_list.clone(),
            text: self.text.clone(),
            status: self.status.clone(),
            implementing_org: self.orgs.implementing_list.clone(),
            fiscal_years: self.fiscal_years,
            negative_money: self.negative_money,
            sort,
            after,
            limit,
        }
    }

    /// The report filters (status and words do not apply to reports).
    pub fn report_filters(&self) -> Filters {
        let mut f = Filters::new();
        let mut put = |d: Dimension, v: &Option<String>| {
            if let Some(v) = v {
                f.insert(d, vec![v.clone()]);
            }
        };
        put(Dimension::LineOfEffort, &self.line_of_effort);
        put(Dimension::Country, &self.country);
        put(Dimension::Instrument, &self.instrument);
        if !self.orgs.reporting_names.is_empty() {
            f.insert(Dimension::ReportingOrg, self.orgs.reporting_names.clone());
        }
        if !self.orgs.implementing_names.is_empty() {
            f.insert(Dimension::ImplementingOrg, self.orgs.implementing_names.clone());
        }
        if let Some((a, b)) = self.fiscal_years {
            f.insert(Dimension::FiscalYear, (a..=b).map(|y| y.to_string()).collect());
        }
        f
    }

    /// The same selection as query-string pairs (for links that keep it).
    pub fn pairs(&self) -> Vec<(&'static str, String)> {
        let mut v = vec![("strategy", self.strategy.clone())];
        let mut put = |k: &'static str, x: &Option<String>| {
            if let Some(x) = x {
                v.push((k, x.clone()));
            }
        };
        put("line_of_effort", &self.line_of_effort);
        put("country", &self.country);
        put("reporting_org", &self.reporting_org);
        put("implementing_org", &self.implementing_org);
        put("instrument", &self.instrument);
        put("status", &self.status);
        put("q", &self.text);
        if self.negative_money {
            v.push(("negative_money", "true".to_owned()));
        }
        if let Some((a, b)) = self.fiscal_years {
            v.push(("fiscal_year", if a == b { a.to_string() } else { format!("{a}..{b}") }));
        }
        v
    }
}

/// Percent-encodes a query-string component.
pub fn enc(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~') {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// `k=v&k=v`, encoded.
pub fn query_string(pairs: &[(&str, String)]) -> String {
    pairs.iter().map(|(k, v)| format!("{k}={}", enc(v))).collect::<Vec<_>>().join("&")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cursors_round_trip_and_garbage_is_refused() {
        let c = ActivityCursor {
            sort_value: "1234.50".into(),
            iati_identifier: "US-GOV-1-ÑANDÚ/2".into(),
            db_id: Some(42),
        };
        assert_eq!(decode_cursor(&encode_cursor(&c)).expect("decode"), c);
        // A multi-byte character anywhere (issue 20: `cursor=a%E2%82%AC` closed the connection).
        for bad in ["a€", "€a", "0€0", "ab€"] {
            assert!(decode_cursor(bad).is_err(), "{bad}");
        }
        for bad in ["zz", "abc", "7b7d", "<script>"] {
            assert!(decode_cursor(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn bad_parameters_name_themselves() {
        let st = Strategy::builtin("cmms-2021").expect("builtin");
        let q = RawQuery { country: Some("Guatemala".into()), ..Default::default() };
        let e = q.selection(&st).expect_err("bad country");
        assert!(e.to_string().starts_with("country:"), "{e}");
        let q = RawQuery { line_of_effort: Some("loe9".into()), ..Default::default() };
        assert!(q.selection(&st).expect_err("bad loe").to_string().contains("LOE1"));
        let q = RawQuery { fiscal_year: Some("2024..2020".into()), ..Default::default() };
        assert!(q.selection(&st).is_err());
        let q = RawQuery { line_of_effort: Some("loe5".into()), country: Some("gt".into()), ..Default::default() };
        let s = q.selection(&st).expect("ok");
        assert_eq!((s.line_of_effort.as_deref(), s.country.as_deref()), (Some("LOE5"), Some("GT")));
        assert!(RawQuery { limit: Some("1001".into()), ..Default::default() }.limit(1000).is_err());
        // Control characters in free text (issue 20: `q=%00` matched everything on SQLite).
        for q in ["\0", "a\u{0}b", "x\u{7}", "tab\there"] {
            let e = RawQuery { q: Some(q.into()), ..Default::default() }.selection(&st).expect_err("refused");
            assert!(e.to_string().starts_with("q: control characters"), "{e}");
        }
        let e = RawQuery { reporting_org: Some("US\u{1}AID".into()), ..Default::default() }.selection(&st);
        assert!(e.is_err());
        assert!(RawQuery { q: Some("educación".into()), ..Default::default() }.selection(&st).is_ok());
    }
}
