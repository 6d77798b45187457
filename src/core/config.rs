//! Replication configuration by Redis names and units, with CONFIG GET/SET semantics.

use std::fmt;

use super::version::{BufferModel, FullSync, Version};

/// `client-output-buffer-limit <class> <hard> <soft> <seconds>`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct BufferLimit {
    pub hard: u64,
    pub soft: u64,
    pub soft_seconds: u64,
}

/// `repl-diskless-load`: stored and reported; the load itself is the driver's business.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DisklessLoad {
    Disabled,
    OnEmptyDb,
    Swapdb,
}

/// The configuration the core reads. Defaults are Redis 7.0.15's.
#[derive(Clone, Debug, PartialEq)]
pub struct Config {
    pub port: u16,
    pub repl_backlog_size: u64,
    pub repl_backlog_ttl: u64,
    pub client_output_buffer_limit_normal: BufferLimit,
    pub client_output_buffer_limit_replica: BufferLimit,
    pub client_output_buffer_limit_pubsub: BufferLimit,
    pub repl_diskless_sync: bool,
    pub repl_diskless_sync_delay: u64,
    pub repl_diskless_sync_max_replicas: u64,
    pub repl_diskless_load: DisklessLoad,
    pub repl_ping_replica_period: u64,
    pub repl_timeout: u64,
    pub repl_disable_tcp_nodelay: bool,
    pub masterauth: Option<String>,
    pub masteruser: Option<String>,
    pub requirepass: Option<String>,
    pub replica_announce_ip: Option<String>,
    pub replica_announce_port: u16,
    pub replica_priority: u64,
    pub replica_read_only: bool,
    pub replica_serve_stale_data: bool,
    pub replica_announced: bool,
    pub min_replicas_to_write: u64,
    pub min_replicas_max_lag: u64,
    /// `save` points; empty = no RDB snapshots configured (lets a useless disk child be killed).
    pub save: String,
    /// `replicaof <host> <port>` from the config file: start as a replica.
    pub replicaof: Option<(String, u16)>,
    /// Ours: `replication-model 6|7` (the buffer model; Redis has no such switch).
    pub replication_model: BufferModel,
    /// Valkey 8: `dual-channel-replication-enabled`.
    pub dual_channel_replication_enabled: bool,
    /// Ours: the server version this node plays (`version redis-8.2`). Setting it sets
    /// `replication-model` and the configs whose default differs from 7.0's.
    pub version: Version,
    /// Redis 8.2: `repl-rdb-channel` (hidden, default `yes` there).
    pub repl_rdb_channel: bool,
    /// Redis 8.2: `replica-full-sync-buffer-limit` (0 = the replica-class hard limit).
    pub replica_full_sync_buffer_limit: u64,
    /// `replica-lazy-flush` (Valkey's default is `yes`): stored and reported.
    pub replica_lazy_flush: bool,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            port: 6379,
            repl_backlog_size: 1024 * 1024,
            repl_backlog_ttl: 3600,
            client_output_buffer_limit_normal: BufferLimit {
                hard: 0,
                soft: 0,
                soft_seconds: 0,
            },
            client_output_buffer_limit_replica: BufferLimit {
                hard: 256 * 1024 * 1024,
                soft: 64 * 1024 * 1024,
                soft_seconds: 60,
            },
            client_output_buffer_limit_pubsub: BufferLimit {
                hard: 32 * 1024 * 1024,
                soft: 8 * 1024 * 1024,
                soft_seconds: 60,
            },
            repl_diskless_sync: true,
            repl_diskless_sync_delay: 5,
            repl_diskless_sync_max_replicas: 0,
            repl_diskless_load: DisklessLoad::Disabled,
            repl_ping_replica_period: 10,
            repl_timeout: 60,
            repl_disable_tcp_nodelay: false,
            masterauth: None,
            masteruser: None,
            requirepass: None,
            replica_announce_ip: None,
            replica_announce_port: 0,
            replica_priority: 100,
            replica_read_only: true,
            replica_serve_stale_data: true,
            replica_announced: true,
            min_replicas_to_write: 0,
            min_replicas_max_lag: 10,
            save: "3600 1 300 100 60 10000".to_string(),
            replicaof: None,
            replication_model: BufferModel::V7,
            dual_channel_replication_enabled: false,
            version: Version::Redis70,
            repl_rdb_channel: false,
            replica_full_sync_buffer_limit: 0,
            replica_lazy_flush: false,
        }
    }
}

