//! Interface languages: English and Spanish message catalogues (Fluent, `i18n/*.ftl`), the
//! choice of language (`?lang=`, the `senda_lang` cookie, `Accept-Language`), and numbers,
//! money and dates in the reader's locale (CLDR separators via `num-format`).

use fluent_bundle::concurrent::FluentBundle;
use fluent_bundle::{FluentArgs, FluentResource, FluentValue};
use num_format::{Locale as NumLocale, ToFormattedString};
use rust_decimal::{Decimal, RoundingStrategy};
use unic_langid::LanguageIdentifier;

/// An interface language.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Lang {
    /// English.
    En,
    /// Spanish.
    Es,
}

impl Lang {
    /// BCP 47 code (`en`, `es`): also the IATI `xml:lang` code of narratives.
    pub fn code(self) -> &'static str {
        match self {
            Lang::En => "en",
            Lang::Es => "es",
        }
    }
    /// Parses `en`/`es` (any case, region ignored: `es-GT` is Spanish).
    pub fn parse(s: &str) -> Option<Self> {
        let primary = s.trim().split(['-', '_']).next().unwrap_or("").to_ascii_lowercase();
        match primary.as_str() {
            "en" => Some(Lang::En),
            "es" => Some(Lang::Es),
            _ => None,
        }
    }
}

/// A reader's locale: the language and the number conventions of its region.
///
/// Spanish without a region follows CLDR `es` (`1.234.567,89`); Spanish with a region in
/// Central America, Mexico, the United States or `419` (Latin America) follows that region
/// (`1,234,567.89`), as CLDR does. English is `en` (`1,234,567.89`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Locale {
    /// Interface language.
    pub lang: Lang,
    num: NumLocale,
}

impl Locale {
    /// English.
    pub const EN: Locale = Locale { lang: Lang::En, num: NumLocale::en };
    /// Spanish (CLDR `es`).
    pub const ES: Locale = Locale { lang: Lang::Es, num: NumLocale::es };

    /// The locale for a language tag such as `es-GT`, `en-US` or `es` (`None` if neither language).
    pub fn from_tag(tag: &str) -> Option<Locale> {
        let lang = Lang::parse(tag)?;
        if lang == Lang::En {
            return Some(Locale::EN);
        }
        let region = tag.trim().split(['-', '_']).nth(1).unwrap_or("").to_ascii_uppercase();
        let num = match region.as_str() {
            "GT" => NumLocale::es_GT,
            "HN" => NumLocale::es_HN,
            "SV" => NumLocale::es_SV,
            "MX" => NumLocale::es_MX,
            "US" => NumLocale::es_US,
            "419" => NumLocale::es_419,
            "NI" => NumLocale::es_NI,
            "PA" => NumLocale::es_PA,
            _ => NumLocale::es,
        };
        Some(Locale { lang, num })
    }

    /// Picks the best locale from an `Accept-Language` header (quality values honoured);
    /// English when neither English nor Spanish is accepted.
    pub fn negotiate(accept_language: &str) -> Locale {
        let mut best: Option<(f32, usize, Locale)> = None;
        for (i, part) in accept_language.split(',').enumerate() {
            let mut it = part.split(';');
            let tag = it.next().unwrap_or("").trim();
            let q =
                it.find_map(|p| p.trim().strip_prefix("q=").and_then(|v| v.trim().parse::<f32>().ok())).unwrap_or(1.0);
            if let Some(l) = Locale::from_tag(tag)
                && q > 0.0
                && best.is_none_or(|(bq, bi, _)| q > bq || (q == bq && i < bi))
            {
                best = Some((q, i, l));
            }
        }
        best.map(|(_, _, l)| l).unwrap_or(Locale::EN)
    }

    /// The tag to remember in the cookie (`en`, `es`, `es-GT`, ...).
    pub fn tag(self) -> String {
        match self.lang {
            Lang::En => "en".into(),
            Lang::Es => match self.num.name() {
                "es" => "es".into(),
                other => other.replace('_', "-"),
            },
        }
    }

