//! A scenario: everything a simulated replication setup is made of, as data a user can write in
//! TOML (and the web app can edit with sliders). Every number has a unit and a default; the
//! `[redis]` table holds the Redis configs the core understands, under their Redis names.
//!
//! `params()` lists every settable key once (name, unit, range, default, help) and is the single
//! source for `Scenario::set`/`get`, `replscope sim --set` and the web's sliders.

use super::serde_units as su;
use super::units;
use crate::core::version::Version;
use serde::{Deserialize, Serialize};
use std::fmt;

/// A whole scenario. `Default` is a healthy setup: one replica, modest writes, Redis defaults.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Scenario {
    /// Short name (presets: the preset name).
    pub name: String,
    /// One-line title.
    pub title: String,
    /// The expected outcome, one sentence.
    pub expect: String,
    /// What to watch and why (2-4 sentences).
    pub explanation: String,
    /// The Redis or Valkey version every node plays (`redis-7.0` by default). Fields of
    /// `[redis]` left out of a file take that version's defaults.
    pub version: Version,
    /// Number of replicas, 1..=8.
    #[serde(with = "su::count")]
    pub replicas: u64,
    /// How long `replscope sim` runs when no `--until` is given.
    #[serde(with = "su::millis")]
    pub duration: u64,
    /// Granularity of the bulk flows (workload chunks, link batches, child and load progress).
    #[serde(with = "su::millis")]
    pub tick: u64,
    pub dataset: Dataset,
    pub workload: Workload,
    pub link: Link,
    pub disk: Disk,
    pub fork: Fork,
    pub replica: ReplicaModel,
    pub redis: RedisConfig,
    /// Per-replica link overrides.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub links: Vec<LinkOverride>,
    /// Faults on a schedule.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub faults: Vec<Fault>,
    /// Which version-dependent `[redis]` fields the file or a `set` gave (the others follow
    /// `version`). Bookkeeping, not content: not written out, not compared.
    #[serde(skip)]
    pub given: GivenFields,
    /// Machine-checkable form of `expect`: summary path -> comparison, e.g.
    /// `"replica1.full_syncs" = ">= 3"`. Checked by the preset tests.
    pub check: std::collections::BTreeMap<String, String>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default, rename_all = "kebab-case")]
pub struct Dataset {
    /// Size of the RDB the master produces (and of the dataset in memory, for CoW).
    #[serde(with = "su::bytes")]
    pub size: u64,
    /// Number of keys (for the loader's log line and the default key length).
    #[serde(with = "su::count")]
    pub keys: u64,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default, rename_all = "kebab-case")]
pub struct Workload {
    /// Writes per second (SET commands) outside scheduled phases.
    #[serde(with = "su::rate")]
    pub rate: f64,
    /// Value size of each SET.
    #[serde(with = "su::bytes")]
    pub value_size: u64,
    /// Key length in bytes.
    #[serde(with = "su::bytes")]
    pub key_size: u64,
    /// Random variation of the rate per tick, 0.0..=1.0 (seeded).
    pub jitter: f64,
    /// Bursts and quiet periods.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub phases: Vec<Phase>,
}

/// A period with another write rate: `[[workload.phases]] at = "60s" for = "30s" rate = "0"`,
/// repeating every `every` if given.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Phase {
    #[serde(with = "su::millis")]
    pub at: u64,
    #[serde(rename = "for", with = "su::millis")]
    pub for_ms: u64,
    #[serde(with = "su::rate")]
    pub rate: f64,
    #[serde(
        default,
        with = "su::opt_millis",
        skip_serializing_if = "Option::is_none"
    )]
    pub every: Option<u64>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default, rename_all = "kebab-case")]
pub struct Link {
    /// Bytes per second, each direction.
    #[serde(with = "su::bytes")]
    pub bandwidth: u64,
    /// One-way latency.
    #[serde(with = "su::millis")]
    pub latency: u64,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LinkOverride {
    /// 1-based replica number.
    pub replica: u64,
    #[serde(
        default,
        with = "su::opt_bytes",
        skip_serializing_if = "Option::is_none"
    )]
    pub bandwidth: Option<u64>,
    #[serde(
        default,
        with = "su::opt_millis",
        skip_serializing_if = "Option::is_none"
    )]
    pub latency: Option<u64>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default, rename_all = "kebab-case")]
pub struct Disk {
    /// Sequential write speed (master RDB file, replica temp file).
    #[serde(with = "su::bytes")]
    pub write_speed: u64,
    /// Sequential read speed (master sending the RDB file).
    #[serde(with = "su::bytes")]
    pub read_speed: u64,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default, rename_all = "kebab-case")]
pub struct Fork {
    /// Time the parent is paused by fork(), per GB of dataset.
    #[serde(with = "su::millis")]
    pub time_per_gb: u64,
    /// How fast the child serialises the dataset into RDB format (CPU bound), bytes/s.
    #[serde(with = "su::bytes")]
    pub rdb_speed: u64,
    /// Memory page size: each write during a BGSAVE copies at most one page.
    #[serde(with = "su::bytes")]
    pub page_size: u64,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default, rename_all = "kebab-case")]
pub struct ReplicaModel {
    /// How fast a replica loads an RDB into memory, bytes/s.
    #[serde(with = "su::bytes")]
    pub load_speed: u64,
    /// Time a restarted replica process needs before it connects again.
    #[serde(with = "su::millis")]
    pub restart_time: u64,
}

