//! What can be wrong with one field of an intervention, with its message in English and
//! Spanish ([`Problem::message`]); [`FieldError`] names the field by its path.

use super::model::Workflow;
use std::fmt;

// ---------------------------------------------------------------------------------------------
// Errors, in English and Spanish

/// A language of messages.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Lang {
    /// English.
    En,
    /// Spanish.
    Es,
}

/// What is wrong with one field.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Problem {
    /// The text is not JSON or TOML at all.
    Syntax(String),
    /// A key Senda does not know (a misspelling, or a field of another record).
    UnknownField,
    /// A required field is absent.
    Missing,
    /// A text or list that must hold something is empty.
    Empty,
    /// The value has the wrong shape.
    WrongType(Shape),
    /// Text longer than allowed (characters).
    TooLong(usize),
    /// A list longer than allowed.
    TooMany(usize),
    /// Text with a control character (other than line breaks and tabs).
    Control,
    /// A value not among those allowed.
    NotOneOf {
        /// The value given.
        value: String,
        /// The values allowed.
        allowed: Vec<String>,
    },
    /// A value given twice in a list.
    Duplicate(String),
    /// Not an ISO 8601 date.
    Date(String),
    /// The end is before the start.
    EndBeforeStart,
    /// Not an ISO 3166-1 alpha-2 country code.
    Country(String),
    /// Not an ISO 3166-2 code of a department of the country it names.
    Department(String),
    /// A department of a country that is not among the intervention's countries.
    DepartmentOutside(String),
    /// A country that is not among the intervention's countries.
    CountryOutside(String),
    /// Not an ISO 4217 currency code.
    Currency(String),
    /// An amount that is not a plain decimal number (`N/A`, `1,5`, `<5`).
    Amount(String),
    /// An amount beyond 10^15 or with more than 6 decimal places.
    AmountRange(String),
    /// A negative amount.
    AmountNegative(String),
    /// A decimal number written without quotes (it would be read as floating point).
    UnquotedDecimal,
    /// A count that is negative.
    Negative(String),
    /// A count that is not a whole number.
    NotWholeNumber(String),
    /// Not a period (`2024-03`, `2024-Q1`, `FY2024`, `2024`).
    Period(String),
    /// Not an IATI identifier.
    Identifier(String),
    /// Neither `en` nor `es` given.
    NoLanguage,
    /// The section of another instrument than the one chosen.
    OtherInstrument(String),
    /// Money on a foreign-assistance intervention (it comes from the IATI data).
    MoneyFromIati,
    /// A dated history out of date order.
    HistoryOrder,
    /// No organisation with this id.
    UnknownOrganisation(i64),
    /// No intervention with this id (that the reader sees).
    UnknownIntervention(i64),
    /// A contribution names neither a line of effort nor an intervention.
    NoTarget,
    /// Money given on a contribution that is not resources mobilised as money.
    OnlyForMoney(String),
    /// A warning, not an error: no imported activity has this `iati-identifier` yet; the
    /// link is kept and takes effect when it is imported.
    LinkPending(String),
    /// A reported value that is not a plain number (`N/A`, `1,5`, `<5`).
    NotANumber(String),
    /// A period that is not one of the strategy's reporting periods (another frequency,
    /// before reporting starts, or not ended yet).
    PeriodOutside {
        /// The period as given.
        value: String,
        /// The reporting periods in words (`quarterly from 2021-Q4 to 2026-Q3`).
        allowed: String,
    },
    /// A reporting period a coordinator locked.
    PeriodLocked(String),
    /// A denominator given for an indicator that is not a ratio.
    OnlyForRatio,
    /// A report step that is not allowed from the report's state.
    ReportStep {
        /// The state now (`none` for a report not written yet).
        from: String,
        /// The step asked (`save`, `submit`, `approve`, `return`).
        step: String,
    },
    /// A workflow change that is not allowed from the current state.
    Transition {
        /// Current state.
        from: Workflow,
        /// Asked state.
        to: Workflow,
    },
}

/// The shape a value should have (for [`Problem::WrongType`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Shape {
    /// Text.
    Text,
    /// A list.
    List,
    /// A table / object.
    Object,
    /// A whole number.
    WholeNumber,
}

impl Shape {
    fn en(self) -> &'static str {
        match self {
            Shape::Text => "text",
            Shape::List => "a list",
            Shape::Object => "a table of fields",
            Shape::WholeNumber => "a whole number",
        }
    }
    fn es(self) -> &'static str {
        match self {
            Shape::Text => "un texto",
            Shape::List => "una lista",
            Shape::Object => "una tabla de campos",
            Shape::WholeNumber => "un número entero",
        }
    }
}

