//! Shared server state: the store's connection pool, the strategies, the catalogues and the
//! report cache.

use crate::error::WebError;
use crate::i18n::Catalogs;
use senda_core::report::{Dimension, Filters, Report};
use senda_core::strategy::Strategy;
use senda_store::{SqliteStore, Store, StoreError};
use std::any::Any;
use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use tokio::sync::{OnceCell, Semaphore};

/// A small pool of SQLite connections (one per concurrent request, kept for reuse).
pub struct Pool {
    path: PathBuf,
    idle: Mutex<Vec<SqliteStore>>,
}

/// Connections kept idle at most.
const MAX_IDLE: usize = 16;

impl Pool {
    /// A pool over the database at `path` (opened lazily; the file must exist).
    pub fn new(path: PathBuf) -> Self {
        Self { path, idle: Mutex::new(Vec::new()) }
    }

    fn take(&self) -> Result<SqliteStore, StoreError> {
        if let Some(s) = self.idle.lock().ok().and_then(|mut idle| idle.pop()) {
            return Ok(s);
        }
        SqliteStore::open_existing(&self.path)
    }

    fn give(&self, s: SqliteStore) {
        if let Ok(mut idle) = self.idle.lock()
            && idle.len() < MAX_IDLE
        {
            idle.push(s);
        }
    }

    /// Runs `f` with a connection on the blocking thread pool.
    pub async fn run<T, F>(self: &Arc<Self>, f: F) -> Result<T, WebError>
    where
        T: Send + 'static,
        F: FnOnce(&SqliteStore) -> Result<T, StoreError> + Send + 'static,
    {
        let pool = Arc::clone(self);
        tokio::task::spawn_blocking(move || {
            let s = pool.take()?;
            let out = f(&s);
            pool.give(s);
            out
        })
        .await
        .map_err(|e| WebError::Internal(format!("worker: {e}")))?
        .map_err(WebError::from)
    }
}

type Slot = Arc<OnceCell<Arc<dyn Any + Send + Sync>>>;

/// Results computed from the store (reports, counts), valid for one data generation
/// ([`Store::generation`]). Concurrent requests for the same key wait for one computation.
pub struct Cache {
    inner: Mutex<(i64, HashMap<String, Slot>)>,
    /// At most this many computations run at once (each may scan every fact).
    permits: Semaphore,
}

/// Entries kept at most per generation (beyond it the cache starts over).
const MAX_ENTRIES: usize = 512;

impl Cache {
    fn new() -> Self {
        Self { inner: Mutex::new((i64::MIN, HashMap::new())), permits: Semaphore::new(2) }
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
    pub strategies: Vec<Strategy>,
    /// Message catalogues.
    pub catalogs: Catalogs,
    /// Computed results.
    pub cache: Cache,
    /// True when the database holds synthetic (demo) data.
    pub synthetic: bool,
}

impl AppState {
    /// State over an existing database at `db`.
    pub fn new(db: PathBuf) -> Result<Self, WebError> {
        let store = SqliteStore::open_existing(&db)?;
        let synthetic = store.synthetic_presence()?.0;
        drop(store);
        Ok(Self {
            pool: Arc::new(Pool::new(db)),
            strategies: Strategy::all_builtin().map_err(|e| WebError::Internal(e.to_string()))?,
            catalogs: Catalogs::load().map_err(|e| WebError::Internal(e.to_string()))?,
            cache: Cache::new(),
            synthetic,
        })
    }

    /// The strategy `id`, or a 404 naming the known ones.
    pub fn strategy(&self, id: &str) -> Result<&Strategy, WebError> {
        self.strategies.iter().find(|s| s.id == id).ok_or_else(|| {
            WebError::NotFound(format!(
                "strategy {id:?} (known: {})",
                self.strategies.iter().map(|s| s.id.as_str()).collect::<Vec<_>>().join(", ")
            ))
        })
    }

    /// The data generation now.
    pub async fn generation(&self) -> Result<i64, WebError> {
        self.pool.run(|s| s.generation()).await
    }

    /// A value computed once per data generation and `key`.
    pub async fn cached<T, F>(&self, key: String, f: F) -> Result<Arc<T>, WebError>
    where
        T: Send + Sync + 'static,
        F: FnOnce(&SqliteStore) -> Result<T, StoreError> + Send + 'static,
    {
        let generation = self.generation().await?;
        let slot = self.cache.slot(generation, &key)?;
        let v = slot
            .get_or_try_init(|| async {
                let _permit =
                    self.cache.permits.acquire().await.map_err(|_| WebError::Internal("semaphore closed".into()))?;
                let v = self.pool.run(f).await?;
                Ok::<_, WebError>(Arc::new(v) as Arc<dyn Any + Send + Sync>)
            })
            .await?;
        Arc::clone(v).downcast::<T>().map_err(|_| WebError::Internal(format!("cache type for {key}")))
    }

    /// A report (cached per generation and query).
    pub async fn report(
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
        let strategy = strategy.to_owned();
        self.cached(key, move |s| senda_store::build_report(s, &strategy, dims, calendar_year, filters)).await
    }
}
