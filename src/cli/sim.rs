//! `replscope sim` and `replscope advise`: thin wrappers over `crate::sim`.

use crate::sim::{self, advise, units, Scenario, Simulation};
use clap::Args;
use std::fmt::Write as _;
use std::io::Write as _;

/// Prints to stdout; a closed pipe (`| head`) ends the output quietly instead of panicking.
fn emit(text: &str) {
    let mut out = std::io::stdout().lock();
    let _ = out.write_all(text.as_bytes()).and_then(|_| out.flush());
}

#[derive(Args, Debug)]
pub struct SimArgs {
    /// Scenario file (TOML). Use --preset for a built-in one.
    pub file: Option<String>,
    /// Run a built-in preset (see --list).
    #[arg(long)]
    pub preset: Option<String>,
    /// List the presets, one line each, and exit.
    #[arg(long)]
    pub list: bool,
    /// Seed of the run (same scenario + seed = same run, byte for byte); with --seeds, the
    /// first seed of the range.
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    /// Run N seeds (--seed, --seed + 1, ...) and report how often each outcome happens, with
    /// the spread of the full syncs' durations, instead of one run's log.
    #[arg(long, value_name = "N")]
    pub seeds: Option<u64>,
    /// Override a scenario field or Redis config: --set repl-diskless-sync=yes (repeatable).
    #[arg(long = "set", value_name = "KEY=VALUE")]
    pub sets: Vec<String>,
    /// Virtual time to run (90s, 5m, 1h); default: the scenario's duration.
    #[arg(long)]
    pub until: Option<String>,
    /// Output: text (Redis logs and a summary table) or json.
    #[arg(long, default_value = "text", value_parser = ["text", "json"])]
    pub format: String,
    /// Print only the trace hash of the run (for determinism checks).
    #[arg(long)]
    pub hash: bool,
    /// List every key --set accepts (name, unit, default, range) and exit.
    #[arg(long)]
    pub params: bool,
    /// Print a commented scenario with every field and exit.
    #[arg(long)]
    pub example: bool,
    /// Print the scenario as TOML (after --set) and exit.
    #[arg(long)]
    pub print_scenario: bool,
    /// Check the run's summary against the scenario's [check] table; exit 1 if one fails.
    #[arg(long)]
    pub check: bool,
}

/// Runs `replscope sim`; returns the exit code.
pub fn run_sim(a: SimArgs) -> i32 {
    if a.params {
        for p in sim::params() {
            let range = match p.unit {
                "bool" | "enum" => p.choices.join("|"),
                "text" => String::new(),
                _ => format!("{} ..= {}", p.min, p.max),
            };
            emit(&format!(
                "{:<40} {:<8} default {:<14} {:<28} {}\n",
                p.name, p.unit, p.default_text, range, p.help
            ));
        }
        return 0;
    }
    if a.example {
        emit(sim::presets::REFERENCE_SCENARIO);
        return 0;
    }
    if a.list {
        for p in sim::presets() {
            emit(&format!("{:<32} {}\n", p.name, p.title));
        }
        return 0;
    }
    let mut scenario = match load_scenario(a.file.as_deref(), a.preset.as_deref()) {
        Ok(s) => s,
        Err(e) => {
            eprintln!("error: {e}");
            return 2;
        }
    };
    for kv in &a.sets {
        let Some((k, v)) = kv.split_once('=') else {
            eprintln!("error: --set takes KEY=VALUE, got `{kv}`");
            return 2;
        };
        if let Err(e) = scenario.set(k, v) {
            eprintln!("error: --set {kv}: {e}");
            return 2;
        }
    }
    if a.print_scenario {
        emit(&scenario.to_toml());
        return 0;
    }
    let until = match &a.until {
        Some(u) => match units::parse_duration_ms(u, 1000) {
            Ok(ms) => ms,
            Err(e) => {
                eprintln!("error: --until: {e}");
                return 2;
            }
        },
        None => scenario.duration,
    };
    if let Some(n) = a.seeds {
        return run_spread(&a, &scenario, n, until);
    }
    let mut simulation = Simulation::new(&scenario, a.seed);
    simulation.run_until(until);
    if a.hash {
        emit(&format!("{:016x}\n", simulation.trace_hash()));
        return 0;
    }
    let summary = simulation.summary();
    if a.format == "json" {
        let out = serde_json::json!({
            "scenario": scenario.name,
            "seed": a.seed,
            "summary": summary,
            "events": simulation.events(),
        });
        emit(&format!("{out}\n"));
    } else {
        let mut out = String::new();
        for l in simulation.log() {
            let _ = writeln!(out, "[{}] {}", l.node, l.line);
        }
        out.push('\n');
        out.push_str(&sim::render_summary_table(&summary));
        if !scenario.expect.is_empty() {
            let _ = writeln!(out, "expect: {}", scenario.expect);
        }
        emit(&out);
    }
    if a.check {
        let failures = sim::summary::check_summary(&summary, &scenario.check);
        if !failures.is_empty() {
            for f in failures {
                eprintln!("check failed: {f}");
            }
            return 1;
        }
        eprintln!("check: all {} expectations hold", scenario.check.len());
    }
    0
}

