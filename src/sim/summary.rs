//! What a run amounts to: per-replica sync counts, disconnect causes, peaks, and whether each
//! replica ends in sync. Serialised as the `summary` of `replscope sim --format json`, and
//! checked against a preset's `[check]` table.

use super::units;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// Every disconnect cause the summary counts (always present, zero or not, so the JSON shape is
/// stable).
///
/// `output_buffer_limit`: the master closed it for `client-output-buffer-limit`; `timeout`:
/// either side gave up after `repl-timeout`; the rest are faults of the scenario.
pub const DISCONNECT_CAUSES: &[&str] = &[
    "output_buffer_limit",
    "timeout",
    "link_cut",
    "replica_restart",
    "master_killed",
];

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Summary {
    /// Virtual time the run reached.
    pub until_ms: u64,
    pub master: MasterSummary,
    pub replicas: Vec<ReplicaSummary>,
}

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct MasterSummary {
    pub name: String,
    /// Largest `repl_backlog_histlen` seen.
    pub peak_backlog_bytes: u64,
    /// `master_repl_offset` at the end.
    pub final_offset: i64,
    /// Number of BGSAVEs (forks) started for replication.
    pub bgsaves: u64,
    /// Largest copy-on-write memory of a fork child.
    pub peak_cow_bytes: u64,
}

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct ReplicaSummary {
    pub name: String,
    /// Full syncs completed by the master for it (`+FULLRESYNC` sent).
    pub full_syncs: u64,
    pub partial_syncs_accepted: u64,
    pub partial_syncs_refused: u64,
    /// Disconnects by cause (see `DISCONNECT_CAUSES`).
    pub disconnects: BTreeMap<String, u64>,
    /// Largest output buffer the master held for it, as Redis measures it for the limit.
    pub peak_output_buffer_bytes: u64,
    /// Its applied offset at the end.
    pub final_offset: i64,
    /// Link up and offset equal to the master's (within what is in flight on the link).
    pub in_sync_at_end: bool,
    /// It was promoted and is the master at the end.
    pub is_master: bool,
}

impl ReplicaSummary {
    pub fn new(name: &str) -> Self {
        ReplicaSummary {
            name: name.to_string(),
            disconnects: DISCONNECT_CAUSES
                .iter()
                .map(|c| (c.to_string(), 0))
                .collect(),
            ..Default::default()
        }
    }
}

/// One step of a replica's story, as its master logs it (the words `replscope compare` reads
/// from real logs), plus the replica's own end of a load.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Step {
    /// A full sync starts (`+FULLRESYNC`: no cached master, or its PSYNC refused).
    Full,
    /// A PSYNC accepted (`+CONTINUE`).
    Partial,
    /// The master puts it online ("Synchronization with replica ... succeeded").
    Online,
    /// Cut off for `client-output-buffer-limit`.
    ObufCut,
    /// Dropped by either side after `repl-timeout`.
    Timeout,
    /// The replica finished loading the RDB (not part of the compared sequence: the master's
    /// `Online` is; used to time full syncs).
    Loaded,
}

impl Step {
    pub fn label(self) -> &'static str {
        match self {
            Step::Full => "full",
            Step::Partial => "partial",
            Step::Online => "online",
            Step::ObufCut => "obuf-cut",
            Step::Timeout => "timeout",
            Step::Loaded => "loaded",
        }
    }

    /// The step of a compared sequence named `label` (`Loaded` is not one of them).
    pub fn from_sequence_label(label: &str) -> Option<Step> {
        [
            Step::Full,
            Step::Partial,
            Step::Online,
            Step::ObufCut,
            Step::Timeout,
        ]
        .into_iter()
        .find(|s| s.label() == label)
    }
}

/// What one replica went through in a run: the sequence of sync kinds and cut-offs (what
/// `replscope compare` compares), and whether it ended in sync.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct ReplicaOutcome {
    pub name: String,
    pub sequence: Vec<Step>,
    pub in_sync_at_end: bool,
}

/// What a run amounts to for counting runs against each other: two runs with equal outcomes
/// told the same story.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct Outcome {
    pub replicas: Vec<ReplicaOutcome>,
}

