//! The intervention form page (one per instrument, sharing the 5W core) and the conflict
//! table of a stale save. Every value reaches HTML through maud, which escapes it.

use super::{Reader, instrument_label, respond, strategy_of, t};
use crate::AppState;
use crate::intervention_form::{self as form, Problems};
use axum::http::StatusCode;
use axum::response::Response;
use maud::{Markup, html};
use senda_core::intervention::{Instrument, Restricted};
use serde_json::Value;

/// What changed between the version the editor opened and now, beside what the editor wrote.
pub(super) fn conflict_table(state: &AppState, r: &Reader, base: &Value, current: &Value, mine: &Value) -> Markup {
    let (b, c, m) = (form::flatten(base), form::flatten(current), form::flatten(mine));
    let mut keys: Vec<&String> = b.keys().chain(c.keys()).collect();
    keys.sort();
    keys.dedup();
    let changed: Vec<&String> = keys.into_iter().filter(|k| b.get(*k) != c.get(*k)).collect();
    let dash = String::from("—");
    html! {
        div role="alert" class="error conflict" {
            h2 { (t(state, r, "iv-conflict")) }
            p { (t(state, r, "iv-conflict-detail")) }
            table {
                thead { tr {
                    th scope="col" { (t(state, r, "iv-field")) }
                    th scope="col" { (t(state, r, "iv-when-opened")) }
                    th scope="col" { (t(state, r, "iv-now")) }
                    th scope="col" { (t(state, r, "iv-yours")) }
                } }
                tbody {
                    @for k in &changed {
                        tr {
                            th scope="row" { code { (k) } }
                            td { (b.get(*k).unwrap_or(&dash)) }
                            td { (c.get(*k).unwrap_or(&dash)) }
                            td { (m.get(*k).unwrap_or(&dash)) }
                        }
                    }
                }
            }
        }
    }
}

/// Where the form posts.
pub(super) enum FormTarget {
    /// A new record, with its one-time token.
    New { token: String },
    /// An edit of a record from a version.
    Edit { id: i64, version: i64, base: String },
}

/// The whole form page. `add` is the section whose rows were asked for; `conflict` the table
/// of changes made meanwhile.
#[allow(clippy::too_many_arguments)]
pub(super) fn form_page(
    state: &AppState,
    r: &Reader,
    status: StatusCode,
    instrument: Instrument,
    v: &Value,
    p: &Problems,
    orgs: &[(i64, String)],
    target: &FormTarget,
    add: Option<&str>,
    conflict: Option<Markup>,
) -> Response {
    let il = instrument_label(state, r, instrument);
    let (title, action) = match target {
        FormTarget::New { .. } => (
            format!("{}: {il}", t(state, r, "iv-new")),
            format!("/interventions/new?instrument={}{}", instrument.as_str(), r.amp()),
        ),
        FormTarget::Edit { id, .. } => {
            (format!("{} #{id}: {il}", t(state, r, "iv-edit")), format!("/interventions/{id}/edit{}", r.q()))
        }
    };
    let strategy =
        strategy_of(state, v.get("strategy").and_then(Value::as_str).unwrap_or(senda_core::strategy::DEFAULT_STRATEGY));
    let body = html! {
        @if let Some(c) = conflict { (c) }
        @if !p.is_empty() {
            div role="alert" class="error" {
                p { (t(state, r, "iv-not-saved")) }
                ul { @for (input, m) in &p.all { li { a href=(format!("#{}", form::id_of(input))) { code { (input) } } ": " (m) } } }
            }
        }
        form method="post" action=(action) novalidate {
            input type="hidden" name="csrf" value=(r.csrf);
            @match target {
                FormTarget::New { token } => { input type="hidden" name="form_token" value=(token); }
                FormTarget::Edit { version, base, .. } => {
                    input type="hidden" name="version" value=(version);
                    input type="hidden" name="base" value=(base);
                }
            }
            fieldset {
                legend { (t(state, r, "iv-who-what")) }
                (select_org(state, r, v, p, orgs))
                (textarea(state, r, v, p, "implementing_partners", "iv-partners", 3, Some("iv-one-per-line")))
                (text(state, r, v, p, "title.en", "iv-title-en", None))
                (text(state, r, v, p, "title.es", "iv-title-es", None))
                (textarea(state, r, v, p, "description.en", "iv-description-en", 4, None))
                (textarea(state, r, v, p, "description.es", "iv-description-es", 4, None))
                (text(state, r, v, p, "sector", "iv-sector", Some("iv-sector-hint")))
                (select(state, r, v, p, "status", "iv-status", &labelled(state, r, "status")))
            }
            fieldset {
                legend { (t(state, r, "iv-lines")) }
                (rows(state, r, v, p, "lines_of_effort", &["line_of_effort", "reason"], add, &|c, name, val| {
                    if c == "line_of_effort" {
                        html! { select id=(form::id_of(name)) name=(name) {
                            option value="" { "—" }
                            @for l in &strategy.lines_of_effort {
                                option value=(l.id) selected[val.eq_ignore_ascii_case(&l.id)] { (l.id) ": " (state.catalogs.loe_title(r.ui(), strategy, &l.id)) }
                            }
                        } }
                    } else { html! { input id=(form::id_of(name)) name=(name) value=(val) size="40"; } }
                }))
            }
            fieldset {
                legend { (t(state, r, "iv-where-when")) }
                (text(state, r, v, p, "countries", "iv-countries", Some("iv-countries-hint")))
                (text(state, r, v, p, "departments", "iv-departments", Some("iv-departments-hint")))
                (text(state, r, v, p, "start", "iv-start", Some("iv-date-hint")))
                (text(state, r, v, p, "end", "iv-end", Some("iv-date-hint")))
                (groups(state, r, v, p))
            }
            @if instrument != Instrument::ForeignAssistance {
                fieldset {
                    legend { (t(state, r, "iv-money")) }
                    p class="hint" { (t(state, r, "iv-money-hint")) }
                    (rows(state, r, v, p, "money", &["kind", "amount", "currency", "date"], add, &|c, name, val| {
                        if c == "kind" { choice(name, val, &labelled(state, r, "kind")) }
                        else { html! { input id=(form::id_of(name)) name=(name) value=(val) size="14"; } }
                    }))
                }
            }
            fieldset {
                legend { (il) }
                (instrument_fields(state, r, instrument, v, p, add))
            }
            fieldset {
                legend { (t(state, r, "iv-not-for-publication")) }
                p class="hint" { (t(state, r, "iv-not-for-publication-hint")) }
                @let marked = |f: Restricted| v.get("not_for_publication").and_then(Value::as_array).is_some_and(|a| a.iter().any(|x| x.as_str() == Some(f.as_str())));
                @for f in form::restricted_of(instrument) {
                    label { input type="checkbox" name="not_for_publication" value=(f.as_str()) checked[marked(f)]; " " (t(state, r, &format!("iv-restricted-{}", f.as_str().replace('_', "-")))) } br;
                }
                (form::messages(p, "not_for_publication", "f-not_for_publication"))
            }
            p { button type="submit" { (t(state, r, "iv-save")) } }
        }
    };
    respond(status, r, &title, body)
}

