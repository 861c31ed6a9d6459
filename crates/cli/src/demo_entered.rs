//! What `senda demo` enters beside the synthetic IATI activities, so that a newcomer sees the
//! whole model (issue 18): synthetic partner organisations, one published intervention of each
//! of the four instruments (diplomacy, public messaging, an immigration initiative, foreign
//! assistance linked to a synthetic IATI activity) and the plan's requirements. Every name says
//! "synthetic". Records go through the same checks as a user's (`parse_value`,
//! `parse_requirement`) and the same store calls, audited as `cli`.

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
    for v in &records {
        let i = parse_value(v, &ctx).map_err(|e| anyhow!("synthetic intervention: {e}"))?;
        let id = store.create_intervention(&Actor::cli(), &i, now)?.id;
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
    Ok(Entered { organisations: 3, interventions: records.len(), requirements: reqs.len() })
}