/// Each full sync in `steps` (time, step) and how it ended: `(n, Loaded, ms)` for the n-th
/// (1-based) from the master's decision to the end of the replica's load, or `(n, ObufCut |
/// Timeout, ms)` to the cut-off. A sync still running at the end, or abandoned otherwise, is
/// left out.
pub fn full_sync_durations(steps: &[(u64, Step)]) -> Vec<(usize, Step, u64)> {
    let mut out = Vec::new();
    let mut n = 0;
    for (i, (t0, s)) in steps.iter().enumerate() {
        if *s != Step::Full {
            continue;
        }
        n += 1;
        for (t, next) in &steps[i + 1..] {
            match next {
                Step::Loaded | Step::ObufCut | Step::Timeout => {
                    out.push((n, *next, t - t0));
                    break;
                }
                Step::Full | Step::Partial => break,
                Step::Online => {}
            }
        }
    }
    out
}

/// Checks a summary against `[check]` entries (`"replica1.full_syncs" = ">= 3"`). Returns one
/// message per failed or malformed entry; empty means every expectation held.
pub fn check_summary(summary: &Summary, checks: &BTreeMap<String, String>) -> Vec<String> {
    let json = match serde_json::to_value(summary) {
        Ok(j) => j,
        Err(e) => return vec![format!("summary not serialisable: {e}")],
    };
    let mut failures = Vec::new();
    for (path, cond) in checks {
        match check_one(&json, path, cond) {
            Ok(true) => {}
            Ok(false) => {
                let got = lookup(&json, path)
                    .map(|v| v.to_string())
                    .unwrap_or_default();
                failures.push(format!("{path} {cond} failed: got {got}"));
            }
            Err(e) => failures.push(format!("{path}: {e}")),
        }
    }
    failures
}

fn lookup<'a>(json: &'a serde_json::Value, path: &str) -> Option<&'a serde_json::Value> {
    let mut parts = path.split('.');
    let first = parts.next()?;
    let mut v = if let Some(n) = first.strip_prefix("replica") {
        let n: usize = n.parse().ok()?;
        json.get("replicas")?.get(n.checked_sub(1)?)?
    } else {
        json.get(first)?
    };
    for p in parts {
        v = v.get(p)?;
    }
    Some(v)
}

fn check_one(json: &serde_json::Value, path: &str, cond: &str) -> Result<bool, String> {
    let v = lookup(json, path).ok_or_else(|| "no such summary field".to_string())?;
    let cond = cond.trim();
    let (op, rhs) = ["<=", ">=", "==", "!=", "<", ">"]
        .iter()
        .find_map(|op| cond.strip_prefix(op).map(|r| (*op, r.trim())))
        .ok_or_else(|| format!("`{cond}` must start with <, <=, ==, !=, >=, >"))?;
    if let Some(b) = v.as_bool() {
        let want = crate::sim::units::parse_bool(rhs)?;
        return match op {
            "==" => Ok(b == want),
            "!=" => Ok(b != want),
            _ => Err("booleans compare with == or !=".into()),
        };
    }
    let x = v.as_f64().ok_or_else(|| format!("{v} is not a number"))?;
    let y = units::parse_bytes(rhs)? as f64;
    Ok(match op {
        "<" => x < y,
        "<=" => x <= y,
        "==" => x == y,
        "!=" => x != y,
        ">=" => x >= y,
        ">" => x > y,
        _ => false,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn checks_compare_paths_with_units() {
        let mut r = ReplicaSummary::new("r1");
        r.full_syncs = 3;
        r.peak_output_buffer_bytes = 300 << 20;
        *r.disconnects.get_mut("output_buffer_limit").unwrap() = 2;
        let s = Summary {
            replicas: vec![r],
            ..Default::default()
        };
        let mut c = BTreeMap::new();
        c.insert("replica1.full_syncs".to_string(), ">= 3".to_string());
        c.insert(
            "replica1.peak_output_buffer_bytes".to_string(),
            "> 256mb".to_string(),
        );
        c.insert(
            "replica1.disconnects.output_buffer_limit".to_string(),
            "== 2".to_string(),
        );
        c.insert(
            "replica1.in_sync_at_end".to_string(),
            "== false".to_string(),
        );
        assert!(
            check_summary(&s, &c).is_empty(),
            "{:?}",
            check_summary(&s, &c)
        );
        c.insert("replica1.full_syncs".to_string(), "< 3".to_string());
        c.insert("replica2.full_syncs".to_string(), "< 3".to_string());
        let f = check_summary(&s, &c);
        assert_eq!(f.len(), 2, "{f:?}");
    }
}
