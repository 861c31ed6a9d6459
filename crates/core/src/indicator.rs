//! Indicators of a strategy ([`IndicatorDef`], declared per line of effort in the strategy's
//! TOML, `[[indicators]]`), the aggregation rules ([`Aggregation`]) and progress against
//! baseline and target ([`progress`]).
//!
//! Rules (also in `docs/indicators.md`):
//! - A country's value for a period is the value reported for the country when there is one;
//!   otherwise its departments' values combined by `up_hierarchy`.
//! - Several countries together (the strategy's region) combine by `over_places`.
//! - Several periods combine by `over_time` (e.g. fiscal-year total of monthly values).
//! - The total of a disaggregated indicator is the value reported without disaggregation; when
//!   only disaggregated values exist, one dimension's categories combine by `over_places`
//!   (they partition the population like places do).
//! - `not_additive` never combines two values: the result is "not aggregable", shown as such.
//! - A ratio (`ratio_of_sums`) sums numerators and denominators separately, then divides.

use crate::observation::{Disaggregation, Observation, Place, ValueKind};
use crate::period::Period;
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// Which way is better.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Direction {
    /// More is better (people reached, workers recruited fairly).
    Up,
    /// Less is better (irregular crossings, deaths on the route).
    Down,
}

/// How values combine.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Aggregation {
    /// Add them up (counts of people, encounters).
    Sum,
    /// Keep the value of the latest period (stocks: people in a registry at period end).
    Latest,
    /// Keep the largest.
    Maximum,
    /// Sum numerators and denominators, then divide (rates, percentages).
    RatioOfSums,
    /// Never combined; more than one value gives "not aggregable".
    NotAdditive,
}

/// Whether an indicator is reported by the strategy's partners or fed by public statistics.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum IndicatorKind {
    /// Results reported by implementers (CSV/HXL, IATI `result`, API).
    Result,
    /// Context: a migration statistic (encounters, returns, visas), read from `senda stats`.
    Context,
}

/// A disaggregation dimension an indicator accepts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DisaggregationDim {
    /// `female`, `male`.
    Sex,
    /// `0-17`, `18-59`, `60+`, or a source's own groups (`Accompanied Minors`, `Single Adults`).
    AgeGroup,
    /// `returnee`, `asylum_seeker`, `refugee`, `internally_displaced`, `migrant_worker`.
    PopulationGroup,
}

impl DisaggregationDim {
    /// The dimension's key in a [`Disaggregation`].
    pub fn key(self) -> &'static str {
        match self {
            DisaggregationDim::Sex => "sex",
            DisaggregationDim::AgeGroup => "age_group",
            DisaggregationDim::PopulationGroup => "population_group",
        }
    }
}

/// The accepted categories of `sex` and `population_group`; `age_group` is free text.
pub const SEX_CATEGORIES: &[&str] = &["female", "male"];
/// The accepted categories of `population_group`.
pub const POPULATION_GROUPS: &[&str] =
    &["returnee", "asylum_seeker", "refugee", "internally_displaced", "migrant_worker", "host_community"];

/// One indicator of a strategy (`[[indicators]]` in the TOML).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct IndicatorDef {
    /// Stable code, e.g. `LOE5-1`.
    pub code: String,
    /// The line of effort it measures.
    pub line_of_effort: String,
    /// Name in English.
    pub name: String,
    /// Name in Spanish.
    pub name_es: String,
    /// Unit: `people`, `encounters`, `visas`, `percent`, `USD`, `events`...
    pub unit: String,
    /// Which way is better.
    pub direction: Direction,
    /// Result or context.
    pub kind: IndicatorKind,
    /// How periods combine (e.g. months into a fiscal year).
    pub over_time: Aggregation,
    /// How places combine (countries into the region).
    pub over_places: Aggregation,
    /// How departments combine into their country.
    pub up_hierarchy: Aggregation,
    /// Accepted disaggregations.
    #[serde(default)]
    pub disaggregations: Vec<DisaggregationDim>,
    /// Where values come from (publisher, dataset or reporting partner).
    pub source: String,
    /// For context indicators: the statistic series code that feeds it.
    pub series: Option<String>,
    /// For context indicators: only observations whose disaggregation has these values.
    #[serde(default)]
    pub series_filter: BTreeMap<String, String>,
    /// A note on method or definition.
    pub note: Option<String>,
}

