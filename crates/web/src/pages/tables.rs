//! Tables shared by pages: money by group (with the marker on negative amounts), activity lists.

use super::*;

/// An amount with the page's negative-money marker when below zero.
pub(super) fn neg_usd(ctx: &Ctx, d: Decimal) -> Markup {
    crate::negative::usd(ctx.cat(), ctx.loc, d)
}
/// A table of a report: key columns rendered by `key`, then activities and money.
pub(super) fn money_table(ctx: &Ctx, r: &Report, key: impl Fn(&[String]) -> Markup, heads: &[String]) -> Markup {
    html! {
        div class="table-scroll" tabindex="0" {
            table class="money" {
                thead { tr {
                    @for h in heads { th scope="col" { (h) } }
                    th scope="col" class="num" { (ctx.t("activities")) }
                    th scope="col" class="num" { (ctx.t("commitments")) }
                    th scope="col" class="num" { (ctx.t("disbursements")) }
                    th scope="col" class="num" { (ctx.t("expenditures")) }
                } }
                tbody {
                    @for row in &r.rows {
                        tr {
                            (key(&row.key))
                            td class="num" { (ctx.int(row.activities)) }
                            td class="num" { (neg_usd(ctx, row.usd.commitments)) }
                            td class="num" { (neg_usd(ctx, row.usd.disbursements)) }
                            td class="num" { (ctx.usd(row.usd.expenditures)) }
                        }
                    }
                    @if r.rows.is_empty() { tr { td colspan=(heads.len() + 4) { (ctx.t("no-data")) } } }
                }
                tfoot { tr {
                    th scope="row" colspan=(heads.len()) { (ctx.t("total")) }
                    td class="num" { (ctx.int(r.total.activities)) }
                    td class="num" { (neg_usd(ctx, r.total.usd.commitments)) }
                    td class="num" { (neg_usd(ctx, r.total.usd.disbursements)) }
                    td class="num" { (ctx.usd(r.total.usd.expenditures)) }
                } }
            }
        }
    }
}

pub(super) fn org_link(name: &str) -> Markup {
    html! { a href=(format!("/organisation?name={}", enc(name))) { (name) } }
}

pub(super) fn top_rows(r: &Report, n: usize) -> Report {
    let mut rows = r.rows.clone();
    rows.sort_by(|a, b| {
        (b.usd.disbursements + b.usd.expenditures + b.usd.commitments)
            .cmp(&(a.usd.disbursements + a.usd.expenditures + a.usd.commitments))
            .then_with(|| a.key.cmp(&b.key))
    });
    rows.truncate(n);
    Report { dimensions: r.dimensions.clone(), calendar_year: r.calendar_year, rows, total: r.total.clone() }
}

pub(super) fn activity_table(ctx: &Ctx, rows: &[ActivityRow]) -> Markup {
    html! {
        div class="table-scroll" tabindex="0" {
            table class="activities" {
                thead { tr {
                    th scope="col" { (ctx.t("identifier")) }
                    th scope="col" { (ctx.t("title")) }
                    th scope="col" { (ctx.t("reporting-org")) }
                    th scope="col" { (ctx.t("countries")) }
                    th scope="col" { (ctx.t("lines-of-effort")) }
                    th scope="col" { (ctx.t("status")) }
                    th scope="col" { (ctx.t("start-date")) }
                    th scope="col" class="num" { (ctx.t("commitments")) }
                    th scope="col" class="num" { (ctx.t("disbursements")) }
                } }
                tbody {
                    @for r in rows {
                        tr {
                            td { a href=(format!("/activity/{}", enc(&r.iati_identifier))) { (r.iati_identifier) } }
                            td { (r.title) }
                            td { (org_link(&r.reporting_org)) }
                            td { (r.countries.replace(';', ", ")) }
                            td { @if r.lines_of_effort.is_empty() { (ctx.t("not-mapped")) } @else { (r.lines_of_effort.replace(';', ", ")) } }
                            td { (ctx.status_label(&r.status)) }
                            td { (ctx.date(&r.start_date)) }
                            td class="num" { (neg_usd(ctx, r.commitments_usd.parse().unwrap_or_default())) }
                            td class="num" { (neg_usd(ctx, r.disbursements_usd.parse().unwrap_or_default())) }
                        }
                    }
                }
            }
        }
    }
}
