//! The OpenAPI document is generated from the code; this snapshot makes every change to the
//! API's contract visible in review. After an intended change, refresh it with
//! `UPDATE_SNAPSHOTS=1 cargo test -p senda-web --test openapi` and commit the file.

use std::path::Path;

#[test]
fn openapi_document_matches_the_snapshot() {
    let doc = senda_web::api::openapi_document();
    let v: serde_json::Value = serde_json::from_str(&doc).expect("valid JSON");
    assert_eq!(v["openapi"].as_str(), Some("3.1.0"));
    for p in ["/activities", "/activities/{id}", "/report", "/strategies", "/organisations", "/imports"] {
        assert!(v["paths"].get(p).is_some(), "path {p} documented");
    }
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/snapshots/openapi.json");
    if std::env::var_os("UPDATE_SNAPSHOTS").is_some() {
        std::fs::write(&path, &doc).expect("write snapshot");
    }
    let want = std::fs::read_to_string(&path).expect("snapshot exists (UPDATE_SNAPSHOTS=1 makes it)");
    assert!(
        want == doc,
        "the OpenAPI document changed; review and refresh with UPDATE_SNAPSHOTS=1 (see {})",
        path.display()
    );
}