impl Problem {
    /// The message in `lang`.
    pub fn message(&self, lang: Lang) -> String {
        let es = lang == Lang::Es;
        match self {
            Problem::Syntax(m) if es => format!("no se puede leer: {m}"),
            Problem::Syntax(m) => format!("cannot be read: {m}"),
            Problem::UnknownField if es => "no es un campo que Senda conozca".into(),
            Problem::UnknownField => "is not a field Senda knows".into(),
            Problem::Missing if es => "es obligatorio".into(),
            Problem::Missing => "is required".into(),
            Problem::Empty if es => "está vacío".into(),
            Problem::Empty => "is empty".into(),
            Problem::WrongType(s) if es => format!("debe ser {}", s.es()),
            Problem::WrongType(s) => format!("must be {}", s.en()),
            Problem::TooLong(n) if es => format!("tiene más de {n} caracteres"),
            Problem::TooLong(n) => format!("is longer than {n} characters"),
            Problem::TooMany(n) if es => format!("tiene más de {n} elementos"),
            Problem::TooMany(n) => format!("has more than {n} entries"),
            Problem::Control if es => "contiene un carácter de control".into(),
            Problem::Control => "contains a control character".into(),
            Problem::NotOneOf { value, allowed } if es => {
                format!("{value:?} no es un valor válido; uno de: {}", allowed.join(", "))
            }
            Problem::NotOneOf { value, allowed } => format!("{value:?} is not allowed; one of: {}", allowed.join(", ")),
            Problem::Duplicate(v) if es => format!("{v:?} aparece dos veces"),
            Problem::Duplicate(v) => format!("{v:?} is given twice"),
            Problem::Date(v) if es => format!("{v:?} no es una fecha ISO 8601 como 2024-03-31"),
            Problem::Date(v) => format!("{v:?} is not an ISO 8601 date such as 2024-03-31"),
            Problem::EndBeforeStart if es => "la fecha de fin es anterior a la de inicio".into(),
            Problem::EndBeforeStart => "the end is before the start".into(),
            Problem::Country(v) if es => format!("{v:?} no es un código de país ISO 3166-1 alfa-2 como GT"),
            Problem::Country(v) => format!("{v:?} is not an ISO 3166-1 alpha-2 country code such as GT"),
            Problem::Department(v) if es => {
                format!("{v:?} no es un código ISO 3166-2 de un departamento del país que nombra (p. ej. GT-16, HN-CR, SV-SS)")
            }
            Problem::Department(v) => format!(
                "{v:?} is not the ISO 3166-2 code of a department of the country it names (e.g. GT-16, HN-CR, SV-SS)"
            ),
            Problem::DepartmentOutside(v) if es => format!("{v:?} no está en ninguno de los países elegidos"),
            Problem::DepartmentOutside(v) => format!("{v:?} is not in any of the countries chosen"),
            Problem::CountryOutside(v) if es => format!("{v:?} no está entre los países de la intervención"),
            Problem::CountryOutside(v) => format!("{v:?} is not among the intervention's countries"),
            Problem::Currency(v) if es => format!("{v:?} no es un código de moneda ISO 4217 como USD"),
            Problem::Currency(v) => format!("{v:?} is not an ISO 4217 currency code such as USD"),
            Problem::Amount(v) if es => format!("{v:?} no es un importe: escriba un número decimal como \"1500.25\""),
            Problem::Amount(v) => format!("{v:?} is not an amount: write a decimal number such as \"1500.25\""),
            Problem::AmountRange(v) if es => {
                format!("{v:?} está fuera de rango: como máximo 10^15 y 6 decimales")
            }
            Problem::AmountRange(v) => format!("{v:?} is out of range: at most 10^15 and 6 decimal places"),
            Problem::AmountNegative(v) if es => format!("{v:?} es negativo"),
            Problem::AmountNegative(v) => format!("{v:?} is negative"),
            Problem::UnquotedDecimal if es => {
                "un número decimal sin comillas se leería de forma inexacta: escríbalo entre comillas, como \"1500.25\"".into()
            }
            Problem::UnquotedDecimal => {
                "a decimal number without quotes would be read inexactly: write it in quotes, such as \"1500.25\"".into()
            }
            Problem::Negative(v) if es => format!("{v} es negativo; una cifra de personas o solicitudes no lo es"),
            Problem::Negative(v) => format!("{v} is negative; a count of people or applications is not"),
            Problem::NotWholeNumber(v) if es => format!("{v:?} no es un número entero"),
            Problem::NotWholeNumber(v) => format!("{v:?} is not a whole number"),
            Problem::Period(v) if es => {
                format!("{v:?} no es un período: AAAA-MM (mes), AAAA-Qn (trimestre), FYAAAA (año fiscal) o AAAA")
            }
            Problem::Period(v) => {
                format!("{v:?} is not a period: YYYY-MM (month), YYYY-Qn (quarter), FYYYYY (fiscal year) or YYYY")
            }
            Problem::Identifier(v) if es => format!("{v:?} no es un iati-identifier"),
            Problem::Identifier(v) => format!("{v:?} is not an iati-identifier"),
            Problem::NoLanguage if es => "indique en (inglés), es (español) o ambos".into(),
            Problem::NoLanguage => "give en (English), es (Spanish) or both".into(),
            Problem::OtherInstrument(i) if es => {
                format!("es la sección de otro instrumento; esta intervención es de {i}")
            }
            Problem::OtherInstrument(i) => format!("is the section of another instrument; this intervention is {i}"),
            Problem::MoneyFromIati if es => "una actividad de asistencia exterior toma su dinero de los datos IATI vinculados (no se cuenta dos veces): no indique dinero aquí".into(),
            Problem::MoneyFromIati => "a foreign-assistance activity takes its money from the linked IATI data (never counted twice): give no money here".into(),
            Problem::HistoryOrder if es => "las fechas del historial deben ir en orden".into(),
            Problem::HistoryOrder => "the history's dates must be in order".into(),
            Problem::UnknownOrganisation(id) if es => format!("no hay ninguna organización con id {id}"),
            Problem::UnknownOrganisation(id) => format!("no organisation has id {id}"),
            Problem::UnknownIntervention(id) if es => format!("no hay ninguna intervención con id {id}"),
            Problem::UnknownIntervention(id) => format!("no intervention has id {id}"),
            Problem::NoTarget if es => "indique la línea de acción (line_of_effort), la intervención (intervention) o ambas".into(),
            Problem::NoTarget => "give the line of effort (line_of_effort), the intervention (intervention) or both".into(),
            Problem::OnlyForMoney(form) if es => {
                format!("solo para recursos movilizados en dinero (form = \"money\"); esta contribución es {form}")
            }
            Problem::OnlyForMoney(form) => {
                format!("is only for resources mobilised as money (form = \"money\"); this contribution is {form}")
            }
            Problem::LinkPending(v) if es => format!(
                "ninguna actividad importada tiene el iati-identifier {v:?} todavía: el vínculo se guarda y vale cuando se importe"
            ),
            Problem::LinkPending(v) => format!(
                "no imported activity has iati-identifier {v:?} yet: the link is kept and takes effect when it is imported"
            ),
            Problem::NotANumber(v) if es => {
                format!("{v:?} no es un número: escriba un número simple como 1500 o 12.5 (sin separador de miles)")
            }
            Problem::NotANumber(v) => {
                format!("{v:?} is not a number: write a plain number such as 1500 or 12.5 (no thousands separator)")
            }
            Problem::PeriodOutside { value, allowed } if es => {
                format!("{value:?} no es un período de informe de esta estrategia ({allowed})")
            }
            Problem::PeriodOutside { value, allowed } => {
                format!("{value:?} is not a reporting period of this strategy ({allowed})")
            }
            Problem::PeriodLocked(p) if es => {
                format!("el período {p} está cerrado: un coordinador debe reabrirlo antes de cambiar nada")
            }
            Problem::PeriodLocked(p) => format!("period {p} is locked: a coordinator must reopen it before any change"),
            Problem::OnlyForRatio if es => "solo para indicadores que son una razón (ratio_of_sums)".into(),
            Problem::OnlyForRatio => "is only for indicators that are a ratio (ratio_of_sums)".into(),
            Problem::ReportStep { from, step } if es => format!("no se puede hacer «{step}» en un informe en estado {from}"),
            Problem::ReportStep { from, step } => format!("cannot {step} a report that is {from}"),
            Problem::Transition { from, to } if es => format!("no se puede pasar de {from} a {to}"),
            Problem::Transition { from, to } => format!("cannot go from {from} to {to}"),
        }
    }
}

/// A problem with one field of an intervention: the field's path and what is wrong.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FieldError {
    /// The field's path, e.g. `departments[1]` or `public_messaging.reach[0].country`.
    pub field: String,
    /// What is wrong.
    pub problem: Problem,
}

impl FieldError {
    /// A problem with `field`.
    pub fn new(field: impl Into<String>, problem: Problem) -> Self {
        FieldError { field: field.into(), problem }
    }

    /// The message in `lang` (without the field).
    pub fn message(&self, lang: Lang) -> String {
        self.problem.message(lang)
    }
}

impl fmt::Display for FieldError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.field, self.problem.message(Lang::En))
    }
}

impl std::error::Error for FieldError {}

/// The problems of one record, all of them, in the order met.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Invalid(pub Vec<FieldError>);

impl fmt::Display for Invalid {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let lines: Vec<String> = self.0.iter().map(ToString::to_string).collect();
        f.write_str(&lines.join("\n"))
    }
}

impl std::error::Error for Invalid {}
