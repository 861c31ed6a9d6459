//! The intervention form (issue 18, item 3): one form per instrument sharing the 5W core,
//! working without JavaScript.
//!
//! **Parse once**: a posted form is only turned into the JSON value that
//! `senda_core::intervention::parse_value` checks (the API's input format), never checked here:
//! blank rows are dropped, texts given one per line become lists, numbers stay text (the checker
//! reads `"1,5"` and says why it is not an amount). The form's inputs are named by the same
//! paths as the checker's fields (`money[0].amount`, `public_messaging.reach[1].department`),
//! so every problem is shown next to its input; a problem on a list written as one input
//! (`countries[1]`) is shown next to that input (`countries`). The form is rendered from the
//! same value, so what the person typed is kept when nothing is saved.
//!
//! Repeated rows (lines of effort, money, history, reach, figures) are shown with a few empty
//! rows; the "add rows" button posts the form back to be shown with more, nothing saved.

use maud::{Markup, html};
use senda_core::intervention::{
    CommitmentStatus, CounterpartKind, FieldError, Instrument, Lang, MoneyKind, Restricted, Status,
};
use serde_json::{Map, Value};
use std::collections::BTreeMap;

/// Empty rows shown under the filled ones; the "add rows" button adds this many more.
pub const EMPTY_ROWS: usize = 2;

/// A repeated section of the form: its list's path and its columns.
pub struct Rows {
    /// The list's path (`money`, `diplomacy.history`).
    pub path: &'static str,
    /// The columns (keys of each row).
    pub columns: &'static [&'static str],
}

/// The repeated sections of an instrument's form.
pub fn rows_of(instrument: Instrument) -> Vec<Rows> {
    let mut out = vec![
        Rows { path: "lines_of_effort", columns: &["line_of_effort", "reason"] },
        Rows { path: "money", columns: &["kind", "amount", "currency", "date"] },
    ];
    match instrument {
        Instrument::Diplomacy => out.push(Rows { path: "diplomacy.history", columns: &["date", "status", "note"] }),
        Instrument::PublicMessaging => out.push(Rows {
            path: "public_messaging.reach",
            columns: &["period", "country", "department", "people_reached", "impressions"],
        }),
        Instrument::ImmigrationInitiatives => out.push(Rows {
            path: "immigration_initiatives.figures",
            columns: &["period", "country", "applications", "approvals", "arrivals"],
        }),
        Instrument::ForeignAssistance => {
            out.retain(|r| r.path != "money");
        }
    }
    out
}

/// Texts of the core given one per line (or separated by spaces and commas for codes).
const CORE_LISTS: &[(&str, bool)] = &[("implementing_partners", false), ("countries", true), ("departments", true)];

/// The lists of each instrument's section given one per line.
fn section_lists(instrument: Instrument) -> &'static [&'static str] {
    match instrument {
        Instrument::PublicMessaging => &["channels", "languages", "audiences"],
        _ => &[],
    }
}

/// The plain texts of each instrument's section.
fn section_texts(instrument: Instrument) -> &'static [&'static str] {
    match instrument {
        Instrument::Diplomacy => &["counterpart", "counterpart_kind", "ask"],
        Instrument::ForeignAssistance => &["iati_identifier"],
        Instrument::PublicMessaging => &[],
        Instrument::ImmigrationInitiatives => &["programme"],
    }
}

fn split_list(raw: &str, codes: bool) -> Vec<Value> {
    let parts: Vec<&str> =
        if codes { raw.split([',', ' ', '\n', '\r', '\t', ';']).collect() } else { raw.split(['\n', '\r']).collect() };
    parts.into_iter().map(str::trim).filter(|s| !s.is_empty()).map(|s| Value::String(s.to_owned())).collect()
}

/// What a posted form says besides the record.
#[derive(Debug, Default)]
pub struct Posted {
    /// The record as the checker takes it.
    pub value: Value,
    /// The section whose "add rows" button was pressed, if any (then nothing is saved).
    pub add_rows: Option<String>,
    /// The form's one-time token (new records).
    pub form_token: Option<String>,
    /// The version the edit started from (edits).
    pub version: Option<i64>,
    /// The record as it was when the edit form was opened (JSON), for the conflict page.
    pub base: Option<String>,
}