/// A rejected configuration value, worded as Redis words it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ConfigError {
    /// `CONFIG SET` of a name we do not know.
    UnknownOption(String),
    /// A bad value: `name` and Redis's reason.
    BadValue { name: String, reason: String },
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ConfigError::UnknownOption(n) => {
                write!(
                    f,
                    "ERR Unknown option or number of arguments for CONFIG SET - '{n}'"
                )
            }
            ConfigError::BadValue { name, reason } => write!(
                f,
                "ERR CONFIG SET failed (possibly related to argument '{name}') - {reason}"
            ),
        }
    }
}

impl std::error::Error for ConfigError {}

/// Redis's `memtoull`: a number with an optional unit. `k`/`m`/`g` are powers of 1000,
/// `kb`/`mb`/`gb` powers of 1024, `b` is bytes; case-insensitive. `None` if malformed.
pub fn parse_memory(s: &str) -> Option<u64> {
    let t = s.trim();
    if t.is_empty() {
        return None;
    }
    let lower = t.to_ascii_lowercase();
    let split = lower
        .find(|c: char| !c.is_ascii_digit())
        .unwrap_or(lower.len());
    let (num, unit) = lower.split_at(split);
    if num.is_empty() {
        return None;
    }
    let mul: u64 = match unit {
        "" | "b" => 1,
        "k" => 1000,
        "kb" => 1024,
        "m" => 1000 * 1000,
        "mb" => 1024 * 1024,
        "g" => 1000 * 1000 * 1000,
        "gb" => 1024 * 1024 * 1024,
        _ => return None,
    };
    num.parse::<u64>().ok()?.checked_mul(mul)
}

fn parse_bool(name: &str, v: &str) -> Result<bool, ConfigError> {
    match v.to_ascii_lowercase().as_str() {
        "yes" => Ok(true),
        "no" => Ok(false),
        _ => Err(bad(name, "argument must be 'yes' or 'no'")),
    }
}

fn bad(name: &str, reason: &str) -> ConfigError {
    ConfigError::BadValue {
        name: name.to_string(),
        reason: reason.to_string(),
    }
}

fn parse_int(name: &str, v: &str, min: i64, max: i64) -> Result<u64, ConfigError> {
    let n: i64 = v
        .trim()
        .parse()
        .map_err(|_| bad(name, "argument couldn't be parsed into an integer"))?;
    if n < min || n > max {
        return Err(bad(
            name,
            &format!("argument must be between {min} and {max} inclusive"),
        ));
    }
    Ok(n as u64)
}

fn parse_mem_in(name: &str, v: &str, min: u64, max: u64) -> Result<u64, ConfigError> {
    let n = parse_memory(v).ok_or_else(|| bad(name, "argument must be a memory value"))?;
    if n < min || n > max {
        return Err(bad(
            name,
            &format!("argument must be between {min} and {max} inclusive"),
        ));
    }
    Ok(n)
}

/// `CONFIG_REPL_BACKLOG_MIN_SIZE`: CONFIG SET never leaves a smaller backlog (startup does).
pub const REPL_BACKLOG_MIN_SIZE: u64 = 16 * 1024;