    /// An integer with the locale's grouping separator.
    pub fn int(self, n: i64) -> String {
        n.to_formatted_string(&self.num)
    }

    /// A decimal rounded to `dp` places, with the locale's separators.
    pub fn decimal(self, d: Decimal, dp: u32) -> String {
        let r = d.round_dp_with_strategy(dp, RoundingStrategy::MidpointAwayFromZero);
        let neg = r.is_sign_negative() && !r.is_zero();
        let abs = r.abs();
        let int = abs.trunc();
        let frac = abs - int;
        let int_i: i64 = int.try_into().unwrap_or(i64::MAX);
        let mut s = String::new();
        if neg {
            s.push('-');
        }
        s.push_str(&int_i.to_formatted_string(&self.num));
        if dp > 0 {
            let f = format!("{:.*}", dp as usize, frac);
            // "0.25" -> "25"
            let digits = f.split('.').nth(1).unwrap_or("");
            s.push_str(self.num.decimal());
            s.push_str(&format!("{digits:0<width$}", width = dp as usize));
        }
        s
    }

    /// U.S. dollars in whole dollars: `$1,234,568` / `US$ 1.234.568`.
    pub fn usd(self, d: Decimal) -> String {
        let (sign, abs) =
            if d.round_dp(0).is_sign_negative() && !d.round_dp(0).is_zero() { ("-", d.abs()) } else { ("", d) };
        match self.lang {
            Lang::En => format!("{sign}${}", self.decimal(abs, 0)),
            Lang::Es => format!("{sign}US$\u{a0}{}", self.decimal(abs, 0)),
        }
    }

    /// U.S. dollars, compact for tiles: `$12.3 M`, `$4.1 B`, `$950 K` (`US$ 12,3 M` in `es`).
    pub fn usd_compact(self, d: Decimal) -> String {
        let abs = d.abs();
        let (div, unit_en, unit_es) = if abs >= Decimal::from(1_000_000_000i64) {
            (Decimal::from(1_000_000_000i64), "B", "mil M")
        } else if abs >= Decimal::from(1_000_000i64) {
            (Decimal::from(1_000_000i64), "M", "M")
        } else if abs >= Decimal::from(1_000i64) {
            (Decimal::from(1_000i64), "K", "mil")
        } else {
            return self.usd(d);
        };
        let v = self.decimal(abs / div, 1);
        let sign = if d.is_sign_negative() { "-" } else { "" };
        match self.lang {
            Lang::En => format!("{sign}${v}\u{a0}{unit_en}"),
            Lang::Es => format!("{sign}US$\u{a0}{v}\u{a0}{unit_es}"),
        }
    }

    /// A percentage with one decimal: `12.5%` / `12,5 %`.
    pub fn percent(self, d: Decimal) -> String {
        match self.lang {
            Lang::En => format!("{}%", self.decimal(d, 1)),
            Lang::Es => format!("{}\u{a0}%", self.decimal(d, 1)),
        }
    }
}

/// The compiled catalogues.
pub struct Catalogs {
    en: FluentBundle<FluentResource>,
    es: FluentBundle<FluentResource>,
}

/// A catalogue that does not parse (a build defect, caught by the tests).
#[derive(Debug, thiserror::Error)]
#[error("message catalogue {lang}: {message}")]
pub struct CatalogError {
    /// `en` or `es`.
    pub lang: &'static str,
    /// What is wrong.
    pub message: String,
}

/// The English catalogue source.
pub const EN_FTL: &str = include_str!("../i18n/en.ftl");
/// The Spanish catalogue source.
pub const ES_FTL: &str = include_str!("../i18n/es.ftl");