/// Turns the posted pairs into the checker's value for `instrument` (only shaping, no rule).
pub fn from_pairs(instrument: Instrument, pairs: &[(String, String)]) -> Posted {
    let mut fields: BTreeMap<&str, &str> = BTreeMap::new();
    let mut marked: Vec<Value> = Vec::new();
    let mut groups: Vec<Value> = Vec::new();
    let mut posted = Posted::default();
    for (k, v) in pairs {
        match k.as_str() {
            "not_for_publication" => marked.push(Value::String(v.clone())),
            "population_groups" => groups.push(Value::String(v.clone())),
            "add_rows" => posted.add_rows = Some(v.clone()),
            "form_token" => posted.form_token = Some(v.clone()).filter(|t| !t.is_empty()),
            "version" => posted.version = v.trim().parse().ok(),
            "base" => posted.base = Some(v.clone()).filter(|t| !t.is_empty()),
            _ => {
                fields.insert(k.as_str(), v.as_str());
            }
        }
    }
    let given = |k: &str| fields.get(k).map(|s| s.trim()).filter(|s| !s.is_empty()).map(str::to_owned);
    let mut m = Map::new();
    m.insert("instrument".into(), Value::String(instrument.as_str().into()));
    for key in ["strategy", "organisation", "sector", "start", "end", "status"] {
        if let Some(v) = given(key) {
            m.insert(key.into(), Value::String(v));
        }
    }
    for key in ["title", "description"] {
        let mut b = Map::new();
        for l in ["en", "es"] {
            // Long texts keep their inner line breaks; the checker trims the ends.
            if let Some(v) = fields.get(format!("{key}.{l}").as_str()).filter(|s| !s.trim().is_empty()) {
                b.insert(l.into(), Value::String((*v).to_owned()));
            }
        }
        if !b.is_empty() || key == "title" {
            m.insert(key.into(), Value::Object(b));
        }
    }
    for (key, codes) in CORE_LISTS {
        let list = fields.get(key).map(|s| split_list(s, *codes)).unwrap_or_default();
        if !list.is_empty() || *key == "countries" {
            m.insert((*key).into(), Value::Array(list));
        }
    }
    if !groups.is_empty() {
        m.insert("population_groups".into(), Value::Array(groups));
    }
    if !marked.is_empty() {
        m.insert("not_for_publication".into(), Value::Array(marked));
    }
    let mut section = Map::new();
    for key in section_texts(instrument) {
        let name = format!("{}.{key}", instrument.as_str());
        if let Some(v) = fields.get(name.as_str()).filter(|s| !s.trim().is_empty()) {
            section.insert((*key).into(), Value::String((*v).to_owned()));
        }
    }
    for key in section_lists(instrument) {
        let name = format!("{}.{key}", instrument.as_str());
        section.insert(
            (*key).into(),
            Value::Array(fields.get(name.as_str()).map(|s| split_list(s, false)).unwrap_or_default()),
        );
    }
    for rows in rows_of(instrument) {
        let mut list = Vec::new();
        for i in 0..MAX_ROWS {
            let mut row = Map::new();
            let mut any = false;
            for c in rows.columns {
                let name = format!("{}[{i}].{c}", rows.path);
                if let Some(v) = fields.get(name.as_str()).map(|s| s.trim()).filter(|s| !s.is_empty()) {
                    any = true;
                    row.insert((*c).into(), Value::String(v.to_owned()));
                }
            }
            if any {
                list.push(Value::Object(row));
            }
        }
        match rows.path.split_once('.') {
            Some((_, key)) => {
                section.insert(key.into(), Value::Array(list));
            }
            None if !list.is_empty() || rows.path == "lines_of_effort" => {
                m.insert(rows.path.into(), Value::Array(list));
            }
            None => {}
        }
    }
    m.insert(instrument.as_str().into(), Value::Object(section));
    posted.value = Value::Object(m);
    posted
}