/// Every name CONFIG GET knows, canonical spelling first (aliases are accepted by SET).
const NAMES: &[&str] = &[
    "port",
    "repl-backlog-size",
    "repl-backlog-ttl",
    "client-output-buffer-limit",
    "repl-diskless-sync",
    "repl-diskless-sync-delay",
    "repl-diskless-sync-max-replicas",
    "repl-diskless-load",
    "repl-ping-replica-period",
    "repl-timeout",
    "repl-disable-tcp-nodelay",
    "masterauth",
    "masteruser",
    "requirepass",
    "replica-announce-ip",
    "replica-announce-port",
    "replica-priority",
    "replica-read-only",
    "replica-serve-stale-data",
    "replica-announced",
    "min-replicas-to-write",
    "min-replicas-max-lag",
    "save",
    "replicaof",
    "replication-model",
    "dual-channel-replication-enabled",
    "version",
    "repl-rdb-channel",
    "replica-full-sync-buffer-limit",
    "replica-lazy-flush",
];

fn canonical(name: &str) -> String {
    let n = name.to_ascii_lowercase();
    match n.as_str() {
        "repl-ping-slave-period" => "repl-ping-replica-period".into(),
        "slave-announce-ip" => "replica-announce-ip".into(),
        "slave-announce-port" => "replica-announce-port".into(),
        "slave-priority" => "replica-priority".into(),
        "slave-read-only" => "replica-read-only".into(),
        "slave-serve-stale-data" => "replica-serve-stale-data".into(),
        "min-slaves-to-write" => "min-replicas-to-write".into(),
        "min-slaves-max-lag" => "min-replicas-max-lag".into(),
        "slaveof" => "replicaof".into(),
        _ => n,
    }
}

fn yn(b: bool) -> String {
    if b { "yes" } else { "no" }.to_string()
}

fn glob_match(pat: &[u8], s: &[u8]) -> bool {
    match (pat.first(), s.first()) {
        (None, None) => true,
        (Some(b'*'), _) => glob_match(&pat[1..], s) || (!s.is_empty() && glob_match(pat, &s[1..])),
        (Some(b'?'), Some(_)) => glob_match(&pat[1..], &s[1..]),
        (Some(p), Some(c)) if p.eq_ignore_ascii_case(c) => glob_match(&pat[1..], &s[1..]),
        _ => false,
    }
}

impl Config {
    /// Apply one `name value` pair as the config file / command line would: no CONFIG SET
    /// clamping (`--repl-backlog-size 100` really reads back 100).
    pub fn load_pair(&mut self, name: &str, value: &str) -> Result<(), ConfigError> {
        self.set_inner(name, value, false)
    }

    /// Apply `CONFIG SET name value`, with its runtime rules (backlog size clamped to 16384).
    pub fn set(&mut self, name: &str, value: &str) -> Result<(), ConfigError> {
        self.set_inner(name, value, true)
    }

    /// Build a config from `name value` pairs (a redis.conf body, one directive per line).
    pub fn from_conf_text(text: &str) -> Result<Config, ConfigError> {
        let mut c = Config::default();
        for line in text.lines() {
            let l = line.trim();
            if l.is_empty() || l.starts_with('#') {
                continue;
            }
            let (name, rest) = l.split_once(char::is_whitespace).unwrap_or((l, ""));
            let rest = rest.trim().trim_matches('"');
            c.load_pair(name, rest)?;
        }
        Ok(c)
    }