/// `--seeds N`: the outcomes of N runs, counted.
fn run_spread(a: &SimArgs, scenario: &Scenario, n: u64, until: u64) -> i32 {
    if n == 0 {
        eprintln!("error: --seeds takes a number of runs, at least 1");
        return 2;
    }
    if a.hash || a.check {
        eprintln!("error: --hash and --check take one run; drop --seeds");
        return 2;
    }
    let Some(end) = a.seed.checked_add(n) else {
        eprintln!("error: --seed + --seeds is past the largest seed");
        return 2;
    };
    let seeds = a.seed..end;
    let spread = sim::run_seeds(scenario, seeds.clone(), until);
    if a.format == "json" {
        let out = serde_json::json!({
            "scenario": scenario.name,
            "seeds": { "first": seeds.start, "count": n },
            "spread": spread,
        });
        emit(&format!("{out}\n"));
    } else {
        emit(&spread.render(&scenario.name, &seeds));
    }
    0
}

fn load_scenario(file: Option<&str>, preset: Option<&str>) -> Result<Scenario, String> {
    match (file, preset) {
        (Some(_), Some(_)) => Err("give a scenario file or --preset, not both".into()),
        (None, None) => Err("give a scenario file or --preset NAME (see --list)".into()),
        (None, Some(p)) => Scenario::preset(p).ok_or_else(|| {
            format!(
                "unknown preset `{p}`; presets are: {}",
                sim::presets::preset_names().join(", ")
            )
        }),
        (Some(f), None) => {
            let text = std::fs::read_to_string(f).map_err(|e| format!("{f}: {e}"))?;
            Scenario::from_toml(&text).map_err(|e| format!("{f}: {e}"))
        }
    }
}

#[derive(Args, Debug)]
pub struct AdviseArgs {
    /// Start from a preset's load and machine (flags below override it).
    #[arg(long)]
    pub preset: Option<String>,
    /// Writes per second (e.g. 100k).
    #[arg(long)]
    pub write_rate: Option<String>,
    /// Value size of each write (e.g. 1kb).
    #[arg(long)]
    pub value_size: Option<String>,
    /// Replication stream in bytes/s instead of rate x value size (e.g. 20mb).
    #[arg(long)]
    pub bytes_per_sec: Option<String>,
    /// Dataset (RDB) size, e.g. 2gb.
    #[arg(long)]
    pub dataset: Option<String>,
    /// Link bandwidth in bytes/s, e.g. 125mb.
    #[arg(long)]
    pub bandwidth: Option<String>,
    /// Disk write speed in bytes/s.
    #[arg(long)]
    pub disk_write: Option<String>,
    /// Disk read speed in bytes/s.
    #[arg(long)]
    pub disk_read: Option<String>,
    /// Replica RDB load speed in bytes/s.
    #[arg(long)]
    pub load_speed: Option<String>,
    /// Link outage a partial resync must survive (e.g. 60s).
    #[arg(long, default_value = "60s")]
    pub outage: String,
    /// Size for diskless sync (repl-diskless-sync yes).
    #[arg(long)]
    pub diskless: bool,
    /// Headroom multiplier.
    #[arg(long, default_value_t = 1.5)]
    pub safety: f64,
    /// Output: text or json.
    #[arg(long, default_value = "text", value_parser = ["text", "json"])]
    pub format: String,
}

/// Runs `replscope advise`; returns the exit code.
pub fn run_advise(a: AdviseArgs) -> i32 {
    match advise_input(&a) {
        Ok(input) => {
            let advice = advise::advise(&input);
            if a.format == "json" {
                emit(&format!(
                    "{}\n",
                    serde_json::json!({ "input": input, "advice": advice })
                ));
            } else {
                let mut out = String::new();
                for s in &advice.steps {
                    let _ = writeln!(out, "  {s}");
                }
                for w in &advice.warnings {
                    let _ = writeln!(out, "warning: {w}");
                }
                out.push('\n');
                out.push_str(&advice.config_lines());
                emit(&out);
            }
            0
        }
        Err(e) => {
            eprintln!("error: {e}");
            2
        }
    }
}

fn advise_input(a: &AdviseArgs) -> Result<advise::AdviseInput, String> {
    let base = match &a.preset {
        Some(p) => Scenario::preset(p).ok_or_else(|| format!("unknown preset `{p}`"))?,
        None => Scenario::default(),
    };
    let mut s = base;
    let pairs = [
        ("workload.rate", &a.write_rate),
        ("workload.value-size", &a.value_size),
        ("dataset.size", &a.dataset),
        ("link.bandwidth", &a.bandwidth),
        ("disk.write-speed", &a.disk_write),
        ("disk.read-speed", &a.disk_read),
        ("replica.load-speed", &a.load_speed),
    ];
    for (k, v) in pairs {
        if let Some(v) = v {
            s.set(k, v)
                .map_err(|e| format!("--{}: {e}", k.rsplit('.').next().unwrap_or(k)))?;
        }
    }
    if a.diskless {
        s.redis.repl_diskless_sync = true;
    } else if a.preset.is_none() {
        s.redis.repl_diskless_sync = false;
    }
    if a.safety.is_nan() || a.safety < 1.0 {
        return Err("--safety must be at least 1.0".into());
    }
    let outage = units::parse_duration_ms(&a.outage, 1000).map_err(|e| format!("--outage: {e}"))?;
    let mut input = advise::AdviseInput::from_scenario(&s, outage);
    input.safety = a.safety;
    if let Some(b) = &a.bytes_per_sec {
        input.stream_bytes_per_sec =
            Some(units::parse_bytes(b).map_err(|e| format!("--bytes-per-sec: {e}"))? as f64);
    }
    Ok(input)
}
