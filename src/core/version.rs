//! What differs between the Redis and Valkey versions a node can play, as variants a version
//! picks. A new version adds a [`Version`] variant; the compiler then lists every `match` that
//! must say what it does, instead of a flag tested in scattered `if`s.
//!
//! Each version's facts are checked against the real server where `docs/versions.md` says so
//! (captures under `tests/fixtures/versions/<version>/`).

use super::log::Level;
use std::fmt;

/// The server version a node plays (`version = "redis-8.2"` in a scenario).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Version {
    /// Redis 6.2.14: ring backlog plus a private copy of the stream per replica.
    Redis62,
    /// Redis 7.0.15: one shared replication buffer. The default.
    #[default]
    Redis70,
    /// Redis 8.2.3: as 7.0, plus the RDB channel (on by default when the master syncs
    /// diskless) with the replica-side `replica-full-sync-buffer-limit`.
    Redis82,
    /// Valkey 8.1.8: as 7.0 with a 10mb backlog, `PRIMARY` wording, and dual channel behind
    /// `dual-channel-replication-enabled`.
    Valkey81,
    /// Valkey 9.1.2: as 8.1 with a few log lines rewritten.
    Valkey91,
}

impl Version {
    /// Every version, oldest Redis first, then Valkey.
    pub const ALL: [Version; 5] = [
        Version::Redis62,
        Version::Redis70,
        Version::Redis82,
        Version::Valkey81,
        Version::Valkey91,
    ];

