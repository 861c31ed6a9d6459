//! One page of a filtered activity list, for pages and API alike.
//!
//! The first request for a filter (and order) reads the ids of every matching activity, in
//! order, once per data generation, when there are at most [`ID_LIST_CAP`] of them; the total
//! is their number, and every page, first or deep, is a slice of that list (its rows read by
//! id). Broader filters match densely, so the keyset query finds a page quickly: they use it,
//! with the total counted once per generation.

use crate::error::WebError;
use crate::query::Selection;
use crate::state::AppState;
use senda_store::{ActivityCursor, ActivityRow, ActivitySort};

/// Most ids kept for one filter (8 bytes each: 8 MB).
pub const ID_LIST_CAP: usize = 1_000_000;

/// A page of rows, the total and the cursor of the next page.
pub struct ListPage {
    /// Rows of this page.
    pub rows: Vec<ActivityRow>,
    /// Activities matching the filter (all pages).
    pub total: u64,
    /// Where the next page starts; `None` on the last page.
    pub next: Option<ActivityCursor>,
}

fn cursor_of(sort: ActivitySort, r: &ActivityRow) -> ActivityCursor {
    ActivityCursor { sort_value: sort.value_of(r), iati_identifier: r.iati_identifier.clone(), db_id: Some(r.db_id) }
}

/// The page after `cursor` (or the first) of at most `limit` rows.
pub async fn page(
    state: &AppState,
    sel: &Selection,
    sort: ActivitySort,
    cursor: Option<ActivityCursor>,
    limit: u64,
) -> Result<ListPage, WebError> {
    if sel.excludes_iati() {
        return Ok(ListPage { rows: Vec::new(), total: 0, next: None });
    }
    let key = format!("ids|{}|{:?}", sort.name(), sel.pairs());
    let f = sel.activity_filter(sort, None, Some(ID_LIST_CAP as u64 + 1));
    let ids = state.cached(key, move |s| s.matching_activity_ids(&f)).await?;
    if ids.len() <= ID_LIST_CAP {
        let start = match &cursor {
            None => Some(0),
            Some(c) => {
                // A cursor written by hand or by an older Senda has no row id: look it up.
                let id = match c.db_id {
                    Some(id) => Some(id),
                    None => {
                        let ident = c.iati_identifier.clone();
                        state.pool.run(move |s| s.activity_db_id(&ident)).await?
                    }
                };
                id.and_then(|id| ids.iter().position(|x| *x == id)).map(|p| p + 1)
            }
        };
        if let Some(start) = start {
            let end = (start + limit as usize).min(ids.len());
            let want: Vec<i64> = ids.get(start..end).unwrap_or(&[]).to_vec();
            let strategy = sel.strategy.clone();
            let rows = state.pool.run(move |s| s.activity_rows(&strategy, &want)).await?;
            let next = (end < ids.len()).then(|| rows.last().map(|r| cursor_of(sort, r))).flatten();
            return Ok(ListPage { rows, total: ids.len() as u64, next });
        }
        // A cursor from another generation of the data: the keyset query still places it.
    }
    let filter = sel.activity_filter(sort, cursor, Some(limit));
    let rows = state.pool.run(move |s| s.list_activities(&filter)).await?;
    let total = if ids.len() <= ID_LIST_CAP {
        ids.len() as u64
    } else {
        let cf = sel.activity_filter(sort, None, None);
        *state.cached(format!("count|{:?}", sel.pairs()), move |s| s.count_activities_matching(&cf)).await?
    };
    let next = (rows.len() as u64 == limit).then(|| rows.last().map(|r| cursor_of(sort, r))).flatten();
    Ok(ListPage { rows, total, next })
}
