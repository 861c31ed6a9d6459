//! What `senda demo` enters beside the synthetic IATI activities, so that a newcomer sees the
//! whole model (issue 18): synthetic partner organisations, one published intervention of each
//! of the four instruments (diplomacy, public messaging, an immigration initiative, foreign
//! assistance linked to a synthetic IATI activity), published partner contributions of the three
//! kinds, the plan's requirements and a few reporting-cycle reports of the messaging campaign
//! (approved, submitted, returned with a comment). Every name says "synthetic". Records go
//! through the same checks as a user's (`parse_value`, `parse_requirement`, `parse_actual`) and
//! the same store calls, audited as `cli`.

use anyhow::{Context as _, Result, anyhow};
use senda_core::Strategy;
use senda_core::accounts::NewOrganisation;
use senda_core::intervention::{Context, Workflow, parse_value};
use senda_core::plan::{RequirementInput, parse_requirement};
use senda_core::report::{Dimension, Filters};
use senda_store::accounts::Actor;
use senda_store::{ActivityFilter, Store};
use serde_json::json;

/// What was entered.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Entered {
    /// Organisations created.
    pub organisations: usize,
    /// Interventions created and published.
    pub interventions: usize,
    /// Requirements set.
    pub requirements: usize,
    /// Contributions recorded and published.
    pub contributions: usize,
    /// Reporting-cycle reports: (approved, submitted, returned).
    pub reports: (usize, usize, usize),
}

fn organisation(
    store: &dyn Store,
    st: &Strategy,
    name: &str,
    es: &str,
    category: &str,
    country: &str,
    now: i64,
) -> Result<i64> {
    let cats: Vec<&str> = st.partner_categories.iter().map(|c| c.id.as_str()).collect();
    let o = NewOrganisation::parse(name, Some(es), None, Some(category), Some(country), &cats)
        .map_err(|e| anyhow!("synthetic organisation {name}: {e}"))?;
    Ok(store.create_organisation(&Actor::cli(), &o, now)?)
}