    /// The name a scenario, `--set` and a URL use: `redis-7.0`.
    pub fn name(self) -> &'static str {
        self.name_const()
    }

    /// [`Version::name`] for constants.
    pub const fn name_const(self) -> &'static str {
        match self {
            Version::Redis62 => "redis-6.2",
            Version::Redis70 => "redis-7.0",
            Version::Redis82 => "redis-8.2",
            Version::Valkey81 => "valkey-8.1",
            Version::Valkey91 => "valkey-9.1",
        }
    }

    /// The name people read: `Redis 7.0`.
    pub fn display_name(self) -> &'static str {
        match self {
            Version::Redis62 => "Redis 6.2",
            Version::Redis70 => "Redis 7.0",
            Version::Redis82 => "Redis 8.2",
            Version::Valkey81 => "Valkey 8.1",
            Version::Valkey91 => "Valkey 9.1",
        }
    }

    /// The exact release modelled (what `--version` of the checked server says).
    pub fn release(self) -> &'static str {
        match self {
            Version::Redis62 => "6.2.14",
            Version::Redis70 => "7.0.15",
            Version::Redis82 => "8.2.3",
            Version::Valkey81 => "8.1.8",
            Version::Valkey91 => "9.1.2",
        }
    }

    /// Reads a version name (`redis-8.2`; case and a `v` are forgiven), with an error that
    /// names the valid values.
    pub fn parse(text: &str) -> Result<Version, String> {
        let t = text.trim().to_ascii_lowercase();
        Version::ALL
            .into_iter()
            .find(|v| v.name() == t || v.name().replace('-', "") == t.replace(['-', 'v'], ""))
            .ok_or_else(|| {
                let names: Vec<&str> = Version::ALL.iter().map(|v| v.name()).collect();
                format!(
                    "`{}` is not a version: use one of {}",
                    text.trim(),
                    names.join(", ")
                )
            })
    }

    /// How its master keeps the stream for the backlog and the replicas.
    pub fn buffers(self) -> BufferModel {
        match self {
            Version::Redis62 => BufferModel::V6,
            Version::Redis70 | Version::Redis82 | Version::Valkey81 | Version::Valkey91 => {
                BufferModel::V7
            }
        }
    }

    /// The second connection for the RDB this version can open, and the config that turns it
    /// on (whether it is used is decided per sync: see `Config::full_sync`).
    pub fn second_channel(self) -> FullSync {
        match self {
            Version::Redis62 | Version::Redis70 => FullSync::Classic,
            Version::Redis82 => FullSync::RdbChannel,
            Version::Valkey81 | Version::Valkey91 => FullSync::DualChannel,
        }
    }

    /// The configs whose default differs from Redis 7.0's, as `(name, value)` pairs
    /// (checked: `tests/fixtures/versions/<v>/defaults/config-get.txt`).
    pub fn default_configs(self) -> &'static [(&'static str, &'static str)] {
        match self {
            // 6.2's `repl-diskless-sync` default is `no` (`config.c` @6.2.14; 7.0 flipped it).
            Version::Redis62 => &[("repl-diskless-sync", "no")],
            Version::Redis70 => &[],
            // `repl-rdb-channel yes` (hidden) and `replica-full-sync-buffer-limit 0`.
            Version::Redis82 => &[
                ("repl-rdb-channel", "yes"),
                ("replica-full-sync-buffer-limit", "0"),
            ],
            // Valkey raised the backlog to 10mb and made replica flushes lazy (`config.c`
            // @8.0.1: "repl-backlog-size" 10mb, "replica-lazy-flush" yes).
            Version::Valkey81 | Version::Valkey91 => &[
                ("repl-backlog-size", "10485760"),
                ("replica-lazy-flush", "yes"),
                ("dual-channel-replication-enabled", "no"),
            ],
        }
    }

    /// Whether its replicas send `REPLCONF version <v>` in the handshake (Valkey's
    /// `syncWithPrimary`; checked in `valkey-*/full-sync-*/handshake.txt`).
    /// Whether `+FULLRESYNC` makes the replica drop its cached master at once (Redis 6.2's
    /// `slaveTryPartialResynchronization`; from 7.0 on it is dropped only when the new RDB is
    /// applied, `replicationAttachToNewMaster`). Checked against the captures of a diskless
    /// sync cut mid-transfer: 6.2 then asks `PSYNC ? -1`, 7.0 its old replid and offset.
    pub fn discards_cached_master_at_fullresync(self) -> bool {
        matches!(self, Version::Redis62)
    }

    pub fn sends_replconf_version(self) -> bool {
        matches!(self, Version::Valkey81 | Version::Valkey91)
    }

    /// The words and levels of its log lines.
    pub fn wording(self) -> Wording {
        let redis = Wording {
            master_upper: "MASTER",
            master_title: "Master",
            master_lower: "master",
            link_lost_level: Level::Warning,
            pipe_drained_level: Level::Warning,
            ack_peer: "slave",
            socket_child: "",
            sync_using: false,
            cow: CowLine::Rdb,
            lack_of_backlog: LackOfBacklog::Offset,
            done_loading_level: Level::Notice,
            loader_vendor: "",
            done_loading_tail: "",
            load_failed_tail: LoadFailedTail::Errno,
            bio_thread: false,
            flush_inside_load: false,
            slot_migration_log: false,
        };
        let valkey = Wording {
            master_upper: "PRIMARY",
            master_title: "Primary",
            master_lower: "primary",
            link_lost_level: Level::Notice,
            pipe_drained_level: Level::Notice,
            ack_peer: "replica",
            socket_child: " to pipe through parent process",
            sync_using: true,
            loader_vendor: "Valkey ",
            load_failed_tail: LoadFailedTail::CheckLogs,
            ..redis
        };
        match self {
            // 6.2: `# Done loading`, the old CoW line, no errno on a failed load.
            Version::Redis62 => Wording {
                cow: CowLine::CopyOnWrite,
                done_loading_level: Level::Warning,
                load_failed_tail: LoadFailedTail::Nothing,
                ..redis
            },
            Version::Redis70 => redis,
            Version::Redis82 => Wording {
                link_lost_level: Level::Notice,
                pipe_drained_level: Level::Notice,
                ack_peer: "replica",
                socket_child: " to parent process pipe",
                flush_inside_load: true,
                ..redis
            },
            Version::Valkey81 => valkey,
            Version::Valkey91 => Wording {
                lack_of_backlog: LackOfBacklog::Range,
                flush_inside_load: true,
                done_loading_tail: ", all fields expired hashes: 0",
                bio_thread: true,
                slot_migration_log: true,
                ..valkey
            },
        }
    }
}

