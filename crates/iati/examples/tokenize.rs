//! Bare XML tokenizer pass: the speed limit for any quick-xml based importer.
//!
//! Reads every `*.xml` file under the given folders (recursively) with quick-xml's
//! `read_event_into`, counts events and bytes, builds nothing, and prints MB/s
//! (MB = 10^6 bytes, the unit `senda import` reports).
//!
//! ```text
//! cargo run --release --example tokenize -p senda-iati -- DIR [DIR...]
//! cargo run --release --example tokenize -p senda-iati -- --read DIR [DIR...]
//! ```
//!
//! With `--read`, Senda's own `ActivityReader` reads every activity into the model and drops it
//! (no encoding, mapping or database): the reader's cost alone, next to the bare tokenizer.
//!
//! With `--digest`, the reader's whole output (every `ParsedActivity` with its diagnostics, each
//! file's diagnostics and any fatal error, in `Debug` form, files in sorted order) is hashed with
//! xxh3 and the hex digest printed: a change to the reader that must not change its output has
//! to print the same digest before and after.
//!
//! Used by `bench/run.sh`; see `docs/benchmarks.md`.

use quick_xml::Reader;
use quick_xml::events::Event;
use std::fs::File;
use std::io::BufReader;
use std::path::{Path, PathBuf};
use std::time::Instant;

fn collect(path: &Path, out: &mut Vec<PathBuf>) -> std::io::Result<()> {
    if path.is_dir() {
        let mut entries: Vec<PathBuf> =
            std::fs::read_dir(path)?.map(|e| e.map(|e| e.path())).collect::<Result<_, _>>()?;
        entries.sort();
        for p in entries {
            collect(&p, out)?;
        }
    } else if path.extension().is_some_and(|e| e.eq_ignore_ascii_case("xml")) {
        out.push(path.to_path_buf());
    }
    Ok(())
}

/// xxh3-128 of the `Debug` form of everything the reader returns for `files`.
fn digest_of(files: &[PathBuf]) -> u128 {
    use std::hash::Hasher;
    let mut h = xxhash_rust::xxh3::Xxh3::new();
    let mut feed = |s: String| {
        h.write(s.as_bytes());
        h.write(b"\n");
    };
    for path in files {
        let display = path.display().to_string();
        feed(format!("file {display}"));
        let mut reader = match senda_iati::open_file(path, &display) {
            Ok(r) => r,
            Err(e) => {
                feed(format!("open fatal {e:?}"));
                continue;
            }
        };
        loop {
            match reader.next_activity() {
                Ok(Some(p)) => feed(format!("{p:?}")),
                Ok(None) => break,
                Err(e) => {
                    feed(format!("fatal {e:?}"));
                    break;
                }
            }
        }
        feed(format!("version {:?} position {}", reader.version(), reader.position()));
        feed(format!("file diagnostics {:?}", reader.file_diagnostics));
    }
    h.digest128()
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args: Vec<std::ffi::OsString> = std::env::args_os().skip(1).collect();
    let read_model = args.first().is_some_and(|a| a == "--read");
    let digest = args.first().is_some_and(|a| a == "--digest");
    if read_model || digest {
        args.remove(0);
    }
    let roots: Vec<PathBuf> = args.into_iter().map(PathBuf::from).collect();
    if roots.is_empty() {
        return Err("usage: tokenize DIR [DIR...]".into());
    }
    let mut files = Vec::new();
    for r in &roots {
        collect(r, &mut files)?;
    }
    if digest {
        println!("{:032x}", digest_of(&files));
        return Ok(());
    }
    let start = Instant::now();
    let (mut bytes, mut events) = (0u64, 0u64);
    let mut buf = Vec::with_capacity(64 * 1024);
    if read_model {
        let mut activities = 0u64;
        for path in &files {
            let display = path.display().to_string();
            let mut reader = senda_iati::open_file(path, &display).map_err(|e| format!("{display}: {e:?}"))?;
            while let Some(p) = reader.next_activity().map_err(|e| format!("{display}: {e:?}"))? {
                activities += u64::from(p.activity.is_some());
            }
            bytes += std::fs::metadata(path)?.len();
        }
        let secs = start.elapsed().as_secs_f64();
        println!(
            "read: {} files, {:.1} MB, {activities} activities in {secs:.3} s ({:.1} MB/s)",
            files.len(),
            bytes as f64 / 1e6,
            bytes as f64 / 1e6 / secs.max(1e-9)
        );
        return Ok(());
    }
    for path in &files {
        let mut reader = Reader::from_reader(BufReader::with_capacity(256 * 1024, File::open(path)?));
        loop {
            match reader.read_event_into(&mut buf) {
                Ok(Event::Eof) => break,
                Ok(_) => events += 1,
                Err(e) => return Err(format!("{}: {e}", path.display()).into()),
            }
            buf.clear();
        }
        bytes += reader.buffer_position();
    }
    let secs = start.elapsed().as_secs_f64();
    println!(
        "tokenize: {} files, {:.1} MB, {} events in {:.3} s ({:.1} MB/s)",
        files.len(),
        bytes as f64 / 1e6,
        events,
        secs,
        bytes as f64 / 1e6 / secs.max(1e-9)
    );
    Ok(())
}
