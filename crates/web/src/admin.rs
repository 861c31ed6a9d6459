//! Administration pages (issue 17), in English and Spanish: organisations and people (list,
//! add, disable and enable, set the role) for administrators, and the audit trail (filtered,
//! with a CSV download) for whoever the policy lets read it. Who may use each route is declared
//! in `auth::ROUTE_ACCESS`; no handler here checks a role. Every form carries the session's
//! CSRF token, checked by `auth::identify`. Every write goes through `AccountStore`, which
//! records its audit event in the same transaction.

use crate::AppState;
use crate::auth::{Auth, Identity, now, page, spanish};
use crate::error::{ApiError, WebError};
use axum::extract::{Form, Path, Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, Uri, header};
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::{Extension, Router};
use maud::{Markup, html};
use senda_core::accounts::{Caller, Email, NewOrganisation, Password, Principal, Role, SALT_BYTES, hash_password};
use senda_store::accounts::{Actor, Adoption, AuditEvent, AuditFilter, Person};
use std::sync::Arc;

/// Events shown on the audit page at most (the CSV download gives up to 100,000).
pub const AUDIT_PAGE_ROWS: u64 = 500;
/// Events in the CSV download at most.
pub const AUDIT_CSV_ROWS: u64 = 100_000;

/// The administration routes.
pub fn routes() -> Router<Arc<AppState>> {
    Router::new()
        .route("/admin/organisations", get(organisations).post(add_organisation))
        .route("/admin/organisations/adopt", post(adopt_organisation))
        .route("/admin/people", get(people).post(add_person))
        .route("/admin/people/{id}/disable", post(disable_person))
        .route("/admin/people/{id}/enable", post(enable_person))
        .route("/admin/people/{id}/role", post(set_role))
        .route("/admin/audit", get(audit))
        .route("/admin/audit.csv", get(audit_csv))
}

/// English or Spanish text (the same key, the two languages side by side).
fn l(es: bool, en: &'static str, sp: &'static str) -> &'static str {
    if es { sp } else { en }
}

fn lang(es: bool) -> &'static str {
    if es { "?lang=es" } else { "" }
}

/// The signed-in caller and their CSRF token. The policy let only a person through; the
/// anonymous case is a 401 all the same, never a panic.
fn caller(identity: &Identity) -> Result<(Caller, String), ApiError> {
    match &identity.principal {
        Principal::Person(c) => Ok((c.clone(), identity.csrf.clone().unwrap_or_default())),
        Principal::Anonymous => Err(WebError::Denied(StatusCode::UNAUTHORIZED, "sign in first".into()).into()),
    }
}

fn nav(es: bool) -> Markup {
    html! {
        nav aria-label=(l(es, "Administration", "Administración")) {
            a href=(format!("/admin/organisations{}", lang(es))) { (l(es, "Organisations", "Organizaciones")) } " · "
            a href=(format!("/admin/people{}", lang(es))) { (l(es, "People", "Personas")) } " · "
            a href=(format!("/admin/audit{}", lang(es))) { (l(es, "Audit trail", "Registro de auditoría")) } " · "
            a href=(format!("/account{}", lang(es))) { (l(es, "My account", "Mi cuenta")) }
        }
    }
}

fn html_page(status: StatusCode, es: bool, title: &str, body: Markup) -> Response {
    (status, Html(page(es, title, html! { (nav(es)) (body) }).into_string())).into_response()
}

fn alert(message: Option<&str>) -> Markup {
    html! { @if let Some(m) = message { p role="alert" class="error" { (m) } } }
}

// ---------------------------------------------------------------------------------------------
// Organisations

fn categories(state: &AppState) -> Vec<(String, String, String)> {
    let mut out: Vec<(String, String, String)> = Vec::new();
    for st in &state.strategies {
        for c in &st.partner_categories {
            if !out.iter().any(|(id, _, _)| *id == c.id) {
                out.push((c.id.clone(), c.title.clone(), c.title_es.clone().unwrap_or_else(|| c.title.clone())));
            }
        }
    }
    out
}

/// A partner category's title in the reader's language (its id when the strategies no longer
/// name it), "-" for none.
fn category_name(cats: &[(String, String, String)], es: bool, id: Option<&str>) -> String {
    match id {
        None => "-".to_owned(),
        Some(id) => match cats.iter().find(|(c, _, _)| c == id) {
            Some((_, en, sp)) => (if es { sp } else { en }).clone(),
            None => id.to_owned(),
        },
    }
}

