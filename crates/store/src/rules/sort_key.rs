//! Sort keys both backends order by, byte for byte.
//!
//! Databases disagree on collation: SQLite's `lower()` folds ASCII letters only and compares
//! bytes; PostgreSQL follows the database's locale unless told otherwise. So Senda never asks a
//! database to collate: the keys a list is sorted on are computed here, stored in their own
//! column (`activity.title_key`), and compared as bytes on both backends (SQLite's `BINARY`,
//! PostgreSQL's `COLLATE "C"`). A keyset cursor carries the same key, so pages join up the
//! same way on both.

use unicode_normalization::UnicodeNormalization;

/// The title sort key: Unicode canonical decomposition with combining marks dropped (so
/// `Ámbito` sorts with `ambito`), then full Unicode lower case; other characters (spaces,
/// punctuation, digits, letters without case) are kept as they are.
pub fn title_key(title: &str) -> String {
    let mut out = String::with_capacity(title.len());
    for c in title.nfd() {
        if unicode_normalization::char::is_combining_mark(c) {
            continue;
        }
        out.extend(c.to_lowercase());
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accents_and_case_do_not_change_the_order() {
        assert_eq!(title_key("Ámbito RURAL"), "ambito rural");
        assert_eq!(title_key("ÑANDÚ"), "nandu");
        let mut v = vec!["zeta", "Ámbito", "apoyo", "Éxito", "ejemplo"];
        v.sort_by_key(|t| title_key(t));
        assert_eq!(v, ["Ámbito", "apoyo", "ejemplo", "Éxito", "zeta"]);
    }
}
