//! "Partner contributions" on the line-of-effort and country pages (issue 18, item 2): kind,
//! organisation, description in the reader's language, money. Read through the request's
//! `ReadScope` (`crate::state::read_scope()`): the public sees published contributions only, a
//! partner editor also its own organisation's. Every text is escaped by maud (markup a partner
//! typed shows as text).

use super::*;
use senda_store::contributions::{ContributionFilter, ContributionRecord};

/// The contributions of a line of effort or a country the reader may see (at most 50, latest
/// first).
pub(super) async fn rows(
    state: &Arc<AppState>,
    line_of_effort: Option<&str>,
    country: Option<&str>,
) -> Result<Vec<ContributionRecord>, WebError> {
    let scope = crate::state::read_scope();
    let filter = ContributionFilter {
        line_of_effort: line_of_effort.map(str::to_owned),
        country: country.and_then(|c| senda_core::CountryCode::parse(c).ok()),
        organisation_id: None,
        limit: 50,
    };
    if country.is_some() && filter.country.is_none() {
        // REGIONAL, UNKNOWN: no contribution names them.
        return Ok(Vec::new());
    }
    state.pool.run(move |s| s.contributions(&filter, scope)).await
}

/// The section (nothing when there is no contribution).
pub(super) fn section(ctx: &Ctx, rows: &[ContributionRecord]) -> Markup {
    if rows.is_empty() {
        return html! {};
    }
    let lang = match ctx.lang() {
        Lang::Es => senda_core::intervention::Lang::Es,
        Lang::En => senda_core::intervention::Lang::En,
    };
    html! {
        section class="contributions" {
            h2 { (ctx.t("contrib-heading")) }
            table {
                thead { tr {
                    th scope="col" { (ctx.t("contrib-date")) }
                    th scope="col" { (ctx.t("contrib-kind")) }
                    th scope="col" { (ctx.t("contrib-organisation")) }
                    th scope="col" { (ctx.t("contrib-description")) }
                    th scope="col" class="num" { (ctx.t("contrib-money")) }
                } }
                tbody { @for r in rows {
                    @let c = &r.contribution;
                    tr {
                        td { (ctx.date(&c.date.to_string())) }
                        td { (c.kind.label(lang)) " · " (c.form.label(lang)) }
                        td { (r.organisation_name) }
                        td {
                            (c.description.get(lang))
                            @if !r.published { " " span class="badge" { (ctx.t("contrib-unpublished")) } }
                        }
                        td class="num" { @if let Some(m) = &c.money {
                            @if m.currency.as_str() == "USD" { (ctx.usd(m.amount)) } @else { (ctx.loc.decimal(m.amount, 2)) " " (m.currency.as_str()) }
                        } }
                    }
                } }
            }
        }
    }
}
