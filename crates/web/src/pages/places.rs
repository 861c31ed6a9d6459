//! The line-of-effort and country pages: money by country or line of effort and fiscal year,
//! indicators, context statistics, agencies, implementers, departments.

use super::tables::{org_link, top_rows};
use super::*;
pub(super) async fn line_of_effort(
    State(state): St,
    headers: HeaderMap,
    uri: Uri,
    Path(id): Path<String>,
    Query(mut raw): Query<RawQuery>,
) -> PageResult {
    let pe = perr(&state, &headers);
    let ctx = Ctx::new(&state, &headers, &uri, &raw).map_err(&pe)?;
    let loe = ctx
        .strategy
        .lines_of_effort
        .iter()
        .find(|l| l.id.eq_ignore_ascii_case(&id))
        .cloned()
        .ok_or_else(|| pe(WebError::NotFound(format!("line of effort {id:?} in {}", ctx.strategy.id))))?;
    raw.line_of_effort = Some(loe.id.clone());
    let sel = raw.selection(&ctx.strategy).map_err(&pe)?.resolve_orgs(&state).await.map_err(&pe)?;
    let f = sel.report_filters();
    let (by_cfy, by_org, by_impl) = tokio::join!(
        state.report(&sel.strategy, vec![Dimension::Country, Dimension::FiscalYear], false, f.clone()),
        state.report(&sel.strategy, vec![Dimension::ReportingOrg], false, f.clone()),
        state.report(&sel.strategy, vec![Dimension::ImplementingOrg], false, f.clone()),
    );
    let (by_cfy, by_org, by_impl) = (by_cfy.map_err(&pe)?, by_org.map_err(&pe)?, by_impl.map_err(&pe)?);
    // The 20 largest by disbursements: a slice of the cached, ordered id list.
    let rows = crate::list::page(&state, &sel, ActivitySort::Disbursements, None, 20).await.map_err(&pe)?.rows;
    let scope = match ctx.lang() {
        Lang::Es => loe.scope_es.as_deref().unwrap_or(&loe.scope),
        Lang::En => &loe.scope,
    };
    let years = years_of(&by_cfy, 1);
    let (region_views, per_country) = indicator_views_by_country(&state, &ctx.strategy).await.map_err(&pe)?;
    let own: Vec<&IndicatorView> = region_views.iter().filter(|v| v.def.line_of_effort == loe.id).collect();
    let per_country_loe: Vec<(String, Vec<IndicatorView>)> = per_country
        .iter()
        .map(|(c, vs)| (ctx.country_label(c), vs.iter().filter(|v| v.def.line_of_effort == loe.id).cloned().collect()))
        .collect();
    let (st_id, loe_id, lang) = (ctx.strategy.id.clone(), loe.id.clone(), ctx.lang_code().to_owned());
    let iati = state
        .cached(format!("iati-results|{st_id}|{loe_id}|{lang}"), move |s| {
            senda_store::iati_indicator_views(s, &st_id, Some(&loe_id), None, &lang)
        })
        .await
        .map_err(&pe)?;
    let plan_part = super::plan::PlanPart::Line(&loe.id);
    let plan = super::plan::gap_rows(&state, &ctx.strategy.id, &plan_part).await.map_err(&pe)?;
    let contributions = super::contributions::rows(&state, Some(&loe.id), None).await.map_err(&pe)?;
    let body = html! {
        (super::orgs_without_data(&ctx, &sel))
        section { h2 { (ctx.t("loe-scope")) } p class="scope" { (scope) } }
        (super::plan::gap_section(&ctx, &plan_part, plan.as_deref()))
        (super::contributions::section(&ctx, &contributions))
        section {
            h2 { (ctx.t("ind-heading")) }
            p class="note" { (ctx.t("ind-region-note")) }
            (crate::indicators::progress_table(ctx.cat(), ctx.loc, &own))
            details class="progress-charts" {
                summary { (ctx.t("ind-charts-heading")) }
                (crate::indicators::progress_charts(ctx.cat(), ctx.loc, &format!("ind-{}", loe.id.to_lowercase()), &own))
            }
        }
        section {
            h2 { (ctx.t("ind-context-heading")) }
            (crate::indicators::context_charts(ctx.cat(), ctx.loc, &format!("ctx-{}", loe.id.to_lowercase()), &per_country_loe))
        }
        @if !iati.is_empty() {
            section {
                h2 { (ctx.t("ind-iati-heading")) }
                (iati_results_table(&ctx, &iati, 25))
            }
        }
        (fy_form(&ctx, &sel, &years, &[]))
        @if crate::negative::any_negative(&by_cfy) { (crate::negative::note(ctx.cat(), ctx.lang(), &sel.pairs())) }
        section {
            h2 { (ctx.t("loe-money-country-fy")) }
            (money_table(&ctx, &by_cfy, |k| html! {
                td { @if k[0].len() == 2 { a href=(format!("/country/{}", k[0])) { (ctx.country_label(&k[0])) } } @else { (ctx.country_label(&k[0])) } }
                td { (ctx.fy(&k[1])) }
            }, &[ctx.t("country"), ctx.t("fy-range")]))
        }
        section { h2 { (ctx.t("agencies")) } (money_table(&ctx, &top_rows(&by_org, 25), |k| html! { td { (org_link(&k[0])) } }, &[ctx.t("reporting-org")])) }
        section { h2 { (ctx.t("implementers")) } (money_table(&ctx, &top_rows(&by_impl, 25), |k| html! { td { (org_link(&k[0])) } }, &[ctx.t("implementing-org")])) }
        section {
            h2 { (ctx.t("loe-activities")) }
            (activity_table(&ctx, &rows))
            p { a href=(format!("/activities?line_of_effort={}&sort=disbursements", loe.id)) { (ctx.t("see-all-activities")) } }
        }
    };
    Ok(ctx.page(&ctx.loe_label(&loe.id), body))
}

