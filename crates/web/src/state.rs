//! Shared server state: the store's connection pool, the strategies, the catalogues and the
//! report cache.

use crate::error::WebError;
use crate::i18n::Catalogs;
use senda_core::accounts::ReadScope;
use senda_core::entered::{EnteredRecord, entered_report};
use senda_core::facts::ActivityClasses;
use senda_core::report::{Dimension, Filters, Report, SOURCE_IATI, combine};
use senda_core::strategy::Strategy;
use senda_store::interventions::InterventionRecord;
use senda_store::rules::segments::LoadedFacts;
use senda_store::{OpenMode, Store, StoreError};
use std::any::Any;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use tokio::sync::{OnceCell, Semaphore};

/// A store of any backend, as the pool keeps it.
pub type PooledStore = Box<dyn Store + Send>;

/// A bounded pool of store connections (SQLite or PostgreSQL: the web knows only the
/// [`Store`] trait): at most [`MAX_CONNECTIONS`] exist; a request waits for a free one (so a
/// burst of clients cannot open hundreds of connections). Connections are opened lazily and
/// kept; one that failed with an error that may mean it is broken (busy, unavailable, any
/// database error) is dropped instead of going back to the pool.
pub struct Pool {
    url: String,
    idle: Mutex<Vec<PooledStore>>,
    permits: Semaphore,
}

/// Connections at most (reads run in parallel in WAL mode; more than a few per core only adds
/// memory).
pub const MAX_CONNECTIONS: usize = 8;

impl Pool {
    /// A pool over the database at `url` (a path or a database URL; opened lazily; the
    /// database must exist).
    pub fn new(url: String) -> Self {
        Self { url, idle: Mutex::new(Vec::new()), permits: Semaphore::new(MAX_CONNECTIONS) }
    }

    fn take(&self) -> Result<PooledStore, StoreError> {
        if let Some(s) = self.idle.lock().ok().and_then(|mut idle| idle.pop()) {
            return Ok(s);
        }
        let s = senda_store::open(&self.url, OpenMode::Existing)?;
        s.tune_for_pool()?;
        Ok(s)
    }

    fn give<T>(&self, s: PooledStore, out: &Result<T, StoreError>) {
        // A connection whose last call failed in the database may be broken (a server that
        // went away): it is not kept. "Not found" and unreadable records are answers, not faults.
        let healthy = match out {
            Ok(_) => true,
            Err(e) => matches!(e, StoreError::NotFound(_) | StoreError::Corrupt { .. }),
        };
        if healthy && let Ok(mut idle) = self.idle.lock() {
            idle.push(s);
        }
    }

    /// Runs a write `f` on a connection of its own (writes are rare: API result uploads).
    pub async fn write<T, F>(self: &Arc<Self>, f: F) -> Result<T, WebError>
    where
        T: Send + 'static,
        F: FnOnce(&mut dyn Store) -> Result<T, StoreError> + Send + 'static,
    {
        let url = self.url.clone();
        tokio::task::spawn_blocking(move || {
            let mut s = senda_store::open(&url, OpenMode::Existing)?;
            f(&mut *s)
        })
        .await
        .map_err(|e| WebError::Internal(format!("worker: {e}")))?
        .map_err(WebError::from)
    }

    /// Runs `f` with a connection on the blocking thread pool.
    pub async fn run<T, F>(self: &Arc<Self>, f: F) -> Result<T, WebError>
    where
        T: Send + 'static,
        F: FnOnce(&dyn Store) -> Result<T, StoreError> + Send + 'static,
    {
        let _permit = self.permits.acquire().await.map_err(|_| WebError::Internal("pool closed".into()))?;
        let pool = Arc::clone(self);
        tokio::task::spawn_blocking(move || {
            let s = pool.take()?;
            let out = f(&*s);
            pool.give(s, &out);
            out
        })
        .await
        .map_err(|e| WebError::Internal(format!("worker: {e}")))?
        .map_err(WebError::from)
    }
}