impl serde::Serialize for Version {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.name())
    }
}

impl<'de> serde::Deserialize<'de> for Version {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let text = String::deserialize(d)?;
        Version::parse(&text).map_err(serde::de::Error::custom)
    }
}

impl fmt::Display for Version {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// The copy-on-write report of a fork child.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CowLine {
    /// 7.0+: `Fork CoW for RDB: current N MB, peak N MB, average N MB`.
    Rdb,
    /// 6.2: `RDB: N MB of memory used by copy-on-write`.
    CopyOnWrite,
}

/// What ends `Failed trying to load the MASTER synchronization DB from disk`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LoadFailedTail {
    /// 7.0, 8.2: `: <strerror(errno)>`.
    Errno,
    /// 6.2: nothing.
    Nothing,
    /// Valkey: `, check server logs.`
    CheckLogs,
}

/// How a master explains refusing a PSYNC for lack of backlog.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LackOfBacklog {
    /// `(Replica request was: <off>).`
    Offset,
    /// Valkey 9.1: `(Replica request was <replid>:<off>, and I can only reply with the range
    /// [<first>, <last>]).`
    Range,
}

/// The wording of one version's log lines (checked: `tests/fixtures/versions/log-catalogue.md`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Wording {
    /// `Connecting to MASTER`, `MASTER <-> REPLICA sync` (Valkey: `PRIMARY`).
    pub master_upper: &'static str,
    /// `Master replied to PING` (Valkey: `Primary`).
    pub master_title: &'static str,
    /// `Full resync from master` (Valkey: `primary`).
    pub master_lower: &'static str,
    /// `Connection with master|replica ... lost.`: WARNING on 6.2/7.0, NOTICE from 8.2/Valkey.
    pub link_lost_level: Level,
    /// `Diskless rdb transfer, done reading from pipe, ...`.
    pub pipe_drained_level: Level,
    /// `Waiting for REPLCONF ACK from slave|replica to enable streaming`.
    pub ack_peer: &'static str,
    /// What follows `Background RDB transfer started by pid N`.
    pub socket_child: &'static str,
    /// Valkey appends ` using: normal sync|dual-channel` to `Starting BGSAVE for SYNC`.
    pub sync_using: bool,
    pub cow: CowLine,
    pub lack_of_backlog: LackOfBacklog,
    /// `Done loading RDB, ...` is `#` on 6.2.
    pub done_loading_level: Level,
    /// `Loading RDB produced by [Valkey ]version V`.
    pub loader_vendor: &'static str,
    /// Valkey 9.1 adds `, all fields expired hashes: N` to `Done loading RDB`.
    pub done_loading_tail: &'static str,
    /// After `Failed trying to load the MASTER synchronization DB from disk`.
    pub load_failed_tail: LoadFailedTail,
    /// Valkey 9.1 downloads a disk RDB in a bio thread: its transfer lines start with
    /// `Replica bio thread: `.
    pub bio_thread: bool,
    /// 8.2 and 9.1 log `Loading DB in memory` before `Flushing old data`.
    pub flush_inside_load: bool,
    /// 9.1 clears its slot-migration log as every load starts: `Cleaning slot migration log
    /// in anticipation of a load operation.` right after `Loading DB in memory` (checked,
    /// 9.1's `full-sync-disk`, `diskless-load-swapdb`, `dual-channel-diskless-load-swapdb`).
    pub slot_migration_log: bool,
}

