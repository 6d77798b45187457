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

/// `replscope compare <args>` with `REPLSCOPE_SERVERS=<servers>`: exit code, stdout, stderr.
fn compare_with_servers(servers: &std::path::Path, args: &[&str]) -> (i32, String, String) {
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_replscope"))
        .arg("compare")
        .args(args)
        .env("REPLSCOPE_SERVERS", servers)
        .output()
        .expect("run replscope");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn a_setting_the_version_lacks_is_refused_by_name() {
    let (code, err) = compare(&[
        "--preset",
        "compare-dual-channel",
        "--against",
        "redis-6.2",
        "--dry-run",
    ]);
    assert_eq!(code, 3, "{err}");
    assert!(
        err.contains("Redis 6.2 has no `dual-channel-replication-enabled`"),
        "{err}"
    );
    let (code, err) = compare(&[
        "--preset",
        "compare-diskless-max-replicas",
        "--against",
        "redis-6.2",
        "--dry-run",
    ]);
    assert_eq!(code, 3, "{err}");
    assert!(err.contains("repl-diskless-sync-max-replicas"), "{err}");
}

#[test]
fn a_scenario_of_another_version_is_refused() {
    // The simulator preset pins redis-8.2.
    let (code, err) = compare(&[
        "--preset",
        "rdb-channel-fix",
        "--against",
        "valkey-9.1",
        "--dry-run",
    ]);
    assert_eq!(code, 3, "{err}");
    assert!(err.contains("plays Redis 8.2"), "{err}");
    // A file that pins the default version explicitly is refused too.
    let dir = std::env::temp_dir().join(format!("replscope-compare-cli-v-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let f = dir.join("pinned.toml");
    std::fs::write(
        &f,
        "version = \"redis-7.0\"\nreplicas = 1\nduration = \"20s\"\n",
    )
    .unwrap();
    let (code, err) = compare(&[f.to_str().unwrap(), "--against", "redis-8.2", "--dry-run"]);
    let _ = std::fs::remove_dir_all(&dir);
    assert_eq!(code, 2, "{err}");
    assert!(
        err.contains("pinned.toml") && err.contains("redis-7.0"),
        "{err}"
    );
}

#[test]
fn a_missing_server_names_the_setup_command() {
    let empty =
        std::env::temp_dir().join(format!("replscope-compare-cli-s-{}", std::process::id()));
    std::fs::create_dir_all(&empty).unwrap();
    let (code, _, err) = compare_with_servers(
        &empty,
        &[
            "--preset",
            "compare-backlog-sized",
            "--against",
            "valkey-9.1",
            "--dry-run",
        ],
    );
    let (which_code, _, which_err) =
        compare_with_servers(&empty, &["--against", "redis-8.2", "--which"]);
    let _ = std::fs::remove_dir_all(&empty);
    assert_eq!(code, 3, "{err}");
    assert!(
        err.contains("valkey-9.1") && err.contains("scripts/setup.sh test"),
        "{err}"
    );
    assert_eq!(which_code, 2, "{which_err}");
    assert!(which_err.contains("scripts/setup.sh test"), "{which_err}");
}

#[test]
fn an_installed_version_can_be_staged_and_is_the_simulators_too() {
    let servers = std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR")).join(".tools/servers");
    if !servers.join("redis-6.2/server").exists() {
        eprintln!("SKIPPED: .tools/servers/redis-6.2/server is missing (scripts/setup.sh test)");
        return;
    }
    let (code, out, err) = compare_with_servers(
        &servers,
        &[
            "--preset",
            "compare-backlog-sized",
            "--against",
            "redis-6.2",
            "--dry-run",
        ],
    );
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("(redis-6.2)"), "{out}");
    let (code, out, err) = compare_with_servers(&servers, &["--against", "redis-6.2", "--which"]);
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("v=6.2.14"), "{out}");
}