/// The Redis configs the simulation passes to the core, by their Redis names.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default, rename_all = "kebab-case")]
pub struct RedisConfig {
    #[serde(with = "su::bytes")]
    pub repl_backlog_size: u64,
    #[serde(with = "su::seconds")]
    pub repl_backlog_ttl: u64,
    /// `client-output-buffer-limit` for the replica class: `"256mb 64mb 60"` (a leading
    /// `replica`/`slave` is accepted).
    pub client_output_buffer_limit: ObufLimit,
    #[serde(with = "su::yes_no")]
    pub repl_diskless_sync: bool,
    #[serde(with = "su::seconds")]
    pub repl_diskless_sync_delay: u64,
    #[serde(with = "su::count")]
    pub repl_diskless_sync_max_replicas: u64,
    pub repl_diskless_load: DisklessLoad,
    #[serde(with = "su::seconds")]
    pub repl_timeout: u64,
    #[serde(with = "su::seconds")]
    pub repl_ping_replica_period: u64,
    /// Valkey 8's separate RDB channel (`dual-channel-replication-enabled`), on master and
    /// replicas alike.
    #[serde(with = "su::yes_no")]
    pub dual_channel_replication_enabled: bool,
    /// `save` points; `""` = no snapshots, which lets Redis kill a disk BGSAVE nobody waits for.
    pub save: String,
    /// Ours, not Redis's: `7` = 7.0 shared replication buffer, `6` = 6.x ring backlog plus a
    /// private buffer per replica. Follows `version` unless set.
    pub replication_model: u8,
    /// Redis 8.2's `replica-full-sync-buffer-limit`: what a replica buffers during an RDB
    /// channel sync before it stops reading (0 = its replica-class hard limit).
    #[serde(with = "su::bytes")]
    pub replica_full_sync_buffer_limit: u64,
    /// Any other config the core understands (`[redis.other]`, e.g. `requirepass`,
    /// `masterauth`, `repl-disable-tcp-nodelay`), validated by the core's own parser and given
    /// to every node.
    #[serde(skip_serializing_if = "std::collections::BTreeMap::is_empty")]
    pub other: std::collections::BTreeMap<String, String>,
}

/// `client-output-buffer-limit replica <hard> <soft> <soft-seconds>`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ObufLimit {
    pub hard: u64,
    pub soft: u64,
    pub soft_seconds: u64,
}

impl ObufLimit {
    pub fn parse(text: &str) -> Result<ObufLimit, String> {
        let mut parts: Vec<&str> = text.split_whitespace().collect();
        if matches!(parts.first(), Some(&"replica") | Some(&"slave")) {
            parts.remove(0);
        }
        if parts.len() != 3 {
            return Err(format!(
                "`{text}` is not a replica limit: write \"<hard> <soft> <soft-seconds>\", e.g. \"256mb 64mb 60\""
            ));
        }
        Ok(ObufLimit {
            hard: units::parse_bytes(parts[0])?,
            soft: units::parse_bytes(parts[1])?,
            soft_seconds: su::seconds::parse(parts[2])?,
        })
    }
}

impl fmt::Display for ObufLimit {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} {} {}",
            units::format_bytes(self.hard),
            units::format_bytes(self.soft),
            self.soft_seconds
        )
    }
}

impl Serialize for ObufLimit {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.to_string())
    }
}

impl<'de> Deserialize<'de> for ObufLimit {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        ObufLimit::parse(&s).map_err(serde::de::Error::custom)
    }
}

/// `repl-diskless-load`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum DisklessLoad {
    Disabled,
    OnEmptyDb,
    Swapdb,
}

impl DisklessLoad {
    pub const NAMES: [&'static str; 3] = ["disabled", "on-empty-db", "swapdb"];
    pub fn as_str(self) -> &'static str {
        match self {
            DisklessLoad::Disabled => "disabled",
            DisklessLoad::OnEmptyDb => "on-empty-db",
            DisklessLoad::Swapdb => "swapdb",
        }
    }
    pub fn parse(t: &str) -> Result<DisklessLoad, String> {
        match t.trim().to_ascii_lowercase().as_str() {
            "disabled" => Ok(DisklessLoad::Disabled),
            "on-empty-db" => Ok(DisklessLoad::OnEmptyDb),
            "swapdb" => Ok(DisklessLoad::Swapdb),
            _ => Err(format!(
                "`{t}` is not a repl-diskless-load mode: use one of {}",
                Self::NAMES.join(", ")
            )),
        }
    }
}

/// A fault on a schedule: `[[faults]] at = "30s" action = "cut-link" replica = 1 for = "10s"`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Fault {
    #[serde(with = "su::millis")]
    pub at: u64,
    pub action: FaultAction,
    /// 1-based replica the fault concerns (for kill-master: the replica promoted).
    #[serde(default = "one")]
    pub replica: u64,
    /// How long a cut lasts.
    #[serde(rename = "for", default, with = "su::millis")]
    pub for_ms: u64,
    /// Repeat the fault at this period.
    #[serde(
        default,
        with = "su::opt_millis",
        skip_serializing_if = "Option::is_none"
    )]
    pub every: Option<u64>,
    /// restart-replica only: a clean shutdown (the replica saves an RDB carrying its replication
    /// ID and offset, and loads it at boot) instead of a crash.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub graceful: bool,
}

