//! The "How often?" tab in headless Chromium (needs `trunk build --release`): a scenario whose
//! outcome hangs on the seed (backlog-sized with a 12mb backlog: the 10 s cut lands right at
//! the backlog's boundary, so the PSYNC is accepted in some runs and refused in others) is run
//! over 20 seeds on the page, and the counts shown must equal a native `run_seeds` of the same
//! scenario and seeds; the progress bar moves and Cancel stops a run; an outcome's example
//! seed loads on the stage; the bars fit the first screen at 1280×720 and 1920×1080, in English
//! and Chinese (screenshots under the target directory's `screenshots/`).
//!
//! `cargo test --release --test browser_spread -- --ignored --nocapture` also times 100 seeds of
//! each 10-minute preset on the page (the README's figures; nothing is asserted about speed).
#![cfg(not(target_arch = "wasm32"))]

mod support;
use replscope::sim::spread::render_sequence;
use replscope::sim::{run_seeds, Scenario};
use support::browser::{until, Page};

const QUERY: &str = "preset=backlog-sized&p.repl-backlog-size=12mb&seed=1&tab=seeds";
const SIZES: [(u32, u32); 2] = [(1280, 720), (1920, 1080)];

fn scenario() -> Scenario {
    let mut s = Scenario::preset("backlog-sized").expect("preset");
    s.set("repl-backlog-size", "12mb").expect("backlog size");
    s
}

async fn state(page: &Page) -> String {
    page.attr("[data-testid=spread]", "data-state").await
}

