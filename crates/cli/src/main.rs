//! The `senda` binary: parses arguments and calls [`senda::run`]. Errors are printed as one
//! line and the exit status is non-zero.

use clap::Parser;
use std::io::Write;

/// mimalloc: the import allocates many small strings; it is markedly faster than glibc malloc here.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// mimalloc v2's number for the `purge_delay` option (`mi_option_purge_delay` in the enum
/// `mi_option_e` of `mimalloc.h`; libmimalloc-sys is pinned to the version this was read from).
const MI_OPTION_PURGE_DELAY: libmimalloc_sys::mi_option_t = 15;

/// How long mimalloc keeps freed memory before returning it to the OS, in milliseconds (its
/// default is 10). An import frees and reallocates the same memory at a high rate: with 10 ms the
/// kernel unmaps pages and zeroes them again on the next use, about 6 to 10 % of the import's
/// time (docs/benchmarks.md). Memory is still returned, one second after it was last used.
const PURGE_DELAY_MS: std::ffi::c_long = 1000;

#[allow(unsafe_code)]
fn tune_allocator() {
    // SAFETY: `mi_option_set` takes two integers and writes them into mimalloc's static option
    // table (an out-of-range option number is ignored, see options.c); it has no pointer
    // arguments. mimalloc documents it as not thread safe: it is called first thing in `main`,
    // before this program starts any thread, so nothing reads the table concurrently.
    unsafe { libmimalloc_sys::mi_option_set(MI_OPTION_PURGE_DELAY, PURGE_DELAY_MS) };
}

fn main() {
    tune_allocator();
    let args = senda::cli::Cli::parse();
    let filter = tracing_subscriber::EnvFilter::try_from_env("SENDA_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(if args.verbose { "debug" } else { "info" }));
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(|| QuietStderr)
        .with_target(false)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .without_time()
        .init();
    match senda::run(args) {
        Ok(code) => std::process::exit(code),
        // A reader that stopped early (`senda activities --format csv | head`) is not an error.
        Err(e) if is_broken_pipe(&e) => std::process::exit(0),
        Err(e)
            if e.chain().any(|c| {
                c.downcast_ref::<senda_store::StoreError>()
                    .is_some_and(|s| matches!(s, senda_store::StoreError::Busy { .. }))
            }) =>
        {
            let _ = writeln!(
                std::io::stderr(),
                "error: the database is busy: another senda process is writing to it (waited 10 s); try again when it has finished"
            );
            std::process::exit(2);
        }
        Err(e) => {
            let _ = writeln!(std::io::stderr(), "error: {e:#}");
            std::process::exit(2);
        }
    }
}

fn is_broken_pipe(e: &anyhow::Error) -> bool {
    e.chain().any(|c| {
        c.downcast_ref::<std::io::Error>().is_some_and(|io| io.kind() == std::io::ErrorKind::BrokenPipe)
            || c.downcast_ref::<csv::Error>().is_some_and(|ce| match ce.kind() {
                csv::ErrorKind::Io(io) => io.kind() == std::io::ErrorKind::BrokenPipe,
                _ => false,
            })
    })
}

/// Log output to standard error that ignores write errors (a closed stderr must never stop an
/// import half-way: tracing's default writer panics then).
struct QuietStderr;

impl Write for QuietStderr {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        let _ = std::io::stderr().write_all(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        let _ = std::io::stderr().flush();
        Ok(())
    }
}
