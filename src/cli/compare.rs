//! `replscope compare <FILE | --preset NAME> [--against replscope|redis-6.2|redis-7.0|...]
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
    /// Print the server binary --against stages and its --version line, and exit (2 when
    /// it is missing).
    #[arg(long)]
    pub which: bool,
    /// Check that the scenario can be staged on --against (version, faults, settings,
    /// binary) without starting anything: exit 0, or 3 with the reason.
    #[arg(long)]
    pub dry_run: bool,
    /// Which servers to stage: replscope (this binary's `server`) or a real version:
    /// redis-6.2, redis-7.0 (or redis), redis-8.2, valkey-8.1, valkey-9.1, from
    /// `.tools/servers/<version>/server` (`scripts/setup.sh test`). A real version is the
    /// simulator's too.
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
    /// The real server binary to run for --against <version>, instead of
    /// `.tools/servers/<version>/server` (found above this binary or the current directory,
    /// or in $REPLSCOPE_SERVERS). Its --version must be that version's.
    #[arg(long, alias = "redis-server")]
    pub server: Option<PathBuf>,
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
    let against = match Against::parse(&a.against) {
        Ok(x) => x,
        Err(e) => {
            eprintln!("{e}");
            return 2;
        }
    };
    let exes = match std::env::current_exe() {
        Ok(p) => Executables::find(p, a.server.clone()),
        Err(e) => {
            eprintln!("cannot find this executable: {e}");
            return 2;
        }
    };
    if a.which {
        return match against.located(&exes) {
            Ok((exe, said)) => {
                println!("{}\t{said}", exe.display());
                0
            }
            Err(e) => {
                eprintln!("{e}");
                2
            }
        };
    }
    let scenario = match (&a.file, &a.preset) {
        (Some(f), None) => match std::fs::read_to_string(f) {
            Ok(t) => match Scenario::from_toml(&t) {
                Ok(s) if pins_another_version(&t, against) => {
                    eprintln!(
                        "{}: the file pins version = \"{}\"; stage it with --against {} or drop its version",
                        f.display(),
                        s.version.name(),
                        s.version.name()
                    );
                    return 2;
                }
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
    if a.dry_run {
        return match compare::stageable(&scenario, against, &exes) {
            Ok(s) => {
                println!(
                    "{} can be staged on {} ({})",
                    s.name,
                    against.as_str(),
                    s.version
                );
                0
            }
            Err(e) => {
                eprintln!("{e}");
                3
            }
        };
    }
    compare::procs::install_ctrl_c_cleanup();
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

/// Whether a scenario file names a version (`version = ...` at its top) that is not the real
/// one staged: [`compare::scenario_for`] cannot tell a file's explicit `redis-7.0` from the
/// default.
fn pins_another_version(text: &str, against: Against) -> bool {
    let pinned = text
        .parse::<toml::Table>()
        .ok()
        .and_then(|t| t.get("version")?.as_str().map(str::to_string));
    match (pinned, against.version()) {
        (Some(p), Some(v)) => crate::core::version::Version::parse(&p).is_ok_and(|p| p != v),
        _ => false,
    }
}