/// Clicks a run count (20, 100, 500) and Run, and waits for the counts.
async fn run_to_the_end(page: &Page, runs: u64) {
    page.click(&format!(".spread-count [data-runs='{runs}']"))
        .await;
    page.click("[data-testid=spread-run]").await;
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(300);
    while state(page).await != "done" {
        assert!(
            std::time::Instant::now() < deadline,
            "{runs} runs never finished"
        );
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn the_page_counts_what_run_seeds_counts() {
    let s = scenario();
    let want = run_seeds(&s, 1..21, s.duration);
    // The scenario is phase-sensitive: more than one outcome over these seeds.
    assert!(want.outcomes.len() > 1, "no spread to show: {want:?}");

    let page = Page::open(QUERY).await;
    page.wait_for("[data-testid=spread]").await;
    assert_eq!(state(&page).await, "idle");
    run_to_the_end(&page, 20).await;

    let got = page
        .exec("return [...document.querySelectorAll('[data-testid=spread-outcome]')].map(e => [e.dataset.sequence, Number(e.dataset.runs), e.classList.contains('this'), e.textContent])")
        .await;
    let got = got.as_array().expect("outcome rows");
    assert_eq!(got.len(), want.outcomes.len(), "outcome rows: {got:?}");
    for (row, o) in got.iter().zip(&want.outcomes) {
        let seq: Vec<String> = o
            .outcome
            .replicas
            .iter()
            .map(|r| render_sequence(&r.sequence))
            .collect();
        assert_eq!(row[0].as_str().unwrap(), seq.join("; "));
        assert_eq!(row[1].as_u64().unwrap(), o.runs, "{seq:?}");
        // The count is written in words, not only drawn.
        let words = format!("{} of 20 runs", o.runs);
        assert!(
            row[3].as_str().unwrap().contains(&words),
            "{words} missing in {row}"
        );
        // Seed 1 (the run on screen) is marked on its own outcome only.
        assert_eq!(row[2].as_bool().unwrap(), o.seeds.contains(&1), "{row}");
    }
    let accepted = want.runs_with("replica-1", "partial resync accepted");
    assert!(accepted > 0 && accepted < 20);
    let shown = page
        .attr(
            "[data-testid=spread-event][data-event='partial resync accepted']",
            "data-runs",
        )
        .await;
    assert_eq!(shown, accepted.to_string());
    let text = page
        .text("[data-testid=spread-event][data-event='partial resync accepted']")
        .await;
    assert!(
        text.contains(&format!("PSYNC accepted — {accepted} of 20 runs")),
        "{text}"
    );
    assert!(page
        .text("[data-testid=spread-this]")
        .await
        .contains("seed 1"));

    // The bars fit the first screen, in English and Chinese.
    for lang in ["en", "zh"] {
        if lang == "zh" {
            page.set_control("[data-testid=lang]", "zh", "change").await;
            page.wait_for("main[lang=zh-CN]").await;
        }
        for (w, h) in SIZES {
            page.resize(w, h).await;
            let v = page
                .exec("const b = document.querySelector('.spread-outcomes').getBoundingClientRect(); \
                       const c = document.querySelector('.spread-controls').getBoundingClientRect(); \
                       return [b.bottom, c.top, innerHeight, document.documentElement.scrollWidth, innerWidth]")
                .await;
            let n = |i: usize| v[i].as_f64().unwrap();
            assert!(
                n(1) >= 0.0 && n(0) <= n(2) + 0.5,
                "{lang} {w}x{h}: the outcomes ({v}) are not in the first screen"
            );
            assert!(n(3) <= n(4), "{lang} {w}x{h}: horizontal overflow");
            page.screenshot(&format!("spread-{lang}-{w}x{h}")).await;
        }
    }

    // An outcome's example seed loads on the stage, and the counts (of seed 1 on) are cleared.
    let other = want
        .outcomes
        .iter()
        .find(|o| !o.seeds.contains(&1))
        .expect("an outcome seed 1 did not give");
    page.click(".spread-load").await;
    let seed = other.seeds[0];
    until("the example seed is on the stage", || async {
        page.exec("return location.search")
            .await
            .as_str()
            .unwrap_or("")
            .contains(&format!("seed={seed}&"))
    })
    .await;
    assert_eq!(state(&page).await, "idle");
    page.close().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn progress_moves_and_cancel_stops_the_runs() {
    let page = Page::open(QUERY).await;
    page.wait_for("[data-testid=spread]").await;
    page.click(".spread-count [data-runs='500']").await;
    page.click("[data-testid=spread-run]").await;
    let done = || async {
        page.attr("[data-testid=spread-progress]", "value")
            .await
            .parse::<u64>()
            .unwrap()
    };
    // The page keeps drawing while it runs: the progress is seen moving.
    until("some runs done", || async { done().await > 0 }).await;
    let first = done().await;
    until("more runs done", || async { done().await > first }).await;
    assert_eq!(
        page.attr("[data-testid=spread-progress]", "max").await,
        "500"
    );
    page.screenshot("spread-running").await;
    page.click("[data-testid=spread-cancel]").await;
    assert_eq!(state(&page).await, "idle");
    assert!(page
        .client
        .find(fantoccini::Locator::Css("[data-testid=spread-result]"))
        .await
        .is_err());
    // Run is offered again and works.
    run_to_the_end(&page, 20).await;
    assert_eq!(
        page.attr("[data-testid=spread-result]", "data-runs").await,
        "20"
    );
    page.close().await;
}

/// The README's figures: 100 seeds of each 10-minute preset, run on the page.
#[tokio::test(flavor = "multi_thread")]
#[ignore = "a benchmark: run with --ignored --nocapture"]
async fn bench_100_seeds_of_the_10_minute_presets_on_the_page() {
    for preset in [
        "disk-sync-loop",
        "diskless-fix",
        "buffer-fix",
        "dual-channel-fix",
    ] {
        let page = Page::open(&format!("preset={preset}&p.duration=10m&tab=seeds")).await;
        run_to_the_end(&page, 100).await;
        let wall = page.attr("[data-testid=spread]", "data-wall-ms").await;
        let outcomes = page
            .exec("return document.querySelectorAll('[data-testid=spread-outcome]').length")
            .await;
        println!("SPREAD PAGE BENCH (Chromium, page, one thread): {preset}, 100 seeds x 10 virtual min in {wall} ms wall ({outcomes} outcome(s))");
        page.close().await;
    }
}
