//! A mapping explained in words, in English and Spanish (issue 19, item 6): for each line of
//! effort the activity maps to, its confidence and its evidence, strongest first; then the
//! lines that almost applied (a rule that matched but was vetoed, or a phrase found in a field
//! its rule does not search). `senda explain` and the activity page both print this.

use crate::mapping::{Evidence, NearMiss, NearMissReason, Strength, confidence_of};
use crate::strategy::Strategy;

/// The language of an explanation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Lang {
    /// English.
    #[default]
    En,
    /// Spanish.
    Es,
}

impl Lang {
    /// `en`, `es` or a regional tag of either (`es-GT`, `en-US`); `None` otherwise.
    pub fn parse(tag: &str) -> Option<Self> {
        let primary = tag.split(['-', '_']).next().unwrap_or_default().to_ascii_lowercase();
        match primary.as_str() {
            "en" => Some(Lang::En),
            "es" => Some(Lang::Es),
            _ => None,
        }
    }
}

/// The heading of the lines that almost applied.
pub fn near_heading(lang: Lang) -> &'static str {
    match lang {
        Lang::En => "Lines of effort that almost applied:",
        Lang::Es => "Líneas de acción que casi se aplicaron:",
    }
}

/// A strength in words.
pub fn strength_word(s: Strength, lang: Lang) -> &'static str {
    match (lang, s) {
        (Lang::En, Strength::Strong) => "strong",
        (Lang::En, Strength::Medium) => "medium",
        (Lang::En, Strength::Weak) => "weak",
        (Lang::Es, Strength::Strong) => "fuerte",
        (Lang::Es, Strength::Medium) => "media",
        (Lang::Es, Strength::Weak) => "débil",
    }
}

/// One line of effort the activity maps to, explained.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LineWords {
    /// The line of effort id.
    pub line_of_effort: String,
    /// Its title in the language asked (English when the strategy has no Spanish title).
    pub title: String,
    /// The mapping's confidence ([`confidence_of`]).
    pub confidence: Strength,
    /// One sentence per piece of evidence, strongest first.
    pub evidence: Vec<String>,
}

/// A line of effort that almost applied.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NearWords {
    /// The line of effort id.
    pub line_of_effort: String,
    /// Its title.
    pub title: String,
    /// One sentence per near miss.
    pub sentences: Vec<String>,
}

/// A whole explanation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Explanation {
    /// The lines the rules map the activity to, in the strategy's order.
    pub lines: Vec<LineWords>,
    /// The lines that almost applied.
    pub near: Vec<NearWords>,
}

fn title_of(st: &Strategy, line: &str, lang: Lang) -> String {
    st.line_of_effort(line)
        .map(|l| match lang {
            Lang::Es => l.title_es.clone().unwrap_or_else(|| l.title.clone()),
            Lang::En => l.title.clone(),
        })
        .unwrap_or_default()
}

/// The language inside `[@xml:lang=xx]`, if the field names one.
fn field_lang(field: &str) -> Option<&str> {
    let start = field.find("@xml:lang=")? + "@xml:lang=".len();
    let rest = field.get(start..)?;
    let lang = &rest[..rest.find(']').unwrap_or(rest.len())];
    (lang != "?").then_some(lang)
}

/// The vocabulary inside `[@vocabulary=x]`, if the field names one.
fn field_vocabulary(field: &str) -> Option<&str> {
    let start = field.find("@vocabulary=")? + "@vocabulary=".len();
    let rest = field.get(start..)?;
    Some(&rest[..rest.find(']').unwrap_or(rest.len())])
}