impl Drop for Pool {
    /// The idle connections are closed on a thread of their own: a PostgreSQL connection owns
    /// a small runtime, which may not be dropped on a thread that drives the server's tasks
    /// (where the last reference to the pool may go when the server stops).
    fn drop(&mut self) {
        let idle = self.idle.get_mut().map(std::mem::take).unwrap_or_default();
        if !idle.is_empty() {
            let closing = std::thread::spawn(move || drop(idle));
            let _ = closing.join();
        }
    }
}

type Slot = Arc<OnceCell<Arc<dyn Any + Send + Sync>>>;

tokio::task_local! {
    /// What the caller of the request being served may read ([`ReadScope`] of its principal),
    /// set by `auth::identify` for every routed request. Reports read it here, so no handler
    /// can forget to pass it; outside a request (or when unset) it is the public's.
    static READ_SCOPE: ReadScope;
}

/// Runs `f` (the rest of a request) with `scope` as the caller's read scope.
pub async fn with_read_scope<F: std::future::Future>(scope: ReadScope, f: F) -> F::Output {
    READ_SCOPE.scope(scope, f).await
}

/// The read scope of the request being served: published records only when none was set.
pub fn read_scope() -> ReadScope {
    READ_SCOPE.try_with(|s| *s).unwrap_or(ReadScope::PublishedOnly)
}

/// Results computed from the store (reports, counts), valid for one data generation
/// ([`Store::generation`]). Concurrent requests for the same key wait for one computation.
pub struct Cache {
    inner: Mutex<(i64, HashMap<String, Slot>)>,
    /// The generation last read and when: read again after [`GENERATION_TTL`].
    seen: Mutex<Option<(i64, std::time::Instant)>>,
    /// At most this many computations run at once (each may scan every fact).
    permits: Semaphore,
    /// The facts last loaded (any generation): a new generation's load reuses its unchanged segments.
    last_facts: Mutex<Option<Arc<LoadedFacts>>>,
    /// A refresh of stale fact segments was started (once per server).
    refreshing: std::sync::atomic::AtomicBool,
    /// Entered interventions as reports read them, by (strategy, scope), valid while the
    /// store's `interventions_stamp` is the one kept (writes of interventions do not change the
    /// data generation).
    entered: Mutex<EnteredCache>,
}

/// See [`Cache::entered`].
#[derive(Default)]
struct EnteredCache {
    /// The stamp of every intervention (what readers who see unpublished records depend on).
    stamp: String,
    /// The stamp of the published ones (what the public's views depend on: a partner saving
    /// a draft leaves the public's cached pages alone).
    published: String,
    /// When `stamp` was read: trusted for [`GENERATION_TTL`], as the generation is.
    read: Option<std::time::Instant>,
    records: HashMap<(String, ReadScope), Arc<Vec<InterventionRecord>>>,
}

/// How long a generation read from the database is trusted: a write becomes visible to cached
/// pages at most this long after it commits.
pub const GENERATION_TTL: std::time::Duration = std::time::Duration::from_millis(250);

/// Entries kept at most per generation (beyond it the cache starts over).
const MAX_ENTRIES: usize = 128;

impl Cache {
    fn new() -> Self {
        Self {
            inner: Mutex::new((i64::MIN, HashMap::new())),
            seen: Mutex::new(None),
            permits: Semaphore::new(2),
            last_facts: Mutex::new(None),
            refreshing: std::sync::atomic::AtomicBool::new(false),
            entered: Mutex::new(EnteredCache::default()),
        }
    }

    fn slot(&self, generation: i64, key: &str) -> Result<Slot, WebError> {
        let mut g = self.inner.lock().map_err(|_| WebError::Internal("cache lock".into()))?;
        if g.0 != generation || g.1.len() >= MAX_ENTRIES {
            g.0 = generation;
            g.1.clear();
        }
        Ok(Arc::clone(g.1.entry(key.to_owned()).or_default()))
    }
}

/// Everything handlers share.
pub struct AppState {
    /// The database.
    pub pool: Arc<Pool>,
    /// Built-in strategies, in `senda strategy list` order.
    pub strategies: Vec<Arc<Strategy>>,
    /// Message catalogues.
    pub catalogs: Catalogs,
    /// Computed results.
    pub cache: Cache,
    /// Signed-in callers remembered between requests (`auth_cache`).
    pub auth: crate::auth_cache::AuthCache,
    /// True when the database holds synthetic (demo) data.
    pub synthetic: bool,
    /// The bearer token that allows writes (`POST /api/v1/results`); `None`: writes disabled.
    /// `senda serve` takes it from the `SENDA_API_TOKEN` environment variable; tokens shorter
    /// than 16 characters are refused (writes stay disabled).
    pub write_token: Option<String>,
}

