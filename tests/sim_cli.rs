//! `replscope sim` and `replscope advise` as a user runs them.
#![cfg(not(target_arch = "wasm32"))] // native-only (tests/sim_wasm.rs checks the browser build)

mod support;
use support::{run_replscope, Ran};

#[test]
fn list_shows_one_line_per_preset() {
    let Ran {
        code, stdout: out, ..
    } = run_replscope(&["sim", "--list"]);
    assert_eq!(code, 0);
    let names: Vec<&str> = out
        .lines()
        .map(|l| l.split_whitespace().next().unwrap())
        .collect();
    for want in [
        "disk-sync-loop",
        "diskless-fix",
        "buffer-fix",
        "dual-channel-fix",
        "rdb-channel-fix",
        "backlog-too-small",
        "backlog-sized",
        "shared-buffer-growth",
        "soft-limit-timer",
        "psync-partial-ok-disk",
        "psync-backlog-expired-diskless",
    ] {
        assert!(names.contains(&want), "{want} missing from:\n{out}");
    }
    assert_eq!(names.len(), replscope::sim::presets().len());
}

#[test]
fn json_output_has_the_documented_shape() {
    let Ran {
        code,
        stdout: out,
        stderr: err,
    } = run_replscope(&[
        "sim",
        "--preset",
        "backlog-too-small",
        "--seed",
        "5",
        "--format",
        "json",
    ]);
    assert_eq!(code, 0, "{err}");
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(v["scenario"], "backlog-too-small");
    assert_eq!(v["seed"], 5);
    let r = &v["summary"]["replicas"][0];
    for k in [
        "name",
        "full_syncs",
        "partial_syncs_accepted",
        "partial_syncs_refused",
        "peak_output_buffer_bytes",
        "final_offset",
        "in_sync_at_end",
    ] {
        assert!(!r[k].is_null(), "{k} missing in {r}");
    }
    assert_eq!(r["disconnects"]["link_cut"], 1);
    assert_eq!(r["disconnects"]["output_buffer_limit"], 0);
    assert!(
        v["summary"]["master"]["peak_backlog_bytes"]
            .as_u64()
            .unwrap()
            > 0
    );
    assert!(v["summary"]["master"]["final_offset"].as_i64().unwrap() > 0);
    assert!(v["events"].as_array().unwrap().len() > 10);
}

#[test]
fn set_changes_the_outcome() {
    let Ran { stdout: out, .. } = run_replscope(&[
        "sim",
        "--preset",
        "backlog-too-small",
        "--format",
        "json",
        "--set",
        "repl-backlog-size=16mb",
    ]);
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(v["summary"]["replicas"][0]["partial_syncs_accepted"], 1);
}

#[test]
fn bad_set_lists_valid_names_and_bad_values_are_rejected() {
    let Ran {
        code, stderr: err, ..
    } = run_replscope(&[
        "sim",
        "--preset",
        "disk-sync-loop",
        "--set",
        "repl-backlog-sise=1mb",
    ]);
    assert_eq!(code, 2);
    assert!(
        err.contains("repl-backlog-size") && err.contains("workload.rate"),
        "{err}"
    );
    let Ran {
        code, stderr: err, ..
    } = run_replscope(&[
        "sim",
        "--preset",
        "disk-sync-loop",
        "--set",
        "repl-diskless-sync=perhaps",
    ]);
    assert_eq!(code, 2);
    assert!(err.contains("yes or no"), "{err}");
}

#[test]
fn bad_file_names_line_and_field() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("bad.toml");
    std::fs::write(&path, "replicas = 2\n\n[link]\nbandwidth = \"fast\"\n").unwrap();
    let Ran {
        code, stderr: err, ..
    } = run_replscope(&["sim", path.to_str().unwrap()]);
    assert_eq!(code, 2);
    assert!(err.contains("line 4, field `link.bandwidth`"), "{err}");
}

