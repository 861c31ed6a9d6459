//! The report's first page: what it covers, the grand totals, money not mapped, negative
//! totals explained, focus countries lacking an expected publisher, the lines of effort with indicator status, and the contents.

use super::*;

impl Printer<'_> {
    pub(super) fn cover(&self) -> Markup {
        let d = self.data;
        let total = &d.by_loe.total;
        let as_of = d.data_as_of.as_deref().map(|s| self.cat.date(self.loc.lang, s));
        let countries: Vec<String> = self.st.focus_countries.iter().map(|c| self.country_name(c.as_str())).collect();
        let negative_rows: Vec<&senda_core::report::Row> =
            d.by_loe.rows.iter().filter(|r| crate::negative::is_negative(&r.usd)).collect();
        html! {
            header id="summary" {
                p class="kicker" { "Senda · " (self.t("print-title")) }
                h1 { (self.cat.strategy_title(self.loc.lang, self.st)) " (" (self.st.short_title) ")" }
                p class="meta" {
                    @match &as_of {
                        Some(date) => { (self.ta("print-data-as-of", &[("date", date.clone())])) }
                        None => { (self.t("print-data-as-of-none")) }
                    }
                    " · " (self.t("focus-countries")) ": " (countries.join(", "))
                }
                @if d.synthetic { p class="banner" role="note" { (self.t("synthetic-banner")) } }
                p { (self.ta("print-lede", &[("strategy", self.st.short_title.clone())])) }
                h2 { (self.t("print-summary")) }
                ul class="totals" aria-label=(self.t("print-grand-totals")) {
                    li { span class="label" { (self.t("commitments")) } span class="value" { (self.usd(total.usd.commitments)) } }
                    li { span class="label" { (self.t("disbursements")) } span class="value" { (self.usd(total.usd.disbursements)) } }
                    li { span class="label" { (self.t("expenditures")) } span class="value" { (self.usd(total.usd.expenditures)) } }
                    li { span class="label" { (self.t("activities")) } span class="value" { (self.int(total.activities)) } }
                }
                p class="note" { (self.t("print-grand-totals-note")) }
                (self.not_mapped())
                (self.coverage_flag())
                (self.unconverted(&total.unconverted))
                table class="loe-summary" {
                    caption { (self.t("print-loe-table")) }
                    colgroup { col class="loe"; col class="n"; col class="money"; col class="money"; @for _ in 0..5 { col class="status"; } }
                    thead {
                        tr {
                            th scope="col" rowspan="2" { (self.t("line-of-effort")) }
                            th scope="col" rowspan="2" class="num" { (self.t("activities")) }
                            th scope="col" rowspan="2" class="num" { (self.t("commitments")) }
                            th scope="col" rowspan="2" class="num" { (self.t("disbursements")) }
                            th scope="colgroup" colspan="5" { (self.t("print-indicator-status")) }
                        }
                        tr {
                            th scope="col" class="num" { (self.t("print-status-achieved")) }
                            th scope="col" class="num" { (self.t("print-status-on_track")) }
                            th scope="col" class="num" { (self.t("print-status-off_track")) }
                            th scope="col" class="num" { (self.t("print-not-assessable")) }
                            th scope="col" class="num" { (self.t("print-no-data")) }
                        }
                    }
                    tbody {
                        @for l in &self.st.lines_of_effort {
                            @let row = d.by_loe.rows.iter().find(|r| r.key[0] == l.id);
                            @let t = row.map(|r| r.usd).unwrap_or_default();
                            tr {
                                th scope="row" { a href=(format!("#loe-{}", l.id)) { (self.loe_label(&l.id)) } }
                                td class="num" { (self.int(row.map_or(0, |r| r.activities))) }
                                td class="num" { (self.signed(t.commitments)) }
                                td class="num" { (self.signed(t.disbursements)) }
                                @for n in status_counts(self.data, &l.id) { td class="num" { (self.int(n)) } }
                            }
                        }
                        @if let Some(row) = d.by_loe.rows.iter().find(|r| r.key[0] == NOT_MAPPED) {
                            tr {
                                th scope="row" { (self.loe_label(NOT_MAPPED)) }
                                td class="num" { (self.int(row.activities)) }
                                td class="num" { (self.signed(row.usd.commitments)) }
                                td class="num" { (self.signed(row.usd.disbursements)) }
                                td colspan="5" {}
                            }
                        }
                    }
                    tfoot {
                        tr {
                            th scope="row" { (self.t("total")) }
                            td class="num" { (self.int(total.activities)) }
                            td class="num" { (self.signed(total.usd.commitments)) }
                            td class="num" { (self.signed(total.usd.disbursements)) }
                            td colspan="5" {}
                        }
                    }
                }
                p class="note" { (self.t("print-split-note")) " " (self.t("print-status-note")) }
                @if !negative_rows.is_empty() || crate::negative::is_negative(&total.usd) {
                    (self.negative_note(&negative_rows))
                }
                nav class="toc" aria-label=(self.t("print-contents")) {
                    h3 { (self.t("print-contents")) }
                    ol {
                        @for l in &self.st.lines_of_effort { li { a href=(format!("#loe-{}", l.id)) { (self.loe_label(&l.id)) } } }
                        @for c in &self.st.focus_countries { li { a href=(format!("#country-{}", c.as_str())) { (self.country_name(c.as_str())) } } }
                        li { a href="#coverage" { (self.t("coverage-title")) } }
                    }
                }
            }
        }
    }

    /// An amount, marked when negative (the mark refers to the negative-money note).
    pub(super) fn signed(&self, d: Decimal) -> Markup {
        html! { @if d < Decimal::ZERO { span class="neg" { (self.usd(d)) } sup class="neg-mark" { "*" } } @else { (self.usd(d)) } }
    }

    /// How much money maps to no line of effort: amount and share of the grand total.
    fn not_mapped(&self) -> Markup {
        let d = self.data;
        let nm = d.by_loe.rows.iter().find(|r| r.key[0] == NOT_MAPPED).map(|r| (r.activities, r.usd));
        let (n, t) = nm.unwrap_or_default();
        let share = |part: Decimal, whole: Decimal| {
            if whole.is_zero() { "—".to_owned() } else { self.loc.percent(part * Decimal::from(100) / whole) }
        };
        html! {
            p class="not-mapped" {
                (self.ta("print-not-mapped", &[
                    ("disbursements", self.usd(t.disbursements)),
                    ("disbursements_share", share(t.disbursements, d.by_loe.total.usd.disbursements)),
                    ("commitments", self.usd(t.commitments)),
                    ("commitments_share", share(t.commitments, d.by_loe.total.usd.commitments)),
                    ("activities", self.int(n)),
                ]))
            }
        }
    }

    /// Why some totals are negative, with the gross parts of each negative line.
    fn negative_note(&self, rows: &[&senda_core::report::Row]) -> Markup {
        let n = self.data.negative_activities.get("").copied().unwrap_or(0);
        html! {
            div class="negative-note" role="note" {
                p { sup class="neg-mark" { "*" } " " (self.t("print-negative-why")) " "
                    (self.ta("print-negative-count", &[("count", self.int(n))])) }
                ul {
                    @for r in rows {
                        li { (self.ta("print-negative-row", &[
                            ("line", self.loe_label(&r.key[0])),
                            ("obligations", self.usd(r.usd.gross_commitments())),
                            ("deobligations", self.usd(r.usd.deobligations)),
                            ("disbursed", self.usd(r.usd.gross_disbursements())),
                            ("returns", self.usd(r.usd.returns)),
                            ("count", self.int(self.data.negative_activities.get(&r.key[0]).copied().unwrap_or(0))),
                        ])) }
                    }
                }
            }
        }
    }

    fn unconverted(&self, u: &BTreeMap<String, Totals>) -> Markup {
        html! {
            @if u.is_empty() {
                p class="note" { (self.t("print-unconverted-none")) }
            } @else {
                p class="note" { (self.t("print-unconverted")) }
                ul class="note" {
                    @for (cur, t) in u {
                        li { (self.ta("print-unconverted-row", &[
                            ("currency", cur.clone()),
                            ("commitments", self.loc.decimal(t.commitments, 2)),
                            ("disbursements", self.loc.decimal(t.disbursements, 2)),
                            ("expenditures", self.loc.decimal(t.expenditures, 2)),
                        ])) }
                    }
                }
            }
        }
    }
}