fn bundle(lang: &'static str, src: &str) -> Result<FluentBundle<FluentResource>, CatalogError> {
    let res = FluentResource::try_new(src.to_owned())
        .map_err(|(_, errs)| CatalogError { lang, message: format!("{errs:?}") })?;
    let id: LanguageIdentifier = lang.parse().map_err(|e| CatalogError { lang, message: format!("{e}") })?;
    let mut b = FluentBundle::new_concurrent(vec![id]);
    // No Unicode isolation marks: the output is HTML, and marks would break tests and copy-paste.
    b.set_use_isolating(false);
    b.add_resource(res).map_err(|errs| CatalogError { lang, message: format!("{errs:?}") })?;
    Ok(b)
}

impl Catalogs {
    /// Parses both catalogues.
    pub fn load() -> Result<Self, CatalogError> {
        Ok(Self { en: bundle("en", EN_FTL)?, es: bundle("es", ES_FTL)? })
    }

    fn bundle(&self, lang: Lang) -> &FluentBundle<FluentResource> {
        match lang {
            Lang::En => &self.en,
            Lang::Es => &self.es,
        }
    }

    /// The message `key` in `lang`, with arguments. A missing key shows as `⟦key⟧` (the tests
    /// render every page in both languages and fail on it).
    pub fn t_args(&self, lang: Lang, key: &str, args: &[(&str, String)]) -> String {
        let b = self.bundle(lang);
        let Some(pattern) = b.get_message(key).and_then(|m| m.value()) else {
            return format!("⟦{key}⟧");
        };
        let mut fa = FluentArgs::new();
        for (k, v) in args {
            fa.set(*k, FluentValue::from(v.clone()));
        }
        let mut errors = Vec::new();
        b.format_pattern(pattern, Some(&fa), &mut errors).into_owned()
    }

    /// A U.S. fiscal year label (`FY 2024` / `AF 2024`) for a four-digit year text; "unknown"
    /// in the language for anything else.
    pub fn fy_label(&self, lang: Lang, year: &str) -> String {
        if year.len() == 4 && year.bytes().all(|b| b.is_ascii_digit()) {
            self.t_args(lang, "fy", &[("year", year.to_owned())])
        } else {
            self.t(lang, "unknown")
        }
    }

    /// The title of line of effort `id` of `strategy` in `lang` (Spanish falls back to English);
    /// "Not mapped" for NOT_MAPPED; the id itself when the strategy has no such line.
    pub fn loe_title(&self, lang: Lang, strategy: &senda_core::Strategy, id: &str) -> String {
        if id == senda_core::report::NOT_MAPPED {
            return self.t(lang, "not-mapped");
        }
        match strategy.line_of_effort(id) {
            Some(l) => match lang {
                Lang::Es => l.title_es.clone().unwrap_or_else(|| l.title.clone()),
                Lang::En => l.title.clone(),
            },
            None => id.to_owned(),
        }
    }

    /// The strategy's title in `lang`: the catalogue's `strategy-title-{id}` in Spanish (the
    /// strategy files write titles in English), the file's title otherwise.
    pub fn strategy_title(&self, lang: Lang, strategy: &senda_core::Strategy) -> String {
        let key = format!("strategy-title-{}", strategy.id);
        if lang == Lang::Es && self.has(lang, &key) { self.t(lang, &key) } else { strategy.title.clone() }
    }

    /// An indicator's unit (`people`, `encounters`, ... as the strategy file names it) in
    /// `lang`: the catalogue's `unit-{unit}`, else the unit as written.
    pub fn unit(&self, lang: Lang, unit: &str) -> String {
        let key = format!("unit-{unit}");
        if self.has(lang, &key) { self.t(lang, &key) } else { unit.to_owned() }
    }

    /// The message `key` in `lang`.
    pub fn t(&self, lang: Lang, key: &str) -> String {
        self.t_args(lang, key, &[])
    }

    /// True when `key` exists in `lang`.
    pub fn has(&self, lang: Lang, key: &str) -> bool {
        self.bundle(lang).has_message(key)
    }

