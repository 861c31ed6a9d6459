//! `/coverage`: which publishers have data for which focus country and fiscal years, the
//! expected publishers a focus country lacks, and every imported file's generated-datetime;
//! and the notice the overview shows when a focus country lacks an expected publisher.

use super::tables::org_link;
use super::*;
use senda_core::coverage::{Cell, Coverage};

/// `FY2012–FY2024 (13)` in the reader's words.
fn years(ctx: &Ctx, c: &Cell) -> String {
    let span = match (c.fiscal_years.first(), c.fiscal_years.last()) {
        (Some(a), Some(b)) if a == b => ctx.fy(&a.to_string()),
        (Some(a), Some(b)) => ctx.ta(
            "coverage-years",
            &[
                ("first", ctx.fy(&a.to_string())),
                ("last", ctx.fy(&b.to_string())),
                ("count", c.fiscal_years.len().to_string()),
            ],
        ),
        _ => String::new(),
    };
    if c.undated { format!("{span} {}", ctx.t("coverage-undated")).trim().to_owned() } else { span }
}

/// The notice of focus countries lacking expected publishers (nothing when none does).
pub(super) fn gaps_notice(ctx: &Ctx, cov: &Coverage) -> Markup {
    html! {
        @if !cov.gaps.is_empty() {
            div class="banner coverage-gaps" role="note" {
                p { strong { (ctx.t("coverage-gaps-title")) } " " (ctx.t("coverage-gaps-why")) }
                ul { @for c in &ctx.strategy.focus_countries {
                    @let missing: Vec<String> = cov.gaps_of(c.as_str()).map(|g| g.publisher.label()).collect();
                    @if !missing.is_empty() {
                        li { a href=(format!("/country/{c}")) { (ctx.country_label(c.as_str())) } ": " (missing.join(", ")) }
                    }
                } }
                p { a href="/coverage" { (ctx.t("coverage-see")) } }
            }
        }
    }
}

pub(super) async fn coverage(
    State(state): St,
    headers: HeaderMap,
    uri: Uri,
    Query(raw): Query<RawQuery>,
) -> PageResult {
    let pe = perr(&state, &headers);
    let ctx = Ctx::new(&state, &headers, &uri, &raw).map_err(&pe)?;
    let cov = crate::coverage::coverage(&state, &ctx.strategy).await.map_err(&pe)?;
    let files = crate::coverage::files(&state).await.map_err(&pe)?;
    let mut cols: Vec<String> = ctx.strategy.focus_countries.iter().map(|c| c.to_string()).collect();
    cols.push(senda_core::attribution::REGIONAL.to_owned());
    let body = html! {
        p { (ctx.t("coverage-intro")) }
        (gaps_notice(&ctx, &cov))
        @if cov.gaps.is_empty() && ctx.strategy.coverage.is_some() { p { (ctx.t("coverage-no-gaps")) } }
        @if !cov.source.is_empty() { p class="note" { (ctx.t("coverage-source")) " " (cov.source_in(ctx.loc.lang == Lang::Es)) } }
        section { h2 { (ctx.t("coverage-publishers")) }
            @if cov.publishers.is_empty() { p { (ctx.t("no-data")) } } @else {
            div class="table-scroll" tabindex="0" { table {
                caption { (ctx.t("coverage-caption")) }
                thead { tr { th scope="col" { (ctx.t("publisher")) } th scope="col" { (ctx.t("coverage-ref")) }
                    @for c in &cols { th scope="col" { (ctx.country_label(c)) } }
                    th scope="col" { (ctx.t("coverage-other")) } } }
                tbody { @for p in &cov.publishers { tr {
                    th scope="row" { @for (i, n) in p.names.iter().enumerate() { @if i > 0 { " / " } (org_link(n)) } }
                    td { (p.r#ref.clone().unwrap_or_default()) }
                    @for c in &cols { td { @match p.countries.get(c) {
                        Some(cell) => { (ctx.ta("coverage-activities", &[("count", ctx.int(cell.activities))])) br; small { (years(&ctx, cell)) } }
                        None => { span aria-label=(ctx.t("coverage-none")) { "—" } }
                    } } }
                    @let other: u64 = p.countries.iter().filter(|(k, _)| !cols.contains(k)).map(|(_, c)| c.activities).sum();
                    td { @if other > 0 { (ctx.ta("coverage-activities", &[("count", ctx.int(other))])) } @else { "—" } }
                } } }
            } } }
        }
        section { h2 { (ctx.t("coverage-files")) }
            p { (ctx.t("coverage-files-intro")) }
            @if files.is_empty() { p { (ctx.t("no-data")) } } @else {
            div class="table-scroll" tabindex="0" { table {
                thead { tr { th scope="col" { (ctx.t("coverage-file")) } th scope="col" { (ctx.t("publisher")) }
                    th scope="col" class="num" { (ctx.t("coverage-file-activities")) } th scope="col" { (ctx.t("coverage-generated")) } th scope="col" { (ctx.t("coverage-imported")) } } }
                tbody { @for f in files.iter() { tr {
                    td { (crate::paths::shown(&f.path)) }
                    td { (f.publishers.iter().map(|(r, n, _)| r.clone().unwrap_or_else(|| n.clone())).collect::<Vec<_>>().join(", ")) }
                    td class="num" { (ctx.int(f.activities)) }
                    td { @match &f.generated_datetime { Some(g) => { (g.get(..16).unwrap_or(g).replace('T', " ")) " UTC" } None => { (ctx.t("coverage-not-given")) } } }
                    td { (f.imported_at.get(..16).unwrap_or(&f.imported_at).replace('T', " ")) " UTC" }
                } } }
            } } }
        }
    };
    Ok(ctx.page(&ctx.t("coverage-title"), body))
}