/// Enters the synthetic records into `store` (which holds the demo's synthetic activities).
pub fn enter(store: &dyn Store, st: &Strategy, now: i64) -> Result<Entered> {
    let embassy = organisation(
        store,
        st,
        "Synthetic U.S. Embassy Tegucigalpa",
        "Embajada sintética de EE. UU. en Tegucigalpa",
        "us_government",
        "HN",
        now,
    )?;
    let ngo =
        organisation(store, st, "Synthetic Radio Network", "Red de radios sintética", "civil_society", "GT", now)?;
    let agency = organisation(
        store,
        st,
        "Synthetic Aid Agency",
        "Agencia de cooperación sintética",
        "us_government",
        "GT",
        now,
    )?;
    let linked = store
        .list_activities(&ActivityFilter { strategy: st.id.clone(), limit: Some(1), ..ActivityFilter::default() })?
        .into_iter()
        .next()
        .map(|r| r.iati_identifier)
        .context("the demo database has no synthetic activity to link")?;
    let line = |id: &str, why: &str| json!({"line_of_effort": id, "reason": why});
    let records = [
        json!({
            "organisation": embassy, "instrument": "diplomacy", "countries": ["HN"], "start": "2024-02-01", "status": "active",
            "title": {"en": "Synthetic: asylum capacity commitment", "es": "Sintético: compromiso de capacidad de asilo"},
            "lines_of_effort": [line("LOE2", "an ask to expand a partner government's asylum office")],
            "diplomacy": {"counterpart": "Synthetic Ministry of Foreign Affairs", "counterpart_kind": "government",
                "ask": "Expand the asylum office's capacity", "history": [
                    {"date": "2024-02-01", "status": "raised"},
                    {"date": "2024-05-15", "status": "committed", "note": "announced at a ministerial meeting"}]},
        }),
        json!({
            "organisation": ngo, "instrument": "public_messaging", "countries": ["GT", "HN"], "departments": ["GT-16", "HN-CR"],
            "start": "2024-01-15", "end": "2024-12-31", "status": "active", "implementing_partners": ["Synthetic Radio Network"],
            "title": {"en": "Synthetic: know the risks of irregular migration", "es": "Sintético: conoce los riesgos de la migración irregular"},
            "lines_of_effort": [line("LOE7", "information on the risks of irregular migration and on lawful pathways")],
            "money": [{"kind": "budget", "amount": "400000", "currency": "USD", "date": "2024-01-15"},
                      {"kind": "commitment", "amount": "350000", "currency": "USD", "date": "2024-02-01"},
                      {"kind": "disbursement", "amount": "210000", "currency": "USD", "date": "2024-06-30"}],
            "public_messaging": {"channels": ["radio", "WhatsApp"], "languages": ["es", "q'eqchi'"], "audiences": ["youth"],
                "reach": [{"period": "2024-Q2", "country": "GT", "department": "GT-16", "people_reached": 180000, "impressions": 900000},
                          {"period": "2024-Q2", "country": "HN", "department": "HN-CR", "people_reached": 240000}]},
        }),
        json!({
            "organisation": embassy, "instrument": "immigration_initiatives", "countries": ["GT"], "start": "2023-06-12", "status": "active",
            "title": {"en": "Synthetic: safe mobility office", "es": "Sintético: oficina de movilidad segura"},
            "lines_of_effort": [line("LOE8", "a lawful pathway processing applications in the region")],
            "immigration_initiatives": {"programme": "Synthetic Safe Mobility Office", "figures": [
                {"period": "FY2024", "country": "GT", "applications": 12000, "approvals": 3100, "arrivals": 1400}]},
        }),
        json!({
            "organisation": agency, "instrument": "foreign_assistance", "countries": ["GT"], "start": "2022-10-01", "status": "active",
            "title": {"en": "Synthetic: a funded activity, linked to its IATI record", "es": "Sintético: actividad financiada, enlazada a su registro IATI"},
            "lines_of_effort": [line("LOE1", "its money comes from the IATI data, counted once")],
            "foreign_assistance": {"iati_identifier": linked},
        }),
    ];
    let ctx = Context { strategies: vec![st], admin1: senda_stats::countries::canonical_admin1 };
    let mut ids = Vec::new();
    for v in &records {
        let i = parse_value(v, &ctx).map_err(|e| anyhow!("synthetic intervention: {e}"))?;
        let id = store.create_intervention(&Actor::cli(), &i, now)?.id;
        ids.push(id);
        for (from, to) in [
            (Workflow::Draft, Workflow::Submitted),
            (Workflow::Submitted, Workflow::Approved),
            (Workflow::Approved, Workflow::Published),
        ] {
            store.move_intervention(&Actor::cli(), id, from, to, now)?;
        }
    }
    // Requirements: the demo's own commitments per line of effort and focus country in FY2024,
    // 10 % to 115 % more by line (rounded to the thousand), so that lines show gaps of their own size.
    let report = senda_store::build_report_for(
        store,
        &st.id,
        senda_core::accounts::ReadScope::PublishedOnly,
        vec![Dimension::LineOfEffort, Dimension::Country],
        false,
        Filters::from([(Dimension::FiscalYear, vec!["2024".to_owned()])]),
    )?;
    let mut reqs = Vec::new();
    for r in &report.rows {
        let (line, country) = (r.key[0].as_str(), r.key[1].as_str());
        if st.line_of_effort(line).is_none() || !st.focus_countries.iter().any(|c| c.as_str() == country) {
            continue;
        }
        let committed = r.usd.commitments.max(rust_decimal::Decimal::ZERO);
        let nth = st.lines_of_effort.iter().position(|l| l.id == line).unwrap_or(0);
        let factor = rust_decimal::Decimal::new(110 + 15 * i64::try_from(nth).unwrap_or(0), 2);
        let amount =
            (committed * factor / rust_decimal::Decimal::from(1000)).round() * rust_decimal::Decimal::from(1000);
        if amount.is_zero() {
            continue;
        }
        let amount = amount.to_string();
        let input = RequirementInput {
            line_of_effort: line,
            country,
            fiscal_year: "2024",
            amount: &amount,
            currency: "USD",
            source: "Synthetic plan (senda demo)",
            note: "",
        };
        reqs.push(parse_requirement(&input, st).map_err(|e| anyhow!("synthetic requirement: {e}"))?);
    }
    store.set_requirements(&Actor::cli(), &reqs, now)?;
    let contributions = contributions(store, st, [embassy, ngo, agency], ids[0], now)?;
    let reports = reports(store, st, ids[1], now)?;
    Ok(Entered { organisations: 3, interventions: records.len(), requirements: reqs.len(), contributions, reports })
}

