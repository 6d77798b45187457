//! Server options in redis.conf syntax: from a config file, from `--name value` arguments
//! (which redis-server turns into config lines the same way), and CONFIG GET/SET.
//!
//! Options about replication belong to the core's [`crate::core::Config`]; this file holds the
//! ones only a real server has (sockets, files, logging, test knobs).

use crate::wire::request::split_args;

/// Server-only options. Defaults are Redis 7.0.15's unless noted.
#[derive(Clone, Debug, PartialEq)]
pub struct ServerConfig {
    pub bind: Vec<String>,
    pub port: u16,
    pub dir: String,
    pub dbfilename: String,
    /// Empty: log to stdout.
    pub logfile: String,
    pub loglevel: String,
    pub databases: u32,
    pub requirepass: Option<String>,
    /// Microseconds slept per key by the RDB writer (Redis test knob `rdb-key-save-delay`).
    pub rdb_key_save_delay: u64,
    /// Microseconds slept per key while loading an RDB (Redis test knob `key-load-delay`).
    pub key_load_delay: u64,
    /// Ours: cap on bytes/s sent to each replica (0 = unlimited). Loopback has no useful
    /// bandwidth limit, and the incident a teacher wants to show needs a slow link.
    pub repl_bandwidth_limit: u64,
    /// Longest bulk a client may send (min 1mb, as in 7.0).
    pub proto_max_bulk_len: u64,
    /// Unparsed bytes a client may have buffered before it is closed (min 1mb).
    pub client_query_buffer_limit: u64,
    pub rdbcompression: bool,
    pub rdbchecksum: bool,
    /// `enable-debug-command`: `no` (7.0 default), `yes` or `local`. Immutable: set at start.
    pub enable_debug_command: String,
    /// `enable-protected-configs`: may CONFIG SET change `dir` and `dbfilename`? Immutable.
    pub enable_protected_configs: String,
    pub maxclients: u64,
    pub pidfile: String,
    /// Ours: port of the read-only HTTP/WebSocket live feed (0 = off).
    pub live_port: u16,
    pub live_bind: String,
    /// Ours: the pages (`Origin`s) allowed to read the live feed; trunk's by default.
    pub live_allow_origins: Vec<String>,
    /// Ours: live-feed connections served at once.
    pub live_max_clients: usize,
    /// Options not known here, forwarded to the replication core as (name, value) in order.
    pub core_lines: Vec<(String, String)>,
}

impl Default for ServerConfig {
    fn default() -> Self {
        ServerConfig {
            bind: vec!["127.0.0.1".into()],
            port: 6379,
            dir: ".".into(),
            dbfilename: "dump.rdb".into(),
            logfile: String::new(),
            loglevel: "notice".into(),
            databases: 16,
            requirepass: None,
            rdb_key_save_delay: 0,
            key_load_delay: 0,
            repl_bandwidth_limit: 0,
            proto_max_bulk_len: 512 * 1024 * 1024,
            client_query_buffer_limit: 1024 * 1024 * 1024,
            rdbcompression: true,
            rdbchecksum: true,
            enable_debug_command: "no".into(),
            enable_protected_configs: "no".into(),
            maxclients: 10000,
            pidfile: String::new(),
            live_port: 0,
            live_bind: "127.0.0.1".into(),
            live_allow_origins: vec![
                "http://127.0.0.1:8080".into(),
                "http://localhost:8080".into(),
            ],
            live_max_clients: 16,
            core_lines: Vec::new(),
        }
    }
}

/// Names this file owns, in CONFIG GET order.
pub const SERVER_NAMES: &[&str] = &[
    "bind",
    "port",
    "dir",
    "dbfilename",
    "logfile",
    "loglevel",
    "databases",
    "requirepass",
    "rdb-key-save-delay",
    "key-load-delay",
    "repl-bandwidth-limit",
    "proto-max-bulk-len",
    "client-query-buffer-limit",
    "rdbcompression",
    "rdbchecksum",
    "enable-debug-command",
    "enable-protected-configs",
    "maxclients",
    "pidfile",
    "appendonly",
    "daemonize",
    "live-port",
    "live-bind",
    "live-allow-origin",
    "live-max-clients",
];

