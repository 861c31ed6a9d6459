//! Output formatting: aligned tables with thousands separators, CSV, JSON.

use rust_decimal::Decimal;

/// Formats an amount rounded to whole units with thousands separators: `1234567.5` -> `1,234,568`.
pub fn thousands(d: Decimal) -> String {
    let r = d.round_dp_with_strategy(0, rust_decimal::RoundingStrategy::MidpointNearestEven);
    let s = r.abs().trunc().to_string();
    let mut out = String::new();
    for (i, c) in s.chars().enumerate() {
        if i > 0 && (s.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    if r.is_sign_negative() && !r.is_zero() { format!("-{out}") } else { out }
}

/// Formats a count with thousands separators.
pub fn count(n: u64) -> String {
    thousands(Decimal::from(n))
}

/// Renders rows as an aligned text table. `right` marks right-aligned (numeric) columns.
pub fn table(headers: &[String], rows: &[Vec<String>], right: &[bool]) -> String {
    let n = headers.len();
    let mut w: Vec<usize> = headers.iter().map(|h| h.chars().count()).collect();
    for r in rows {
        for (i, c) in r.iter().enumerate().take(n) {
            w[i] = w[i].max(c.chars().count());
        }
    }
    let line = |cells: &[String]| {
        let mut s = String::new();
        for (i, c) in cells.iter().enumerate().take(n) {
            let c = &printable(c);
            if i > 0 {
                s.push_str("  ");
            }
            let pad = w[i].saturating_sub(c.chars().count());
            if right.get(i).copied().unwrap_or(false) {
                s.push_str(&" ".repeat(pad));
                s.push_str(c);
            } else {
                s.push_str(c);
                if i + 1 < n {
                    s.push_str(&" ".repeat(pad));
                }
            }
        }
        s.trim_end().to_owned() + "\n"
    };
    let mut out = line(headers);
    out.push_str(&(w.iter().map(|x| "-".repeat(*x)).collect::<Vec<_>>().join("  ") + "\n"));
    for r in rows {
        out.push_str(&line(r));
    }
    out
}

/// A table cell as the terminal should show it: every control character (tab, line ends, the
/// C0 and C1 controls; all allowed in IATI text) becomes a space, one character for one, so a
/// title with a tab or a line break keeps its row on one line and the columns aligned.
fn printable(s: &str) -> std::borrow::Cow<'_, str> {
    if s.chars().any(char::is_control) {
        s.chars().map(|c| if c.is_control() { ' ' } else { c }).collect::<String>().into()
    } else {
        s.into()
    }
}

/// Shortens text to `max` characters with an ellipsis.
pub fn clip(s: &str, max: usize) -> String {
    if s.chars().count() <= max {
        s.to_owned()
    } else {
        s.chars().take(max.saturating_sub(1)).collect::<String>() + "…"
    }
}

/// Formats an exact value with thousands separators, keeping its decimals: `1234.5` -> `1,234.5`.
pub fn thousands_exact(d: Decimal) -> String {
    let n = d.normalize();
    let frac = n.fract().abs().to_string();
    let frac = frac.strip_prefix('0').unwrap_or("");
    let int = thousands(n.trunc());
    let int = if n.is_sign_negative() && n.trunc().is_zero() && !n.is_zero() { format!("-{int}") } else { int };
    format!("{int}{frac}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn control_characters_in_cells_keep_rows_on_one_line_and_columns_aligned() {
        let headers = vec!["id".to_owned(), "title".to_owned(), "n".to_owned()];
        let rows = vec![
            vec!["A".to_owned(), "Tab\there".to_owned(), "1".to_owned()],
            vec!["B".to_owned(), "Lone\rCR and\r\nCRLF".to_owned(), "2".to_owned()],
        ];
        let t = table(&headers, &rows, &[false, false, true]);
        let lines: Vec<&str> = t.lines().collect();
        assert_eq!(lines.len(), 4, "{t:?}");
        assert_eq!(lines[2], format!("A   Tab here{}1", " ".repeat(11)));
        assert_eq!(lines[3], "B   Lone CR and  CRLF  2");
        assert!(!t.contains(['\t', '\r']), "{t:?}");
    }
    #[test]
    fn separators() {
        assert_eq!(thousands("1234567.5".parse().expect("d")), "1,234,568");
        assert_eq!(thousands("-1000".parse().expect("d")), "-1,000");
        assert_eq!(thousands("999".parse().expect("d")), "999");
        assert_eq!(thousands(Decimal::ZERO), "0");
    }
}
