//! Nothing published is lost (issue 20 item 9): every element, attribute and text of the IATI
//! 2.03 schema's own example activities (`../shared/data/schema/2.03-tests/should-pass/`, read
//! from there) is found again in the stored activity, on every backend: in a modelled field or
//! among the kept (unmodelled) elements.
//!
//! Method, written without Senda's reader: quick-xml walks each example and lists what it
//! publishes as `(path, item, value)`: `#element` for each element, `@name` for each attribute
//! with a non-blank value, `#text` for non-blank text (paths without positions, e.g.
//! `iati-activity/result/indicator/baseline`). The stored activity is listed the same way: its
//! modelled fields by [`modelled`] (what each field of `senda_core::Activity` stands for), its
//! kept elements by their recorded parent path, name, attributes and text. Every published item
//! must be matched by one stored item (a multiset: an element published twice is found twice).
//! The examples' identifiers are empty; each copy written to the test's folder gets one.

use super::*;
use quick_xml::Reader;
use quick_xml::events::Event;
use rust_decimal::Decimal;
use senda_core::Activity;
use senda_core::activity::Narrative;
use std::collections::BTreeMap;
use std::path::PathBuf;

/// One published (or stored) item: path without positions, item, normalised value.
type Item = (String, String, String);

fn examples() -> Vec<PathBuf> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/data/schema/2.03-tests/should-pass");
    let mut out = Vec::new();
    let mut stack = vec![root.clone()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).unwrap_or_else(|e| panic!("{}: {e}", d.display())) {
            let p = e.expect("entry").path();
            if p.is_dir() {
                stack.push(p);
            } else if p.extension().is_some_and(|x| x == "xml") {
                out.push(p);
            }
        }
    }
    out.sort();
    assert!(out.len() >= 40, "the schema's should-pass examples under {}", root.display());
    out
}

/// A value as the model keeps it: numbers (amounts, percentages) by value, booleans as
/// `true`/`false`, dates as their first ten characters, everything else trimmed.
fn norm(item: &str, value: &str) -> String {
    let v = value.trim();
    match item {
        "@percentage" | "#amount" => match v.parse::<Decimal>() {
            Ok(d) => d.normalize().to_string(),
            Err(_) => v.to_owned(),
        },
        "@humanitarian" | "@ascending" => match v {
            "1" | "true" => "true".into(),
            "0" | "false" => "false".into(),
            _ => v.to_owned(),
        },
        "@iso-date" | "@value-date" => v.get(..10).unwrap_or(v).to_owned(),
        "@xml:lang" => v.to_ascii_lowercase(),
        _ => v.to_owned(),
    }
}

/// What the example publishes inside its `iati-activity`.
fn published(xml: &str) -> Vec<Item> {
    let mut r = Reader::from_str(xml);
    let mut path: Vec<String> = Vec::new();
    let mut texts: Vec<String> = Vec::new();
    let mut out = Vec::new();
    let mut inside = false;
    let open =
        |e: &quick_xml::events::BytesStart<'_>, path: &mut Vec<String>, out: &mut Vec<Item>, inside: &mut bool| {
            let name = String::from_utf8_lossy(e.name().as_ref()).into_owned();
            if name == "iati-activity" {
                *inside = true;
            }
            path.push(name);
            if !*inside {
                return;
            }
            let p = path[path.iter().position(|n| n == "iati-activity").unwrap_or(0)..].join("/");
            out.push((p.clone(), "#element".into(), String::new()));
            for a in e.attributes() {
                let a = a.expect("attribute");
                let k = String::from_utf8_lossy(a.key.as_ref()).into_owned();
                let v = a.unescape_value().expect("value").into_owned();
                if k == "xmlns" || k.starts_with("xmlns:") || v.trim().is_empty() {
                    continue;
                }
                let item = format!("@{k}");
                out.push((p.clone(), item.clone(), norm(&item, &v)));
            }
        };
    loop {
        match r.read_event().expect("the example is well-formed") {
            Event::Start(e) => {
                open(&e, &mut path, &mut out, &mut inside);
                texts.push(String::new());
            }
            Event::Empty(e) => {
                open(&e, &mut path, &mut out, &mut inside);
                path.pop();
            }
            Event::Text(t) => {
                if let Some(s) = texts.last_mut() {
                    s.push_str(&t.decode().expect("text"));
                }
            }
            Event::GeneralRef(g) => {
                if let Some(s) = texts.last_mut() {
                    let name = String::from_utf8_lossy(&g).into_owned();
                    s.push_str(quick_xml::escape::resolve_predefined_entity(&name).unwrap_or(""));
                }
            }
            Event::End(_) => {
                let t = texts.pop().unwrap_or_default();
                if inside && !t.trim().is_empty() {
                    let p = path[path.iter().position(|n| n == "iati-activity").unwrap_or(0)..].join("/");
                    let item = if p.ends_with("/value") { "#amount" } else { "#text" };
                    out.push((p, item.into(), norm(item, &t)));
                }
                if path.pop().as_deref() == Some("iati-activity") {
                    inside = false;
                }
            }
            Event::Eof => break,
            _ => {}
        }
    }
    out
}