impl IndicatorDef {
    /// Fingerprint of what changes the meaning of a value: unit, direction, aggregation rules,
    /// disaggregations, series and filter. Names, notes and source wording do not count. A
    /// changed fingerprint makes a new definition version; values keep the version they were
    /// reported under.
    pub fn measurement_fingerprint(&self) -> String {
        let v = serde_json::json!({
            "code": self.code,
            "unit": self.unit,
            "direction": self.direction,
            "kind": self.kind,
            "over_time": self.over_time,
            "over_places": self.over_places,
            "up_hierarchy": self.up_hierarchy,
            "disaggregations": self.disaggregations,
            "series": self.series,
            "series_filter": self.series_filter,
        });
        v.to_string()
    }

    /// The name in `lang` (`es` → Spanish, anything else → English).
    pub fn name_in(&self, lang: &str) -> &str {
        if lang.starts_with("es") { &self.name_es } else { &self.name }
    }

    /// The rule for a reported value, the same on every way in (results files, the API):
    /// every indicator counts or measures something (people, encounters, days, percent), so
    /// none is negative; a change is a later value, not a negative one.
    pub fn check_value(&self, value: Decimal) -> Result<(), String> {
        if value.is_sign_negative() && !value.is_zero() {
            return Err(format!("{value} is negative; {} is counted in {}", self.code, self.unit));
        }
        Ok(())
    }

    /// The rule for a ratio's denominator (results files, the API): greater than 0.
    pub fn check_denominator(denominator: Decimal) -> Result<(), String> {
        if denominator.is_sign_negative() || denominator.is_zero() {
            return Err(format!("{denominator}: a denominator is greater than 0"));
        }
        Ok(())
    }

    /// Checks a value's disaggregation against the declared dimensions; returns what is wrong.
    pub fn check_disaggregation(&self, d: &Disaggregation) -> Result<(), String> {
        for (k, v) in d {
            let dim = self
                .disaggregations
                .iter()
                .find(|x| x.key() == k)
                .ok_or_else(|| format!("indicator {} does not declare the disaggregation {k:?}", self.code))?;
            let ok = match dim {
                DisaggregationDim::Sex => SEX_CATEGORIES.contains(&v.as_str()),
                DisaggregationDim::PopulationGroup => POPULATION_GROUPS.contains(&v.as_str()),
                DisaggregationDim::AgeGroup => !v.trim().is_empty(),
            };
            if !ok {
                let known = match dim {
                    DisaggregationDim::Sex => SEX_CATEGORIES.join(", "),
                    DisaggregationDim::PopulationGroup => POPULATION_GROUPS.join(", "),
                    DisaggregationDim::AgeGroup => "any non-empty text".to_owned(),
                };
                return Err(format!("{k}={v:?} is not a category of {k} (expected: {known})"));
            }
        }
        Ok(())
    }
}

/// A combined value: a number, or the reason it cannot be combined.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Combined {
    /// The value (numerator and denominator already divided for ratios).
    Value(Decimal),
    /// The values cannot be combined under the declared rule (shown as such, never summed).
    NotAggregable,
}

impl Combined {
    /// The number, when there is one.
    pub fn value(&self) -> Option<Decimal> {
        match self {
            Combined::Value(v) => Some(*v),
            Combined::NotAggregable => None,
        }
    }
}

/// A value with its numerator/denominator parts kept so that ratios combine correctly.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Part {
    num: Decimal,
    den: Option<Decimal>,
    period: Period,
}

fn combine_parts(rule: Aggregation, parts: &[Part]) -> Option<Result<Part, ()>> {
    let first = *parts.first()?;
    if parts.len() == 1 {
        return Some(Ok(first));
    }
    let latest_period = parts.iter().map(|p| p.period).max().unwrap_or(first.period);
    // Checked sums: values too large to add (beyond Decimal's 28 digits) are "not aggregable",
    // never a panic or a wrapped number.
    fn sum(xs: &mut dyn Iterator<Item = Decimal>) -> Option<Decimal> {
        let mut acc = Decimal::ZERO;
        for x in xs {
            acc = acc.checked_add(x)?;
        }
        Some(acc)
    }
    Some(match rule {
        Aggregation::Sum => match sum(&mut parts.iter().map(|p| p.num)) {
            Some(num) => Ok(Part { num, den: None, period: latest_period }),
            None => Err(()),
        },
        Aggregation::Maximum => {
            Ok(Part { num: parts.iter().map(|p| p.num).max().unwrap_or(first.num), den: None, period: latest_period })
        }
        Aggregation::Latest => {
            let latest: Vec<&Part> = parts.iter().filter(|p| p.period == latest_period).collect();
            if latest.len() == 1 { Ok(*latest[0]) } else { Err(()) }
        }
        Aggregation::RatioOfSums => {
            if parts.iter().any(|p| p.den.is_none()) {
                Err(())
            } else {
                match (sum(&mut parts.iter().map(|p| p.num)), sum(&mut parts.iter().filter_map(|p| p.den))) {
                    (Some(num), Some(den)) => Ok(Part { num, den: Some(den), period: latest_period }),
                    _ => Err(()),
                }
            }
        }
        Aggregation::NotAdditive => Err(()),
    })
}

