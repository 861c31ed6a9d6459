//! Pages of single records: an activity (every imported field and why it maps where it maps),
//! an organisation, the import runs and one run.

use super::tables::org_link;
use super::*;
use senda_core::codelists::{self, Codelist};
pub(super) fn narrative_block(ctx: &Ctx, a: &Activity, ns: &[senda_core::Narrative]) -> Markup {
    let want = ctx.lang().code();
    let shown = pick_narrative(ns, Some(want), a.default_language.as_deref()).unwrap_or("");
    let others: Vec<&senda_core::Narrative> = ns.iter().filter(|n| n.text != shown).collect();
    html! {
        p { (shown) }
        @if !others.is_empty() {
            details { summary { (ctx.t("other-narratives")) }
                @for n in others { p lang=[n.lang.as_deref()] { small { "[" (n.lang.as_deref().or(a.default_language.as_deref()).unwrap_or("?")) "] " } (n.text) } }
            }
        }
    }
}

/// A file's import status (`imported`, `unchanged`, `rejected`, ...) in the reader's language.
fn file_status(ctx: &Ctx, status: &str) -> String {
    let key = format!("file-status-{status}");
    if ctx.cat().has(ctx.lang(), &key) { ctx.t(&key) } else { status.to_owned() }
}

/// An IATI field's name in the reader's language, the element's name beside it: "alcance de
/// la actividad (activity-scope)".
fn field_name(ctx: &Ctx, key: &str, element: &str) -> Markup {
    html! { (ctx.t(&format!("field-{key}"))) " " code { "(" (element) ")" } }
}

/// A code of an IATI codelist as the reader reads it: its name in the reader's language (an
/// English name on a Spanish page, where the codelists have no translation, is marked
/// `lang="en"`), the code beside it; the code alone when the list does not have it.
pub(super) fn coded(ctx: &Ctx, list: Codelist, code: &str) -> Markup {
    named(ctx, codelists::name(list, code, ctx.lang() == Lang::Es), code)
}

fn named(ctx: &Ctx, name: Option<codelists::Name>, code: &str) -> Markup {
    html! {
        @match name {
            Some(n) if n.lang != ctx.lang().code() => { span lang=(n.lang) { (n.text) } " " code { "(" (code) ")" } }
            Some(n) => { (n.text) " " code { "(" (code) ")" } }
            None => { code { (code) } }
        }
    }
}

/// A sector's name (the codelist's, else the name the publisher gave), the code beside it.
pub(super) fn sector_label(ctx: &Ctx, vocabulary: &str, code: &str, published: Option<&str>) -> Markup {
    match codelists::sector_name(vocabulary, code, ctx.lang() == Lang::Es) {
        Some(n) => named(ctx, Some(n), code),
        None => html! { @if let Some(p) = published.filter(|p| !p.trim().is_empty()) { (p) " " } code { (code) } },
    }
}

/// A place identifier of a location (`G1 3598132`): the gazetteer's name and the id, a link to
/// GeoNames for GeoNames ids.
fn place_id(ctx: &Ctx, vocabulary: &str, code: &str) -> Markup {
    let geonames =
        vocabulary.eq_ignore_ascii_case("G1") && code.bytes().all(|b| b.is_ascii_digit()) && !code.is_empty();
    let vocab = codelists::name(Codelist::GeographicVocabulary, vocabulary, ctx.lang() == Lang::Es);
    html! {
        @if geonames { a href=(format!("https://www.geonames.org/{code}")) rel="noopener noreferrer external" { "GeoNames " (code) } }
        @else {
            @if let Some(v) = vocab { span lang=(v.lang) { (v.text) } " " } @else if !vocabulary.is_empty() { code { (vocabulary) } " " }
            code { (code) }
        }
    }
}

