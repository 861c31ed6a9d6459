//! The activity-list query, built once for every backend: filters, order, keyset cursor and
//! limit become one SQL statement in the backend's dialect ([`Dialect`]: placeholders, list
//! membership, casts). The order never depends on a database collation: titles sort by
//! `title_key` ([`crate::rules::sort_key::title_key`]), text compared as bytes on both
//! backends; money sorts by its double value (ties broken by identifier), the same cast on both.

use crate::{ActivityFilter, ActivitySort, Override};
use senda_core::report::NOT_MAPPED;
use std::collections::HashMap;

/// An SQL dialect's few differences that matter here.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Dialect {
    /// SQLite: `?N` placeholders, `json_each`, `REAL`.
    Sqlite,
    /// PostgreSQL: `$N` placeholders (bound as text), `jsonb_array_elements_text`, `double precision`.
    Postgres,
}

impl Dialect {
    /// The N-th (1-based) text parameter.
    pub fn param(self, n: usize) -> String {
        match self {
            Dialect::Sqlite => format!("?{n}"),
            Dialect::Postgres => format!("${n}::text"),
        }
    }

    /// `expr` as a double (sorting money; the money itself is never read as a double).
    fn double(self, expr: &str) -> String {
        match self {
            Dialect::Sqlite => format!("CAST({expr} AS REAL)"),
            Dialect::Postgres => format!("CAST({expr} AS double precision)"),
        }
    }

    /// `IN (the strings of the JSON array in parameter n)`.
    fn in_json(self, n: usize) -> String {
        match self {
            Dialect::Sqlite => format!("IN (SELECT value FROM json_each(?{n}))"),
            Dialect::Postgres => format!("IN (SELECT jsonb_array_elements_text(CAST(${n}::text AS jsonb)))"),
        }
    }
}

/// Columns of an activity list row, in the order backends read them.
pub const ROW_COLUMNS: &str = "a.iati_identifier, a.title, a.reporting_org_name, a.countries, m.lines, a.status, a.start_date, a.end_date, a.commitments_usd, a.disbursements_usd, a.expenditures_usd, a.synthetic, a.id";

/// The FROM clause every list query shares (parameter 1 is the strategy).
fn from(d: Dialect) -> String {
    format!("FROM activity a LEFT JOIN activity_mapping m ON m.activity_id = a.id AND m.strategy = {}", d.param(1))
}

/// One activity's list row by id: parameter 1 the strategy, 2 the id (as text on PostgreSQL).
pub fn row_by_id_sql(d: Dialect) -> String {
    let id = match d {
        Dialect::Sqlite => "?2".to_owned(),
        Dialect::Postgres => "CAST($2::text AS bigint)".to_owned(),
    };
    format!("SELECT {ROW_COLUMNS} {} WHERE a.id = {id}", from(d))
}

/// The keyset list query selecting `columns`: filter, order (sort key, then identifier),
/// cursor, limit. All parameters are text.
pub fn list_sql(
    d: Dialect,
    filter: &ActivityFilter,
    overrides: &HashMap<String, Override>,
    columns: &str,
) -> (String, Vec<String>) {
    let (where_sql, mut args) = activity_where(d, filter, overrides);
    let mut sql = format!("SELECT {columns} {} WHERE {where_sql}", from(d));
    // Sort expression, direction, and whether the cursor value is cast to a double.
    let (expr, desc, cast) = match filter.sort {
        ActivitySort::Identifier => (String::new(), false, false),
        ActivitySort::Title => ("a.title_key".to_owned(), false, false),
        ActivitySort::StartDate => ("coalesce(a.start_date, '')".to_owned(), true, false),
        ActivitySort::Disbursements => (d.double("a.disbursements_usd"), true, true),
        ActivitySort::Commitments => (d.double("a.commitments_usd"), true, true),
    };
    if let Some(c) = &filter.after {
        args.push(c.iati_identifier.clone());
        let id_arg = d.param(args.len());
        if expr.is_empty() {
            sql.push_str(&format!(" AND a.iati_identifier > {id_arg}"));
        } else {
            args.push(c.sort_value.clone());
            let v = if cast { d.double(&d.param(args.len())) } else { d.param(args.len()) };
            let op = if desc { "<" } else { ">" };
            sql.push_str(&format!(" AND ({expr} {op} {v} OR ({expr} = {v} AND a.iati_identifier > {id_arg}))"));
        }
    }
    if expr.is_empty() {
        sql.push_str(" ORDER BY a.iati_identifier");
    } else {
        sql.push_str(&format!(" ORDER BY {expr} {}, a.iati_identifier", if desc { "DESC" } else { "ASC" }));
    }
    if let Some(l) = filter.limit {
        sql.push_str(&format!(" LIMIT {l}"));
    }
    (sql, args)
}

/// The count of activities matching `filter` (its order, cursor and limit ignored).
pub fn count_sql(d: Dialect, filter: &ActivityFilter, overrides: &HashMap<String, Override>) -> (String, Vec<String>) {
    let (where_sql, args) = activity_where(d, filter, overrides);
    (format!("SELECT count(*) {} WHERE {where_sql}", from(d)), args)
}

