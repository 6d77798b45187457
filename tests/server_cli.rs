//! `replscope server` as a program: redis.conf files, `--name value` options, exit codes.

#![cfg(not(target_arch = "wasm32"))]

mod common;

use std::process::{Command, Stdio};
use std::time::Duration;

use common::*;

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
    let out = Command::new(env!("CARGO_BIN_EXE_replscope"))
        .args(["server", "--port", "0", "--repl-backlog-size", "lots"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("FATAL CONFIG FILE ERROR") && err.contains("repl-backlog-size"),
        "{err}"
    );
    let out = Command::new(env!("CARGO_BIN_EXE_replscope"))
        .args(["server", "/nonexistent/redis.conf"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("can't open config file"));
}
