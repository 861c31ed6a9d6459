//! Results: `result`, `indicator`, `baseline`, `period`, `target`, `actual` and their titles
//! and comments (a result's or indicator's `description`, `document-link`, `reference`,
//! `dimension`, `location` are kept as published: see `kept`).

use super::*;

impl<R: BufRead> ActivityReader<R> {
    /// The kind of a result element (`n` under `p`), if it is one; see `kind_for`.
    pub(super) fn result_kind(
        &mut self,
        n: Elem,
        p: Kind,
        attrs: &[(&str, std::borrow::Cow<'_, str>)],
        pos: u64,
    ) -> Result<Option<Kind>, FatalError> {
        let get = |k: &str| attrs.iter().find(|(a, _)| *a == k).map(|(_, v)| v.as_ref());
        let nonempty_str = |k: &str| get(k).map(str::trim_ws).filter(|v| !v.is_empty());
        let nonempty = |k: &str| nonempty_str(k).map(CompactString::from);
        use Elem as N;
        use Kind::*;
        Ok(Some(match (p, n) {
            (Activity, N::Result) => {
                self.result =
                    Some(ResultItem { result_type: nonempty("type"), title: Narratives::new(), indicators: vec![] });
                Result
            }
            (Result, N::Title) => ResultTitle,
            (Result, N::Indicator) => {
                let ascending = get("ascending").and_then(parse_bool);
                if let Some(raw) = get("ascending").filter(|_| ascending.is_none()) {
                    self.keep_rejected(Some(Indicator), "ascending", raw);
                }
                self.indicator = Some(senda_core::Indicator {
                    measure: nonempty("measure"),
                    ascending,
                    title: Narratives::new(),
                    baselines: vec![],
                    periods: vec![],
                });
                Indicator
            }
            (Indicator, N::Title) => IndicatorTitle,
            (Indicator, N::Baseline) => {
                let date = self.date_attr(nonempty_str("iso-date").map(parse_iso_date), pos, Some(Baseline));
                let year = get("year").and_then(|y| y.trim_ws().parse().ok());
                if let Some(raw) = get("year").filter(|_| year.is_none()) {
                    self.keep_rejected(Some(Baseline), "year", raw);
                }
                self.ivalue = Some(IndicatorValue { value: nonempty("value"), year, date, comment: Narratives::new() });
                Baseline
            }
            (Indicator, N::Period) => {
                self.period = Some(IndicatorPeriod { start: None, end: None, targets: vec![], actuals: vec![] });
                Period
            }
            (Period, N::Target) | (Period, N::Actual) => {
                self.ivalue = Some(IndicatorValue {
                    value: nonempty("value"),
                    year: None,
                    date: None,
                    comment: Narratives::new(),
                });
                if n == N::Target { Target } else { Actual }
            }
            (Baseline | Target | Actual, N::Comment) => Comment,
            _ => return Ok(None),
        }))
    }

    /// Closes a result element (`f`, with its text); see `close`.
    pub(super) fn close_result_part(&mut self, f: &mut Frame, text: &str) {
        use Kind::*;
        match f.kind {
            Result => {
                if let (Some(r), Some(a)) = (self.result.take(), self.act.as_mut()) {
                    a.results.push(r);
                }
            }
            ResultTitle => {
                let n = self.take_narratives(f, text);
                if let Some(r) = self.result.as_mut() {
                    r.title = n;
                }
            }
            Indicator => {
                if let (Some(i), Some(r)) = (self.indicator.take(), self.result.as_mut()) {
                    r.indicators.push(i);
                }
            }
            IndicatorTitle => {
                let n = self.take_narratives(f, text);
                if let Some(i) = self.indicator.as_mut() {
                    i.title = n;
                }
            }
            Baseline => {
                if let (Some(v), Some(i)) = (self.ivalue.take(), self.indicator.as_mut()) {
                    i.baselines.push(v);
                }
            }
            Period => {
                if let (Some(p), Some(i)) = (self.period.take(), self.indicator.as_mut()) {
                    i.periods.push(p);
                }
            }
            Target | Actual => {
                if let (Some(v), Some(p)) = (self.ivalue.take(), self.period.as_mut()) {
                    if f.kind == Target { p.targets.push(v) } else { p.actuals.push(v) }
                }
            }
            Comment => {
                let n = self.take_narratives(f, text);
                if let Some(v) = self.ivalue.as_mut() {
                    v.comment = n;
                }
            }
            _ => {}
        }
    }
}
