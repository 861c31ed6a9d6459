//! Accounts on PostgreSQL: the primitives of [`AccountSql`]; the rules are in
//! `crate::accounts`. Account writes are plain transactions: they do not take Senda's data
//! write lock (a login must not wait for an import), and change no figure.

use super::PgStore;
use crate::StoreError;
use crate::accounts::{AccountSql, Param};
use crate::tables::Cell;
use postgres::error::SqlState;
use postgres::types::{IsNull, ToSql, Type, to_sql_checked};
use std::error::Error;

/// Marks a unique-constraint violation until [`AccountSql::acc_is_unique_violation`] reads it.
const UNIQUE: &str = "unique";

impl ToSql for Param<'_> {
    fn to_sql(
        &self,
        ty: &Type,
        out: &mut postgres::types::private::BytesMut,
    ) -> Result<IsNull, Box<dyn Error + Sync + Send>> {
        match self {
            Param::Int(i) => i.to_sql(ty, out),
            Param::Text(s) => s.to_sql(ty, out),
            Param::Null => Ok(IsNull::Yes),
        }
    }

    fn accepts(ty: &Type) -> bool {
        <i64 as ToSql>::accepts(ty) || <&str as ToSql>::accepts(ty)
    }

    to_sql_checked!();
}

/// `?N` placeholders as PostgreSQL's `$N`.
fn dollars(sql: &str) -> String {
    sql.replace('?', "$")
}

impl PgStore {
    fn acc_err(&self, e: postgres::Error) -> StoreError {
        if e.code() == Some(&SqlState::UNIQUE_VIOLATION) {
            return StoreError::Account { field: UNIQUE, message: e.to_string() };
        }
        self.err(e)
    }
}

impl AccountSql for PgStore {
    fn acc_exec(&self, sql: &str, params: &[Param<'_>]) -> Result<u64, StoreError> {
        let st = self.prepared(&dollars(sql))?;
        let p: Vec<&(dyn ToSql + Sync)> = params.iter().map(|p| p as &(dyn ToSql + Sync)).collect();
        self.c().execute(&st, &p).map_err(|e| self.acc_err(e))
    }

    fn acc_query(&self, sql: &str, params: &[Param<'_>]) -> Result<Vec<Vec<Cell>>, StoreError> {
        let st = self.prepared(&dollars(sql))?;
        let p: Vec<&(dyn ToSql + Sync)> = params.iter().map(|p| p as &(dyn ToSql + Sync)).collect();
        let rows = self.c().query(&st, &p).map_err(|e| self.acc_err(e))?;
        let mut out = Vec::with_capacity(rows.len());
        for r in &rows {
            let mut cells = Vec::with_capacity(r.len());
            for (i, col) in r.columns().iter().enumerate() {
                let cell = match *col.type_() {
                    Type::INT8 => r.try_get::<_, Option<i64>>(i).map(|v| v.map_or(Cell::Null, Cell::Int)),
                    Type::INT4 => r.try_get::<_, Option<i32>>(i).map(|v| v.map_or(Cell::Null, |v| Cell::Int(v.into()))),
                    Type::BYTEA => r.try_get::<_, Option<Vec<u8>>>(i).map(|v| v.map_or(Cell::Null, Cell::Bytes)),
                    _ => r.try_get::<_, Option<String>>(i).map(|v| v.map_or(Cell::Null, Cell::Text)),
                }
                .map_err(|e| self.err(e))?;
                cells.push(cell);
            }
            out.push(cells);
        }
        Ok(out)
    }

    fn acc_begin(&self) -> Result<(), StoreError> {
        self.batch("BEGIN")
    }

    fn acc_commit(&self) -> Result<(), StoreError> {
        self.batch("COMMIT")
    }

    fn acc_rollback(&self) {
        let _ = self.batch("ROLLBACK");
    }

    fn acc_is_unique_violation(&self, e: &StoreError) -> bool {
        matches!(e, StoreError::Account { field, .. } if *field == UNIQUE)
    }
}