impl AppState {
    /// Enables writes for requests bearing `token` (ignored when shorter than 16 characters).
    pub fn with_write_token(mut self, token: Option<String>) -> Self {
        self.write_token = token.filter(|t| t.len() >= 16);
        self
    }

    /// State over an existing database at `db` (a path or a database URL).
    pub fn new(db: String) -> Result<Self, WebError> {
        let store = senda_store::open(&db, OpenMode::Existing)?;
        let synthetic = store.synthetic_presence()?.0;
        drop(store);
        Ok(Self {
            pool: Arc::new(Pool::new(db)),
            strategies: Strategy::all_builtin()
                .map_err(|e| WebError::Internal(e.to_string()))?
                .into_iter()
                .map(Arc::new)
                .collect(),
            catalogs: Catalogs::load().map_err(|e| WebError::Internal(e.to_string()))?,
            write_token: None,
            cache: Cache::new(),
            auth: Default::default(),
            synthetic,
        })
    }

    /// The strategy `id`, or a 404 naming the known ones.
    pub fn strategy(&self, id: &str) -> Result<&Arc<Strategy>, WebError> {
        self.strategies.iter().find(|s| s.id == id).ok_or_else(|| {
            WebError::NotFound(format!(
                "strategy {id:?} (known: {})",
                self.strategies.iter().map(|s| s.id.as_str()).collect::<Vec<_>>().join(", ")
            ))
        })
    }

    /// The data generation (read again at most every [`GENERATION_TTL`]).
    pub async fn generation(&self) -> Result<i64, WebError> {
        if let Ok(seen) = self.cache.seen.lock()
            && let Some((g, at)) = *seen
            && at.elapsed() < GENERATION_TTL
        {
            return Ok(g);
        }
        let g = self.pool.run(|s| s.generation()).await?;
        if let Ok(mut seen) = self.cache.seen.lock() {
            *seen = Some((g, std::time::Instant::now()));
        }
        Ok(g)
    }

    /// A value computed once per data generation and `key` by `init` (which should take a
    /// permit of `cache.permits` around heavy work).
    async fn cached_with<T, Fut>(&self, key: String, init: impl FnOnce() -> Fut) -> Result<Arc<T>, WebError>
    where
        T: Send + Sync + 'static,
        Fut: std::future::Future<Output = Result<T, WebError>>,
    {
        let generation = self.generation().await?;
        let slot = self.cache.slot(generation, &key)?;
        let v = slot
            .get_or_try_init(|| async {
                let v = init().await?;
                Ok::<_, WebError>(Arc::new(v) as Arc<dyn Any + Send + Sync>)
            })
            .await?;
        Arc::clone(v).downcast::<T>().map_err(|_| WebError::Internal(format!("cache type for {key}")))
    }

    /// A value computed from the store once per data generation and `key`.
    pub async fn cached<T, F>(&self, key: String, f: F) -> Result<Arc<T>, WebError>
    where
        T: Send + Sync + 'static,
        F: FnOnce(&dyn Store) -> Result<T, StoreError> + Send + 'static,
    {
        self.cached_with(key, || async {
            let _permit =
                self.cache.permits.acquire().await.map_err(|_| WebError::Internal("semaphore closed".into()))?;
            self.pool.run(f).await
        })
        .await
    }