pub(super) async fn country(
    State(state): St,
    headers: HeaderMap,
    uri: Uri,
    Path(code): Path<String>,
    Query(mut raw): Query<RawQuery>,
) -> PageResult {
    let pe = perr(&state, &headers);
    let ctx = Ctx::new(&state, &headers, &uri, &raw).map_err(&pe)?;
    let known = code.eq_ignore_ascii_case("REGIONAL")
        || code.eq_ignore_ascii_case("UNKNOWN")
        || senda_core::CountryCode::parse(&code).is_ok();
    if !known {
        return Err(pe(WebError::NotFound(format!(
            "country {code:?} (an ISO 3166-1 alpha-2 code, REGIONAL or UNKNOWN)"
        ))));
    }
    raw.country = Some(code.clone());
    let sel = raw.selection(&ctx.strategy).map_err(&pe)?.resolve_orgs(&state).await.map_err(&pe)?;
    let c = sel.country.clone().unwrap_or_default();
    let f = sel.report_filters();
    let (by_lfy, by_org) = tokio::join!(
        state.report(&sel.strategy, vec![Dimension::LineOfEffort, Dimension::FiscalYear], false, f.clone()),
        state.report(&sel.strategy, vec![Dimension::ReportingOrg], false, f.clone()),
    );
    let (by_lfy, by_org) = (by_lfy.map_err(&pe)?, by_org.map_err(&pe)?);
    let cc = c.clone();
    let depts = state.cached(format!("departments|{c}"), move |s| s.departments(&cc)).await.map_err(&pe)?;
    let years = years_of(&by_lfy, 1);
    let series = disbursement_series(&ctx.strategy, &by_lfy, &years);
    let chart = ChartData {
        id: "chart-country-fy".into(),
        title: format!("{} · {}", ctx.t("chart-disb-fy-loe"), ctx.country_label(&c)),
        categories: years.iter().map(|y| ctx.fy(y)).collect(),
        series,
    };
    let (views, iati) = match senda_core::CountryCode::parse(&c) {
        Ok(cc) => {
            let st = Arc::clone(&ctx.strategy);
            let stamp = state.interventions_stamp().await.map_err(&pe)?;
            let key = format!("indicators|{}|{c}|{stamp}", st.id);
            let v = state
                .cached(key, move |s| senda_store::indicator_views(s, &st, &Scope::Countries(vec![cc])))
                .await
                .map_err(&pe)?;
            let (st_id, lang, c2) = (ctx.strategy.id.clone(), ctx.lang_code().to_owned(), c.clone());
            let iati = state
                .cached(format!("iati-results|{st_id}|country:{c2}|{lang}"), move |s| {
                    senda_store::iati_indicator_views(s, &st_id, None, Some(&c2), &lang)
                })
                .await
                .map_err(&pe)?;
            (Some(v), iati)
        }
        Err(_) => (None, Arc::new(Vec::new())),
    };
    let plan_part = super::plan::PlanPart::Country(&c);
    let plan = super::plan::gap_rows(&state, &ctx.strategy.id, &plan_part).await.map_err(&pe)?;
    let contributions = super::contributions::rows(&state, None, Some(&c)).await.map_err(&pe)?;
    let body = html! {
        (super::orgs_without_data(&ctx, &sel))
        (fy_form(&ctx, &sel, &years, &[]))
        (super::plan::gap_section(&ctx, &plan_part, plan.as_deref()))
        (super::contributions::section(&ctx, &contributions))
        @if crate::negative::any_negative(&by_lfy) { (crate::negative::note(ctx.cat(), ctx.lang(), &sel.pairs())) }
        section { (charts::columns(&chart, ctx.cat(), ctx.loc, &ctx.t("usd-unit"))) }
        @if let Some(views) = &views {
            section {
                h2 { (ctx.t("ind-context-heading")) }
                p class="note" { (ctx.t("ind-context-country-note")) }
                (crate::indicators::context_charts(ctx.cat(), ctx.loc, "ctx-country", &[(ctx.country_label(&c), views.as_ref().clone())]))
            }
            section {
                h2 { (ctx.t("ind-heading")) }
                (crate::indicators::progress_table(ctx.cat(), ctx.loc, &views.iter().collect::<Vec<_>>()))
                details class="progress-charts" {
                    summary { (ctx.t("ind-charts-heading")) }
                    (crate::indicators::progress_charts(ctx.cat(), ctx.loc, "ind-country", &views.iter().collect::<Vec<_>>()))
                }
            }
        }
        @if !iati.is_empty() {
            section { h2 { (ctx.t("ind-iati-heading")) } (iati_results_table(&ctx, &iati, 25)) }
        }
        section {
            h2 { (ctx.t("country-money-loe-fy")) }
            (money_table(&ctx, &by_lfy, |k| html! {
                td { @if k[0] == NOT_MAPPED { (ctx.loe_label(&k[0])) } @else { a href=(format!("/loe/{}", k[0])) { (ctx.loe_label(&k[0])) } } }
                td { (ctx.fy(&k[1])) }
            }, &[ctx.t("line-of-effort"), ctx.t("fy-range")]))
        }
        section { h2 { (ctx.t("agencies")) } (money_table(&ctx, &top_rows(&by_org, 25), |k| html! { td { (org_link(&k[0])) } }, &[ctx.t("reporting-org")])) }
        section {
            h2 { (ctx.t("departments")) }
            @if depts.is_empty() { p { (ctx.t("no-departments")) } } @else {
                @let depts = &depts[..depts.len().min(100)];
                table {
                    thead { tr { th scope="col" { (ctx.t("vocabulary")) } th scope="col" { (ctx.t("department-code")) } th scope="col" { (ctx.t("department-names")) } th scope="col" class="num" { (ctx.t("activities")) } } }
                    tbody { @for d in depts { tr { td { (d.vocabulary) } td { (d.code) } td { (d.names) } td class="num" { (ctx.int(d.activities)) } } } }
                }
            }
        }
        p { a href=(format!("/activities?country={c}")) { (ctx.t("see-all-activities")) } }
    };
    Ok(ctx.page(&ctx.country_label(&c), body))
}
