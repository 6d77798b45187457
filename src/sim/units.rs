//! Human units for scenario files and the command line: durations (`90s`, `5m`, `1h`,
//! `250ms`), sizes (`1mb`, `256mb`, Redis's memory units), rates (`100k` ops/s) and bandwidths
//! (`100mb` meaning bytes per second).
//!
//! Sizes follow Redis's own config parser (`memtoll`): `k`/`m`/`g` are powers of 1000 and
//! `kb`/`mb`/`gb` powers of 1024, case-insensitive, so `repl-backlog-size 1mb` means exactly
//! what it means in a `redis.conf`.

use std::fmt;

/// Parses a size: a plain integer of bytes or a number with a Redis memory unit.
pub fn parse_bytes(text: &str) -> Result<u64, String> {
    let t = text.trim().to_ascii_lowercase();
    let t = t.strip_suffix("/s").unwrap_or(&t);
    let (num, unit) = split_number(t);
    let mult: f64 = match unit {
        "" | "b" => 1.0,
        "k" => 1e3,
        "kb" => 1024.0,
        "m" => 1e6,
        "mb" => 1024.0 * 1024.0,
        "g" => 1e9,
        "gb" => 1024.0 * 1024.0 * 1024.0,
        "t" => 1e12,
        "tb" => 1024.0f64.powi(4),
        _ => {
            return Err(format!(
                "`{text}` is not a size: use bytes or a unit b, k, kb, m, mb, g, gb (e.g. 256mb)"
            ))
        }
    };
    let n: f64 = num
        .parse()
        .map_err(|_| format!("`{text}` is not a size (e.g. 1mb, 256mb, 1048576)"))?;
    if n.is_nan() || n < 0.0 || !n.is_finite() {
        return Err(format!("`{text}`: a size cannot be negative"));
    }
    Ok((n * mult).round() as u64)
}

/// Parses a duration into milliseconds: `250ms`, `90s`, `5m`, `1h`, `1.5s`; a bare number is
/// `default_unit_ms` units (1000 for fields whose unit is seconds, as Redis's timeouts are).
pub fn parse_duration_ms(text: &str, default_unit_ms: u64) -> Result<u64, String> {
    let t = text.trim().to_ascii_lowercase();
    let (num, unit) = split_number(&t);
    let mult: f64 = match unit {
        "" => default_unit_ms as f64,
        "ms" => 1.0,
        "s" | "sec" => 1000.0,
        "m" | "min" => 60_000.0,
        "h" => 3_600_000.0,
        "d" => 86_400_000.0,
        _ => {
            return Err(format!(
                "`{text}` is not a duration: use ms, s, m or h (e.g. 250ms, 90s, 5m, 1h)"
            ))
        }
    };
    let n: f64 = num
        .parse()
        .map_err(|_| format!("`{text}` is not a duration (e.g. 90s, 5m, 1h)"))?;
    if n.is_nan() || n < 0.0 || !n.is_finite() {
        return Err(format!("`{text}`: a duration cannot be negative"));
    }
    Ok((n * mult).round() as u64)
}

/// Parses a count or a rate: `100k` = 100,000, `1.5m` = 1,500,000 (decimal units, as people
/// say "100k writes per second"). A trailing `/s` is allowed.
pub fn parse_rate(text: &str) -> Result<f64, String> {
    let t = text.trim().to_ascii_lowercase();
    let t = t.strip_suffix("/s").unwrap_or(&t);
    let (num, unit) = split_number(t);
    let mult = match unit {
        "" => 1.0,
        "k" => 1e3,
        "m" => 1e6,
        "g" => 1e9,
        _ => {
            return Err(format!(
                "`{text}` is not a rate: use a number with k or m (e.g. 2000, 100k)"
            ))
        }
    };
    let n: f64 = num
        .parse()
        .map_err(|_| format!("`{text}` is not a rate (e.g. 2000, 100k)"))?;
    if n.is_nan() || n < 0.0 || !n.is_finite() {
        return Err(format!("`{text}`: a rate cannot be negative"));
    }
    Ok(n * mult)
}

/// Parses a Redis boolean (`yes`/`no`, also `true`/`false`).
pub fn parse_bool(text: &str) -> Result<bool, String> {
    match text.trim().to_ascii_lowercase().as_str() {
        "yes" | "true" | "on" | "1" => Ok(true),
        "no" | "false" | "off" | "0" => Ok(false),
        _ => Err(format!("`{text}` is not a boolean: use yes or no")),
    }
}

fn split_number(t: &str) -> (&str, &str) {
    let idx = t
        .find(|c: char| !(c.is_ascii_digit() || c == '.' || c == '_' || c == '-' || c == '+'))
        .unwrap_or(t.len());
    (t[..idx].trim(), t[idx..].trim())
}

/// Formats bytes the way a `redis.conf` would write them when exact (`1mb`, `256mb`), else a
/// plain number.
pub fn format_bytes(n: u64) -> String {
    const KB: u64 = 1024;
    const MB: u64 = KB * 1024;
    const GB: u64 = MB * 1024;
    if n == 0 {
        "0".into()
    } else if n % GB == 0 {
        format!("{}gb", n / GB)
    } else if n % MB == 0 {
        format!("{}mb", n / MB)
    } else if n % KB == 0 {
        format!("{}kb", n / KB)
    } else {
        n.to_string()
    }
}

