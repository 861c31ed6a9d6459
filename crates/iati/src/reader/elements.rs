//! What each IATI element of an activity means: the kind of an element as it opens
//! (`kind_for`, reading its attributes) and its value as it closes (`close`), for the activity's
//! own elements (organisations, title, descriptions, dates, countries, regions, sectors, tags,
//! budgets, locations); transactions and results have their own modules, what Senda does not
//! model goes to `kept`.

use super::*;

impl<R: BufRead> ActivityReader<R> {
    /// What the known element `n` under `p` is, reading its attributes (`attrs`) into the
    /// activity being built; `Unmodelled` for an element kept as published (see `kept`).
    pub(super) fn kind_for(
        &mut self,
        n: Elem,
        p: Kind,
        attrs: &[(&str, std::borrow::Cow<'_, str>)],
        pos: u64,
        attr: &mut StartAttr,
    ) -> Result<Kind, FatalError> {
        let get = |k: &str| attrs.iter().find(|(a, _)| *a == k).map(|(_, v)| v.as_ref());
        let nonempty_str = |k: &str| get(k).map(str::trim_ws).filter(|v| !v.is_empty());
        let nonempty = |k: &str| nonempty_str(k).map(CompactString::from);
        if let Some(k) = self.transaction_kind(n, p, attrs, pos, attr)? {
            return Ok(k);
        }
        if let Some(k) = self.result_kind(n, p, attrs, pos)? {
            return Ok(k);
        }
        use Elem as N;
        use Kind::*;
        Ok(match (p, n) {
            (p, N::Narrative) if takes_narratives(p) => Narrative,
            (Activity, N::IatiIdentifier) if self.id_ok => {
                self.duplicate("iati-identifier", "iati-activity", pos);
                Unmodelled
            }
            (Activity, N::IatiIdentifier) => Identifier,
            (Activity, N::ReportingOrg) => {
                self.org =
                    Some(OrgRef { r#ref: nonempty("ref"), org_type: nonempty("type"), names: Narratives::new() });
                ReportingOrg
            }
            (Activity, N::ParticipatingOrg) => {
                self.porg = Some(senda_core::ParticipatingOrg {
                    role: nonempty("role").map(v1_role),
                    org: OrgRef { r#ref: nonempty("ref"), org_type: nonempty("type"), names: Narratives::new() },
                    activity_id: nonempty("activity-id"),
                });
                ParticipatingOrg
            }
            (Activity, N::Title) => Title,
            (Activity, N::Description) => {
                *attr = StartAttr::code(nonempty("type"));
                Description
            }
            (Activity, N::ActivityStatus) => {
                *attr = StartAttr::code(nonempty("code"));
                Status
            }
            (Activity, N::ActivityScope) => {
                let a = self.act.as_mut().ok_or_else(internal)?;
                a.scope = nonempty("code");
                Leaf
            }
            (Activity, N::ActivityDate) => {
                *attr = StartAttr::date(nonempty_str("iso-date"));
                let t = nonempty("type").map(v1_date_type).unwrap_or_default();
                self.date_type = Some(t);
                ActivityDate
            }
            (Activity | Transaction, N::RecipientCountry) => {
                let code = get("code").unwrap_or_default();
                let in_tx = p == Transaction;
                match CountryCode::parse(code) {
                    Ok(c) => {
                        let pct = self.pct(get("percentage"), pos, Country);
                        let rc = RecipientCountry { code: c, percentage: pct };
                        if in_tx {
                            if let Some(t) = self.tx.as_mut() {
                                t.recipient_countries.push(rc);
                            }
                        } else {
                            self.act.as_mut().ok_or_else(internal)?.recipient_countries.push(rc);
                        }
                    }
                    Err(e) => {
                        self.code_diag(e, pos);
                        if in_tx {
                            if let Some(t) = self.tx.as_mut() {
                                t.invalid_country = true;
                            }
                        } else {
                            self.act.as_mut().ok_or_else(internal)?.invalid_country = true;
                        }
                        // Not modelled (its money goes to UNKNOWN), kept as published.
                        return Ok(Unmodelled);
                    }
                }
                Country
            }
            (Activity | Transaction, N::RecipientRegion) => {
                let pct = self.pct(get("percentage"), pos, Region);
                let rr = RecipientRegion {
                    code: get("code").unwrap_or_default().trim_ws().into(),
                    vocabulary: nonempty("vocabulary").unwrap_or_else(|| "1".into()),
                    percentage: pct,
                };
                if p == Transaction {
                    if let Some(t) = self.tx.as_mut() {
                        t.recipient_regions.push(rr);
                    }
                } else {
                    self.act.as_mut().ok_or_else(internal)?.recipient_regions.push(rr);
                }
                Region
            }
            (Activity | Transaction, N::Sector) => {
                let pct = self.pct(get("percentage"), pos, Sector);
                let vocabulary = sector_vocabulary(get("vocabulary"));
                let code: String = get("code").unwrap_or_default().trim_ws().into();
                if vocabulary == "1" && !(code.len() == 5 && code.bytes().all(|b| b.is_ascii_digit())) {
                    // Kept as given (never guessed), but reports group by it: say so.
                    self.diag(
                        Severity::Warning,
                        "invalid-sector-code",
                        format!("sector code {code:?} with vocabulary 1 is not a DAC 5-digit purpose code: reported as it is"),
                        pos,
                        Some(
                            if p == Transaction { "iati-activity/transaction/sector/@code" } else { "iati-activity/sector/@code" }
                                .into(),
                        ),
                    );
                }
                self.sector = Some(senda_core::Sector { vocabulary, code: code.into(), percentage: pct, name: None });
                Sector
            }
            (Activity, N::Tag) => {
                self.tag = Some(senda_core::Tag {
                    vocabulary: nonempty("vocabulary").unwrap_or_else(|| "1".into()),
                    code: get("code").unwrap_or_default().trim_ws().into(),
                    name: None,
                });
                Tag
            }
            (Activity, N::PolicyMarker) => {
                let pm = PolicyMarker {
                    vocabulary: nonempty("vocabulary").unwrap_or_else(|| "1".into()),
                    code: get("code").unwrap_or_default().trim_ws().into(),
                    significance: get("significance").and_then(|s| s.trim_ws().parse().ok()),
                };
                if let Some(raw) = get("significance").filter(|_| pm.significance.is_none()) {
                    self.keep_rejected(None, "significance", raw);
                }
                self.act.as_mut().ok_or_else(internal)?.policy_markers.push(pm);
                Leaf
            }
            (Activity, N::DefaultAidType) => {
                if let Some(c) = nonempty("code") {
                    self.act.as_mut().ok_or_else(internal)?.default_aid_types.push(c);
                }
                Leaf
            }
            (Activity, N::DefaultFlowType) => {
                self.act.as_mut().ok_or_else(internal)?.default_flow_type = nonempty("code");
                Leaf
            }
            (Activity, N::DefaultFinanceType) => {
                self.act.as_mut().ok_or_else(internal)?.default_finance_type = nonempty("code");
                Leaf
            }
            (Activity, N::CollaborationType) => {
                self.act.as_mut().ok_or_else(internal)?.collaboration_type = nonempty("code");
                Leaf
            }
            (Activity, N::RelatedActivity) => match nonempty("ref") {
                Some(r) => {
                    self.act
                        .as_mut()
                        .ok_or_else(internal)?
                        .related_activities
                        .push(RelatedActivity { relation_type: nonempty("type").unwrap_or_default(), r#ref: r });
                    Leaf
                }
                None => Unmodelled,
            },
            (Activity, N::Budget) => {
                self.budget = Some(senda_core::Budget {
                    budget_type: nonempty("type"),
                    status: nonempty("status"),
                    period_start: None,
                    period_end: None,
                    value: None,
                });
                Budget
            }
            (Activity, N::Location) => {
                self.location = Some(senda_core::Location {
                    r#ref: nonempty("ref"),
                    name: Narratives::new(),
                    description: Narratives::new(),
                    administratives: vec![],
                    point: None,
                });
                Location
            }
            (Budget | Period, N::PeriodStart) => {
                *attr = StartAttr::date(nonempty_str("iso-date"));
                PeriodStart
            }
            (Budget | Period, N::PeriodEnd) => {
                *attr = StartAttr::date(nonempty_str("iso-date"));
                PeriodEnd
            }
            (Location, N::Name) => LocName,
            (Location, N::Description) => LocDescription,
            (Location, N::Administrative) => match (nonempty("code"), self.location.as_mut()) {
                (Some(c), Some(l)) => {
                    l.administratives.push(Administrative {
                        vocabulary: nonempty("vocabulary"),
                        level: nonempty("level"),
                        code: c,
                    });
                    Leaf
                }
                _ => Unmodelled,
            },
            (Location, N::Point) => Point,
            (Point, N::Pos) => Pos,
            (Transaction, N::Transaction) | (_, N::IatiActivity) => {
                let what = if n == N::Transaction { "transaction" } else { "iati-activity" };
                self.diag(
                    Severity::Warning,
                    "nested-element",
                    format!("<{what}> inside another one: not read, kept as published with everything in it among the other published elements (IATI does not nest them)"),
                    pos,
                    None,
                );
                Unmodelled
            }
            _ => Unmodelled,
        })
    }

    /// A second occurrence of an element IATI allows once (`what` in `parent`): ignored, with a
    /// warning; the first one is kept.
    pub(super) fn duplicate(&mut self, what: &str, parent: &str, pos: u64) {
        self.diag(
            Severity::Warning,
            "duplicate-element",
            format!("a second <{what}> in this <{parent}>: ignored (IATI allows one; the first is kept)"),
            pos,
            None,
        );
    }

    /// `@percentage` of the element being opened (of kind `own`); an invalid one is an error,
    /// kept as published.
    pub(super) fn pct(&mut self, raw: Option<&str>, pos: u64, own: Kind) -> Option<Percentage> {
        let raw = raw?;
        if raw.trim_ws().is_empty() {
            return None;
        }
        match Percentage::parse(raw) {
            Ok(p) => Some(p),
            Err(e) => {
                self.code_diag(e, pos);
                self.keep_rejected(Some(own), "percentage", raw);
                None
            }
        }
    }

    /// `@iso-date`, parsed, of the element being opened or closed (of kind `own`); an invalid
    /// one is an error, kept as published.
    pub(super) fn date_attr(
        &mut self,
        parsed: Option<Result<Date, CodeError>>,
        pos: u64,
        own: Option<Kind>,
    ) -> Option<Date> {
        match parsed? {
            Ok(d) => Some(d),
            Err(e) => {
                if let CodeError::Date(raw) = &e {
                    let raw = raw.clone();
                    self.keep_rejected(own, "iso-date", &raw);
                }
                self.code_diag(e, pos);
                None
            }
        }
    }

    /// A date from `@iso-date`, or (1.0x) from the element text with a warning.
    pub(super) fn date_or_text(&mut self, attr: Option<Result<Date, CodeError>>, text: &str, pos: u64) -> Option<Date> {
        if attr.is_some() {
            return self.date_attr(attr, pos, None);
        }
        let t = text.trim_ws();
        if t.is_empty() {
            return None;
        }
        match parse_iso_date(t) {
            Ok(d) => {
                self.diag(
                    Severity::Warning,
                    "date-in-text",
                    format!("date {t:?} given as element text instead of @iso-date (IATI 1.0x style): accepted"),
                    pos,
                    None,
                );
                Some(d)
            }
            Err(e) => {
                self.code_diag(e, pos);
                self.keep_text(t);
                None
            }
        }
    }

    pub(super) fn take_narratives(&mut self, f: &mut Frame, text: &str) -> Narratives {
        let mut v: Narratives = self.narrs.drain(f.narr_start..).collect();
        if v.is_empty() {
            let t = text.trim_ws();
            if !t.is_empty() {
                v.push(Narrative { lang: f.lang.take(), text: t.into() });
            }
        }
        v
    }

    /// The text of the first narrative of `f` (or its 1.0x text), for elements that model one
    /// name (`sector`, `tag`): the first narrative's language and the other narratives are kept
    /// as published. Without them, as `take_narratives(f, text)`'s first text, without the vector.
    pub(super) fn sector_narrative(&mut self, f: &mut Frame, text: &str) -> Option<CompactString> {
        let more =
            self.narrs.len() > f.narr_start + 1 || self.narrs.get(f.narr_start).is_some_and(|n| n.lang.is_some());
        if more {
            let own = format!("{}/{}", self.ext_parent_path(), f.name());
            let own = match self.position_in_parent(f.kind, self.frames.len()) {
                Some(n) => format!("{own}[{n}]"),
                None => own,
            };
            let mut v: Vec<senda_core::Narrative> = self.narrs.drain(f.narr_start..).collect();
            let first = v.remove(0);
            self.keep_more_narratives(&own, first.lang.as_deref(), &v);
            return Some(first.text);
        }
        let first = self.narrs.get_mut(f.narr_start).map(|n| std::mem::take(&mut n.text));
        self.narrs.truncate(f.narr_start);
        first.or_else(|| Some(text.trim_ws()).filter(|t| !t.is_empty()).map(CompactString::from))
    }

    /// Handles the end of the innermost open element: its value joins the activity.
    pub(super) fn close(&mut self) -> Result<(), FatalError> {
        let Some(mut f) = self.frames.pop() else { return Ok(()) };
        self.current = (!matches!(f.kind, Kind::Extension(_))).then_some(f.name());
        // The text buffer is moved out while the element is handled (nothing below writes to
        // it), so the element's text is borrowed, not copied.
        let text_buf = std::mem::take(&mut self.text);
        let text = &text_buf[f.text_start.min(text_buf.len())..];
        let pos = f.offset;
        use Kind::*;
        // Text of an element whose value Senda reads elsewhere (its attributes, its
        // narratives): kept as published (`#text`) when not blank.
        // `xml:lang` on an element whose narratives carry the text (1.0x put it on the element,
        // and its text then takes it): kept as published when narratives are there.
        if takes_narratives(f.kind)
            && self.narrs.len() > f.narr_start
            && let Some(l) = f.lang.take()
        {
            self.keep_rejected(Some(f.kind), "xml:lang", &l);
        }
        let unused_text = match f.kind {
            Leaf | Country | Region => true,
            Status | TxType => matches!(f.attr, StartAttr::Code(_)),
            ActivityDate | TxDate | PeriodStart | PeriodEnd => matches!(f.attr, StartAttr::Date(_)),
            k => takes_narratives(k) && self.narrs.len() > f.narr_start,
        };
        match f.kind {
            Narrative => {
                let t = text.trim_ws();
                // A narrative in an element that does not read narratives is dropped when that
                // element closes: not built at all.
                if !t.is_empty() && takes_narratives(self.parent()) {
                    self.narrs.truncate(f.narr_start);
                    self.narrs.push(senda_core::Narrative { lang: f.lang.take(), text: t.into() });
                }
            }
            Identifier => match IatiIdentifier::parse(text) {
                Ok(id) => {
                    if let Some(a) = self.act.as_mut() {
                        a.iati_identifier = id;
                    }
                    self.id_ok = true;
                }
                Err(e) => self.code_diag(e, pos),
            },
            ReportingOrg => {
                let names = self.take_narratives(&mut f, text);
                if let (Some(mut o), Some(a)) = (self.org.take(), self.act.as_mut()) {
                    o.names = names;
                    a.reporting_org = o;
                }
            }
            ParticipatingOrg => {
                let names = self.take_narratives(&mut f, text);
                if let (Some(mut p), Some(a)) = (self.porg.take(), self.act.as_mut()) {
                    p.org.names = names;
                    a.participating_orgs.push(p);
                }
            }
            Title => {
                let n = self.take_narratives(&mut f, text);
                if let Some(a) = self.act.as_mut() {
                    if a.title.is_empty() {
                        a.title = n;
                    } else {
                        a.title.extend(n);
                    }
                }
            }
            Description => {
                let n = self.take_narratives(&mut f, text);
                if let Some(a) = self.act.as_mut() {
                    a.descriptions
                        .push(senda_core::Description { description_type: f.attr.take_code(), narratives: n });
                }
            }
            Status => {
                let code =
                    f.attr.take_code().or_else(|| Some(CompactString::from(text.trim_ws())).filter(|s| !s.is_empty()));
                if let Some(a) = self.act.as_mut() {
                    a.status = code;
                }
            }
            ActivityDate => {
                let ty = self.date_type.take().unwrap_or_default();
                if let Some(d) = self.date_or_text(f.attr.take_date(), text, pos)
                    && let Some(a) = self.act.as_mut()
                {
                    a.dates.push(senda_core::ActivityDate { date_type: ty, date: d });
                }
            }
            Sector => {
                let name = self.sector_narrative(&mut f, text);
                if let Some(mut s) = self.sector.take() {
                    s.name = name;
                    let in_tx = self.parent() == Transaction;
                    if let Some(t) = self.tx.as_mut().filter(|_| in_tx) {
                        t.sectors.push(s);
                    } else if let Some(a) = self.act.as_mut() {
                        a.sectors.push(s);
                    }
                }
            }
            Tag => {
                let name = self.sector_narrative(&mut f, text);
                if let (Some(mut t), Some(a)) = (self.tag.take(), self.act.as_mut()) {
                    t.name = name;
                    a.tags.push(t);
                }
            }
            Transaction | TxType | TxDate | Value | TxDescription | ProviderOrg | ReceiverOrg => {
                self.close_transaction_part(&mut f, text, pos)
            }
            Budget => {
                if let (Some(b), Some(a)) = (self.budget.take(), self.act.as_mut()) {
                    a.budgets.push(b);
                }
            }
            PeriodStart | PeriodEnd => {
                let d = self.date_or_text(f.attr.take_date(), text, pos);
                let start = f.kind == PeriodStart;
                match self.parent() {
                    Budget => {
                        if let Some(b) = self.budget.as_mut() {
                            if start { b.period_start = d } else { b.period_end = d }
                        }
                    }
                    Period => {
                        if let Some(p) = self.period.as_mut() {
                            if start { p.start = d } else { p.end = d }
                        }
                    }
                    _ => {}
                }
            }
            Location => {
                if let (Some(l), Some(a)) = (self.location.take(), self.act.as_mut()) {
                    a.locations.push(l);
                }
            }
            LocName | LocDescription => {
                let n = self.take_narratives(&mut f, text);
                if let Some(l) = self.location.as_mut() {
                    if f.kind == LocName { l.name = n } else { l.description = n }
                }
            }
            Pos => {
                let p = self.point(text, pos);
                if let Some(l) = self.location.as_mut() {
                    l.point = p;
                }
            }
            Result | ResultTitle | Indicator | IndicatorTitle | Baseline | Period | Target | Actual | Comment => {
                self.close_result_part(&mut f, text)
            }
            Extension(idx) => {
                if let Some(e) = self.act.as_mut().and_then(|a| a.extensions.get_mut(idx as usize)) {
                    e.value = text.trim_ws().into();
                }
            }
            Country | Region | Point | Activity | Leaf | Unmodelled | Ignored => {}
        }
        if unused_text {
            self.keep_text(text);
        }
        self.text = text_buf;
        // Text is kept for a narrative's markup children (their words join it); otherwise
        // dropped (a kept element holds its own text only).
        let keep_text = matches!(self.parent(), Kind::Narrative | Kind::Ignored);
        if !keep_text {
            self.text.truncate(f.text_start.min(self.text.len()));
        }
        if f.kind != Kind::Narrative {
            self.narrs.truncate(f.narr_start.min(self.narrs.len()));
        }
        self.current = None;
        Ok(())
    }

    pub(super) fn point(&mut self, text: &str, pos: u64) -> Option<senda_core::Point> {
        let t = text.trim_ws();
        if t.is_empty() {
            return None;
        }
        let comma = t.contains(',') && !t.contains(' ');
        let parts: Vec<&str> =
            if comma { t.split(',').map(str::trim).collect() } else { t.split_whitespace().collect() };
        let parsed = match parts.as_slice() {
            [a, b] => a.parse::<f64>().ok().zip(b.parse::<f64>().ok()),
            _ => None,
        };
        let Some((lat, lon)) = parsed else {
            self.diag(
                Severity::Error,
                "invalid-point",
                format!("point {t:?} is not \"latitude longitude\": location kept without a point"),
                pos,
                None,
            );
            self.keep_text(t);
            return None;
        };
        if comma {
            self.diag(Severity::Warning, "point-comma", format!("point {t:?} uses a comma; IATI expects \"latitude longitude\" separated by a space: read as {lat} {lon}"), pos, None);
        }
        if !(-90.0..=90.0).contains(&lat) || !(-180.0..=180.0).contains(&lon) || !lat.is_finite() || !lon.is_finite() {
            self.diag(
                Severity::Error,
                "point-out-of-range",
                format!(
                    "point {t:?} is out of range (latitude -90..90, longitude -180..180): location kept without a point"
                ),
                pos,
                None,
            );
            self.keep_text(t);
            return None;
        }
        Some(senda_core::Point { lat, lon })
    }
}
