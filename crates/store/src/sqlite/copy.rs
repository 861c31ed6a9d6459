//! Whole-database reads and loads for `senda copy` (see [`crate::tables`]).

use super::{BUMP_GENERATION, SqliteStore};
use crate::StoreError;
use crate::tables::{Cell, ColumnType, RowSink, TABLES, Table, column_list};
use rusqlite::types::{Value, ValueRef};

impl SqliteStore {
    pub(super) fn counts(&self) -> Result<Vec<(&'static str, u64)>, StoreError> {
        TABLES
            .iter()
            .map(|t| {
                let n: i64 = self.conn.query_row(&format!("SELECT count(*) FROM {}", t.name), [], |r| r.get(0))?;
                Ok((t.name, n as u64))
            })
            .collect()
    }

    pub(super) fn read_rows(
        &self,
        t: &Table,
        f: &mut dyn FnMut(Vec<Cell>) -> Result<(), StoreError>,
    ) -> Result<(), StoreError> {
        // Diagnostics in the order they were saved (SQLite's rowid); other tables in any order.
        let order = if t.name == "diagnostic" { " ORDER BY rowid" } else { "" };
        let mut st = self.conn.prepare(&format!("SELECT {} FROM {}{order}", column_list(t), t.name))?;
        let mut rows = st.query([])?;
        while let Some(r) = rows.next()? {
            let mut cells = Vec::with_capacity(t.columns.len());
            for (i, (name, ty)) in t.columns.iter().enumerate() {
                let v = r.get_ref(i)?;
                cells.push(match (v, ty) {
                    (ValueRef::Null, _) => Cell::Null,
                    (ValueRef::Integer(n), ColumnType::Int) => Cell::Int(n),
                    (ValueRef::Text(s), ColumnType::Text) => Cell::Text(String::from_utf8_lossy(s).into_owned()),
                    (ValueRef::Blob(b), ColumnType::Bytes) => Cell::Bytes(b.to_vec()),
                    (other, _) => {
                        return Err(StoreError::Corrupt {
                            record: format!("{}.{name}", t.name),
                            message: format!("unexpected value type {:?}", other.data_type()),
                        });
                    }
                });
            }
            f(cells)?;
        }
        Ok(())
    }

    pub(super) fn load(
        &mut self,
        replace: bool,
        fill: &mut dyn FnMut(&mut dyn RowSink) -> Result<(), StoreError>,
    ) -> Result<(), StoreError> {
        let tx = self.conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
        let before: i64 = tx.query_row("SELECT generation FROM store_generation WHERE id = 1", [], |r| r.get(0))?;
        let mut rows = 0u64;
        for t in TABLES.iter().filter(|t| t.name != "store_generation") {
            rows += tx.query_row(&format!("SELECT count(*) FROM {}", t.name), [], |r| r.get::<_, i64>(0))? as u64;
        }
        if rows > 0 && !replace {
            let activities: i64 = tx.query_row("SELECT count(*) FROM activity", [], |r| r.get(0))?;
            return Err(StoreError::NotEmpty {
                target: tx.path().unwrap_or("").to_owned(),
                activities: activities as u64,
                rows,
            });
        }
        for t in TABLES.iter().rev() {
            tx.execute(&format!("DELETE FROM {}", t.name), [])?;
        }
        struct Sink<'a>(&'a rusqlite::Transaction<'a>);
        impl RowSink for Sink<'_> {
            fn row(&mut self, t: &Table, cells: Vec<Cell>) -> Result<(), StoreError> {
                let marks = vec!["?"; t.columns.len()].join(",");
                let mut st =
                    self.0.prepare_cached(&format!("INSERT INTO {} ({}) VALUES ({marks})", t.name, column_list(t)))?;
                let values: Vec<Value> = cells
                    .into_iter()
                    .map(|c| match c {
                        Cell::Null => Value::Null,
                        Cell::Int(n) => Value::Integer(n),
                        Cell::Text(s) => Value::Text(s),
                        Cell::Bytes(b) => Value::Blob(b),
                    })
                    .collect();
                st.execute(rusqlite::params_from_iter(values))?;
                Ok(())
            }
        }
        fill(&mut Sink(&tx))?;
        // The copied generation, moved past the one this database had.
        tx.execute(
            "INSERT INTO store_generation (id, generation) VALUES (1, ?1) ON CONFLICT(id) DO UPDATE SET generation = max(generation, ?1)",
            [before],
        )?;
        tx.execute(BUMP_GENERATION, [])?;
        tx.commit()?;
        Ok(())
    }
}
