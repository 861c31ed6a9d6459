//! Organisations already seen in imported IATI data, adopted as Senda organisations by their
//! identifier (issue 17, item 1): every `reporting-org` and `participating-org` with a `@ref`
//! of the stored activities, with the roles it plays and the number of activities naming it.
//!
//! The participating organisations are only in the stored documents (`activity_doc.doc`), so
//! listing candidates reads every document once, 1,000 at a time (an administrator's page or
//! command, not a report: about a second per 100,000 activities).

use super::{AccountSql, AccountStore, Actor, Param, int, text};
use crate::StoreError;
use senda_core::accounts::NewOrganisation;
use serde::Serialize;
use std::collections::{BTreeMap, BTreeSet};

/// An organisation seen in imported IATI data, which can be adopted.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct OrgCandidate {
    /// `reporting-org/@ref` or `participating-org/@ref`: the IATI organisation identifier.
    pub iati_ref: String,
    /// Its name as published (the reporting organisation's name when it reports, else the
    /// first name seen).
    pub name: String,
    /// Activities naming it, in any role.
    pub activities: u64,
    /// The roles it plays: `reporting`, `funding`, `accountable`, `extending`, `implementing`
    /// (IATI OrganisationRole), in that order.
    pub roles: Vec<String>,
    /// The Senda organisation with this identifier, if already adopted.
    pub adopted_as: Option<i64>,
}

/// What to adopt: identifiers, and the partner category to give the new organisations.
#[derive(Debug, Clone, Copy)]
pub struct Adoption<'a> {
    /// IATI organisation identifiers, each of a [`OrgCandidate`].
    pub refs: &'a [String],
    /// A partner category id of the strategy, for every organisation adopted now.
    pub category: Option<&'a str>,
    /// The strategy's partner category ids (what `category` is checked against).
    pub categories: &'a [&'a str],
}

const ROLES: [&str; 5] = ["reporting", "funding", "accountable", "extending", "implementing"];

fn role_index(code: Option<&str>) -> Option<usize> {
    match code.map(str::trim) {
        Some("1") => Some(1),
        Some("2") => Some(2),
        Some("3") => Some(3),
        Some("4") => Some(4),
        _ => None,
    }
}

#[derive(Default)]
struct Seen {
    name: String,
    named_by_reporting: bool,
    activities: u64,
    roles: BTreeSet<usize>,
}

pub(crate) fn candidates<S: AccountSql + ?Sized>(s: &S) -> Result<Vec<OrgCandidate>, StoreError> {
    let mut seen: BTreeMap<String, Seen> = BTreeMap::new();
    let mut after = 0i64;
    loop {
        let rows = s.acc_query(
            "SELECT activity_id, doc FROM activity_doc WHERE activity_id > ?1 ORDER BY activity_id LIMIT 1000",
            &[Param::Int(after)],
        )?;
        let Some(last) = rows.last() else { break };
        after = int(&last[0]).unwrap_or(i64::MAX);
        for r in &rows {
            let crate::tables::Cell::Bytes(doc) = &r[1] else { continue };
            let id = int(&r[0]).unwrap_or_default();
            let a = crate::codec::decode_doc(&format!("activity {id}"), doc)?;
            let mut in_this: BTreeSet<&str> = BTreeSet::new();
            let note = |org: &senda_core::activity::OrgRef, role: usize, seen: &mut BTreeMap<String, Seen>| {
                let Some(r) = org.r#ref.as_deref().map(str::trim).filter(|r| !r.is_empty()) else { return };
                let e = seen.entry(r.to_owned()).or_default();
                let name = org.display_name().trim();
                if !name.is_empty() && name != r && (e.name.is_empty() || (role == 0 && !e.named_by_reporting)) {
                    e.name = name.to_owned();
                    e.named_by_reporting = role == 0;
                }
                e.roles.insert(role);
            };
            note(&a.reporting_org, 0, &mut seen);
            for p in &a.participating_orgs {
                if let Some(i) = role_index(p.role.as_deref()) {
                    note(&p.org, i, &mut seen);
                }
            }
            in_this.extend(a.reporting_org.r#ref.as_deref().map(str::trim).filter(|r| !r.is_empty()));
            in_this.extend(
                a.participating_orgs
                    .iter()
                    .filter(|p| role_index(p.role.as_deref()).is_some())
                    .filter_map(|p| p.org.r#ref.as_deref().map(str::trim).filter(|r| !r.is_empty())),
            );
            for r in in_this {
                if let Some(e) = seen.get_mut(r) {
                    e.activities += 1;
                }
            }
        }
    }
    let adopted: BTreeMap<String, i64> = s
        .acc_query("SELECT iati_ref, id FROM organisation WHERE iati_ref IS NOT NULL", &[])?
        .iter()
        .filter_map(|r| Some((text(&r[0])?, int(&r[1])?)))
        .collect();
    Ok(seen
        .into_iter()
        .map(|(r, e)| OrgCandidate {
            adopted_as: adopted.get(&r).copied(),
            name: if e.name.is_empty() { r.clone() } else { e.name },
            iati_ref: r,
            activities: e.activities,
            roles: e.roles.into_iter().map(|i| ROLES[i].to_owned()).collect(),
        })
        .collect())
}

/// The country of an identifier whose registration agency is a country's (`HN-RTN-...`,
/// `US-GOV-1`): its first two letters when they are an ISO 3166-1 code; none for the
/// international agencies (`XM-DAC-...`, `XI-IATI-...`).
fn country_of(iati_ref: &str) -> Option<String> {
    let (prefix, _) = iati_ref.split_once('-')?;
    if prefix.len() != 2 || prefix.starts_with(['X', 'x']) {
        return None;
    }
    senda_core::CountryCode::parse(prefix).ok().map(|c| c.to_string())
}

pub(crate) fn adopt<S: AccountSql + ?Sized>(
    s: &S,
    actor: &Actor,
    a: &Adoption<'_>,
    now: i64,
) -> Result<Vec<i64>, StoreError> {
    let known = candidates(s)?;
    let account = |e: senda_core::accounts::AccountError| StoreError::Account { field: e.field, message: e.message };
    // Every identifier is checked before anything is created.
    let mut plan = Vec::new();
    for r in a.refs {
        let r = r.trim();
        let Some(c) = known.iter().find(|c| c.iati_ref == r) else {
            return Err(StoreError::Account {
                field: "iati_ref",
                message: format!(
                    "no imported activity names the organisation {r:?} (reporting-org or participating-org @ref)"
                ),
            });
        };
        let org = match c.adopted_as {
            Some(id) => Err(id),
            None => Ok(NewOrganisation::parse(
                &c.name,
                None,
                Some(&c.iati_ref),
                a.category,
                country_of(&c.iati_ref).as_deref(),
                a.categories,
            )
            .map_err(account)?),
        };
        plan.push(org);
    }
    let mut out = Vec::new();
    for p in plan {
        out.push(match p {
            Err(id) => id,
            Ok(org) => s.create_organisation(actor, &org, now)?,
        });
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    #[test]
    fn a_country_agency_prefix_gives_the_country() {
        assert_eq!(super::country_of("HN-RTN-05019000123456").as_deref(), Some("HN"));
        assert_eq!(super::country_of("US-GOV-1").as_deref(), Some("US"));
        assert_eq!(super::country_of("XM-DAC-41121"), None);
        assert_eq!(super::country_of("41121"), None);
    }
}