/// An IATI organisation role (`reporting`, `funding`, ... as the adoption list names them) in
/// the reader's language.
fn role_name(es: bool, role: &str) -> &str {
    match (role, es) {
        ("reporting", false) => "reporting",
        ("reporting", true) => "informante",
        ("funding", false) => "funding",
        ("funding", true) => "financiadora",
        ("accountable", false) => "accountable",
        ("accountable", true) => "responsable",
        ("extending", false) => "extending",
        ("extending", true) => "ejecutora de fondos",
        ("implementing", false) => "implementing",
        ("implementing", true) => "implementadora",
        (other, _) => other,
    }
}

async fn organisations_page(
    state: &Arc<AppState>,
    es: bool,
    csrf: &str,
    status: StatusCode,
    error: Option<&str>,
) -> Result<Response, ApiError> {
    let (orgs, mut candidates) = state.pool.run(|s| Ok((s.organisations()?, s.organisation_candidates()?))).await?;
    candidates.retain(|c| c.adopted_as.is_none());
    candidates.sort_by(|a, b| b.activities.cmp(&a.activities).then_with(|| a.iati_ref.cmp(&b.iati_ref)));
    let cats = categories(state);
    let title = l(es, "Organisations", "Organizaciones");
    let body = html! {
        (alert(error))
        @if orgs.is_empty() {
            p { (l(es, "No organisations yet.", "Todavía no hay organizaciones.")) }
        } @else {
            table {
                thead { tr {
                    th scope="col" { "#" }
                    th scope="col" { (l(es, "Name", "Nombre")) }
                    th scope="col" { (l(es, "Name in Spanish", "Nombre en español")) }
                    th scope="col" { (l(es, "IATI identifier", "Identificador IATI")) }
                    th scope="col" { (l(es, "Category", "Categoría")) }
                    th scope="col" { (l(es, "Country", "País")) }
                } }
                tbody {
                    @for o in &orgs {
                        tr {
                            td { (o.id) }
                            td { (o.name) }
                            td { (o.name_es.as_deref().unwrap_or("-")) }
                            td { (o.iati_ref.as_deref().unwrap_or("-")) }
                            td { (category_name(&cats, es, o.category.as_deref())) }
                            td { (o.country.as_deref().unwrap_or("-")) }
                        }
                    }
                }
            }
        }
        h2 { (l(es, "Add an organisation", "Agregar una organización")) }
        form method="post" action=(format!("/admin/organisations{}", lang(es))) {
            input type="hidden" name="csrf" value=(csrf);
            p { label for="org-name" { (l(es, "Name", "Nombre")) } br; input id="org-name" name="name" required maxlength="300"; }
            p { label for="org-name-es" { (l(es, "Name in Spanish", "Nombre en español")) } br; input id="org-name-es" name="name_es" maxlength="300"; }
            p { label for="org-ref" { (l(es, "IATI organisation identifier", "Identificador IATI de la organización")) } br; input id="org-ref" name="iati_ref" maxlength="200"; }
            p {
                label for="org-category" { (l(es, "Category", "Categoría")) } br;
                select id="org-category" name="category" {
                    option value="" { "-" }
                    @for (id, en, sp) in &cats { option value=(id) { (if es { sp } else { en }) } }
                }
            }
            p { label for="org-country" { (l(es, "Country (ISO code, e.g. GT)", "País (código ISO, p. ej. GT)")) } br; input id="org-country" name="country" maxlength="2" size="2"; }
            p { button type="submit" { (l(es, "Add", "Agregar")) } }
        }
        h2 { (l(es, "Adopt an organisation of the imported IATI data", "Adoptar una organización de los datos IATI importados")) }
        @if candidates.is_empty() {
            p { (l(es, "Every organisation with an identifier in the imported data is adopted (or none was imported).", "Todas las organizaciones con identificador de los datos importados están adoptadas (o no se importó ninguna).")) }
        } @else {
            p { (l(es, "Reporting and participating organisations of the imported activities, by IATI identifier, most activities first: adopted with the name as published.", "Organizaciones informantes y participantes de las actividades importadas, por identificador IATI, primero las de más actividades: se adoptan con el nombre publicado.")) }
            form method="post" action=(format!("/admin/organisations/adopt{}", lang(es))) {
                input type="hidden" name="csrf" value=(csrf);
                p {
                    label for="adopt-ref" { (l(es, "Organisation", "Organización")) } br;
                    select id="adopt-ref" name="iati_ref" required {
                        @for c in &candidates {
                            option value=(c.iati_ref) {
                                (c.name) " (" (c.iati_ref) ") · " (c.roles.iter().map(|r| role_name(es, r)).collect::<Vec<_>>().join(", ")) " · " (c.activities) " " (l(es, "activities", "actividades"))
                            }
                        }
                    }
                }
                p {
                    label for="adopt-category" { (l(es, "Category", "Categoría")) } br;
                    select id="adopt-category" name="category" {
                        option value="" { "-" }
                        @for (id, en, sp) in &cats { option value=(id) { (if es { sp } else { en }) } }
                    }
                }
                p { button type="submit" { (l(es, "Adopt", "Adoptar")) } }
            }
        }
    };
    Ok(html_page(status, es, title, body))
}

