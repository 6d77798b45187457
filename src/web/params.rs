//! Parameters as knobs: which values a slider offers, and the text the scenario parses for each
//! (the scenario's own parser stays the only judge of a value).
//!
//! Sliders move through round values people write in `redis.conf`, on a log scale where the
//! range spans decades: sizes in Redis units (`1mb`, `384mb`, `1gb`: 1, 2, 3, 4, 6, 8, 12...
//! of each unit), rates and durations in 1-2-5 steps. A drag never lands on 14293651161.

use crate::sim::units;
use crate::sim::{ParamSpec, Scenario};

/// The parameter behind a knob name: one of `sim::params()`, or `links.<n>.bandwidth` /
/// `links.<n>.latency` (one replica's link, with the ranges of `link.*`).
pub fn spec(name: &str, params: &[ParamSpec]) -> Option<ParamSpec> {
    if let Some(p) = params.iter().find(|p| p.name == name) {
        return Some(p.clone());
    }
    let rest = name.strip_prefix("links.")?;
    let (n, field) = rest.split_once('.')?;
    n.parse::<u8>().ok().filter(|n| (1..=8).contains(n))?;
    let base = params.iter().find(|p| p.name == format!("link.{field}"))?;
    Some(base.clone())
}

/// A knob's current text value in a scenario.
pub fn value(s: &Scenario, name: &str) -> Option<String> {
    if let Some(rest) = name.strip_prefix("links.") {
        let (n, field) = rest.split_once('.')?;
        let n = n
            .parse::<u64>()
            .ok()
            .filter(|n| (1..=s.replicas).contains(n))?;
        let (bandwidth, latency) = s.link_of(n as usize - 1);
        return match field {
            "bandwidth" => Some(units::format_bytes(bandwidth)),
            "latency" => Some(units::format_duration_ms(latency)),
            _ => None,
        };
    }
    s.get(name)
}

/// The number behind a parameter's text value, in the parameter's unit.
pub fn numeric(p: &ParamSpec, text: &str) -> Option<f64> {
    match p.unit {
        "bytes" | "bytes/s" => units::parse_bytes(text).ok().map(|v| v as f64),
        "ms" => units::parse_duration_ms(text, 1).ok().map(|v| v as f64),
        "ops/s" => units::parse_rate(text).ok(),
        _ => text.trim().parse::<f64>().ok(),
    }
}

/// The text for a slider's number.
pub fn text(p: &ParamSpec, v: f64) -> String {
    match p.unit {
        "bytes" | "bytes/s" => units::format_bytes(v.max(0.0) as u64),
        "ms" => units::format_duration_ms(v.max(0.0) as u64),
        "ops/s" => units::format_rate(v.max(0.0)),
        "ratio" => format!("{:.2}", v),
        _ => format!("{}", v.round() as i64),
    }
}

/// Every value a slider for `p` offers, ascending.
pub fn steps(p: &ParamSpec) -> Vec<f64> {
    let (lo, hi) = (p.min, p.max);
    let mut v: Vec<f64> = Vec::new();
    if lo <= 0.0 && p.unit != "ratio" {
        v.push(0.0);
    }
    let mut push_series = |mantissas: &[f64], bases: &mut dyn Iterator<Item = f64>| {
        for b in bases {
            for m in mantissas {
                v.push(m * b);
            }
        }
    };
    match p.unit {
        // Redis sizes: 1, 2, 3, 4, 6, 8, 12 ... 768 of each binary unit, all whole numbers in it.
        "bytes" | "bytes/s" => push_series(
            &[
                1., 2., 3., 4., 6., 8., 12., 16., 24., 32., 48., 64., 96., 128., 192., 256., 384.,
                512., 768.,
            ],
            &mut (0..5).map(|k| 1024f64.powi(k)),
        ),
        "ms" | "ops/s" => push_series(&[1., 2., 5.], &mut (0..9).map(|k| 10f64.powi(k))),
        "s" => v.extend([
            1., 2., 3., 5., 10., 15., 20., 30., 45., 60., 90., 120., 180., 300., 600., 900., 1800.,
            3600., 7200., 14400., 43200., 86400., 172800., 604800., 2592000., 31536000.,
        ]),
        "ratio" => v.extend((0..=20).map(|k| k as f64 / 20.0)),
        _ if hi - lo <= 100.0 => v.extend((lo.max(0.0) as i64..=hi as i64).map(|k| k as f64)),
        _ => push_series(&[1., 2., 5.], &mut (0..11).map(|k| 10f64.powi(k))),
    }
    v.retain(|x| *x >= lo && *x <= hi);
    v.sort_by(|a, b| a.total_cmp(b));
    v.dedup();
    if v.is_empty() {
        v.push(lo);
    }
    v
}