    fn set_inner(&mut self, name: &str, value: &str, runtime: bool) -> Result<(), ConfigError> {
        let n = canonical(name);
        let v = value;
        const IMAX: i64 = i32::MAX as i64;
        match n.as_str() {
            "port" => self.port = parse_int(&n, v, 0, 65535)? as u16,
            "repl-backlog-size" => {
                let size = parse_mem_in(&n, v, 1, i64::MAX as u64)?;
                // CONFIG SET applies CONFIG_REPL_BACKLOG_MIN_SIZE; the startup path does not.
                self.repl_backlog_size = if runtime {
                    size.max(REPL_BACKLOG_MIN_SIZE)
                } else {
                    size
                };
            }
            "repl-backlog-ttl" => self.repl_backlog_ttl = parse_int(&n, v, 0, i64::MAX)?,
            "client-output-buffer-limit" => self.set_cob(v)?,
            "repl-diskless-sync" => self.repl_diskless_sync = parse_bool(&n, v)?,
            "repl-diskless-sync-delay" => {
                self.repl_diskless_sync_delay = parse_int(&n, v, 0, IMAX)?
            }
            "repl-diskless-sync-max-replicas" => {
                self.repl_diskless_sync_max_replicas = parse_int(&n, v, 0, IMAX)?
            }
            "repl-diskless-load" => {
                self.repl_diskless_load = match v.to_ascii_lowercase().as_str() {
                    "disabled" => DisklessLoad::Disabled,
                    "on-empty-db" => DisklessLoad::OnEmptyDb,
                    "swapdb" => DisklessLoad::Swapdb,
                    _ => return Err(bad(
                        &n,
                        "argument(s) must be one of the following: disabled, on-empty-db, swapdb",
                    )),
                }
            }
            "repl-ping-replica-period" => {
                self.repl_ping_replica_period = parse_int(&n, v, 1, IMAX)?
            }
            "repl-timeout" => self.repl_timeout = parse_int(&n, v, 1, IMAX)?,
            "repl-disable-tcp-nodelay" => self.repl_disable_tcp_nodelay = parse_bool(&n, v)?,
            "masterauth" => self.masterauth = (!v.is_empty()).then(|| v.to_string()),
            "masteruser" => self.masteruser = (!v.is_empty()).then(|| v.to_string()),
            "requirepass" => self.requirepass = (!v.is_empty()).then(|| v.to_string()),
            "replica-announce-ip" => {
                self.replica_announce_ip = (!v.is_empty()).then(|| v.to_string())
            }
            "replica-announce-port" => {
                self.replica_announce_port = parse_int(&n, v, 0, 65535)? as u16
            }
            "replica-priority" => self.replica_priority = parse_int(&n, v, 0, IMAX)?,
            "replica-read-only" => self.replica_read_only = parse_bool(&n, v)?,
            "replica-serve-stale-data" => self.replica_serve_stale_data = parse_bool(&n, v)?,
            "replica-announced" => self.replica_announced = parse_bool(&n, v)?,
            "min-replicas-to-write" => self.min_replicas_to_write = parse_int(&n, v, 0, IMAX)?,
            "min-replicas-max-lag" => self.min_replicas_max_lag = parse_int(&n, v, 0, IMAX)?,
            "save" => self.save = v.trim().to_string(),
            "replicaof" => {
                if runtime {
                    // Redis: replicaof is not a runtime config; REPLICAOF is the command.
                    return Err(ConfigError::UnknownOption(n));
                }
                let mut it = v.split_whitespace();
                match (it.next(), it.next()) {
                    (Some(h), Some(p))
                        if h.eq_ignore_ascii_case("no") && p.eq_ignore_ascii_case("one") =>
                    {
                        self.replicaof = None
                    }
                    (Some(h), Some(p)) => {
                        let port = parse_int(&n, p, 0, 65535)? as u16;
                        self.replicaof = Some((h.to_string(), port));
                    }
                    _ => return Err(bad(&n, "wrong number of arguments")),
                }
            }
            "replication-model" => {
                self.replication_model = match v.trim() {
                    "6" | "6.x" | "6.2" => BufferModel::V6,
                    "7" | "7.0" => BufferModel::V7,
                    _ => return Err(bad(&n, "argument must be 6 or 7")),
                }
            }
            "dual-channel-replication-enabled" => {
                self.dual_channel_replication_enabled = parse_bool(&n, v)?
            }
            "version" => {
                let version = Version::parse(v).map_err(|m| bad(&n, &m))?;
                self.version = version;
                self.replication_model = version.buffers();
                for (name, value) in version.default_configs() {
                    self.set_inner(name, value, false)?;
                }
            }
            "repl-rdb-channel" => self.repl_rdb_channel = parse_bool(&n, v)?,
            "replica-full-sync-buffer-limit" => {
                self.replica_full_sync_buffer_limit = parse_mem_in(&n, v, 0, i64::MAX as u64)?
            }
            "replica-lazy-flush" => self.replica_lazy_flush = parse_bool(&n, v)?,
            _ => return Err(ConfigError::UnknownOption(name.to_string())),
        }
        Ok(())
    }

