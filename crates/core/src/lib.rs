//! Senda's domain: IATI activities as typed values, exact money, strategies with their lines of
//! effort and mapping rules, the mapping engine and the attribution of money to countries,
//! sectors and lines of effort.
//!
//! This crate knows no I/O, no SQL and no HTTP (its `Cargo.toml` has no dependency that does);
//! parsers (`senda-iati`) build these values and the store (`senda-store`) persists them.
//! Values are parsed at the boundary ("parse, don't validate"): a [`CountryCode`], a
//! [`Percentage`] or a [`Money`] that exists is valid, so code past the boundary never re-checks.

pub mod accounts;
pub mod activity;
pub mod attribution;
pub mod codelists;
pub mod codes;
pub mod contribution;
pub mod country_codes;
pub mod coverage;
pub mod diagnostic;
pub mod entered;
pub mod explain;
pub mod facts;
pub mod indicator;
pub mod intervention;
pub mod mapping;
pub mod money;
pub mod observation;
pub mod orgs;
pub mod period;
pub mod plan;
pub mod report;
pub mod reporting;
pub mod strategy;
pub mod text;

pub use activity::*;
pub use codes::*;
pub use diagnostic::{Diagnostic, Severity};
pub use money::{CurrencyCode, Money, allocate};
pub use observation::{Observation, Place, StatSeries, ValueKind};
pub use period::Period;
pub use strategy::{LineOfEffort, Strategy, StrategyError};