async fn organisations(
    State(state): State<Arc<AppState>>,
    Extension(identity): Extension<Identity>,
    headers: HeaderMap,
    uri: Uri,
) -> Result<Response, ApiError> {
    let es = spanish(&headers, uri.query());
    let (_, csrf) = caller(&identity)?;
    organisations_page(&state, es, &csrf, StatusCode::OK, None).await
}

/// The add-organisation form.
#[derive(Debug, serde::Deserialize)]
pub struct OrganisationForm {
    #[serde(default)]
    name: String,
    #[serde(default)]
    name_es: String,
    #[serde(default)]
    iati_ref: String,
    #[serde(default)]
    category: String,
    #[serde(default)]
    country: String,
}

async fn add_organisation(
    State(state): State<Arc<AppState>>,
    Extension(identity): Extension<Identity>,
    headers: HeaderMap,
    uri: Uri,
    Form(f): Form<OrganisationForm>,
) -> Result<Response, ApiError> {
    let es = spanish(&headers, uri.query());
    let (c, csrf) = caller(&identity)?;
    let cats = categories(&state);
    let ids: Vec<&str> = cats.iter().map(|(id, _, _)| id.as_str()).collect();
    let org = match NewOrganisation::parse(
        &f.name,
        Some(&f.name_es),
        Some(&f.iati_ref),
        Some(&f.category),
        Some(&f.country),
        &ids,
    ) {
        Ok(o) => o,
        Err(e) => {
            return organisations_page(&state, es, &csrf, StatusCode::BAD_REQUEST, Some(&e.to_string())).await;
        }
    };
    let actor = Actor::of(&c);
    match state.pool.run(move |s| s.create_organisation(&actor, &org, now())).await {
        Ok(_) => Ok(Redirect::to(&format!("/admin/organisations{}", lang(es))).into_response()),
        Err(WebError::BadRequest(m)) => organisations_page(&state, es, &csrf, StatusCode::BAD_REQUEST, Some(&m)).await,
        Err(e) => Err(e.into()),
    }
}

/// The adopt form.
#[derive(Debug, serde::Deserialize)]
pub struct AdoptForm {
    #[serde(default)]
    iati_ref: String,
    #[serde(default)]
    category: String,
}

/// `POST /admin/organisations/adopt`: an organisation of the imported data becomes a Senda
/// organisation (`AccountStore::adopt_organisations`); an identifier no activity names, or an
/// unknown category, is a 400 naming the field.
async fn adopt_organisation(
    State(state): State<Arc<AppState>>,
    Extension(identity): Extension<Identity>,
    headers: HeaderMap,
    uri: Uri,
    Form(f): Form<AdoptForm>,
) -> Result<Response, ApiError> {
    let es = spanish(&headers, uri.query());
    let (c, csrf) = caller(&identity)?;
    let cats: Vec<String> = categories(&state).into_iter().map(|(id, _, _)| id).collect();
    let actor = Actor::of(&c);
    let refs = vec![f.iati_ref.trim().to_owned()];
    let category = Some(f.category.trim().to_owned()).filter(|c| !c.is_empty());
    let done = state
        .pool
        .run(move |s| {
            let ids: Vec<&str> = cats.iter().map(String::as_str).collect();
            let a = Adoption { refs: &refs, category: category.as_deref(), categories: &ids };
            s.adopt_organisations(&actor, &a, now())
        })
        .await;
    match done {
        Ok(_) => Ok(Redirect::to(&format!("/admin/organisations{}", lang(es))).into_response()),
        Err(WebError::BadRequest(m)) => organisations_page(&state, es, &csrf, StatusCode::BAD_REQUEST, Some(&m)).await,
        Err(e) => Err(e.into()),
    }
}