/// One published contribution of each kind: informing (an assessment, to a line of effort),
/// political will (an agreement, to the diplomatic intervention) and resources mobilised
/// (money, to a line of effort).
fn contributions(
    store: &dyn Store,
    st: &Strategy,
    [embassy, ngo, agency]: [i64; 3],
    diplomacy: i64,
    now: i64,
) -> Result<usize> {
    let records = [
        json!({
            "organisation": ngo, "line_of_effort": "LOE7", "kind": "informing", "form": "assessment", "date": "2024-03-20",
            "description": {"en": "Synthetic: survey of young people's migration intentions in Alta Verapaz",
                            "es": "Sintético: encuesta sobre las intenciones migratorias de jóvenes en Alta Verapaz"},
            "countries": ["GT"], "source": "Synthetic survey report (senda demo)",
        }),
        json!({
            "organisation": embassy, "intervention": diplomacy, "kind": "political_will", "form": "agreement", "date": "2024-05-15",
            "description": {"en": "Synthetic: agreement to expand the asylum office",
                            "es": "Sintético: acuerdo para ampliar la oficina de asilo"},
            "countries": ["HN"], "source": "Synthetic joint statement (senda demo)",
        }),
        json!({
            "organisation": agency, "line_of_effort": "LOE5", "kind": "resources_mobilised", "form": "money", "date": "2024-07-01",
            "description": {"en": "Synthetic: loan for returnee reintegration mobilised from a development bank",
                            "es": "Sintético: préstamo para la reintegración de retornados movilizado de un banco de desarrollo"},
            "countries": ["GT"], "source": "Synthetic press release (senda demo)",
            "money": {"amount": "25000000", "currency": "USD", "date": "2024-07-01"},
        }),
    ];
    let ctx = senda_core::contribution::Context { strategies: vec![st] };
    for v in &records {
        let c = senda_core::contribution::parse_value(v, &ctx).map_err(|e| anyhow!("synthetic contribution: {e}"))?;
        let id = store.create_contribution(&Actor::cli(), &c, now)?;
        store.publish_contribution(&Actor::cli(), id, true, now)?;
    }
    Ok(records.len())
}

/// Reports of the messaging campaign's reach (indicator LOE7-1) in the reporting cycle: 2024-Q1
/// and 2024-Q2 in Alta Verapaz approved (they feed indicator progress), 2024-Q2 in Cortés
/// submitted (waiting for a coordinator), 2024-Q3 in Cortés returned with a comment.
fn reports(store: &dyn Store, st: &Strategy, messaging: i64, now: i64) -> Result<(usize, usize, usize)> {
    use senda_core::reporting::{ActualContext, ActualInput, Step, parse_actual};
    use senda_store::reporting::{ReportWrite, Written};
    let rec = store
        .intervention(messaging, senda_core::accounts::ReadScope::Everything)?
        .context("the synthetic messaging campaign was not stored")?;
    let today = time::OffsetDateTime::from_unix_timestamp(now).map_err(|e| anyhow!("{e}"))?.date();
    let locked = store.locked_periods(&st.id)?;
    let ctx = ActualContext {
        strategy: st,
        intervention: &rec.intervention,
        today,
        locked: &locked,
        admin1: senda_stats::countries::canonical_admin1,
    };
    let rows = [
        ("2024-Q1", "GT-16", "150000", Some(None)),
        ("2024-Q2", "GT-16", "180000", Some(None)),
        ("2024-Q2", "HN-CR", "240000", None),
        (
            "2024-Q3",
            "HN-CR",
            "2600000",
            Some(Some("Synthetic: more than the department's population; check the figure")),
        ),
    ];
    let mut counts = (0, 0, 0);
    for (period, department, value, review) in rows {
        let input = ActualInput {
            indicator: "LOE7-1",
            period,
            department,
            value,
            note: "Synthetic figure (senda demo)",
            ..ActualInput::default()
        };
        let actual = parse_actual(&input, &ctx).map_err(|e| anyhow!("synthetic report: {e}"))?;
        let w = ReportWrite {
            strategy: &st.id,
            intervention_id: rec.id,
            organisation_id: rec.organisation_id,
            actual: &actual,
            step: Step::Submit,
            form_token: None,
            expected_version: None,
        };
        let Written::Done(r) = store.write_report(&Actor::cli(), &w, now)? else {
            anyhow::bail!("synthetic report {period} {department} was not written");
        };
        let (step, comment) = match review {
            None => {
                counts.1 += 1;
                continue;
            }
            Some(None) => {
                counts.0 += 1;
                (Step::Approve, None)
            }
            Some(Some(c)) => {
                counts.2 += 1;
                (Step::Return, Some(c))
            }
        };
        let done = store.review_report(&Actor::cli(), r.id, step, comment, None, now)?;
        if !matches!(done, Written::Done(_)) {
            anyhow::bail!("synthetic report {period} {department}: {} refused: {done:?}", step.as_str());
        }
    }
    Ok(counts)
}
