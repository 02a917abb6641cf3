//! The `lockscope` binary: parse arguments (`cli.rs`), run the library's command, map the result
//! to an exit code.

mod cli;

use clap::Parser;
use cli::{Cli, Command};
use lockscope::commands;
use lockscope::db::redact;
use lockscope::Error;

/// Prints `err` (redacted: it may name the database) and returns its exit code.
fn fail(err: Error) -> i32 {
    eprintln!("error: {}", redact(&err.to_string()));
    err.exit_code()
}

fn main() {
    let cli = Cli::parse();
    let runtime = match tokio::runtime::Builder::new_multi_thread().enable_all().build() {
        Ok(runtime) => runtime,
        Err(err) => {
            eprintln!("error: cannot start the async runtime: {err}");
            std::process::exit(2);
        }
    };
    let code = runtime.block_on(async {
        match cli.command {
            Command::Lint(args) => commands::lint::run(&args.options()).unwrap_or_else(fail),
            Command::Rules(args) => {
                print!("{}", commands::rules::render(args.format.into()));
                0
            }
            Command::Explain(args) => match commands::explain::explain(&args.topic) {
                Ok(text) => {
                    print!("{text}");
                    0
                }
                Err(err) => fail(err),
            },
            Command::Snapshot(args) => commands::snapshot::run(&args.options()).await.unwrap_or_else(fail),
            Command::Inspect(args) => commands::inspect::run(&args.options()).await.unwrap_or_else(fail),
            Command::Run(args) => match args.options() {
                Ok(options) => commands::run::run(&options).await.map(|outcome| outcome.exit_code).unwrap_or_else(fail),
                Err(err) => fail(err),
            },
            Command::Check(args) => match commands::check::run(&args.options()).await {
                Ok(outcome) => {
                    if let Some(err) = outcome.error {
                        eprintln!("error: {}", redact(&err.to_string()));
                    }
                    outcome.exit_code
                }
                Err(err) => fail(err),
            },
        }
    });
    drop(runtime);
    std::process::exit(code);
}