/// The evidence of a rule in words; the IATI path of the field (an identifier, not prose) in
/// `<code>`.
pub(super) fn evidence_words(ctx: &Ctx, e: &Evidence) -> Markup {
    use crate::charts::draw::esc;
    let field_kind = e.kind.as_str();
    let key = format!("field-{field_kind}");
    let path = format!("<code>{}</code>", esc(&e.field));
    let field = if ctx.cat().has(ctx.lang(), &key) { format!("{} ({path})", esc(&ctx.t(&key))) } else { path };
    // Every argument is escaped here; the message itself comes from the catalogue.
    maud::PreEscaped(ctx.ta(
        "evidence-rule",
        &[
            ("rule", esc(e.rule.as_str())),
            ("loe", esc(&ctx.loe_label(&e.line_of_effort))),
            ("field", field),
            ("value", format!("“{}”", esc(&e.value))),
        ],
    ))
}

pub(super) async fn activity(
    State(state): St,
    headers: HeaderMap,
    uri: Uri,
    Path(id): Path<String>,
    Query(raw): Query<RawQuery>,
) -> PageResult {
    let pe = perr(&state, &headers);
    let ctx = Ctx::new(&state, &headers, &uri, &raw).map_err(&pe)?;
    let sid = ctx.strategy.id.clone();
    let ident = id.clone();
    let d: ActivityDetail = state.pool.run(move |s| s.activity(&ident, &sid)).await.map_err(&pe)?;
    let a = &d.activity;
    let title = pick_narrative(&a.title, Some(ctx.lang().code()), a.default_language.as_deref())
        .unwrap_or(a.iati_identifier.as_str())
        .to_owned();
    // The activity's net commitments or disbursements (USD) below zero: say why.
    let net = |ty: &str| -> Decimal {
        a.transactions
            .iter()
            .filter(|t| t.transaction_type.as_str() == ty)
            .filter_map(|t| t.value.as_ref().filter(|m| m.currency.as_str() == "USD").map(|m| m.amount))
            .sum()
    };
    let net_negative = net("2") < Decimal::ZERO || net("3") < Decimal::ZERO;
    // Countries named by transactions only (IATI allows either level).
    let tx_countries: Vec<String> = {
        let mut v: Vec<String> = a
            .transactions
            .iter()
            .flat_map(|t| t.recipient_countries.iter().map(|c| c.code.as_str().to_owned()))
            .collect();
        v.sort();
        v.dedup();
        v
    };
    let rule_of = |rid: &str| ctx.strategy.rules.iter().find(|r| r.id == rid).map(|r| r.note.clone());
    let effective: Vec<String> =
        d.override_.as_ref().map(|o| o.lines_of_effort.clone()).unwrap_or_else(|| d.rule_lines.clone());
    let labels = |ls: &[String]| ls.iter().map(|l| ctx.loe_label(l)).collect::<Vec<_>>().join("; ");
    let body = html! {
        section aria-labelledby="map-h" class="mapping" {
            h2 id="map-h" { (ctx.t("mapping-explained")) }
            @if effective.is_empty() { p class="verdict" { (ctx.t("mapped-to-none")) } }
            @else { p class="verdict" { (ctx.ta("mapped-to", &[("lines", labels(&effective))])) } }
            @if let Some(o) = &d.override_ {
                p { @if o.lines_of_effort.is_empty() {
                        (ctx.ta("override-none", &[("date", ctx.date(&o.created_at)), ("note", o.note.clone())]))
                    } @else {
                        (ctx.ta("override-note", &[("lines", labels(&o.lines_of_effort)), ("date", ctx.date(&o.created_at)), ("note", o.note.clone())]))
                    } }
                p { (ctx.ta("rules-said", &[("lines", if d.rule_lines.is_empty() { ctx.t("not-mapped") } else { labels(&d.rule_lines) })])) }
            }
            @if !d.override_log.is_empty() {
                details class="override-history" {
                    summary { (ctx.t("override-history")) }
                    ol {
                        @for e in &d.override_log {
                            @let lines = if e.lines_of_effort.is_empty() { ctx.t("not-mapped") } else { labels(&e.lines_of_effort) };
                            @let key = if e.action == "set" { "override-history-set" } else { "override-history-unset" };
                            li { (ctx.ta(key, &[("date", ctx.date(&e.at)), ("lines", lines), ("note", e.note.clone())])) }
                        }
                    }
                }
            }
            // The rules' mapping in words (senda_core::explain, as `senda explain --lang`):
            // each line with its confidence and evidence, strongest first, then the lines that
            // almost applied.
            @let words = senda_core::explain::explain(&ctx.strategy, &d.rule_lines, &d.evidence, &d.near_misses, super::review::words_lang(&ctx));
            h3 { (ctx.t("explanation-h")) }
            @for l in &words.lines {
                p class="loe-confidence" { strong { (ctx.loe_label(&l.line_of_effort)) } " (" (ctx.ta("confidence-is", &[("level", senda_core::explain::strength_word(l.confidence, super::review::words_lang(&ctx)).to_owned())])) ")" }
                ul { @for e in &l.evidence { li { (e) } } }
            }
            @if !words.near.is_empty() {
                p { (senda_core::explain::near_heading(super::review::words_lang(&ctx))) }
                @for n in &words.near {
                    p { strong { (ctx.loe_label(&n.line_of_effort)) } }
                    ul { @for x in &n.sentences { li { (x) } } }
                }
            }
            @if d.evidence.is_empty() { p { (ctx.t("evidence-none")) } } @else {
                ul class="evidence" {
                    @for e in &d.evidence {
                        li { (evidence_words(&ctx, e))
                            // Rule notes are written in English only (strategy files): a Spanish
                            // page says so rather than showing English text.
                            @if let Some(n) = rule_of(&e.rule) {
                                br; small { @if ctx.lang() == Lang::En { (ctx.ta("evidence-note", &[("note", n)])) } @else { (ctx.t("strategy-rule-note-english")) } }
                            } }
                    }
                }
            }
        }
        section aria-labelledby="f-h" {
            h2 id="f-h" { (ctx.t("activity-fields")) }
            dl class="fields" {
                dt { (ctx.t("identifier")) } dd { code { (a.iati_identifier.as_str()) } }
                dt { (ctx.t("reporting-org")) } dd { (org_link(a.reporting_org.display_name())) @if let Some(r) = &a.reporting_org.r#ref { " " code { (r) } }
                    @if let Some(t) = &a.reporting_org.org_type { " · " (coded(&ctx, Codelist::OrganisationType, t)) } }
                dt { (ctx.t("title")) } dd { (narrative_block(&ctx, a, &a.title)) }
                @for dsc in &a.descriptions { dt { (ctx.t("description")) @if let Some(t) = &dsc.description_type { " · " (coded(&ctx, Codelist::DescriptionType, t)) } } dd { (narrative_block(&ctx, a, &dsc.narratives)) } }
                dt { (ctx.t("status")) } dd { (ctx.status_label(a.status.as_deref().unwrap_or(""))) }
                dt { (ctx.t("dates")) } dd { ul { @for dt_ in &a.dates { li { (ctx.t(&format!("datetype-{}", dt_.date_type))) ": " (ctx.date(&dt_.date.to_string())) } } } }
                dt { (ctx.t("humanitarian")) } dd { (match a.humanitarian { Some(true) => ctx.t("yes"), Some(false) => ctx.t("no"), None => ctx.t("coverage-not-given") }) }
                @if let Some(v) = &a.iati_version { dt { (field_name(&ctx, "iati-version", "iati-version")) } dd { (v) } }
                @if let Some(v) = &a.default_language { dt { (field_name(&ctx, "default-language", "default-language")) } dd { (v) } }
                @if let Some(v) = &a.last_updated { dt { (field_name(&ctx, "last-updated", "last-updated-datetime")) } dd { (v) } }
                @if let Some(v) = &a.hierarchy { dt { (field_name(&ctx, "hierarchy", "hierarchy")) } dd { (v) } }
                @if let Some(v) = &a.scope { dt { (field_name(&ctx, "activity-scope", "activity-scope")) } dd { (coded(&ctx, Codelist::ActivityScope, v)) } }
                @if let Some(v) = &a.collaboration_type { dt { (field_name(&ctx, "collaboration-type", "collaboration-type")) } dd { (coded(&ctx, Codelist::CollaborationType, v)) } }
                @if let Some(v) = &a.default_flow_type { dt { (field_name(&ctx, "default-flow-type", "default-flow-type")) } dd { (coded(&ctx, Codelist::FlowType, v)) } }
                @if let Some(v) = &a.default_finance_type { dt { (field_name(&ctx, "default-finance-type", "default-finance-type")) } dd { (coded(&ctx, Codelist::FinanceType, v)) } }
                @if !a.default_aid_types.is_empty() { dt { (field_name(&ctx, "default-aid-type", "default-aid-type")) } dd { @for (i, t) in a.default_aid_types.iter().enumerate() { @if i > 0 { "; " } (coded(&ctx, Codelist::AidType, t)) } } }
                dt { (ctx.t("source")) } dd { (ctx.ta("source-file", &[("file", d.source.0.rsplit('/').next().unwrap_or("").to_owned()), ("position", d.source_number().to_string())])) }
            }
        }
        @if !a.participating_orgs.is_empty() { section { h2 { (ctx.t("participating-orgs")) } table {
            thead { tr { th scope="col" { (ctx.t("organisation")) } th scope="col" { (ctx.t("org-ref")) } th scope="col" { (ctx.t("org-type")) } th scope="col" { (ctx.t("role")) } } }
            tbody { @for p in &a.participating_orgs { tr { td { (org_link(p.org.display_name())) } td { (p.org.r#ref.as_deref().unwrap_or("")) }
                td { @if let Some(t) = &p.org.org_type { (coded(&ctx, Codelist::OrganisationType, t)) } }
                td { @if let Some(r) = &p.role { (ctx.t(&format!("orgrole-{r}"))) } } } } }
        } } }
        section { h2 { (ctx.t("recipient-countries")) }
            @if a.recipient_countries.is_empty() && a.recipient_regions.is_empty() {
                @if tx_countries.is_empty() { p { (ctx.t("no-countries")) } } @else {
                    p class="note" { (ctx.t("countries-from-transactions")) }
                    ul class="tx-countries" { @for c in &tx_countries { li { a href=(format!("/country/{c}")) { (ctx.country_label(c)) } } } }
                }
            }
            ul {
            @for c in &a.recipient_countries { li { a href=(format!("/country/{}", c.code.as_str())) { (ctx.country_label(c.code.as_str())) } @if let Some(p) = &c.percentage { " · " (ctx.loc.percent(p.value())) } } }
            @for r in &a.recipient_regions { li { (ctx.t("recipient-regions")) ": " (r.code) " (" (r.vocabulary) ")" @if let Some(p) = &r.percentage { " · " (ctx.loc.percent(p.value())) } } }
        } }
        @if !a.sectors.is_empty() { section { h2 { (ctx.t("sectors")) } table {
            thead { tr { th scope="col" { (ctx.t("code")) } th scope="col" { (ctx.t("vocabulary")) } th scope="col" { (ctx.t("title")) } th scope="col" class="num" { (ctx.t("percentage")) } } }
            tbody { @for s in &a.sectors { tr { td { code { (s.code) } } td { (coded(&ctx, Codelist::SectorVocabulary, &s.vocabulary)) } td { (sector_label(&ctx, &s.vocabulary, &s.code, s.name.as_deref())) } td class="num" { @if let Some(p) = &s.percentage { (ctx.loc.percent(p.value())) } } } } }
        } } }
        @if !a.policy_markers.is_empty() { section { h2 { (ctx.t("policy-markers")) } ul { @for p in &a.policy_markers { li { (p.code) " (" (p.vocabulary) ")" @if let Some(s) = p.significance { " · " (ctx.t("significance")) ": " (coded(&ctx, Codelist::PolicySignificance, &s.to_string())) } } } } } }
        @if !a.tags.is_empty() { section { h2 { (ctx.t("tags")) } ul { @for t in &a.tags { li { (t.code) " (" (t.vocabulary) ")" @if let Some(n) = &t.name { " " (n) } } } } } }
        @if !a.locations.is_empty() { section { h2 { (ctx.t("locations")) } ul { @for l in &a.locations { li {
            (pick_narrative(&l.name, Some(ctx.lang().code()), a.default_language.as_deref()).unwrap_or(""))
            @for ad in &l.administratives { " · " (place_id(&ctx, ad.vocabulary.as_deref().unwrap_or(""), &ad.code))
                @if let Some(lv) = &ad.level { " " (ctx.ta("admin-level", &[("level", lv.to_string())])) } }
            @if let Some(p) = &l.point { " · " (format!("{:.4}, {:.4}", p.lat, p.lon)) }
        } } } } }
        @if net_negative { (crate::negative::note(ctx.cat(), ctx.lang(), &[("q", a.iati_identifier.as_str().to_owned())])) }
        section { h2 { (ctx.t("transactions")) " (" (ctx.int(a.transactions.len() as u64)) ")" } div class="table-scroll" tabindex="0" { table {
            thead { tr { th scope="col" { (ctx.t("transaction-type")) } th scope="col" { (ctx.t("date")) } th scope="col" class="num" { (ctx.t("value")) } th scope="col" { (ctx.t("currency")) } th scope="col" { (ctx.t("value-date")) } th scope="col" { (ctx.t("provider")) } th scope="col" { (ctx.t("receiver")) } th scope="col" { (ctx.t("description")) } } }
            tbody { @for t in a.transactions.iter().take(2000) { tr {
                td { (ctx.t(&format!("ttype-{}", t.transaction_type))) }
                td { (t.date.map(|d| ctx.date(&d.to_string())).unwrap_or_default()) }
                td class="num" { @if let Some(m) = &t.value { (ctx.loc.decimal(m.amount, 2)) } }
                td { @if let Some(m) = &t.value { (m.currency.as_str()) } }
                td { @if let Some(m) = &t.value { (m.value_date.map(|d| ctx.date(&d.to_string())).unwrap_or_default()) } }
                td { (t.provider_org.as_ref().map(|o| o.display_name()).unwrap_or("")) }
                td { (t.receiver_org.as_ref().map(|o| o.display_name()).unwrap_or("")) }
                td { (pick_narrative(&t.description, Some(ctx.lang().code()), a.default_language.as_deref()).unwrap_or("")) }
            } } }
        } } @if a.transactions.len() > 2000 { p { "… " (ctx.int(a.transactions.len() as u64 - 2000)) " · " a href=(format!("/api/v1/activities/{}", enc(a.iati_identifier.as_str()))) { "JSON" } } } }
        @if !a.budgets.is_empty() { section { h2 { (ctx.t("budgets")) } table {
            thead { tr { th scope="col" { (ctx.t("period")) } th scope="col" class="num" { (ctx.t("value")) } th scope="col" { (ctx.t("currency")) } th scope="col" { (ctx.t("status")) } } }
            tbody { @for b in &a.budgets { tr {
                td { (b.period_start.map(|d| ctx.date(&d.to_string())).unwrap_or_default()) " – " (b.period_end.map(|d| ctx.date(&d.to_string())).unwrap_or_default()) }
                td class="num" { @if let Some(m) = &b.value { (ctx.loc.decimal(m.amount, 2)) } }
                td { @if let Some(m) = &b.value { (m.currency.as_str()) } }
                td { (b.status.as_deref().unwrap_or("")) }
            } } }
        } } }
        @if !a.results.is_empty() { section { h2 { (ctx.t("results")) } @for r in &a.results {
            h3 { (pick_narrative(&r.title, Some(ctx.lang().code()), a.default_language.as_deref()).unwrap_or("")) }
            table { thead { tr { th scope="col" { (ctx.t("indicator")) } th scope="col" { (ctx.t("baseline")) } th scope="col" { (ctx.t("period")) } th scope="col" { (ctx.t("target")) } th scope="col" { (ctx.t("actual")) } } }
                tbody { @for i in &r.indicators {
                    @let base = i.baselines.iter().map(|b| format!("{}{}", b.value.clone().unwrap_or_default(), b.year.map(|y| format!(" ({y})")).unwrap_or_default())).collect::<Vec<_>>().join("; ");
                    @let ititle = pick_narrative(&i.title, Some(ctx.lang().code()), a.default_language.as_deref()).unwrap_or("").to_owned();
                    @if i.periods.is_empty() { tr { td { (ititle) } td { (base) } td {} td {} td {} } }
                    @for p in &i.periods { tr {
                        td { (ititle) } td { (base) }
                        td { (p.start.map(|d| ctx.date(&d.to_string())).unwrap_or_default()) " – " (p.end.map(|d| ctx.date(&d.to_string())).unwrap_or_default()) }
                        td { (p.targets.iter().filter_map(|v| v.value.clone()).collect::<Vec<_>>().join("; ")) }
                        td { (p.actuals.iter().filter_map(|v| v.value.clone()).collect::<Vec<_>>().join("; ")) }
                    } }
                } }
            }
        } } }
        @if !a.related_activities.is_empty() { section { h2 { (ctx.t("related-activities")) } ul { @for r in &a.related_activities { li { (r.relation_type) ": " a href=(format!("/activity/{}", enc(&r.r#ref))) { (r.r#ref) } } } } } }
        @if !a.extensions.is_empty() { section { h2 { (ctx.t("other-elements")) } table {
            thead { tr { th scope="col" { (ctx.t("ext-element")) } th scope="col" { (ctx.t("ext-parent")) } th scope="col" { (ctx.t("ext-attributes")) } th scope="col" { (ctx.t("value")) } } }
            tbody { @for x in a.extensions.iter().take(500) { tr {
                td { code { @if let Some(n) = &x.namespace { "{" (n) "}" } (x.name) } } td { code { (x.parent) } }
                td { (x.attributes.iter().map(|(k, v)| format!("{k}={v}")).collect::<Vec<_>>().join(" ")) } td { (x.value) }
            } } }
        } @if a.extensions.len() > 500 { p { "… " (ctx.int(a.extensions.len() as u64 - 500)) " · " a href=(format!("/api/v1/activities/{}", enc(a.iati_identifier.as_str()))) { "JSON" } } } } }
    };
    Ok(ctx.page(&title, body))
}

#[derive(serde::Deserialize)]
pub(super) struct OrgQuery {
    name: Option<String>,
    strategy: Option<String>,
    lang: Option<String>,
}

pub(super) async fn organisation(
    State(state): St,
    headers: HeaderMap,
    uri: Uri,
    Query(q): Query<OrgQuery>,
) -> PageResult {
    let pe = perr(&state, &headers);
    let raw = RawQuery { strategy: q.strategy.clone(), lang: q.lang.clone(), ..Default::default() };
    let ctx = Ctx::new(&state, &headers, &uri, &raw).map_err(&pe)?;
    let name = q
        .name
        .filter(|n| !n.trim().is_empty())
        .ok_or_else(|| pe(WebError::BadRequest("name: give the organisation's name (?name=...)".into())))?;
    let sid = ctx.strategy.id.clone();
    let f_rep = [(Dimension::ReportingOrg, vec![name.clone()])].into_iter().collect();
    let f_imp = [(Dimension::ImplementingOrg, vec![name.clone()])].into_iter().collect();
    let (rep, imp) = tokio::join!(
        state.report(&sid, vec![Dimension::LineOfEffort, Dimension::FiscalYear], false, f_rep),
        state.report(&sid, vec![Dimension::LineOfEffort, Dimension::FiscalYear], false, f_imp),
    );
    let (rep, imp) = (rep.map_err(&pe)?, imp.map_err(&pe)?);
    if rep.rows.is_empty() && imp.rows.is_empty() {
        return Err(pe(WebError::NotFound(format!("organisation {name:?}"))));
    }
    let key = |k: &[String]| {
        html! {
            td { @if k[0] == NOT_MAPPED { (ctx.loe_label(&k[0])) } @else { a href=(format!("/loe/{}", k[0])) { (ctx.loe_label(&k[0])) } } }
            td { (ctx.fy(&k[1])) }
        }
    };
    let heads = [ctx.t("line-of-effort"), ctx.t("fy-range")];
    let body = html! {
        @if !rep.rows.is_empty() { section { h2 { (ctx.t("org-as-funder")) } (money_table(&ctx, &rep, key, &heads))
            p { a href=(format!("/activities?reporting_org={}", enc(&name))) { (ctx.t("see-all-activities")) } } } }
        @if !imp.rows.is_empty() { section { h2 { (ctx.t("org-as-implementer")) } (money_table(&ctx, &imp, key, &heads))
            p { a href=(format!("/activities?implementing_org={}", enc(&name))) { (ctx.t("see-all-activities")) } } } }
    };
    Ok(ctx.page(&name, body))
}

fn num(v: &serde_json::Value, k: &str) -> u64 {
    v.get(k).and_then(|x| x.as_u64()).unwrap_or(0)
}

pub(super) async fn imports(State(state): St, headers: HeaderMap, uri: Uri, Query(raw): Query<RawQuery>) -> PageResult {
    let pe = perr(&state, &headers);
    let ctx = Ctx::new(&state, &headers, &uri, &raw).map_err(&pe)?;
    let (runs, quality) = state.pool.run(|s| Ok((s.runs(100)?, s.data_quality()?))).await.map_err(&pe)?;
    let body = html! {
        @if runs.is_empty() { p { (ctx.t("imports-none")) } } @else {
            div class="table-scroll" tabindex="0" { table {
                thead { tr { th scope="col" { "#" } th scope="col" { (ctx.t("started")) } th scope="col" class="num" { (ctx.t("files")) }
                    th scope="col" class="num" { (ctx.t("created")) } th scope="col" class="num" { (ctx.t("updated")) } th scope="col" class="num" { (ctx.t("unchanged")) }
                    th scope="col" class="num" { (ctx.t("rejected")) } th scope="col" class="num" { (ctx.t("warnings")) } th scope="col" class="num" { (ctx.t("errors")) } } }
                tbody { @for r in &runs { tr {
                    td { a href=(format!("/imports/{}", r.id)) { (ctx.ta("run", &[("id", r.id.to_string())])) } }
                    td { (r.started_at.get(..19).unwrap_or(&r.started_at).replace('T', " ")) " UTC" }
                    td class="num" { (ctx.int(num(&r.report, "files"))) }
                    td class="num" { (ctx.int(num(&r.report, "created"))) }
                    td class="num" { (ctx.int(num(&r.report, "updated"))) }
                    td class="num" { (ctx.int(num(&r.report, "unchanged"))) }
                    td class="num" { (ctx.int(num(&r.report, "rejected"))) }
                    td class="num" { (ctx.int(num(&r.report, "warnings"))) }
                    td class="num" { (ctx.int(num(&r.report, "errors"))) }
                } } }
            } }
        }
        p { a href="/coverage" { (ctx.t("coverage-title")) } ": " (ctx.t("coverage-link-note")) }
        section { h2 { (ctx.t("data-quality")) }
            @if quality.is_empty() { p { (ctx.t("no-data")) } } @else { table {
                thead { tr { th scope="col" { (ctx.t("publisher")) } th scope="col" { (ctx.t("severity")) } th scope="col" class="num" { "n" } } }
                tbody { @for q in &quality { tr { td { (crate::paths::shown(&q.publisher)) } td { (q.severity) } td class="num" { (ctx.int(q.count)) } } } }
            } }
        }
    };
    Ok(ctx.page(&ctx.t("imports-title"), body))
}

pub(super) async fn import_run(
    State(state): St,
    headers: HeaderMap,
    uri: Uri,
    Path(id): Path<String>,
    Query(raw): Query<RawQuery>,
) -> PageResult {
    let pe = perr(&state, &headers);
    let ctx = Ctx::new(&state, &headers, &uri, &raw).map_err(&pe)?;
    let id: i64 = id.parse().map_err(|_| pe(WebError::NotFound(format!("import run {id:?}"))))?;
    let (runs, diags) =
        state.pool.run(move |s| Ok((s.runs(u64::MAX >> 1)?, s.run_diagnostics(id)?))).await.map_err(&pe)?;
    let run =
        runs.into_iter().find(|r| r.id == id).ok_or_else(|| pe(WebError::NotFound(format!("import run {id}"))))?;
    let mut files = run.report.get("file_reports").cloned().unwrap_or_default();
    // Diagnostics live in their own table (the stored report keeps the counts).
    let mut diags = serde_json::to_value(&diags).unwrap_or_default();
    // Paths relative to what was imported, never the server's folders.
    crate::paths::relative_to_run(&mut [&mut files, &mut diags]);
    let (files, diags) = (files.as_array().cloned().unwrap_or_default(), diags.as_array().cloned().unwrap_or_default());
    let s = |v: &serde_json::Value, k: &str| {
        v.get(k).map(|x| x.as_str().map(str::to_owned).unwrap_or_else(|| x.to_string())).unwrap_or_default()
    };
    let body = html! {
        p { (ctx.t("started")) ": " (run.started_at) " · " (ctx.t("finished")) ": " (run.finished_at) }
        h2 { (ctx.t("files")) }
        div class="table-scroll" tabindex="0" { table {
            thead { tr { th scope="col" { (ctx.t("files")) } th scope="col" { (ctx.t("status")) } th scope="col" class="num" { (ctx.t("created")) } th scope="col" class="num" { (ctx.t("updated")) } th scope="col" class="num" { (ctx.t("unchanged")) } th scope="col" class="num" { (ctx.t("rejected")) } th scope="col" { (ctx.t("errors")) } } }
            tbody { @for f in &files { tr { td { (s(f, "path")) } td { (file_status(&ctx, &s(f, "status"))) } td class="num" { (num(f, "created")) } td class="num" { (num(f, "updated")) } td class="num" { (num(f, "unchanged")) } td class="num" { (num(f, "rejected")) } td { (s(f, "error").replace("null", "")) } } } }
        } }
        h2 { (ctx.t("diagnostics")) " (" (ctx.int(diags.len() as u64)) ")" }
        div class="table-scroll" tabindex="0" { table {
            thead { tr { th scope="col" { (ctx.t("severity")) } th scope="col" { (ctx.t("files")) } th scope="col" { (ctx.t("line-col")) } th scope="col" { (ctx.t("identifier")) } th scope="col" { (ctx.t("ext-element")) } th scope="col" { (ctx.t("message")) } } }
            tbody { @for d in diags.iter().take(1000) { tr {
                td { (s(d, "severity")) } td { (s(d, "file")) } td { (num(d, "line")) ":" (num(d, "column")) }
                td { (s(d, "identifier").replace("null", "")) } td { (s(d, "element").replace("null", "")) } td { (s(d, "message")) }
            } } }
        } }
    };
    Ok(ctx.page(&ctx.ta("run", &[("id", id.to_string())]), body))
}