fn label_of(state: &AppState, r: &Reader, key: &str) -> String {
    t(state, r, key)
}

fn described(p: &Problems, name: &str) -> Option<String> {
    (!p.at(name).is_empty()).then(|| format!("{}-error", form::id_of(name)))
}

fn text(state: &AppState, r: &Reader, v: &Value, p: &Problems, name: &str, key: &str, hint: Option<&str>) -> Markup {
    let id = form::id_of(name);
    html! {
        p {
            label for=(id) { (label_of(state, r, key)) } br;
            input id=(id) name=(name) value=(form::text_at(v, name).replace('\n', " ")) size="50" aria-invalid=[(!p.at(name).is_empty()).then_some("true")] aria-describedby=[described(p, name)];
            @if let Some(h) = hint { br; small { (t(state, r, h)) } }
            (form::messages(p, name, &id))
        }
    }
}

#[allow(clippy::too_many_arguments)]
fn textarea(
    state: &AppState,
    r: &Reader,
    v: &Value,
    p: &Problems,
    name: &str,
    key: &str,
    rows: u8,
    hint: Option<&str>,
) -> Markup {
    let id = form::id_of(name);
    html! {
        p {
            label for=(id) { (label_of(state, r, key)) } br;
            textarea id=(id) name=(name) rows=(rows) cols="60" aria-invalid=[(!p.at(name).is_empty()).then_some("true")] aria-describedby=[described(p, name)] { (form::text_at(v, name)) }
            @if let Some(h) = hint { br; small { (t(state, r, h)) } }
            (form::messages(p, name, &id))
        }
    }
}

/// The choices of select `name` (`status`, `kind`, ...), each labelled in the reader's language
/// (`iv-choice-NAME-WORD`; the word itself where the catalogue has none).
fn labelled(state: &AppState, r: &Reader, name: &str) -> Vec<(String, String)> {
    form::choices(name).into_iter().map(|(k, _)| (k.clone(), word_label(state, r, name, &k))).collect()
}

/// A stored word of choice list `name` in the reader's language.
pub(crate) fn word_label(state: &AppState, r: &Reader, name: &str, word: &str) -> String {
    let key = format!("iv-choice-{name}-{word}");
    if state.catalogs.has(r.ui(), &key) { t(state, r, &key) } else { word.to_owned() }
}

fn choice(name: &str, val: &str, choices: &[(String, String)]) -> Markup {
    html! {
        select id=(form::id_of(name)) name=(name) {
            option value="" { "—" }
            @for (k, label) in choices { option value=(k) selected[val.eq_ignore_ascii_case(k)] { (label) } }
            @if !val.is_empty() && !choices.iter().any(|(k, _)| val.eq_ignore_ascii_case(k)) {
                option value=(val) selected { (val) }
            }
        }
    }
}