/// Redis's `memtoull`: `k`/`m`/`g` are powers of 1000, `kb`/`mb`/`gb` of 1024.
pub fn parse_memory(s: &str) -> Option<u64> {
    let t = s.trim().to_ascii_lowercase();
    let split = t.find(|c: char| !c.is_ascii_digit()).unwrap_or(t.len());
    let (num, unit) = t.split_at(split);
    let n: u64 = num.parse().ok()?;
    let mul: u64 = match unit {
        "" | "b" => 1,
        "k" => 1000,
        "kb" => 1024,
        "m" => 1_000_000,
        "mb" => 1024 * 1024,
        "g" => 1_000_000_000,
        "gb" => 1024 * 1024 * 1024,
        _ => return None,
    };
    n.checked_mul(mul)
}

fn yes_no(name: &str, v: &str) -> Result<bool, String> {
    match v.to_ascii_lowercase().as_str() {
        "yes" => Ok(true),
        "no" => Ok(false),
        _ => Err(format!("'{name}' argument must be 'yes' or 'no'")),
    }
}

fn int(name: &str, v: &str) -> Result<u64, String> {
    v.parse::<u64>()
        .map_err(|_| format!("'{name}' argument couldn't be parsed into an integer"))
}

fn mem(name: &str, v: &str) -> Result<u64, String> {
    parse_memory(v).ok_or_else(|| format!("'{name}' argument must be a memory value"))
}

/// Redis's numeric config bounds and their error text.
fn bounded(n: u64, min: u64, max: u64) -> Result<u64, String> {
    if n < min || n > max {
        return Err(format!(
            "argument must be between {min} and {max} inclusive"
        ));
    }
    Ok(n)
}

/// What CONFIG SET may do with an option (config.c's `IMMUTABLE_CONFIG` and
/// `PROTECTED_CONFIG`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RuntimeRule {
    Modifiable,
    /// Only at start (`can't set immutable config`): the debug switch must not be turned on
    /// by whoever can reach the port, and what sockets and files are open stays.
    Immutable,
    /// Only when `enable-protected-configs` allows (`can't set protected config`): where the
    /// RDB is written is a way to write files anywhere the server can.
    Protected,
}

/// The CONFIG SET rule for a server option.
pub fn runtime_rule(name: &str) -> RuntimeRule {
    match name {
        "port"
        | "bind"
        | "databases"
        | "logfile"
        | "live-port"
        | "live-bind"
        | "live-allow-origin"
        | "live-max-clients"
        | "daemonize"
        | "pidfile"
        | "enable-debug-command"
        | "enable-protected-configs" => RuntimeRule::Immutable,
        "dir" | "dbfilename" => RuntimeRule::Protected,
        _ => RuntimeRule::Modifiable,
    }
}

fn yn(b: bool) -> String {
    if b { "yes" } else { "no" }.to_string()
}

