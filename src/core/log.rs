//! Redis 7.0 log line format, with our own civil-date arithmetic (no clock, no chrono).
//!
//! `<pid>:<role> <dd Mon yyyy HH:MM:SS.mmm> <level> <message>`, as `serverLogRaw` writes it.

/// Redis log levels and their one-character marks.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Level {
    Debug,
    Verbose,
    Notice,
    Warning,
}

impl Level {
    pub fn mark(self) -> char {
        match self {
            Level::Debug => '.',
            Level::Verbose => '-',
            Level::Notice => '*',
            Level::Warning => '#',
        }
    }
}

const MONTHS: [&str; 12] = [
    "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
];

/// (year, month 1..=12, day 1..=31) from days since 1970-01-01 (proleptic Gregorian).
/// Howard Hinnant's `civil_from_days`.
pub fn civil_from_days(days: i64) -> (i64, u32, u32) {
    let z = days + 719_468;
    let era = if z >= 0 { z } else { z - 146_096 } / 146_097;
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    (if m <= 2 { y + 1 } else { y }, m, d)
}

/// `21 Nov 2026 10:00:00.123` for a Unix time in milliseconds (UTC).
pub fn format_timestamp(epoch_ms: u64) -> String {
    let secs = (epoch_ms / 1000) as i64;
    let ms = epoch_ms % 1000;
    let days = secs.div_euclid(86_400);
    let sod = secs.rem_euclid(86_400);
    let (y, m, d) = civil_from_days(days);
    format!(
        "{:02} {} {} {:02}:{:02}:{:02}.{:03}",
        d,
        MONTHS[(m as usize).saturating_sub(1) % 12],
        y,
        sod / 3600,
        (sod / 60) % 60,
        sod % 60,
        ms
    )
}

/// A whole Redis log line. `role`: `M` master, `S` replica, `C` fork child.
pub fn format_log_line(pid: u32, role: char, epoch_ms: u64, level: Level, text: &str) -> String {
    format!(
        "{pid}:{role} {} {} {text}",
        format_timestamp(epoch_ms),
        level.mark()
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_like_redis() {
        // 2026-11-21 05:29:21.307 UTC
        let ms = 1_795_238_961_307u64;
        assert_eq!(
            format_log_line(
                15755,
                'M',
                ms,
                Level::Notice,
                "Replica 127.0.0.1:7002 asks for synchronization"
            ),
            "15755:M 21 Nov 2026 05:29:21.307 * Replica 127.0.0.1:7002 asks for synchronization"
        );
        assert_eq!(format_timestamp(0), "01 Jan 1970 00:00:00.000");
        // leap day
        assert_eq!(
            format_timestamp(951_782_400_000),
            "29 Feb 2000 00:00:00.000"
        );
        assert_eq!(Level::Warning.mark(), '#');
    }
}