fn finish(p: Part) -> Combined {
    match p.den {
        Some(d) if d.is_zero() => Combined::NotAggregable,
        Some(d) => match p.num.checked_div(d).and_then(|r| r.checked_mul(Decimal::ONE_HUNDRED)) {
            Some(v) => Combined::Value(v.round_dp(4)),
            None => Combined::NotAggregable,
        },
        None => Combined::Value(p.num),
    }
}

/// The scope a progress figure is computed for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Scope {
    /// The listed countries together (the strategy's focus countries for "the region").
    Countries(Vec<crate::codes::CountryCode>),
    /// One department.
    Admin1(String),
}

/// Combines the total (no disaggregation) values of one kind and one period inside `scope`,
/// following the indicator's rules. `None` when there is no value.
pub fn combine_period(def: &IndicatorDef, values: &[&Observation], scope: &Scope) -> Option<Combined> {
    combine_period_part(def, values, scope).map(|r| r.map_or(Combined::NotAggregable, finish))
}

fn part_of(o: &Observation) -> Part {
    Part { num: o.value, den: o.denominator, period: o.period }
}

/// Total for one place from its rows: the undisaggregated row, else one dimension combined.
fn place_total(def: &IndicatorDef, rows: &[&Observation]) -> Option<Result<Part, ()>> {
    if let Some(t) = rows.iter().find(|o| o.disaggregation.is_empty()) {
        return Some(Ok(part_of(t)));
    }
    // Only disaggregated rows: combine the categories of one single dimension.
    let single: Vec<&&Observation> = rows.iter().filter(|o| o.disaggregation.len() == 1).collect();
    let dim = single.first()?.disaggregation.keys().next()?.clone();
    let parts: Vec<Part> = single.iter().filter(|o| o.disaggregation.contains_key(&dim)).map(|o| part_of(o)).collect();
    combine_parts(def.over_places, &parts)
}

fn combine_period_part(def: &IndicatorDef, values: &[&Observation], scope: &Scope) -> Option<Result<Part, ()>> {
    match scope {
        Scope::Admin1(code) => {
            let rows: Vec<&Observation> = values.iter().copied().filter(|o| o.place.admin1() == Some(code)).collect();
            place_total(def, &rows)
        }
        Scope::Countries(countries) => {
            let mut per_country = Vec::new();
            for c in countries {
                let own: Vec<&Observation> = values.iter().copied().filter(|o| o.place == Place::Country(*c)).collect();
                let total = match place_total(def, &own) {
                    Some(t) => Some(t),
                    None => {
                        let mut depts: BTreeMap<&str, Vec<&Observation>> = BTreeMap::new();
                        for o in values.iter().copied().filter(|o| o.place.country() == Some(*c)) {
                            if let Some(a) = o.place.admin1() {
                                depts.entry(a).or_default().push(o);
                            }
                        }
                        let mut parts = Vec::new();
                        for rows in depts.values() {
                            match place_total(def, rows) {
                                Some(Ok(p)) => parts.push(p),
                                Some(Err(())) => return Some(Err(())),
                                None => {}
                            }
                        }
                        combine_parts(def.up_hierarchy, &parts)
                    }
                };
                match total {
                    Some(Ok(p)) => per_country.push(p),
                    Some(Err(())) => return Some(Err(())),
                    None => {}
                }
            }
            combine_parts(def.over_places, &per_country)
        }
    }
}

/// One point of a time series.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SeriesPoint {
    /// The period.
    pub period: Period,
    /// The combined value.
    pub value: Combined,
}

