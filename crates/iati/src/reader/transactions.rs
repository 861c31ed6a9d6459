//! Transactions: their elements (`transaction-type`, `transaction-date`, `value`, `description`,
//! `provider-org`, `receiver-org`, `aid-type`; countries, regions and sectors are read with the
//! activity's) and money (`value` of transactions and budgets: amount, currency, value date).

use super::*;

impl<R: BufRead> ActivityReader<R> {
    /// The kind of a transaction element (`n` under `p`), if it is one; see `kind_for`.
    pub(super) fn transaction_kind(
        &mut self,
        n: Elem,
        p: Kind,
        attrs: &[(&str, std::borrow::Cow<'_, str>)],
        pos: u64,
        attr: &mut StartAttr,
    ) -> Result<Option<Kind>, FatalError> {
        let get = |k: &str| attrs.iter().find(|(a, _)| *a == k).map(|(_, v)| v.as_ref());
        let nonempty_str = |k: &str| get(k).map(str::trim_ws).filter(|v| !v.is_empty());
        let nonempty = |k: &str| nonempty_str(k).map(CompactString::from);
        use Elem as N;
        use Kind::*;
        Ok(Some(match (p, n) {
            (Activity, N::Transaction) => {
                self.tx = Some(senda_core::Transaction {
                    r#ref: nonempty("ref"),
                    transaction_type: CompactString::default(),
                    date: None,
                    value: None,
                    description: Narratives::new(),
                    provider_org: None,
                    receiver_org: None,
                    recipient_countries: vec![],
                    recipient_regions: vec![],
                    invalid_country: false,
                    sectors: vec![],
                    aid_types: vec![],
                    humanitarian: get("humanitarian").and_then(parse_bool),
                });
                if let Some(raw) = get("humanitarian").filter(|h| parse_bool(h).is_none()) {
                    self.keep_rejected(Some(Transaction), "humanitarian", raw);
                }
                Transaction
            }
            (Transaction, N::TransactionType) if self.tx.as_ref().is_some_and(|t| !t.transaction_type.is_empty()) => {
                self.duplicate("transaction-type", "transaction", pos);
                Unmodelled
            }
            (Transaction, N::TransactionDate) if self.tx.as_ref().is_some_and(|t| t.date.is_some()) => {
                self.duplicate("transaction-date", "transaction", pos);
                Unmodelled
            }
            (Transaction, N::Value) if self.tx.as_ref().is_some_and(|t| t.value.is_some()) => {
                self.duplicate("value", "transaction", pos);
                Unmodelled
            }
            (Transaction, N::TransactionType) => {
                *attr = StartAttr::code(nonempty("code"));
                TxType
            }
            (Transaction, N::TransactionDate) => {
                *attr = StartAttr::date(nonempty_str("iso-date"));
                TxDate
            }
            (Transaction | Budget, N::Value) => {
                self.value = Some((
                    nonempty_str("currency").map(CurrencyCode::parse),
                    nonempty_str("value-date").map(parse_iso_date),
                ));
                Value
            }
            (Transaction, N::Description) => TxDescription,
            (Transaction, N::ProviderOrg) => {
                self.org =
                    Some(OrgRef { r#ref: nonempty("ref"), org_type: nonempty("type"), names: Narratives::new() });
                ProviderOrg
            }
            (Transaction, N::ReceiverOrg) => {
                self.org =
                    Some(OrgRef { r#ref: nonempty("ref"), org_type: nonempty("type"), names: Narratives::new() });
                ReceiverOrg
            }
            (Transaction, N::AidType) => {
                if let (Some(c), Some(t)) = (nonempty("code"), self.tx.as_mut()) {
                    t.aid_types.push(c);
                }
                Leaf
            }
            _ => return Ok(None),
        }))
    }

    /// Closes a transaction element (`f`, with its text); see `close`.
    pub(super) fn close_transaction_part(&mut self, f: &mut Frame, text: &str, pos: u64) {
        use Kind::*;
        match f.kind {
            Transaction => {
                if let Some(mut t) = self.tx.take() {
                    if t.transaction_type.is_empty() {
                        self.diag(
                            Severity::Error,
                            "missing-transaction-type",
                            "transaction without <transaction-type>: not reported".into(),
                            pos,
                            Some("iati-activity/transaction".into()),
                        );
                    }
                    if t.recipient_countries.len() + usize::from(t.invalid_country) > 1 {
                        self.diag(
                            Severity::Warning,
                            "several-transaction-countries",
                            "transaction names several recipient-country elements: money split equally (an invalid code's share goes to UNKNOWN)".into(),
                            pos,
                            Some("iati-activity/transaction/recipient-country".into()),
                        );
                    }
                    t.description.shrink_to_fit();
                    if let Some(a) = self.act.as_mut() {
                        a.transactions.push(t);
                    }
                }
            }
            TxType => {
                let raw = f
                    .attr
                    .take_code()
                    .or_else(|| Some(CompactString::from(text.trim_ws())).filter(|s| !s.is_empty()))
                    .unwrap_or_default();
                let v1 = self.version.as_deref().is_some_and(|v| v.starts_with('1'));
                let code = if let Some((_, c)) = TX_LETTERS.iter().find(|(l, _)| l.eq_ignore_ascii_case(raw.trim_ws()))
                {
                    if !v1 {
                        self.diag(
                            Severity::Warning,
                            "transaction-type-v1-code",
                            format!(
                                "1.0x transaction type {raw:?} in a {} file: read as {c}",
                                self.version.clone().unwrap_or_else(|| "2.0x".into())
                            ),
                            pos,
                            None,
                        );
                    }
                    CompactString::from(*c)
                } else if let Some(n) = raw.trim_ws().parse::<u8>().ok().filter(|n| (1..=13).contains(n)) {
                    // Stored as the codelist spells it: "02", "+2" and "002" are code "2" (the
                    // reports look codes up by their spelling).
                    let code = senda_core::activity::format_compact!("{n}");
                    if v1 {
                        self.diag(
                            Severity::Warning,
                            "transaction-type-v2-code",
                            format!(
                                "2.0x numeric transaction type {raw:?} in a version {} file: read as {code}",
                                self.version.clone().unwrap_or_default(),
                            ),
                            pos,
                            None,
                        );
                    } else if code != raw.trim_ws() {
                        self.diag(
                            Severity::Warning,
                            "transaction-type-spelling",
                            format!("transaction type {raw:?} read as code {code}"),
                            pos,
                            None,
                        );
                    }
                    code
                } else {
                    self.diag(
                        Severity::Error,
                        "invalid-transaction-type",
                        format!("unknown transaction type {raw:?}: transaction not reported"),
                        pos,
                        None,
                    );
                    self.keep_rejected(None, "code", &raw);
                    "?".into()
                };
                if let Some(t) = self.tx.as_mut() {
                    t.transaction_type = code;
                }
            }
            TxDate => {
                let d = self.date_or_text(f.attr.take_date(), text, pos);
                if let Some(t) = self.tx.as_mut() {
                    t.date = d;
                }
            }
            Value => {
                let (cur, vdate) = self.value.take().unwrap_or((None, None));
                let money = self.money(text, cur, vdate, pos);
                match self.parent() {
                    Transaction => {
                        if let Some(t) = self.tx.as_mut() {
                            t.value = money;
                        }
                    }
                    Budget => {
                        if let Some(b) = self.budget.as_mut() {
                            b.value = money;
                        }
                    }
                    _ => {}
                }
            }
            TxDescription => {
                let n = self.take_narratives(f, text);
                if let Some(t) = self.tx.as_mut() {
                    if t.description.is_empty() {
                        t.description = n;
                    } else {
                        t.description.extend(n);
                    }
                }
            }
            ProviderOrg | ReceiverOrg => {
                let names = self.take_narratives(f, text);
                if let (Some(mut o), Some(t)) = (self.org.take(), self.tx.as_mut()) {
                    o.names = names;
                    if f.kind == ProviderOrg {
                        t.provider_org = Some(Box::new(o));
                    } else {
                        t.receiver_org = Some(Box::new(o));
                    }
                }
            }
            _ => {}
        }
    }

    fn money(&mut self, text: &str, cur: Parsed<CurrencyCode>, vdate: Parsed<Date>, pos: u64) -> Option<Money> {
        let amount = match parse_amount(text) {
            Ok(a) => a,
            Err(e) => {
                self.code_diag(e, pos);
                // Not modelled, kept as published (its attributes as read).
                let mut attributes = Vec::new();
                match &cur {
                    Some(Ok(c)) => attributes.push(("currency".into(), c.as_str().into())),
                    Some(Err(CodeError::Currency(raw))) => attributes.push(("currency".into(), raw.as_str().into())),
                    _ => {}
                }
                match &vdate {
                    Some(Ok(d)) => attributes.push(("value-date".into(), d.to_string().into())),
                    Some(Err(CodeError::Date(raw))) => attributes.push(("value-date".into(), raw.as_str().into())),
                    _ => {}
                }
                self.keep_closed_element("value", attributes, text);
                return None;
            }
        };
        // Money is never dropped: an amount without a valid currency is kept under ISO 4217's
        // "no currency" (XXX), in the unconverted figures, with the error (never guessed).
        let currency = match cur {
            Some(c) => match c {
                Ok(c) => c,
                Err(e) => {
                    if let CodeError::Currency(raw) = &e {
                        let raw = raw.clone();
                        self.keep_rejected(None, "currency", &raw);
                    }
                    self.code_diag(e, pos);
                    CurrencyCode::NONE
                }
            },
            None => match self.act.as_ref().and_then(|a| a.default_currency) {
                Some(c) => c,
                None => {
                    let message = if self.default_currency_invalid {
                        "value has no @currency and the activity's @default-currency is invalid: amount kept under XXX (no currency), in the unconverted figures (never guessed)"
                    } else {
                        "value has no @currency and the activity no @default-currency: amount kept under XXX (no currency), in the unconverted figures (never guessed)"
                    };
                    self.diag(Severity::Error, "missing-currency", message.into(), pos, None);
                    CurrencyCode::NONE
                }
            },
        };
        let value_date = match vdate {
            Some(v) => match v {
                Ok(d) => Some(d),
                Err(e) => {
                    if let CodeError::Date(raw) = &e {
                        let raw = raw.clone();
                        self.keep_rejected(None, "value-date", &raw);
                    }
                    self.diag(Severity::Warning, "invalid-value-date", e.to_string(), pos, None);
                    None
                }
            },
            None => None,
        };
        Some(Money { amount, currency, value_date })
    }
}
