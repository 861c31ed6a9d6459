//! The one check every way in uses: a record as a JSON value (from JSON, TOML, the API or a
//! web form) becomes an [`Intervention`], or every problem found, each naming its field.

use super::model::*;
use super::problems::{FieldError, Invalid, Problem, Shape};
use crate::codes::{CountryCode, IatiIdentifier, parse_iso_date};
use crate::indicator::POPULATION_GROUPS;
use crate::money::{CurrencyCode, parse_amount};
use crate::period::Period;
use crate::strategy::Strategy;
use serde_json::{Map, Value};
use time::Date;

/// What the parser checks against: the strategies (lines of effort, instruments) and the
/// departments Senda knows (`senda_stats::countries::canonical_admin1` in the CLI and the web:
/// the canonical ISO 3166-2 code of a department of a country, or `None`).
pub struct Context<'a> {
    /// The strategies a record may name.
    pub strategies: Vec<&'a Strategy>,
    /// The canonical code of department `code` of `country`, if it is one.
    pub admin1: fn(CountryCode, &str) -> Option<String>,
}

/// Active ISO 4217 codes (the IATI Currency codelist, withdrawn codes left out).
pub const ISO_4217: &[&str] = &[
    "AED", "AFN", "ALL", "AMD", "ANG", "AOA", "ARS", "AUD", "AWG", "AZN", "BAM", "BBD", "BDT", "BGN", "BHD", "BIF",
    "BMD", "BND", "BOB", "BOV", "BRL", "BSD", "BTN", "BWP", "BYN", "BZD", "CAD", "CDF", "CHF", "CLF", "CLP", "CNY",
    "COP", "COU", "CRC", "CUC", "CUP", "CVE", "CZK", "DJF", "DKK", "DOP", "DZD", "EGP", "ERN", "ETB", "EUR", "FJD",
    "FKP", "GBP", "GEL", "GHS", "GIP", "GMD", "GNF", "GTQ", "GYD", "HKD", "HNL", "HRK", "HTG", "HUF", "IDR", "ILS",
    "INR", "IQD", "IRR", "ISK", "JMD", "JOD", "JPY", "KES", "KGS", "KHR", "KMF", "KPW", "KRW", "KWD", "KYD", "KZT",
    "LAK", "LBP", "LKR", "LRD", "LSL", "LYD", "MAD", "MDL", "MGA", "MKD", "MMK", "MNT", "MOP", "MRU", "MUR", "MVR",
    "MWK", "MXN", "MXV", "MYR", "MZN", "NAD", "NGN", "NIO", "NOK", "NPR", "NZD", "OMR", "PAB", "PEN", "PGK", "PHP",
    "PKR", "PLN", "PYG", "QAR", "RON", "RSD", "RUB", "RWF", "SAR", "SBD", "SCR", "SDG", "SEK", "SGD", "SHP", "SLE",
    "SLL", "SOS", "SRD", "SSP", "STN", "SVC", "SYP", "SZL", "THB", "TJS", "TMT", "TND", "TOP", "TRY", "TTD", "TWD",
    "TZS", "UAH", "UGX", "USD", "USN", "UYI", "UYU", "UZS", "VED", "VES", "VND", "VUV", "WST", "XAF", "XBT", "XCD",
    "XDR", "XOF", "XPF", "YER", "ZAR", "ZMW", "ZWL",
];

/// Longest short text (names, titles, reasons, programme), characters.
pub const MAX_SHORT: usize = 500;
/// Longest long text (descriptions, the diplomatic ask, notes), characters.
pub const MAX_LONG: usize = 20_000;
/// Longest list.
pub const MAX_ITEMS: usize = 1_000;

/// Parses a record written as JSON (a file, an API body). See [`parse_value`].
pub fn parse_json(text: &str, ctx: &Context<'_>) -> Result<Intervention, Invalid> {
    let v: Value = serde_json::from_str(text)
        .map_err(|e| Invalid(vec![FieldError::new("(record)", Problem::Syntax(format!("not JSON: {e}")))]))?;
    parse_value(&v, ctx)
}

/// Parses a record written as TOML (a file). Dates may be TOML dates or strings. See
/// [`parse_value`].
pub fn parse_toml(text: &str, ctx: &Context<'_>) -> Result<Intervention, Invalid> {
    let t: toml::Table = toml::from_str(text)
        .map_err(|e| Invalid(vec![FieldError::new("(record)", Problem::Syntax(format!("not TOML: {e}")))]))?;
    parse_value(&toml_to_json(toml::Value::Table(t)), ctx)
}