// ---------------------------------------------------------------------------------------------
// People

async fn people_page(
    state: &Arc<AppState>,
    es: bool,
    csrf: &str,
    status: StatusCode,
    error: Option<&str>,
) -> Result<Response, ApiError> {
    let (people, orgs) = state.pool.run(|s| Ok((s.people()?, s.organisations()?))).await?;
    let org_name = |id: Option<i64>| -> String {
        id.and_then(|id| orgs.iter().find(|o| o.id == id)).map_or_else(|| "-".to_owned(), |o| o.name.clone())
    };
    let title = l(es, "People", "Personas");
    let org_select = |id: &str, selected: Option<i64>| {
        html! {
            select id=(id) name="organisation" {
                option value="" selected[selected.is_none()] { (l(es, "(none)", "(ninguna)")) }
                @for o in &orgs { option value=(o.id) selected[selected == Some(o.id)] { (o.name) } }
            }
        }
    };
    let role_select = |id: &str, selected: Role| {
        html! {
            select id=(id) name="role" {
                @for r in Role::ALL { option value=(r.as_str()) selected[r == selected] { (r.as_str()) } }
            }
        }
    };
    let body = html! {
        (alert(error))
        table {
            thead { tr {
                th scope="col" { "#" }
                th scope="col" { (l(es, "E-mail", "Correo electrónico")) }
                th scope="col" { (l(es, "Role", "Rol")) }
                th scope="col" { (l(es, "Organisation", "Organización")) }
                th scope="col" { (l(es, "Status", "Estado")) }
                th scope="col" { (l(es, "Change role", "Cambiar el rol")) }
                th scope="col" {}
            } }
            tbody {
                @for p in &people {
                    tr {
                        td { (p.id) }
                        td { (p.email) }
                        td { (p.role.as_str()) }
                        td { (org_name(p.organisation_id)) }
                        td { (if p.disabled { l(es, "disabled", "deshabilitada") } else { l(es, "active", "activa") }) }
                        td {
                            form method="post" action=(format!("/admin/people/{}/role{}", p.id, lang(es))) {
                                input type="hidden" name="csrf" value=(csrf);
                                (role_select(&format!("role-{}", p.id), p.role))
                                (org_select(&format!("org-{}", p.id), p.organisation_id))
                                button type="submit" { (l(es, "Set", "Aplicar")) }
                            }
                        }
                        td {
                            @let (verb, label) = if p.disabled { ("enable", l(es, "Enable", "Habilitar")) } else { ("disable", l(es, "Disable", "Deshabilitar")) };
                            form method="post" action=(format!("/admin/people/{}/{verb}{}", p.id, lang(es))) {
                                input type="hidden" name="csrf" value=(csrf);
                                button type="submit" { (label) }
                            }
                        }
                    }
                }
            }
        }
        h2 { (l(es, "Add a person", "Agregar una persona")) }
        form method="post" action=(format!("/admin/people{}", lang(es))) {
            input type="hidden" name="csrf" value=(csrf);
            p { label for="person-email" { (l(es, "E-mail", "Correo electrónico")) } br; input id="person-email" name="email" type="email" required; }
            p { label for="person-role" { (l(es, "Role", "Rol")) } br; (role_select("person-role", Role::Viewer)) }
            p { label for="person-org" { (l(es, "Organisation (a partner editor needs one)", "Organización (un editor socio necesita una)")) } br; (org_select("person-org", None)) }
            p {
                label for="person-password" { (l(es, "First password (12 characters or more; give it to the person)", "Primera contraseña (12 caracteres o más; entréguela a la persona)")) } br;
                input id="person-password" name="password" type="password" autocomplete="new-password" required minlength="12";
            }
            p { button type="submit" { (l(es, "Add", "Agregar")) } }
        }
    };
    Ok(html_page(status, es, title, body))
}