    /// `client-output-buffer-limit "<class> <hard> <soft> <secs> [<class> ...]"`.
    fn set_cob(&mut self, v: &str) -> Result<(), ConfigError> {
        let name = "client-output-buffer-limit";
        let words: Vec<&str> = v.split_whitespace().collect();
        if words.is_empty() || words.len() % 4 != 0 {
            return Err(bad(
                name,
                "Wrong number of arguments in buffer limit configuration.",
            ));
        }
        // Validate everything first: Redis applies all or nothing.
        let mut parsed = Vec::new();
        for w in words.chunks(4) {
            let class = match w[0].to_ascii_lowercase().as_str() {
                "normal" => 0,
                "replica" | "slave" => 1,
                "pubsub" => 2,
                _ => {
                    return Err(bad(
                        name,
                        "Invalid client class specified in buffer limit configuration.",
                    ))
                }
            };
            let hard = parse_memory(w[1]);
            let soft = parse_memory(w[2]);
            let secs = w[3].parse::<u64>().ok();
            match (hard, soft, secs) {
                (Some(hard), Some(soft), Some(soft_seconds)) => parsed.push((
                    class,
                    BufferLimit {
                        hard,
                        soft,
                        soft_seconds,
                    },
                )),
                _ => return Err(bad(
                    name,
                    "Error in hard, soft or soft_seconds setting in buffer limit configuration.",
                )),
            }
        }
        for (class, lim) in parsed {
            match class {
                0 => self.client_output_buffer_limit_normal = lim,
                1 => self.client_output_buffer_limit_replica = lim,
                _ => self.client_output_buffer_limit_pubsub = lim,
            }
        }
        Ok(())
    }

    /// The value CONFIG GET prints for a canonical name.
    pub fn get(&self, name: &str) -> Option<String> {
        let n = canonical(name);
        let lim = |l: &BufferLimit| format!("{} {} {}", l.hard, l.soft, l.soft_seconds);
        let opt = |o: &Option<String>| o.clone().unwrap_or_default();
        Some(match n.as_str() {
            "port" => self.port.to_string(),
            "repl-backlog-size" => self.repl_backlog_size.to_string(),
            "repl-backlog-ttl" => self.repl_backlog_ttl.to_string(),
            "client-output-buffer-limit" => format!(
                "normal {} slave {} pubsub {}",
                lim(&self.client_output_buffer_limit_normal),
                lim(&self.client_output_buffer_limit_replica),
                lim(&self.client_output_buffer_limit_pubsub)
            ),
            "repl-diskless-sync" => yn(self.repl_diskless_sync),
            "repl-diskless-sync-delay" => self.repl_diskless_sync_delay.to_string(),
            "repl-diskless-sync-max-replicas" => self.repl_diskless_sync_max_replicas.to_string(),
            "repl-diskless-load" => match self.repl_diskless_load {
                DisklessLoad::Disabled => "disabled",
                DisklessLoad::OnEmptyDb => "on-empty-db",
                DisklessLoad::Swapdb => "swapdb",
            }
            .to_string(),
            "repl-ping-replica-period" => self.repl_ping_replica_period.to_string(),
            "repl-timeout" => self.repl_timeout.to_string(),
            "repl-disable-tcp-nodelay" => yn(self.repl_disable_tcp_nodelay),
            "masterauth" => opt(&self.masterauth),
            "masteruser" => opt(&self.masteruser),
            "requirepass" => opt(&self.requirepass),
            "replica-announce-ip" => opt(&self.replica_announce_ip),
            "replica-announce-port" => self.replica_announce_port.to_string(),
            "replica-priority" => self.replica_priority.to_string(),
            "replica-read-only" => yn(self.replica_read_only),
            "replica-serve-stale-data" => yn(self.replica_serve_stale_data),
            "replica-announced" => yn(self.replica_announced),
            "min-replicas-to-write" => self.min_replicas_to_write.to_string(),
            "min-replicas-max-lag" => self.min_replicas_max_lag.to_string(),
            "save" => self.save.clone(),
            "replicaof" => match &self.replicaof {
                Some((h, p)) => format!("{h} {p}"),
                None => String::new(),
            },
            "replication-model" => self.replication_model.as_config_str().to_string(),
            "dual-channel-replication-enabled" => yn(self.dual_channel_replication_enabled),
            "version" => self.version.name().to_string(),
            "repl-rdb-channel" => yn(self.repl_rdb_channel),
            "replica-full-sync-buffer-limit" => self.replica_full_sync_buffer_limit.to_string(),
            "replica-lazy-flush" => yn(self.replica_lazy_flush),
            _ => return None,
        })
    }