fn select(
    state: &AppState,
    r: &Reader,
    v: &Value,
    p: &Problems,
    name: &str,
    key: &str,
    choices: &[(String, String)],
) -> Markup {
    let id = form::id_of(name);
    html! {
        p {
            label for=(id) { (label_of(state, r, key)) } br;
            (choice(name, &form::text_at(v, name), choices))
            (form::messages(p, name, &id))
        }
    }
}

fn select_org(state: &AppState, r: &Reader, v: &Value, p: &Problems, orgs: &[(i64, String)]) -> Markup {
    let list: Vec<(String, String)> = orgs.iter().map(|(id, n)| (id.to_string(), n.clone())).collect();
    select(state, r, v, p, "organisation", "iv-organisation", &list)
}

fn groups(state: &AppState, r: &Reader, v: &Value, p: &Problems) -> Markup {
    let chosen: Vec<String> = v
        .get("population_groups")
        .and_then(Value::as_array)
        .map(|a| a.iter().filter_map(|x| x.as_str().map(str::to_ascii_lowercase)).collect())
        .unwrap_or_default();
    html! {
        fieldset {
            legend { (t(state, r, "iv-groups")) }
            @for g in senda_core::indicator::POPULATION_GROUPS {
                label { input type="checkbox" name="population_groups" value=(g) checked[chosen.iter().any(|c| c == g)]; " " (t(state, r, &format!("iv-group-{}", g.replace('_', "-")))) } " "
            }
            (form::messages(p, "population_groups", "f-population_groups"))
        }
    }
}

/// A repeated section as a table: the filled rows, then empty ones (more when `add` names it),
/// and the "add rows" button.
#[allow(clippy::too_many_arguments)]
fn rows(
    state: &AppState,
    r: &Reader,
    v: &Value,
    p: &Problems,
    path: &str,
    columns: &[&str],
    add: Option<&str>,
    cell: &dyn Fn(&str, &str, &str) -> Markup,
) -> Markup {
    let filled = form::row_count(v, path);
    let extra = form::EMPTY_ROWS + if add == Some(path) { 3 } else { 0 };
    let n = (filled + extra).min(form::MAX_ROWS);
    html! {
        table class="rows" {
            thead { tr { @for c in columns { th scope="col" { (t(state, r, &format!("iv-col-{}", c.replace('_', "-")))) } } } }
            tbody {
                @for i in 0..n {
                    tr {
                        @for c in columns {
                            @let name = format!("{path}[{i}].{c}");
                            td { (cell(c, &name, &form::text_at(v, &name))) (form::messages(p, &name, &form::id_of(&name))) }
                        }
                    }
                }
            }
        }
        (form::messages(p, path, &form::id_of(path)))
        p { button type="submit" name="add_rows" value=(path) formnovalidate { (t(state, r, "iv-add-rows")) } }
    }
}

fn instrument_fields(
    state: &AppState,
    r: &Reader,
    instrument: Instrument,
    v: &Value,
    p: &Problems,
    add: Option<&str>,
) -> Markup {
    let plain = |c: &str, name: &str, val: &str| -> Markup {
        let _ = c;
        html! { input id=(form::id_of(name)) name=(name) value=(val) size="12"; }
    };
    match instrument {
        Instrument::Diplomacy => html! {
            (text(state, r, v, p, "diplomacy.counterpart", "iv-counterpart", None))
            (select(state, r, v, p, "diplomacy.counterpart_kind", "iv-counterpart-kind", &labelled(state, r, "counterpart_kind")))
            (textarea(state, r, v, p, "diplomacy.ask", "iv-ask", 4, None))
            h3 { (t(state, r, "iv-history")) }
            (rows(state, r, v, p, "diplomacy.history", &["date", "status", "note"], add, &|c, name, val| {
                if c == "status" { choice(name, val, &labelled(state, r, "history_status")) } else { plain(c, name, val) }
            }))
        },
        Instrument::PublicMessaging => html! {
            (textarea(state, r, v, p, "public_messaging.channels", "iv-channels", 3, Some("iv-one-per-line")))
            (textarea(state, r, v, p, "public_messaging.languages", "iv-languages", 2, Some("iv-one-per-line")))
            (textarea(state, r, v, p, "public_messaging.audiences", "iv-audiences", 3, Some("iv-one-per-line")))
            h3 { (t(state, r, "iv-reach")) }
            p class="hint" { (t(state, r, "iv-period-hint")) }
            (rows(state, r, v, p, "public_messaging.reach", &["period", "country", "department", "people_reached", "impressions"], add, &plain))
        },
        Instrument::ImmigrationInitiatives => html! {
            (text(state, r, v, p, "immigration_initiatives.programme", "iv-programme", None))
            h3 { (t(state, r, "iv-figures")) }
            p class="hint" { (t(state, r, "iv-period-hint")) }
            (rows(state, r, v, p, "immigration_initiatives.figures", &["period", "country", "applications", "approvals", "arrivals"], add, &plain))
        },
        Instrument::ForeignAssistance => html! {
            (text(state, r, v, p, "foreign_assistance.iati_identifier", "iv-iati", Some("iv-iati-hint")))
        },
    }
}
