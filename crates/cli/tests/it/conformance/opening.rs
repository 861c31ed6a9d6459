//! Opening a database that cannot be used: PostgreSQL's wrong password, missing database and
//! unreachable server (each one clear error naming host, port and database, never the
//! password, and no retry storm), and a schema newer than this Senda on every backend.

use super::*;
use senda_store::StoreError;
use std::process::Command;
use std::time::{Duration, Instant};

/// Runs `test` with the PostgreSQL server's URL; without one, nothing (a failure on CI: see
/// [`postgres_server`]).
fn with_postgres(test: impl FnOnce(&str)) {
    if let Some(server) = postgres_server() {
        test(&server);
    }
}

/// Host, port, user and password of the server URL.
fn parts(server: &str) -> (String, u16, String, String) {
    let c: postgres::Config = server.parse().expect("server URL");
    let host = match c.get_hosts().first() {
        Some(postgres::config::Host::Tcp(h)) => h.clone(),
        other => panic!("the test server must be reached over TCP: {other:?}"),
    };
    let port = c.get_ports().first().copied().unwrap_or(5432);
    let user = c.get_user().expect("a user in the URL").to_owned();
    let password = String::from_utf8(c.get_password().unwrap_or_default().to_vec()).expect("password");
    (host, port, user, password)
}

fn open_err(url: &str, mode: OpenMode) -> StoreError {
    match senda_store::open(url, mode) {
        Ok(s) => panic!("opening {} should fail, it opened a {} store", senda_store::redact(url), s.backend()),
        Err(e) => e,
    }
}

/// `senda --db URL activities`: exit status and stderr.
fn senda_stderr(url: &str) -> (Option<i32>, String) {
    let o = Command::new(env!("CARGO_BIN_EXE_senda"))
        .args(["--db", url, "activities", "--limit", "1"])
        .env_remove("SENDA_DB")
        .env_remove("PGPASSWORD")
        .output()
        .expect("run senda");
    (o.status.code(), String::from_utf8_lossy(&o.stderr).into_owned())
}

#[test]
fn a_wrong_password_is_refused_naming_the_database_never_the_password() {
    with_postgres(|server| {
        let b = Backend::new(Kind::Postgres, Some(server.to_owned()));
        let db = b.db();
        let name = db.url().rsplit('/').next().expect("database name").to_owned();
        let (host, port, user, _) = parts(server);
        let secret = "Wr0ng-Secret-4711";
        let url = format!("postgres://{user}:{secret}@{host}:{port}/{name}");
        let target = format!("{host}:{port}/{name}");
        for mode in [OpenMode::Existing, OpenMode::Create] {
            let e = open_err(&url, mode);
            assert!(matches!(&e, StoreError::Auth { target: t, .. } if *t == target), "{e:?}");
            assert_eq!(e.code(), "store-auth");
            assert!(!e.is_busy(), "a wrong password is not worth retrying");
            let text = e.to_string();
            assert!(text.contains(&target), "{text}");
            assert!(!text.contains(secret) && !format!("{e:?}").contains(secret), "{text}");
        }
        // The command line: one line, exit non-zero, no password.
        let (code, stderr) = senda_stderr(&url);
        assert_ne!(code, Some(0), "{stderr}");
        assert!(stderr.contains(&target), "{stderr}");
        assert!(!stderr.contains(secret), "{stderr}");
        assert_eq!(stderr.trim_end().lines().count(), 1, "one line: {stderr}");
    });
}

#[test]
fn a_missing_database_is_named_in_a_clear_error() {
    with_postgres(|server| {
        let (host, port, user, password) = parts(server);
        let name = format!("senda_t_missing_{:08x}", fastrand::u32(..));
        let url = format!("postgres://{user}:{password}@{host}:{port}/{name}");
        for mode in [OpenMode::Existing, OpenMode::Create] {
            let e = open_err(&url, mode);
            let text = e.to_string();
            assert!(text.contains(&format!("{host}:{port}/{name}")), "{mode:?}: {text}");
            assert!(text.contains("does not exist"), "{mode:?}: says what is wrong: {text}");
            assert!(!text.contains(&password), "{text}");
            assert!(!e.is_busy(), "{e:?}");
        }
        let (code, stderr) = senda_stderr(&url);
        assert_ne!(code, Some(0), "{stderr}");
        assert!(stderr.contains(&name) && !stderr.contains(&password), "{stderr}");
        // Nothing was created by trying.
        let mut c = postgres::Client::connect(server, postgres::NoTls).expect("connect");
        let n: i64 =
            c.query_one("SELECT count(*) FROM pg_database WHERE datname = $1", &[&name]).expect("query").get(0);
        assert_eq!(n, 0);
    });
}

#[test]
fn an_unreachable_server_is_unavailable_at_once() {
    with_postgres(|server| {
        let (host, _, user, password) = parts(server);
        // A port nobody listens on: bound by the kernel, then closed.
        let port = std::net::TcpListener::bind((host.as_str(), 0)).expect("bind").local_addr().expect("addr").port();
        let url = format!("postgres://{user}:{password}@{host}:{port}/senda");
        let started = Instant::now();
        let e = open_err(&url, OpenMode::Existing);
        let took = started.elapsed();
        assert!(took < Duration::from_secs(2), "no retry storm: {took:?}");
        assert!(
            matches!(&e, StoreError::Unavailable { target, .. } if *target == format!("{host}:{port}/senda")),
            "{e:?}"
        );
        assert_eq!(e.code(), "store-unavailable");
        assert!(e.is_busy(), "worth trying again later (the web answers 503)");
        assert!(!e.to_string().contains(&password), "{e}");
        let started = Instant::now();
        let (code, stderr) = senda_stderr(&url);
        assert_ne!(code, Some(0), "{stderr}");
        assert!(started.elapsed() < Duration::from_secs(5), "{:?}", started.elapsed());
        assert!(stderr.contains(&format!("{host}:{port}/senda")) && !stderr.contains(&password), "{stderr}");
    });
}

