//! Partner contributions (issue 18, item 2): what a partner organisation (of any category:
//! a partner government, an international organization, civil society, the private sector,
//! a financial institution, ...) brings to a line of effort or to an intervention, beside the
//! money of the aid data. Three kinds, as the strategy names them:
//!
//! - **informing** programmatic interventions: an assessment, data, advice;
//! - **political will**: a policy change, a law, an agreement;
//! - **resources mobilised**: money (an exact decimal amount with its ISO 4217 currency and
//!   date) or in kind (described in words).
//!
//! Each has a date, a description in English and/or Spanish, the countries it concerns and a
//! source (a link or a citation).
//!
//! **One way in**: [`parse_value`] checks a record given as a JSON value ([`parse_json`] and
//! [`parse_toml`] turn text into that value first); the command line (`senda contribution
//! add`) and the API (`POST /api/v1/contributions`) both call it. Every problem is a
//! [`FieldError`] naming its field, with a message in English and Spanish (the intervention
//! vocabulary, [`Problem`]). Unknown keys are refused; a decimal amount without quotes is
//! refused (it would be read as floating point).
//!
//! **Publication**: a contribution is not reviewed in steps like an intervention: it is
//! recorded unpublished and a coordinator publishes it (a single `published` flag, kept by the
//! store beside the record). The questions are the access policy's
//! ([`crate::accounts::decide`]): recording is a write of a record of the contribution's
//! organisation (a partner editor for its own organisation, a coordinator for any);
//! publishing and unpublishing are approvals (a coordinator); reading follows
//! [`crate::accounts::ReadScope`] (the public sees published contributions only).

use crate::accounts::{Action, Decision, Principal, Resource, decide};
use crate::codes::{CountryCode, parse_iso_date};
use crate::intervention::{Bilingual, FieldError, ISO_4217, Invalid, Lang, MAX_LONG, MAX_SHORT, Problem, Shape};
use crate::money::{CurrencyCode, parse_amount};
use crate::strategy::Strategy;
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use time::Date;

#[cfg(test)]
mod tests;

/// The three kinds of contribution the strategy names.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Kind {
    /// Informing programmatic interventions (an assessment, data, advice).
    Informing,
    /// Leveraging political will (a policy change, a law, an agreement).
    PoliticalWill,
    /// Mobilising resources (money or in kind).
    ResourcesMobilised,
}

impl Kind {
    /// Every kind, in order.
    pub const ALL: [Kind; 3] = [Kind::Informing, Kind::PoliticalWill, Kind::ResourcesMobilised];
    /// The stored word.
    pub fn as_str(self) -> &'static str {
        match self {
            Kind::Informing => "informing",
            Kind::PoliticalWill => "political_will",
            Kind::ResourcesMobilised => "resources_mobilised",
        }
    }
    /// Parses the word (any case, `-` for `_`).
    pub fn parse(raw: &str) -> Option<Kind> {
        let s = raw.trim().to_ascii_lowercase().replace('-', "_");
        Kind::ALL.into_iter().find(|k| k.as_str() == s)
    }
    /// The forms of this kind.
    pub fn forms(self) -> &'static [Form] {
        match self {
            Kind::Informing => &[Form::Assessment, Form::Data, Form::Advice],
            Kind::PoliticalWill => &[Form::PolicyChange, Form::Law, Form::Agreement],
            Kind::ResourcesMobilised => &[Form::Money, Form::InKind],
        }
    }
    /// The kind's name for a reader.
    pub fn label(self, lang: Lang) -> &'static str {
        match (self, lang) {
            (Kind::Informing, Lang::En) => "Informing",
            (Kind::Informing, Lang::Es) => "Información",
            (Kind::PoliticalWill, Lang::En) => "Political will",
            (Kind::PoliticalWill, Lang::Es) => "Voluntad política",
            (Kind::ResourcesMobilised, Lang::En) => "Resources mobilised",
            (Kind::ResourcesMobilised, Lang::Es) => "Recursos movilizados",
        }
    }
}