/// What one match says, in words (without the rule): "the title (en) says "refugee"".
pub fn describe_match(kind: &str, field: &str, value: &str, lang: Lang) -> String {
    let in_lang = |s: &str| field_lang(field).map(|l| format!("{s} ({l})")).unwrap_or_else(|| s.to_owned());
    let quoted = |v: &str| match lang {
        Lang::En => format!("\u{201c}{}\u{201d}", v.trim()),
        Lang::Es => format!("\u{ab}{}\u{bb}", v.trim()),
    };
    let on_transactions = field.starts_with("transaction/");
    match (kind, lang) {
        ("keyword", Lang::En) => {
            let place = if field.starts_with("title") {
                in_lang("the title")
            } else if on_transactions {
                in_lang("a transaction description")
            } else {
                in_lang("a description")
            };
            format!("{place} says {}", quoted(value))
        }
        ("keyword", Lang::Es) => {
            let place = if field.starts_with("title") {
                in_lang("el título")
            } else if on_transactions {
                in_lang("la descripción de una transacción")
            } else {
                in_lang("una descripción")
            };
            format!("{place} dice {}", quoted(value))
        }
        ("sector", _) => {
            let voc = field_vocabulary(field).unwrap_or("1");
            let voc_en = match voc {
                "1" => "DAC 5-digit".to_owned(),
                "2" => "DAC 3-digit".to_owned(),
                "99" | "98" => "the publisher's own".to_owned(),
                v => format!("vocabulary {v}"),
            };
            let voc_es = match voc {
                "1" => "CAD de 5 dígitos".to_owned(),
                "2" => "CAD de 3 dígitos".to_owned(),
                "99" | "98" => "propio del publicador".to_owned(),
                v => format!("vocabulario {v}"),
            };
            match (lang, on_transactions) {
                (Lang::En, false) => format!("the activity is coded sector {value} ({voc_en})"),
                (Lang::En, true) => format!("some of its transactions are coded sector {value} ({voc_en})"),
                (Lang::Es, false) => format!("la actividad lleva el sector {value} ({voc_es})"),
                (Lang::Es, true) => format!("algunas de sus transacciones llevan el sector {value} ({voc_es})"),
            }
        }
        ("policy_marker", Lang::En) => format!("it carries policy marker {value}"),
        ("policy_marker", Lang::Es) => format!("lleva el marcador de política {value}"),
        ("tag", _) => {
            let sdg = field_vocabulary(field) == Some("3");
            match (lang, sdg) {
                (Lang::En, true) => format!("it is tagged with SDG target {value}"),
                (Lang::Es, true) => format!("está etiquetada con la meta ODS {value}"),
                (Lang::En, false) => format!("it carries tag {value} ({field})"),
                (Lang::Es, false) => format!("lleva la etiqueta {value} ({field})"),
            }
        }
        ("humanitarian", Lang::En) if on_transactions => {
            "the publisher flags some of its transactions as humanitarian".into()
        }
        ("humanitarian", Lang::En) => "the publisher flags the activity as humanitarian".into(),
        ("humanitarian", Lang::Es) if on_transactions => {
            "el publicador marca algunas de sus transacciones como humanitarias".into()
        }
        ("humanitarian", Lang::Es) => "el publicador marca la actividad como humanitaria".into(),
        ("participating_org", Lang::En) if field.starts_with("transaction/receiver-org") => {
            format!("a transaction goes to the organisation {value}")
        }
        ("participating_org", Lang::Es) if field.starts_with("transaction/receiver-org") => {
            format!("una transacción va a la organización {value}")
        }
        ("participating_org", Lang::En) if field.ends_with("@ref") => {
            format!("the organisation {value} takes part")
        }
        ("participating_org", Lang::Es) if field.ends_with("@ref") => {
            format!("participa la organización {value}")
        }
        ("participating_org", Lang::En) => format!("a participating organisation is {value}"),
        ("participating_org", Lang::Es) => format!("una organización participante es {value}"),
        (_, Lang::En) => format!("{field} is {}", quoted(value)),
        (_, Lang::Es) => format!("{field} es {}", quoted(value)),
    }
}

fn rule_words(rule: &str, strength: Strength, lang: Lang) -> String {
    match lang {
        Lang::En => format!("rule {rule}, {}", strength_word(strength, lang)),
        Lang::Es => format!("regla {rule}, {}", strength_word(strength, lang)),
    }
}

fn fields_words(fields: &[String], lang: Lang) -> String {
    let word = |f: &str| match (lang, f) {
        (Lang::En, "title") => "the title",
        (Lang::En, "description") => "descriptions",
        (Lang::En, "transaction_description") => "transaction descriptions",
        (Lang::Es, "title") => "el título",
        (Lang::Es, "description") => "las descripciones",
        (Lang::Es, "transaction_description") => "las descripciones de transacciones",
        _ => "?",
    };
    let words: Vec<&str> = if fields.is_empty() {
        vec![word("title"), word("description")]
    } else {
        fields.iter().map(|f| word(f)).collect()
    };
    let and = if lang == Lang::En { " and " } else { " y " };
    words.join(and)
}

fn near_sentence(st: &Strategy, n: &NearMiss, lang: Lang) -> String {
    let what = describe_match(&n.kind, &n.field, &n.value, lang);
    match (&n.reason, lang) {
        (NearMissReason::Veto { phrase }, Lang::En) => format!(
            "{what} (rule {}), but the rule is vetoed by \u{201c}{phrase}\u{201d}, found in the title or a description",
            n.rule
        ),
        (NearMissReason::Veto { phrase }, Lang::Es) => format!(
            "{what} (regla {}), pero la regla queda vetada por \u{ab}{phrase}\u{bb}, presente en el título o en una descripción",
            n.rule
        ),
        (NearMissReason::Field, _) => {
            let fields = st.rules.iter().find(|r| r.id == n.rule).map(|r| r.fields.as_slice()).unwrap_or_default();
            match lang {
                Lang::En => format!("{what}, but rule {} looks only in {}", n.rule, fields_words(fields, lang)),
                Lang::Es => format!("{what}, pero la regla {} solo busca en {}", n.rule, fields_words(fields, lang)),
            }
        }
    }
}