async fn people(
    State(state): State<Arc<AppState>>,
    Extension(identity): Extension<Identity>,
    headers: HeaderMap,
    uri: Uri,
) -> Result<Response, ApiError> {
    let es = spanish(&headers, uri.query());
    let (_, csrf) = caller(&identity)?;
    people_page(&state, es, &csrf, StatusCode::OK, None).await
}

/// The add-person form.
#[derive(Debug, serde::Deserialize)]
pub struct PersonForm {
    #[serde(default)]
    email: String,
    #[serde(default)]
    role: String,
    #[serde(default)]
    organisation: String,
    #[serde(default)]
    password: String,
}

/// An organisation field: empty is none; otherwise the id of an organisation (the store checks
/// that it exists).
fn organisation_field(raw: &str) -> Result<Option<i64>, String> {
    let raw = raw.trim();
    if raw.is_empty() {
        return Ok(None);
    }
    raw.parse::<i64>().map(Some).map_err(|_| format!("organisation: {raw:?} is not an organisation id"))
}

fn role_for(role: &str, organisation: Option<i64>) -> Result<Role, String> {
    let role = Role::parse(role).map_err(|e| e.to_string())?;
    if role.needs_organisation() && organisation.is_none() {
        return Err(format!("organisation: a {role} edits its own organisation's records, so it needs one"));
    }
    Ok(role)
}

/// The add-person form's fields, checked; the error names the field.
fn check_person(f: &PersonForm) -> Result<(Email, Option<i64>, Role, Password), String> {
    let email = Email::parse(&f.email).map_err(|e| e.to_string())?;
    let org = organisation_field(&f.organisation)?;
    let role = role_for(&f.role, org)?;
    let password = Password::parse(&f.password).map_err(|e| e.to_string())?;
    Ok((email, org, role, password))
}

async fn add_person(
    State(state): State<Arc<AppState>>,
    Extension(identity): Extension<Identity>,
    Extension(auth): Extension<Arc<Auth>>,
    headers: HeaderMap,
    uri: Uri,
    Form(f): Form<PersonForm>,
) -> Result<Response, ApiError> {
    let es = spanish(&headers, uri.query());
    let (c, csrf) = caller(&identity)?;
    let (email, org, role, password) = match check_person(&f) {
        Ok(v) => v,
        Err(m) => return people_page(&state, es, &csrf, StatusCode::BAD_REQUEST, Some(&m)).await,
    };
    let mut salt = [0u8; SALT_BYTES];
    getrandom::fill(&mut salt).map_err(|e| WebError::Internal(format!("no randomness: {e}")))?;
    // Argon2id off the async workers, at most `auth::PARALLEL_HASHES` at once (as logins).
    let permit = auth.hashing.acquire().await.map_err(|_| WebError::Internal("hashing closed".into()))?;
    let hash = tokio::task::spawn_blocking(move || hash_password(&password, &salt))
        .await
        .map_err(|e| WebError::Internal(format!("worker: {e}")))?
        .map_err(|e| WebError::Internal(e.to_string()))?;
    drop(permit);
    let actor = Actor::of(&c);
    match state.pool.run(move |s| s.create_person(&actor, &email, org, role, &hash, now())).await {
        Ok(_) => Ok(Redirect::to(&format!("/admin/people{}", lang(es))).into_response()),
        Err(WebError::BadRequest(m)) => people_page(&state, es, &csrf, StatusCode::BAD_REQUEST, Some(&m)).await,
        Err(e) => Err(e.into()),
    }
}

/// The person `id` (from the path), or the people page saying there is none (404).
async fn person(state: &Arc<AppState>, id: &str) -> Result<Option<Person>, ApiError> {
    let Ok(id) = id.parse::<i64>() else { return Ok(None) };
    Ok(state.pool.run(move |s| s.people()).await?.into_iter().find(|p| p.id == id))
}

