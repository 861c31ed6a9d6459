//! The mapping engine: compiles a strategy's rules once ([`Mapper::new`]) and maps activities
//! onto its lines of effort ([`Mapper::map`]), keeping the evidence of every match (rule,
//! field, matched value). An activity maps to several lines of effort or to none ("not mapped",
//! still counted with its money). Analysts' overrides are applied by the caller on top.

use crate::activity::{Activity, Narrative, Sector};
pub use crate::strategy::Strength;
use crate::strategy::{RuleDef, Strategy};
use crate::text::{fold, fold_into};
use aho_corasick::{AhoCorasick, AhoCorasickKind, MatchKind};
use compact_str::CompactString;
use serde::{Deserialize, Serialize};

/// Why an activity maps to a line of effort.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Evidence {
    /// The line of effort (an id such as `LOE5`: inline, no allocation).
    pub line_of_effort: CompactString,
    /// The rule id (from the strategy file), or `override` for an analyst's decision.
    pub rule: CompactString,
    /// The rule kind (`sector`, `keyword`, ...; `override`).
    pub kind: CompactString,
    /// The field that matched, as an IATI path (e.g. `title/narrative[@xml:lang=es]`, `transaction/sector[@vocabulary=99]`).
    pub field: String,
    /// The value that matched (the code, the phrase, the organisation, or the analyst's note).
    pub value: String,
    /// How strong the rule's evidence is ([`RuleDef::strength`]). Evidence stored before
    /// strengths existed reads as weak (stored mappings are made again when the definition or
    /// the schema changes).
    #[serde(default)]
    pub strength: Strength,
}

/// Why a rule that matched did not map the activity (see [`NearMiss`]).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum NearMissReason {
    /// A phrase of the rule's `unless` list was found in the title or a description.
    Veto {
        /// The veto phrase, as written in the strategy file.
        phrase: String,
    },
    /// A keyword rule's phrase was found in a field the rule does not search (its `fields`).
    Field,
}

/// A rule that almost fired for a line of effort the activity is not mapped to: what it found
/// and why it did not apply. What an analyst looks at first when the rules may have missed a
/// line (the review queue, the explanation).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NearMiss {
    /// The line of effort the rule maps to.
    pub line_of_effort: CompactString,
    /// The rule id.
    pub rule: CompactString,
    /// The rule kind.
    pub kind: CompactString,
    /// Where the match was found, as an IATI path (as [`Evidence::field`]).
    pub field: String,
    /// What matched.
    pub value: String,
    /// The rule's strength.
    pub strength: Strength,
    /// Why it did not apply.
    pub reason: NearMissReason,
}

/// The result of mapping one activity.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Mapping {
    /// Lines of effort, in the strategy's order, without duplicates. Empty = not mapped.
    pub lines_of_effort: Vec<String>,
    /// Evidence for each line of effort (at most 3 per rule).
    pub evidence: Vec<Evidence>,
    /// Rules that matched but did not apply, for lines of effort not in `lines_of_effort`
    /// (at most 3 per rule), in the strategy's order of lines.
    #[serde(default)]
    pub near_misses: Vec<NearMiss>,
}

impl Mapping {
    /// The confidence of the mapping to `line` ([`confidence_of`] over its evidence); `None`
    /// when the activity does not map to it.
    pub fn confidence(&self, line: &str) -> Option<Strength> {
        confidence_of(&self.evidence, line)
    }

    /// The confidence of each line of effort, aligned with `lines_of_effort`, `;`-separated
    /// (`strong;weak`): what `activity_mapping.confidence` stores.
    pub fn confidence_text(&self) -> String {
        let mut out = String::new();
        for (k, l) in self.lines_of_effort.iter().enumerate() {
            if k > 0 {
                out.push(';');
            }
            out.push_str(self.confidence(l).unwrap_or(Strength::Weak).as_str());
        }
        out
    }
}

/// The confidence of a mapping to `line`, derived from its evidence: the strength of its
/// strongest piece of evidence, except that two or more distinct weak pieces (different
/// phrases or rules, nothing stronger) corroborate each other and make it medium. `None` when
/// no evidence names `line`.
pub fn confidence_of(evidence: &[Evidence], line: &str) -> Option<Strength> {
    let mine = || evidence.iter().filter(|e| e.line_of_effort == line);
    let best = mine().map(|e| e.strength).max()?;
    if best == Strength::Weak {
        let mut distinct: Vec<String> = mine().map(|e| e.value.to_lowercase()).collect();
        distinct.sort_unstable();
        distinct.dedup();
        if distinct.len() >= 2 {
            return Some(Strength::Medium);
        }
    }
    Some(best)
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Field {
    Title,
    Description,
    TransactionDescription,
}

struct Pattern {
    rule: usize,
    phrase: String,
}

/// A rule's `kind`, parsed once (the rules run for every activity of an import).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum RuleKind {
    Sector,
    PolicyMarker,
    Tag,
    Humanitarian,
    ParticipatingOrg,
    /// `keyword`, or a kind this version does not know (matches nothing by itself).
    Other,
}

