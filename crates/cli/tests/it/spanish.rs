//! Spanish everywhere (issue 21): every page rendered in Spanish shows no word that only the
//! English catalogue uses. The list is made from the catalogues themselves: the words of
//! English values that differ from their Spanish values, less the words the Spanish catalogue
//! also uses (names such as IATI, USAID) and the words of the imported data (titles and
//! names are shown as published, in the language they were published in).

use crate::web::{app, get, runtime, synthetic_db};
use senda_web::i18n::{EN_FTL, ES_FTL};
use std::collections::{BTreeMap, BTreeSet};

/// `key -> value` of a Fluent source (continuation lines joined).
fn values(src: &str) -> BTreeMap<String, String> {
    let mut out: BTreeMap<String, String> = BTreeMap::new();
    let mut last: Option<String> = None;
    for line in src.lines() {
        if line.starts_with('#') || line.trim().is_empty() {
            continue;
        }
        if line.starts_with([' ', '\t']) {
            if let Some(k) = &last {
                out.entry(k.clone()).or_default().push_str(&format!(" {}", line.trim()));
            }
        } else if let Some((k, v)) = line.split_once(" =") {
            last = Some(k.trim().to_owned());
            out.insert(k.trim().to_owned(), v.trim().to_owned());
        }
    }
    out
}

/// The words of a text (letters only), lower case; placeables (`{ $count }`) left out.
fn words(text: &str) -> BTreeSet<String> {
    let mut plain = String::new();
    let mut depth = 0;
    for c in text.chars() {
        match c {
            '{' => depth += 1,
            '}' => depth = (depth as i32 - 1).max(0) as usize,
            _ if depth == 0 => plain.push(c),
            _ => {}
        }
    }
    plain.split(|c: char| !c.is_alphabetic()).filter(|w| w.chars().count() >= 3).map(str::to_lowercase).collect()
}

/// What a reader sees of a page: text between tags and the title, aria-label, alt and
/// placeholder attributes; styles, identifiers in `<code>` and the `lang="en"` link to the
/// English page left out.
pub(crate) fn visible_text(html: &str) -> String {
    let mut out = String::new();
    let mut rest = html;
    while let Some(i) = rest.find('<') {
        out.push_str(&rest[..i]);
        out.push(' ');
        let tag_end = rest[i..].find('>').map_or(rest.len(), |j| i + j + 1);
        let tag = &rest[i..tag_end];
        for attr in ["title=\"", "aria-label=\"", "alt=\"", "placeholder=\""] {
            if let Some(a) = tag.find(attr) {
                let v = &tag[a + attr.len()..];
                out.push_str(&v[..v.find('"').unwrap_or(v.len())]);
                out.push(' ');
            }
        }
        rest = &rest[tag_end..];
        // Identifiers (IATI element names and paths) are shown in <code>, not translated.
        if tag.starts_with("<code") {
            rest = rest.find("</code>").map_or("", |j| &rest[j..]);
        }
        if tag.starts_with("<style") {
            rest = rest.find("</style>").map_or("", |j| &rest[j..]);
        }
        if tag.contains("hreflang=\"en\"") {
            rest = rest.find("</a>").map_or("", |j| &rest[j..]);
        }
    }
    out.push_str(rest);
    out.replace("&amp;", "&").replace("&quot;", "\"").replace("&lt;", "<").replace("&gt;", ">")
}

/// The words of what a reader sees, with identifiers left out: codes and acronyms
/// (`UNKNOWN`, `REGIONAL`, `USD`) and hyphenated or underscored names (rule ids such as
/// `loe3-dac-ending-violence-against-women`, element names), which are not prose.
pub(crate) fn prose_words(text: &str) -> BTreeSet<String> {
    text.split_whitespace()
        .filter(|t| !t.trim_matches(|c: char| !c.is_alphanumeric()).contains(['-', '_', '/', '@']))
        .flat_map(|t| t.split(|c: char| !c.is_alphabetic()))
        .filter(|w| w.chars().count() >= 3 && !w.chars().all(|c| c.is_uppercase()))
        .map(str::to_lowercase)
        .collect()
}