fn toml_to_json(v: toml::Value) -> Value {
    match v {
        toml::Value::String(s) => Value::String(s),
        toml::Value::Integer(i) => Value::from(i),
        // Kept as a float so that the checker refuses it as an unquoted decimal.
        toml::Value::Float(f) => serde_json::Number::from_f64(f).map_or(Value::Null, Value::Number),
        toml::Value::Boolean(b) => Value::Bool(b),
        toml::Value::Datetime(d) => Value::String(d.to_string()),
        toml::Value::Array(a) => Value::Array(a.into_iter().map(toml_to_json).collect()),
        toml::Value::Table(t) => Value::Object(t.into_iter().map(|(k, v)| (k, toml_to_json(v))).collect()),
    }
}

/// **The check every way in uses**: a record given as a JSON value (from JSON, TOML or a form)
/// becomes an [`Intervention`], or every problem found, each naming its field.
pub fn parse_value(v: &Value, ctx: &Context<'_>) -> Result<Intervention, Invalid> {
    let mut p = Checker { errors: Vec::new() };
    let out = p.intervention(v, ctx);
    match out {
        Some(i) if p.errors.is_empty() => Ok(i),
        _ => {
            if p.errors.is_empty() {
                p.errors.push(FieldError::new("(record)", Problem::Missing));
            }
            Err(Invalid(p.errors))
        }
    }
}

const TOP_FIELDS: &[&str] = &[
    "strategy",
    "organisation",
    "implementing_partners",
    "lines_of_effort",
    "instrument",
    "sector",
    "title",
    "description",
    "countries",
    "departments",
    "start",
    "end",
    "population_groups",
    "status",
    "money",
    "not_for_publication",
    "diplomacy",
    "foreign_assistance",
    "public_messaging",
    "immigration_initiatives",
];

struct Checker {
    errors: Vec<FieldError>,
}

fn at(path: &str, key: &str) -> String {
    if path.is_empty() { key.to_owned() } else { format!("{path}.{key}") }
}

impl Checker {
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

    /// Text at `field`: trimmed, non-empty, bounded, no control characters but line breaks and
    /// tabs. `None` (with an error) when not acceptable; absent and optional: `None` silently.
    fn text_value(&mut self, v: &Value, field: &str, max: usize) -> Option<String> {
        let Some(s) = v.as_str() else {
            self.err(field, Problem::WrongType(Shape::Text));
            return None;
        };
        let s = s.trim();
        if s.is_empty() {
            self.err(field, Problem::Empty);
            return None;
        }
        if s.chars().count() > max {
            self.err(field, Problem::TooLong(max));
            return None;
        }
        if s.chars().any(|c| c.is_control() && c != '\n' && c != '\t' && c != '\r') {
            self.err(field, Problem::Control);
            return None;
        }
        Some(s.to_owned())
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

    fn list<'v>(
        &mut self,
        m: &'v Map<String, Value>,
        path: &str,
        key: &str,
        required: bool,
    ) -> Vec<(String, &'v Value)> {
        let field = at(path, key);
        match m.get(key) {
            None | Some(Value::Null) => {
                if required {
                    self.err(field, Problem::Missing);
                }
                Vec::new()
            }
            Some(Value::Array(a)) => {
                if a.is_empty() && required {
                    self.err(field.clone(), Problem::Empty);
                }
                if a.len() > MAX_ITEMS {
                    self.err(field, Problem::TooMany(MAX_ITEMS));
                    return Vec::new();
                }
                a.iter().enumerate().map(|(i, v)| (format!("{field}[{i}]"), v)).collect()
            }
            Some(_) => {
                self.err(field, Problem::WrongType(Shape::List));
                Vec::new()
            }
        }
    }

    /// A list of short texts, each unique.
    fn texts(&mut self, m: &Map<String, Value>, path: &str, key: &str, required: bool) -> Vec<String> {
        let mut out: Vec<String> = Vec::new();
        for (f, v) in self.list(m, path, key, required) {
            if let Some(s) = self.text_value(v, &f, MAX_SHORT) {
                if out.contains(&s) {
                    self.err(f, Problem::Duplicate(s));
                } else {
                    out.push(s);
                }
            }
        }
        out
    }

