//! Numbers as people read them, and the geometry of the drawings. Pure, tested natively.

/// Bytes in Redis's units (1 MB = 1024 × 1024, as `repl-backlog-size 1mb` means), with about
/// three significant digits: "512 B", "4.4 MB", "91 MB", "256 MB", "2 GB".
pub fn bytes(n: u64) -> String {
    const UNITS: [&str; 4] = ["KB", "MB", "GB", "TB"];
    if n < 1024 {
        return format!("{n} B");
    }
    let mut v = n as f64 / 1024.0;
    let mut unit = 0;
    while v >= 1024.0 && unit < UNITS.len() - 1 {
        v /= 1024.0;
        unit += 1;
    }
    format!("{} {}", short_number(v), UNITS[unit])
}

/// A rate in bytes per second: "80 MB/s".
pub fn rate(bytes_per_sec: u64) -> String {
    format!("{}/s", bytes(bytes_per_sec))
}

/// A count per second with a k/M suffix: "6k", "100k", "1.5M".
pub fn count(n: f64) -> String {
    if n >= 1e6 {
        format!("{}M", short_number(n / 1e6))
    } else if n >= 1e3 {
        format!("{}k", short_number(n / 1e3))
    } else {
        short_number(n)
    }
}

/// One decimal below 100 (without a trailing ".0"), none above: 4.4, 91, 256.
pub fn short_number(v: f64) -> String {
    let tenths = (v * 10.0).round() as u64;
    if v >= 100.0 || tenths % 10 == 0 {
        format!("{}", v.round() as u64)
    } else {
        format!("{}.{}", tenths / 10, tenths % 10)
    }
}

/// Seconds with one decimal: "4.4 s".
pub fn secs(ms: u64) -> String {
    format!("{} s", short_number(ms as f64 / 1000.0))
}

/// Virtual time as `m:ss.t` (or `h:mm:ss` past an hour).
pub fn clock(ms: u64) -> String {
    let s = ms / 1000;
    let (h, m, sec) = (s / 3600, (s / 60) % 60, s % 60);
    if h > 0 {
        format!("{h}:{m:02}:{sec:02}")
    } else {
        format!("{m}:{sec:02}.{}", (ms % 1000) / 100)
    }
}

/// A point on a circle: angle 0 is 12 o'clock, growing clockwise.
pub fn polar(cx: f64, cy: f64, r: f64, turns: f64) -> (f64, f64) {
    let a = turns * std::f64::consts::TAU - std::f64::consts::FRAC_PI_2;
    (cx + r * a.cos(), cy + r * a.sin())
}

/// Where replication offset `offset` sits on a ring of `size` bytes, in turns (0..1).
/// Offsets are 1-based, so byte 1 is at 12 o'clock.
pub fn ring_turns(offset: i64, size: u64) -> f64 {
    if size == 0 {
        return 0.0;
    }
    ((offset - 1).rem_euclid(size as i64)) as f64 / size as f64
}

/// SVG path of an arc on a circle from `from` to `to` turns (clockwise); a full circle when the
/// span is a whole turn or more.
pub fn arc_path(cx: f64, cy: f64, r: f64, from: f64, span_turns: f64) -> String {
    if span_turns >= 0.9999 {
        // Two half circles: an SVG arc cannot start and end at the same point.
        let (x0, y0) = polar(cx, cy, r, 0.0);
        let (x1, y1) = polar(cx, cy, r, 0.5);
        return format!(
            "M {x0:.2} {y0:.2} A {r:.2} {r:.2} 0 1 1 {x1:.2} {y1:.2} A {r:.2} {r:.2} 0 1 1 {x0:.2} {y0:.2}"
        );
    }
    let span = span_turns.max(0.0);
    let (x0, y0) = polar(cx, cy, r, from);
    let (x1, y1) = polar(cx, cy, r, from + span);
    let large = if span > 0.5 { 1 } else { 0 };
    format!("M {x0:.2} {y0:.2} A {r:.2} {r:.2} 0 {large} 1 {x1:.2} {y1:.2}")
}