/// Where an indicator stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    /// The latest actual meets or passes the target (in the declared direction).
    Achieved,
    /// Not yet at target, but at or ahead of the straight line from baseline to target.
    OnTrack,
    /// Behind the straight line from baseline to target, or moving the wrong way.
    OffTrack,
    /// Not at target and no baseline to judge the trajectory.
    NoBaseline,
    /// No target set.
    NoTarget,
    /// No actual reported yet.
    NoActual,
    /// Values exist but cannot be combined under the declared rule.
    NotAggregable,
}

impl Status {
    /// Stable word (`on_track`...), also the i18n message suffix.
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Achieved => "achieved",
            Status::OnTrack => "on_track",
            Status::OffTrack => "off_track",
            Status::NoBaseline => "no_baseline",
            Status::NoTarget => "no_target",
            Status::NoActual => "no_actual",
            Status::NotAggregable => "not_aggregable",
        }
    }
}

/// Progress of one indicator in one scope.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Progress {
    /// The indicator code.
    pub code: String,
    /// Earliest baseline.
    pub baseline: Option<SeriesPoint>,
    /// The target: the last target period (the end-of-strategy target).
    pub target: Option<SeriesPoint>,
    /// The latest actual.
    pub latest_actual: Option<SeriesPoint>,
    /// `(actual − baseline) / (target − baseline) × 100`; without baseline, `actual / target × 100`
    /// for an upward indicator (none for a downward one). Percent, 1 decimal.
    pub percent_of_target: Option<Decimal>,
    /// Where it stands.
    pub status: Status,
    /// Actuals per period, oldest first.
    pub actuals: Vec<SeriesPoint>,
    /// Targets per period, oldest first.
    pub targets: Vec<SeriesPoint>,
}

/// Series of one kind per period, combined by the rules over `scope`.
pub fn series(def: &IndicatorDef, values: &[Observation], kind: ValueKind, scope: &Scope) -> Vec<SeriesPoint> {
    let mut by_period: BTreeMap<Period, Vec<&Observation>> = BTreeMap::new();
    for o in values.iter().filter(|o| o.kind == kind && o.series == def.code) {
        by_period.entry(o.period).or_default().push(o);
    }
    by_period
        .into_iter()
        .filter_map(|(period, rows)| combine_period(def, &rows, scope).map(|value| SeriesPoint { period, value }))
        .collect()
}

/// `part / whole × 100`, 1 decimal; `None` when an operand is missing, `whole` is zero or the
/// result does not fit in a Decimal (values beyond 28 digits).
pub fn percent(part: Option<Decimal>, whole: Option<Decimal>) -> Option<Decimal> {
    let (p, w) = (part?, whole?);
    p.checked_div(w)?.checked_mul(Decimal::ONE_HUNDRED).map(|x| x.round_dp(1))
}