/// What the contribution is, within its kind.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Form {
    /// An assessment (informing).
    Assessment,
    /// Data (informing).
    Data,
    /// Advice (informing).
    Advice,
    /// A policy change (political will).
    PolicyChange,
    /// A law (political will).
    Law,
    /// An agreement (political will).
    Agreement,
    /// Money (resources mobilised): the record carries [`Contribution::money`].
    Money,
    /// Goods or services in kind (resources mobilised), described in words.
    InKind,
}

impl Form {
    /// Every form, in order.
    pub const ALL: [Form; 8] = [
        Form::Assessment,
        Form::Data,
        Form::Advice,
        Form::PolicyChange,
        Form::Law,
        Form::Agreement,
        Form::Money,
        Form::InKind,
    ];
    /// The stored word.
    pub fn as_str(self) -> &'static str {
        match self {
            Form::Assessment => "assessment",
            Form::Data => "data",
            Form::Advice => "advice",
            Form::PolicyChange => "policy_change",
            Form::Law => "law",
            Form::Agreement => "agreement",
            Form::Money => "money",
            Form::InKind => "in_kind",
        }
    }
    /// Parses the word (any case, `-` for `_`).
    pub fn parse(raw: &str) -> Option<Form> {
        let s = raw.trim().to_ascii_lowercase().replace('-', "_");
        Form::ALL.into_iter().find(|k| k.as_str() == s)
    }
    /// The form's name for a reader.
    pub fn label(self, lang: Lang) -> &'static str {
        let es = lang == Lang::Es;
        match self {
            Form::Assessment if es => "evaluación",
            Form::Assessment => "assessment",
            Form::Data if es => "datos",
            Form::Data => "data",
            Form::Advice if es => "asesoría",
            Form::Advice => "advice",
            Form::PolicyChange if es => "cambio de política",
            Form::PolicyChange => "policy change",
            Form::Law if es => "ley",
            Form::Law => "law",
            Form::Agreement if es => "acuerdo",
            Form::Agreement => "agreement",
            Form::Money if es => "dinero",
            Form::Money => "money",
            Form::InKind if es => "en especie",
            Form::InKind => "in kind",
        }
    }
}

/// Money mobilised: exact, with its currency and date.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ContributionMoney {
    /// The amount, exact, greater than zero.
    pub amount: Decimal,
    /// ISO 4217 (an active code).
    pub currency: CurrencyCode,
    /// The date of the amount (pledge, commitment or transfer).
    #[serde(with = "iso_date")]
    pub date: Date,
}

/// A partner contribution, checked ([`parse_value`]): it exists, so it is valid.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Contribution {
    /// The strategy (default `cmms-2021`).
    pub strategy: String,
    /// The contributing organisation (`organisation.id`), of any category; it owns the record.
    pub organisation: i64,
    /// The line of effort it contributes to (its id in the strategy, e.g. `LOE2`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub line_of_effort: Option<String>,
    /// The intervention it contributes to (`intervention.id`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub intervention: Option<i64>,
    /// Informing, political will or resources mobilised.
    pub kind: Kind,
    /// What it is within its kind.
    pub form: Form,
    /// When it was made.
    #[serde(with = "iso_date")]
    pub date: Date,
    /// What it is, in English and/or Spanish (for in-kind resources: what was given).
    pub description: Bilingual,
    /// The countries it concerns (ISO 3166-1 alpha-2).
    pub countries: Vec<CountryCode>,
    /// Where it is documented: a link or a citation.
    pub source: String,
    /// The money, for resources mobilised as money (and only then).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub money: Option<ContributionMoney>,
}

mod iso_date {
    use serde::{Deserialize, Deserializer, Serializer};
    use time::Date;

    pub fn serialize<S: Serializer>(d: &Date, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(d)
    }
    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Date, D::Error> {
        let s = String::deserialize(d)?;
        crate::codes::parse_iso_date(&s).map_err(serde::de::Error::custom)
    }
}

// ---------------------------------------------------------------------------------------------
// The policy

impl Contribution {
    /// The policy's answer to `principal` recording this contribution: a write of an
    /// unpublished record of its organisation.
    pub fn may_record(&self, principal: &Principal) -> Decision {
        decide(principal, Action::Write, Resource::Record { owner: Some(self.organisation), published: false })
    }
}

