//! Integration tests of the `senda` crate, one binary (`cargo test -p senda --test it`).

mod accounts_cli;
mod bad_input;
mod commands;
mod conformance;
mod contributions_cli;
mod hardening;
mod interventions_cli;
mod negative_money;
mod plan_cli;
mod printable;
mod real_data;
mod reporting_cli;
mod results_template;
mod spanish;
mod support;
mod team;
mod tenant_matrix;
mod values;
mod web;
mod web_accounts;
mod web_admin;
mod web_contributions;
mod web_entered;
mod web_intervention_forms;
mod web_interventions;
mod web_reporting;
