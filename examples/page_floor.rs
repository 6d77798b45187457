//! The smallest page that still runs ReplScope's engine: a preset, the simulator and core, one
//! frame rendered by Yew with a button to step. It has none of the page's own views (stage,
//! timeline, panels, lessons, spread, versions, live, translations).
//!
//! `scripts/page-floor.sh` builds it for the web exactly as the page is built (the
//! `wasm-release` profile, wasm-bindgen, wasm-opt -Oz) and prints its gzipped size beside the
//! page's: what the engine costs before the page draws anything, the floor any page-size
//! target has to clear. Natively it only runs the same simulation and prints the frame.

use replscope::sim::{scenario::Scenario, Simulation};

/// The frame at `t_ms` of `disk-sync-loop`, as one line per node.
fn frame_lines(t_ms: u64) -> Vec<String> {
    let scenario = Scenario::preset("disk-sync-loop").expect("disk-sync-loop is a preset");
    let mut sim = Simulation::new(&scenario, 1);
    sim.run_until(t_ms);
    let f = sim.frame();
    let mut lines = vec![format!(
        "{} ms: {} at offset {}",
        f.t_ms, f.master.name, f.master.master_repl_offset
    )];
    lines.extend(f.replicas.iter().map(|r| {
        format!(
            "{}: {} / {}, offset {}, output buffer {} bytes",
            r.name, r.link_state, r.master_side_state, r.offset, r.obuf_bytes
        )
    }));
    lines
}

#[cfg(target_arch = "wasm32")]
mod page {
    use yew::prelude::*;

    #[function_component]
    pub fn Floor() -> Html {
        let t_ms = use_state(|| 60_000u64);
        let step = {
            let t_ms = t_ms.clone();
            Callback::from(move |_| t_ms.set(*t_ms + 1_000))
        };
        html! {
            <main>
                <button onclick={step}>{ "+1 s" }</button>
                { for super::frame_lines(*t_ms).into_iter().map(|l| html! { <p>{ l }</p> }) }
            </main>
        }
    }
}

#[cfg(target_arch = "wasm32")]
fn main() {
    yew::Renderer::<page::Floor>::new().render();
}

#[cfg(not(target_arch = "wasm32"))]
fn main() {
    for line in frame_lines(60_000) {
        println!("{line}");
    }
}