/// A filter's text folded as the database folds the column it is compared with: `lower()`
/// folds ASCII letters only on both backends (SQLite's `lower`; PostgreSQL's under `COLLATE
/// "C"`), so the parameter is folded the same way. (Folded with full Unicode lower case, a
/// title or organisation name with a capital non-ASCII letter, `Ámbito`, was not found even
/// when searched as written.)
fn fold(s: &str) -> String {
    s.to_ascii_lowercase()
}

/// `s` matched literally by `LIKE ... ESCAPE '\'`: `%`, `_` and `\` lose their special meaning.
fn like_literal(s: &str) -> String {
    s.replace('\\', "\\\\").replace('%', "\\%").replace('_', "\\_")
}

/// The WHERE clause (after `WHERE`) and its arguments for an activity filter; parameter 1 is
/// the strategy.
fn activity_where(d: Dialect, filter: &ActivityFilter, overrides: &HashMap<String, Override>) -> (String, Vec<String>) {
    let mut sql = String::from("1=1");
    let mut args: Vec<String> = vec![filter.strategy.clone()];
    let push = |args: &mut Vec<String>, v: String| {
        args.push(v);
        d.param(args.len())
    };
    if let Some(c) = &filter.country {
        let c = c.to_ascii_uppercase();
        if c == "REGIONAL" || c == "UNKNOWN" {
            // Attribution labels (money to no country / to an invalid code): they are in the facts.
            let p = push(&mut args, c);
            sql.push_str(&format!(" AND EXISTS (SELECT 1 FROM fact f WHERE f.activity_id = a.id AND f.country = {p})"));
        } else {
            let p = push(&mut args, format!("%;{c};%"));
            sql.push_str(&format!(" AND a.countries LIKE {p}"));
        }
    }
    if let Some(o) = &filter.reporting_org {
        let n = push(&mut args, o.clone());
        let l = push(&mut args, format!("%{}%", like_literal(&fold(o))));
        sql.push_str(&format!(" AND (a.reporting_org_ref = {n} OR lower(a.reporting_org_name) LIKE {l} ESCAPE '\\')"));
    }
    if let Some(t) = &filter.text {
        let p = push(&mut args, format!("%{}%", like_literal(&fold(t))));
        sql.push_str(&format!(
            " AND (lower(a.title) LIKE {p} ESCAPE '\\' OR lower(a.title_es) LIKE {p} ESCAPE '\\' OR lower(a.iati_identifier) LIKE {p} ESCAPE '\\')"
        ));
    }
    if let Some(s) = &filter.status {
        let p = push(&mut args, s.clone());
        sql.push_str(&format!(" AND a.status = {p}"));
    }
    if !filter.implementing_org.is_empty() {
        let ps: Vec<String> = filter.implementing_org.iter().map(|o| push(&mut args, fold(o))).collect();
        sql.push_str(&format!(
            " AND EXISTS (SELECT 1 FROM fact f WHERE f.activity_id = a.id AND lower(f.implementing_org) IN ({}))",
            ps.join(", ")
        ));
    }
    if let Some((from, to)) = filter.fiscal_years {
        // U.S. fiscal year N runs from 1 October of N-1 to 30 September of N.
        let a = push(&mut args, format!("{:04}-10-01", from - 1));
        let b = push(&mut args, format!("{to:04}-09-30"));
        sql.push_str(&format!(
            " AND EXISTS (SELECT 1 FROM fact f WHERE f.activity_id = a.id AND f.transaction_type IN ('2','3','4') AND f.date >= {a} AND f.date <= {b})"
        ));
    }
    if filter.negative_money {
        // Amounts are stored as exact decimal text: a negative one starts with '-' and has a
        // digit other than 0 (a negative zero, "-0.00", is not negative money).
        sql.push_str(
            " AND EXISTS (SELECT 1 FROM fact f WHERE f.activity_id = a.id AND f.transaction_type IN ('2','3') \
             AND f.amount LIKE '-%' AND replace(replace(replace(f.amount, '0', ''), '.', ''), '-', '') <> '')",
        );
    }
    if let Some(l) = &filter.line_of_effort {
        // Overrides decide for their activities; the rules' rows decide for the others.
        let not_mapped = l.eq_ignore_ascii_case(NOT_MAPPED);
        let matches = |lines: &[String]| {
            if not_mapped { lines.is_empty() } else { lines.iter().any(|x| x.eq_ignore_ascii_case(l)) }
        };
        let mut all: Vec<&str> = overrides.keys().map(String::as_str).collect();
        all.sort_unstable();
        let mut hit: Vec<&str> =
            overrides.iter().filter(|(_, o)| matches(&o.lines_of_effort)).map(|(k, _)| k.as_str()).collect();
        hit.sort_unstable();
        let rule = if not_mapped {
            "coalesce(m.lines, '') = ''".to_owned()
        } else {
            let p = push(&mut args, format!("%;{};%", l.to_ascii_uppercase()));
            format!("(';' || coalesce(m.lines, '') || ';') LIKE {p}")
        };
        if all.is_empty() {
            sql.push_str(&format!(" AND {rule}"));
        } else {
            args.push(serde_json::to_string(&all).unwrap_or_else(|_| "[]".into()));
            let all_in = d.in_json(args.len());
            args.push(serde_json::to_string(&hit).unwrap_or_else(|_| "[]".into()));
            let hit_in = d.in_json(args.len());
            sql.push_str(&format!(" AND ((a.iati_identifier NOT {all_in} AND {rule}) OR a.iati_identifier {hit_in})"));
        }
    }
    (sql, args)
}
