//! Senda for a team, on PostgreSQL: several servers over one database, backups with `pg_dump`
//! and `pg_restore`, and a web server whose database connections are cut. (Connection errors
//! and a server gone mid-import are in `conformance::opening`.) Each test needs the PostgreSQL test server
//! (`scripts/with-postgres.sh`); without one it fails on CI and is skipped, said once, elsewhere
//! (see `conformance::postgres_server`).

use crate::conformance::{Backend, Db, Kind, admin, backends, postgres_server, with_database};
use crate::web::{get, runtime};
use senda_store::{ActivityFilter, OpenMode, Override};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Arc;
use std::time::{Duration, Instant};

/// The PostgreSQL backend, when there is a server to test on.
fn postgres() -> Option<Backend> {
    backends().into_iter().find(|b| b.kind == Kind::Postgres)
}

fn senda() -> Command {
    Command::new(env!("CARGO_BIN_EXE_senda"))
}

/// A synthetic IATI file of `n` activities (the demo generator, seeded) in `dir`.
fn synthetic(dir: &Path, name: &str, n: u64, seed: u64) -> PathBuf {
    let file = dir.join(name);
    senda::generate::write_file(&file, n, None, seed).expect("generate");
    file
}

fn import(db: &mut Db, files: &[PathBuf]) {
    senda::import::import(&mut **db, files, false, false).expect("import");
    senda::commands::ensure_mappings(&mut **db).expect("mappings");
}

fn app(url: &str) -> axum::Router {
    senda_web::router(Arc::new(senda_web::AppState::new(url.to_owned()).expect("server state")))
}

fn report_json(rt: &tokio::runtime::Runtime, app: &axum::Router) -> serde_json::Value {
    let r = get(rt, app, "/api/v1/report?by=line_of_effort,country", &[]);
    assert_eq!(r.status, 200, "{}", r.body);
    serde_json::from_str(&r.body).expect("report JSON")
}