    fn word<T: Copy>(
        &mut self,
        m: &Map<String, Value>,
        path: &str,
        key: &str,
        parse: fn(&str) -> Option<T>,
        words: Vec<String>,
    ) -> Option<T> {
        let field = at(path, key);
        let s = self.text(m, path, key, MAX_SHORT, true)?;
        let v = parse(&s);
        if v.is_none() {
            self.err(field, Problem::NotOneOf { value: s, allowed: words });
        }
        v
    }

    fn date(&mut self, m: &Map<String, Value>, path: &str, key: &str, required: bool) -> Option<Date> {
        let s = self.text(m, path, key, 40, required)?;
        match parse_iso_date(&s) {
            Ok(d) => Some(d),
            Err(_) => {
                self.err(at(path, key), Problem::Date(s));
                None
            }
        }
    }

    fn country_value(&mut self, v: &Value, field: &str) -> Option<CountryCode> {
        let s = self.text_value(v, field, 10)?;
        match CountryCode::parse(&s) {
            Ok(c) => Some(c),
            Err(_) => {
                self.err(field, Problem::Country(s));
                None
            }
        }
    }

    fn period(&mut self, m: &Map<String, Value>, path: &str) -> Option<Period> {
        let s = self.text(m, path, "period", 20, true)?;
        match Period::parse(&s) {
            Ok(p) => Some(p),
            Err(_) => {
                self.err(at(path, "period"), Problem::Period(s));
                None
            }
        }
    }

    /// A count: a whole number (JSON integer, or text of digits), not negative.
    fn count(&mut self, m: &Map<String, Value>, path: &str, key: &str) -> Option<u64> {
        let field = at(path, key);
        match m.get(key) {
            None | Some(Value::Null) => None,
            Some(Value::Number(n)) => {
                if let Some(u) = n.as_u64() {
                    Some(u)
                } else if n.as_i64().is_some_and(|i| i < 0) || n.as_f64().is_some_and(|f| f < 0.0) {
                    self.err(field, Problem::Negative(n.to_string()));
                    None
                } else {
                    self.err(field, Problem::NotWholeNumber(n.to_string()));
                    None
                }
            }
            Some(Value::String(s)) => {
                let t = s.trim();
                if let Some(rest) = t.strip_prefix('-')
                    && !rest.is_empty()
                    && rest.bytes().all(|b| b.is_ascii_digit())
                {
                    self.err(field, Problem::Negative(t.to_owned()));
                    return None;
                }
                match t.parse::<u64>() {
                    Ok(u) if t.bytes().all(|b| b.is_ascii_digit()) => Some(u),
                    _ => {
                        self.err(field, Problem::NotWholeNumber(s.clone()));
                        None
                    }
                }
            }
            Some(_) => {
                self.err(field, Problem::WrongType(Shape::WholeNumber));
                None
            }
        }
    }

    /// A department code of one of `countries`; `country` when the entry names one.
    fn department(&mut self, v: &Value, field: &str, countries: &[CountryCode], ctx: &Context<'_>) -> Option<String> {
        let s = self.text_value(v, field, 20)?;
        let prefix = s.split('-').next().unwrap_or_default();
        let Ok(cc) = CountryCode::parse(prefix) else {
            self.err(field, Problem::Department(s));
            return None;
        };
        if !countries.contains(&cc) {
            self.err(field, Problem::DepartmentOutside(s));
            return None;
        }
        match (ctx.admin1)(cc, &s) {
            Some(code) => Some(code),
            None => {
                self.err(field, Problem::Department(s));
                None
            }
        }
    }

    fn bilingual(&mut self, m: &Map<String, Value>, key: &str, max: usize, required: bool) -> Bilingual {
        match m.get(key) {
            None | Some(Value::Null) => {
                if required {
                    self.err(key, Problem::Missing);
                }
                Bilingual::default()
            }
            Some(v) => {
                let Some(o) = self.object(v, key, &["en", "es"]) else { return Bilingual::default() };
                let b = Bilingual { en: self.text(o, key, "en", max, false), es: self.text(o, key, "es", max, false) };
                if required && b.en.is_none() && b.es.is_none() && !o.contains_key("en") && !o.contains_key("es") {
                    self.err(key, Problem::NoLanguage);
                }
                b
            }
        }
    }

