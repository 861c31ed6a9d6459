//! The reader's vocabulary: the kinds of element it handles ([`Kind`]), the frame kept for
//! each open element ([`Frame`]), every IATI element name it knows ([`Elem`], [`known_name`]),
//! and the translations of 1.0x codes and spellings.

use super::*;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Kind {
    Activity,
    Identifier,
    ReportingOrg,
    ParticipatingOrg,
    Title,
    Description,
    Narrative,
    Status,
    ActivityDate,
    Country,
    Region,
    Sector,
    Tag,
    Transaction,
    TxType,
    TxDate,
    Value,
    TxDescription,
    ProviderOrg,
    ReceiverOrg,
    Budget,
    PeriodStart,
    PeriodEnd,
    Location,
    LocName,
    LocDescription,
    Point,
    Pos,
    Result,
    ResultTitle,
    Indicator,
    IndicatorTitle,
    Baseline,
    Period,
    Target,
    Actual,
    Comment,
    /// Index into the activity's extensions.
    Extension(u32),
    /// A modelled element whose values are its attributes (`policy-marker`, `aid-type`,
    /// `administrative`...): its children, if any, are kept as unmodelled elements.
    Leaf,
    /// Returned by `kind_for` for an element Senda does not model here: `open` keeps it whole
    /// as an unmodelled element ([`Extension`]). Never on the frame stack.
    Unmodelled,
    /// Markup inside a narrative: its words join the narrative's text.
    Ignored,
}

// Frames are pushed and popped once per element: keep them small.
const _: () = assert!(std::mem::size_of::<Frame>() <= 88);

pub(super) struct Frame {
    pub(super) kind: Kind,
    /// The element's name when known (`None`: an extension, named "extension" in paths).
    pub(super) elem: Option<Elem>,
    pub(super) text_start: usize,
    pub(super) narr_start: usize,
    pub(super) offset: u64,
    pub(super) lang: Option<CompactString>,
    /// A date or code attribute read at start (`iso-date`, `code`), for elements whose text is the v1 fallback.
    pub(super) attr: StartAttr,
}

impl Frame {
    pub(super) const BLANK: Frame = Frame {
        kind: Kind::Ignored,
        elem: None,
        text_start: 0,
        narr_start: 0,
        offset: 0,
        lang: None,
        attr: StartAttr::None,
    };

    /// The element's name in paths.
    pub(super) fn name(&self) -> &'static str {
        self.elem.map_or("extension", Elem::as_str)
    }
}

/// A value read from an element's start tag for use at its end tag.
#[derive(Default)]
pub(super) enum StartAttr {
    #[default]
    None,
    /// A code or type attribute (`code`, `type`), trimmed and non-empty.
    Code(CompactString),
    /// `@iso-date` (trimmed, non-empty), parsed at once so that no copy of it is kept; its
    /// diagnostic, if any, is reported at the end tag as before.
    Date(Result<Date, Box<CodeError>>),
}

impl StartAttr {
    pub(super) fn code(v: Option<CompactString>) -> Self {
        v.map_or(StartAttr::None, StartAttr::Code)
    }

    pub(super) fn date(v: Option<&str>) -> Self {
        v.map_or(StartAttr::None, |d| StartAttr::Date(parse_iso_date(d).map_err(Box::new)))
    }

    /// The code attribute (taken).
    pub(super) fn take_code(&mut self) -> Option<CompactString> {
        match std::mem::take(self) {
            StartAttr::Code(c) => Some(c),
            _ => None,
        }
    }

    /// The parsed date attribute (taken).
    pub(super) fn take_date(&mut self) -> Option<Result<Date, CodeError>> {
        match std::mem::take(self) {
            StartAttr::Date(d) => Some(d.map_err(|e| *e)),
            _ => None,
        }
    }
}

/// Declares [`Elem`] (one variant per IATI element name Senda knows: modelled or read past,
/// never kept as extensions), [`NAMES`] (their spellings, in variant order) and [`known_name`].
macro_rules! known_names {
    ($($variant:ident = $name:literal,)*) => {
        /// An IATI element name Senda knows (see [`known_name`]).
        #[derive(Debug, Clone, Copy, PartialEq, Eq)]
        pub(super) enum Elem {
            $($variant,)*
        }
        /// The spelling of each [`Elem`], in variant order.
        pub(super) const NAMES: &[&str] = &[$($name,)*];
        /// Every [`Elem`], in variant order.
        #[cfg(test)]
        pub(super) const ALL_NAMES: &[Elem] = &[$(Elem::$variant,)*];

        /// The known element name spelled `n` (exactly), if any.
        pub(super) fn known_name(n: &str) -> Option<Elem> {
            // rustc compiles a `match` on strings to a switch on the length and then a few
            // comparisons: cheaper than hashing.
            Some(match n {
                $($name => Elem::$variant,)*
                _ => return None,
            })
        }
    };
}