async fn set_disabled(
    state: Arc<AppState>,
    identity: Identity,
    headers: HeaderMap,
    uri: Uri,
    id: String,
    disabled: bool,
) -> Result<Response, ApiError> {
    let es = spanish(&headers, uri.query());
    let (c, csrf) = caller(&identity)?;
    let Some(p) = person(&state, &id).await? else {
        return people_page(
            &state,
            es,
            &csrf,
            StatusCode::NOT_FOUND,
            Some(l(es, "No such person.", "No existe esa persona.")),
        )
        .await;
    };
    if disabled && p.id == c.person_id {
        let m = l(es, "You cannot disable your own account here.", "No puede deshabilitar su propia cuenta aquí.");
        return people_page(&state, es, &csrf, StatusCode::BAD_REQUEST, Some(m)).await;
    }
    let actor = Actor::of(&c);
    let email = Email::parse(&p.email).map_err(|e| WebError::Internal(e.to_string()))?;
    state.pool.run(move |s| s.set_person_disabled(&actor, &email, disabled, now())).await?;
    Ok(Redirect::to(&format!("/admin/people{}", lang(es))).into_response())
}

async fn disable_person(
    State(state): State<Arc<AppState>>,
    Extension(identity): Extension<Identity>,
    headers: HeaderMap,
    uri: Uri,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    set_disabled(state, identity, headers, uri, id, true).await
}

async fn enable_person(
    State(state): State<Arc<AppState>>,
    Extension(identity): Extension<Identity>,
    headers: HeaderMap,
    uri: Uri,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    set_disabled(state, identity, headers, uri, id, false).await
}

/// The set-role form.
#[derive(Debug, serde::Deserialize)]
pub struct RoleForm {
    #[serde(default)]
    role: String,
    #[serde(default)]
    organisation: String,
}

async fn set_role(
    State(state): State<Arc<AppState>>,
    Extension(identity): Extension<Identity>,
    headers: HeaderMap,
    uri: Uri,
    Path(id): Path<String>,
    Form(f): Form<RoleForm>,
) -> Result<Response, ApiError> {
    let es = spanish(&headers, uri.query());
    let (c, csrf) = caller(&identity)?;
    let Some(p) = person(&state, &id).await? else {
        return people_page(
            &state,
            es,
            &csrf,
            StatusCode::NOT_FOUND,
            Some(l(es, "No such person.", "No existe esa persona.")),
        )
        .await;
    };
    let checked = organisation_field(&f.organisation).and_then(|org| Ok((role_for(&f.role, org)?, org)));
    let (role, org) = match checked {
        Ok(v) => v,
        Err(m) => return people_page(&state, es, &csrf, StatusCode::BAD_REQUEST, Some(&m)).await,
    };
    if p.id == c.person_id && role != p.role {
        let m = l(es, "You cannot change your own role here.", "No puede cambiar su propio rol aquí.");
        return people_page(&state, es, &csrf, StatusCode::BAD_REQUEST, Some(m)).await;
    }
    let actor = Actor::of(&c);
    let email = Email::parse(&p.email).map_err(|e| WebError::Internal(e.to_string()))?;
    match state.pool.run(move |s| s.set_person_role(&actor, &email, role, Some(org), now())).await {
        Ok(()) => Ok(Redirect::to(&format!("/admin/people{}", lang(es))).into_response()),
        Err(WebError::BadRequest(m)) => people_page(&state, es, &csrf, StatusCode::BAD_REQUEST, Some(&m)).await,
        Err(e) => Err(e.into()),
    }
}

// ---------------------------------------------------------------------------------------------
// Audit trail

/// The audit page's filters (all optional).
#[derive(Debug, Default, serde::Deserialize)]
pub struct AuditQuery {
    /// Writes by this person (e-mail).
    #[serde(default)]
    person: Option<String>,
    /// Writes by people of this organisation (id).
    #[serde(default)]
    organisation: Option<String>,
    /// Writes on this record (`person:3`).
    #[serde(default)]
    record: Option<String>,
    /// From this date or instant (`2026-01-31`, or RFC 3339 in UTC).
    #[serde(default)]
    from: Option<String>,
    /// Before this date or instant.
    #[serde(default)]
    to: Option<String>,
    /// Language (`es`).
    #[serde(default)]
    lang: Option<String>,
}

fn given(v: &Option<String>) -> Option<String> {
    v.as_deref().map(str::trim).filter(|s| !s.is_empty()).map(str::to_owned)
}

