//! What the page says about the version a run plays: the names people read, and what a change
//! of version means in side by side. Pure code, unit-tested natively.

use crate::core::version::{FullSync, Version};

/// A change B makes, as a panel's label says it: `Redis 8.2` for a version, else
/// `repl-backlog-size 16mb`.
pub fn change_label(name: &str, value: &str) -> String {
    match Version::parse(value).ok().filter(|_| name == "version") {
        Some(v) => v.display_name().to_string(),
        None => format!("{name} {value}"),
    }
}

/// What the version calls its second connection for the RDB (English; `i18n::tr` translates):
/// Redis 8.2 its "rdb channel" (`repl-rdb-channel`), Valkey its "dual channel"
/// (`dual-channel-replication-enabled`).
pub fn channel_name(v: Version) -> &'static str {
    match v.second_channel() {
        FullSync::RdbChannel => "RDB channel",
        FullSync::DualChannel => "dual channel",
        FullSync::Classic => "RDB channel",
    }
}

/// Why a version comparison may show no difference: Redis 8.2 opens its RDB channel only for a
/// diskless sync (`syncCommand` in 8.2 answers `+RDBCHANNELSYNC` only
/// when the master syncs to sockets), so a disk-sync scenario runs as on 7.0.
pub fn unused_channel(v: Version, diskless: bool) -> bool {
    v.second_channel() == FullSync::RdbChannel && !diskless
}

#[cfg(all(test, not(target_arch = "wasm32")))]
mod tests {
    use super::*;

    #[test]
    fn a_version_change_reads_as_the_version() {
        assert_eq!(change_label("version", "redis-8.2"), "Redis 8.2");
        assert_eq!(change_label("version", "valkey-9.1"), "Valkey 9.1");
        assert_eq!(
            change_label("repl-backlog-size", "16mb"),
            "repl-backlog-size 16mb"
        );
        assert_eq!(channel_name(Version::Redis82), "RDB channel");
        assert_eq!(channel_name(Version::Valkey81), "dual channel");
        assert!(unused_channel(Version::Redis82, false));
        assert!(!unused_channel(Version::Redis82, true));
        assert!(!unused_channel(Version::Redis70, false));
    }
}