known_names! {
    IatiIdentifier = "iati-identifier",
    ReportingOrg = "reporting-org",
    ParticipatingOrg = "participating-org",
    Title = "title",
    Description = "description",
    Narrative = "narrative",
    ActivityStatus = "activity-status",
    ActivityScope = "activity-scope",
    ActivityDate = "activity-date",
    ContactInfo = "contact-info",
    Organisation = "organisation",
    Department = "department",
    PersonName = "person-name",
    JobTitle = "job-title",
    Telephone = "telephone",
    Email = "email",
    Website = "website",
    MailingAddress = "mailing-address",
    RecipientCountry = "recipient-country",
    RecipientRegion = "recipient-region",
    Location = "location",
    LocationReach = "location-reach",
    LocationId = "location-id",
    Name = "name",
    ActivityDescription = "activity-description",
    Administrative = "administrative",
    Point = "point",
    Pos = "pos",
    Exactness = "exactness",
    LocationClass = "location-class",
    FeatureDesignation = "feature-designation",
    Sector = "sector",
    Tag = "tag",
    CountryBudgetItems = "country-budget-items",
    BudgetItem = "budget-item",
    HumanitarianScope = "humanitarian-scope",
    PolicyMarker = "policy-marker",
    CollaborationType = "collaboration-type",
    DefaultFlowType = "default-flow-type",
    DefaultFinanceType = "default-finance-type",
    DefaultAidType = "default-aid-type",
    DefaultTiedStatus = "default-tied-status",
    Budget = "budget",
    PeriodStart = "period-start",
    PeriodEnd = "period-end",
    Value = "value",
    PlannedDisbursement = "planned-disbursement",
    ProviderOrg = "provider-org",
    ReceiverOrg = "receiver-org",
    CapitalSpend = "capital-spend",
    Transaction = "transaction",
    TransactionType = "transaction-type",
    TransactionDate = "transaction-date",
    DisbursementChannel = "disbursement-channel",
    FlowType = "flow-type",
    FinanceType = "finance-type",
    AidType = "aid-type",
    TiedStatus = "tied-status",
    DocumentLink = "document-link",
    Category = "category",
    Language = "language",
    DocumentDate = "document-date",
    RelatedActivity = "related-activity",
    LegacyData = "legacy-data",
    Conditions = "conditions",
    Condition = "condition",
    Result = "result",
    Indicator = "indicator",
    Reference = "reference",
    Baseline = "baseline",
    Period = "period",
    Target = "target",
    Actual = "actual",
    Comment = "comment",
    Dimension = "dimension",
    CrsAdd = "crs-add",
    OtherFlags = "other-flags",
    LoanTerms = "loan-terms",
    RepaymentType = "repayment-type",
    RepaymentPlan = "repayment-plan",
    CommitmentDate = "commitment-date",
    RepaymentFirstDate = "repayment-first-date",
    RepaymentFinalDate = "repayment-final-date",
    LoanStatus = "loan-status",
    InterestReceived = "interest-received",
    PrincipalOutstanding = "principal-outstanding",
    PrincipalArrears = "principal-arrears",
    InterestArrears = "interest-arrears",
    ChannelCode = "channel-code",
    Fss = "fss",
    Forecast = "forecast",
    OtherIdentifier = "other-identifier",
    OwnerOrg = "owner-org",
    ActivityWebsite = "activity-website",
    IatiActivity = "iati-activity",
    IatiActivities = "iati-activities",
    DefaultCurrency = "default-currency",
    TitleEs = "title-es",
    Code = "code",
    VocabularyUri = "vocabulary-uri",
}

impl Elem {
    pub(super) fn as_str(self) -> &'static str {
        NAMES[self as usize]
    }
}

/// The 2.0x code of a 1.0x organisation role (any case), else the role as it is. Reuses `r`'s
/// allocation.
pub(super) fn v1_role(mut r: CompactString) -> CompactString {
    let code = ["funding", "accountable", "extending", "implementing"]
        .iter()
        .position(|v| r.eq_ignore_ascii_case(v))
        .map(|i| ["1", "2", "3", "4"][i]);
    if let Some(c) = code {
        r.clear();
        r.push_str(c);
    }
    r
}

/// The 2.0x code of a 1.0x activity date type, else the type as it is. Reuses `t`'s allocation.
pub(super) fn v1_date_type(mut t: CompactString) -> CompactString {
    let code = match t.as_str() {
        "start-planned" => "1",
        "start-actual" => "2",
        "end-planned" => "3",
        "end-actual" => "4",
        _ => return t,
    };
    t.clear();
    t.push_str(code);
    t
}

/// Whether an element of this kind reads the narratives (or, 1.0x, the text) inside it: only
/// then are its narratives kept and its `xml:lang` read.
pub(super) fn takes_narratives(k: Kind) -> bool {
    use Kind::*;
    matches!(
        k,
        ReportingOrg
            | ParticipatingOrg
            | Title
            | Description
            | Sector
            | Tag
            | TxDescription
            | ProviderOrg
            | ReceiverOrg
            | LocName
            | LocDescription
            | ResultTitle
            | IndicatorTitle
            | Comment
    )
}

pub(super) fn sector_vocabulary(v: Option<&str>) -> CompactString {
    match v.map(str::trim_ws) {
        None | Some("") | Some("DAC") | Some("1") => CompactString::const_new("1"),
        Some("DAC-3") | Some("2") => CompactString::const_new("2"),
        Some("RO") => CompactString::const_new("99"),
        Some(x) => x.into(),
    }
}

/// `s` in ASCII lower case (language codes), without a heap allocation when short.
pub(super) fn lower(s: &str) -> CompactString {
    let mut c = CompactString::from(s);
    c.make_ascii_lowercase();
    c
}

/// 1.0x transaction type letters and their 2.0x numeric codes.
pub(super) const TX_LETTERS: &[(&str, &str)] = &[
    ("IF", "1"),
    ("C", "2"),
    ("D", "3"),
    ("E", "4"),
    ("IR", "5"),
    ("LR", "6"),
    ("R", "7"),
    ("QP", "8"),
    ("QS", "9"),
    ("CG", "10"),
];

pub(super) fn parse_bool(s: &str) -> Option<bool> {
    match s.trim_ws() {
        "1" | "true" => Some(true),
        "0" | "false" => Some(false),
        _ => None,
    }
}
