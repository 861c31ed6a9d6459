//! The facts of a database in memory, for a long-running reader (the web server): a list of
//! [`FactSegment`]s (the facts of one range of activity ids each, column by column, about 11
//! bytes a fact) and, per strategy, [`ActivityClasses`] (what reports need of each activity,
//! shared by all activities alike). A report is one pass over the segments
//! ([`FactTable::report`]) that gives exactly what the command line's
//! [`ReportBuilder`](crate::report::ReportBuilder) gives over the same facts (a test checks it
//! on random data), at a few nanoseconds a fact.
//!
//! Segments are what the store keeps up to date at write time (`fact_segment`), so a server
//! starts by reading them instead of scanning every fact, and a new data generation reloads only
//! the segments that changed.

pub(crate) mod kernel;
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
    /// Inserted, not yet placed by [`ActivityClasses::compact`].
    pending: Vec<(u32, u32)>,
    /// Dense: class by activity id (`u32::MAX`: unknown), after [`ActivityClasses::compact`].
    dense: Vec<u32>,
    /// Sparse: class by activity id, when ids are too sparse for `dense`.
    sparse: FxHashMap<u32, u32>,
    classes: Vec<ActivityInfo>,
    index: HashMap<(String, Vec<String>, String), u32>,
    /// Class by stored text (`insert_raw`), and the buffer its keys are made in.
    raw: FxHashMap<String, u32>,
    scratch: String,
    activities: usize,
}

const UNKNOWN: u32 = u32::MAX;

impl ActivityClasses {
    /// No activity.
    pub fn new() -> Self {
        Self::default()
    }

    /// Records what reports need of activity `id` (looked up after [`ActivityClasses::compact`]).
    pub fn insert(&mut self, id: u32, info: ActivityInfo) {
        let class = self.class(info);
        self.place(id, class);
    }

    /// The class of `info`, made if new.
    fn class(&mut self, info: ActivityInfo) -> u32 {
        let key = (info.reporting_org, info.lines_of_effort, info.instrument);
        match self.index.get(&key) {
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
        }
    }

    fn place(&mut self, id: u32, class: u32) {
        self.activities += 1;
        self.pending.push((id, class));
    }

    /// Records activity `id` from stored text: its reporting organisation, its lines of effort
    /// `;`-separated, its instrument. Allocates only for a new class.
    pub fn insert_raw(&mut self, id: u32, reporting_org: &str, lines: &str, instrument: &str) {
        self.scratch.clear();
        for part in [reporting_org, lines, instrument] {
            self.scratch.push_str(part);
            self.scratch.push('\u{1f}');
        }
        let class = match self.raw.get(self.scratch.as_str()) {
            Some(&c) => c,
            None => {
                let info = ActivityInfo {
                    reporting_org: reporting_org.to_owned(),
                    lines_of_effort: lines.split(';').filter(|l| !l.is_empty()).map(str::to_owned).collect(),
                    instrument: instrument.to_owned(),
                };
                let c = self.class(info);
                self.raw.insert(self.scratch.clone(), c);
                c
            }
        };
        self.place(id, class);
    }

    /// Once activities are inserted (and before any is looked up): keeps classes in a vector
    /// indexed by id when the ids are dense enough (at most four times as many ids as
    /// activities), else in a map.
    pub fn compact(&mut self) {
        let mut all: Vec<(u32, u32)> = std::mem::take(&mut self.pending);
        if !self.dense.is_empty() {
            all.extend(self.dense.iter().enumerate().filter(|(_, c)| **c != UNKNOWN).map(|(i, c)| (i as u32, *c)));
        }
        all.extend(self.sparse.drain());
        let max = all.iter().map(|p| p.0).max().unwrap_or(0) as usize;
        if all.is_empty() {
            self.dense = Vec::new();
        } else if max <= 4 * all.len() + 4096 {
            let mut dense = vec![UNKNOWN; max + 1];
            for (i, c) in all {
                dense[i as usize] = c;
            }
            self.dense = dense;
        } else {
            self.dense = Vec::new();
            self.sparse = all.into_iter().collect();
        }
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
        self.dense.capacity() * 4 + self.sparse.capacity() * 12 + self.pending.capacity() * 8 + self.classes.len() * 128
    }
}

/// Lines of effort by activity id, as stored (`;`-separated), each distinct text kept once:
/// 8 bytes an activity, looked up in id order.
#[derive(Debug, Clone, Default)]
pub struct LineSets {
    /// (activity id, index in `sets`), sorted by id after [`LineSets::finish`].
    by_id: Vec<(u32, u32)>,
    sets: Vec<String>,
    index: FxHashMap<String, u32>,
}

impl LineSets {
    /// No activity mapped.
    pub fn new() -> Self {
        Self::default()
    }

    /// Activity `id` is mapped to `lines` (`;`-separated); a later call for the same id wins.
    pub fn set(&mut self, id: u32, lines: &str) {
        let i = match self.index.get(lines) {
            Some(&i) => i,
            None => {
                let i = self.sets.len() as u32;
                self.sets.push(lines.to_owned());
                self.index.insert(lines.to_owned(), i);
                i
            }
        };
        self.by_id.push((id, i));
    }

    /// Sorts by id, keeping the last value set for each.
    pub fn finish(&mut self) {
        // Stable: of equal ids, the last set stays last.
        self.by_id.sort_by_key(|p| p.0);
        let mut out: Vec<(u32, u32)> = Vec::with_capacity(self.by_id.len());
        for p in self.by_id.drain(..) {
            match out.last_mut() {
                Some(last) if last.0 == p.0 => *last = p,
                _ => out.push(p),
            }
        }
        self.by_id = out;
    }

    /// The lines of activity `id` (`""`: not mapped), after [`LineSets::finish`].
    pub fn get(&self, id: u32) -> &str {
        self.set_of(id).and_then(|i| self.sets.get(i as usize)).map_or("", String::as_str)
    }

    fn set_of(&self, id: u32) -> Option<u32> {
        self.by_id.binary_search_by_key(&id, |p| p.0).ok().map(|k| self.by_id[k].1)
    }
}

impl ActivityClasses {
    /// The classes of the activities with facts in `table`: reporting organisation from the
    /// segments, lines of effort from `lines`, and `instrument`. Reads no activity row.
    pub fn from_table(table: &FactTable, lines: &LineSets, instrument: &str) -> Self {
        let mut out = ActivityClasses::new();
        let mut orgs: FxHashMap<String, u32> = FxHashMap::default();
        let mut classes: FxHashMap<(u32, u32), u32> = FxHashMap::default();
        for seg in table.segments() {
            for (id, org) in seg.activities() {
                let next = orgs.len() as u32;
                let o = match orgs.get(org) {
                    Some(&o) => o,
                    None => {
                        orgs.insert(org.to_owned(), next);
                        next
                    }
                };
                let l = lines.set_of(id).unwrap_or(u32::MAX);
                let class = match classes.get(&(o, l)) {
                    Some(&c) => c,
                    None => {
                        let info = ActivityInfo {
                            reporting_org: org.to_owned(),
                            lines_of_effort: lines
                                .get(id)
                                .split(';')
                                .filter(|x| !x.is_empty())
                                .map(str::to_owned)
                                .collect(),
                            instrument: instrument.to_owned(),
                        };
                        let c = out.class(info);
                        classes.insert((o, l), c);
                        c
                    }
                };
                out.place(id, class);
            }
        }
        out.compact();
        out
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