/// Rows read from a form at most, per section (a form with more is cut there: the checker's
/// own limit on lists is higher).
pub const MAX_ROWS: usize = 200;

/// The problems of a form, by input name.
#[derive(Debug, Default)]
pub struct Problems {
    by_input: BTreeMap<String, Vec<String>>,
    /// Every problem, in order: (input name, message).
    pub all: Vec<(String, String)>,
}

impl Problems {
    /// The problems of `errors` in `lang`, each attached to the input that shows it.
    pub fn of(errors: &[FieldError], lang: Lang, instrument: Instrument) -> Self {
        let mut p = Problems::default();
        for e in errors {
            let input = input_of(&e.field, instrument);
            let message = e.message(lang);
            p.by_input.entry(input.clone()).or_default().push(message.clone());
            p.all.push((input, message));
        }
        p
    }

    /// The messages shown next to `input`.
    pub fn at(&self, input: &str) -> &[String] {
        self.by_input.get(input).map_or(&[], Vec::as_slice)
    }

    /// Whether there is none.
    pub fn is_empty(&self) -> bool {
        self.all.is_empty()
    }
}

/// The input showing a problem on `field`: lists written in one input lose their index
/// (`countries[1]` → `countries`); a row's own problem goes to its first column.
fn input_of(field: &str, instrument: Instrument) -> String {
    let lists: Vec<String> = CORE_LISTS
        .iter()
        .map(|(k, _)| (*k).to_owned())
        .chain(["population_groups".to_owned(), "not_for_publication".to_owned()])
        .chain(section_lists(instrument).iter().map(|k| format!("{}.{k}", instrument.as_str())))
        .collect();
    for l in &lists {
        if field == l || field.strip_prefix(l.as_str()).is_some_and(|r| r.starts_with('[')) {
            return l.clone();
        }
    }
    for rows in rows_of(instrument) {
        if let Some(rest) = field.strip_prefix(rows.path).filter(|r| r.starts_with('['))
            && rest.ends_with(']')
        {
            return format!("{field}.{}", rows.columns[0]);
        }
    }
    field.to_owned()
}

/// A value's text at `path` (`a.b`, `a[1].c`) for showing in an input, or "".
pub fn text_at(v: &Value, path: &str) -> String {
    let mut cur = v;
    for part in path.split('.') {
        let (key, index) = match part.split_once('[') {
            Some((k, rest)) => (k, rest.trim_end_matches(']').parse::<usize>().ok()),
            None => (part, None),
        };
        cur = match cur.get(key) {
            Some(x) => x,
            None => return String::new(),
        };
        if let Some(i) = index {
            cur = match cur.get(i) {
                Some(x) => x,
                None => return String::new(),
            };
        }
    }
    match cur {
        Value::String(s) => s.clone(),
        Value::Number(n) => n.to_string(),
        Value::Array(a) => {
            a.iter().map(|x| x.as_str().map_or_else(|| x.to_string(), str::to_owned)).collect::<Vec<_>>().join("\n")
        }
        _ => String::new(),
    }
}

/// How many filled rows `path` holds in `v`.
pub fn row_count(v: &Value, path: &str) -> usize {
    let mut cur = v;
    for part in path.split('.') {
        match cur.get(part) {
            Some(x) => cur = x,
            None => return 0,
        }
    }
    cur.as_array().map_or(0, Vec::len)
}

/// Every leaf of a value as `path → text` (for the conflict page's comparison).
pub fn flatten(v: &Value) -> BTreeMap<String, String> {
    fn walk(v: &Value, path: String, out: &mut BTreeMap<String, String>) {
        match v {
            Value::Object(m) => {
                for (k, x) in m {
                    walk(x, if path.is_empty() { k.clone() } else { format!("{path}.{k}") }, out);
                }
            }
            Value::Array(a) => {
                for (i, x) in a.iter().enumerate() {
                    walk(x, format!("{path}[{i}]"), out);
                }
            }
            Value::String(s) => {
                out.insert(path, s.clone());
            }
            Value::Null => {}
            other => {
                out.insert(path, other.to_string());
            }
        }
    }
    let mut out = BTreeMap::new();
    walk(v, String::new(), &mut out);
    out
}