/// Words only the English catalogue uses.
pub(crate) fn english_only_words(data_words: &BTreeSet<String>) -> BTreeSet<String> {
    let (en, es) = (values(EN_FTL), values(ES_FTL));
    let spanish: BTreeSet<String> = es.values().flat_map(|v| words(v)).collect();
    en.iter()
        .filter(|(k, v)| es.get(*k).is_some_and(|s| s != *v))
        .flat_map(|(_, v)| words(v))
        .filter(|w| !spanish.contains(w) && !data_words.contains(w))
        .collect()
}

#[test]
fn the_english_only_list_is_made_from_the_catalogues_and_finds_english() {
    let list = english_only_words(&BTreeSet::new());
    for w in ["disbursements", "commitments", "people", "encounters", "value", "parent", "attributes", "page"] {
        assert!(list.contains(w), "{w} is English-only in the catalogues");
    }
    for w in ["iati", "usaid", "senda"] {
        assert!(!list.contains(w), "{w} is used in Spanish too");
    }
    let text = visible_text("<p title=\"Value here\">Total <b>disbursements</b></p><style>p{}</style>");
    assert!(words(&text).contains("disbursements") && words(&text).contains("value"));
}

#[test]
fn every_page_in_spanish_shows_no_english_only_word() {
    let (dir, db) = synthetic_db(60);
    // The imported data is shown as published: its words are not the interface's.
    let mut data_words = words(&std::fs::read_to_string(dir.path().join("synthetic.xml")).expect("data file"));
    // Indicator sources are the names of published datasets (CBP, DHS), kept as named.
    for st in ["cmms-2021", "rc-2021"] {
        let s = senda_core::Strategy::builtin(st).expect("strategy");
        for d in &s.indicators {
            data_words.extend(words(&d.source));
        }
    }
    let forbidden = english_only_words(&data_words);
    let rt = runtime();
    let app = app(&db);
    let list = get(&rt, &app, "/api/v1/activities?limit=1", &[]);
    let v: serde_json::Value = serde_json::from_str(&list.body).expect("json");
    let first = v["items"][0]["iati_identifier"].as_str().expect("an activity").to_owned();
    let mut pages: Vec<String> = vec![
        "/".into(),
        "/country/GT".into(),
        "/country/SV".into(),
        "/activities".into(),
        "/activities?negative_money=true".into(),
        format!("/activity/{first}"),
        "/imports".into(),
        "/imports/1".into(),
        "/report".into(),
        "/coverage".into(),
        "/?strategy=rc-2021".into(),
    ];
    pages.extend((1..=8).map(|i| format!("/loe/LOE{i}?strategy=cmms-2021")));
    let mut found: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for p in &pages {
        let r = get(&rt, &app, p, &[("cookie", "senda_lang=es")]);
        assert_eq!(r.status.as_u16(), 200, "{p}");
        assert!(r.body.contains("<html lang=\"es\""), "{p} is in Spanish");
        let text = visible_text(&r.body);
        let english: BTreeSet<String> = prose_words(&text).intersection(&forbidden).cloned().collect();
        for w in english {
            // Where it is, for the failure message.
            let lower = text.to_lowercase();
            let at = lower.find(&w).unwrap_or(0);
            let from = lower[..at].char_indices().rev().nth(60).map_or(0, |(i, _)| i);
            let context: String = text[from..].chars().take(140).collect();
            found
                .entry(p.clone())
                .or_default()
                .insert(format!("{w}: …{}…", context.split_whitespace().collect::<Vec<_>>().join(" ")));
        }
    }
    assert!(found.is_empty(), "English on Spanish pages: {found:#?}");
}
