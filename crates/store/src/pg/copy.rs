//! Whole-database reads and loads for `senda copy` (see [`crate::tables`]).

use super::import::{copy_in, copy_row};
use super::{BUMP_GENERATION, PgStore};
use crate::StoreError;
use crate::tables::{Cell, ColumnType, RowSink, TABLES, Table, column_list};
use postgres::fallible_iterator::FallibleIterator;

impl PgStore {
    pub(super) fn counts(&self) -> Result<Vec<(&'static str, u64)>, StoreError> {
        TABLES
            .iter()
            .map(|t| {
                Ok((t.name, self.query_one(&format!("SELECT count(*) FROM {}", t.name), &[])?.get::<_, i64>(0) as u64))
            })
            .collect()
    }

    pub(super) fn read_rows(
        &self,
        t: &Table,
        f: &mut dyn FnMut(Vec<Cell>) -> Result<(), StoreError>,
    ) -> Result<(), StoreError> {
        let order = if t.name == "diagnostic" { " ORDER BY id" } else { "" };
        let sql = format!("SELECT {} FROM {}{order}", column_list(t), t.name);
        let mut c = self.c();
        let mut rows = c.query_raw(sql.as_str(), std::iter::empty::<&str>()).map_err(|e| self.err(e))?;
        while let Some(r) = rows.next().map_err(|e| super::conn::error(&self.target, e))? {
            let cells = t
                .columns
                .iter()
                .enumerate()
                .map(|(i, (_, ty))| match ty {
                    ColumnType::Int => r.get::<_, Option<i64>>(i).map_or(Cell::Null, Cell::Int),
                    ColumnType::Text => r.get::<_, Option<String>>(i).map_or(Cell::Null, Cell::Text),
                    ColumnType::Bytes => r.get::<_, Option<Vec<u8>>>(i).map_or(Cell::Null, Cell::Bytes),
                })
                .collect();
            f(cells)?;
        }
        Ok(())
    }

    pub(super) fn load(
        &mut self,
        replace: bool,
        fill: &mut dyn FnMut(&mut dyn RowSink) -> Result<(), StoreError>,
    ) -> Result<(), StoreError> {
        self.write_tx(|db| {
            let before: i64 = db.query_one("SELECT generation FROM store_generation WHERE id = 1", &[])?.get(0);
            let mut rows = 0u64;
            for (name, n) in db.counts()? {
                if name != "store_generation" {
                    rows += n;
                }
            }
            if rows > 0 && !replace {
                let activities = db.query_one("SELECT count(*) FROM activity", &[])?.get::<_, i64>(0) as u64;
                return Err(StoreError::NotEmpty { target: db.target.clone(), activities, rows });
            }
            let names: Vec<&str> = TABLES.iter().map(|t| t.name).collect();
            db.batch(&format!("TRUNCATE {} RESTART IDENTITY", names.join(", ")))?;
            db.reserved_ids.borrow_mut().clear();
            struct Sink<'a> {
                s: &'a PgStore,
                table: Option<&'static str>,
                sql: String,
                buf: String,
            }
            impl Sink<'_> {
                fn flush(&mut self) -> Result<(), StoreError> {
                    copy_in(self.s, &self.sql, &std::mem::take(&mut self.buf))
                }
            }
            impl RowSink for Sink<'_> {
                fn row(&mut self, t: &Table, cells: Vec<Cell>) -> Result<(), StoreError> {
                    if self.table != Some(t.name) || self.buf.len() > 8 << 20 {
                        self.flush()?;
                        self.table = Some(t.name);
                        self.sql = format!("COPY {} ({}) FROM STDIN", t.name, column_list(t));
                    }
                    let texts: Vec<Option<String>> = cells
                        .into_iter()
                        .map(|c| match c {
                            Cell::Null => None,
                            Cell::Int(n) => Some(n.to_string()),
                            Cell::Text(s) => Some(s),
                            Cell::Bytes(b) => {
                                let mut h = String::with_capacity(2 + 2 * b.len());
                                h.push_str("\\x");
                                for x in b {
                                    h.push_str(&format!("{x:02x}"));
                                }
                                Some(h)
                            }
                        })
                        .collect();
                    let refs: Vec<Option<&str>> = texts.iter().map(|t| t.as_deref()).collect();
                    copy_row(&mut self.buf, &refs);
                    Ok(())
                }
            }
            let mut sink = Sink { s: db, table: None, sql: String::new(), buf: String::new() };
            fill(&mut sink)?;
            sink.flush()?;
            for t in TABLES.iter().filter(|t| t.generated_id) {
                db.batch(&format!(
                    "SELECT setval(pg_get_serial_sequence('{0}', 'id'), coalesce(max(id), 0) + 1, false) FROM {0}",
                    t.name
                ))?;
            }
            db.execute(
                "INSERT INTO store_generation (id, generation) VALUES (1, $1) ON CONFLICT (id) DO UPDATE SET generation = greatest(store_generation.generation, $1)",
                &[&before],
            )?;
            db.execute(BUMP_GENERATION, &[])?;
            Ok(())
        })
    }
}