/// A database written by a newer Senda is refused by every command, on every backend, and
/// left as it is.
#[test]
fn a_newer_schema_is_refused_on_every_backend() {
    for_each_backend(|b| {
        let db = b.db();
        let supported = db.schema_version().expect("version");
        let database = db.close();
        let url = database.url.clone();
        match b.kind {
            Kind::Sqlite => {
                let path = url.strip_prefix("sqlite://").expect("sqlite URL");
                let c = rusqlite::Connection::open(path).expect("open");
                c.pragma_update(None, "user_version", 99).expect("user_version");
            }
            Kind::Postgres => {
                admin(&url, "INSERT INTO senda_schema (version, name, applied_at) VALUES (99, '0099_future', 'later')");
            }
        }
        for mode in [OpenMode::Existing, OpenMode::Create] {
            let e = open_err(&url, mode);
            assert!(matches!(e, StoreError::TooNew { found: 99, supported: s } if s == supported), "{mode:?}: {e:?}");
            assert_eq!(e.code(), "store-too-new");
        }
        let (code, stderr) = senda_stderr(&url);
        assert_ne!(code, Some(0), "{stderr}");
        assert!(stderr.contains("99") && stderr.contains("newer"), "{stderr}");
        // Left as it was: no migration ran.
        match b.kind {
            Kind::Sqlite => {
                let c = rusqlite::Connection::open(url.strip_prefix("sqlite://").expect("path")).expect("open");
                let v: i64 = c.query_row("PRAGMA user_version", [], |r| r.get(0)).expect("version");
                assert_eq!(v, 99);
            }
            Kind::Postgres => {
                let mut c = postgres::Client::connect(&url, postgres::NoTls).expect("connect");
                let n: i64 = c.query_one("SELECT count(*) FROM senda_schema", &[]).expect("count").get(0);
                assert_eq!(n, supported + 1);
            }
        }
    });
}

/// The PostgreSQL server ends the import's connection while it is writing a file: the import
/// stops with an error that says the database went away, nothing of the files being written
/// stays, and the next run completes to the database an uninterrupted import gives.
#[test]
fn the_server_ending_the_connection_mid_import_leaves_nothing_partial() {
    with_postgres(|server| {
        let b = Backend::new(Kind::Postgres, Some(server.to_owned()));
        let dir = data_dir();
        let files: Vec<std::path::PathBuf> = (0..3)
            .map(|i| {
                let f = dir.path().join(format!("s{i}.xml"));
                senda::generate::write_file(&f, 150, None, 40 + i).expect("generate");
                f
            })
            .collect();
        let mut reference = b.db();
        crate::support::import(&mut *reference, &files);
        assert!(reference.count_activities().expect("count") > 0);

        let db = b.db();
        let url = db.url().to_owned();
        let name = url.rsplit('/').next().expect("name").to_owned();
        // Another session holds source_file against writes: the import writes the first file's
        // activities, then waits to record the file; there the server ends its connection.
        let mut holder = postgres::Client::connect(&url, postgres::NoTls).expect("connect");
        let mut lock = holder.transaction().expect("begin");
        lock.batch_execute("LOCK TABLE source_file IN EXCLUSIVE MODE").expect("lock");
        let import = {
            let (url, files) = (url.clone(), files.clone());
            std::thread::spawn(move || {
                let mut s = senda_store::open(&url, OpenMode::Existing).expect("open");
                senda::import::import(&mut *s, &files, false, false)
            })
        };
        let mut admin = postgres::Client::connect(server, postgres::NoTls).expect("connect");
        let started = Instant::now();
        let waiting_pid = loop {
            let row = admin
                .query_opt(
                    "SELECT pid, query FROM pg_stat_activity WHERE datname = $1 AND application_name = 'senda' AND wait_event_type = 'Lock'",
                    &[&name],
                )
                .expect("pg_stat_activity");
            if let Some(r) = row {
                // Recording the first file, its activities written (not committed).
                let query: String = r.get(1);
                assert!(query.contains("source_file"), "waiting on {query}");
                break r.get::<_, i32>(0);
            }
            assert!(started.elapsed() < Duration::from_secs(60), "the import never reached the lock");
            std::thread::sleep(Duration::from_millis(20));
        };
        admin.execute("SELECT pg_terminate_backend($1)", &[&waiting_pid]).expect("terminate");
        let outcome = import.join().expect("the import thread ends");
        lock.rollback().expect("release the lock");
        drop(holder);
        match outcome {
            Err(e) => {
                let text = format!("{e:#}");
                assert!(
                    text.contains(&format!("/{name}")) && !text.contains(&parts(server).3),
                    "the error names the database, not the password: {text}"
                );
            }
            Ok(r) => panic!("the import must fail when its connection ends: {r:?}"),
        }
        // Nothing partial: no activity, no file, no run.
        let mut store = senda_store::open(&url, OpenMode::Existing).expect("open again");
        for (table, n) in counts(&*store) {
            if !["strategy_state", "store_generation"].contains(&table) {
                assert_eq!(n, 0, "{table}: nothing of the interrupted run stays");
            }
        }
        // The next run completes to the same database as an uninterrupted import.
        let r = crate::support::import(&mut *store, &files);
        assert_eq!(r.files_rejected, 0);
        let strip = |s: &dyn Store| {
            let mut snap = snapshot(s);
            snap.remove("import_run");
            snap.remove("diagnostic");
            snap
        };
        assert_same_database(&strip(&*reference), &strip(&*store), "after the interrupted run and a new one");
        drop(db);
    });
}
