//! The review queue page (`/review`, issue 19 item 4): the same queue as `senda map review`
//! (`senda_store::review_queue`), weak-only mappings and near misses by money at stake, each
//! with its evidence in the reader's language and the command that decides it.

use super::*;
use senda_core::explain::{Lang as WordsLang, describe_match, strength_word};
use senda_core::mapping::NearMissReason;
use senda_store::{ReviewEntry, ReviewFilter};

/// The explanation language of a page language.
pub(super) fn words_lang(ctx: &Ctx) -> WordsLang {
    match ctx.lang() {
        Lang::Es => WordsLang::Es,
        Lang::En => WordsLang::En,
    }
}

/// How many entries the page shows.
const PAGE_ENTRIES: usize = 100;

pub(super) async fn review(State(state): St, headers: HeaderMap, uri: Uri, Query(raw): Query<RawQuery>) -> PageResult {
    let pe = perr(&state, &headers);
    let ctx = Ctx::new(&state, &headers, &uri, &raw).map_err(&pe)?;
    let param = |v: &Option<String>| v.as_deref().map(str::trim).filter(|v| !v.is_empty()).map(str::to_owned);
    let line_of_effort = match param(&raw.line_of_effort) {
        Some(l) => match ctx.strategy.lines_of_effort.iter().find(|x| x.id.eq_ignore_ascii_case(&l)) {
            Some(x) => Some(x.id.clone()),
            None => return Err(pe(WebError::BadRequest(format!("line_of_effort: unknown line of effort {l:?}")))),
        },
        None => None,
    };
    let country = match param(&raw.country) {
        Some(c) => Some(
            senda_core::CountryCode::parse(&c)
                .map_err(|e| pe(WebError::BadRequest(format!("country: {e}"))))?
                .to_string(),
        ),
        None => None,
    };
    let filter =
        ReviewFilter { line_of_effort: line_of_effort.clone(), country: country.clone(), limit: Some(PAGE_ENTRIES) };
    let sid = ctx.strategy.id.clone();
    let entries: Vec<ReviewEntry> =
        state.pool.run(move |s| senda_store::review_queue(s, &sid, &filter)).await.map_err(&pe)?;
    let wl = words_lang(&ctx);
    let body = html! {
        h1 { (ctx.t("review-title")) }
        p { (ctx.t("review-intro")) }
        form method="get" action="/review" class="filters" {
            label { (ctx.t("line-of-effort")) " "
                select name="line_of_effort" {
                    option value="" { (ctx.t("all")) }
                    @for l in &ctx.strategy.lines_of_effort {
                        option value=(l.id) selected[line_of_effort.as_deref() == Some(l.id.as_str())] { (ctx.loe_label(&l.id)) }
                    }
                }
            }
            " "
            label { (ctx.t("country")) " " input type="text" name="country" size="3" value=(country.clone().unwrap_or_default()); }
            " " button type="submit" { (ctx.t("apply")) }
        }
        @if entries.is_empty() { p { (ctx.t("review-empty")) } }
        ol class="review" {
            @for e in &entries {
                li {
                    p {
                        a href=(format!("/activity/{}", e.iati_identifier)) { (e.iati_identifier) } " — " (e.title)
                        br; small { (e.reporting_org) " · " (if e.countries.is_empty() { "REGIONAL".to_owned() } else { e.countries.clone() }) " · " (ctx.usd(e.money_usd.parse::<Decimal>().unwrap_or_default())) }
                    }
                    p { (ctx.t("review-rules")) ": "
                        @if e.lines_of_effort.is_empty() { (ctx.t("not-mapped")) }
                        @for (k, (l, c)) in e.lines_of_effort.iter().zip(&e.confidence).enumerate() {
                            @if k > 0 { "; " } (ctx.loe_label(l)) " (" (ctx.ta("confidence-is", &[("level", strength_word(*c, wl).to_owned())])) ")"
                        }
                    }
                    ul class="evidence" {
                        @for l in &e.weak_lines {
                            @for ev in e.evidence.iter().filter(|ev| ev.line_of_effort == l.as_str()) {
                                li { (ctx.ta("review-weak", &[("loe", ctx.loe_label(l)), ("what", describe_match(&ev.kind, &ev.field, &ev.value, wl)), ("rule", ev.rule.to_string())])) }
                            }
                        }
                        @for n in &e.near_misses {
                            @let what = describe_match(&n.kind, &n.field, &n.value, wl);
                            @let loe = ctx.loe_label(&n.line_of_effort);
                            li { @match &n.reason {
                                NearMissReason::Veto { phrase } => (ctx.ta("review-near-veto", &[("loe", loe), ("what", what), ("rule", n.rule.to_string()), ("phrase", phrase.clone())])),
                                NearMissReason::Field => (ctx.ta("review-near-field", &[("loe", loe), ("what", what), ("rule", n.rule.to_string())])),
                            } }
                        }
                    }
                    p { (ctx.t("review-decide")) br; code { (e.command) } }
                }
            }
        }
    };
    Ok(ctx.page(&ctx.t("review-title"), body))
}
