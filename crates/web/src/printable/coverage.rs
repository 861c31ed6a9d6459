//! The report's data coverage: the flag on the first page when a focus country lacks an
//! expected publisher, and the coverage section (publishers by focus country and fiscal
//! years, the gaps, every imported file's generated-datetime), as on `/coverage`.

use super::*;
use senda_core::coverage::Cell;

impl Printer<'_> {
    /// `FY 2012–FY 2024 (13 fiscal years)`, and whether some money is undated.
    fn coverage_years(&self, c: &Cell) -> String {
        let span = match (c.fiscal_years.first(), c.fiscal_years.last()) {
            (Some(a), Some(b)) if a == b => self.fy(&a.to_string()),
            (Some(a), Some(b)) => self.ta(
                "coverage-years",
                &[
                    ("first", self.fy(&a.to_string())),
                    ("last", self.fy(&b.to_string())),
                    ("count", c.fiscal_years.len().to_string()),
                ],
            ),
            _ => String::new(),
        };
        if c.undated { format!("{span} {}", self.t("coverage-undated")).trim().to_owned() } else { span }
    }

    /// The focus countries lacking expected publishers, each with the publishers it lacks
    /// (nothing when none lacks one).
    fn coverage_gap_list(&self) -> Markup {
        let cov = &self.data.coverage;
        html! {
            ul { @for c in &self.st.focus_countries {
                @let missing: Vec<String> = cov.gaps_of(c.as_str()).map(|g| g.publisher.label()).collect();
                @if !missing.is_empty() { li { strong { (self.country_name(c.as_str())) } ": " (missing.join(", ")) } }
            } }
        }
    }

    /// First page: the flag of focus countries whose totals are understated for lack of an
    /// expected publisher.
    pub(super) fn coverage_flag(&self) -> Markup {
        html! {
            @if !self.data.coverage.gaps.is_empty() {
                div class="coverage-flag" role="note" {
                    p { strong { (self.t("coverage-gaps-title")) } " " (self.t("coverage-gaps-why")) }
                    (self.coverage_gap_list())
                    p { a href="#coverage" { (self.t("print-coverage-see")) } }
                }
            }
        }
    }

    /// The coverage section.
    pub(super) fn coverage_section(&self) -> Markup {
        let cov = &self.data.coverage;
        let mut cols: Vec<String> = self.st.focus_countries.iter().map(|c| c.to_string()).collect();
        cols.push(senda_core::attribution::REGIONAL.to_owned());
        html! {
            section class="part coverage-section" id="coverage" aria-labelledby="coverage-h" {
                h2 id="coverage-h" { (self.t("coverage-title")) }
                p { (self.t("coverage-intro")) }
                @if cov.gaps.is_empty() {
                    @if self.st.coverage.is_some() { p { (self.t("coverage-no-gaps")) } }
                } @else {
                    p { strong { (self.t("coverage-gaps-title")) } " " (self.t("coverage-gaps-why")) }
                    (self.coverage_gap_list())
                }
                @if !cov.source.is_empty() { p class="note" { (self.t("coverage-source")) " " (cov.source_in(self.loc.lang == Lang::Es)) } }
                h3 { (self.t("coverage-publishers")) }
                @if cov.publishers.is_empty() { p { (self.t("no-data")) } } @else {
                    table class="coverage" {
                        caption { (self.t("coverage-caption")) }
                        thead { tr { th scope="col" { (self.t("publisher")) }
                            @for c in &cols { th scope="col" { (self.country_label(c)) } }
                            th scope="col" { (self.t("coverage-other")) } } }
                        tbody { @for p in &cov.publishers { tr {
                            th scope="row" { (p.names.join(" / ")) @if let Some(r) = &p.r#ref { br; span class="ident" { (r) } } }
                            @for c in &cols { td { @match p.countries.get(c) {
                                Some(cell) => { (self.ta("coverage-activities", &[("count", self.int(cell.activities))])) br; span class="note" { (self.coverage_years(cell)) } }
                                None => { "—" }
                            } } }
                            @let other: u64 = p.countries.iter().filter(|(k, _)| !cols.contains(k)).map(|(_, c)| c.activities).sum();
                            td { @if other > 0 { (self.ta("coverage-activities", &[("count", self.int(other))])) } @else { "—" } }
                        } } }
                    }
                }
                h3 { (self.t("coverage-files")) }
                p class="note" { (self.t("coverage-files-intro")) }
                @if self.data.files.is_empty() { p { (self.t("no-data")) } } @else {
                    table class="coverage-files" {
                        thead { tr { th scope="col" { (self.t("coverage-file")) } th scope="col" { (self.t("publisher")) }
                            th scope="col" class="num" { (self.t("coverage-file-activities")) } th scope="col" { (self.t("coverage-generated")) } } }
                        tbody { @for f in &self.data.files { tr {
                            td class="ident" { (crate::paths::shown(&f.path)) }
                            td { (f.publishers.iter().map(|(r, n, _)| r.clone().unwrap_or_else(|| n.clone())).collect::<Vec<_>>().join(", ")) }
                            td class="num" { (self.int(f.activities)) }
                            td { @match &f.generated_datetime {
                                Some(g) => { (g.get(..16).unwrap_or(g).replace('T', " ")) " UTC" }
                                None => { (self.t("coverage-not-given")) }
                            } }
                        } } }
                    }
                }
            }
        }
    }
}
