//! The duplicate rule: when several files (or one file) publish the same `iati-identifier`,
//! the copy with the latest `last-updated-datetime` is stored; ties go to the later path, then
//! to the later position in the file. Times are compared as instants.

/// A copy's rank under the duplicate rule: `last-updated-datetime` (normalised UTC, RFC 3339;
/// empty when missing or unreadable: ranks first), then path, then position. The times are
/// compared as instants: `12:00:00.9Z` is later than `12:00:00Z`, though `.` sorts before `Z`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Rank<'a>(pub &'a str, pub &'a str, pub u64);

impl Ord for Rank<'_> {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        utc_cmp(self.0, other.0).then_with(|| self.1.cmp(other.1)).then_with(|| self.2.cmp(&other.2))
    }
}

impl PartialOrd for Rank<'_> {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

/// Compares two normalised UTC times (`YYYY-MM-DDTHH:MM:SS[.fraction]Z`, or empty) as instants.
pub fn utc_cmp(a: &str, b: &str) -> std::cmp::Ordering {
    // Seconds and fraction digits; a time without a fraction has fraction "".
    fn parts(t: &str) -> (&str, &str) {
        let t = t.strip_suffix('Z').unwrap_or(t);
        t.split_once('.').unwrap_or((t, ""))
    }
    let ((sa, fa), (sb, fb)) = (parts(a), parts(b));
    // (Empty strings sort first, as before: "" < any time.)
    sa.cmp(sb).then_with(|| {
        // Fractions compared digit by digit, the shorter padded with zeros (".5" = ".50").
        let n = fa.len().max(fb.len());
        fn padded(f: &str, n: usize) -> impl Iterator<Item = u8> + '_ {
            f.bytes().chain(std::iter::repeat(b'0')).take(n)
        }
        padded(fa, n).cmp(padded(fb, n))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn copies_are_ranked_by_instant_then_path_then_position() {
        use std::cmp::Ordering::*;
        assert_eq!(utc_cmp("2023-06-01T12:00:00.9Z", "2023-06-01T12:00:00Z"), Greater);
        assert_eq!(utc_cmp("2023-06-01T12:00:00.5Z", "2023-06-01T12:00:00.50Z"), Equal);
        assert_eq!(utc_cmp("2023-06-01T12:00:00.05Z", "2023-06-01T12:00:00.5Z"), Less);
        assert_eq!(utc_cmp("2023-06-01T11:59:59.999Z", "2023-06-01T12:00:00Z"), Less);
        assert_eq!(utc_cmp("", "0001-01-01T00:00:00Z"), Less, "a missing date ranks first");
        assert!(Rank("2023-01-01T00:00:00Z", "b.xml", 0) > Rank("2023-01-01T00:00:00Z", "a.xml", 5));
        assert!(Rank("2023-01-01T00:00:00Z", "a.xml", 1) > Rank("2023-01-01T00:00:00Z", "a.xml", 0));
    }
}
