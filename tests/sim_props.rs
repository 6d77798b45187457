//! Any scenario inside the parameter ranges runs without panicking, deterministically, and
//! with a summary that adds up.
#![cfg(not(target_arch = "wasm32"))] // native-only (proptest is a native dev-dependency)

use proptest::prelude::*;
use replscope::sim::{Scenario, Simulation};

fn scenario() -> impl Strategy<Value = Vec<(String, String)>> {
    (
        1u32..=4,
        0u32..=40_000,
        1u32..=4096,
        1u32..=256,
        1u32..=1000,
        prop_oneof![Just("16kb"), Just("1mb"), Just("64mb")],
        prop_oneof![Just("0 0 0"), Just("4mb 2mb 3"), Just("256mb 64mb 60")],
        any::<bool>(),
        prop_oneof![Just("disabled"), Just("swapdb"), Just("on-empty-db")],
        any::<bool>(),
        prop_oneof![Just("6"), Just("7")],
        0u32..=20,
    )
        .prop_map(
            |(
                n,
                rate,
                value,
                dataset_mb,
                bw_mb,
                backlog,
                limit,
                diskless,
                load,
                dual,
                model,
                delay,
            )| {
                vec![
                    ("replicas".into(), n.to_string()),
                    ("workload.rate".into(), rate.to_string()),
                    ("workload.value-size".into(), value.to_string()),
                    ("dataset.size".into(), format!("{dataset_mb}mb")),
                    ("link.bandwidth".into(), format!("{bw_mb}mb")),
                    ("repl-backlog-size".into(), backlog.into()),
                    ("client-output-buffer-limit".into(), limit.into()),
                    (
                        "repl-diskless-sync".into(),
                        if diskless { "yes" } else { "no" }.into(),
                    ),
                    ("repl-diskless-load".into(), load.into()),
                    (
                        "dual-channel-replication-enabled".into(),
                        if dual { "yes" } else { "no" }.into(),
                    ),
                    ("replication-model".into(), model.into()),
                    ("repl-diskless-sync-delay".into(), delay.to_string()),
                ]
            },
        )
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 24, .. ProptestConfig::default() })]

    #[test]
    fn any_scenario_runs_deterministically(sets in scenario(), fault_at in 5_000u64..40_000, which in 0usize..3) {
        let mut s = Scenario::default();
        s.set("duration", "60s").unwrap();
        for (k, v) in &sets {
            s.set(k, v).unwrap();
        }
        let mut a = Simulation::new(&s, 11);
        let mut b = Simulation::new(&s, 11);
        a.run_until(fault_at);
        b.run_until(fault_at);
        let target = 1 + (fault_at as usize % s.replicas as usize);
        for sim in [&mut a, &mut b] {
            match which {
                0 => sim.cut_link(target, 3_000),
                1 => sim.restart_replica(target),
                _ => sim.kill_master(target),
            }
            sim.run_until(60_000);
        }
        prop_assert_eq!(a.trace_hash(), b.trace_hash());
        let sum = a.summary();
        prop_assert_eq!(sum.replicas.len(), s.replicas as usize);
        for r in &sum.replicas {
            // Every full sync and partial resync answered a PSYNC; refusals led to full syncs.
            prop_assert!(r.partial_syncs_refused <= r.full_syncs, "{:?}", r);
        }
        prop_assert!(a.frame().t_ms == 60_000);
    }
}