fn one() -> u64 {
    1
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum FaultAction {
    /// Both directions of the replica's link drop everything for `for`; the TCP connection
    /// breaks when the cut starts (as a killed connection would), reconnects fail until it ends.
    CutLink,
    /// The replica process restarts. A crash loses everything it knew about its master
    /// (`PSYNC ? -1`, a full sync); with `graceful = true` it first saves an RDB with its
    /// replication ID and offset (Redis 4.0+), loads it at boot and can resume with a PSYNC.
    RestartReplica,
    /// The master dies; `replica` is promoted (`REPLICAOF NO ONE`), the others follow it.
    KillMaster,
}

impl Default for Scenario {
    fn default() -> Self {
        Scenario {
            name: "custom".into(),
            version: Version::default(),
            title: String::new(),
            expect: String::new(),
            explanation: String::new(),
            replicas: 1,
            duration: 300_000,
            tick: 100,
            dataset: Dataset::default(),
            workload: Workload::default(),
            link: Link::default(),
            disk: Disk::default(),
            fork: Fork::default(),
            replica: ReplicaModel::default(),
            redis: RedisConfig::default(),
            links: Vec::new(),
            faults: Vec::new(),
            check: Default::default(),
            given: GivenFields::default(),
        }
    }
}

impl Default for Dataset {
    fn default() -> Self {
        Dataset {
            size: 1 << 30,
            keys: 1_000_000,
        }
    }
}

impl Default for Workload {
    fn default() -> Self {
        Workload {
            rate: 1000.0,
            value_size: 100,
            key_size: 16,
            jitter: 0.1,
            phases: Vec::new(),
        }
    }
}

impl Workload {
    /// The write rate in force at `t` ms: a scheduled phase's (the first that covers `t`),
    /// or the base rate. The simulator and `compare`'s write load both read it here.
    pub fn rate_at(&self, t: u64) -> f64 {
        for p in &self.phases {
            if t < p.at {
                continue;
            }
            let into = match p.every {
                Some(e) if e > 0 => (t - p.at) % e,
                _ => t - p.at,
            };
            if into < p.for_ms {
                return p.rate;
            }
        }
        self.rate
    }
}

impl Default for Link {
    fn default() -> Self {
        Link {
            bandwidth: 100 << 20,
            latency: 1,
        }
    }
}

impl Default for Disk {
    fn default() -> Self {
        Disk {
            write_speed: 200 << 20,
            read_speed: 400 << 20,
        }
    }
}

impl Default for Fork {
    fn default() -> Self {
        Fork {
            time_per_gb: 15,
            rdb_speed: 300 << 20,
            page_size: 4096,
        }
    }
}

impl Default for ReplicaModel {
    fn default() -> Self {
        ReplicaModel {
            load_speed: 150 << 20,
            restart_time: 2000,
        }
    }
}

impl Default for RedisConfig {
    /// Redis 7.0.15's defaults (its `config.c` table and redis.conf).
    fn default() -> Self {
        RedisConfig {
            repl_backlog_size: 1 << 20,
            repl_backlog_ttl: 3600,
            client_output_buffer_limit: ObufLimit {
                hard: 256 << 20,
                soft: 64 << 20,
                soft_seconds: 60,
            },
            repl_diskless_sync: true,
            repl_diskless_sync_delay: 5,
            repl_diskless_sync_max_replicas: 0,
            repl_diskless_load: DisklessLoad::Disabled,
            repl_timeout: 60,
            repl_ping_replica_period: 10,
            dual_channel_replication_enabled: false,
            save: "3600 1 300 100 60 10000".into(),
            replication_model: 7,
            replica_full_sync_buffer_limit: 0,
            other: Default::default(),
        }
    }
}

/// Why a scenario file, a `--set` or a value was rejected: the line (for files) and the field.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ScenarioError {
    /// 1-based line in the TOML text, when the error comes from a file.
    pub line: Option<usize>,
    /// Dotted field name, e.g. `workload.rate` or `redis.repl-backlog-size`.
    pub field: Option<String>,
    pub message: String,
}

impl fmt::Display for ScenarioError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match (&self.line, &self.field) {
            (Some(l), Some(k)) => write!(f, "line {l}, field `{k}`: {}", self.message),
            (Some(l), None) => write!(f, "line {l}: {}", self.message),
            (None, Some(k)) => write!(f, "field `{k}`: {}", self.message),
            (None, None) => write!(f, "{}", self.message),
        }
    }
}

impl std::error::Error for ScenarioError {}

impl ScenarioError {
    fn field(field: &str, message: impl Into<String>) -> Self {
        ScenarioError {
            line: None,
            field: Some(field.to_string()),
            message: message.into(),
        }
    }
}

impl Scenario {
    /// Parses a scenario file. Errors name the line and the dotted field.
    #[cfg(not(target_arch = "wasm32"))]
    pub fn from_toml(text: &str) -> Result<Scenario, ScenarioError> {
        let mut s: Scenario = toml::from_str(text).map_err(|e| toml_error(text, &e))?;
        let table: toml::Table = toml::from_str(text).map_err(|e| toml_error(text, &e))?;
        let redis = table.get("redis").and_then(|r| r.as_table());
        s.take_version_defaults(|name| redis.is_some_and(|r| r.contains_key(name)));
        s.validate().map_err(|mut e| {
            if let Some(f) = &e.field {
                e.line = find_field_line(text, f);
            }
            e
        })?;
        Ok(s)
    }

    /// Parses a scenario in JSON (the web build's presets, converted from their TOML files by
    /// build.rs so the page needs no TOML parser).
    pub fn from_json(text: &str) -> Result<Scenario, ScenarioError> {
        let json_error = |e: crate::json::JsonError| ScenarioError {
            line: e.line,
            field: None,
            message: e.message,
        };
        let doc = crate::json::parse(text).map_err(json_error)?;
        let mut s: Scenario = doc.read().map_err(json_error)?;
        s.take_version_defaults(|name| doc.has_key("redis", name));
        s.validate()?;
        Ok(s)
    }

    /// Writes the scenario back as TOML that `from_toml` reads again unchanged.
    #[cfg(not(target_arch = "wasm32"))]
    pub fn to_toml(&self) -> String {
        // Serialising plain data to a TOML string cannot fail for this type (no maps with
        // non-string keys, no bare top-level values); fall back to JSON-ish text if it ever does.
        toml::to_string(self).unwrap_or_else(|e| format!("# could not render scenario: {e}\n"))
    }

    /// Sets one field by its `params()` name or its Redis config name
    /// (`workload.rate=100k`, `repl-diskless-sync=yes`, `links.2.bandwidth=10mb`).
    pub fn set(&mut self, key: &str, value: &str) -> Result<(), ScenarioError> {
        let key = key.trim();
        let norm = key.strip_prefix("redis.").unwrap_or(key);
        if let Some(rest) = norm.strip_prefix("links.") {
            return self.set_link_override(key, rest, value);
        }
        if norm == "client-output-buffer-limit" {
            let v = ObufLimit::parse(value).map_err(|m| ScenarioError::field(key, m))?;
            self.redis.client_output_buffer_limit = v;
            return self.validate();
        }
        if !PARAMS.iter().any(|p| p.name == key || p.name == norm) {
            // Not one of ours: any other config the core knows goes to `[redis.other]`.
            let norm = norm.strip_prefix("other.").unwrap_or(norm);
            let mut probe = crate::core::Config::default();
            match probe.load_pair(norm, value) {
                Ok(()) if !RESERVED.contains(&norm) => {
                    self.redis.other.insert(norm.to_string(), value.to_string());
                    return Ok(());
                }
                Err(crate::core::ConfigError::BadValue { reason, .. }) => {
                    return Err(ScenarioError::field(key, reason));
                }
                _ => {}
            }
        }
        let spec = PARAMS
            .iter()
            .find(|p| p.name == key || p.name == norm)
            .ok_or_else(|| {
                let names: Vec<&str> = PARAMS.iter().map(|p| p.name).collect();
                ScenarioError::field(
                    key,
                    format!(
                        "unknown setting; valid names are: {}, client-output-buffer-limit, links.<n>.bandwidth, links.<n>.latency, and the other Redis configs the core knows (requirepass, masterauth, repl-disable-tcp-nodelay, ...)",
                        names.join(", ")
                    ),
                )
            })?;
        let before = self.clone();
        (spec.set)(self, value).map_err(|m| ScenarioError::field(spec.name, m))?;
        if let Some(name) = VERSION_DEPENDENT.iter().find(|n| **n == spec.name) {
            self.given.0.insert(name);
        }
        if let Err(e) = self.validate() {
            *self = before;
            return Err(e);
        }
        Ok(())
    }