/// Polls `check` every 20 ms for at most `limit`; the time it took, or `None`.
fn within(limit: Duration, mut check: impl FnMut() -> bool) -> Option<Duration> {
    let t0 = Instant::now();
    loop {
        if check() {
            return Some(t0.elapsed());
        }
        if t0.elapsed() > limit {
            return None;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

#[test]
fn two_servers_over_one_database_see_a_write_through_either_within_a_second() {
    let Some(pg) = postgres() else { return };
    let dir = tempfile::tempdir().expect("tmp");
    let mut db = pg.db();
    import(&mut db, &[synthetic(dir.path(), "first.xml", 300, 1)]);
    let url = db.url().to_owned();
    let rt = runtime();
    let (a, b) = (app(&url), app(&url));
    // Both servers have computed (and cached) the report.
    let before = report_json(&rt, &b);
    assert_eq!(report_json(&rt, &a), before, "two servers over one database give the same report");

    // An override (`senda map set`) from outside both servers.
    let id = db
        .list_activities(&ActivityFilter { strategy: "cmms-2021".into(), limit: Some(1), ..Default::default() })
        .expect("list")[0]
        .iati_identifier
        .clone();
    let path = format!("/api/v1/activities/{id}");
    let was: serde_json::Value = serde_json::from_str(&get(&rt, &b, &path, &[]).body).expect("activity JSON");
    let target = if was["lines_of_effort"] == serde_json::json!(["LOE8"]) { "LOE7" } else { "LOE8" };
    db.set_override(
        &senda_store::accounts::Actor::cli(),
        &Override {
            iati_identifier: id.clone(),
            strategy: "cmms-2021".into(),
            lines_of_effort: vec![target.into()],
            note: "two servers".into(),
            created_at: "2026-12-07T12:00:00Z".into(),
        },
        1,
    )
    .expect("override");
    for (name, server) in [("A", &a), ("B", &b)] {
        let seen = within(Duration::from_secs(1), || {
            let now: serde_json::Value =
                serde_json::from_str(&get(&rt, server, &path, &[]).body).expect("activity JSON");
            now["lines_of_effort"] == serde_json::json!([target]) && report_json(&rt, server) != before
        });
        assert!(seen.is_some(), "server {name} still serves the activity or the report from before the override");
    }

    // An import of a second file (new activities and money): both servers' reports change.
    let after_override = report_json(&rt, &a);
    import(&mut db, &[synthetic(dir.path(), "second.xml", 50, 2)]);
    let fresh = senda_store::build_report(
        &*db,
        "cmms-2021",
        vec![senda_core::report::Dimension::LineOfEffort],
        false,
        Default::default(),
    )
    .expect("report from the store");
    for (name, server) in [("A", &a), ("B", &b)] {
        let took = within(Duration::from_secs(1), || {
            let r = report_json(&rt, server);
            r != after_override && r["total"]["activities"] == serde_json::json!(fresh.total.activities)
        });
        assert!(took.is_some(), "server {name} serves a report from before the import after 1 s");
    }
}

#[test]
fn a_dump_restored_into_a_fresh_database_gives_the_same_report() {
    let Some(pg) = postgres() else { return };
    let Some(server) = postgres_server() else { return };
    let dir = tempfile::tempdir().expect("tmp");
    let mut db = pg.db();
    import(&mut db, &[Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/data/iati/us-gov")]);
    let url = db.url().to_owned();
    let report = |url: &str| {
        let out = senda()
            .args(["--db", url, "report", "--by", "line_of_effort,country,fiscal_year", "--format", "csv"])
            .output()
            .expect("senda report");
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
        out.stdout
    };
    let dump = dir.path().join("senda.dump");
    let out = Command::new(pg_tool("pg_dump"))
        .args(["--format=custom", "--file"])
        .arg(&dump)
        .arg(&url)
        .output()
        .expect("pg_dump runs");
    assert!(out.status.success(), "pg_dump: {}", String::from_utf8_lossy(&out.stderr));
    let name = format!("senda_restored_{:08x}", fastrand::u32(..));
    admin(&server, &format!("CREATE DATABASE {name}"));
    let restored = with_database(&server, &name);
    let out = Command::new(pg_tool("pg_restore"))
        .args(["--no-owner", "--exit-on-error", "--dbname", &restored])
        .arg(&dump)
        .output()
        .expect("pg_restore runs");
    let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        assert!(out.status.success(), "pg_restore: {}", String::from_utf8_lossy(&out.stderr));
        let (a, b) = (report(&url), report(&restored));
        assert!(a.len() > 1000, "the report has rows");
        assert_eq!(String::from_utf8_lossy(&a), String::from_utf8_lossy(&b), "the restored database reports the same");
        // And it is a Senda database at the same schema, usable as it was.
        let s = senda_store::open(&restored, OpenMode::Existing).expect("open restored");
        assert_eq!(s.schema_version().expect("version"), db.schema_version().expect("version"));
        assert_eq!(s.table_counts().expect("counts"), db.table_counts().expect("counts"));
    }));
    admin(&server, &format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"));
    if let Err(p) = result {
        std::panic::resume_unwind(p);
    }
}

/// A PostgreSQL client program: on PATH (Debian's wrappers), else the newest
/// `/usr/lib/postgresql/*/bin`.
fn pg_tool(name: &str) -> PathBuf {
    if Command::new(name).arg("--version").output().is_ok_and(|o| o.status.success()) {
        return PathBuf::from(name);
    }
    let mut dirs: Vec<PathBuf> = std::fs::read_dir("/usr/lib/postgresql")
        .map(|d| d.filter_map(|e| e.ok().map(|e| e.path().join("bin"))).collect())
        .unwrap_or_default();
    dirs.sort();
    dirs.pop().map(|d| d.join(name)).unwrap_or_else(|| panic!("{name} not found (apt-get install postgresql-client)"))
}

#[test]
fn a_server_whose_database_connections_were_cut_answers_503_with_retry_after_then_recovers() {
    let Some(pg) = postgres() else { return };
    let Some(server) = postgres_server() else { return };
    let dir = tempfile::tempdir().expect("tmp");
    let mut db = pg.db();
    import(&mut db, &[synthetic(dir.path(), "a.xml", 20, 3)]);
    let url = db.url().to_owned();
    let name = url.rsplit('/').next().expect("database name").to_owned();
    let rt = runtime();
    let web = app(&url);
    let path = "/api/v1/activities?limit=5";
    assert_eq!(get(&rt, &web, path, &[]).status, 200);
    assert_eq!(get(&rt, &web, "/activities", &[]).status, 200);
    // The database server ends every connection of the web server (a restart, a failover).
    admin(
        &server,
        &format!(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = '{name}' AND application_name = 'senda' AND pid <> pg_backend_pid()"
        ),
    );
    let r = get(&rt, &web, path, &[]);
    assert_eq!(r.status, 503, "a lost connection is a 'try again', never a 500: {}", r.body);
    assert_eq!(r.headers.get("retry-after").and_then(|v| v.to_str().ok()), Some("2"), "Retry-After");
    assert!(r.body.contains("try again"), "{}", r.body);
    assert!(!r.body.contains(&name) && !r.body.contains("127.0.0.1"), "no server detail in the answer: {}", r.body);
    // The broken connection is not kept: the next requests get new ones.
    let ok = within(Duration::from_secs(2), || {
        get(&rt, &web, path, &[]).status == 200 && get(&rt, &web, "/activities", &[]).status == 200
    });
    assert!(ok.is_some(), "the server recovers once the database is back");
}

#[test]
fn the_password_comes_from_the_url_pgpassword_or_the_password_file_as_psql_reads_them() {
    let Some(pg) = postgres() else { return };
    // A database of its own (dropped at the end), named by a URL without the password.
    let database = pg.empty_database();
    let (scheme, rest) = database.url.split_once("://senda:").expect("the test server's URL names user senda");
    let (password, host_and_db) = rest.split_once('@').expect("and a password");
    let bare = format!("{scheme}://senda@{host_and_db}");
    let dir = tempfile::tempdir().expect("tmp");
    let run = |env: &[(&str, &str)]| {
        let mut c = senda();
        c.args(["--db", &bare, "migrate"]).env_remove("PGPASSWORD").env("PGPASSFILE", dir.path().join("none"));
        for (k, v) in env {
            c.env(k, v);
        }
        c.output().expect("senda runs")
    };
    // No password anywhere: refused, and said so.
    let out = run(&[]);
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("none was given"), "says no password was found: {stderr}");
    // PGPASSWORD.
    let out = run(&[("PGPASSWORD", password)]);
    assert!(out.status.success(), "PGPASSWORD: {}", String::from_utf8_lossy(&out.stderr));
    // A password file (host:port:database:user:password, `*` for any).
    let pgpass = dir.path().join("pgpass");
    std::fs::write(&pgpass, format!("# Senda's test\nelsewhere:5432:*:*:nope\n*:*:*:senda:{password}\n"))
        .expect("write");
    // Readable by others: not used, as psql does not (and says why).
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&pgpass, std::fs::Permissions::from_mode(0o644)).expect("chmod");
    let out = run(&[("PGPASSFILE", pgpass.to_str().expect("utf-8 path"))]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "a world-readable password file is not used: {stderr}");
    assert!(stderr.contains("permissions should be u=rw (0600)"), "{stderr}");
    std::fs::set_permissions(&pgpass, std::fs::Permissions::from_mode(0o600)).expect("chmod");
    let out = run(&[("PGPASSFILE", pgpass.to_str().expect("utf-8 path"))]);
    assert!(out.status.success(), "PGPASSFILE: {}", String::from_utf8_lossy(&out.stderr));
    let out = run(&[("PGPASSWORD", password)]);
    let all = format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    assert!(!all.contains(password), "the password is never printed: {all}");
}

/// Whether the connections of `application_name = 'senda'` to `database` are encrypted (as
/// the server sees them).
fn senda_connections_encrypted(server: &str, database: &str) -> Vec<bool> {
    let mut c = postgres::Client::connect(server, postgres::NoTls).expect("admin connection");
    c.query(
        "SELECT s.ssl FROM pg_stat_ssl s JOIN pg_stat_activity a USING (pid) WHERE a.application_name = 'senda' AND a.datname = $1",
        &[&database],
    )
    .expect("pg_stat_ssl")
    .iter()
    .map(|r| r.get(0))
    .collect()
}

#[test]
fn sslmode_in_the_url_means_what_it_means_to_psql() {
    let Some(pg) = postgres() else { return };
    let Some(server) = postgres_server() else { return };
    let ca = match std::env::var("SENDA_TEST_POSTGRES_CA") {
        Ok(ca) => ca,
        Err(_) if std::env::var("CI").is_ok_and(|v| v == "true") => {
            panic!(
                "SENDA_TEST_POSTGRES_CA is not set: the test server has no TLS (scripts/with-postgres.sh needs openssl)"
            )
        }
        Err(_) => {
            eprintln!("team: the test server has no TLS certificate (no openssl): TLS not tested");
            return;
        }
    };
    let database = pg.empty_database();
    let name = database.url.rsplit('/').next().expect("name").to_owned();
    let with = |query: &str| format!("{}?{query}", database.url);
    let ca_q = ca.replace('/', "%2F");
    let cases: [(String, Option<bool>); 5] = [
        (with("sslmode=disable"), Some(false)),
        (with("sslmode=require"), Some(true)),
        (database.url.clone(), Some(true)), // prefer: encrypted when the server offers it
        (with(&format!("sslmode=verify-full&sslrootcert={ca_q}")), Some(true)),
        (with(&format!("sslmode=verify-ca&sslrootcert={ca_q}")), Some(true)),
    ];
    for (url, encrypted) in cases {
        let store = senda_store::open(&url, OpenMode::Create).unwrap_or_else(|e| panic!("{url}: {e}"));
        let seen = senda_connections_encrypted(&server, &name);
        assert_eq!(seen, vec![encrypted.expect("expected")], "{url}");
        drop(store);
    }
    // verify-full against the system's authorities: this certificate was made for the test,
    // no authority signed it: refused, saying why, naming the database.
    let e = senda_store::open(&with("sslmode=verify-full&sslrootcert=system"), OpenMode::Create)
        .err()
        .expect("an unknown authority is refused");
    let text = e.to_string();
    assert!(text.contains(&name) && text.to_lowercase().contains("certificate"), "{text}");
    // An sslmode libpq does not know.
    let e = senda_store::open(&with("sslmode=sometimes"), OpenMode::Create).err().expect("refused");
    assert!(e.to_string().contains("verify-full"), "the accepted modes are listed: {e}");
}

#[test]
fn a_second_writer_waits_for_the_first_then_stops_busy_with_nothing_written() {
    let Some(pg) = postgres() else { return };
    let dir = tempfile::tempdir().expect("tmp");
    let db = pg.db();
    let url = db.url().to_owned();
    let database = db.close();
    // Another writer holds Senda's write lock (the advisory lock every import, override and copy
    // takes) and keeps it.
    let mut other = postgres::Client::connect(&database.url, postgres::NoTls).expect("connect");
    other.batch_execute(&format!("SELECT pg_advisory_lock({})", 0x5e4d_a002_i64)).expect("lock");
    let file = synthetic(dir.path(), "a.xml", 10, 4);
    let t0 = Instant::now();
    let out = senda().args(["--db", &url, "import", "--no-progress"]).arg(&file).output().expect("senda runs");
    let waited = t0.elapsed();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("busy"), "one line saying the database is busy: {stderr}");
    assert!(waited >= Duration::from_secs(9) && waited < Duration::from_secs(30), "waited {waited:?}");
    // Readers are not blocked meanwhile, and nothing of the import was written.
    let s = senda_store::open(&url, OpenMode::Existing).expect("open while locked");
    assert_eq!(s.count_activities().expect("count"), 0);
    drop(s);
    // Once the other writer is done, the import goes through.
    other.batch_execute(&format!("SELECT pg_advisory_unlock({})", 0x5e4d_a002_i64)).expect("unlock");
    let out = senda().args(["--db", &url, "import", "--no-progress"]).arg(&file).output().expect("senda runs");
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
}