impl ServerConfig {
    /// Applies one option. Returns `Ok(false)` when the name is not a server option (the
    /// caller forwards it to the core).
    pub fn apply(&mut self, name: &str, values: &[String]) -> Result<bool, String> {
        let name = name.to_ascii_lowercase();
        let v = values.join(" ");
        match name.as_str() {
            "bind" => {
                if values.is_empty() {
                    return Err("'bind' needs at least one address".into());
                }
                self.bind = values.to_vec();
            }
            "port" => {
                let p = int(&name, &v)?;
                self.port = u16::try_from(p).map_err(|_| "Invalid port".to_string())?;
                // The core reports the port too (INFO, ROLE).
                return Ok(false);
            }
            "dir" => self.dir = v,
            "dbfilename" => self.dbfilename = v,
            "logfile" => self.logfile = v,
            "loglevel" => {
                let l = v.to_ascii_lowercase();
                if !["debug", "verbose", "notice", "warning"].contains(&l.as_str()) {
                    return Err("argument(s) must be one of the following: debug, verbose, notice, warning, nothing".into());
                }
                self.loglevel = l;
            }
            "databases" => {
                let n = int(&name, &v)?;
                if !(1..=1_000_000).contains(&n) {
                    return Err("argument must be between 1 and 1000000 inclusive".into());
                }
                self.databases = n as u32;
            }
            "requirepass" => {
                self.requirepass = (!v.is_empty()).then_some(v);
                return Ok(false);
            }
            "rdb-key-save-delay" => self.rdb_key_save_delay = int(&name, &v)?,
            "key-load-delay" => self.key_load_delay = int(&name, &v)?,
            "repl-bandwidth-limit" => self.repl_bandwidth_limit = mem(&name, &v)?,
            // Below 1mb every ordinary client would be locked out (createLongLongConfig's
            // bounds in config.c).
            "proto-max-bulk-len" => {
                self.proto_max_bulk_len = bounded(mem(&name, &v)?, 1 << 20, i64::MAX as u64)?
            }
            "client-query-buffer-limit" => {
                self.client_query_buffer_limit = bounded(mem(&name, &v)?, 1 << 20, i64::MAX as u64)?
            }
            "rdbcompression" => self.rdbcompression = yes_no(&name, &v)?,
            "rdbchecksum" => self.rdbchecksum = yes_no(&name, &v)?,
            "enable-debug-command" => {
                let l = v.to_ascii_lowercase();
                if !["yes", "no", "local"].contains(&l.as_str()) {
                    return Err("argument(s) must be one of the following: no, yes, local".into());
                }
                self.enable_debug_command = l;
            }
            "enable-protected-configs" => {
                let l = v.to_ascii_lowercase();
                if !["yes", "no", "local"].contains(&l.as_str()) {
                    return Err("argument(s) must be one of the following: no, yes, local".into());
                }
                self.enable_protected_configs = l;
            }
            "maxclients" => self.maxclients = bounded(int(&name, &v)?, 1, u32::MAX as u64)?,
            "pidfile" => self.pidfile = v,
            "appendonly" => {
                if yes_no(&name, &v)? {
                    return Err("appendonly yes is not supported by this server".into());
                }
            }
            "daemonize" => {
                if yes_no(&name, &v)? {
                    return Err("daemonize yes is not supported; run it under your shell or service manager".into());
                }
            }
            "live-port" => self.live_port = int(&name, &v)? as u16,
            "live-bind" => self.live_bind = v,
            "live-allow-origin" => {
                // Space-separated origins, each `scheme://host[:port]` as browsers send it.
                let list: Vec<String> = values
                    .iter()
                    .flat_map(|x| x.split_whitespace())
                    .map(|o| o.trim_end_matches('/').to_string())
                    .collect();
                if list.iter().any(|o| !o.contains("://")) {
                    return Err("argument must be origins such as http://127.0.0.1:8080".into());
                }
                self.live_allow_origins = list;
            }
            "live-max-clients" => {
                self.live_max_clients = bounded(int(&name, &v)?, 1, 10_000)? as usize
            }
            _ => return Ok(false),
        }
        Ok(true)
    }

    /// CONFIG GET value of a server option.
    pub fn get(&self, name: &str) -> Option<String> {
        Some(match name {
            "bind" => self.bind.join(" "),
            "port" => self.port.to_string(),
            "dir" => self.dir.clone(),
            "dbfilename" => self.dbfilename.clone(),
            "logfile" => self.logfile.clone(),
            "loglevel" => self.loglevel.clone(),
            "databases" => self.databases.to_string(),
            "requirepass" => self.requirepass.clone().unwrap_or_default(),
            "rdb-key-save-delay" => self.rdb_key_save_delay.to_string(),
            "key-load-delay" => self.key_load_delay.to_string(),
            "repl-bandwidth-limit" => self.repl_bandwidth_limit.to_string(),
            "proto-max-bulk-len" => self.proto_max_bulk_len.to_string(),
            "client-query-buffer-limit" => self.client_query_buffer_limit.to_string(),
            "rdbcompression" => yn(self.rdbcompression),
            "rdbchecksum" => yn(self.rdbchecksum),
            "enable-debug-command" => self.enable_debug_command.clone(),
            "enable-protected-configs" => self.enable_protected_configs.clone(),
            "maxclients" => self.maxclients.to_string(),
            "pidfile" => self.pidfile.clone(),
            "appendonly" => "no".into(),
            "daemonize" => "no".into(),
            "live-port" => self.live_port.to_string(),
            "live-bind" => self.live_bind.clone(),
            "live-allow-origin" => self.live_allow_origins.join(" "),
            "live-max-clients" => self.live_max_clients.to_string(),
            _ => return None,
        })
    }
}