    /// Reads one field in the same textual form `set` accepts.
    pub fn get(&self, key: &str) -> Option<String> {
        let norm = key.strip_prefix("redis.").unwrap_or(key);
        if let Some(v) = self
            .redis
            .other
            .get(norm.strip_prefix("other.").unwrap_or(norm))
        {
            return Some(v.clone());
        }
        if norm == "client-output-buffer-limit" {
            return Some(self.redis.client_output_buffer_limit.to_string());
        }
        PARAMS
            .iter()
            .find(|p| p.name == key || p.name == norm)
            .map(|p| (p.get)(self))
    }

    fn set_link_override(
        &mut self,
        key: &str,
        rest: &str,
        value: &str,
    ) -> Result<(), ScenarioError> {
        let (n, field) = rest.split_once('.').ok_or_else(|| {
            ScenarioError::field(
                key,
                "use links.<replica>.bandwidth or links.<replica>.latency",
            )
        })?;
        let n: u64 = n
            .parse()
            .ok()
            .filter(|n| (1..=self.replicas).contains(n))
            .ok_or_else(|| {
                ScenarioError::field(key, format!("replica number must be 1..={}", self.replicas))
            })?;
        let idx = match self.links.iter().position(|l| l.replica == n) {
            Some(i) => i,
            None => {
                self.links.push(LinkOverride {
                    replica: n,
                    bandwidth: None,
                    latency: None,
                });
                self.links.len() - 1
            }
        };
        match field {
            "bandwidth" => {
                self.links[idx].bandwidth =
                    Some(units::parse_bytes(value).map_err(|m| ScenarioError::field(key, m))?)
            }
            "latency" => {
                self.links[idx].latency = Some(
                    units::parse_duration_ms(value, 1).map_err(|m| ScenarioError::field(key, m))?,
                )
            }
            _ => {
                return Err(ScenarioError::field(
                    key,
                    "valid per-link fields are: bandwidth, latency",
                ))
            }
        }
        self.validate()
    }

    /// Range checks every `params()` entry and the structural rules.
    pub fn validate(&self) -> Result<(), ScenarioError> {
        for p in PARAMS.iter() {
            if matches!(p.unit, "enum" | "bool" | "text") {
                continue;
            }
            let v = (p.numeric)(self);
            if v < p.min || v > p.max {
                return Err(ScenarioError::field(
                    p.name,
                    format!(
                        "{} is out of range: allowed {} ..= {} ({})",
                        (p.get)(self),
                        p.format(p.min),
                        p.format(p.max),
                        p.unit
                    ),
                ));
            }
        }
        if !matches!(self.redis.replication_model, 6 | 7) {
            return Err(ScenarioError::field(
                "redis.replication-model",
                format!(
                    "{} is not a replication model: use 7 or 6",
                    self.redis.replication_model
                ),
            ));
        }
        for (name, v) in &self.redis.other {
            if RESERVED.contains(&name.as_str()) {
                return Err(ScenarioError::field(
                    &format!("redis.other.{name}"),
                    "the simulator sets this itself (ports and addresses come from the topology)",
                ));
            }
            let mut probe = crate::core::Config::default();
            if let Err(e) = probe.load_pair(name, v) {
                let message = match e {
                    crate::core::ConfigError::UnknownOption(_) => {
                        "not a Redis config the core knows".to_string()
                    }
                    crate::core::ConfigError::BadValue { reason, .. } => reason,
                };
                return Err(ScenarioError::field(
                    &format!("redis.other.{name}"),
                    message,
                ));
            }
        }
        if self.workload.jitter.is_nan() {
            return Err(ScenarioError::field("workload.jitter", "not a number"));
        }
        for (i, l) in self.links.iter().enumerate() {
            if l.replica < 1 || l.replica > self.replicas {
                return Err(ScenarioError::field(
                    "links.replica",
                    format!(
                        "links entry {} names replica {} but there are {} replicas",
                        i + 1,
                        l.replica,
                        self.replicas
                    ),
                ));
            }
            if l.bandwidth == Some(0) {
                return Err(ScenarioError::field(
                    "links.bandwidth",
                    "bandwidth must be > 0",
                ));
            }
        }
        for (i, f) in self.faults.iter().enumerate() {
            if f.replica < 1 || f.replica > self.replicas {
                return Err(ScenarioError::field(
                    "faults.replica",
                    format!(
                        "fault {} names replica {} but there are {} replicas",
                        i + 1,
                        f.replica,
                        self.replicas
                    ),
                ));
            }
            if f.action == FaultAction::CutLink && f.for_ms == 0 {
                return Err(ScenarioError::field(
                    "faults.for",
                    format!(
                        "fault {} (cut-link) needs a duration, e.g. for = \"10s\"",
                        i + 1
                    ),
                ));
            }
            if f.every == Some(0) {
                return Err(ScenarioError::field("faults.every", "a period must be > 0"));
            }
        }
        for p in &self.workload.phases {
            if p.every == Some(0) {
                return Err(ScenarioError::field(
                    "workload.phases.every",
                    "a period must be > 0",
                ));
            }
        }
        Ok(())
    }

    /// Bandwidth and latency of replica `i` (0-based) after overrides.
    pub fn link_of(&self, i: usize) -> (u64, u64) {
        let mut bw = self.link.bandwidth;
        let mut lat = self.link.latency;
        for o in &self.links {
            if o.replica as usize == i + 1 {
                bw = o.bandwidth.unwrap_or(bw);
                lat = o.latency.unwrap_or(lat);
            }
        }
        (bw, lat)
    }