/// Where a replica's offset stands against the backlog: PSYNC asks for `offset + 1`, which
/// Redis accepts when it lies in `[first_byte_offset, master_repl_offset + 1]`
/// (`masterTryPartialResynchronization`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Coverage {
    Inside,
    Outside,
    NoBacklog,
}

pub fn coverage(
    replica_offset: i64,
    first_byte_offset: Option<i64>,
    master_offset: i64,
) -> Coverage {
    match first_byte_offset {
        None => Coverage::NoBacklog,
        Some(first) => {
            let wanted = replica_offset + 1;
            if replica_offset >= 0 && wanted >= first && wanted <= master_offset + 1 {
                Coverage::Inside
            } else {
                Coverage::Outside
            }
        }
    }
}

/// "Nice" upper bound for a byte axis: 1, 2 or 5 times a power of ten of the largest binary
/// unit that fits (KB, MB, GB as Redis counts them), so the top label reads "500.0 MB".
pub fn nice_bytes_ceiling(v: u64) -> u64 {
    let mut unit = 1u64;
    while unit < (1 << 30) && v / unit >= 1024 {
        unit <<= 10;
    }
    nice_ceiling(v.div_ceil(unit)).saturating_mul(unit)
}

/// "Nice" upper bound for an axis: 1, 2 or 5 times a power of ten.
pub fn nice_ceiling(v: u64) -> u64 {
    let mut p = 1u64;
    loop {
        for m in [1, 2, 5] {
            if let Some(c) = p.checked_mul(m) {
                if c >= v {
                    return c.max(1);
                }
            }
        }
        match p.checked_mul(10) {
            Some(n) => p = n,
            None => return u64::MAX,
        }
    }
}

/// Places timeline marks so that marks of one lane closer than `min_gap` (px) do not cover
/// each other: each mark (given as `(lane, x)` in time order) takes the lowest of `rows` rows
/// whose last mark is far enough left; when all are taken, the row whose last mark is furthest
/// left, nudged right to just clear it (so every mark stays visible and clickable). Returns
/// `(row, x)` per mark.
pub fn mark_rows(marks: &[(usize, f64)], min_gap: f64, rows: usize) -> Vec<(usize, f64)> {
    let mut last: std::collections::BTreeMap<usize, Vec<f64>> = Default::default();
    marks
        .iter()
        .map(|&(lane, x)| {
            let ends = last
                .entry(lane)
                .or_insert_with(|| vec![f64::NEG_INFINITY; rows.max(1)]);
            let (row, x) = match ends.iter().position(|e| x - e >= min_gap) {
                Some(row) => (row, x),
                None => {
                    let mut best = 0;
                    for (i, e) in ends.iter().enumerate() {
                        if *e < ends[best] {
                            best = i;
                        }
                    }
                    (best, ends[best] + min_gap)
                }
            };
            ends[row] = x;
            (row, x)
        })
        .collect()
}

