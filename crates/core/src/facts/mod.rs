//! The facts of a database in memory, for a long-running reader (the web server): a list of
//! [`FactSegment`]s (the facts of one range of activity ids each, column by column, about 16
//! bytes a fact) and, per strategy, [`ActivityClasses`] (what reports need of each activity,
//! shared by all activities alike). A report is one pass over the segments
//! ([`FactTable::report`]) that gives exactly what the command line's
//! [`ReportBuilder`](crate::report::ReportBuilder) gives over the same facts (a test checks it
//! on random data), at a few nanoseconds a fact.
//!
//! Segments are what the store keeps up to date at write time (`fact_segment`), so a server
//! starts by reading them instead of scanning every fact, and a new data generation reloads only
//! the segments that changed.

mod kernel;
mod segment;

pub use segment::{Combo, FactSegment, SEGMENT_SPAN, SegmentBuilder, segment_of};

use crate::report::{ActivityInfo, Dimension, Filters, Report};
use rustc_hash::FxHashMap;
use std::collections::HashMap;
use std::sync::Arc;

/// Every fact of a database: segments in ascending order of their activity ranges.
#[derive(Debug, Clone, Default)]
pub struct FactTable {
    segments: Vec<Arc<FactSegment>>,
}

impl FactTable {
    /// An empty table.
    pub fn new() -> Self {
        Self::default()
    }

    /// A table of `segments`, which must hold disjoint, ascending activity ranges (as the store
    /// gives them: segment by segment).
    pub fn from_segments(segments: Vec<Arc<FactSegment>>) -> Self {
        Self { segments }
    }

    /// The segments.
    pub fn segments(&self) -> &[Arc<FactSegment>] {
        &self.segments
    }

    /// Number of facts.
    pub fn len(&self) -> usize {
        self.segments.iter().map(|s| s.len()).sum()
    }

    /// True when there is no fact.
    pub fn is_empty(&self) -> bool {
        self.segments.iter().all(|s| s.is_empty())
    }

    /// Approximate heap size in bytes (for logs).
    pub fn heap_bytes(&self) -> usize {
        self.segments.iter().map(|s| s.heap_bytes()).sum()
    }

    /// Calls `f` with every fact, activity by activity. Dates are given as the first day of
    /// their year, or of October when the fact falls in October to December: what reports use.
    pub fn for_each(&self, mut f: impl FnMut(crate::report::FactRef<'_>)) {
        for s in &self.segments {
            s.for_each(&mut f);
        }
    }

    /// A report over the table: the activities of `classes` (one strategy), grouped by `dims`,
    /// filtered by `filters`. Facts of activities `classes` does not know are left out.
    pub fn report(
        &self,
        classes: &ActivityClasses,
        dims: Vec<Dimension>,
        calendar_year: bool,
        filters: Filters,
    ) -> Report {
        kernel::report(&self.segments, classes, dims, calendar_year, filters)
    }
}

/// What reports need of each activity under one strategy, with activities that share it
/// (same reporting organisation, lines of effort and instrument) sharing one entry.
#[derive(Debug, Clone, Default)]
pub struct ActivityClasses {
    /// Dense: class by activity id (`u32::MAX`: unknown), after [`ActivityClasses::compact`].
    dense: Vec<u32>,
    /// Sparse: class by activity id (before `compact`, or when ids are too sparse).
    sparse: FxHashMap<u32, u32>,
    classes: Vec<ActivityInfo>,
    index: HashMap<(String, Vec<String>, String), u32>,
    activities: usize,
}

const UNKNOWN: u32 = u32::MAX;

impl ActivityClasses {
    /// No activity.
    pub fn new() -> Self {
        Self::default()
    }

    /// Records what reports need of activity `id`.
    pub fn insert(&mut self, id: u32, info: ActivityInfo) {
        let key = (info.reporting_org, info.lines_of_effort, info.instrument);
        let class = match self.index.get(&key) {
            Some(&c) => c,
            None => {
                let c = self.classes.len() as u32;
                self.classes.push(ActivityInfo {
                    reporting_org: key.0.clone(),
                    lines_of_effort: key.1.clone(),
                    instrument: key.2.clone(),
                });
                self.index.insert(key, c);
                c
            }
        };
        self.activities += 1;
        if !self.dense.is_empty() {
            // Already compacted: go back to the map for later insertions.
            for (i, &c) in self.dense.iter().enumerate() {
                if c != UNKNOWN {
                    self.sparse.insert(i as u32, c);
                }
            }
            self.dense = Vec::new();
        }
        self.sparse.insert(id, class);
    }

    /// Once every activity is inserted: keeps classes in a vector indexed by id when the ids
    /// are dense enough (at most four times as many ids as activities), which is faster.
    pub fn compact(&mut self) {
        let max = self.sparse.keys().copied().max().unwrap_or(0) as usize;
        if self.sparse.is_empty() || max > 4 * self.sparse.len() + 4096 {
            return;
        }
        let mut dense = vec![UNKNOWN; max + 1];
        for (&i, &c) in &self.sparse {
            dense[i as usize] = c;
        }
        self.dense = dense;
        self.sparse = FxHashMap::default();
    }

    /// The class of activity `id`.
    pub(crate) fn class_of(&self, id: u32) -> u32 {
        if !self.dense.is_empty() {
            self.dense.get(id as usize).copied().unwrap_or(UNKNOWN)
        } else {
            self.sparse.get(&id).copied().unwrap_or(UNKNOWN)
        }
    }

    /// The distinct classes.
    pub(crate) fn classes(&self) -> &[ActivityInfo] {
        &self.classes
    }

    /// What reports need of activity `id`, if known.
    pub fn get(&self, id: u32) -> Option<&ActivityInfo> {
        self.classes.get(self.class_of(id) as usize)
    }

    /// Number of activities.
    pub fn len(&self) -> usize {
        self.activities
    }

    /// True when no activity is known.
    pub fn is_empty(&self) -> bool {
        self.activities == 0
    }

    /// Approximate heap size in bytes (for logs).
    pub fn heap_bytes(&self) -> usize {
        self.dense.capacity() * 4 + self.sparse.capacity() * 12 + self.classes.len() * 128
    }
}

impl From<&HashMap<u32, ActivityInfo>> for ActivityClasses {
    fn from(m: &HashMap<u32, ActivityInfo>) -> Self {
        let mut ids: Vec<&u32> = m.keys().collect();
        ids.sort_unstable();
        let mut c = ActivityClasses::new();
        for id in ids {
            c.insert(*id, m[id].clone());
        }
        c.compact();
        c
    }
}

#[cfg(test)]
mod tests;