/// Adds `(path, item, value)` when the value is present and not blank.
fn put(out: &mut Vec<Item>, path: &str, item: &str, value: Option<&str>) {
    if let Some(v) = value.filter(|v| !v.trim().is_empty()) {
        out.push((path.to_owned(), item.to_owned(), norm(item, v)));
    }
}

fn element(out: &mut Vec<Item>, path: &str) {
    out.push((path.to_owned(), "#element".into(), String::new()));
}

fn narratives(out: &mut Vec<Item>, path: &str, ns: &[Narrative]) {
    let p = format!("{path}/narrative");
    for n in ns {
        element(out, &p);
        put(out, &p, "#text", Some(&n.text));
        put(out, &p, "@xml:lang", n.lang.as_deref());
    }
}

fn org(out: &mut Vec<Item>, path: &str, o: &senda_core::OrgRef) {
    element(out, path);
    put(out, path, "@ref", o.r#ref.as_deref());
    put(out, path, "@type", o.org_type.as_deref());
    narratives(out, path, &o.names);
}

fn date(out: &mut Vec<Item>, path: &str, d: Option<time::Date>) {
    if let Some(d) = d {
        element(out, path);
        put(out, path, "@iso-date", Some(&d.to_string()));
    }
}

fn money(out: &mut Vec<Item>, path: &str, m: Option<&senda_core::Money>) {
    if let Some(m) = m {
        element(out, path);
        put(out, path, "#amount", Some(&m.amount.to_string()));
        put(out, path, "@currency", Some(m.currency.as_str()));
        put(out, path, "@value-date", m.value_date.map(|d| d.to_string()).as_deref());
    }
}

fn sector(out: &mut Vec<Item>, path: &str, s: &senda_core::Sector) {
    element(out, path);
    put(out, path, "@vocabulary", Some(&s.vocabulary));
    put(out, path, "@code", Some(&s.code));
    put(out, path, "@percentage", s.percentage.map(|p| p.value().to_string()).as_deref());
    if let Some(n) = &s.name {
        element(out, &format!("{path}/narrative"));
        put(out, &format!("{path}/narrative"), "#text", Some(n));
    }
}

fn indicator_value(out: &mut Vec<Item>, path: &str, v: &senda_core::IndicatorValue) {
    element(out, path);
    put(out, path, "@value", v.value.as_deref());
    put(out, path, "@year", v.year.map(|y| y.to_string()).as_deref());
    put(out, path, "@iso-date", v.date.map(|d| d.to_string()).as_deref());
    if !v.comment.is_empty() {
        element(out, &format!("{path}/comment"));
        narratives(out, &format!("{path}/comment"), &v.comment);
    }
}

/// What the modelled fields of `a` stand for, as published items (what each field's doc
/// comment in `senda_core::activity` names).
fn modelled(a: &Activity) -> Vec<Item> {
    let mut o = Vec::new();
    let out = &mut o;
    let act = "iati-activity";
    element(out, act);
    put(out, act, "@default-currency", a.default_currency.as_ref().map(|c| c.as_str()));
    put(out, act, "@xml:lang", a.default_language.as_deref());
    put(out, act, "@last-updated-datetime", a.last_updated.as_deref());
    put(out, act, "@hierarchy", a.hierarchy.map(|h| h.to_string()).as_deref());
    put(out, act, "@humanitarian", a.humanitarian.map(|h| h.to_string()).as_deref());
    element(out, "iati-activity/iati-identifier");
    put(out, "iati-activity/iati-identifier", "#text", Some(a.iati_identifier.as_str()));
    if a.reporting_org != senda_core::OrgRef::default() {
        org(out, "iati-activity/reporting-org", &a.reporting_org);
    }
    for p in &a.participating_orgs {
        let path = "iati-activity/participating-org";
        org(out, path, &p.org);
        put(out, path, "@role", p.role.as_deref());
        put(out, path, "@activity-id", p.activity_id.as_deref());
    }
    if !a.title.is_empty() {
        element(out, "iati-activity/title");
        narratives(out, "iati-activity/title", &a.title);
    }
    for d in &a.descriptions {
        element(out, "iati-activity/description");
        put(out, "iati-activity/description", "@type", d.description_type.as_deref());
        narratives(out, "iati-activity/description", &d.narratives);
    }
    if let Some(s) = &a.status {
        element(out, "iati-activity/activity-status");
        put(out, "iati-activity/activity-status", "@code", Some(s));
    }
    if let Some(s) = &a.scope {
        element(out, "iati-activity/activity-scope");
        put(out, "iati-activity/activity-scope", "@code", Some(s));
    }
    for d in &a.dates {
        date(out, "iati-activity/activity-date", Some(d.date));
        put(out, "iati-activity/activity-date", "@type", Some(&d.date_type));
    }
    let countries = |out: &mut Vec<Item>, path: &str, cs: &[senda_core::RecipientCountry]| {
        for c in cs {
            element(out, path);
            put(out, path, "@code", Some(c.code.as_str()));
            put(out, path, "@percentage", c.percentage.map(|p| p.value().to_string()).as_deref());
        }
    };
    let regions = |out: &mut Vec<Item>, path: &str, rs: &[senda_core::RecipientRegion]| {
        for r in rs {
            element(out, path);
            put(out, path, "@code", Some(&r.code));
            put(out, path, "@vocabulary", Some(&r.vocabulary));
            put(out, path, "@percentage", r.percentage.map(|p| p.value().to_string()).as_deref());
        }
    };
    countries(out, "iati-activity/recipient-country", &a.recipient_countries);
    regions(out, "iati-activity/recipient-region", &a.recipient_regions);
    for s in &a.sectors {
        sector(out, "iati-activity/sector", s);
    }
    for t in &a.tags {
        let path = "iati-activity/tag";
        element(out, path);
        put(out, path, "@vocabulary", Some(&t.vocabulary));
        put(out, path, "@code", Some(&t.code));
        if let Some(n) = &t.name {
            element(out, "iati-activity/tag/narrative");
            put(out, "iati-activity/tag/narrative", "#text", Some(n));
        }
    }
    for p in &a.policy_markers {
        let path = "iati-activity/policy-marker";
        element(out, path);
        put(out, path, "@vocabulary", Some(&p.vocabulary));
        put(out, path, "@code", Some(&p.code));
        put(out, path, "@significance", p.significance.map(|s| s.to_string()).as_deref());
    }
    for c in &a.default_aid_types {
        element(out, "iati-activity/default-aid-type");
        put(out, "iati-activity/default-aid-type", "@code", Some(c));
    }
    for (name, v) in [
        ("default-flow-type", &a.default_flow_type),
        ("default-finance-type", &a.default_finance_type),
        ("collaboration-type", &a.collaboration_type),
    ] {
        if let Some(c) = v {
            let path = format!("iati-activity/{name}");
            element(out, &path);
            put(out, &path, "@code", Some(c));
        }
    }
    for b in &a.budgets {
        let path = "iati-activity/budget";
        element(out, path);
        put(out, path, "@type", b.budget_type.as_deref());
        put(out, path, "@status", b.status.as_deref());
        date(out, "iati-activity/budget/period-start", b.period_start);
        date(out, "iati-activity/budget/period-end", b.period_end);
        money(out, "iati-activity/budget/value", b.value.as_ref());
    }
    for l in &a.locations {
        let path = "iati-activity/location";
        element(out, path);
        put(out, path, "@ref", l.r#ref.as_deref());
        if !l.name.is_empty() {
            element(out, "iati-activity/location/name");
            narratives(out, "iati-activity/location/name", &l.name);
        }
        if !l.description.is_empty() {
            element(out, "iati-activity/location/description");
            narratives(out, "iati-activity/location/description", &l.description);
        }
        for ad in &l.administratives {
            let p = "iati-activity/location/administrative";
            element(out, p);
            put(out, p, "@code", Some(&ad.code));
            put(out, p, "@vocabulary", ad.vocabulary.as_deref());
            put(out, p, "@level", ad.level.as_deref());
        }
        if let Some(pt) = &l.point {
            element(out, "iati-activity/location/point");
            element(out, "iati-activity/location/point/pos");
            put(out, "iati-activity/location/point/pos", "#text", Some(&format!("{} {}", pt.lat, pt.lon)));
        }
    }
    for r in &a.related_activities {
        let p = "iati-activity/related-activity";
        element(out, p);
        put(out, p, "@type", Some(&r.relation_type));
        put(out, p, "@ref", Some(&r.r#ref));
    }
    for r in &a.results {
        let p = "iati-activity/result";
        element(out, p);
        put(out, p, "@type", r.result_type.as_deref());
        if !r.title.is_empty() {
            element(out, "iati-activity/result/title");
            narratives(out, "iati-activity/result/title", &r.title);
        }
        for i in &r.indicators {
            let p = "iati-activity/result/indicator";
            element(out, p);
            put(out, p, "@measure", i.measure.as_deref());
            put(out, p, "@ascending", i.ascending.map(|b| b.to_string()).as_deref());
            if !i.title.is_empty() {
                element(out, "iati-activity/result/indicator/title");
                narratives(out, "iati-activity/result/indicator/title", &i.title);
            }
            for b in &i.baselines {
                indicator_value(out, "iati-activity/result/indicator/baseline", b);
            }
            for pe in &i.periods {
                element(out, "iati-activity/result/indicator/period");
                date(out, "iati-activity/result/indicator/period/period-start", pe.start);
                date(out, "iati-activity/result/indicator/period/period-end", pe.end);
                for t in &pe.targets {
                    indicator_value(out, "iati-activity/result/indicator/period/target", t);
                }
                for t in &pe.actuals {
                    indicator_value(out, "iati-activity/result/indicator/period/actual", t);
                }
            }
        }
    }
    for t in &a.transactions {
        let p = "iati-activity/transaction";
        element(out, p);
        put(out, p, "@ref", t.r#ref.as_deref());
        put(out, p, "@humanitarian", t.humanitarian.map(|b| b.to_string()).as_deref());
        if !t.transaction_type.is_empty() {
            element(out, "iati-activity/transaction/transaction-type");
            put(out, "iati-activity/transaction/transaction-type", "@code", Some(&t.transaction_type));
        }
        date(out, "iati-activity/transaction/transaction-date", t.date);
        money(out, "iati-activity/transaction/value", t.value.as_ref());
        if !t.description.is_empty() {
            element(out, "iati-activity/transaction/description");
            narratives(out, "iati-activity/transaction/description", &t.description);
        }
        if let Some(o) = &t.provider_org {
            org(out, "iati-activity/transaction/provider-org", o);
        }
        if let Some(o) = &t.receiver_org {
            org(out, "iati-activity/transaction/receiver-org", o);
        }
        countries(out, "iati-activity/transaction/recipient-country", &t.recipient_countries);
        regions(out, "iati-activity/transaction/recipient-region", &t.recipient_regions);
        for s in &t.sectors {
            sector(out, "iati-activity/transaction/sector", s);
        }
        for c in &t.aid_types {
            element(out, "iati-activity/transaction/aid-type");
            put(out, "iati-activity/transaction/aid-type", "@code", Some(c));
        }
    }
    o
}

/// `iati-activity/result[0]/indicator[1]` → `iati-activity/result/indicator`.
fn without_positions(path: &str) -> String {
    let mut s = String::with_capacity(path.len());
    let mut skip = false;
    for c in path.chars() {
        match c {
            '[' => skip = true,
            ']' => skip = false,
            _ if !skip => s.push(c),
            _ => {}
        }
    }
    s
}

/// The kept (unmodelled) elements and attributes of `a`, as published items.
fn kept(a: &Activity) -> Vec<Item> {
    let mut out = Vec::new();
    for x in &a.extensions {
        let parent = without_positions(&x.parent);
        if let Some(attr) = x.name.strip_prefix('@') {
            let item = format!("@{attr}");
            out.push((parent, item.clone(), norm(&item, &x.value)));
        } else if x.name == "#text" {
            out.push((parent, "#text".into(), norm("#text", &x.value)));
        } else {
            let path = format!("{parent}/{}", x.name);
            element(&mut out, &path);
            for (k, v) in &x.attributes {
                if k.as_str() == "xmlns" || k.starts_with("xmlns:") {
                    continue;
                }
                put(&mut out, &path, &format!("@{k}"), Some(v));
            }
            let item = if path.ends_with("/value") { "#amount" } else { "#text" };
            put(&mut out, &path, item, Some(&x.value));
        }
    }
    out
}

/// The published items of `xml` that `a` does not hold, modelled or kept.
fn missing(xml: &str, a: &Activity) -> Vec<Item> {
    let mut stored: BTreeMap<Item, usize> = BTreeMap::new();
    for i in modelled(a).into_iter().chain(kept(a)) {
        *stored.entry(i).or_default() += 1;
    }
    let mut lost = Vec::new();
    for i in published(xml) {
        match stored.get_mut(&i) {
            Some(n) if *n > 0 => *n -= 1,
            _ => lost.push(i),
        }
    }
    lost
}

#[test]
fn every_element_of_the_schemas_examples_is_found_again_on_every_backend() {
    let dir = data_dir();
    let mut copies: Vec<(String, PathBuf, String)> = Vec::new();
    for (n, p) in examples().iter().enumerate() {
        let xml = std::fs::read_to_string(p).unwrap_or_else(|e| panic!("{}: {e}", p.display()));
        let id = format!("XM-SCHEMA-{n:02}");
        let with_id =
            xml.replacen("<iati-identifier></iati-identifier>", &format!("<iati-identifier>{id}</iati-identifier>"), 1);
        assert_ne!(with_id, xml, "{}: an empty iati-identifier to fill", p.display());
        let name = p.file_name().and_then(|f| f.to_str()).unwrap_or("example.xml");
        let copy = crate::support::write(dir.path(), &format!("{n:02}-{name}"), &with_id);
        copies.push((id, copy, with_id));
    }
    let paths: Vec<PathBuf> = copies.iter().map(|c| c.1.clone()).collect();
    for_each_backend(|b| {
        let mut db = b.db();
        let report = senda::import::import(&mut *db, &paths, false, false).expect("import runs");
        assert_eq!((report.rejected, report.files_rejected), (0, 0), "[{b}] every example activity is imported");
        let mut lost = Vec::new();
        for (id, path, xml) in &copies {
            let d = db.activity(id, STRATEGY).unwrap_or_else(|e| panic!("[{b}] {id}: {e}"));
            for m in missing(xml, &d.activity) {
                lost.push(format!(
                    "{}: {} {} {:?}",
                    path.file_name().unwrap_or_default().to_string_lossy(),
                    m.0,
                    m.1,
                    m.2
                ));
            }
        }
        assert!(lost.is_empty(), "[{b}] {} published items are lost:\n{}", lost.len(), lost.join("\n"));
    });
}

#[test]
fn the_comparison_sees_a_lost_element() {
    // The method itself: an element the stored activity does not hold is reported.
    let xml = "<iati-activities><iati-activity><iati-identifier>XM-1</iati-identifier><contact-info type=\"1\"><email>a@example.org</email></contact-info></iati-activity></iati-activities>";
    let a = Activity::new(senda_core::codes::IatiIdentifier::parse("XM-1").expect("identifier"));
    let lost = missing(xml, &a);
    let items: Vec<String> = lost.iter().map(|i| format!("{} {} {}", i.0, i.1, i.2)).collect();
    assert_eq!(
        items,
        [
            "iati-activity/contact-info #element ",
            "iati-activity/contact-info @type 1",
            "iati-activity/contact-info/email #element ",
            "iati-activity/contact-info/email #text a@example.org",
        ]
    );
}
