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