/// The policy's answer to `principal` publishing or unpublishing a contribution of `owner`
/// now `published` or not: an approval (a coordinator's).
pub fn may_publish(principal: &Principal, owner: i64, published: bool) -> Decision {
    decide(principal, Action::Approve, Resource::Record { owner: Some(owner), published })
}

// ---------------------------------------------------------------------------------------------
// The one check

/// What the parser checks against: the strategies (their lines of effort).
pub struct Context<'a> {
    /// The strategies a record may name.
    pub strategies: Vec<&'a Strategy>,
}

const FIELDS: &[&str] = &[
    "strategy",
    "organisation",
    "line_of_effort",
    "intervention",
    "kind",
    "form",
    "date",
    "description",
    "countries",
    "source",
    "money",
];

/// Parses a record written as JSON. See [`parse_value`].
pub fn parse_json(text: &str, ctx: &Context<'_>) -> Result<Contribution, Invalid> {
    let v: Value = serde_json::from_str(text)
        .map_err(|e| Invalid(vec![FieldError::new("(record)", Problem::Syntax(format!("not JSON: {e}")))]))?;
    parse_value(&v, ctx)
}

/// Parses a record written as TOML (dates may be TOML dates). See [`parse_value`].
pub fn parse_toml(text: &str, ctx: &Context<'_>) -> Result<Contribution, Invalid> {
    let t: toml::Table = toml::from_str(text)
        .map_err(|e| Invalid(vec![FieldError::new("(record)", Problem::Syntax(format!("not TOML: {e}")))]))?;
    parse_value(&toml_to_json(toml::Value::Table(t)), ctx)
}

fn toml_to_json(v: toml::Value) -> Value {
    match v {
        toml::Value::String(s) => Value::String(s),
        toml::Value::Integer(i) => Value::from(i),
        // Kept as a float so that the check refuses it as an unquoted decimal.
        toml::Value::Float(f) => serde_json::Number::from_f64(f).map_or(Value::Null, Value::Number),
        toml::Value::Boolean(b) => Value::Bool(b),
        toml::Value::Datetime(d) => Value::String(d.to_string()),
        toml::Value::Array(a) => Value::Array(a.into_iter().map(toml_to_json).collect()),
        toml::Value::Table(t) => Value::Object(t.into_iter().map(|(k, v)| (k, toml_to_json(v))).collect()),
    }
}

/// **The check every way in uses**: a contribution given as a JSON value becomes a
/// [`Contribution`], or every problem found, each naming its field. Text is kept as written
/// (markup included: it is text, escaped wherever it is shown), trimmed, without control
/// characters. Whether the organisation and the intervention exist is the store's check.
pub fn parse_value(v: &Value, ctx: &Context<'_>) -> Result<Contribution, Invalid> {
    let mut c = Check { errors: Vec::new() };
    let out = c.contribution(v, ctx);
    match out {
        Some(r) if c.errors.is_empty() => Ok(r),
        _ => {
            if c.errors.is_empty() {
                c.errors.push(FieldError::new("(record)", Problem::Missing));
            }
            Err(Invalid(c.errors))
        }
    }
}

struct Check {
    errors: Vec<FieldError>,
}

fn at(path: &str, key: &str) -> String {
    if path.is_empty() { key.to_owned() } else { format!("{path}.{key}") }
}

impl Check {
    fn err(&mut self, field: impl Into<String>, p: Problem) {
        self.errors.push(FieldError::new(field, p));
    }

