//! Integration tests of `senda-stats`: the real CBP and OHSS files (read from `../shared/data`,
//! skipped with a message when absent) and small bad-input fixtures written in the tests.

mod bad_input;
mod real_data;

use std::path::PathBuf;

/// Path of a file under `shared/data`, or `None` (with a SKIP message) when it is not there.
pub fn shared(rel: &str) -> Option<Vec<u8>> {
    let p = PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../../../shared/data")).join(rel);
    match std::fs::read(&p) {
        Ok(b) => Some(b),
        Err(e) => {
            eprintln!("SKIP: {} not readable ({e}); the real-data test does not run", p.display());
            None
        }
    }
}