    /// Bytes one SET adds to the replication stream:
    /// `*3\r\n$3\r\nset\r\n$<klen>\r\n<key>\r\n$<vlen>\r\n<value>\r\n`.
    pub fn bytes_per_write(&self) -> u64 {
        let k = self.workload.key_size;
        let v = self.workload.value_size;
        let digits = |n: u64| n.max(1).to_string().len() as u64;
        4 + 9 + (1 + digits(k) + 2 + k + 2) + (1 + digits(v) + 2 + v + 2)
    }
}

/// Turns a TOML error into line + field.
#[cfg(not(target_arch = "wasm32"))]
fn toml_error(text: &str, e: &toml::de::Error) -> ScenarioError {
    let mut line = None;
    let mut field = None;
    if let Some(span) = e.span() {
        let start = span.start.min(text.len());
        line = Some(text[..start].matches('\n').count() + 1);
        field = field_at(text, start);
    }
    let msg = e.message().trim().to_string();
    // `unknown field `x`, expected ...`: the span covers the key itself.
    if let Some(rest) = msg.strip_prefix("unknown field `") {
        if let Some(name) = rest.split('`').next() {
            let table = field
                .as_deref()
                .and_then(|f| f.rsplit_once('.'))
                .map(|(t, _)| t);
            field = Some(match table {
                Some(t) => format!("{t}.{name}"),
                None => name.to_string(),
            });
        }
    }
    ScenarioError {
        line,
        field,
        message: msg,
    }
}

/// The dotted name of the key whose line contains byte `pos`: the nearest `[table]` header
/// above plus the key before `=`.
#[cfg(not(target_arch = "wasm32"))]
fn field_at(text: &str, pos: usize) -> Option<String> {
    let line_start = text[..pos].rfind('\n').map(|i| i + 1).unwrap_or(0);
    let line_end = text[pos..]
        .find('\n')
        .map(|i| pos + i)
        .unwrap_or(text.len());
    let line = &text[line_start..line_end];
    let table = text[..line_start]
        .lines()
        .rev()
        .map(str::trim)
        .find(|l| l.starts_with('['))
        .map(|h| h.trim_matches(|c| c == '[' || c == ']').trim().to_string());
    let trimmed = line.trim();
    if trimmed.starts_with('[') {
        return Some(
            trimmed
                .trim_matches(|c| c == '[' || c == ']')
                .trim()
                .to_string(),
        );
    }
    let key = trimmed
        .split('=')
        .next()?
        .trim()
        .trim_matches('"')
        .to_string();
    if key.is_empty() {
        return table;
    }
    Some(match table {
        Some(t) => format!("{t}.{key}"),
        None => key,
    })
}

/// Finds the line of a dotted field (for validation errors found after parsing).
#[cfg(not(target_arch = "wasm32"))]
fn find_field_line(text: &str, field: &str) -> Option<usize> {
    let (table, key) = match field.rsplit_once('.') {
        Some((t, k)) => (Some(t), k),
        None => (None, field),
    };
    // Exact table first; then any table (Redis names are validated without their `redis.`).
    for exact in [true, false] {
        let mut current: Option<String> = None;
        for (i, l) in text.lines().enumerate() {
            let t = l.trim();
            if t.starts_with('[') {
                current = Some(t.trim_matches(|c| c == '[' || c == ']').trim().to_string());
                continue;
            }
            if let Some(k) = t.split('=').next() {
                if k.trim().trim_matches('"') == key && (!exact || current.as_deref() == table) {
                    return Some(i + 1);
                }
            }
        }
    }
    None
}

/// Core configs the simulator owns: the topology decides them, or `version` does.
const RESERVED: &[&str] = &["port", "replicaof", "slaveof", "version"];

