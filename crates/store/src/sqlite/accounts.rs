//! Accounts on SQLite: the primitives of [`AccountSql`]; the rules are in `crate::accounts`.

use super::SqliteStore;
use crate::StoreError;
use crate::accounts::{AccountSql, Param};
use crate::tables::Cell;
use rusqlite::types::{ToSqlOutput, ValueRef};

/// Marks a unique-constraint violation until [`AccountSql::acc_is_unique_violation`] reads it.
const UNIQUE: &str = "unique";

impl rusqlite::ToSql for Param<'_> {
    fn to_sql(&self) -> rusqlite::Result<ToSqlOutput<'_>> {
        Ok(match self {
            Param::Int(i) => ToSqlOutput::from(*i),
            Param::Text(s) => ToSqlOutput::from(*s),
            Param::Null => ToSqlOutput::from(rusqlite::types::Null),
        })
    }
}

fn map(e: rusqlite::Error) -> StoreError {
    match &e {
        rusqlite::Error::SqliteFailure(f, _) if f.extended_code == rusqlite::ffi::SQLITE_CONSTRAINT_UNIQUE => {
            StoreError::Account { field: UNIQUE, message: e.to_string() }
        }
        _ => StoreError::from(e),
    }
}

impl AccountSql for SqliteStore {
    fn acc_exec(&self, sql: &str, params: &[Param<'_>]) -> Result<u64, StoreError> {
        let mut st = self.conn.prepare_cached(sql)?;
        Ok(st.execute(rusqlite::params_from_iter(params.iter())).map_err(map)? as u64)
    }

    fn acc_query(&self, sql: &str, params: &[Param<'_>]) -> Result<Vec<Vec<Cell>>, StoreError> {
        let mut st = self.conn.prepare_cached(sql)?;
        let n = st.column_count();
        let mut rows = st.query(rusqlite::params_from_iter(params.iter())).map_err(map)?;
        let mut out = Vec::new();
        while let Some(r) = rows.next().map_err(map)? {
            let mut cells = Vec::with_capacity(n);
            for i in 0..n {
                cells.push(match r.get_ref(i)? {
                    ValueRef::Null => Cell::Null,
                    ValueRef::Integer(v) => Cell::Int(v),
                    ValueRef::Text(t) => Cell::Text(String::from_utf8_lossy(t).into_owned()),
                    ValueRef::Real(f) => Cell::Text(f.to_string()),
                    ValueRef::Blob(b) => Cell::Bytes(b.to_vec()),
                });
            }
            out.push(cells);
        }
        Ok(out)
    }

    fn acc_begin(&self) -> Result<(), StoreError> {
        Ok(self.conn.execute_batch("BEGIN IMMEDIATE")?)
    }

    fn acc_commit(&self) -> Result<(), StoreError> {
        Ok(self.conn.execute_batch("COMMIT")?)
    }

    fn acc_rollback(&self) {
        let _ = self.conn.execute_batch("ROLLBACK");
    }

    fn acc_is_unique_violation(&self, e: &StoreError) -> bool {
        matches!(e, StoreError::Account { field, .. } if *field == UNIQUE)
    }
}
