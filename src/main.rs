//! The `lockscope` binary: parse arguments, run the library, map the result to an exit code.

use clap::Parser;
use lockscope::cli::{Cli, Command};

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
            Command::Lint(args) => match lockscope::lint::run(&args) {
                Ok(code) => code,
                Err(err) => {
                    eprintln!("error: {err}");
                    err.exit_code()
                }
            },
            Command::Rules(args) => {
                use lockscope::cli::RulesFormat;
                use lockscope::analyze::catalogue;
                let text = match args.format {
                    RulesFormat::Table => catalogue::list(),
                    RulesFormat::Markdown => catalogue::markdown_table(),
                    RulesFormat::Json => catalogue::json(),
                };
                print!("{text}");
                0
            }
            Command::Explain(args) => match lockscope::analyze::catalogue::explain_topic(&args.topic) {
                Some(text) => {
                    print!("{text}");
                    0
                }
                None => {
                    eprintln!(
                        "error: {:?} is neither a rule (see `lockscope rules`) nor a lock mode (e.g. AccessExclusiveLock)",
                        args.topic
                    );
                    2
                }
            },
            Command::Snapshot(args) => match lockscope::impact::snapshot::run(&args).await {
                Ok(code) => code,
                Err(err) => {
                    eprintln!("error: {}", lockscope::db::redact(&err.to_string()));
                    err.exit_code()
                }
            },
            Command::Inspect(args) => match lockscope::watch::run(&args).await {
                Ok(code) => code,
                Err(err) => {
                    eprintln!("error: {}", lockscope::db::redact(&err.to_string()));
                    err.exit_code()
                }
            },
            Command::Run(args) => match lockscope::run::RunOptions::from_args(&args) {
                Ok(options) => match lockscope::run::run(&options).await {
                    Ok(outcome) => outcome.exit_code,
                    Err(err) => {
                        eprintln!("error: {}", lockscope::db::redact(&err.to_string()));
                        err.exit_code()
                    }
                },
                Err(err) => {
                    eprintln!("error: {err}");
                    err.exit_code()
                }
            },
            Command::Check(args) => match lockscope::check::run(&args).await {
                Ok(outcome) => {
                    if let Some(err) = outcome.error {
                        eprintln!("error: {}", lockscope::db::redact(&err.to_string()));
                    }
                    outcome.exit_code
                }
                Err(err) => {
                    eprintln!("error: {}", lockscope::db::redact(&err.to_string()));
                    err.exit_code()
                }
            },
        }
    });
    drop(runtime);
    std::process::exit(code);
}