/// The choices of a select: (value, label in English, label in Spanish).
pub fn choices(name: &str) -> Vec<(String, String)> {
    let words = |w: Vec<String>| w.into_iter().map(|x| (x.clone(), x)).collect::<Vec<_>>();
    match name {
        "status" => words(Status::words()),
        "kind" => words(MoneyKind::words()),
        "counterpart_kind" => words(CounterpartKind::words()),
        "history_status" => words(CommitmentStatus::words()),
        _ => Vec::new(),
    }
}

/// The fields that can be marked not for publication on `instrument`'s form.
pub fn restricted_of(instrument: Instrument) -> Vec<Restricted> {
    Restricted::ALL.iter().copied().filter(|r| r.applies_to(instrument)).collect()
}

/// The messages next to an input, as an accessible list.
pub fn messages(p: &Problems, input: &str, id: &str) -> Markup {
    html! {
        @let list = p.at(input);
        @if !list.is_empty() {
            ul class="field-errors" id=(format!("{id}-error")) role="alert" {
                @for m in list { li { (m) } }
            }
        }
    }
}

/// An input id from its name (`money[0].amount` → `f-money-0-amount`).
pub fn id_of(name: &str) -> String {
    let mut s = String::from("f-");
    for c in name.chars() {
        s.push(if c.is_ascii_alphanumeric() { c } else { '-' });
    }
    while s.ends_with('-') {
        s.pop();
    }
    s.replace("--", "-")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pairs(p: &[(&str, &str)]) -> Vec<(String, String)> {
        p.iter().map(|(a, b)| ((*a).to_owned(), (*b).to_owned())).collect()
    }

    #[test]
    fn a_form_becomes_the_checkers_value() {
        let p = from_pairs(
            Instrument::PublicMessaging,
            &pairs(&[
                ("csrf", "x"),
                ("organisation", "3"),
                ("title.en", "Know before you go"),
                ("title.es", ""),
                ("countries", "HN, GT"),
                ("departments", "HN-CR gt-16"),
                ("population_groups", "returnee"),
                ("lines_of_effort[0].line_of_effort", "LOE7"),
                ("lines_of_effort[0].reason", "campaign"),
                ("lines_of_effort[1].line_of_effort", ""),
                ("money[0].amount", ""),
                ("money[1].amount", "1,5"),
                ("public_messaging.channels", "radio\r\nWhatsApp\r\n"),
                ("public_messaging.reach[1].people_reached", "-3"),
                ("add_rows", "money"),
            ]),
        );
        let v = &p.value;
        assert_eq!(v["countries"], serde_json::json!(["HN", "GT"]));
        assert_eq!(v["departments"], serde_json::json!(["HN-CR", "gt-16"]));
        assert_eq!(v["title"], serde_json::json!({"en": "Know before you go"}));
        assert_eq!(v["lines_of_effort"].as_array().map(Vec::len), Some(1), "blank rows dropped");
        assert_eq!(v["money"], serde_json::json!([{"amount": "1,5"}]), "kept as typed for the checker");
        assert_eq!(v["public_messaging"]["channels"], serde_json::json!(["radio", "WhatsApp"]));
        assert_eq!(v["public_messaging"]["reach"], serde_json::json!([{"people_reached": "-3"}]));
        assert_eq!(p.add_rows.as_deref(), Some("money"));
        assert!(v.get("csrf").is_none());
    }

    #[test]
    fn problems_find_their_input() {
        let i = Instrument::PublicMessaging;
        assert_eq!(input_of("countries[1]", i), "countries");
        assert_eq!(input_of("money[0].amount", i), "money[0].amount");
        assert_eq!(input_of("money[0]", i), "money[0].kind");
        assert_eq!(input_of("public_messaging.channels[2]", i), "public_messaging.channels");
        assert_eq!(input_of("end", i), "end");
        assert_eq!(id_of("money[0].amount"), "f-money-0-amount");
    }
}