/// The version-dependent `[redis]` fields a scenario was given explicitly.
#[derive(Clone, Debug, Default)]
pub struct GivenFields(std::collections::BTreeSet<&'static str>);

impl PartialEq for GivenFields {
    /// Two scenarios with the same values are the same, however they were written.
    fn eq(&self, _: &Self) -> bool {
        true
    }
}

/// The `[redis]` fields whose default depends on the version (their names in a file).
const VERSION_DEPENDENT: &[&str] = &[
    "repl-backlog-size",
    "repl-diskless-sync",
    "replication-model",
];

impl RedisConfig {
    /// The defaults of `version`: 7.0's, with the core's per-version defaults
    /// ([`Version::default_configs`]) on top, so the core stays their one source.
    pub fn for_version(version: Version) -> RedisConfig {
        let mut c = crate::core::Config::default();
        // A name of our own list: cannot fail.
        let _ = c.load_pair("version", version.name());
        RedisConfig {
            repl_backlog_size: c.repl_backlog_size,
            repl_diskless_sync: c.repl_diskless_sync,
            replication_model: c.replication_model.as_config_str().parse().unwrap_or(7),
            ..RedisConfig::default()
        }
    }

    fn copy_field(&mut self, from: &RedisConfig, name: &str) {
        match name {
            "repl-backlog-size" => self.repl_backlog_size = from.repl_backlog_size,
            "repl-diskless-sync" => self.repl_diskless_sync = from.repl_diskless_sync,
            _ => self.replication_model = from.replication_model,
        }
    }
}

impl Scenario {
    /// After parsing: the version-dependent `[redis]` fields the text did not give
    /// (`given(name)` false) take the version's defaults instead of 7.0's.
    fn take_version_defaults(&mut self, given: impl Fn(&str) -> bool) {
        let defaults = RedisConfig::for_version(self.version);
        for name in VERSION_DEPENDENT {
            if given(name) {
                self.given.0.insert(name);
            } else {
                self.redis.copy_field(&defaults, name);
            }
        }
    }

    /// `set("version", ...)`: switch the version; every version-dependent field that neither
    /// the file nor an earlier `set` gave takes the new version's default.
    fn switch_version(&mut self, to: Version) {
        let new = RedisConfig::for_version(to);
        for name in VERSION_DEPENDENT {
            if !self.given.0.contains(name) {
                self.redis.copy_field(&new, name);
            }
        }
        self.version = to;
    }
    /// The scenario's Redis settings as `(config name, value)` pairs, as the core's parser
    /// (and, less the simulator-only ones, a real redis-server) takes them.
    pub fn redis_pairs(&self) -> Vec<(String, String)> {
        let r = &self.redis;
        let yn = |b: bool| if b { "yes" } else { "no" }.to_string();
        vec![
            ("repl-backlog-size".into(), r.repl_backlog_size.to_string()),
            ("repl-backlog-ttl".into(), r.repl_backlog_ttl.to_string()),
            (
                "client-output-buffer-limit".into(),
                format!(
                    "replica {} {} {}",
                    r.client_output_buffer_limit.hard,
                    r.client_output_buffer_limit.soft,
                    r.client_output_buffer_limit.soft_seconds
                ),
            ),
            ("repl-diskless-sync".into(), yn(r.repl_diskless_sync)),
            (
                "repl-diskless-sync-delay".into(),
                r.repl_diskless_sync_delay.to_string(),
            ),
            (
                "repl-diskless-sync-max-replicas".into(),
                r.repl_diskless_sync_max_replicas.to_string(),
            ),
            (
                "repl-diskless-load".into(),
                r.repl_diskless_load.as_str().to_string(),
            ),
            ("repl-timeout".into(), r.repl_timeout.to_string()),
            (
                "repl-ping-replica-period".into(),
                r.repl_ping_replica_period.to_string(),
            ),
            (
                "dual-channel-replication-enabled".into(),
                yn(r.dual_channel_replication_enabled),
            ),
            ("save".into(), r.save.clone()),
            ("replication-model".into(), r.replication_model.to_string()),
        ]
        .into_iter()
        // Only 8.2 knows it (a real 7.0 would refuse it at startup).
        .chain((self.version == Version::Redis82).then(|| {
            (
                "replica-full-sync-buffer-limit".to_string(),
                r.replica_full_sync_buffer_limit.to_string(),
            )
        }))
        .chain(r.other.iter().map(|(k, v)| (k.clone(), v.clone())))
        .collect()
    }
}

/// One settable key, for `--set`, the web's sliders and validation.
#[derive(Clone, Debug, Serialize)]
pub struct ParamSpec {
    pub name: &'static str,
    /// "bytes", "bytes/s", "ops/s", "ms", "s", "bool", "count", "enum", "ratio", "text".
    pub unit: &'static str,
    pub min: f64,
    pub max: f64,
    /// Default in the param's unit (numbers), for sliders.
    pub default: f64,
    /// Default as written in a file.
    pub default_text: String,
    /// Valid values for "enum" and "bool".
    pub choices: Vec<&'static str>,
    pub help: &'static str,
}

struct Param {
    name: &'static str,
    unit: &'static str,
    min: f64,
    max: f64,
    choices: &'static [&'static str],
    help: &'static str,
    get: fn(&Scenario) -> String,
    numeric: fn(&Scenario) -> f64,
    set: fn(&mut Scenario, &str) -> Result<(), String>,
}

impl Param {
    fn format(&self, v: f64) -> String {
        match self.unit {
            "bytes" | "bytes/s" => units::format_bytes(v as u64),
            "ms" => units::format_duration_ms(v as u64),
            _ => units::format_rate(v),
        }
    }
}

macro_rules! p_bytes {
    ($name:expr, $unit:expr, $min:expr, $max:expr, $help:expr, $($f:ident).+) => {
        Param { name: $name, unit: $unit, min: $min as f64, max: $max as f64, choices: &[], help: $help,
            get: |s| units::format_bytes(s.$($f).+),
            numeric: |s| s.$($f).+ as f64,
            set: |s, v| { s.$($f).+ = units::parse_bytes(v)?; Ok(()) } }
    };
}
macro_rules! p_ms {
    ($name:expr, $min:expr, $max:expr, $help:expr, $($f:ident).+) => {
        Param { name: $name, unit: "ms", min: $min as f64, max: $max as f64, choices: &[], help: $help,
            get: |s| units::format_duration_ms(s.$($f).+),
            numeric: |s| s.$($f).+ as f64,
            set: |s, v| { s.$($f).+ = units::parse_duration_ms(v, 1)?; Ok(()) } }
    };
}
macro_rules! p_secs {
    ($name:expr, $min:expr, $max:expr, $help:expr, $($f:ident).+) => {
        Param { name: $name, unit: "s", min: $min as f64, max: $max as f64, choices: &[], help: $help,
            get: |s| s.$($f).+.to_string(),
            numeric: |s| s.$($f).+ as f64,
            set: |s, v| { s.$($f).+ = su::seconds::parse(v)?; Ok(()) } }
    };
}
macro_rules! p_count {
    ($name:expr, $min:expr, $max:expr, $help:expr, $($f:ident).+) => {
        Param { name: $name, unit: "count", min: $min as f64, max: $max as f64, choices: &[], help: $help,
            get: |s| s.$($f).+.to_string(),
            numeric: |s| s.$($f).+ as f64,
            set: |s, v| { s.$($f).+ = units::parse_rate(v)?.round() as u64; Ok(()) } }
    };
}
macro_rules! p_bool {
    ($name:expr, $help:expr, $($f:ident).+) => {
        Param { name: $name, unit: "bool", min: 0.0, max: 1.0, choices: &["yes", "no"], help: $help,
            get: |s| if s.$($f).+ { "yes".into() } else { "no".into() },
            numeric: |s| if s.$($f).+ { 1.0 } else { 0.0 },
            set: |s, v| { s.$($f).+ = units::parse_bool(v)?; Ok(()) } }
    };
}

