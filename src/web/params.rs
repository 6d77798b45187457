//! Parameters as sliders: the number a slider stands for, and back to the text the scenario
//! parses (the scenario's own parser stays the only judge of a value).

use crate::sim::units;
use crate::sim::ParamSpec;

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

/// Slider position 0..=1000 for a value; logarithmic when the range spans decades, so 1 KB and
/// 1 GB are both reachable on one slider.
pub fn to_slider(p: &ParamSpec, v: f64) -> u32 {
    let (lo, hi) = (p.min, p.max.max(p.min + 1.0));
    let f = if log_scale(p) {
        (v.max(lo).ln() - lo.ln()) / (hi.ln() - lo.ln())
    } else {
        (v - lo) / (hi - lo)
    };
    (f.clamp(0.0, 1.0) * 1000.0).round() as u32
}

pub fn from_slider(p: &ParamSpec, pos: u32) -> f64 {
    let (lo, hi) = (p.min, p.max.max(p.min + 1.0));
    let f = pos.min(1000) as f64 / 1000.0;
    let v = if log_scale(p) {
        (lo.ln() + f * (hi.ln() - lo.ln())).exp()
    } else {
        lo + f * (hi - lo)
    };
    if p.unit == "ratio" {
        v
    } else {
        v.round()
    }
}

fn log_scale(p: &ParamSpec) -> bool {
    p.min > 0.0 && p.max / p.min > 100.0
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sim::{params, Scenario};

    #[test]
    fn every_numeric_parameter_round_trips_through_its_slider() {
        let s = Scenario::preset("disk-sync-loop").expect("preset");
        for p in params()
            .into_iter()
            .filter(|p| p.choices.is_empty() && p.unit != "text")
        {
            let cur = s
                .get(p.name)
                .unwrap_or_else(|| panic!("{} has no value", p.name));
            let v = numeric(&p, &cur).unwrap_or_else(|| panic!("{}: cannot read {cur}", p.name));
            let pos = to_slider(&p, v);
            let back = from_slider(&p, pos);
            let mut probe = s.clone();
            probe.set(p.name, &text(&p, back)).unwrap_or_else(|e| {
                panic!("{}: slider value {} refused: {e}", p.name, text(&p, back))
            });
            assert!(
                back >= p.min - 1e-9 && back <= p.max + 1e-9,
                "{} out of range: {back}",
                p.name
            );
        }
    }

    #[test]
    fn log_sliders_reach_both_ends() {
        let p = params()
            .into_iter()
            .find(|p| p.name == "repl-backlog-size")
            .expect("param");
        assert_eq!(from_slider(&p, 0), p.min.round());
        assert!((from_slider(&p, 1000) - p.max).abs() / p.max < 1e-6);
    }
}