#[test]
fn a_user_scenario_file_runs_and_checks() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("mine.toml");
    let Ran { stdout: toml, .. } = run_replscope(&[
        "sim",
        "--preset",
        "backlog-sized",
        "--print-scenario",
        "--set",
        "duration=60s",
    ]);
    std::fs::write(&path, toml).unwrap();
    let Ran {
        code,
        stdout: out,
        stderr: err,
    } = run_replscope(&["sim", path.to_str().unwrap(), "--check"]);
    assert_eq!(code, 0, "{err}");
    assert!(
        out.contains("Partial resynchronization request from"),
        "{out}"
    );
}

#[test]
fn hash_flag_is_stable() {
    let Ran { stdout: a, .. } = run_replscope(&[
        "sim",
        "--preset",
        "psync-partial-ok-disk",
        "--hash",
        "--until",
        "30s",
    ]);
    let Ran { stdout: b, .. } = run_replscope(&[
        "sim",
        "--preset",
        "psync-partial-ok-disk",
        "--hash",
        "--until",
        "30s",
    ]);
    assert_eq!(a, b);
    assert_eq!(a.trim().len(), 16);
}

#[test]
fn advise_shows_the_arithmetic() {
    let Ran {
        code,
        stdout: out,
        stderr: err,
    } = run_replscope(&[
        "advise",
        "--write-rate",
        "6k",
        "--value-size",
        "1kb",
        "--dataset",
        "2gb",
        "--bandwidth",
        "125mb",
        "--disk-write",
        "80mb",
        "--disk-read",
        "250mb",
        "--load-speed",
        "400mb",
        "--outage",
        "10s",
    ]);
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("buffer peak"), "{out}");
    assert!(out.contains("repl-backlog-size "), "{out}");
    assert!(out.contains("client-output-buffer-limit replica "), "{out}");
    let Ran {
        code, stderr: err, ..
    } = run_replscope(&["advise", "--write-rate", "lots"]);
    assert_eq!(code, 2);
    assert!(err.contains("rate"), "{err}");
}

#[test]
fn example_prints_a_scenario_that_runs() {
    let Ran {
        code, stdout: out, ..
    } = run_replscope(&["sim", "--example"]);
    assert_eq!(code, 0);
    assert!(out.contains("client-output-buffer-limit"));
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("ex.toml");
    std::fs::write(&path, out).unwrap();
    let Ran {
        code, stderr: err, ..
    } = run_replscope(&["sim", path.to_str().unwrap(), "--until", "5m", "--check"]);
    assert_eq!(code, 0, "{err}");
}

#[test]
fn params_lists_every_settable_key() {
    let Ran {
        code, stdout: out, ..
    } = run_replscope(&["sim", "--params"]);
    assert_eq!(code, 0);
    assert_eq!(out.lines().count(), replscope::sim::params().len());
    for key in [
        "repl-backlog-size",
        "workload.rate",
        "link.bandwidth",
        "repl-diskless-load",
    ] {
        assert!(out.lines().any(|l| l.starts_with(key)), "{key}");
    }
}

#[test]
fn advise_takes_a_byte_rate_and_diskless_and_speaks_json() {
    let Ran {
        code,
        stdout: out,
        stderr: err,
    } = run_replscope(&[
        "advise",
        "--bytes-per-sec",
        "10mb",
        "--dataset",
        "4gb",
        "--bandwidth",
        "125mb",
        "--diskless",
        "--outage",
        "30s",
        "--format",
        "json",
    ]);
    assert_eq!(code, 0, "{err}");
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    let a = &v["advice"];
    assert_eq!(
        a["stream_bytes_per_sec"].as_f64().unwrap(),
        10.0 * 1048576.0
    );
    // 10 MB/s x (30 s + 1 s) x 1.5 = 465 MB -> 512mb.
    assert_eq!(a["repl_backlog_size"].as_u64().unwrap(), 512 << 20);
    assert!(a["steps"]
        .as_array()
        .unwrap()
        .iter()
        .any(|s| s.as_str().unwrap().starts_with("diskless transfer")));
    assert!(
        a["obuf_hard"].as_u64().unwrap() >= a["repl_backlog_size"].as_u64().unwrap(),
        "7.0 floor"
    );
}