/// Builds the configuration from redis-server style arguments (`[file] --name value ...`).
pub fn config_from_args(args: &[String]) -> Result<ServerConfig, String> {
    let text = args_to_conf_text(args)?;
    let mut cfg = ServerConfig::default();
    for line in parse_conf_text(&text)? {
        match cfg.apply(&line.name, &line.values) {
            Ok(true) => {}
            Ok(false) => cfg.core_lines.push((line.name.clone(), line.values.join(" "))),
            Err(e) => {
                return Err(format!(
                    "*** FATAL CONFIG FILE ERROR (Redis 7.0.15) ***\nReading the configuration file, at line {}\n>>> '{} {}'\n{e}",
                    line.line_no,
                    line.name,
                    line.values.join(" ")
                ))
            }
        }
    }
    Ok(cfg)
}

/// A config line: `name value...`, split like redis.conf (quotes allowed).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ConfLine {
    pub line_no: usize,
    pub name: String,
    pub values: Vec<String>,
}

/// Parses redis.conf text. Errors name the line, as Redis's "Bad directive or wrong number of
/// arguments" report does.
pub fn parse_conf_text(text: &str) -> Result<Vec<ConfLine>, String> {
    let mut out = Vec::new();
    for (i, raw) in text.lines().enumerate() {
        let line = raw.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let args = split_args(line.as_bytes())
            .ok_or_else(|| format!("line {}: unbalanced quotes in configuration line", i + 1))?;
        let mut it = args
            .into_iter()
            .map(|a| String::from_utf8_lossy(&a).into_owned());
        let Some(name) = it.next() else { continue };
        out.push(ConfLine {
            line_no: i + 1,
            name: name.to_ascii_lowercase(),
            values: it.collect(),
        });
    }
    Ok(out)
}

/// Turns `[file] --name v1 v2 --other v` into config text, the way redis-server does: the
/// file's contents first, then one line per `--name`.
pub fn args_to_conf_text(args: &[String]) -> Result<String, String> {
    let mut text = String::new();
    let mut rest = args;
    if let Some(first) = args.first() {
        if !first.starts_with("--") {
            text = std::fs::read_to_string(first)
                .map_err(|e| format!("Fatal error, can't open config file '{first}': {e}"))?;
            text.push('\n');
            rest = &args[1..];
        }
    }
    let mut line = String::new();
    for a in rest {
        if let Some(name) = a.strip_prefix("--") {
            if !line.is_empty() {
                text.push_str(&line);
                text.push('\n');
            }
            line = name.to_string();
        } else {
            if line.is_empty() {
                return Err(format!(
                    "argument '{a}' does not follow an option name (--name value)"
                ));
            }
            line.push(' ');
            // Quote so values with spaces (`--save ""`) survive the re-split.
            line.push('"');
            line.push_str(&a.replace('\\', "\\\\").replace('"', "\\\""));
            line.push('"');
        }
    }
    if !line.is_empty() {
        text.push_str(&line);
        text.push('\n');
    }
    Ok(text)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn memory_units_as_redis() {
        assert_eq!(parse_memory("1mb"), Some(1024 * 1024));
        assert_eq!(parse_memory("1m"), Some(1_000_000));
        assert_eq!(parse_memory("10"), Some(10));
        assert_eq!(parse_memory("1xb"), None);
    }

    #[test]
    fn args_become_conf_lines() {
        let args: Vec<String> = [
            "--port",
            "6380",
            "--replicaof",
            "127.0.0.1",
            "6379",
            "--save",
            "",
        ]
        .iter()
        .map(|s| s.to_string())
        .collect();
        let text = args_to_conf_text(&args).unwrap();
        let lines = parse_conf_text(&text).unwrap();
        assert_eq!(lines.len(), 3);
        assert_eq!(lines[1].values, vec!["127.0.0.1", "6379"]);
        assert_eq!(lines[2].values, vec![""]);
        assert!(args_to_conf_text(&["--port".into(), "1".into()]).is_ok());
        assert!(args_to_conf_text(&["/nonexistent/redis.conf".into()]).is_err());
    }

    #[test]
    fn apply_validates() {
        let mut c = ServerConfig::default();
        assert_eq!(c.apply("rdb-key-save-delay", &["20".into()]), Ok(true));
        assert_eq!(c.rdb_key_save_delay, 20);
        assert!(c.apply("rdbcompression", &["maybe".into()]).is_err());
        assert_eq!(c.apply("repl-backlog-size", &["1mb".into()]), Ok(false));
        assert_eq!(c.apply("repl-bandwidth-limit", &["1mb".into()]), Ok(true));
        assert_eq!(c.repl_bandwidth_limit, 1024 * 1024);
    }
}