impl Wording {
    /// A replica-side line with `master` in this version's word for it (whole words only:
    /// `MASTER`, `Master`, `master`).
    pub fn replica_words(&self, text: String) -> String {
        if self.master_lower == "master" {
            return text;
        }
        let mut out = String::with_capacity(text.len());
        let mut word = String::new();
        let flush = |word: &mut String, out: &mut String| {
            out.push_str(match word.as_str() {
                "MASTER" => self.master_upper,
                "Master" => self.master_title,
                "master" => self.master_lower,
                w => w,
            });
            word.clear();
        };
        for ch in text.chars() {
            if ch.is_ascii_alphanumeric() || ch == '_' || ch == '-' {
                word.push(ch);
            } else {
                flush(&mut word, &mut out);
                out.push(ch);
            }
        }
        flush(&mut word, &mut out);
        out
    }

    /// `MASTER <-> REPLICA sync` (or `PRIMARY <-> REPLICA sync`) followed by `rest`.
    pub fn sync(&self, rest: &str) -> String {
        format!("{} <-> REPLICA sync{rest}", self.master_upper)
    }

    /// The child's copy-on-write report at the end of a BGSAVE.
    pub fn cow_text(&self, mb: u64) -> String {
        match self.cow {
            CowLine::Rdb => {
                format!("Fork CoW for RDB: current {mb} MB, peak {mb} MB, average {mb} MB")
            }
            CowLine::CopyOnWrite => format!("RDB: {mb} MB of memory used by copy-on-write"),
        }
    }

    /// A replica-side transfer line, with Valkey 9.1's bio-thread prefix on disk transfers.
    pub fn transfer(&self, to_disk: bool, text: String) -> String {
        if self.bio_thread && to_disk {
            format!("Replica bio thread: {text}")
        } else {
            text
        }
    }
}

/// How a master keeps the replication stream for its backlog and its replicas.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BufferModel {
    /// Redis 6.x: a fixed ring backlog plus a private copy of the stream in each replica's
    /// output buffer.
    V6,
    /// Redis 7.0: one shared list of blocks referenced by the backlog and every replica
    /// (`repl_buffer_blocks`); a lagging replica pins old blocks and the backlog grows.
    V7,
}

impl BufferModel {
    /// Whether a non-zero replica hard limit is raised to `repl-backlog-size`. 7.0 does it
    /// (redis.conf: a replica limit below the backlog size is ignored, since a replica must at
    /// least hold what a partial resync may send at once); 6.x applies the limit as given.
    pub fn floors_hard_limit_at_backlog(self) -> bool {
        matches!(self, BufferModel::V7)
    }

    /// The value `replication-model` prints.
    pub fn as_config_str(self) -> &'static str {
        match self {
            BufferModel::V6 => "6",
            BufferModel::V7 => "7",
        }
    }
}

/// How a full sync carries the RDB, and where the stream written meanwhile waits.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FullSync {
    /// One connection: the RDB (from disk or streamed), then the stream the master buffered
    /// for the replica meanwhile (its output buffer, under `client-output-buffer-limit`).
    Classic,
    /// Valkey 8 dual channel: the RDB travels on its own connection while the main one PSYNCs
    /// at the RDB's end offset and the *replica* buffers the stream locally.
    DualChannel,
    /// Redis 8.2 RDB channel: the RDB travels on its own connection while the master pushes
    /// the stream on the main one from the fork on; the replica buffers it locally up to
    /// `replica-full-sync-buffer-limit`.
    RdbChannel,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parse_names_every_version_and_explains_a_bad_one() {
        for v in Version::ALL {
            assert_eq!(Version::parse(v.name()), Ok(v));
            assert_eq!(Version::parse(&v.name().to_uppercase()), Ok(v));
        }
        assert_eq!(Version::parse("redis8.2"), Ok(Version::Redis82));
        let e = Version::parse("redis-7.2").unwrap_err();
        assert!(e.contains("redis-7.2") && e.contains("valkey-9.1"), "{e}");
        assert_eq!(Version::default(), Version::Redis70);
    }
}