impl RuleKind {
    fn of(kind: &str) -> Self {
        match kind {
            "sector" => RuleKind::Sector,
            "policy_marker" => RuleKind::PolicyMarker,
            "tag" => RuleKind::Tag,
            "humanitarian" => RuleKind::Humanitarian,
            "participating_org" => RuleKind::ParticipatingOrg,
            _ => RuleKind::Other,
        }
    }
}

/// The three keyword lists of a strategy's rules.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Set {
    /// Vetoes (`unless`): searched in title and descriptions, any language.
    Unless,
    /// English phrases.
    En,
    /// Spanish phrases.
    Es,
}

/// Keyword matches in one folded text: (list, index of the phrase in that list), ordered by
/// list (vetoes, English, Spanish), then as the overlapping scan found them.
type Hits = Vec<(Set, usize)>;

/// The keyword matches of every folded text of an activity (aligned with [`Folded`]).
#[derive(Debug, Default)]
struct Scans {
    title: Vec<Hits>,
    description: Vec<Hits>,
    transaction_description: Vec<Hits>,
}

/// A narrative's language code in lower case (borrowed when already lower case).
type Lang<'a> = std::borrow::Cow<'a, str>;

/// An activity prepared once for every mapper: its narratives folded for keyword matching (see
/// [`crate::text::fold`]) as `(language, span of the folded text in one shared buffer)`, its sectors and participating-org names.
///
/// Repeats are dropped where they cannot change the result: transaction descriptions with the
/// same language and text are folded and scanned once (evidence is kept once per rule and
/// phrase anyway), and the sectors of the activity and its transactions are kept once per
/// (vocabulary, code), in document order, activity level first (the evidence keeps the first
/// occurrence of each code). Activities with thousands of transactions usually repeat both.
#[derive(Debug, Default)]
pub struct Folded<'a> {
    /// Every folded text, one after the other; the fields below hold spans of it (one buffer
    /// instead of a string per narrative).
    buf: String,
    title: Vec<(Option<Lang<'a>>, Span)>,
    description: Vec<(Option<Lang<'a>>, Span)>,
    transaction_description: Vec<(Option<Lang<'a>>, Span)>,
    /// Distinct sectors with the IATI path they come from (`sector` or `transaction/sector`).
    sectors: Vec<(&'a Sector, &'static str)>,
    /// Participating-org names: (index of the org in the activity, name as published, folded).
    org_names: Vec<(usize, &'a str, Span)>,
}

/// A byte range of [`Folded`]'s buffer.
type Span = std::ops::Range<usize>;

/// Sectors up to this many are de-duplicated by a linear scan, more with a hash set.
const LINEAR_DEDUP: usize = 32;

impl<'a> Folded<'a> {
    /// Prepares `a`; transaction descriptions are folded only when `with_transactions`.
    pub fn of(a: &'a Activity, with_transactions: bool) -> Self {
        let lang = |n: &'a Narrative| {
            n.lang.as_deref().or(a.default_language.as_deref()).map(|l| {
                if l.bytes().any(|b| b.is_ascii_uppercase()) {
                    Lang::Owned(l.to_ascii_lowercase())
                } else {
                    Lang::Borrowed(l)
                }
            })
        };
        let descriptions = || a.descriptions.iter().flat_map(|d| &d.narratives);
        let org_names =
            || a.participating_orgs.iter().enumerate().flat_map(|(k, p)| p.org.names.iter().map(move |n| (k, n)));
        let size = a.title.iter().chain(descriptions()).map(|n| n.text.len() + 2).sum::<usize>()
            + org_names().map(|(_, n)| n.text.len() + 2).sum::<usize>();
        let mut buf = String::with_capacity(size);
        let span = |buf: &mut String, text: &str| {
            let start = buf.len();
            fold_into(text, buf);
            start..buf.len()
        };
        let transaction_description = if with_transactions {
            let mut seen: rustc_hash::FxHashSet<(Option<&str>, &str)> = rustc_hash::FxHashSet::default();
            a.transactions
                .iter()
                .flat_map(|t| &t.description)
                .filter(|n| seen.insert((n.lang.as_deref(), n.text.as_str())))
                .map(|n| (lang(n), span(&mut buf, &n.text)))
                .collect()
        } else {
            Vec::new()
        };
        let all_sectors = || {
            a.sectors
                .iter()
                .map(|s| (s, "sector"))
                .chain(a.transactions.iter().flat_map(|t| &t.sectors).map(|s| (s, "transaction/sector")))
        };
        let mut sectors: Vec<(&'a Sector, &'static str)> = Vec::new();
        if a.sectors.len() + a.transactions.iter().map(|t| t.sectors.len()).sum::<usize>() <= LINEAR_DEDUP {
            for (s, path) in all_sectors() {
                if !sectors.iter().any(|(k, _)| k.vocabulary == s.vocabulary && k.code == s.code) {
                    sectors.push((s, path));
                }
            }
        } else {
            let mut seen: rustc_hash::FxHashSet<(&str, &str)> = rustc_hash::FxHashSet::default();
            sectors.extend(all_sectors().filter(|(s, _)| seen.insert((s.vocabulary.as_str(), s.code.as_str()))));
        }
        Self {
            title: a.title.iter().map(|n| (lang(n), span(&mut buf, &n.text))).collect(),
            description: descriptions().map(|n| (lang(n), span(&mut buf, &n.text))).collect(),
            transaction_description,
            sectors,
            org_names: org_names().map(|(k, n)| (k, n.text.as_str(), span(&mut buf, &n.text))).collect(),
            buf,
        }
    }

    /// The folded text of a span.
    fn text(&self, span: &Span) -> &str {
        self.buf.get(span.clone()).unwrap_or_default()
    }
}

/// A strategy's rules, compiled for fast matching (one Aho-Corasick automaton per language).
pub struct Mapper {
    strategy_id: String,
    loe_order: Vec<String>,
    rules: Vec<RuleDef>,
    /// Each rule's kind, parsed.
    kinds: Vec<RuleKind>,
    /// Each rule's strength ([`RuleDef::strength`]).
    strengths: Vec<Strength>,
    /// Each rule's line of effort as its position in `loe_order` (`None`: not a line the
    /// strategy lists).
    rule_loe: Vec<Option<usize>>,
    /// Each rule's `codes`, sorted (looked up by binary search).
    sorted_codes: Vec<Vec<String>>,
    rule_fields: Vec<Vec<Field>>,
    en: Vec<Pattern>,
    es: Vec<Pattern>,
    unless: Vec<Pattern>,
    /// One automaton per list (unless, en, es), built on first use by [`Mapper::map`]: an
    /// import maps through [`MapperSet`]'s merged automaton and never needs them.
    automata: std::sync::OnceLock<[Option<AhoCorasick>; 3]>,
    /// Per rule, its `names` folded as patterns, and an automaton over them (searched in
    /// every participating-org name of every activity; `None` when the rule has no names).
    folded_names: Vec<(Vec<String>, Option<AhoCorasick>)>,
    uses_transaction_descriptions: bool,
}

fn to_pattern(phrase: &str) -> String {
    let prefix = phrase.trim_end().ends_with('*');
    let f = fold(phrase.trim_end().trim_end_matches('*'));
    if prefix { f.trim_end().to_owned() } else { f }
}

fn build(pats: &[Pattern]) -> Option<AhoCorasick> {
    if pats.is_empty() {
        return None;
    }
    AhoCorasick::builder()
        .match_kind(MatchKind::Standard)
        .kind(Some(AhoCorasickKind::DFA))
        .prefilter(false)
        .build(pats.iter().map(|p| to_pattern(&p.phrase)))
        .ok()
}

impl Mapper {
    /// Compiles the strategy's rules.
    pub fn new(strategy: &Strategy) -> Self {
        let mut en = Vec::new();
        let mut es = Vec::new();
        let mut unless = Vec::new();
        let mut rule_fields = Vec::new();
        let mut folded_names = Vec::new();
        for (i, r) in strategy.rules.iter().enumerate() {
            let mut fields: Vec<Field> = r
                .fields
                .iter()
                .filter_map(|f| match f.as_str() {
                    "title" => Some(Field::Title),
                    "description" => Some(Field::Description),
                    "transaction_description" => Some(Field::TransactionDescription),
                    _ => None,
                })
                .collect();
            if fields.is_empty() {
                fields = vec![Field::Title, Field::Description];
            }
            rule_fields.push(fields);
            if r.kind == "keyword" {
                en.extend(r.en.iter().map(|p| Pattern { rule: i, phrase: p.clone() }));
                es.extend(r.es.iter().map(|p| Pattern { rule: i, phrase: p.clone() }));
            }
            unless.extend(r.unless.iter().map(|p| Pattern { rule: i, phrase: p.clone() }));
            let names: Vec<String> = r.names.iter().map(|n| to_pattern(n)).collect();
            let ac = if names.is_empty() { None } else { AhoCorasick::new(&names).ok() };
            folded_names.push((names, ac));
        }
        Self {
            strategy_id: strategy.id.clone(),
            loe_order: strategy.lines_of_effort.iter().map(|l| l.id.clone()).collect(),
            rules: strategy.rules.clone(),
            kinds: strategy.rules.iter().map(|r| RuleKind::of(&r.kind)).collect(),
            strengths: strategy.rules.iter().map(RuleDef::strength).collect(),
            rule_loe: strategy
                .rules
                .iter()
                .map(|r| strategy.lines_of_effort.iter().position(|l| l.id == r.line_of_effort))
                .collect(),
            sorted_codes: strategy
                .rules
                .iter()
                .map(|r| {
                    let mut c = r.codes.clone();
                    c.sort_unstable();
                    c
                })
                .collect(),
            rule_fields,
            en,
            es,
            unless,
            automata: std::sync::OnceLock::new(),
            folded_names,
            uses_transaction_descriptions: strategy
                .rules
                .iter()
                .any(|r| r.fields.iter().any(|f| f == "transaction_description")),
        }
    }

    /// True when a keyword rule searches transaction descriptions.
    pub fn uses_transaction_descriptions(&self) -> bool {
        self.uses_transaction_descriptions
    }

    /// The strategy this mapper was built from.
    pub fn strategy_id(&self) -> &str {
        &self.strategy_id
    }

    /// Maps one activity. Pure and deterministic.
    pub fn map(&self, a: &Activity) -> Mapping {
        self.map_folded(a, &Folded::of(a, self.uses_transaction_descriptions))
    }

    /// Maps one activity whose narratives were folded already (see [`Folded::of`]; fold with
    /// transactions when [`Mapper::uses_transaction_descriptions`]).
    pub fn map_folded(&self, a: &Activity, folded: &Folded) -> Mapping {
        let [unless, en, es] = self.automata.get_or_init(|| [build(&self.unless), build(&self.en), build(&self.es)]);
        let scan = |texts: &[(Option<Lang<'_>>, Span)]| -> Vec<Hits> {
            texts
                .iter()
                .map(|(_, f)| {
                    let mut hits = Hits::new();
                    for (set, list) in [(Set::Unless, unless), (Set::En, en), (Set::Es, es)] {
                        if let Some(ac) = list {
                            hits.extend(
                                ac.find_overlapping_iter(folded.text(f)).map(|m| (set, m.pattern().as_usize())),
                            );
                        }
                    }
                    hits
                })
                .collect()
        };
        let scans = Scans {
            title: scan(&folded.title),
            description: scan(&folded.description),
            transaction_description: scan(&folded.transaction_description),
        };
        self.map_scanned(a, folded, &scans)
    }

    /// The phrases of one keyword list.
    fn patterns(&self, set: Set) -> &[Pattern] {
        match set {
            Set::Unless => &self.unless,
            Set::En => &self.en,
            Set::Es => &self.es,
        }
    }

    /// Maps one activity whose texts were folded and scanned already.
    fn map_scanned(&self, a: &Activity, folded: &Folded, scans: &Scans) -> Mapping {
        // Evidence with the index of its rule. At most 3 per rule, no value twice for one rule:
        // `wants` is asked before a field path or value is built, since long descriptions hit
        // the same phrases many times.
        let mut ev: Vec<(usize, Evidence)> = Vec::new();
        let mut per_rule: smallvec::SmallVec<[u8; 64]> = smallvec::smallvec![0u8; self.rules.len()];
        let wants = |ev: &[(usize, Evidence)], per_rule: &[u8], i: usize, value: &str| {
            per_rule[i] < 3 && !ev.iter().any(|(j, e)| *j == i && e.value == value)
        };
        let push = |ev: &mut Vec<(usize, Evidence)>, per_rule: &mut [u8], i: usize, field: String, value: String| {
            if wants(ev, per_rule, i, &value) {
                let rule = &self.rules[i];
                per_rule[i] += 1;
                ev.push((
                    i,
                    Evidence {
                        line_of_effort: rule.line_of_effort.as_str().into(),
                        rule: rule.id.as_str().into(),
                        kind: rule.kind.as_str().into(),
                        field,
                        value,
                        strength: self.strengths[i],
                    },
                ));
            }
        };

        // Vetoes: phrases found anywhere in title or descriptions (the first one found of each
        // rule, as an index into the veto list). A vetoed rule is still evaluated: what it
        // finds becomes a near miss, not evidence.
        let mut vetoed: smallvec::SmallVec<[Option<usize>; 64]> = smallvec::smallvec![None; self.rules.len()];
        let unless = self.patterns(Set::Unless);
        for hits in scans.title.iter().chain(&scans.description) {
            for &(set, k) in hits {
                if set == Set::Unless {
                    vetoed[unless[k].rule].get_or_insert(k);
                }
            }
        }
        // Keyword phrases found in a field their rule does not search: (rule, field, phrase).
        let mut elsewhere: Vec<(usize, String, String)> = Vec::new();

        for (i, r) in self.rules.iter().enumerate() {
            let codes = &self.sorted_codes[i];
            let has_code = |c: &str| codes.binary_search_by(|x| x.as_str().cmp(c)).is_ok();
            match self.kinds[i] {
                RuleKind::Sector => {
                    let voc = r.vocabulary.as_deref().unwrap_or("1");
                    let hit = |s: &Sector| {
                        s.vocabulary == voc
                            && (has_code(&s.code) || r.code_prefixes.iter().any(|p| s.code.starts_with(p.as_str())))
                    };
                    // At most 3 distinct codes are kept as evidence: stop scanning (an activity
                    // can have thousands of transactions) once they are found.
                    let mut hits: Vec<(&Sector, &str)> = Vec::new();
                    for &(s, path) in &folded.sectors {
                        if hits.len() >= 3 {
                            break;
                        }
                        if hit(s) && !hits.iter().any(|(h, _)| h.code == s.code) {
                            hits.push((s, path));
                        }
                    }
                    for (s, path) in hits {
                        push(&mut ev, &mut per_rule, i, format!("{path}[@vocabulary={voc}]"), sector_value(s));
                    }
                }
                RuleKind::PolicyMarker => {
                    let voc = r.vocabulary.as_deref().unwrap_or("1");
                    let min = r.min_significance.unwrap_or(1);
                    for p in &a.policy_markers {
                        if p.vocabulary == voc && has_code(&p.code) && p.significance.unwrap_or(0) >= min {
                            push(
                                &mut ev,
                                &mut per_rule,
                                i,
                                format!("policy-marker[@vocabulary={voc}]"),
                                format!("{} (significance {})", p.code, p.significance.unwrap_or(0)),
                            );
                        }
                    }
                }
                RuleKind::Tag => {
                    for t in &a.tags {
                        if r.vocabulary.as_deref().is_none_or(|v| v == t.vocabulary) && has_code(&t.code) {
                            push(
                                &mut ev,
                                &mut per_rule,
                                i,
                                format!("tag[@vocabulary={}]", t.vocabulary),
                                t.code.to_string(),
                            );
                        }
                    }
                }
                RuleKind::Humanitarian => {
                    if a.humanitarian == Some(true) {
                        push(&mut ev, &mut per_rule, i, "@humanitarian".into(), "1".into());
                    } else if a.transactions.iter().any(|t| t.humanitarian == Some(true)) {
                        push(&mut ev, &mut per_rule, i, "transaction/@humanitarian".into(), "1".into());
                    }
                }
                RuleKind::ParticipatingOrg => {
                    for (org, p) in a.participating_orgs.iter().enumerate() {
                        if !r.roles.is_empty() && !p.role.as_ref().is_some_and(|x| r.roles.iter().any(|y| y == x)) {
                            continue;
                        }
                        if let Some(rf) = &p.org.r#ref
                            && r.refs.iter().any(|y| y == rf)
                        {
                            push(&mut ev, &mut per_rule, i, "participating-org/@ref".into(), rf.to_string());
                        }
                        for (_, text, f) in folded.org_names.iter().filter(|(k, _, _)| *k == org) {
                            // The first name of the rule's list found in the org name (the
                            // lowest pattern index among all matches, overlapping included).
                            let (pats, ac) = &self.folded_names[i];
                            let first = ac.as_ref().and_then(|ac| {
                                ac.find_overlapping_iter(folded.text(f)).map(|m| m.pattern().as_usize()).min()
                            });
                            if let Some(hit) = first.and_then(|k| pats.get(k)) {
                                push(
                                    &mut ev,
                                    &mut per_rule,
                                    i,
                                    "participating-org/narrative".into(),
                                    format!("{text} ≈ \"{}\"", hit.trim()),
                                );
                            }
                        }
                    }
                    if r.roles.is_empty() || r.roles.iter().any(|x| x == "4") {
                        let receiver = a
                            .transactions
                            .iter()
                            .filter_map(|t| t.receiver_org.as_ref()?.r#ref.as_ref())
                            .find(|rf| r.refs.iter().any(|y| y == *rf));
                        if let Some(rf) = receiver {
                            push(&mut ev, &mut per_rule, i, "transaction/receiver-org/@ref".into(), rf.to_string());
                        }
                    }
                }
                RuleKind::Other => {}
            }
        }

        // Keywords: English phrases in English text, Spanish in Spanish, both when the language
        // is not English or Spanish (or not given).
        let scan = |ev: &mut Vec<(usize, Evidence)>,
                    per_rule: &mut [u8],
                    lang: &Option<Lang<'_>>,
                    hits: &Hits,
                    field: Field,
                    path: &str,
                    elsewhere: &mut Vec<(usize, String, String)>| {
            let allowed = |set: Set| match lang.as_deref() {
                Some("en") => set == Set::En,
                Some("es") => set == Set::Es,
                _ => set != Set::Unless,
            };
            for &(set, k) in hits.iter().filter(|(set, _)| allowed(*set)) {
                let p = &self.patterns(set)[k];
                if !self.rule_fields[p.rule].contains(&field) {
                    if vetoed[p.rule].is_none() && !elsewhere.iter().any(|(r, _, _)| *r == p.rule) {
                        let lang_s = lang.as_deref().unwrap_or("?");
                        elsewhere.push((p.rule, format!("{path}/narrative[@xml:lang={lang_s}]"), p.phrase.clone()));
                    }
                    continue;
                }
                if !wants(ev, per_rule, p.rule, &p.phrase) {
                    continue;
                }
                let lang_s = lang.as_deref().unwrap_or("?");
                push(ev, per_rule, p.rule, format!("{path}/narrative[@xml:lang={lang_s}]"), p.phrase.clone());
            }
        };
        for ((l, _), hits) in folded.title.iter().zip(&scans.title) {
            scan(&mut ev, &mut per_rule, l, hits, Field::Title, "title", &mut elsewhere);
        }
        for ((l, _), hits) in folded.description.iter().zip(&scans.description) {
            scan(&mut ev, &mut per_rule, l, hits, Field::Description, "description", &mut elsewhere);
        }
        for ((l, _), hits) in folded.transaction_description.iter().zip(&scans.transaction_description) {
            scan(
                &mut ev,
                &mut per_rule,
                l,
                hits,
                Field::TransactionDescription,
                "transaction/description",
                &mut elsewhere,
            );
        }

        // What vetoed rules found is not evidence.
        let (mut ev, missed): (Vec<_>, Vec<_>) = ev.into_iter().partition(|(i, _)| vetoed[*i].is_none());
        let lines: Vec<String> = self
            .loe_order
            .iter()
            .enumerate()
            .filter(|(k, _)| ev.iter().any(|(i, _)| self.rule_loe[*i] == Some(*k)))
            .map(|(_, l)| l.clone())
            .collect();
        // Near misses, for lines the activity does not map to: vetoed matches, then phrases
        // found in a field their rule does not search.
        let mapped = |i: usize| lines.iter().any(|l| *l == self.rules[i].line_of_effort);
        let mut near: Vec<(usize, NearMiss)> = Vec::new();
        for (i, e) in missed {
            if mapped(i) {
                continue;
            }
            let phrase = vetoed[i].and_then(|k| unless.get(k)).map(|p| p.phrase.clone()).unwrap_or_default();
            near.push((
                i,
                NearMiss {
                    line_of_effort: e.line_of_effort,
                    rule: e.rule,
                    kind: e.kind,
                    field: e.field,
                    value: e.value,
                    strength: e.strength,
                    reason: NearMissReason::Veto { phrase },
                },
            ));
        }
        for (i, field, value) in elsewhere {
            if mapped(i) {
                continue;
            }
            let rule = &self.rules[i];
            near.push((
                i,
                NearMiss {
                    line_of_effort: rule.line_of_effort.as_str().into(),
                    rule: rule.id.as_str().into(),
                    kind: rule.kind.as_str().into(),
                    field,
                    value,
                    strength: self.strengths[i],
                    reason: NearMissReason::Field,
                },
            ));
        }
        // By line of effort in the strategy's order (a line the strategy does not list first),
        // then as found (the sorts are stable).
        ev.sort_by_key(|(i, _)| self.rule_loe[*i]);
        near.sort_by_key(|(i, _)| self.rule_loe[*i]);
        Mapping {
            lines_of_effort: lines,
            evidence: ev.into_iter().map(|(_, e)| e).collect(),
            near_misses: near.into_iter().map(|(_, n)| n).collect(),
        }
    }
}

/// The mappers of several strategies with their keyword lists merged into one automaton: each
/// text of an activity is folded and scanned once for every strategy and language (the import
/// maps every activity onto every built-in strategy). Gives the same mappings as each
/// [`Mapper::map`].
pub struct MapperSet {
    mappers: Vec<Mapper>,
    /// Every phrase of every mapper's vetoes, English and Spanish lists.
    keywords: Option<AhoCorasick>,
    /// For each phrase of `keywords`: (mapper, list, index in that mapper's list).
    owners: Vec<(usize, Set, usize)>,
    with_transactions: bool,
}

impl MapperSet {
    /// Compiles the rules of `strategies`.
    pub fn new(strategies: &[Strategy]) -> Self {
        let mappers: Vec<Mapper> = strategies.iter().map(Mapper::new).collect();
        let mut phrases = Vec::new();
        let mut owners = Vec::new();
        for (i, m) in mappers.iter().enumerate() {
            for set in [Set::Unless, Set::En, Set::Es] {
                for (k, p) in m.patterns(set).iter().enumerate() {
                    phrases.push(to_pattern(&p.phrase));
                    owners.push((i, set, k));
                }
            }
        }
        let keywords = if phrases.is_empty() {
            None
        } else {
            // A contiguous NFA, not a DFA: for the built-in strategies' 688 phrases the DFA
            // takes 2.2 MB and the NFA 114 KB. Alone, both scan about as fast; during an import
            // the parser and SQLite evict the DFA from the core's cache, and its scan became
            // the costliest function of the import in cycles (a cache miss every few bytes).
            // No prefilter: every folded phrase starts with a space, so a prefilter would stop at
            // every word (measured: the plain scan is faster).
            AhoCorasick::builder()
                .match_kind(MatchKind::Standard)
                .kind(Some(AhoCorasickKind::ContiguousNFA))
                .prefilter(false)
                .build(&phrases)
                .ok()
        };
        let with_transactions = mappers.iter().any(Mapper::uses_transaction_descriptions);
        Self { mappers, keywords, owners, with_transactions }
    }

    /// The mappers, in the order of the strategies given to [`MapperSet::new`].
    pub fn mappers(&self) -> &[Mapper] {
        &self.mappers
    }

    /// Maps `a` onto every strategy: `(strategy id, mapping)`, in the order of the strategies.
    pub fn map_all(&self, a: &Activity) -> Vec<(&str, Mapping)> {
        let folded = Folded::of(a, self.with_transactions);
        let mut scans: Vec<Scans> = self.mappers.iter().map(|_| Scans::default()).collect();
        let scan_into =
            |texts: &[(Option<Lang<'_>>, Span)], scans: &mut Vec<Scans>, pick: fn(&mut Scans) -> &mut Vec<Hits>| {
                for (_, f) in texts {
                    for s in scans.iter_mut() {
                        pick(s).push(Hits::new());
                    }
                    let Some(ac) = &self.keywords else { continue };
                    for m in ac.find_overlapping_iter(folded.text(f)) {
                        let (i, set, k) = self.owners[m.pattern().as_usize()];
                        if let Some(h) = pick(&mut scans[i]).last_mut() {
                            h.push((set, k));
                        }
                    }
                    for s in scans.iter_mut() {
                        if let Some(h) = pick(s).last_mut() {
                            // By list, then in scan order (the sort is stable).
                            h.sort_by_key(|(set, _)| *set);
                        }
                    }
                }
            };
        scan_into(&folded.title, &mut scans, |s| &mut s.title);
        scan_into(&folded.description, &mut scans, |s| &mut s.description);
        scan_into(&folded.transaction_description, &mut scans, |s| &mut s.transaction_description);
        self.mappers.iter().zip(&scans).map(|(m, sc)| (m.strategy_id(), m.map_scanned(a, &folded, sc))).collect()
    }
}

fn sector_value(s: &Sector) -> String {
    match &s.name {
        Some(n) => format!("{} ({n})", s.code),
        None => s.code.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::codes::IatiIdentifier;

    fn strategy() -> Strategy {
        Strategy::from_toml("t", &strategy_text()).expect("valid")
    }

    fn strategy_text() -> String {
        r#"id='t'
title='t'
short_title='t'
published='2021-07-29'
source='s'
focus_countries=['GT']
[[lines_of_effort]]
id='A'
title='a'
scope='s'
[[lines_of_effort]]
id='B'
title='b'
scope='s'
[[rules]]
id='kw'
line_of_effort='B'
kind='keyword'
note='n'
en=['returned migrant*']
es=['retornad*']
unless=['mock exercise']
[[rules]]
id='sec'
line_of_effort='A'
kind='sector'
note='n'
vocabulary='1'
code_prefixes=['720']
"#
        .to_owned()
    }

    fn activity(title: &str, lang: &str) -> Activity {
        let mut a = Activity::new(IatiIdentifier::parse("X-1").expect("id"));
        a.title.push(Narrative { lang: Some(lang.into()), text: title.into() });
        a
    }

    #[test]
    fn keywords_match_whole_words_per_language_with_evidence() {
        let m = Mapper::new(&strategy());
        let r = m.map(&activity("Support to Returned Migrants in Honduras", "en"));
        assert_eq!(r.lines_of_effort, ["B"]);
        assert_eq!(r.evidence[0].rule, "kw");
        assert_eq!(r.evidence[0].field, "title/narrative[@xml:lang=en]");
        assert!(m.map(&activity("Apoyo a personas retornadas", "es")).lines_of_effort == ["B"]);
        // Spanish phrase does not fire on English text, and vetoes work.
        assert!(m.map(&activity("retornados", "en")).lines_of_effort.is_empty());
        assert!(m.map(&activity("returned migrants mock exercise", "en")).lines_of_effort.is_empty());
        // Whole words only: "unreturned migrants" does not match.
        assert!(m.map(&activity("unreturned migrants", "en")).lines_of_effort.is_empty());
    }

    #[test]
    fn vetoed_rules_and_phrases_in_other_fields_are_near_misses() {
        let text = strategy_text().replace("kind='keyword'", "kind='keyword'\nfields=['title']");
        let m = Mapper::new(&Strategy::from_toml("t", &text).expect("valid"));
        // A veto: the keyword matched, the veto phrase fired, so a near miss names both.
        let r = m.map(&activity("returned migrants mock exercise", "en"));
        assert!(r.lines_of_effort.is_empty());
        assert_eq!(r.near_misses.len(), 1, "{r:?}");
        assert_eq!(r.near_misses[0].line_of_effort, "B");
        assert_eq!(r.near_misses[0].reason, NearMissReason::Veto { phrase: "mock exercise".into() });
        // A title-only rule's phrase in a description.
        let mut a = activity("Roads", "en");
        a.descriptions.push(crate::activity::Description {
            description_type: None,
            narratives: vec![Narrative { lang: Some("en".into()), text: "for returned migrants".into() }].into(),
        });
        let r = m.map(&a);
        assert!(r.lines_of_effort.is_empty());
        assert_eq!(r.near_misses[0].reason, NearMissReason::Field);
        assert_eq!(r.near_misses[0].field, "description/narrative[@xml:lang=en]");
        // No near miss for a line the activity maps to.
        a.title[0].text = "Returned migrants".into();
        let r = m.map(&a);
        assert_eq!(r.lines_of_effort, ["B"]);
        assert!(r.near_misses.is_empty(), "{r:?}");
    }

    #[test]
    fn confidence_is_the_strongest_evidence_and_weak_signals_corroborate() {
        let st = strategy();
        assert_eq!(st.rules[0].strength(), Strength::Weak, "keyword over title and descriptions");
        assert_eq!(st.rules[1].strength(), Strength::Strong, "sector");
        let m = Mapper::new(&st);
        let mut a = activity("Roads", "en");
        let desc = |t: &str| crate::activity::Description {
            description_type: None,
            narratives: vec![Narrative { lang: Some("en".into()), text: t.into() }].into(),
        };
        a.descriptions.push(desc("for returned migrants"));
        let r = m.map(&a);
        assert_eq!(r.confidence("B"), Some(Strength::Weak));
        assert_eq!(r.confidence_text(), "weak");
        a.descriptions.push(desc("also returned migrants again, and returned migrant families"));
        // The same phrase twice is one signal.
        assert_eq!(m.map(&a).confidence("B"), Some(Strength::Weak));
        a.sectors.push(Sector { vocabulary: "1".into(), code: "72010".into(), percentage: None, name: None });
        let r = m.map(&a);
        assert_eq!(r.confidence_text(), "strong;weak");
        assert_eq!(r.confidence("C"), None);
    }

    #[test]
    fn sector_prefix_maps_and_order_follows_strategy() {
        let m = Mapper::new(&strategy());
        let mut a = activity("Returned migrants", "en");
        a.sectors.push(Sector { vocabulary: "1".into(), code: "72010".into(), percentage: None, name: None });
        let r = m.map(&a);
        assert_eq!(r.lines_of_effort, ["A", "B"]);
    }
}
