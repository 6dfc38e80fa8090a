//! The `paperpost` binary: parse the command line, set up logging, run the command.
use clap::Parser;

/// mimalloc instead of the system allocator: rendering and encoding a digest allocate and
/// free many short-lived strings of tens of KB. With glibc's allocator malloc/free took
/// ~13 % of the CPU of a whole `send`; with mimalloc ~8 %, and `send` ran ~20 % faster
/// (tests/bench/send-bench.sh).
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[tokio::main]
async fn main() {
    let cli = paperpost::cli::Cli::parse();
    paperpost::telemetry::init();
    match paperpost::cli::run(cli).await {
        Ok(code) => std::process::exit(code),
        Err(e) => {
            eprintln!("error: {e:#}");
            std::process::exit(2);
        }
    }
}
