//! `replscope compare` refuses what it cannot stage, with a message naming what and where,
//! before it starts any server.

#![cfg(not(target_arch = "wasm32"))]

mod support;
use support::run_replscope;

/// `replscope compare <args>`: exit code and stderr.
fn compare(args: &[&str]) -> (i32, String) {
    let r = run_replscope(&[&["compare"], args].concat());
    (r.code, r.stderr)
}

#[test]
fn unknown_preset_lists_the_compare_presets() {
    let (code, err) = compare(&["--preset", "no-such-thing"]);
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("no-such-thing"), "{err}");
    assert!(err.contains("compare-disk-sync-loop"), "{err}");
}

#[test]
fn unknown_server_kind_is_refused() {
    let (code, err) = compare(&["--preset", "compare-backlog-sized", "--against", "valkey"]);
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("valkey"), "{err}");
}

#[test]
fn faults_it_cannot_stage_are_refused_before_anything_starts() {
    let dir = std::env::temp_dir().join(format!("replscope-compare-cli-k-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let f = dir.join("kill-twice.toml");
    let scenario = "replicas = 2\nduration = \"30s\"\n\n[[faults]]\nat = \"5s\"\naction = \"kill-master\"\nreplica = 1\nevery = \"10s\"\n";
    std::fs::write(&f, scenario).unwrap();
    let (code, err) = compare(&[f.to_str().unwrap(), "--against", "replscope"]);
    let _ = std::fs::remove_dir_all(&dir);
    assert_eq!(code, 1, "{err}");
    assert!(err.contains("kill-master happens once"), "{err}");
    assert!(!err.contains("starting the master"), "{err}");
}

#[test]
fn list_names_the_suite() {
    let r = run_replscope(&["compare", "--list"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let names: Vec<&str> = r.stdout.lines().collect();
    assert!(names.len() >= 19, "{names:?}");
    assert!(names.contains(&"compare-failover-psync"), "{names:?}");
    assert!(names.contains(&"compare-restart-graceful"), "{names:?}");
}

#[test]
fn a_bad_scenario_file_names_the_file() {
    let dir = std::env::temp_dir().join(format!("replscope-compare-cli-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let f = dir.join("bad.toml");
    std::fs::write(&f, "replicas = \"lots\"\n").unwrap();
    let (code, err) = compare(&[f.to_str().unwrap()]);
    let _ = std::fs::remove_dir_all(&dir);
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("bad.toml"), "{err}");
}