static PARAMS: &[Param] = &[
    Param { name: "version", unit: "enum", min: 0.0, max: 4.0, choices: &VERSION_NAMES,
        help: "The Redis or Valkey version every node plays: its buffers, its second channel for the RDB, its defaults and its log lines.",
        get: |s| s.version.name().into(),
        numeric: |s| Version::ALL.iter().position(|v| *v == s.version).unwrap_or(1) as f64,
        set: |s, v| { s.switch_version(Version::parse(v)?); Ok(()) } },
    p_count!("replicas", 1, 8, "Number of replicas of the one master.", replicas),
    p_ms!("duration", 1000, 86_400_000u64, "How long a run lasts when no --until is given.", duration),
    p_ms!("tick", 10, 1000, "Granularity of the bulk flows: one workload chunk and one link batch per tick.", tick),
    p_bytes!("dataset.size", "bytes", 1024, 1u64 << 40, "Size of the dataset and of the RDB the master produces.", dataset.size),
    p_count!("dataset.keys", 0, 1e10, "Number of keys (logged by the replica's loader).", dataset.keys),
    Param { name: "workload.rate", unit: "ops/s", min: 0.0, max: 10e6, choices: &[],
        help: "Writes (SET commands) per second outside scheduled phases.",
        get: |s| units::format_rate(s.workload.rate),
        numeric: |s| s.workload.rate,
        set: |s, v| { s.workload.rate = units::parse_rate(v)?; Ok(()) } },
    p_bytes!("workload.value-size", "bytes", 0, 512u64 << 20, "Value size of each SET.", workload.value_size),
    p_bytes!("workload.key-size", "bytes", 1, 1u64 << 20, "Key length of each SET.", workload.key_size),
    Param { name: "workload.jitter", unit: "ratio", min: 0.0, max: 1.0, choices: &[],
        help: "Random variation of the write rate per tick (seeded), 0 = perfectly steady.",
        get: |s| s.workload.jitter.to_string(),
        numeric: |s| s.workload.jitter,
        set: |s, v| { s.workload.jitter = v.trim().parse::<f64>().map_err(|_| format!("`{v}` is not a number between 0 and 1"))?; Ok(()) } },
    p_bytes!("link.bandwidth", "bytes/s", 1024, 1u64 << 40, "Bandwidth of every master-replica link, each direction.", link.bandwidth),
    p_ms!("link.latency", 0, 10_000, "One-way latency of every link.", link.latency),
    p_bytes!("disk.write-speed", "bytes/s", 1024, 1u64 << 40, "Disk write speed (master RDB file, replica temp file).", disk.write_speed),
    p_bytes!("disk.read-speed", "bytes/s", 1024, 1u64 << 40, "Disk read speed (master reading the RDB file to send it).", disk.read_speed),
    p_ms!("fork.time-per-gb", 0, 10_000, "How long fork() pauses the master per GB of dataset.", fork.time_per_gb),
    p_bytes!("fork.rdb-speed", "bytes/s", 1024, 1u64 << 40, "How fast the fork child serialises the dataset (CPU bound).", fork.rdb_speed),
    p_bytes!("fork.page-size", "bytes", 512, 2u64 << 20, "Memory page size: a write during BGSAVE copies at most one page (copy-on-write).", fork.page_size),
    p_bytes!("replica.load-speed", "bytes/s", 1024, 1u64 << 40, "How fast a replica loads a received RDB.", replica.load_speed),
    p_ms!("replica.restart-time", 0, 600_000, "How long a restarted replica takes before it connects again.", replica.restart_time),
    p_bytes!("repl-backlog-size", "bytes", 1, 1u64 << 40, "Redis repl-backlog-size: history kept for partial resyncs.", redis.repl_backlog_size),
    p_secs!("repl-backlog-ttl", 0, 1e9, "Redis repl-backlog-ttl: free the backlog after this long without replicas (0 = never).", redis.repl_backlog_ttl),
    p_bytes!("client-output-buffer-limit.hard", "bytes", 0, 1u64 << 40, "Hard part of client-output-buffer-limit replica (0 = none).", redis.client_output_buffer_limit.hard),
    p_bytes!("client-output-buffer-limit.soft", "bytes", 0, 1u64 << 40, "Soft part of client-output-buffer-limit replica (0 = none).", redis.client_output_buffer_limit.soft),
    p_secs!("client-output-buffer-limit.soft-seconds", 0, 86_400, "Seconds a replica buffer may stay over the soft limit.", redis.client_output_buffer_limit.soft_seconds),
    p_bool!("repl-diskless-sync", "Redis repl-diskless-sync: stream the RDB to the replica sockets instead of writing a file.", redis.repl_diskless_sync),
    p_secs!("repl-diskless-sync-delay", 0, 3600, "Redis repl-diskless-sync-delay: wait this long for more replicas before forking.", redis.repl_diskless_sync_delay),
    p_count!("repl-diskless-sync-max-replicas", 0, 8, "Redis repl-diskless-sync-max-replicas: fork early once this many wait (0 = no limit).", redis.repl_diskless_sync_max_replicas),
    Param { name: "repl-diskless-load", unit: "enum", min: 0.0, max: 2.0, choices: &DisklessLoad::NAMES,
        help: "Redis repl-diskless-load (replicas): disabled writes the RDB to disk first.",
        get: |s| s.redis.repl_diskless_load.as_str().into(),
        numeric: |s| s.redis.repl_diskless_load as u8 as f64,
        set: |s, v| { s.redis.repl_diskless_load = DisklessLoad::parse(v)?; Ok(()) } },
    p_secs!("repl-timeout", 1, 86_400, "Redis repl-timeout.", redis.repl_timeout),
    p_secs!("repl-ping-replica-period", 1, 3600, "Redis repl-ping-replica-period: master PINGs in the stream.", redis.repl_ping_replica_period),
    p_bool!("dual-channel-replication-enabled", "Valkey dual-channel replication: the RDB travels on its own connection and the replica buffers the stream (Valkey versions only; others ignore it).", redis.dual_channel_replication_enabled),
    Param { name: "save", unit: "text", min: 0.0, max: 0.0, choices: &[],
        help: "Redis save points (\"\" = none): with none, a disk BGSAVE no replica waits for is killed.",
        get: |s| s.redis.save.clone(),
        numeric: |_| 0.0,
        set: |s, v| { s.redis.save = v.trim().trim_matches('"').to_string(); Ok(()) } },
    p_bytes!("replica-full-sync-buffer-limit", "bytes", 0, 1u64 << 40, "Redis 8.2 replica-full-sync-buffer-limit: what a replica buffers during an RDB-channel sync before it stops reading (0 = its replica hard limit).", redis.replica_full_sync_buffer_limit),
    Param { name: "replication-model", unit: "enum", min: 6.0, max: 7.0, choices: &["7", "6"],
        help: "Buffer model: 7 = Redis 7.0 shared replication buffer, 6 = 6.x ring backlog plus private replica buffers.",
        get: |s| s.redis.replication_model.to_string(),
        numeric: |s| s.redis.replication_model as f64,
        set: |s, v| { s.redis.replication_model = match v.trim() { "6" => 6, "7" => 7, _ => return Err(format!("`{v}` is not a replication model: use 7 or 6")) }; Ok(()) } },
];

