//! Negative money, explained where it is shown. U.S. files record de-obligations (negative
//! commitments) and returned or reversed disbursements; when the original obligation sits
//! under another identifier or in an earlier fiscal year, outside the view, the view's net is
//! below zero. Every negative amount on a page carries a marker that points to one note per
//! page, which says why and links to the activities with negative money in the same view
//! (`/activities?negative_money=true&...`).

use crate::i18n::{Catalogs, Lang, Locale};
use crate::query::query_string;
use maud::{Markup, html};
use rust_decimal::Decimal;
use senda_core::report::{Report, Totals};

/// The id of the page's note (the markers link to it).
pub const NOTE_ID: &str = "negative-note";

/// True when a net commitment or disbursement total is below zero.
pub fn is_negative(t: &Totals) -> bool {
    t.commitments < Decimal::ZERO || t.disbursements < Decimal::ZERO
}

/// True when any row or the total of `r` has a negative net.
pub fn any_negative(r: &Report) -> bool {
    is_negative(&r.total.usd) || r.rows.iter().any(|row| is_negative(&row.usd))
}

/// The marker after a negative amount: a link to the page's note.
pub fn mark(cat: &Catalogs, lang: Lang) -> Markup {
    html! {
        a class="neg-mark" href=(format!("#{NOTE_ID}")) title=(cat.t(lang, "negative-mark")) aria-label=(cat.t(lang, "negative-mark")) { "*" }
    }
}

/// An amount in U.S. dollars, with the marker when it is negative.
pub fn usd(cat: &Catalogs, loc: Locale, d: Decimal) -> Markup {
    html! {
        @if d < Decimal::ZERO { span class="neg" { (loc.usd(d)) } (mark(cat, loc.lang)) } @else { (loc.usd(d)) }
    }
}

/// The same, compact (`-US$ 6,6 M`), for tiles.
pub fn usd_compact(cat: &Catalogs, loc: Locale, d: Decimal) -> Markup {
    html! {
        @if d < Decimal::ZERO { span class="neg" { (loc.usd_compact(d)) } (mark(cat, loc.lang)) } @else { (loc.usd_compact(d)) }
    }
}

/// The page's note: why a total is negative, and a link to the activities with negative money
/// in the view described by `scope` (query pairs such as `line_of_effort=LOE5`).
pub fn note(cat: &Catalogs, lang: Lang, scope: &[(&str, String)]) -> Markup {
    let mut pairs: Vec<(&str, String)> = vec![("negative_money", "true".to_owned())];
    pairs.extend(scope.iter().cloned());
    html! {
        p class="negative-note" id=(NOTE_ID) role="note" {
            span class="neg-mark" aria-hidden="true" { "*" } " "
            (cat.t(lang, "negative-why")) " "
            a href=(format!("/activities?{}", query_string(&pairs))) { (cat.t(lang, "negative-link")) }
        }
    }
}