    fn object<'v>(&mut self, v: &'v Value, path: &str, allowed: &[&str]) -> Option<&'v Map<String, Value>> {
        let Some(m) = v.as_object() else {
            self.err(if path.is_empty() { "(record)" } else { path }, Problem::WrongType(Shape::Object));
            return None;
        };
        for k in m.keys() {
            if !allowed.contains(&k.as_str()) {
                self.err(at(path, k), Problem::UnknownField);
            }
        }
        Some(m)
    }

    fn text_value(&mut self, v: &Value, field: &str, max: usize) -> Option<String> {
        let Some(s) = v.as_str() else {
            self.err(field, Problem::WrongType(Shape::Text));
            return None;
        };
        let s = s.trim();
        if s.is_empty() {
            self.err(field, Problem::Empty);
            None
        } else if s.chars().count() > max {
            self.err(field, Problem::TooLong(max));
            None
        } else if s.chars().any(|c| c.is_control() && c != '\n' && c != '\t' && c != '\r') {
            self.err(field, Problem::Control);
            None
        } else {
            Some(s.to_owned())
        }
    }

    fn text(&mut self, m: &Map<String, Value>, path: &str, key: &str, max: usize, required: bool) -> Option<String> {
        match m.get(key) {
            None | Some(Value::Null) => {
                if required {
                    self.err(at(path, key), Problem::Missing);
                }
                None
            }
            Some(v) => self.text_value(v, &at(path, key), max),
        }
    }

    fn date(&mut self, m: &Map<String, Value>, path: &str, key: &str) -> Option<Date> {
        let s = self.text(m, path, key, 40, true)?;
        match parse_iso_date(&s) {
            Ok(d) => Some(d),
            Err(_) => {
                self.err(at(path, key), Problem::Date(s));
                None
            }
        }
    }

    /// A positive whole number given as a number or as text (an id).
    fn id(&mut self, m: &Map<String, Value>, key: &str) -> Option<i64> {
        match m.get(key)? {
            Value::Null => None,
            Value::Number(n) => n.as_i64().filter(|i| *i > 0).or_else(|| {
                self.err(key, Problem::NotWholeNumber(n.to_string()));
                None
            }),
            Value::String(s) => s.trim().parse::<i64>().ok().filter(|i| *i > 0).or_else(|| {
                self.err(key, Problem::NotWholeNumber(s.clone()));
                None
            }),
            _ => {
                self.err(key, Problem::WrongType(Shape::WholeNumber));
                None
            }
        }
    }

    fn money(&mut self, v: &Value, field: &str) -> Option<ContributionMoney> {
        let m = self.object(v, field, &["amount", "currency", "date"])?;
        let amount_field = at(field, "amount");
        let raw = match m.get("amount") {
            None | Some(Value::Null) => {
                self.err(amount_field.clone(), Problem::Missing);
                None
            }
            Some(Value::Number(n)) if n.is_i64() || n.is_u64() => Some(n.to_string()),
            Some(Value::Number(_)) => {
                self.err(amount_field.clone(), Problem::UnquotedDecimal);
                None
            }
            Some(Value::String(s)) => Some(s.clone()),
            Some(_) => {
                self.err(amount_field.clone(), Problem::WrongType(Shape::Text));
                None
            }
        };
        let amount = raw.and_then(|raw| match parse_amount(&raw) {
            Ok(d) if d.is_sign_negative() && !d.is_zero() => {
                self.err(amount_field.clone(), Problem::AmountNegative(raw));
                None
            }
            Ok(d) if d.is_zero() => {
                self.err(amount_field.clone(), Problem::Amount(raw));
                None
            }
            Ok(d) => Some(d),
            Err(crate::codes::CodeError::AmountRange(_)) => {
                self.err(amount_field.clone(), Problem::AmountRange(raw));
                None
            }
            Err(_) => {
                self.err(amount_field.clone(), Problem::Amount(raw));
                None
            }
        });
        let currency = self.text(m, field, "currency", 10, true).and_then(|s| match CurrencyCode::parse(&s) {
            Ok(c) if ISO_4217.binary_search(&c.as_str()).is_ok() => Some(c),
            _ => {
                self.err(at(field, "currency"), Problem::Currency(s));
                None
            }
        });
        let date = self.date(m, field, "date");
        Some(ContributionMoney { amount: amount?, currency: currency?, date: date? })
    }

    fn contribution(&mut self, v: &Value, ctx: &Context<'_>) -> Option<Contribution> {
        let m = self.object(v, "", FIELDS)?;
        let strategy_id =
            self.text(m, "", "strategy", 100, false).unwrap_or_else(|| crate::strategy::DEFAULT_STRATEGY.to_owned());
        let strategy = ctx.strategies.iter().copied().find(|s| s.id == strategy_id);
        if strategy.is_none() {
            let allowed = ctx.strategies.iter().map(|s| s.id.clone()).collect();
            self.err("strategy", Problem::NotOneOf { value: strategy_id.clone(), allowed });
        }
        let organisation = self.id(m, "organisation");
        if !matches!(m.get("organisation"), Some(v) if !v.is_null()) {
            self.err("organisation", Problem::Missing);
        }
        let line_of_effort = self.text(m, "", "line_of_effort", 20, false).and_then(|id| {
            let s = strategy?;
            match s.lines_of_effort.iter().find(|l| l.id.eq_ignore_ascii_case(&id)) {
                Some(l) => Some(l.id.clone()),
                None => {
                    let allowed = s.lines_of_effort.iter().map(|l| l.id.clone()).collect();
                    self.err("line_of_effort", Problem::NotOneOf { value: id, allowed });
                    None
                }
            }
        });
        let intervention = self.id(m, "intervention");
        let named = |k: &str| matches!(m.get(k), Some(v) if !v.is_null());
        if !named("line_of_effort") && !named("intervention") {
            self.err("line_of_effort", Problem::NoTarget);
        }

        let kind = self.text(m, "", "kind", 100, true).and_then(|s| {
            Kind::parse(&s).or_else(|| {
                let allowed = Kind::ALL.iter().map(|k| k.as_str().to_owned()).collect();
                self.err("kind", Problem::NotOneOf { value: s, allowed });
                None
            })
        });
        let form = self.text(m, "", "form", 100, true).and_then(|s| {
            let forms: &[Form] = kind.map_or(&Form::ALL, Kind::forms);
            match Form::parse(&s).filter(|f| forms.contains(f)) {
                Some(f) => Some(f),
                None => {
                    let allowed = forms.iter().map(|f| f.as_str().to_owned()).collect();
                    self.err("form", Problem::NotOneOf { value: s, allowed });
                    None
                }
            }
        });
        let date = self.date(m, "", "date");

        let description = match m.get("description") {
            None | Some(Value::Null) => {
                self.err("description", Problem::Missing);
                None
            }
            Some(v) => self.object(v, "description", &["en", "es"]).map(|o| {
                let b = Bilingual {
                    en: self.text(o, "description", "en", MAX_LONG, false),
                    es: self.text(o, "description", "es", MAX_LONG, false),
                };
                if !o.contains_key("en") && !o.contains_key("es") {
                    self.err("description", Problem::NoLanguage);
                }
                b
            }),
        };

        let mut countries: Vec<CountryCode> = Vec::new();
        match m.get("countries") {
            None | Some(Value::Null) => self.err("countries", Problem::Missing),
            Some(Value::Array(a)) if a.is_empty() => self.err("countries", Problem::Empty),
            Some(Value::Array(a)) if a.len() > 300 => self.err("countries", Problem::TooMany(300)),
            Some(Value::Array(a)) => {
                for (i, cv) in a.iter().enumerate() {
                    let f = format!("countries[{i}]");
                    let Some(s) = self.text_value(cv, &f, 10) else { continue };
                    match CountryCode::parse(&s) {
                        Ok(c) if countries.contains(&c) => self.err(f, Problem::Duplicate(c.to_string())),
                        Ok(c) => countries.push(c),
                        Err(_) => self.err(f, Problem::Country(s)),
                    }
                }
            }
            Some(_) => self.err("countries", Problem::WrongType(Shape::List)),
        }
        let source = self.text(m, "", "source", MAX_SHORT * 4, true);

        let money = match (m.get("money"), form) {
            (None | Some(Value::Null), Some(Form::Money)) => {
                self.err("money", Problem::Missing);
                None
            }
            (None | Some(Value::Null), _) => None,
            (Some(v), Some(Form::Money)) => Some(self.money(v, "money")?),
            (Some(_), Some(f)) => {
                self.err("money", Problem::OnlyForMoney(f.as_str().to_owned()));
                None
            }
            // The form is wrong already: still check the money, to report every problem.
            (Some(v), None) => {
                self.money(v, "money");
                None
            }
        };

        Some(Contribution {
            strategy: strategy?.id.clone(),
            organisation: organisation?,
            line_of_effort,
            intervention,
            kind: kind?,
            form: form?,
            date: date?,
            description: description?,
            countries,
            source: source?,
            money,
        })
    }
}
