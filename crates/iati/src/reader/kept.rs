//! Unmodelled elements and attributes: what Senda does not model is kept as published, so
//! that nothing of an activity is lost (issue 20 item 9).
//!
//! - An element Senda does not model (unknown, namespaced, or an IATI element such as
//!   `contact-info`, `document-link`, a result's `description`) is kept whole: one
//!   [`Extension`] for it and one for each element inside it, each with its attributes and its
//!   own text, its parent path naming the positions of repeated modelled elements
//!   (`iati-activity/result[0]/indicator[1]`, 0-based, as `transaction[n]` always was).
//! - An attribute of a modelled element that Senda does not model (`vocabulary-uri`,
//!   `provider-activity-id`, `@srsName`...) is kept as an `@name` extension on the element's
//!   path; so is the text of an element whose value Senda reads from its attributes (`#text`).
//! - A value Senda cannot read (an invalid date, percentage, country code, currency, amount or
//!   point) is an error diagnostic and is not modelled, but the published text is kept here.
//! - An element IATI allows once and given twice, or a `transaction` nested in another, is kept
//!   here with everything inside it (the first one is the modelled one).
//!
//! Blank attribute values and white-space text are not kept: they publish nothing. Namespace
//! declarations (`xmlns:`) are not kept: each kept element records its namespace URI.

use super::*;

impl<R: BufRead> ActivityReader<R> {
    /// Keeps the element being opened (`raw_name`, `attrs`, under `parent`) whole as an
    /// unmodelled element; its children are kept too (see [`Self::open`]). Errors: the
    /// activity's kept elements exceed [`MAX_EXTENSION_BYTES`].
    pub(super) fn keep_element(
        &mut self,
        raw_name: &str,
        attrs: &Attrs<'_>,
        parent: Kind,
        pos: u64,
    ) -> Result<Kind, FatalError> {
        let ns = raw_name
            .split_once(':')
            .and_then(|(p, _)| self.namespaces.iter().find(|(q, _)| q == p))
            .map(|(_, u)| u.clone());
        let parent_path = match parent {
            // Inside an extension: its own path (what `ext_parent_path` would build).
            Kind::Extension(idx) => match self.act.as_ref().and_then(|a| a.extensions.get(idx as usize)) {
                Some(p) => {
                    let mut s = String::with_capacity(p.parent.len() + 1 + p.name.len());
                    s.push_str(&p.parent);
                    s.push('/');
                    s.push_str(&p.name);
                    s
                }
                None => self.ext_parent_path(),
            },
            _ => self.ext_parent_path(),
        };
        self.extension_bytes +=
            parent_path.len() + raw_name.len() + attrs.iter().map(|(k, v)| k.len() + v.len()).sum::<usize>();
        self.check_extension_bytes(pos)?;
        let a = self.act.as_mut().ok_or_else(internal)?;
        a.extensions.push(Extension {
            namespace: ns,
            name: raw_name.into(),
            value: CompactString::default(),
            attributes: attrs
                .iter()
                .filter(|(k, _)| !is_namespace_declaration(k))
                .map(|(k, v)| (CompactString::from(*k), CompactString::from(v.as_ref())))
                .collect(),
            parent: parent_path.into(),
        });
        Ok(Kind::Extension(u32::try_from(a.extensions.len() - 1).map_err(|_| internal())?))
    }

    fn check_extension_bytes(&self, pos: u64) -> Result<(), FatalError> {
        if self.extension_bytes > MAX_EXTENSION_BYTES {
            return Err(FatalError {
                code: "limit",
                message: format!(
                    "the activity's extension elements (unknown or namespaced) exceed {} MB",
                    MAX_EXTENSION_BYTES / (1024 * 1024)
                ),
                offset: pos,
            });
        }
        Ok(())
    }