/// At most `max_points` chart points from the samples up to `now`: each point is the largest
/// value of its bucket (so short peaks, like a buffer just before a cut-off, stay visible).
pub fn decimate(
    samples: &[crate::view::Sample],
    now: u64,
    max_points: usize,
) -> Vec<crate::view::Sample> {
    let upto = samples.partition_point(|s| s.t_ms <= now);
    let shown = &samples[..upto];
    if shown.len() <= max_points || max_points == 0 {
        return shown.to_vec();
    }
    let per = shown.len().div_ceil(max_points);
    shown
        .chunks(per)
        .map(|bucket| {
            let mut p = bucket[bucket.len() - 1].clone();
            for s in bucket {
                p.backlog_histlen = p.backlog_histlen.max(s.backlog_histlen);
                for (i, v) in s.obuf_bytes.iter().enumerate() {
                    if let Some(slot) = p.obuf_bytes.get_mut(i) {
                        *slot = (*slot).max(*v);
                    }
                }
            }
            p
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bytes_use_redis_units_and_read_like_a_person_writes() {
        assert_eq!(bytes(512), "512 B");
        assert_eq!(bytes(1024 * 1024), "1 MB");
        assert_eq!(bytes(256 * 1024 * 1024), "256 MB");
        assert_eq!(bytes(3 * 1024 * 1024 * 1024), "3 GB");
        assert_eq!(bytes(12_900_000), "12.3 MB");
        assert_eq!(bytes(95_420_000), "91 MB");
        assert_eq!(rate(80 << 20), "80 MB/s");
        assert_eq!(count(6_000.0), "6k");
        assert_eq!(count(1_500_000.0), "1.5M");
        assert_eq!(secs(4_440), "4.4 s");
    }

    #[test]
    fn clock_formats() {
        assert_eq!(clock(65_300), "1:05.3");
        assert_eq!(clock(3_723_000), "1:02:03");
    }

    #[test]
    fn ring_positions_wrap() {
        assert_eq!(ring_turns(1, 100), 0.0);
        assert_eq!(ring_turns(51, 100), 0.5);
        assert_eq!(ring_turns(101, 100), 0.0);
        assert_eq!(ring_turns(5, 0), 0.0);
    }

    #[test]
    fn coverage_matches_the_psync_rule() {
        // Backlog holds bytes 100..=200: a replica at 99 asks for 100 (inside), at 200 asks for
        // 201 = master+1 (inside, 0 bytes to send), at 98 asks for 99 (outside).
        assert_eq!(coverage(99, Some(100), 200), Coverage::Inside);
        assert_eq!(coverage(200, Some(100), 200), Coverage::Inside);
        assert_eq!(coverage(98, Some(100), 200), Coverage::Outside);
        assert_eq!(coverage(201, Some(100), 200), Coverage::Outside);
        assert_eq!(coverage(-1, Some(100), 200), Coverage::Outside);
        assert_eq!(coverage(150, None, 200), Coverage::NoBacklog);
    }

    #[test]
    fn decimation_keeps_peaks_and_bounds_points() {
        use crate::view::Sample;
        let samples: Vec<Sample> = (0..1000u64)
            .map(|i| Sample {
                t_ms: i * 250,
                backlog_histlen: 10,
                master_repl_offset: i as i64,
                obuf_bytes: vec![if i == 501 { 9_999 } else { i }],
            })
            .collect();
        let d = decimate(&samples, u64::MAX, 100);
        assert!(d.len() <= 100);
        assert_eq!(
            d.iter().map(|s| s.obuf_bytes[0]).max(),
            Some(9_999),
            "the peak survives"
        );
        assert_eq!(d.last().unwrap().t_ms, 999 * 250);
        let upto = decimate(&samples, 2_000, 100);
        assert_eq!(upto.len(), 9, "only samples up to now");
    }

    #[test]
    fn close_marks_take_separate_rows() {
        // A cut-off and the full sync 13 ms later land on the same pixel: two rows.
        let rows = mark_rows(&[(0, 100.0), (0, 100.4), (0, 300.0), (1, 100.2)], 12.0, 2);
        assert_eq!(rows, [(0, 100.0), (1, 100.4), (0, 300.0), (0, 100.2)]);
        // A third mark at the same place goes right of the oldest one, clear of it.
        let rows = mark_rows(&[(0, 10.0), (0, 11.0), (0, 12.0)], 12.0, 2);
        assert_eq!(rows, [(0, 10.0), (1, 11.0), (0, 22.0)]);
    }

    #[test]
    fn arcs_and_axes() {
        assert!(arc_path(0.0, 0.0, 10.0, 0.0, 1.0).matches(" A ").count() == 2);
        assert!(arc_path(0.0, 0.0, 10.0, 0.0, 0.75).contains(" 0 1 1 "));
        assert_eq!(nice_ceiling(0), 1);
        assert_eq!(nice_ceiling(3), 5);
        assert_eq!(nice_ceiling(101), 200);
        assert_eq!(nice_ceiling(u64::MAX), u64::MAX);
        assert_eq!(nice_bytes_ceiling(300 << 20), 500 << 20);
        assert_eq!(nice_bytes_ceiling(256 << 20), 500 << 20);
        assert_eq!(nice_bytes_ceiling(900), 1000);
        assert_eq!(bytes(nice_bytes_ceiling(3 << 30)), "5 GB");
    }
}
