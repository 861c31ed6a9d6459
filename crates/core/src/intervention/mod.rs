//! Interventions entered in Senda (issue 18, item 1), for every instrument of the strategy:
//! a diplomatic engagement, a public-messaging campaign, an immigration initiative (a lawful
//! pathway), or a foreign-assistance activity that links to imported IATI data.
//!
//! Every intervention has the same 5W core (who: the owning organisation and implementing
//! partners; what: lines of effort chosen with a reason, instrument, sector, title and
//! description in English and/or Spanish; where: countries and departments by ISO 3166-2 code;
//! when: start and end; for whom: population groups; status; money with currency and date)
//! and the fields of its instrument.
//!
//! **One way in**: [`parse_value`] checks a record given as a JSON value; [`parse_json`] and
//! [`parse_toml`] only turn text into that value first. The command line (`senda intervention
//! add --file`), the JSON API (`POST /api/v1/interventions`) and, later, the web form all call
//! it. It never stops at the first problem: every problem is a [`FieldError`] naming the field
//! by its path (`public_messaging.reach[2].people_reached`), with a message in English and in
//! Spanish ([`FieldError::message`]). Unknown keys are refused (a misspelt field is never
//! silently dropped). Amounts are exact decimals (`"1500.25"`, or a whole number), never
//! floating point: a decimal number written without quotes is refused.
//!
//! The stored form (the `doc` column) is what [`Intervention`] serialises to, which is the
//! input format itself: `parse_value(&serde_json::to_value(&i))` gives `i` back (tested).
//!
//! Entered records go through a workflow ([`Workflow`]: draft, submitted, approved,
//! published); only published ones are public ([`Intervention`]s are `Resource::Record`s of
//! the access policy, owned by their organisation). [`Workflow::action_to`] says which policy
//! action a change of workflow needs.
//!
//! Not yet: the money of entered interventions is not in reports (the fact segments would
//! need a source mark; see ARCHITECTURE.md), and a foreign-assistance intervention carries no
//! money of its own at all: its money is the linked IATI activity's, counted once.

//!
//! The module's parts: [`model`] (the record and its words), [`problems`] (what can be wrong
//! with a field, in English and Spanish), [`checker`] (the one check, [`parse_value`]) and
//! [`policy`] (the workflow and the policy questions for a record).

pub mod checker;
pub mod model;
pub mod policy;
pub mod problems;

pub use checker::*;
pub use model::*;
pub use policy::*;
pub use problems::*;

#[cfg(test)]
mod tests;
