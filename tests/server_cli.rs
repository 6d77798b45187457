//! `replscope server` as a program: redis.conf files, `--name value` options, exit codes.

#![cfg(not(target_arch = "wasm32"))]

mod support;

use std::process::{Command, Stdio};
use std::time::Duration;

use support::*;

#[test]
fn server_subcommand_reads_a_redis_conf_and_shuts_down_cleanly() {
    if which("redis-cli").is_none() {
        eprintln!(
            "SKIP server_subcommand_reads_a_redis_conf_and_shuts_down_cleanly: redis-cli missing"
        );
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let port = free_port();
    let conf = dir.path().join("redis.conf");
    std::fs::write(
        &conf,
        format!(
            "# a redis.conf\nport {port}\nbind 127.0.0.1\nrequirepass \"s3cret\"\nsave \"\"\nrepl-backlog-size 2mb\ndir {}\n",
            dir.path().display()
        ),
    )
    .unwrap();
    let log = dir.path().join("log");
    let pidfile = dir.path().join("replscope.pid");
    let mut child = Command::new(env!("CARGO_BIN_EXE_replscope"))
        .arg("server")
        .arg(&conf)
        .args([
            "--logfile",
            &log.display().to_string(),
            "--repl-diskless-sync",
            "no",
        ])
        .stdout(Stdio::null())
        .spawn()
        .unwrap();
    wait_blocking(Duration::from_secs(10), || {
        cli(port, &["-a", "s3cret", "--no-auth-warning", "ping"]).trim() == "PONG"
    })
    .unwrap();
    assert_eq!(
        cli(port, &["ping"]).trim(),
        "NOAUTH Authentication required."
    );
    let got = cli(
        port,
        &[
            "-a",
            "s3cret",
            "--no-auth-warning",
            "config",
            "get",
            "repl-*",
        ],
    );
    assert!(got.contains("repl-backlog-size\n2097152"), "{got}");
    assert!(got.contains("repl-diskless-sync\nno"), "{got}");
    cli(port, &["-a", "s3cret", "--no-auth-warning", "shutdown"]);
    let status = child.wait().unwrap();
    assert!(status.success());
    assert!(!pidfile.exists(), "pid file removed at shutdown");
    let text = std::fs::read_to_string(&log).unwrap();
    assert!(text.contains("Ready to accept connections"), "{text}");
    assert!(
        text.contains("Redis is now ready to exit, bye bye..."),
        "{text}"
    );
}

#[test]
fn bad_config_exits_with_a_clear_error() {
    let r = run_replscope(&["server", "--port", "0", "--repl-backlog-size", "lots"]);
    assert_eq!(r.code, 1);
    assert!(
        r.stderr.contains("FATAL CONFIG FILE ERROR") && r.stderr.contains("repl-backlog-size"),
        "{}",
        r.stderr
    );
    let r = run_replscope(&["server", "/nonexistent/redis.conf"]);
    assert_eq!(r.code, 1);
    assert!(r.stderr.contains("can't open config file"));
}

/// The binary runs one event-loop thread (unlike the in-process tests): replication and the
/// BGSAVE threads must work there too.
#[test]
fn the_binary_replicates_to_a_real_replica() {
    if !have_real_redis("the_binary_replicates_to_a_real_replica") {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let port = free_port();
    let mut child = Command::new(env!("CARGO_BIN_EXE_replscope"))
        .args(["server", "--port", &port.to_string(), "--save", ""])
        .args(["--dir", &dir.path().display().to_string()])
        .args(["--logfile", &dir.path().join("log").display().to_string()])
        .args([
            "--repl-diskless-sync-delay",
            "0",
            "--enable-debug-command",
            "yes",
        ])
        .stdout(Stdio::null())
        .spawn()
        .unwrap();
    wait_blocking(Duration::from_secs(10), || {
        cli(port, &["ping"]).trim() == "PONG"
    })
    .unwrap();
    cli(port, &["debug", "populate", "5000"]);
    let real = RealRedis::replica_of(&dir.path().join("real"), port, &[]);
    for i in 0..100 {
        cli(port, &["incr", "c"]);
        if i == 50 {
            cli(port, &["client", "kill", "type", "replica"]);
        }
    }
    wait_blocking(Duration::from_secs(30), || {
        info_field(real.port, "replication", "master_link_status").as_deref() == Some("up")
            && info_field(real.port, "replication", "slave_repl_offset")
                == info_field(port, "replication", "master_repl_offset")
    })
    .unwrap();
    assert_eq!(cli(real.port, &["get", "c"]).trim(), "100");
    assert_eq!(dataset(real.port), dataset(port));
    cli(port, &["shutdown", "nosave"]);
    assert!(child.wait().unwrap().success());
}