/// Progress of `def` in `scope` from its baseline, target and actual values.
pub fn progress(def: &IndicatorDef, values: &[Observation], scope: &Scope) -> Progress {
    let baselines = series(def, values, ValueKind::Baseline, scope);
    let targets = series(def, values, ValueKind::Target, scope);
    let actuals = series(def, values, ValueKind::Actual, scope);
    let baseline = baselines.first().cloned();
    let target = targets.last().cloned();
    let latest_actual = actuals.last().cloned();
    let mut percent_of_target = None;
    let status = match (&latest_actual, &target) {
        (None, _) => Status::NoActual,
        (Some(_), None) => Status::NoTarget,
        (Some(a), Some(t)) => match (a.value.value(), t.value.value(), baseline.as_ref().map(|b| b.value.value())) {
            (None, _, _) | (_, None, _) | (_, _, Some(None)) => Status::NotAggregable,
            (Some(a_v), Some(t_v), b) => {
                let b_v = b.flatten();
                let better_or_equal = |x: Decimal, y: Decimal| match def.direction {
                    Direction::Up => x >= y,
                    Direction::Down => x <= y,
                };
                percent_of_target = match b_v {
                    Some(b_v) if t_v != b_v => percent(a_v.checked_sub(b_v), t_v.checked_sub(b_v)),
                    None if def.direction == Direction::Up && !t_v.is_zero() => percent(Some(a_v), Some(t_v)),
                    _ => None,
                };
                if better_or_equal(a_v, t_v) {
                    Status::Achieved
                } else if let (Some(b_p), Some(pct)) = (baseline.as_ref(), percent_of_target) {
                    // Expected share of the way at the actual's period end, on a straight line
                    // from the baseline's period end to the target's period end.
                    let span = (t.period.end() - b_p.period.end()).whole_days();
                    let done = (a.period.end() - b_p.period.end()).whole_days();
                    let expected = if span <= 0 {
                        Decimal::ONE_HUNDRED
                    } else {
                        Decimal::from(done.clamp(0, span)) / Decimal::from(span) * Decimal::ONE_HUNDRED
                    };
                    if pct >= expected.round_dp(1) { Status::OnTrack } else { Status::OffTrack }
                } else if b_v.is_some() {
                    Status::OffTrack
                } else {
                    Status::NoBaseline
                }
            }
        },
    };
    Progress { code: def.code.clone(), baseline, target, latest_actual, percent_of_target, status, actuals, targets }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::codes::CountryCode;

    fn def(rule: Aggregation, dir: Direction) -> IndicatorDef {
        IndicatorDef {
            code: "X-1".into(),
            line_of_effort: "LOE5".into(),
            name: "x".into(),
            name_es: "x".into(),
            unit: "people".into(),
            direction: dir,
            kind: IndicatorKind::Result,
            over_time: rule,
            over_places: rule,
            up_hierarchy: rule,
            disaggregations: vec![DisaggregationDim::Sex],
            source: "test".into(),
            series: None,
            series_filter: BTreeMap::new(),
            note: None,
        }
    }

    fn obs(place: &str, period: &str, kind: ValueKind, v: i64, d: &[(&str, &str)]) -> Observation {
        Observation {
            series: "X-1".into(),
            place: Place::parse(place).expect("place"),
            period: Period::parse(period).expect("period"),
            disaggregation: d.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())).collect(),
            kind,
            value: Decimal::from(v),
            denominator: None,
            row: 0,
        }
    }

    fn cc(s: &str) -> CountryCode {
        CountryCode::parse(s).expect("cc")
    }

    #[test]
    fn countries_sum_departments_only_when_no_country_total() {
        let d = def(Aggregation::Sum, Direction::Up);
        let v = vec![
            obs("GT-GU", "FY2023", ValueKind::Actual, 10, &[]),
            obs("GT-QZ", "FY2023", ValueKind::Actual, 5, &[]),
            obs("HN", "FY2023", ValueKind::Actual, 7, &[]),
            obs("HN-FM", "FY2023", ValueKind::Actual, 100, &[]),
        ];
        let s = series(&d, &v, ValueKind::Actual, &Scope::Countries(vec![cc("GT"), cc("HN")]));
        assert_eq!(s[0].value, Combined::Value(Decimal::from(22)));
        let s = series(&d, &v, ValueKind::Actual, &Scope::Admin1("GT-QZ".into()));
        assert_eq!(s[0].value, Combined::Value(Decimal::from(5)));
    }

    #[test]
    fn not_additive_values_are_never_summed() {
        let d = def(Aggregation::NotAdditive, Direction::Up);
        let v = vec![obs("GT", "FY2023", ValueKind::Actual, 10, &[]), obs("HN", "FY2023", ValueKind::Actual, 5, &[])];
        let s = series(&d, &v, ValueKind::Actual, &Scope::Countries(vec![cc("GT"), cc("HN")]));
        assert_eq!(s[0].value, Combined::NotAggregable);
        let s = series(&d, &v, ValueKind::Actual, &Scope::Countries(vec![cc("GT")]));
        assert_eq!(s[0].value, Combined::Value(Decimal::from(10)));
    }

    #[test]
    fn ratios_divide_sums_of_parts() {
        let d = def(Aggregation::RatioOfSums, Direction::Up);
        let mut a = obs("GT", "FY2023", ValueKind::Actual, 1, &[]);
        a.denominator = Some(Decimal::from(4));
        let mut b = obs("HN", "FY2023", ValueKind::Actual, 3, &[]);
        b.denominator = Some(Decimal::from(4));
        let s = series(&d, &[a, b], ValueKind::Actual, &Scope::Countries(vec![cc("GT"), cc("HN")]));
        assert_eq!(s[0].value, Combined::Value(Decimal::from(50)));
    }

    #[test]
    fn disaggregated_only_values_combine_one_dimension() {
        let d = def(Aggregation::Sum, Direction::Up);
        let v = vec![
            obs("GT", "FY2023", ValueKind::Actual, 4, &[("sex", "female")]),
            obs("GT", "FY2023", ValueKind::Actual, 6, &[("sex", "male")]),
        ];
        let s = series(&d, &v, ValueKind::Actual, &Scope::Countries(vec![cc("GT")]));
        assert_eq!(s[0].value, Combined::Value(Decimal::from(10)));
    }

    #[test]
    fn progress_follows_direction_and_trajectory() {
        let up = def(Aggregation::Sum, Direction::Up);
        let gt = Scope::Countries(vec![cc("GT")]);
        let base = obs("GT", "FY2021", ValueKind::Baseline, 0, &[]);
        let target = obs("GT", "FY2025", ValueKind::Target, 100, &[]);
        // Half-way in time (FY2023 end is 2 of 4 years after FY2021 end): 60 % is on track.
        let v = vec![base.clone(), target.clone(), obs("GT", "FY2023", ValueKind::Actual, 60, &[])];
        let p = progress(&up, &v, &gt);
        assert_eq!(p.percent_of_target, Some(Decimal::from(60)));
        assert_eq!(p.status, Status::OnTrack);
        let v = vec![base.clone(), target.clone(), obs("GT", "FY2023", ValueKind::Actual, 30, &[])];
        assert_eq!(progress(&up, &v, &gt).status, Status::OffTrack);
        let v = vec![base, target, obs("GT", "FY2023", ValueKind::Actual, 120, &[])];
        assert_eq!(progress(&up, &v, &gt).status, Status::Achieved);

        let down = def(Aggregation::Sum, Direction::Down);
        let v = vec![
            obs("GT", "FY2021", ValueKind::Baseline, 1000, &[]),
            obs("GT", "FY2025", ValueKind::Target, 500, &[]),
            obs("GT", "FY2023", ValueKind::Actual, 1100, &[]),
        ];
        let p = progress(&down, &v, &gt);
        assert_eq!(p.percent_of_target, Some(Decimal::from(-20)));
        assert_eq!(p.status, Status::OffTrack);
        assert_eq!(progress(&down, &v[..2], &gt).status, Status::NoActual);
        assert_eq!(progress(&down, &[v[2].clone()], &gt).status, Status::NoTarget);
    }

    #[test]
    fn huge_values_are_not_aggregable_never_a_panic() {
        let big = Decimal::MAX;
        let d = def(Aggregation::Sum, Direction::Up);
        let mut a = obs("GT", "FY2023", ValueKind::Actual, 0, &[]);
        a.value = big;
        let mut b = obs("HN", "FY2023", ValueKind::Actual, 0, &[]);
        b.value = big;
        let both = Scope::Countries(vec![cc("GT"), cc("HN")]);
        assert_eq!(series(&d, &[a.clone(), b], ValueKind::Actual, &both)[0].value, Combined::NotAggregable);
        // Percent of target beyond Decimal's range: none, and the status still says where it stands.
        let v =
            vec![obs("GT", "FY2021", ValueKind::Baseline, 0, &[]), obs("GT", "FY2025", ValueKind::Target, 1, &[]), a];
        let p = progress(&d, &v, &Scope::Countries(vec![cc("GT")]));
        assert_eq!(p.percent_of_target, None);
        assert_eq!(p.status, Status::Achieved);
        let r = def(Aggregation::RatioOfSums, Direction::Up);
        let mut x = obs("GT", "FY2023", ValueKind::Actual, 0, &[]);
        x.value = big;
        x.denominator = Some(Decimal::new(1, 2));
        assert_eq!(
            series(&r, &[x], ValueKind::Actual, &Scope::Countries(vec![cc("GT")]))[0].value,
            Combined::NotAggregable
        );
    }

    #[test]
    fn disaggregation_must_be_declared_and_valid() {
        let d = def(Aggregation::Sum, Direction::Up);
        let mut x = Disaggregation::new();
        x.insert("sex".into(), "female".into());
        assert!(d.check_disaggregation(&x).is_ok());
        x.insert("sex".into(), "F".into());
        assert!(d.check_disaggregation(&x).is_err());
        let mut y = Disaggregation::new();
        y.insert("population_group".into(), "returnee".into());
        assert!(d.check_disaggregation(&y).is_err());
    }
}