/// The slider position for a value: the nearest step (on a log scale for positive values).
pub fn position(steps: &[f64], v: f64) -> usize {
    let dist = |s: f64| {
        if s > 0.0 && v > 0.0 {
            (s.ln() - v.ln()).abs()
        } else {
            (s - v).abs() * 1e6
        }
    };
    (0..steps.len())
        .min_by(|a, b| dist(steps[*a]).total_cmp(&dist(steps[*b])))
        .unwrap_or(0)
}

#[cfg(all(test, not(target_arch = "wasm32")))]
mod tests {
    use super::*;
    use crate::sim::params;

    #[test]
    fn every_slider_value_is_a_round_value_the_scenario_accepts() {
        let s = Scenario::preset("disk-sync-loop").expect("preset");
        for p in params()
            .into_iter()
            .filter(|p| p.choices.is_empty() && p.unit != "text")
        {
            let st = steps(&p);
            assert!(st.len() >= 2 || p.min == p.max, "{}: {st:?}", p.name);
            for v in &st {
                let t = text(&p, *v);
                let mut probe = s.clone();
                probe
                    .set(p.name, &t)
                    .unwrap_or_else(|e| panic!("{}: slider value {t} refused: {e}", p.name));
                assert_eq!(numeric(&p, &t), Some(*v), "{}: {t}", p.name);
            }
            let cur = numeric(&p, &s.get(p.name).unwrap()).unwrap();
            let pos = position(&st, cur);
            assert!(pos < st.len());
        }
    }

    #[test]
    fn sizes_step_through_redis_units() {
        let p = params()
            .into_iter()
            .find(|p| p.name == "client-output-buffer-limit.hard")
            .unwrap();
        let st = steps(&p);
        let texts: Vec<String> = st.iter().map(|v| text(&p, *v)).collect();
        assert_eq!(texts[0], "0", "0 = no limit");
        for want in ["1mb", "256mb", "384mb", "1gb", "3gb"] {
            assert!(texts.iter().any(|t| t == want), "{want} in {texts:?}");
        }
        // From 1kb up, every value is written in a unit.
        let from_kb = st.iter().position(|v| *v >= 1024.0).unwrap();
        assert!(texts[from_kb..]
            .iter()
            .all(|t| t.ends_with("kb") || t.ends_with("mb") || t.ends_with("gb")));
        // 256mb sits where 256mb is, and its neighbours are 192mb and 384mb.
        let i = position(&st, (256u64 << 20) as f64);
        assert_eq!(texts[i], "256mb");
        assert_eq!(
            (texts[i - 1].as_str(), texts[i + 1].as_str()),
            ("192mb", "384mb")
        );
        // A value off the steps lands on the nearest one.
        assert_eq!(texts[position(&st, (300u64 << 20) as f64)], "256mb");
    }

    #[test]
    fn one_replicas_link_is_a_knob_too() {
        let ps = params();
        let s = Scenario::preset("failover-lagging-promoted").unwrap();
        assert_eq!(spec("links.1.bandwidth", &ps).unwrap().unit, "bytes/s");
        assert_eq!(value(&s, "links.1.bandwidth").as_deref(), Some("1mb"));
        assert_eq!(value(&s, "links.2.bandwidth").as_deref(), Some("100mb"));
        assert!(value(&s, "links.3.bandwidth").is_none());
        assert!(spec("links.x.bandwidth", &ps).is_none());
    }
}