    /// CONFIG GET with a glob pattern: `(name, value)` pairs in a stable order.
    pub fn get_matching(&self, pattern: &str) -> Vec<(String, String)> {
        let mut out = Vec::new();
        let direct = canonical(pattern);
        for name in NAMES {
            if glob_match(pattern.as_bytes(), name.as_bytes()) || *name == direct {
                if let Some(v) = self.get(name) {
                    out.push((name.to_string(), v));
                }
            }
        }
        out
    }

    /// The replica-class limit in force, after the version's adjustment (7.0 floors a
    /// non-zero hard limit at `repl-backlog-size`, see
    /// [`BufferModel::floors_hard_limit_at_backlog`]).
    pub fn effective_replica_limit(&self) -> BufferLimit {
        let mut l = self.client_output_buffer_limit_replica;
        if self.replication_model.floors_hard_limit_at_backlog()
            && l.hard != 0
            && l.hard < self.repl_backlog_size
        {
            l.hard = self.repl_backlog_size;
        }
        l
    }

    /// The second channel this node offers (replica) or accepts (master), if its version has
    /// one and its config turns it on: Redis 8.2's `repl-rdb-channel` (default `yes`),
    /// Valkey's `dual-channel-replication-enabled` (default `no`). A master uses it only when
    /// it also syncs diskless (`replconfCommand` @valkey 8.0.1; checked on 8.2).
    pub fn second_channel(&self) -> FullSync {
        match self.version.second_channel() {
            FullSync::RdbChannel if self.repl_rdb_channel => FullSync::RdbChannel,
            FullSync::DualChannel if self.dual_channel_replication_enabled => FullSync::DualChannel,
            _ => FullSync::Classic,
        }
    }

    /// The most the replica buffers locally during a second-channel sync before it stops
    /// reading the main connection: 8.2's `replica-full-sync-buffer-limit`, 0 meaning the
    /// replica's own replica-class hard limit; Valkey always uses that hard limit
    /// (`bufferReplData` @valkey 8.0.1). 0 = no limit.
    pub fn local_sync_buffer_limit(&self) -> u64 {
        match self.second_channel() {
            FullSync::RdbChannel if self.replica_full_sync_buffer_limit != 0 => {
                self.replica_full_sync_buffer_limit
            }
            _ => self.client_output_buffer_limit_replica.hard,
        }
    }