    /// Every fact of the database in memory, loaded once per generation from the store's fact
    /// segments; segments unchanged since the previous generation's load are reused, not read.
    pub async fn facts(&self) -> Result<Arc<LoadedFacts>, WebError> {
        let previous = self.cache.last_facts.lock().ok().and_then(|l| l.clone());
        let loaded: Arc<LoadedFacts> = self
            .cached("facts".into(), move |s| {
                let t0 = std::time::Instant::now();
                let l = senda_store::rules::segments::load(s, previous.as_deref())?;
                let (reused, decoded, built) = l.counts;
                tracing::info!(
                    facts = l.table.len(),
                    mib = l.table.heap_bytes() >> 20,
                    reused,
                    decoded,
                    built_from_facts = built,
                    ms = t0.elapsed().as_millis() as u64,
                    "facts loaded into memory"
                );
                Ok(l)
            })
            .await?;
        // Remembered for the next generation's load (only when this one is new: requests of the
        // same generation do not rewrite it).
        if let Ok(mut last) = self.cache.last_facts.lock()
            && !last.as_ref().is_some_and(|l| Arc::ptr_eq(l, &loaded))
        {
            *last = Some(Arc::clone(&loaded));
        }
        if loaded.counts.2 > 0 && !self.cache.refreshing.swap(true, std::sync::atomic::Ordering::SeqCst) {
            // Segments were built from the facts (a database from before segments, or a writer
            // stopped before its refresh): store them, so that the next start reads them.
            let pool = Arc::clone(&self.pool);
            tokio::spawn(async move {
                match pool.write(|s| s.refresh_fact_segments()).await {
                    Ok(n) => tracing::info!(segments = n, "stale fact segments stored"),
                    Err(e) => {
                        tracing::warn!(error = %e, "stale fact segments not stored (they are built at each start)")
                    }
                }
            });
        }
        Ok(loaded)
    }

    /// What reports need to know of each activity under `strategy` (once per generation).
    pub async fn infos(&self, strategy: &str) -> Result<Arc<ActivityClasses>, WebError> {
        let facts = self.facts().await?;
        self.infos_of(strategy, facts).await
    }

    /// [`AppState::infos`] made from `facts` already loaded for this generation.
    async fn infos_of(&self, strategy: &str, facts: Arc<LoadedFacts>) -> Result<Arc<ActivityClasses>, WebError> {
        let st = strategy.to_owned();
        self.cached(format!("infos|{strategy}"), move |s| {
            let t0 = std::time::Instant::now();
            let c = senda_store::activity_classes_for(s, &st, &facts.table)?;
            tracing::info!(
                strategy = st,
                activities = c.len(),
                ms = t0.elapsed().as_millis() as u64,
                "activity classes loaded"
            );
            Ok(c)
        })
        .await
    }

    /// The report the caller of the current request may see ([`read_scope`]): imported
    /// activities (cached per generation and query) and the entered interventions its scope
    /// sees (`senda_core::entered`), labelled by [`Dimension::Source`].
    pub async fn report(
        &self,
        strategy: &str,
        dims: Vec<Dimension>,
        calendar_year: bool,
        filters: Filters,
    ) -> Result<Arc<Report>, WebError> {
        let entered = self.entered(strategy, read_scope()).await?;
        let source_asked = dims.contains(&Dimension::Source) || filters.contains_key(&Dimension::Source);
        if entered.is_empty() && !source_asked {
            return self.iati_report(strategy, dims, calendar_year, filters).await;
        }
        let inner_dims: Vec<Dimension> = dims.iter().copied().filter(|d| *d != Dimension::Source).collect();
        let mut inner_filters = filters.clone();
        inner_filters.remove(&Dimension::Source);
        let iati_wanted =
            filters.get(&Dimension::Source).is_none_or(|v| v.iter().any(|x| x.eq_ignore_ascii_case(SOURCE_IATI)));
        let iati = if iati_wanted {
            Some(self.iati_report(strategy, inner_dims, calendar_year, inner_filters).await?)
        } else {
            None
        };
        let records: Vec<EnteredRecord<'_>> = entered
            .iter()
            .map(|r| EnteredRecord { organisation_name: &r.organisation_name, intervention: &r.intervention })
            .collect();
        let r = combine(
            dims,
            calendar_year,
            filters,
            |d, _| iati.map(|a| (*a).clone()).unwrap_or_else(|| Report::empty(d, calendar_year)),
            |d, f| entered_report(&records, strategy, d, calendar_year, f),
        );
        Ok(Arc::new(r))
    }