/// `Version::ALL`'s names, for the `version` param's choices.
const VERSION_NAMES: [&str; 5] = [
    Version::ALL[0].name_const(),
    Version::ALL[1].name_const(),
    Version::ALL[2].name_const(),
    Version::ALL[3].name_const(),
    Version::ALL[4].name_const(),
];

/// Every settable key.
pub fn params() -> Vec<ParamSpec> {
    let d = Scenario::default();
    PARAMS
        .iter()
        .map(|p| ParamSpec {
            name: p.name,
            unit: p.unit,
            min: p.min,
            max: p.max,
            default: (p.numeric)(&d),
            default_text: (p.get)(&d),
            choices: p.choices.to_vec(),
            help: p.help,
        })
        .collect()
}

// Scenario files are TOML, which only the native build reads.
#[cfg(all(test, not(target_arch = "wasm32")))]
mod tests {
    use super::*;

    #[test]
    fn bad_value_names_line_and_field() {
        let text = "replicas = 1\n\n[workload]\nrate = \"lots\"\n";
        let e = Scenario::from_toml(text).unwrap_err();
        assert_eq!(e.line, Some(4));
        assert_eq!(e.field.as_deref(), Some("workload.rate"));
        assert!(
            e.to_string().starts_with("line 4, field `workload.rate`"),
            "{e}"
        );
    }

    #[test]
    fn unknown_field_names_line_and_field() {
        let text = "[redis]\nrepl-backlog-size = \"1mb\"\nrepl-backlog-sise = \"2mb\"\n";
        let e = Scenario::from_toml(text).unwrap_err();
        assert_eq!(e.line, Some(3));
        assert_eq!(e.field.as_deref(), Some("redis.repl-backlog-sise"));
        assert!(
            e.message.contains("repl-backlog-size"),
            "lists valid names: {e}"
        );
    }

    #[test]
    fn out_of_range_found_after_parsing_still_names_the_line() {
        let text = "name = \"x\"\nreplicas = 12\n";
        let e = Scenario::from_toml(text).unwrap_err();
        assert_eq!(e.line, Some(2));
        assert_eq!(e.field.as_deref(), Some("replicas"));
    }

    #[test]
    fn set_accepts_scenario_fields_and_redis_names() {
        let mut s = Scenario::default();
        s.set("repl-diskless-sync", "no").unwrap();
        assert!(!s.redis.repl_diskless_sync);
        s.set("workload.rate", "100k").unwrap();
        assert_eq!(s.workload.rate, 100_000.0);
        s.set("client-output-buffer-limit", "replica 512mb 128mb 30")
            .unwrap();
        assert_eq!(
            s.get("client-output-buffer-limit").unwrap(),
            "512mb 128mb 30"
        );
        s.set("repl-backlog-size", "16mb").unwrap();
        assert_eq!(s.get("redis.repl-backlog-size").unwrap(), "16mb");
        s.set("links.1.bandwidth", "10mb").unwrap();
        assert_eq!(s.link_of(0).0, 10 << 20);
        let e = s.set("repl-backlog-sise", "1mb").unwrap_err();
        assert!(e.to_string().contains("repl-backlog-size"), "{e}");
        let e = s.set("repl-diskless-sync", "maybe").unwrap_err();
        assert!(e.to_string().contains("yes or no"), "{e}");
        let e = s.set("replicas", "9").unwrap_err();
        assert!(e.to_string().contains("out of range"), "{e}");
        assert_eq!(
            s.replicas, 1,
            "a rejected value leaves the scenario unchanged"
        );
    }

    #[test]
    fn every_param_round_trips_through_get_and_set() {
        let d = Scenario::default();
        for p in params() {
            let mut s = Scenario::default();
            let v = d.get(p.name).unwrap();
            s.set(p.name, &v)
                .unwrap_or_else(|e| panic!("{}: {e}", p.name));
            assert_eq!(s, d, "{}", p.name);
            assert!(p.min <= p.default && p.default <= p.max, "{}", p.name);
        }
    }

    #[test]
    fn bytes_per_write_is_the_resp_size_of_a_set() {
        let mut s = Scenario::default();
        s.workload.key_size = 3;
        s.workload.value_size = 5;
        // *3\r\n$3\r\nset\r\n$3\r\nkey\r\n$5\r\nvalue\r\n
        assert_eq!(
            s.bytes_per_write(),
            b"*3\r\n$3\r\nset\r\n$3\r\nkey\r\n$5\r\nvalue\r\n".len() as u64
        );
    }
}

#[cfg(all(test, not(target_arch = "wasm32")))]
mod other_config_tests {
    use super::*;

    #[test]
    fn other_core_configs_pass_through_and_are_validated_by_the_core() {
        let mut s = Scenario::default();
        s.set("requirepass", "secret").unwrap();
        s.set("masterauth", "secret").unwrap();
        assert_eq!(s.get("masterauth").as_deref(), Some("secret"));
        assert_eq!(s.redis.other.len(), 2);
        let e = s.set("repl-disable-tcp-nodelay", "sometimes").unwrap_err();
        assert_eq!(e.field.as_deref(), Some("repl-disable-tcp-nodelay"));
        assert!(s.set("port", "7000").is_err(), "the topology owns ports");
        assert!(s.set("no-such-config", "1").is_err());
        // And in a file, with line and field.
        let text = "[redis]\nsave = \"\"\n\n[redis.other]\nrequirepass = \"x\"\nmin-replicas-to-write = \"lots\"\n";
        let e = Scenario::from_toml(text).unwrap_err();
        assert_eq!(
            e.field.as_deref(),
            Some("redis.other.min-replicas-to-write")
        );
        assert_eq!(e.line, Some(6));
        let ok = Scenario::from_toml("[redis.other]\nrequirepass = \"x\"\n").unwrap();
        assert_eq!(Scenario::from_toml(&ok.to_toml()).unwrap(), ok);
    }
}
