//! The plan's funding gap on the overview, line-of-effort and country pages (issue 18, item 4):
//! requirement, committed, disbursed, gap and percent funded, computed by
//! `senda_core::plan::funding_gap` over the report the reader may see (entered interventions
//! through the caller's read scope, as every report).

use super::*;
use senda_core::plan::{GapGrouping, GapRow, Requirement, funding_gap};

/// Which part of the plan a page shows.
pub(super) enum PlanPart<'a> {
    /// The whole plan, by line of effort (the overview).
    ByLine,
    /// One line of effort, by country and fiscal year.
    Line(&'a str),
    /// One country, by line of effort and fiscal year.
    Country(&'a str),
}

/// The gap rows of `part`, or `None` when the strategy has no requirement.
pub(super) async fn gap_rows(
    state: &Arc<AppState>,
    strategy: &str,
    part: &PlanPart<'_>,
) -> Result<Option<Vec<GapRow>>, WebError> {
    let st = strategy.to_owned();
    let reqs: Vec<Requirement> =
        state.pool.run(move |s| s.requirements(&st)).await?.into_iter().map(|r| r.requirement).collect();
    let reqs: Vec<Requirement> = reqs
        .into_iter()
        .filter(|q| match part {
            PlanPart::ByLine => true,
            PlanPart::Line(l) => q.line_of_effort == *l,
            PlanPart::Country(c) => q.country.as_str() == *c,
        })
        .collect();
    if reqs.is_empty() {
        return Ok(None);
    }
    let report = state
        .report(
            strategy,
            vec![Dimension::LineOfEffort, Dimension::Country, Dimension::FiscalYear],
            false,
            Default::default(),
        )
        .await?;
    let mut report = (*report).clone();
    report.rows.retain(|r| match part {
        PlanPart::ByLine => true,
        PlanPart::Line(l) => r.key.first().map(String::as_str) == Some(*l),
        PlanPart::Country(c) => r.key.get(1).map(String::as_str) == Some(*c),
    });
    let grouping = match part {
        PlanPart::ByLine => GapGrouping { line_of_effort: true, ..Default::default() },
        PlanPart::Line(_) => GapGrouping { country: true, fiscal_year: true, ..Default::default() },
        PlanPart::Country(_) => GapGrouping { line_of_effort: true, fiscal_year: true, ..Default::default() },
    };
    Ok(Some(funding_gap(&reqs, &report, grouping)))
}

/// The section: a table of the gap rows (nothing when there is no requirement).
pub(super) fn gap_section(ctx: &Ctx, part: &PlanPart<'_>, rows: Option<&[GapRow]>) -> Markup {
    let Some(rows) = rows else { return html! {} };
    let heads: Vec<String> = match part {
        PlanPart::ByLine => vec![ctx.t("line-of-effort")],
        PlanPart::Line(_) => vec![ctx.t("country"), ctx.t("plan-fiscal-year")],
        PlanPart::Country(_) => vec![ctx.t("line-of-effort"), ctx.t("plan-fiscal-year")],
    };
    let money =
        |cur: &str, d: Decimal| if cur == "USD" { ctx.usd(d) } else { format!("{} {cur}", ctx.loc.decimal(d, 0)) };
    let key_cell = |i: usize, v: &str| -> Markup {
        let is_line = matches!((part, i), (PlanPart::ByLine, 0) | (PlanPart::Country(_), 0));
        let is_country = matches!((part, i), (PlanPart::Line(_), 0));
        let is_year = !is_line && !is_country;
        html! {
            @if v == "TOTAL" { th scope="row" { (ctx.t("total")) } }
            @else if is_line { td { a href=(format!("/loe/{}", enc(v))) { (ctx.loe_label(v)) } } }
            @else if is_country { td { a href=(format!("/country/{}", enc(v))) { (ctx.country_label(v)) } } }
            @else if is_year { td { (ctx.fy(v)) } }
        }
    };
    html! {
        section id="plan" {
            h2 { (ctx.t("plan-heading")) }
            p class="note" { (ctx.t("plan-note")) }
            div class="table-scroll" tabindex="0" {
                table class="money" {
                    thead { tr {
                        @for h in &heads { th scope="col" { (h) } }
                        th scope="col" class="num" { (ctx.t("plan-requirement")) }
                        th scope="col" class="num" { (ctx.t("commitments")) }
                        th scope="col" class="num" { (ctx.t("disbursements")) }
                        th scope="col" class="num" { (ctx.t("plan-gap")) }
                        th scope="col" class="num" { (ctx.t("plan-percent-funded")) }
                        th scope="col" class="num" { (ctx.t("plan-outside")) }
                    } }
                    tbody {
                        @for r in rows {
                            tr {
                                @if r.key.first().map(String::as_str) == Some("TOTAL") {
                                    th scope="row" colspan=(heads.len()) { (ctx.t("total")) }
                                } @else {
                                    @for (i, k) in r.key.iter().enumerate() { (key_cell(i, k)) }
                                }
                                td class="num" { (money(&r.currency, r.requirement)) }
                                td class="num" { (money(&r.currency, r.committed)) }
                                td class="num" { (money(&r.currency, r.disbursed)) }
                                td class="num" { (money(&r.currency, r.gap)) }
                                td class="num" { (r.percent_funded.map(|p| ctx.loc.percent(p)).unwrap_or_default()) }
                                td class="num" { (money(&r.currency, r.committed_outside_plan)) }
                            }
                        }
                    }
                }
            }
        }
    }
}