/// Explains the rules' mapping of one activity: `lines` (the rules' lines of effort),
/// `evidence` and `near_misses` as the mapper gave them.
pub fn explain(
    st: &Strategy,
    lines: &[String],
    evidence: &[Evidence],
    near_misses: &[NearMiss],
    lang: Lang,
) -> Explanation {
    let lines = lines
        .iter()
        .map(|l| {
            let mut mine: Vec<&Evidence> = evidence.iter().filter(|e| e.line_of_effort == l.as_str()).collect();
            // Strongest first; equal strengths keep the mapper's order (the sort is stable).
            mine.sort_by_key(|e| std::cmp::Reverse(e.strength));
            LineWords {
                line_of_effort: l.clone(),
                title: title_of(st, l, lang),
                confidence: confidence_of(evidence, l).unwrap_or(Strength::Weak),
                evidence: mine
                    .iter()
                    .map(|e| {
                        format!(
                            "{} ({})",
                            describe_match(&e.kind, &e.field, &e.value, lang),
                            rule_words(&e.rule, e.strength, lang)
                        )
                    })
                    .collect(),
            }
        })
        .collect();
    let mut near: Vec<NearWords> = Vec::new();
    for n in near_misses {
        let sentence = near_sentence(st, n, lang);
        match near.iter_mut().find(|w| w.line_of_effort == n.line_of_effort.as_str()) {
            Some(w) => w.sentences.push(sentence),
            None => near.push(NearWords {
                line_of_effort: n.line_of_effort.to_string(),
                title: title_of(st, &n.line_of_effort, lang),
                sentences: vec![sentence],
            }),
        }
    }
    Explanation { lines, near }
}

impl Explanation {
    /// The explanation as plain text, one paragraph per line of effort (what `senda explain`
    /// prints).
    pub fn to_text(&self, lang: Lang) -> String {
        use std::fmt::Write;
        let mut out = String::new();
        if self.lines.is_empty() {
            out.push_str(match lang {
                Lang::En => {
                    "This activity is not mapped: no rule of the strategy applies; it still counts, under NOT_MAPPED, with its money.\n"
                }
                Lang::Es => {
                    "Esta actividad no está asignada: no se aplica ninguna regla de la estrategia; sigue contando, en NOT_MAPPED, con su dinero.\n"
                }
            });
        }
        for l in &self.lines {
            let conf = strength_word(l.confidence, lang);
            let _ = match lang {
                Lang::En => writeln!(out, "{} {}: confidence {conf}.", l.line_of_effort, l.title),
                Lang::Es => writeln!(out, "{} {}: confianza {conf}.", l.line_of_effort, l.title),
            };
            for (k, e) in l.evidence.iter().enumerate() {
                let lead = match (lang, k) {
                    (Lang::En, 0) => "Strongest evidence",
                    (Lang::En, _) => "Also",
                    (Lang::Es, 0) => "Evidencia más fuerte",
                    (Lang::Es, _) => "Además",
                };
                let _ = writeln!(out, "  {lead}: {e}.");
            }
        }
        if !self.near.is_empty() {
            out.push_str(near_heading(lang));
            out.push('\n');
            for n in &self.near {
                let _ = writeln!(out, "{} {}:", n.line_of_effort, n.title);
                for s in &n.sentences {
                    let _ = writeln!(out, "  {s}.");
                }
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn languages_parse_with_regions() {
        assert_eq!(Lang::parse("es-GT"), Some(Lang::Es));
        assert_eq!(Lang::parse("EN"), Some(Lang::En));
        assert_eq!(Lang::parse("fr"), None);
    }

    #[test]
    fn matches_are_described_in_both_languages() {
        let t = describe_match("keyword", "title/narrative[@xml:lang=en]", "refugee*", Lang::En);
        assert_eq!(t, "the title (en) says \u{201c}refugee*\u{201d}");
        let t = describe_match("keyword", "description/narrative[@xml:lang=es]", "retornad*", Lang::Es);
        assert_eq!(t, "una descripción (es) dice \u{ab}retornad*\u{bb}");
        let t = describe_match("sector", "transaction/sector[@vocabulary=1]", "12264 (COVID-19 control)", Lang::En);
        assert_eq!(t, "some of its transactions are coded sector 12264 (COVID-19 control) (DAC 5-digit)");
        let t = describe_match("tag", "tag[@vocabulary=3]", "10.7", Lang::Es);
        assert_eq!(t, "está etiquetada con la meta ODS 10.7");
    }
}
