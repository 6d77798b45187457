//! `replscope compare <FILE | --preset NAME> [--against replscope|redis] [--format text|json]`.

use crate::compare::{self, Against, Executables};
use crate::sim::Scenario;
use clap::Args;
use std::path::PathBuf;

#[derive(Args, Debug)]
pub struct CompareArgs {
    /// Scenario file (TOML). Use --preset for a built-in one.
    pub file: Option<PathBuf>,
    /// A compare preset (compare-disk-sync-loop, compare-diskless-fix,
    /// compare-backlog-too-small, compare-backlog-sized) or a simulator preset.
    #[arg(long)]
    pub preset: Option<String>,
    /// Which servers to stage: replscope (this binary's `server`) or redis (redis-server).
    #[arg(long, default_value = "replscope")]
    pub against: String,
    /// Output: text (sequences and a side-by-side table) or json.
    #[arg(long, default_value = "text", value_parser = ["text", "json"])]
    pub format: String,
    /// redis-server to run with --against redis.
    #[arg(long, default_value = "redis-server")]
    pub redis_server: PathBuf,
    /// Exit 1 if a sync sequence differs between the simulator and the servers.
    #[arg(long)]
    pub check: bool,
}

pub fn run_compare(a: CompareArgs) -> i32 {
    let scenario = match (&a.file, &a.preset) {
        (Some(f), None) => match std::fs::read_to_string(f) {
            Ok(t) => match Scenario::from_toml(&t) {
                Ok(s) => s,
                Err(e) => {
                    eprintln!("{}: {e}", f.display());
                    return 2;
                }
            },
            Err(e) => {
                eprintln!("cannot read {}: {e}", f.display());
                return 2;
            }
        },
        (None, Some(p)) => match compare::presets::scenario(p) {
            Ok(s) => s,
            Err(e) => {
                eprintln!("{e}");
                return 2;
            }
        },
        _ => {
            eprintln!(
                "give a scenario file or --preset NAME (compare presets: {})",
                compare::presets::names().join(", ")
            );
            return 2;
        }
    };
    let against = match Against::parse(&a.against) {
        Ok(x) => x,
        Err(e) => {
            eprintln!("{e}");
            return 2;
        }
    };
    let replscope = match std::env::current_exe() {
        Ok(p) => p,
        Err(e) => {
            eprintln!("cannot find this executable: {e}");
            return 2;
        }
    };
    compare::procs::install_ctrl_c_cleanup();
    let exes = Executables {
        replscope,
        redis_server: a.redis_server.clone(),
    };
    let progress = |m: &str| eprintln!("compare: {m}");
    match compare::compare(&scenario, against, &exes, &progress) {
        Ok(c) => {
            if a.format == "json" {
                println!(
                    "{}",
                    serde_json::to_string_pretty(&c.to_json()).unwrap_or_default()
                );
            } else {
                print!("{}", c.render_text());
            }
            if a.check && !c.sequences_agree() {
                1
            } else {
                0
            }
        }
        Err(e) => {
            eprintln!("compare failed: {e}");
            1
        }
    }
}
