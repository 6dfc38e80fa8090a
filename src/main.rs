//! The `paperpost` binary: parse the command line, set up logging, run the command.
use clap::Parser;

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
