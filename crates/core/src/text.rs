//! Text helpers: choosing a narrative by language, and folding text for keyword matching.

use crate::activity::Narrative;

/// Picks the narrative to show: the one in `want` (e.g. `"es"`), else one in the activity's
/// default language `default_lang` (a narrative with no `xml:lang` is in the default language),
/// else the first. Never "simply the first one found" when a better one exists.
pub fn pick_narrative<'a>(
    narratives: &'a [Narrative],
    want: Option<&str>,
    default_lang: Option<&str>,
) -> Option<&'a str> {
    let lang_of = |n: &'a Narrative| n.lang.as_deref().or(default_lang);
    if let Some(w) = want
        && let Some(n) = narratives.iter().find(|n| lang_of(n).is_some_and(|l| l.eq_ignore_ascii_case(w)))
    {
        return Some(&n.text);
    }
    // The activity's default language: narratives without `xml:lang`, or tagged with it.
    if let Some(n) = narratives.iter().find(|n| n.lang.is_none()) {
        return Some(&n.text);
    }
    if let Some(d) = default_lang
        && let Some(n) = narratives.iter().find(|n| n.lang.as_deref().is_some_and(|l| l.eq_ignore_ascii_case(d)))
    {
        return Some(&n.text);
    }
    narratives.first().map(|n| n.text.as_str())
}

/// Each ASCII byte folded: letters lower-cased, digits kept, 0 for everything else.
const ASCII_FOLD: [u8; 256] = {
    let mut t = [0u8; 256];
    let mut i = 0;
    while i < 128 {
        let b = i as u8;
        if b.is_ascii_alphanumeric() {
            t[i] = b.to_ascii_lowercase();
        }
        i += 1;
    }
    t
};

/// Folds text for keyword matching: Unicode NFD with combining marks removed (so `reintegración`
/// matches `reintegracion`), lower case, every run of non-alphanumeric characters replaced by a
/// single space, and one space added at both ends. Phrases folded the same way match on whole
/// words by searching `" phrase "`.
pub fn fold(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 2);
    fold_into(text, &mut out);
    out
}

/// [`fold`], appended to `out` (so that many texts can share one buffer).
pub fn fold_into(text: &str, out: &mut String) {
    out.reserve(text.len() + 2);
    out.push(' ');
    let mut last_space = true;
    let push_char = |c: char, out: &mut String, last_space: &mut bool| {
        if c.is_alphanumeric() {
            for l in c.to_lowercase() {
                out.push(l);
            }
            *last_space = false;
        } else if !*last_space {
            out.push(' ');
            *last_space = true;
        }
    };
    if text.is_ascii() {
        // The same rule on bytes: ASCII letters and digits lower-cased, every other run one
        // space (a table lookup per byte, pushed as an ASCII character: no re-validation of the
        // shared buffer).
        for &b in text.as_bytes() {
            let f = ASCII_FOLD[usize::from(b)];
            if f != 0 {
                out.push(char::from(f));
                last_space = false;
            } else if !last_space {
                out.push(' ');
                last_space = true;
            }
        }
    } else {
        // Character by character: an ASCII character is its own decomposition (the table);
        // any other is decomposed canonically. Dropping every combining mark makes the
        // canonical reordering of NFD irrelevant, so this equals folding `text.nfd()`.
        for c in text.chars() {
            if c.is_ascii() {
                let f = ASCII_FOLD[c as usize];
                if f != 0 {
                    out.push(char::from(f));
                    last_space = false;
                } else if !last_space {
                    out.push(' ');
                    last_space = true;
                }
                continue;
            }
            unicode_normalization::char::decompose_canonical(c, |d| {
                if !unicode_normalization::char::is_combining_mark(d) {
                    push_char(d, out, &mut last_space);
                }
            });
        }
    }
    if !last_space {
        out.push(' ');
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `fold` as first written: over the NFD form of the whole text.
    fn fold_reference(text: &str) -> String {
        use unicode_normalization::UnicodeNormalization;
        let mut out = String::from(" ");
        let mut last_space = true;
        for c in text.nfd().filter(|c| !unicode_normalization::char::is_combining_mark(*c)) {
            if c.is_alphanumeric() {
                out.extend(c.to_lowercase());
                last_space = false;
            } else if !last_space {
                out.push(' ');
                last_space = true;
            }
        }
        if !last_space {
            out.push(' ');
        }
        out
    }

    #[test]
    fn folding_character_by_character_equals_folding_the_nfd_form() {
        // Every character of the first two planes alone, between letters with a combining
        // mark after it, and before two marks in non-canonical order.
        for cp in 0..0x2_0000u32 {
            let Some(c) = char::from_u32(cp) else { continue };
            for s in [c.to_string(), format!("a{c}\u{301}b"), format!("{c}\u{301}\u{323}x")] {
                assert_eq!(fold(&s), fold_reference(&s), "U+{cp:04X} in {s:?}");
            }
        }
        let mixed = "Reintegración de RETORNADOS (Honduras), niñez migrante: ÅNGSTRÖM ǅ 한국어 ﬁ";
        assert_eq!(fold(mixed), fold_reference(mixed));
    }

    #[test]
    fn fold_removes_accents_case_and_punctuation() {
        assert_eq!(fold("Reintegración de RETORNADOS, (Honduras)"), " reintegracion de retornados honduras ");
        assert_eq!(fold(""), " ");
    }

    #[test]
    fn narrative_choice_prefers_requested_then_default_language() {
        let n = |l: Option<&str>, t: &str| Narrative { lang: l.map(Into::into), text: t.into() };
        let v = vec![n(Some("fr"), "bonjour"), n(Some("es"), "hola"), n(None, "hello")];
        assert_eq!(pick_narrative(&v, Some("es"), Some("en")), Some("hola"));
        assert_eq!(pick_narrative(&v, Some("en"), Some("en")), Some("hello"));
        assert_eq!(pick_narrative(&v, Some("de"), Some("en")), Some("hello"));
        // Every narrative tagged: the one in the default language, not simply the first.
        let tagged = vec![n(Some("fr"), "bonjour"), n(Some("es"), "hola")];
        assert_eq!(pick_narrative(&tagged, Some("en"), Some("es")), Some("hola"));
        assert_eq!(pick_narrative(&tagged, Some("en"), None), Some("bonjour"), "no better choice: the first");
    }
}