    /// Keeps attribute `key` (value as published) of the element at `path`, unless it is a
    /// namespace declaration or blank.
    pub(super) fn keep_attr(&mut self, key: &str, value: &str, path: &str) {
        if is_namespace_declaration(key) || value.trim_ws().is_empty() {
            return;
        }
        let ns = key
            .split_once(':')
            .filter(|(p, _)| *p != "xml")
            .and_then(|(p, _)| self.namespaces.iter().find(|(q, _)| q == p))
            .map(|(_, u)| u.clone());
        // Bounded with the kept elements (a hostile file's attributes are bounded per element
        // already; this bounds them per activity).
        self.extension_bytes += key.len() + value.len() + path.len();
        if let Some(a) = self.act.as_mut() {
            a.extensions.push(Extension {
                namespace: ns,
                name: senda_core::activity::format_compact!("@{key}"),
                value: value.into(),
                attributes: Vec::new(),
                parent: path.into(),
            });
        }
    }

    /// Keeps the attributes of the element just pushed (`kind`, named `elem`, under `parent`)
    /// that Senda does not model.
    pub(super) fn keep_unmodelled_attrs(
        &mut self,
        kind: Kind,
        elem: Option<Elem>,
        parent: Kind,
        attrs: &[(&str, std::borrow::Cow<'_, str>)],
    ) {
        let mut path: Option<String> = None;
        for (k, v) in attrs {
            if modelled_attr(kind, elem, parent, k) || is_namespace_declaration(k) || v.trim_ws().is_empty() {
                continue;
            }
            let p = path.get_or_insert_with(|| self.ext_parent_path());
            let p = p.clone();
            self.keep_attr(k, v, &p);
        }
    }

    /// The path of the element being opened or closed (named `self.current`, of kind `own`
    /// when known, not on the frame stack), as kept elements name their parent.
    fn current_path(&self, own: Option<Kind>) -> String {
        use std::fmt::Write;
        let mut p = self.ext_parent_path();
        if let Some(c) = self.current {
            if !p.is_empty() {
                p.push('/');
            }
            p.push_str(c);
            if let Some(n) = own.and_then(|k| self.position_in_parent(k, self.frames.len())) {
                let _ = write!(p, "[{n}]");
            }
        }
        p
    }

    /// Keeps `@key = raw` of the element being opened or closed (of kind `own`, when known):
    /// a value Senda could not read (reported as an error) is kept as published.
    pub(super) fn keep_rejected(&mut self, own: Option<Kind>, key: &str, raw: &str) {
        let p = self.current_path(own);
        self.keep_attr(key, raw, &p);
    }

    /// Keeps the text of the element being closed (named `self.current`) that Senda does not
    /// read (`#text`), e.g. a 1.0x code's name beside its `@code`.
    pub(super) fn keep_text(&mut self, text: &str) {
        let t = text.trim_ws();
        if t.is_empty() {
            return;
        }
        let p = self.current_path(None);
        self.extension_bytes += t.len() + p.len();
        if let Some(a) = self.act.as_mut() {
            a.extensions.push(Extension {
                namespace: None,
                name: CompactString::const_new("#text"),
                value: t.into(),
                attributes: Vec::new(),
                parent: p.into(),
            });
        }
    }

    /// Keeps an element Senda reads but could not model (`name` under the element being
    /// closed's parent, with `attributes` and text `value`): a `value` whose amount is invalid,
    /// a `pos` that is not a point.
    pub(super) fn keep_closed_element(
        &mut self,
        name: &str,
        attributes: Vec<(CompactString, CompactString)>,
        value: &str,
    ) {
        let p = self.ext_parent_path();
        self.extension_bytes += name.len() + value.len() + p.len();
        if let Some(a) = self.act.as_mut() {
            a.extensions.push(Extension {
                namespace: None,
                name: name.into(),
                value: value.trim_ws().into(),
                attributes,
                parent: p.into(),
            });
        }
    }

    /// Keeps narratives of a modelled element that keeps only its first narrative's text
    /// (`sector`, `tag`): the first's language and every other narrative. `path` is the
    /// element's own path.
    pub(super) fn keep_more_narratives(&mut self, path: &str, first_lang: Option<&str>, rest: &[Narrative]) {
        if let Some(l) = first_lang {
            let p = format!("{path}/narrative");
            self.keep_attr("xml:lang", l, &p);
        }
        for n in rest {
            self.extension_bytes += n.text.len() + path.len();
            if let Some(a) = self.act.as_mut() {
                a.extensions.push(Extension {
                    namespace: None,
                    name: CompactString::const_new("narrative"),
                    value: n.text.clone(),
                    attributes: n.lang.iter().map(|l| (CompactString::const_new("xml:lang"), l.clone())).collect(),
                    parent: path.into(),
                });
            }
        }
    }

    /// The open elements as kept elements name their parent: `iati-activity/result[0]/...`,
    /// each repeated modelled element with its 0-based position among its kind in its parent
    /// (see [`Self::position_in_parent`]); a kept element by its name.
    pub(super) fn ext_parent_path(&self) -> String {
        use std::fmt::Write;
        let mut s = String::with_capacity(64);
        for (i, f) in self.frames.iter().enumerate() {
            if i > 0 {
                s.push('/');
            }
            match f.kind {
                Kind::Extension(idx) => s.push_str(
                    self.act
                        .as_ref()
                        .and_then(|a| a.extensions.get(idx as usize))
                        .map(|e| e.name.as_str())
                        .unwrap_or("?"),
                ),
                _ => s.push_str(f.name()),
            }
            if let Some(n) = self.position_in_parent(f.kind, i) {
                let _ = write!(s, "[{n}]");
            }
        }
        s
    }

    /// The 0-based position of the open element of kind `k` (at depth `depth`) among the
    /// elements of its kind already read in its parent; `None` for elements IATI allows once
    /// or that hold nothing kept.
    pub(super) fn position_in_parent(&self, k: Kind, depth: usize) -> Option<usize> {
        let a = self.act.as_ref()?;
        Some(match k {
            Kind::Transaction if depth == 1 => a.transactions.len(),
            Kind::Result => a.results.len(),
            Kind::Indicator => self.result.as_ref()?.indicators.len(),
            Kind::Period => self.indicator.as_ref()?.periods.len(),
            Kind::Baseline => self.indicator.as_ref()?.baselines.len(),
            Kind::Target => self.period.as_ref()?.targets.len(),
            Kind::Actual => self.period.as_ref()?.actuals.len(),
            Kind::Budget => a.budgets.len(),
            Kind::Location => a.locations.len(),
            Kind::ParticipatingOrg => a.participating_orgs.len(),
            Kind::Description if depth == 1 => a.descriptions.len(),
            Kind::Sector if depth == 1 => a.sectors.len(),
            Kind::Sector => self.tx.as_ref()?.sectors.len(),
            Kind::Tag => a.tags.len(),
            _ => return None,
        })
    }
}

/// `xmlns` and `xmlns:p`: namespace declarations, not content.
fn is_namespace_declaration(key: &str) -> bool {
    key == "xmlns" || key.starts_with("xmlns:")
}

/// Whether Senda models attribute `key` of an element of `kind` (named `elem`, under
/// `parent`): the attributes each element's handler reads (see `kind_for`). Every other
/// attribute is kept as published.
pub(super) fn modelled_attr(kind: Kind, elem: Option<Elem>, parent: Kind, key: &str) -> bool {
    use Kind::*;
    if key == "xml:lang" {
        // Read where a narrative (or 1.0x text) is kept.
        return takes_narratives(kind) || (kind == Narrative && takes_narratives(parent));
    }
    match kind {
        ReportingOrg | ProviderOrg | ReceiverOrg => matches!(key, "ref" | "type"),
        ParticipatingOrg => matches!(key, "role" | "ref" | "type" | "activity-id"),
        Description | Budget => matches!(key, "type") || (kind == Budget && key == "status"),
        Status | TxType => key == "code",
        ActivityDate => matches!(key, "type" | "iso-date"),
        Country => matches!(key, "code" | "percentage"),
        Region | Sector => matches!(key, "code" | "vocabulary" | "percentage"),
        Tag => matches!(key, "code" | "vocabulary"),
        Transaction => matches!(key, "ref" | "humanitarian"),
        TxDate | PeriodStart | PeriodEnd => key == "iso-date",
        Value => matches!(key, "currency" | "value-date"),
        Location => key == "ref",
        Result => key == "type",
        Indicator => matches!(key, "measure" | "ascending"),
        Baseline => matches!(key, "value" | "year" | "iso-date"),
        Target | Actual => key == "value",
        Leaf => match elem {
            Some(Elem::PolicyMarker) => matches!(key, "code" | "vocabulary" | "significance"),
            Some(Elem::RelatedActivity) => matches!(key, "ref" | "type"),
            Some(Elem::Administrative) => matches!(key, "code" | "vocabulary" | "level"),
            _ => key == "code",
        },
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::super::*;

    /// `(parent, name, attributes, value)` of each kept item of the one activity in `inner`.
    fn kept(inner: &str) -> Vec<String> {
        let doc = format!(
            "<iati-activities version=\"2.03\"><iati-activity default-currency=\"USD\"><iati-identifier>XM-1</iati-identifier>{inner}</iati-activity></iati-activities>"
        );
        let mut r = ActivityReader::new(doc.as_bytes(), "f.xml");
        let p = r.next_activity().expect("readable").expect("an activity");
        let a = p.activity.expect("kept");
        a.extensions
            .iter()
            .map(|e| {
                let attrs: Vec<String> = e.attributes.iter().map(|(k, v)| format!("{k}={v}")).collect();
                format!("{} {} [{}] {:?}", e.parent, e.name, attrs.join(" "), e.value.as_str())
            })
            .collect()
    }

    #[test]
    fn unmodelled_elements_are_kept_whole_with_their_positions() {
        assert_eq!(
            kept(
                "<contact-info type=\"1\"><organisation><narrative>Agency</narrative></organisation><email>a@example.org</email></contact-info>\
                 <result type=\"1\"><title><narrative>R</narrative></title><description><narrative>D</narrative></description></result>\
                 <result type=\"2\"><indicator measure=\"1\"><title><narrative>I</narrative></title><document-link url=\"http://x\"><category code=\"A01\"/></document-link></indicator></result>"
            ),
            [
                "iati-activity contact-info [type=1] \"\"",
                "iati-activity/contact-info organisation [] \"\"",
                "iati-activity/contact-info/organisation narrative [] \"Agency\"",
                "iati-activity/contact-info email [] \"a@example.org\"",
                "iati-activity/result[0] description [] \"\"",
                "iati-activity/result[0]/description narrative [] \"D\"",
                "iati-activity/result[1]/indicator[0] document-link [url=http://x] \"\"",
                "iati-activity/result[1]/indicator[0]/document-link category [code=A01] \"\"",
            ]
        );
    }

    #[test]
    fn unmodelled_attributes_text_rejected_values_and_second_copies_are_kept() {
        assert_eq!(
            kept(
                "<iati-identifier>XM-2</iati-identifier>\
                 <sector code=\"11110\" vocabulary=\"1\" vocabulary-uri=\"http://v\" percentage=\"lots\"><narrative xml:lang=\"en\">Education</narrative><narrative xml:lang=\"fr\">Éducation</narrative></sector>\
                 <policy-marker code=\"1\" significance=\"2\"><narrative>Gender</narrative></policy-marker>\
                 <default-flow-type code=\"10\">ODA</default-flow-type>\
                 <activity-date type=\"1\" iso-date=\"2020-13-45\"/>\
                 <transaction><transaction-type code=\"3\"/><transaction-date iso-date=\"2020-01-01\"/><value currency=\"usd$\">1</value><value>2</value><disbursement-channel code=\"1\"/></transaction>"
            ),
            [
                "iati-activity iati-identifier [] \"XM-2\"",
                "iati-activity/sector[0] @percentage [] \"lots\"",
                "iati-activity/sector[0] @vocabulary-uri [] \"http://v\"",
                "iati-activity/sector[0]/narrative @xml:lang [] \"en\"",
                "iati-activity/sector[0] narrative [xml:lang=fr] \"Éducation\"",
                "iati-activity/policy-marker narrative [] \"Gender\"",
                "iati-activity/default-flow-type #text [] \"ODA\"",
                "iati-activity/activity-date @iso-date [] \"2020-13-45\"",
                "iati-activity/transaction[0]/value @currency [] \"usd$\"",
                "iati-activity/transaction[0] value [] \"2\"",
                "iati-activity/transaction[0] disbursement-channel [code=1] \"\"",
            ]
        );
    }
}