fn valid_instant(s: &str) -> bool {
    let fmt = time::macros::format_description!("[year]-[month]-[day]");
    time::Date::parse(s, &fmt).is_ok()
        || (s.ends_with('Z') && time::OffsetDateTime::parse(s, &time::format_description::well_known::Rfc3339).is_ok())
}

/// The filter of `q`, or a 400 naming the parameter.
async fn audit_filter(state: &Arc<AppState>, q: &AuditQuery, limit: u64) -> Result<AuditFilter, ApiError> {
    let person_id = match given(&q.person) {
        None => None,
        Some(raw) => {
            let email = Email::parse(&raw).map_err(|e| WebError::BadRequest(format!("person: {}", e.message)))?;
            let shown = email.to_string();
            match state.pool.run(move |s| s.person_for_login(&email)).await? {
                Some((p, _)) => Some(p.id),
                None => return Err(WebError::BadRequest(format!("person: no person with e-mail {shown}")).into()),
            }
        }
    };
    let organisation_id = match given(&q.organisation) {
        None => None,
        Some(raw) => Some(
            raw.parse::<i64>()
                .map_err(|_| WebError::BadRequest(format!("organisation: {raw:?} is not an organisation id")))?,
        ),
    };
    for (name, v) in [("from", &q.from), ("to", &q.to)] {
        if let Some(v) = given(v)
            && !valid_instant(&v)
        {
            return Err(WebError::BadRequest(format!(
                "{name}: {v:?} is not a date (2026-01-31) or an RFC 3339 instant in UTC (2026-01-31T12:00:00Z)"
            ))
            .into());
        }
    }
    Ok(AuditFilter {
        person_id,
        organisation_id,
        record: given(&q.record),
        from: given(&q.from),
        to: given(&q.to),
        limit,
    })
}

fn query_string(q: &AuditQuery) -> String {
    let mut parts = Vec::new();
    for (k, v) in [
        ("person", &q.person),
        ("organisation", &q.organisation),
        ("record", &q.record),
        ("from", &q.from),
        ("to", &q.to),
        ("lang", &q.lang),
    ] {
        if let Some(v) = given(v) {
            parts.push(format!("{k}={}", crate::query::enc(&v)));
        }
    }
    if parts.is_empty() { String::new() } else { format!("?{}", parts.join("&")) }
}

async fn audit(
    State(state): State<Arc<AppState>>,
    headers: HeaderMap,
    uri: Uri,
    Query(q): Query<AuditQuery>,
) -> Result<Response, ApiError> {
    let es = spanish(&headers, uri.query());
    let filter = audit_filter(&state, &q, AUDIT_PAGE_ROWS).await?;
    let events = state.pool.run(move |s| s.audit_events(&filter)).await?;
    let v = |o: &Option<String>| o.clone().unwrap_or_default();
    let title = l(es, "Audit trail", "Registro de auditoría");
    let body = html! {
        form method="get" action="/admin/audit" {
            @if es { input type="hidden" name="lang" value="es"; }
            p { label for="f-person" { (l(es, "Person (e-mail)", "Persona (correo)")) } br; input id="f-person" name="person" value=(v(&q.person)); }
            p { label for="f-org" { (l(es, "Organisation (id)", "Organización (id)")) } br; input id="f-org" name="organisation" value=(v(&q.organisation)); }
            p { label for="f-record" { (l(es, "Record (e.g. person:3)", "Registro (p. ej. person:3)")) } br; input id="f-record" name="record" value=(v(&q.record)); }
            p { label for="f-from" { (l(es, "From (2026-01-31)", "Desde (2026-01-31)")) } br; input id="f-from" name="from" value=(v(&q.from)); }
            p { label for="f-to" { (l(es, "Before (2026-02-01)", "Antes de (2026-02-01)")) } br; input id="f-to" name="to" value=(v(&q.to)); }
            p { button type="submit" { (l(es, "Filter", "Filtrar")) } }
        }
        p { a href=(format!("/admin/audit.csv{}", query_string(&q))) { (l(es, "Download as CSV", "Descargar en CSV")) } }
        @if events.is_empty() {
            p { (l(es, "No events match.", "Ningún evento coincide.")) }
        } @else {
            @if events.len() as u64 >= AUDIT_PAGE_ROWS {
                p { (l(es, "The newest 500 events; the CSV has up to 100,000.", "Los 500 eventos más recientes; el CSV tiene hasta 100.000.")) }
            }
            table {
                thead { tr {
                    th scope="col" { (l(es, "When (UTC)", "Cuándo (UTC)")) }
                    th scope="col" { (l(es, "Who", "Quién")) }
                    th scope="col" { (l(es, "Action", "Acción")) }
                    th scope="col" { (l(es, "Record", "Registro")) }
                    th scope="col" { (l(es, "Before", "Antes")) }
                    th scope="col" { (l(es, "After", "Después")) }
                } }
                tbody {
                    @for e in &events {
                        tr {
                            td { (e.at) }
                            td { (e.actor) }
                            td { (e.action) }
                            td { (e.record) }
                            td { code { (e.before.as_deref().unwrap_or("")) } }
                            td { code { (e.after.as_deref().unwrap_or("")) } }
                        }
                    }
                }
            }
        }
    };
    Ok(html_page(StatusCode::OK, es, title, body))
}