/// `GET path` over a plain TCP connection to `addr`: the status code and the body.
fn http_get(addr: &str, path: &str) -> (u16, String) {
    use std::io::{Read, Write};
    let mut c = std::net::TcpStream::connect(addr).expect("connect to senda serve");
    c.set_read_timeout(Some(Duration::from_secs(30))).expect("timeout");
    write!(c, "GET {path} HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n").expect("request");
    let mut text = String::new();
    c.read_to_string(&mut text).expect("response");
    let status = text.split(' ').nth(1).and_then(|s| s.parse().ok()).unwrap_or(0);
    (status, text)
}

#[test]
fn senda_serve_over_postgresql_answers_and_stops_cleanly() {
    use std::io::BufRead;
    let Some(pg) = postgres() else { return };
    let dir = tempfile::tempdir().expect("tmp");
    let mut db = pg.db();
    import(&mut db, &[synthetic(dir.path(), "a.xml", 30, 5)]);
    let url = db.url().to_owned();
    let mut child = senda()
        .args(["--db", &url, "serve", "--listen", "127.0.0.1:0"])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("senda serve starts");
    let mut line = String::new();
    let stdout = child.stdout.take().expect("stdout");
    std::io::BufReader::new(stdout).read_line(&mut line).expect("the ready line");
    let addr = line.split("http://").nth(1).map(|a| a.trim().trim_end_matches(|c| c != '/').trim_end_matches('/'));
    let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        let addr = addr.unwrap_or_else(|| panic!("no address in {line:?}"));
        assert!(!line.contains("senda:"), "the ready line names no password: {line}");
        for path in ["/", "/activities", "/api/v1/report?by=country"] {
            let (status, text) = http_get(addr, path);
            assert_eq!(status, 200, "{path}: {}", &text[..text.len().min(400)]);
        }
    }));
    // Ctrl-C: a clean stop (the pool's PostgreSQL connections closed without a panic).
    let _ = Command::new("kill").args(["-INT", &child.id().to_string()]).status();
    let out = child.wait_with_output().expect("senda serve ends");
    let stderr = String::from_utf8_lossy(&out.stderr);
    if let Err(p) = result {
        panic!("{}\nserver stderr: {stderr}", crate::conformance::panic_text(&*p));
    }
    assert!(!stderr.contains("panicked"), "{stderr}");
    assert!(out.status.success(), "exit {:?}: {stderr}", out.status);
}