    /// The store's interventions stamp (trusted for [`GENERATION_TTL`]): what changes when an
    /// intervention is created, edited or moved in its review (publishing one changes whose
    /// approved reports feed indicator progress).
    /// For the public (the current request's [`read_scope`]), the stamp of published
    /// interventions only.
    pub async fn interventions_stamp(&self) -> Result<String, WebError> {
        let public = read_scope() == ReadScope::PublishedOnly;
        let pick = |c: &EnteredCache| if public { c.published.clone() } else { c.stamp.clone() };
        if let Ok(c) = self.cache.entered.lock()
            && c.read.is_some_and(|t| t.elapsed() < GENERATION_TTL)
        {
            return Ok(pick(&c));
        }
        self.refresh_stamps().await?;
        self.cache.entered.lock().map(|c| pick(&c)).map_err(|_| WebError::Internal("cache lock".into()))
    }

    /// Reads both interventions stamps; records cached under a stamp that moved are dropped
    /// (the public's only when the published stamp moved).
    async fn refresh_stamps(&self) -> Result<(), WebError> {
        let (stamp, published) =
            self.pool.run(|s| Ok((s.interventions_stamp()?, s.published_interventions_stamp()?))).await?;
        if let Ok(mut c) = self.cache.entered.lock() {
            if c.stamp != stamp {
                c.records.retain(|(_, scope), _| *scope == ReadScope::PublishedOnly);
                c.stamp = stamp;
            }
            if c.published != published {
                c.records.retain(|(_, scope), _| *scope != ReadScope::PublishedOnly);
                c.published = published;
            }
            c.read = Some(std::time::Instant::now());
        }
        Ok(())
    }

    /// The entered interventions of `strategy` that `scope` sees, kept while the store's
    /// interventions stamp does not change.
    pub async fn entered(&self, strategy: &str, scope: ReadScope) -> Result<Arc<Vec<InterventionRecord>>, WebError> {
        let key = (strategy.to_owned(), scope);
        let fresh = |c: &EnteredCache| c.read.is_some_and(|t| t.elapsed() < GENERATION_TTL);
        if let Ok(c) = self.cache.entered.lock()
            && fresh(&c)
            && let Some(v) = c.records.get(&key)
        {
            return Ok(Arc::clone(v));
        }
        self.refresh_stamps().await?;
        let public = scope == ReadScope::PublishedOnly;
        let stamp_of = |c: &EnteredCache| if public { c.published.clone() } else { c.stamp.clone() };
        let stamp = match self.cache.entered.lock() {
            Ok(c) => {
                if let Some(v) = c.records.get(&key) {
                    return Ok(Arc::clone(v));
                }
                stamp_of(&c)
            }
            Err(_) => String::new(),
        };
        let st = strategy.to_owned();
        let records = Arc::new(self.pool.run(move |s| s.interventions_for_report(&st, scope)).await?);
        if let Ok(mut c) = self.cache.entered.lock()
            && stamp_of(&c) == stamp
        {
            c.records.insert(key, Arc::clone(&records));
        }
        Ok(records)
    }

    /// The report of imported activities alone (cached per generation and query).
    async fn iati_report(
        &self,
        strategy: &str,
        dims: Vec<Dimension>,
        calendar_year: bool,
        filters: Filters,
    ) -> Result<Arc<Report>, WebError> {
        let mut fk: Vec<(String, Vec<String>)> =
            filters.iter().map(|(d, v)| (d.name().to_owned(), v.clone())).collect();
        fk.sort();
        let key = format!("report|{strategy}|{dims:?}|{calendar_year}|{fk:?}");
        // The facts once: the activity classes are made from them.
        let facts = self.facts().await?;
        let infos = self.infos_of(strategy, Arc::clone(&facts)).await?;
        self.cached_with(key, || async {
            let _permit =
                self.cache.permits.acquire().await.map_err(|_| WebError::Internal("semaphore closed".into()))?;
            tokio::task::spawn_blocking(move || {
                let t0 = std::time::Instant::now();
                let r = facts.table.report(&infos, dims, calendar_year, filters);
                tracing::debug!(ms = t0.elapsed().as_millis() as u64, rows = r.rows.len(), "report computed");
                r
            })
            .await
            .map_err(|e| WebError::Internal(format!("worker: {e}")))
        })
        .await
    }
}
