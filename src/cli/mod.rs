//! The native command line: `replscope sim | server | advise | compare`.

mod compare;
mod sim;

use clap::{Parser, Subcommand};

#[derive(Parser, Debug)]
#[command(
    name = "replscope",
    version,
    about = "See, teach and verify Redis replication"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Run a simulated replication scenario (a TOML file or a built-in preset).
    Sim(sim::SimArgs),
    /// Recommend repl-backlog-size and client-output-buffer-limit replica, arithmetic shown.
    Advise(sim::AdviseArgs),
    /// Stage a scenario on real servers (replscope server or redis-server) and show what the
    /// simulator predicted next to what happened.
    Compare(compare::CompareArgs),
    /// Run a Redis-compatible replication server: `replscope server [redis.conf] [--port 6380
    /// --replicaof 127.0.0.1 6379 --repl-diskless-sync yes ...]` (redis-server's options).
    Server {
        /// An optional redis.conf, then `--name value...` options as redis-server takes them.
        #[arg(trailing_var_arg = true, allow_hyphen_values = true)]
        args: Vec<String>,
    },
}

/// Runs the CLI and returns the process exit code.
pub fn main() -> i32 {
    let cli = match Cli::try_parse() {
        Ok(c) => c,
        Err(e) => {
            let _ = e.print();
            return if e.use_stderr() { 2 } else { 0 };
        }
    };
    match cli.command {
        Command::Sim(a) => sim::run_sim(a),
        Command::Advise(a) => sim::run_advise(a),
        Command::Compare(a) => compare::run_compare(a),
        Command::Server { args } => crate::server::run_blocking(&args),
    }
}
