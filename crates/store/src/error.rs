//! [`StoreError`]: what can go wrong in a store, the same for every backend. No backend type
//! appears in it: each backend turns its driver's errors into these (see `From` in
//! `sqlite/mod.rs` and `postgres/mod.rs`), so the web and the command line never see SQLite or
//! PostgreSQL.

/// Storage errors, backend-neutral. [`StoreError::code`] gives each a stable code.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// Another writer holds the database (SQLite "busy"/"locked", a PostgreSQL lock or
    /// serialization failure, too many connections): try again in a moment.
    #[error("the database is busy ({message}); try again in a moment")]
    Busy {
        /// What the database said.
        message: String,
    },
    /// The database server cannot be reached or went away (connection refused or closed, the
    /// server shutting down): try again once it is back. `target` names host, port and
    /// database, never a password.
    #[error("cannot reach the database {target}: {message}")]
    Unavailable {
        /// `host:port/database`.
        target: String,
        /// Why.
        message: String,
    },
    /// The database refused the credentials given (wrong password, unknown role). Never
    /// carries the password.
    #[error("the database {target} refused the login: {message}")]
    Auth {
        /// `host:port/database`.
        target: String,
        /// What the server said.
        message: String,
    },
    /// Any other failure of the database (disk full, a constraint, a corrupt file...).
    #[error("database error: {message}")]
    Database {
        /// What the database said.
        message: String,
    },
    /// A stored value could not be read back.
    #[error("stored record {record} is unreadable: {message}")]
    Corrupt {
        /// Which record.
        record: String,
        /// Why.
        message: String,
    },
    /// The database was written by a newer Senda.
    #[error("database schema version {found} is newer than this Senda supports ({supported}); upgrade Senda")]
    TooNew {
        /// Version in the database.
        found: i64,
        /// Newest version known.
        supported: i64,
    },
    /// The database cannot be opened.
    #[error("cannot open database {path}: {message}")]
    Open {
        /// The path or target given (never a password).
        path: String,
        /// Why.
        message: String,
    },
    /// The database belongs to another program: Senda leaves it alone.
    #[error(
        "the database {path} belongs to another program (it has tables but no Senda schema); Senda did not change it: choose another database"
    )]
    NotSenda {
        /// The path or `host:port/database`.
        path: String,
    },
    /// A database URL Senda cannot read.
    #[error("{0}")]
    Url(String),
    /// A target that must be empty is not (`senda copy` without `--replace`).
    #[error(
        "the database {target} is not empty ({activities} activities, {rows} rows in all); give --replace to overwrite it"
    )]
    NotEmpty {
        /// The target (no password).
        target: String,
        /// Activities in it.
        activities: u64,
        /// Rows in all of its tables.
        rows: u64,
    },
    /// No activity with this identifier.
    #[error("no activity with iati-identifier {0:?} in the database")]
    NotFound(String),
    /// An account write that cannot be made as asked (issue 17), naming the field: an e-mail
    /// already taken, an unknown organisation or person.
    #[error("{field}: {message}")]
    Account {
        /// The field (`email`, `organisation`, ...).
        field: &'static str,
        /// What is wrong.
        message: String,
    },
}

impl StoreError {
    /// A stable code for programs (logs, API problem documents, exit messages).
    pub fn code(&self) -> &'static str {
        match self {
            StoreError::Busy { .. } => "store-busy",
            StoreError::Unavailable { .. } => "store-unavailable",
            StoreError::Auth { .. } => "store-auth",
            StoreError::Database { .. } => "store-database",
            StoreError::Corrupt { .. } => "store-corrupt",
            StoreError::TooNew { .. } => "store-too-new",
            StoreError::Open { .. } => "store-open",
            StoreError::NotSenda { .. } => "store-not-senda",
            StoreError::Url(_) => "store-url",
            StoreError::NotEmpty { .. } => "store-not-empty",
            StoreError::NotFound(_) => "store-not-found",
            StoreError::Account { .. } => "store-account",
        }
    }

    /// True when trying again later may succeed: the database is busy (another process is
    /// writing) or its server is unreachable for now. The web answers these with 503 and
    /// `Retry-After`.
    pub fn is_busy(&self) -> bool {
        matches!(self, StoreError::Busy { .. } | StoreError::Unavailable { .. })
    }

    /// A generic database error from any displayable driver error.
    pub(crate) fn database(e: impl std::fmt::Display) -> Self {
        StoreError::Database { message: e.to_string() }
    }
}

impl From<serde_json::Error> for StoreError {
    fn from(e: serde_json::Error) -> Self {
        StoreError::Corrupt { record: "JSON document".into(), message: e.to_string() }
    }
}
