//! The rules that decide what is stored, written once for every backend.
//!
//! A backend knows how to read and write rows ([`import::ImportTx`], a handful of primitive
//! operations); these modules decide *which* rows: which copy of a duplicate identifier wins
//! ([`rank`]), what one file's import writes, keeps aside, touches and removes ([`import`]),
//! what a file regenerated with only new timestamps moves ([`restamp`]), what a run changed
//! in net ([`ledger`]), which fact segments a write makes stale and how
//! they are rebuilt ([`segments`]), how a statistics or results value replaces another
//! ([`values`]), and the sort keys both backends order by ([`sort_key`]). A backend that
//! implements the primitives gets the same database as every other backend, by construction;
//! the conformance suite (`crates/cli/tests/it/conformance/`) checks it.

pub mod import;
pub mod ledger;
pub mod rank;
pub mod restamp;
pub mod segments;
pub mod sort_key;
pub mod values;
