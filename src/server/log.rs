//! Log lines in Redis 7.0's format: `pid:R dd Mon yyyy hh:mm:ss.mmm <level> text`, where R is
//! the role letter (M master, S replica, C fork child) and level is `.` debug, `-` verbose,
//! `*` notice, `#` warning.

use std::io::Write;
use std::sync::Mutex;

/// The date format is the core's (one formatter for simulated and real logs).
pub use crate::core::log::format_timestamp;

pub fn format_line(pid: u32, role: char, epoch_ms: u64, level: char, text: &str) -> String {
    format!("{pid}:{role} {} {level} {text}", format_timestamp(epoch_ms))
}

pub fn now_epoch_ms() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as u64)
        .unwrap_or(0)
}

/// `sdscatrepr`: a quoted, escaped rendering of bytes for log lines.
pub fn repr(b: &[u8]) -> String {
    let mut out = String::from("\"");
    for &c in b {
        match c {
            b'\\' => out.push_str("\\\\"),
            b'"' => out.push_str("\\\""),
            b'\n' => out.push_str("\\n"),
            b'\r' => out.push_str("\\r"),
            b'\t' => out.push_str("\\t"),
            7 => out.push_str("\\a"),
            8 => out.push_str("\\b"),
            c if c.is_ascii_graphic() || c == b' ' => out.push(c as char),
            c => out.push_str(&format!("\\x{c:02x}")),
        }
    }
    out.push('"');
    out
}

/// Where lines go: stdout or a file (append), plus a bounded ring the live feed reads.
pub struct Logger {
    file: Option<Mutex<std::fs::File>>,
    recent: Mutex<std::collections::VecDeque<(u64, String)>>,
    pub pid: u32,
    total: std::sync::atomic::AtomicU64,
    /// `loglevel`: lines below it are dropped (0 debug, 1 verbose, 2 notice, 3 warning).
    min_level: std::sync::atomic::AtomicU8,
}

/// The rank of a level mark (`.`, `-`, `*`, `#`).
pub fn level_rank(mark: char) -> u8 {
    match mark {
        '.' => 0,
        '-' => 1,
        '*' => 2,
        _ => 3,
    }
}

/// The rank of a `loglevel` name.
pub fn loglevel_rank(name: &str) -> u8 {
    match name {
        "debug" => 0,
        "verbose" => 1,
        "warning" => 3,
        _ => 2,
    }
}

impl Logger {
    pub fn new(logfile: &str) -> std::io::Result<Logger> {
        let file = if logfile.is_empty() {
            None
        } else {
            Some(Mutex::new(
                std::fs::OpenOptions::new()
                    .create(true)
                    .append(true)
                    .open(logfile)?,
            ))
        };
        Ok(Logger {
            file,
            recent: Mutex::new(Default::default()),
            pid: std::process::id(),
            total: Default::default(),
            min_level: std::sync::atomic::AtomicU8::new(2),
        })
    }

    /// Writes a finished line.
    pub fn line(&self, t_ms: u64, line: &str) {
        match &self.file {
            Some(f) => {
                if let Ok(mut f) = f.lock() {
                    let _ = writeln!(f, "{line}");
                }
            }
            None => println!("{line}"),
        }
        if let Ok(mut r) = self.recent.lock() {
            // Counted under the ring's lock, so a reader sees the count and the ring agree.
            self.total
                .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            r.push_back((t_ms, line.to_string()));
            while r.len() > 2000 {
                r.pop_front();
            }
        }
    }

    /// `loglevel` by name.
    pub fn set_level(&self, loglevel: &str) {
        self.min_level.store(
            loglevel_rank(loglevel),
            std::sync::atomic::Ordering::Relaxed,
        );
    }

    /// The lowest rank written (see [`level_rank`]).
    pub fn level(&self) -> u8 {
        self.min_level.load(std::sync::atomic::Ordering::Relaxed)
    }

    /// Lines after the `seen`-th one ever logged, as (run time ms, line), and the total.
    pub fn lines_since(&self, seen: u64) -> (Vec<(u64, String)>, u64) {
        let Ok(recent) = self.recent.lock() else {
            return (Vec::new(), seen);
        };
        let total = self.total_lines();
        let skip_from = total.saturating_sub(recent.len() as u64);
        let lines = recent
            .iter()
            .enumerate()
            .filter(|(i, _)| skip_from + *i as u64 >= seen)
            .map(|(_, l)| l.clone())
            .collect();
        (lines, total)
    }

    /// Lines logged since start.
    pub fn total_lines(&self) -> u64 {
        self.total.load(std::sync::atomic::Ordering::Relaxed)
    }

    /// Formats and writes a line for this process.
    pub fn log(&self, t_ms: u64, role: char, level: char, text: &str) {
        self.log_as(self.pid, t_ms, role, level, text);
    }

    /// Formats and writes a line for another "process" (a fork child's pid).
    pub fn log_as(&self, pid: u32, t_ms: u64, role: char, level: char, text: &str) {
        if level_rank(level) < self.min_level.load(std::sync::atomic::Ordering::Relaxed) {
            return;
        }
        let line = format_line(pid, role, now_epoch_ms(), level, text);
        self.line(t_ms, &line);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timestamp_format() {
        // 2026-11-21 00:00:00.123 UTC
        assert_eq!(
            format_timestamp(1_795_219_200_123),
            "21 Nov 2026 00:00:00.123"
        );
        assert_eq!(
            format_line(
                42,
                'M',
                1_795_219_200_000,
                '*',
                "Ready to accept connections"
            ),
            "42:M 21 Nov 2026 00:00:00.000 * Ready to accept connections"
        );
    }
}
