//! `replscope compare <FILE | --preset NAME> [--against replscope|redis]
//! [--format text|json|row] [--seeds N] [--check]`, and `replscope compare --list`.

use crate::compare::{self, Against, Executables};
use crate::sim::Scenario;
use clap::Args;
use std::path::PathBuf;

#[derive(Args, Debug)]
pub struct CompareArgs {
    /// Scenario file (TOML). Use --preset for a built-in one.
    pub file: Option<PathBuf>,
    /// A compare preset (`--list` names them) or a simulator preset.
    #[arg(long)]
    pub preset: Option<String>,
    /// Print the compare presets, one a line, and exit.
    #[arg(long)]
    pub list: bool,
    /// Which servers to stage: replscope (this binary's `server`) or redis (redis-server).
    #[arg(long, default_value = "replscope")]
    pub against: String,
    /// Output: text (sequences, the spread and a side-by-side table), json, or row (one
    /// Markdown table row: scenario, target, real and predicted sequences, share of seeds,
    /// worst figure, verdict; `scripts/verify.sh` prints these).
    #[arg(long, default_value = "text", value_parser = ["text", "json", "row"])]
    pub format: String,
    /// Also write the JSON output to this file (whatever --format says).
    #[arg(long)]
    pub json_out: Option<PathBuf>,
    /// Seeds the simulator runs to find where the real outcome falls in its spread.
    #[arg(long, default_value_t = compare::DEFAULT_SEEDS)]
    pub seeds: u64,
    /// redis-server to run with --against redis.
    #[arg(long, default_value = "redis-server")]
    pub redis_server: PathBuf,
    /// Exit 1 unless the run agrees: its sequences come out of at least 10% of the seeds,
    /// counts are equal, and durations, peaks and offsets are within 15%.
    #[arg(long)]
    pub check: bool,
}

pub fn run_compare(a: CompareArgs) -> i32 {
    if a.list {
        for n in compare::presets::names() {
            println!("{n}");
        }
        return 0;
    }
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
    match compare::compare(&scenario, against, &exes, a.seeds, &progress) {
        Ok(c) => {
            if let Some(path) = &a.json_out {
                let text = serde_json::to_string_pretty(&c.to_json()).unwrap_or_default();
                if let Err(e) = std::fs::write(path, text) {
                    eprintln!("cannot write {}: {e}", path.display());
                    return 1;
                }
            }
            match a.format.as_str() {
                "json" => println!(
                    "{}",
                    serde_json::to_string_pretty(&c.to_json()).unwrap_or_default()
                ),
                "row" => println!("{}", c.table_row()),
                _ => print!("{}", c.render_text()),
            }
            if a.check && !c.verdict().agrees() {
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