    /// Whether `save` points are configured (an RDB child serving only a vanished replica
    /// may then not be killed: its file is also a snapshot someone wants).
    pub fn has_save_points(&self) -> bool {
        !self.save.trim().is_empty() && self.save.trim() != "\"\""
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn memtoull_units() {
        assert_eq!(parse_memory("1k"), Some(1000));
        assert_eq!(parse_memory("1kb"), Some(1024));
        assert_eq!(parse_memory("1KB"), Some(1024));
        assert_eq!(parse_memory("256mb"), Some(268_435_456));
        assert_eq!(parse_memory("1gb"), Some(1_073_741_824));
        assert_eq!(parse_memory("1g"), Some(1_000_000_000));
        assert_eq!(parse_memory("100"), Some(100));
        assert_eq!(parse_memory("12xb"), None);
        assert_eq!(parse_memory("-1"), None);
        assert_eq!(parse_memory("mb"), None);
    }

    #[test]
    fn backlog_size_clamped_only_by_config_set() {
        let mut c = Config::default();
        c.load_pair("repl-backlog-size", "100").unwrap();
        assert_eq!(c.get("repl-backlog-size").unwrap(), "100");
        c.set("repl-backlog-size", "100").unwrap();
        assert_eq!(c.get("repl-backlog-size").unwrap(), "16384");
        c.set("repl-backlog-size", "1mb").unwrap();
        assert_eq!(c.repl_backlog_size, 1_048_576);
        let e = c.set("repl-backlog-size", "lots").unwrap_err();
        assert_eq!(
            e.to_string(),
            "ERR CONFIG SET failed (possibly related to argument 'repl-backlog-size') - argument must be a memory value"
        );
    }

    #[test]
    fn cob_set_get_and_errors() {
        let mut c = Config::default();
        assert_eq!(
            c.get("client-output-buffer-limit").unwrap(),
            "normal 0 0 0 slave 268435456 67108864 60 pubsub 33554432 8388608 60"
        );
        c.set("client-output-buffer-limit", "replica 2mb 1mb 3")
            .unwrap();
        assert_eq!(
            c.client_output_buffer_limit_replica,
            BufferLimit {
                hard: 2 << 20,
                soft: 1 << 20,
                soft_seconds: 3
            }
        );
        assert!(c
            .set("client-output-buffer-limit", "replica 1 2")
            .unwrap_err()
            .to_string()
            .contains("Wrong number of arguments"));
        assert!(c
            .set("client-output-buffer-limit", "bogus 1 2 3")
            .unwrap_err()
            .to_string()
            .contains("Invalid client class"));
        assert!(c
            .set("client-output-buffer-limit", "slave x 2 3")
            .unwrap_err()
            .to_string()
            .contains("hard, soft or soft_seconds"));
        // 7.0 floors the hard limit at the backlog size; 6.x does not.
        c.set("client-output-buffer-limit", "replica 100kb 0 0")
            .unwrap();
        assert_eq!(c.effective_replica_limit().hard, 1 << 20);
        c.set("replication-model", "6").unwrap();
        assert_eq!(c.effective_replica_limit().hard, 100 * 1024);
    }

    #[test]
    fn bools_ints_unknown_and_glob() {
        let mut c = Config::default();
        assert!(c
            .set("repl-diskless-sync", "maybe")
            .unwrap_err()
            .to_string()
            .ends_with("argument must be 'yes' or 'no'"));
        assert!(c
            .set("repl-timeout", "0")
            .unwrap_err()
            .to_string()
            .contains("between 1 and"));
        assert_eq!(
            c.set("nope", "1").unwrap_err().to_string(),
            "ERR Unknown option or number of arguments for CONFIG SET - 'nope'"
        );
        c.set("slave-priority", "5").unwrap();
        assert_eq!(c.replica_priority, 5);
        let got = c.get_matching("repl-backlog-*");
        assert_eq!(
            got,
            vec![
                ("repl-backlog-size".into(), "1048576".into()),
                ("repl-backlog-ttl".into(), "3600".into())
            ]
        );
        let c2 = Config::from_conf_text("repl-backlog-size 100\nreplicaof 127.0.0.1 7001\n# x\n")
            .unwrap();
        assert_eq!(c2.repl_backlog_size, 100);
        assert_eq!(c2.replicaof, Some(("127.0.0.1".into(), 7001)));
    }
}