    fn money(&mut self, v: &Value, field: &str) -> Option<MoneyEntry> {
        let m = self.object(v, field, &["kind", "amount", "currency", "date"])?;
        let kind = self.word(m, field, "kind", MoneyKind::parse, MoneyKind::words());
        let amount_field = at(field, "amount");
        let amount = match m.get("amount") {
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
        let amount = amount.and_then(|raw| match parse_amount(&raw) {
            Ok(d) if d.is_sign_negative() && !d.is_zero() => {
                self.err(amount_field.clone(), Problem::AmountNegative(raw));
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
        let currency = self.text(m, field, "currency", 10, true).and_then(|s| {
            let up = s.to_ascii_uppercase();
            match CurrencyCode::parse(&up) {
                Ok(c) if ISO_4217.binary_search(&c.as_str()).is_ok() => Some(c),
                _ => {
                    self.err(at(field, "currency"), Problem::Currency(s));
                    None
                }
            }
        });
        let date = self.date(m, field, "date", true);
        Some(MoneyEntry { kind: kind?, amount: amount?, currency: currency?, date: date? })
    }

    fn intervention(&mut self, v: &Value, ctx: &Context<'_>) -> Option<Intervention> {
        let m = self.object(v, "", TOP_FIELDS)?;
        // Strategy: its lines of effort and instruments.
        let strategy_id =
            self.text(m, "", "strategy", 100, false).unwrap_or_else(|| crate::strategy::DEFAULT_STRATEGY.to_owned());
        let strategy = ctx.strategies.iter().copied().find(|s| s.id == strategy_id);
        if strategy.is_none() {
            let allowed = ctx.strategies.iter().map(|s| s.id.clone()).collect();
            self.err("strategy", Problem::NotOneOf { value: strategy_id.clone(), allowed });
        }
        let organisation = match m.get("organisation") {
            None | Some(Value::Null) => {
                self.err("organisation", Problem::Missing);
                None
            }
            Some(Value::Number(n)) => match n.as_i64().filter(|i| *i > 0) {
                Some(i) => Some(i),
                None => {
                    self.err("organisation", Problem::NotWholeNumber(n.to_string()));
                    None
                }
            },
            Some(Value::String(s)) => match s.trim().parse::<i64>().ok().filter(|i| *i > 0) {
                Some(i) => Some(i),
                None => {
                    self.err("organisation", Problem::NotWholeNumber(s.clone()));
                    None
                }
            },
            Some(_) => {
                self.err("organisation", Problem::WrongType(Shape::WholeNumber));
                None
            }
        };
        let implementing_partners = self.texts(m, "", "implementing_partners", false);

        let mut lines: Vec<LineChoice> = Vec::new();
        for (f, lv) in self.list(m, "", "lines_of_effort", true) {
            let Some(o) = self.object(lv, &f, &["line_of_effort", "reason"]) else { continue };
            let id = self.text(o, &f, "line_of_effort", 20, true).and_then(|id| {
                let s = strategy?;
                match s.lines_of_effort.iter().find(|l| l.id.eq_ignore_ascii_case(&id)) {
                    Some(l) => Some(l.id.clone()),
                    None => {
                        let allowed = s.lines_of_effort.iter().map(|l| l.id.clone()).collect();
                        self.err(at(&f, "line_of_effort"), Problem::NotOneOf { value: id, allowed });
                        None
                    }
                }
            });
            let reason = self.text(o, &f, "reason", MAX_LONG, true);
            let (Some(id), Some(reason)) = (id, reason) else { continue };
            if lines.iter().any(|l| l.line_of_effort == id) {
                self.err(at(&f, "line_of_effort"), Problem::Duplicate(id));
                continue;
            }
            lines.push(LineChoice { line_of_effort: id, reason });
        }

        let instrument = self.word(m, "", "instrument", Instrument::parse, Instrument::words());
        if let (Some(i), Some(s)) = (instrument, strategy)
            && !s.instruments.is_empty()
            && !s.instruments.iter().any(|x| x.id == i.as_str())
        {
            let allowed = s.instruments.iter().map(|x| x.id.clone()).collect();
            self.err("instrument", Problem::NotOneOf { value: i.as_str().to_owned(), allowed });
        }
        let sector = self.text(m, "", "sector", 200, false);
        let title = self.bilingual(m, "title", MAX_SHORT, true);
        let description = self.bilingual(m, "description", MAX_LONG, false);

        let mut countries: Vec<CountryCode> = Vec::new();
        for (f, cv) in self.list(m, "", "countries", true) {
            if let Some(c) = self.country_value(cv, &f) {
                if countries.contains(&c) {
                    self.err(f, Problem::Duplicate(c.to_string()));
                } else {
                    countries.push(c);
                }
            }
        }
        let mut departments: Vec<String> = Vec::new();
        for (f, dv) in self.list(m, "", "departments", false) {
            if let Some(d) = self.department(dv, &f, &countries, ctx) {
                if departments.contains(&d) {
                    self.err(f, Problem::Duplicate(d));
                } else {
                    departments.push(d);
                }
            }
        }

        let start = self.date(m, "", "start", true);
        let end = self.date(m, "", "end", false);
        if let (Some(s), Some(e)) = (start, end)
            && e < s
        {
            self.err("end", Problem::EndBeforeStart);
        }

        let mut population_groups: Vec<String> = Vec::new();
        for (f, gv) in self.list(m, "", "population_groups", false) {
            let Some(g) = self.text_value(gv, &f, 100) else { continue };
            let g = g.to_ascii_lowercase();
            if !POPULATION_GROUPS.contains(&g.as_str()) {
                let allowed = POPULATION_GROUPS.iter().map(|s| (*s).to_owned()).collect();
                self.err(f, Problem::NotOneOf { value: g, allowed });
            } else if population_groups.contains(&g) {
                self.err(f, Problem::Duplicate(g));
            } else {
                population_groups.push(g);
            }
        }
        let status = self.word(m, "", "status", Status::parse, Status::words());

        let mut money = Vec::new();
        let money_items = self.list(m, "", "money", false);
        if instrument == Some(Instrument::ForeignAssistance) && !money_items.is_empty() {
            self.err("money", Problem::MoneyFromIati);
        } else {
            for (f, mv) in money_items {
                if let Some(e) = self.money(mv, &f) {
                    money.push(e);
                }
            }
        }

        let mut not_for_publication: Vec<Restricted> = Vec::new();
        for (f, rv) in self.list(m, "", "not_for_publication", false) {
            let Some(s) = self.text_value(rv, &f, 100) else { continue };
            match Restricted::parse(&s) {
                None => self.err(f, Problem::NotOneOf { value: s, allowed: Restricted::words() }),
                Some(r) if not_for_publication.contains(&r) => self.err(f, Problem::Duplicate(s)),
                Some(r) => match instrument {
                    Some(i) if !r.applies_to(i) => self.err(f, Problem::OtherInstrument(i.as_str().to_owned())),
                    _ => not_for_publication.push(r),
                },
            }
        }

        // The instrument's section: present for the instrument chosen, absent for the others.
        let mut details = None;
        for other in Instrument::ALL {
            let key = other.as_str();
            let Some(section) = m.get(key) else { continue };
            match instrument {
                Some(i) if i == *other => details = self.details(i, section, &countries, ctx),
                Some(i) => self.err(key, Problem::OtherInstrument(i.as_str().to_owned())),
                None => {}
            }
        }
        if let Some(i) = instrument
            && !m.contains_key(i.as_str())
        {
            self.err(i.as_str(), Problem::Missing);
        }

        Some(Intervention {
            strategy: strategy?.id.clone(),
            organisation: organisation?,
            implementing_partners,
            lines_of_effort: lines,
            instrument: instrument?,
            sector,
            title,
            description,
            countries,
            departments,
            start: start?,
            end,
            population_groups,
            status: status?,
            money,
            not_for_publication,
            details: details?,
        })
    }

    fn details(&mut self, i: Instrument, v: &Value, countries: &[CountryCode], ctx: &Context<'_>) -> Option<Details> {
        let path = i.as_str();
        match i {
            Instrument::ForeignAssistance => {
                let m = self.object(v, path, &["iati_identifier"])?;
                let raw = self.text(m, path, "iati_identifier", 2000, true)?;
                match IatiIdentifier::parse(&raw) {
                    Ok(id) => Some(Details::ForeignAssistance(AssistanceLink { iati_identifier: id })),
                    Err(_) => {
                        self.err(at(path, "iati_identifier"), Problem::Identifier(raw));
                        None
                    }
                }
            }
            Instrument::Diplomacy => {
                let m = self.object(v, path, &["counterpart", "counterpart_kind", "ask", "history"])?;
                let counterpart = self.text(m, path, "counterpart", MAX_SHORT, true);
                let kind = self.word(m, path, "counterpart_kind", CounterpartKind::parse, CounterpartKind::words());
                let ask = self.text(m, path, "ask", MAX_LONG, true);
                let mut history: Vec<CommitmentEvent> = Vec::new();
                let mut ordered = true;
                for (f, hv) in self.list(m, path, "history", true) {
                    let Some(o) = self.object(hv, &f, &["date", "status", "note"]) else { continue };
                    let date = self.date(o, &f, "date", true);
                    let status = self.word(o, &f, "status", CommitmentStatus::parse, CommitmentStatus::words());
                    let note = self.text(o, &f, "note", MAX_LONG, false);
                    if let (Some(date), Some(status)) = (date, status) {
                        if history.last().is_some_and(|l| l.date > date) && ordered {
                            ordered = false;
                            self.err(at(&f, "date"), Problem::HistoryOrder);
                        }
                        history.push(CommitmentEvent { date, status, note });
                    }
                }
                Some(Details::Diplomacy(Diplomacy {
                    counterpart: counterpart?,
                    counterpart_kind: kind?,
                    ask: ask?,
                    history,
                }))
            }
            Instrument::PublicMessaging => {
                let m = self.object(v, path, &["channels", "languages", "audiences", "reach"])?;
                let channels = self.texts(m, path, "channels", true);
                let languages = self.texts(m, path, "languages", true);
                let audiences = self.texts(m, path, "audiences", true);
                let mut reach = Vec::new();
                for (f, rv) in self.list(m, path, "reach", false) {
                    let Some(o) =
                        self.object(rv, &f, &["period", "country", "department", "people_reached", "impressions"])
                    else {
                        continue;
                    };
                    let period = self.period(o, &f);
                    let (country, department) = self.place(o, &f, countries, ctx);
                    let people_reached = self.count(o, &f, "people_reached");
                    let impressions = self.count(o, &f, "impressions");
                    if let (Some(period), Some(country)) = (period, country) {
                        reach.push(Reach { period, country, department, people_reached, impressions });
                    }
                }
                Some(Details::PublicMessaging(Messaging { channels, languages, audiences, reach }))
            }
            Instrument::ImmigrationInitiatives => {
                let m = self.object(v, path, &["programme", "figures"])?;
                let programme = self.text(m, path, "programme", MAX_SHORT, true);
                let mut figures = Vec::new();
                for (f, fv) in self.list(m, path, "figures", false) {
                    let Some(o) = self.object(fv, &f, &["period", "country", "applications", "approvals", "arrivals"])
                    else {
                        continue;
                    };
                    let period = self.period(o, &f);
                    let country = self.place_country(o, &f, countries);
                    let applications = self.count(o, &f, "applications");
                    let approvals = self.count(o, &f, "approvals");
                    let arrivals = self.count(o, &f, "arrivals");
                    if let (Some(period), Some(country)) = (period, country) {
                        figures.push(PathwayFigures { period, country, applications, approvals, arrivals });
                    }
                }
                Some(Details::ImmigrationInitiatives(Pathway { programme: programme?, figures }))
            }
        }
    }

    /// The `country` of a per-period entry: one of the intervention's countries.
    fn place_country(&mut self, o: &Map<String, Value>, f: &str, countries: &[CountryCode]) -> Option<CountryCode> {
        let field = at(f, "country");
        let Some(v) = o.get("country") else {
            self.err(field, Problem::Missing);
            return None;
        };
        let c = self.country_value(v, &field)?;
        if !countries.contains(&c) {
            self.err(field, Problem::CountryOutside(c.to_string()));
            return None;
        }
        Some(c)
    }

    /// The `country` and optional `department` of a per-period entry.
    fn place(
        &mut self,
        o: &Map<String, Value>,
        f: &str,
        countries: &[CountryCode],
        ctx: &Context<'_>,
    ) -> (Option<CountryCode>, Option<String>) {
        let country = self.place_country(o, f, countries);
        let department = match (o.get("department"), country) {
            (None | Some(Value::Null), _) => None,
            (Some(v), Some(c)) => self.department(v, &at(f, "department"), &[c], ctx),
            (Some(_), None) => None,
        };
        (country, department)
    }
}