/// Formats milliseconds as the shortest exact unit (`250ms`, `90s`, `5m`, `1h`).
pub fn format_duration_ms(ms: u64) -> String {
    if ms == 0 {
        "0s".into()
    } else if ms % 3_600_000 == 0 {
        format!("{}h", ms / 3_600_000)
    } else if ms % 60_000 == 0 {
        format!("{}m", ms / 60_000)
    } else if ms % 1000 == 0 {
        format!("{}s", ms / 1000)
    } else {
        format!("{ms}ms")
    }
}

/// Formats a rate compactly and exactly (`100k`, `2500`, `1.5m`).
pub fn format_rate(r: f64) -> String {
    if r >= 1e6 && (r / 1e6).fract() == 0.0 {
        format!("{}m", r / 1e6)
    } else if r >= 1e3 && ((r / 1e3) * 1000.0).fract() == 0.0 && (r / 1e3).fract() == 0.0 {
        format!("{}k", r / 1e3)
    } else if r.fract() == 0.0 {
        format!("{}", r as u64)
    } else {
        format!("{r}")
    }
}

/// A size for people: `1.5 MB`, `256.0 MB`, `12 B` (binary units, one decimal).
pub struct HumanBytes(pub u64);

impl fmt::Display for HumanBytes {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let n = self.0 as f64;
        if self.0 < 1024 {
            write!(f, "{} B", self.0)
        } else if n < 1024.0 * 1024.0 {
            write!(f, "{:.1} KB", n / 1024.0)
        } else if n < 1024.0 * 1024.0 * 1024.0 {
            write!(f, "{:.1} MB", n / (1024.0 * 1024.0))
        } else {
            write!(f, "{:.2} GB", n / (1024.0 * 1024.0 * 1024.0))
        }
    }
}

/// A duration for people: `850 ms`, `16.4 s`, `8 min 05 s`.
pub struct HumanMs(pub u64);

impl fmt::Display for HumanMs {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let ms = self.0;
        if ms < 1000 {
            write!(f, "{ms} ms")
        } else if ms < 100_000 {
            write!(f, "{:.1} s", ms as f64 / 1000.0)
        } else {
            let s = (ms + 500) / 1000;
            write!(f, "{} min {:02} s", s / 60, s % 60)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_follow_redis_memtoll() {
        assert_eq!(parse_bytes("1mb").unwrap(), 1_048_576);
        assert_eq!(parse_bytes("256MB").unwrap(), 268_435_456);
        assert_eq!(parse_bytes("1m").unwrap(), 1_000_000);
        assert_eq!(parse_bytes("16384").unwrap(), 16384);
        assert_eq!(parse_bytes("1.5gb").unwrap(), 1_610_612_736);
        assert_eq!(parse_bytes("100mb/s").unwrap(), 104_857_600);
        assert!(parse_bytes("12 parsecs").is_err());
        assert!(parse_bytes("-1mb").is_err());
        assert!(parse_bytes("").is_err());
    }

    #[test]
    fn durations() {
        assert_eq!(parse_duration_ms("90s", 1000).unwrap(), 90_000);
        assert_eq!(parse_duration_ms("5m", 1000).unwrap(), 300_000);
        assert_eq!(parse_duration_ms("1h", 1000).unwrap(), 3_600_000);
        assert_eq!(parse_duration_ms("250ms", 1000).unwrap(), 250);
        assert_eq!(parse_duration_ms("60", 1000).unwrap(), 60_000);
        assert_eq!(parse_duration_ms("60", 1).unwrap(), 60);
        assert!(parse_duration_ms("soon", 1000).is_err());
    }

    #[test]
    fn rates() {
        assert_eq!(parse_rate("100k").unwrap(), 100_000.0);
        assert_eq!(parse_rate("2000/s").unwrap(), 2000.0);
        assert_eq!(parse_rate("1.5m").unwrap(), 1_500_000.0);
        assert!(parse_rate("fast").is_err());
    }

    #[test]
    fn durations_for_people() {
        assert_eq!(HumanMs(850).to_string(), "850 ms");
        assert_eq!(HumanMs(16_420).to_string(), "16.4 s");
        assert_eq!(HumanMs(485_000).to_string(), "8 min 05 s");
    }

    #[test]
    fn formatting_round_trips() {
        for n in [
            0u64,
            1,
            1000,
            1024,
            1_048_576,
            268_435_456,
            3 << 30,
            123_456,
        ] {
            assert_eq!(parse_bytes(&format_bytes(n)).unwrap(), n);
        }
        for ms in [0u64, 1, 250, 1000, 90_000, 300_000, 3_600_000, 1500] {
            assert_eq!(
                parse_duration_ms(&format_duration_ms(ms), 1000).unwrap(),
                ms
            );
        }
        for r in [0.0, 1.0, 2500.0, 100_000.0, 1_500_000.0, 12.5] {
            assert_eq!(parse_rate(&format_rate(r)).unwrap(), r);
        }
    }
}