/// The CSV columns of the audit download (the same as `senda audit --format csv`).
pub const AUDIT_CSV_COLUMNS: [&str; 11] =
    ["id", "at", "actor", "person_id", "token_id", "organisation_id", "action", "record", "before", "after", "run_id"];

/// Audit events as CSV; text cells a spreadsheet would run as a formula get a leading `'`.
pub fn audit_csv_bytes(events: &[AuditEvent]) -> Result<Vec<u8>, WebError> {
    let mut w = csv::Writer::from_writer(Vec::new());
    let o = |v: Option<i64>| v.map(|v| v.to_string()).unwrap_or_default();
    let t = crate::api::csv_text;
    let err = |e: csv::Error| WebError::Internal(format!("csv: {e}"));
    w.write_record(AUDIT_CSV_COLUMNS).map_err(err)?;
    for e in events {
        w.write_record([
            e.id.to_string(),
            t(&e.at),
            t(&e.actor),
            o(e.person_id),
            o(e.token_id),
            o(e.organisation_id),
            t(&e.action),
            t(&e.record),
            t(e.before.as_deref().unwrap_or_default()),
            t(e.after.as_deref().unwrap_or_default()),
            o(e.run_id),
        ])
        .map_err(err)?;
    }
    w.into_inner().map_err(|e| WebError::Internal(format!("csv: {e}")))
}

async fn audit_csv(State(state): State<Arc<AppState>>, Query(q): Query<AuditQuery>) -> Result<Response, ApiError> {
    let filter = audit_filter(&state, &q, AUDIT_CSV_ROWS).await?;
    let events = state.pool.run(move |s| s.audit_events(&filter)).await?;
    let bytes = audit_csv_bytes(&events)?;
    let mut resp = bytes.into_response();
    let h = resp.headers_mut();
    h.insert(header::CONTENT_TYPE, HeaderValue::from_static("text/csv; charset=utf-8"));
    h.insert(header::CONTENT_DISPOSITION, HeaderValue::from_static("attachment; filename=\"senda-audit.csv\""));
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    Ok(resp)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fields_are_checked_with_their_names() {
        assert_eq!(organisation_field(""), Ok(None));
        assert_eq!(organisation_field(" 3 "), Ok(Some(3)));
        assert!(organisation_field("three").expect_err("refused").starts_with("organisation: "));
        assert!(role_for("partner_editor", None).expect_err("refused").starts_with("organisation: "));
        assert!(role_for("boss", None).expect_err("refused").starts_with("role: "));
        assert_eq!(role_for("viewer", None), Ok(Role::Viewer));
    }

    #[test]
    fn the_csv_download_defuses_formulas() {
        let e = AuditEvent {
            id: 1,
            at: "2026-01-01T00:00:00Z".into(),
            actor: "=cmd()".into(),
            person_id: None,
            token_id: None,
            organisation_id: None,
            action: "person.create".into(),
            record: "person:1".into(),
            before: None,
            after: Some("{\"a\":1}".into()),
            run_id: None,
        };
        let text = String::from_utf8(audit_csv_bytes(&[e]).expect("csv")).expect("utf-8");
        assert!(text.starts_with("id,at,actor,"), "{text}");
        assert!(text.contains(",'=cmd(),"), "{text}");
    }
}