    /// A date `YYYY-MM-DD` in the locale: `Oct 1, 2023` / `1 oct 2023`; other text unchanged.
    pub fn date(&self, lang: Lang, iso: &str) -> String {
        let parts: Vec<&str> = iso.get(..10).unwrap_or("").split('-').collect();
        let (Some(y), Some(m), Some(d)) = (parts.first(), parts.get(1), parts.get(2)) else {
            return iso.to_owned();
        };
        let (Ok(m), Ok(d)) = (m.parse::<u8>(), d.parse::<u8>()) else { return iso.to_owned() };
        if !(1..=12).contains(&m) {
            return iso.to_owned();
        }
        let month = self.t(lang, &format!("month-{m}"));
        match lang {
            Lang::En => format!("{month} {d}, {y}"),
            Lang::Es => format!("{d} {month} {y}"),
        }
    }
}

/// Every message key of a catalogue source (for the completeness tests).
pub fn keys(src: &str) -> Vec<String> {
    src.lines()
        .filter(|l| !l.starts_with([' ', '#', '\t']) && l.contains(" ="))
        .filter_map(|l| l.split(" =").next())
        .map(|k| k.trim().to_owned())
        .filter(|k| !k.is_empty())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn catalogues_have_the_same_keys() {
        let en = keys(EN_FTL);
        let es = keys(ES_FTL);
        assert!(en.len() > 50, "{} keys", en.len());
        let missing_es: Vec<_> = en.iter().filter(|k| !es.contains(k)).collect();
        let missing_en: Vec<_> = es.iter().filter(|k| !en.contains(k)).collect();
        assert!(missing_es.is_empty(), "missing in es.ftl: {missing_es:?}");
        assert!(missing_en.is_empty(), "missing in en.ftl: {missing_en:?}");
        Catalogs::load().expect("catalogues parse");
    }

    #[test]
    fn numbers_follow_the_locale() {
        let d: Decimal = "1234567.891".parse().expect("decimal");
        assert_eq!(Locale::EN.decimal(d, 2), "1,234,567.89");
        assert_eq!(Locale::ES.decimal(d, 2), "1.234.567,89");
        assert_eq!(Locale::from_tag("es-GT").expect("es-GT").decimal(d, 2), "1,234,567.89");
        assert_eq!(Locale::EN.usd(d), "$1,234,568");
        assert_eq!(Locale::ES.usd_compact(d), "US$\u{a0}1,2\u{a0}M");
        assert_eq!(Locale::EN.decimal("-0.004".parse().expect("d"), 2), "0.00");
        assert_eq!(Locale::EN.percent("12.34".parse().expect("d")), "12.3%");
        assert_eq!(Locale::EN.usd("-433098.2".parse().expect("d")), "-$433,098");
        assert_eq!(Locale::EN.usd_compact("-433098.2".parse().expect("d")), "-$433.1\u{a0}K");
    }

    #[test]
    fn accept_language_is_negotiated_with_quality() {
        assert_eq!(Locale::negotiate("es-GT,es;q=0.9,en;q=0.8").lang, Lang::Es);
        assert_eq!(Locale::negotiate("fr-FR, en;q=0.5, es;q=0.7").lang, Lang::Es);
        assert_eq!(Locale::negotiate("de").lang, Lang::En);
        assert_eq!(Locale::negotiate("").lang, Lang::En);
        assert_eq!(Locale::negotiate("es;q=0, en;q=0.1").lang, Lang::En);
    }

    #[test]
    fn dates_use_month_names() {
        let c = Catalogs::load().expect("load");
        assert_eq!(c.date(Lang::En, "2023-10-01"), "Oct 1, 2023");
        assert_eq!(c.date(Lang::Es, "2023-10-01"), "1 oct 2023");
        assert_eq!(c.date(Lang::Es, "unknown"), "unknown");
    }
}
