//! The "How often?" tab in headless Chromium (needs `trunk build --release`): a scenario whose
//! outcome hangs on the seed (backlog-sized with a 12mb backlog: the 10 s cut lands right at
//! the backlog's boundary, so the PSYNC is accepted in some runs and refused in others) is run
//! over 20 seeds in the page's web workers, and the counts shown must equal a native
//! `run_seeds` of the same scenario and seeds; the same where the workers cannot start (the
//! built folder without their script: the page runs the seeds itself and says so); the
//! progress bar moves and Cancel stops a run; an outcome's example seed loads on the stage; the
//! bars fit the first screen at 1280×720 and 1920×1080, in English and Chinese (screenshots
//! under the target directory's `screenshots/`).
//!
//! `cargo test --release --test browser_spread -- --ignored --nocapture` also times 100 seeds of
//! each 10-minute preset in the workers and on the page, alternating (the README's figures;
//! nothing is asserted about speed).
#![cfg(not(target_arch = "wasm32"))]

mod support;
use replscope::sim::spread::render_sequence;
use replscope::sim::{run_seeds, Scenario};
use support::browser::{repo_root, until, Page, StaticServer};

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

/// The built folder without the workers' script, served on its own: a browser where web
/// workers cannot start.
fn dist_without_workers() -> (tempfile::TempDir, StaticServer) {
    let copy = tempfile::tempdir().expect("temp dir");
    for entry in std::fs::read_dir(repo_root().join("dist")).expect("dist/") {
        let path = entry.expect("dist entry").path();
        let name = path.file_name().unwrap();
        if name != "spread-worker.js" && path.is_file() {
            std::fs::copy(&path, copy.path().join(name)).expect("copy dist");
        }
    }
    let host = StaticServer::start(copy.path().to_path_buf());
    (copy, host)
}

/// Where the page says the runs ran: `workers-N` or `page`, and the words.
async fn ran(page: &Page) -> (String, String) {
    (
        page.attr("[data-testid=spread]", "data-ran").await,
        page.text("[data-testid=spread-ran]").await,
    )
}

#[tokio::test(flavor = "multi_thread")]
async fn the_workers_count_what_run_seeds_counts() {
    let s = scenario();
    let want = run_seeds(&s, 1..21, s.duration);
    // The scenario is phase-sensitive: more than one outcome over these seeds.
    assert!(want.outcomes.len() > 1, "no spread to show: {want:?}");

    let page = Page::open(QUERY).await;
    page.wait_for("[data-testid=spread]").await;
    assert_eq!(state(&page).await, "idle");
    run_to_the_end(&page, 20).await;
    let (at, words) = ran(&page).await;
    let n = at
        .strip_prefix("workers-")
        .unwrap_or_else(|| panic!("the seeds did not run in web workers: {at}, {words}"));
    assert!(n == "1" || n == "2", "{at}");
    assert_eq!(
        words,
        format!("Counted in {n} web workers, beside the page.")
    );
    assert_counts(&page, &want).await;

    // The bars fit the first screen, in English and Chinese.
    for lang in ["en", "zh"] {
        if lang == "zh" {
            page.set_control("[data-testid=lang]", "zh", "change").await;
            page.wait_for("main[lang=zh-CN]").await;
            assert!(ran(&page).await.1.contains("Web Worker"));
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
async fn without_workers_the_page_counts_the_same_itself() {
    let s = scenario();
    let want = run_seeds(&s, 1..21, s.duration);
    let (_copy, host) = dist_without_workers();
    let page = Page::open_at(&format!("http://127.0.0.1:{}/", host.port), QUERY).await;
    run_to_the_end(&page, 20).await;
    assert_eq!(
        ran(&page).await,
        (
            "page".to_string(),
            "Counted on the page (web workers unavailable).".to_string()
        )
    );
    assert_counts(&page, &want).await;
    page.screenshot("spread-on-the-page").await;
    page.close().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_change_the_workers_are_not_sent_runs_on_the_page() {
    // A per-link override is no parameter of `sim::params()`: the scenario is not sent.
    let mut s = scenario();
    s.set("links.1.bandwidth", "100mb").expect("override");
    let want = run_seeds(&s, 1..21, s.duration);
    let page = Page::open(&format!("{QUERY}&p.links.1.bandwidth=100mb")).await;
    run_to_the_end(&page, 20).await;
    assert_eq!(
        ran(&page).await,
        (
            "page".to_string(),
            "Counted on the page (a change the web workers are not sent).".to_string()
        )
    );
    assert_counts(&page, &want).await;
    page.close().await;
}

/// The rows and events on the page are `want`'s (20 runs from seed 1).
async fn assert_counts(page: &Page, want: &replscope::sim::Spread) {
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
    // Every event's count.
    let shown = page
        .exec("return [...document.querySelectorAll('[data-testid=spread-event]')].map(e => [e.dataset.replica, e.dataset.event, Number(e.dataset.runs)])")
        .await;
    let want_events: Vec<serde_json::Value> = want
        .events
        .iter()
        .filter(|e| e.runs > 0)
        .map(|e| serde_json::json!([e.replica, e.event, e.runs]))
        .collect();
    assert_eq!(shown, serde_json::Value::Array(want_events));
    let accepted = want.runs_with("replica-1", "partial resync accepted");
    assert!(accepted > 0 && accepted < 20);
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
    let at = page.attr("[data-testid=spread]", "data-ran").await;
    assert!(at.starts_with("workers-"), "{at}");
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

/// CPU time (clock ticks) of every thread below `root` (chromedriver: Chromium and its
/// renderers, whose threads include the page's main thread and its web workers), by
/// (process, thread) id, with the thread's name. Linux only.
fn thread_ticks(root: u32) -> std::collections::BTreeMap<(u32, u32), (String, u64)> {
    let stat = |path: &std::path::Path| std::fs::read_to_string(path).unwrap_or_default();
    // "pid (comm) state ppid ... utime stime": fields after the comm's closing parenthesis.
    let fields = |text: &str| -> Option<(String, Vec<u64>)> {
        let (head, tail) = text.rsplit_once(')')?;
        let comm = head.split_once('(')?.1.to_string();
        let nums = tail
            .split_whitespace()
            .skip(1)
            .map(|f| f.parse().unwrap_or(0))
            .collect();
        Some((comm, nums))
    };
    let mut parent = std::collections::BTreeMap::new();
    for e in std::fs::read_dir("/proc").unwrap().flatten() {
        if let Ok(pid) = e.file_name().to_string_lossy().parse::<u32>() {
            if let Some((_, f)) = fields(&stat(&e.path().join("stat"))) {
                parent.insert(pid, f[0] as u32);
            }
        }
    }
    let below = |mut pid: u32| {
        while pid > 1 {
            if pid == root {
                return true;
            }
            pid = *parent.get(&pid).unwrap_or(&0);
        }
        false
    };
    let mut out = std::collections::BTreeMap::new();
    for &pid in parent.keys().filter(|p| below(**p)) {
        let Ok(tasks) = std::fs::read_dir(format!("/proc/{pid}/task")) else {
            continue;
        };
        for t in tasks.flatten() {
            let tid: u32 = t.file_name().to_string_lossy().parse().unwrap_or(0);
            if let Some((comm, f)) = fields(&stat(&t.path().join("stat"))) {
                // utime and stime: fields 14 and 15 of stat, 11 and 12 after the state.
                out.insert((pid, tid), (comm, f[10] + f[11]));
            }
        }
    }
    out
}

/// The README's figures: 100 seeds of each 10-minute preset, in the web workers and on the page
/// (the built folder without the workers' script), alternating, each preset twice.
#[tokio::test(flavor = "multi_thread")]
#[ignore = "a benchmark: run with --ignored --nocapture"]
async fn bench_100_seeds_of_the_10_minute_presets_in_workers_and_on_the_page() {
    let (_copy, without) = dist_without_workers();
    let with = StaticServer::start(repo_root().join("dist"));
    for round in 1..=2 {
        for preset in [
            "disk-sync-loop",
            "diskless-fix",
            "buffer-fix",
            "dual-channel-fix",
        ] {
            let mut walls = Vec::new();
            for host in [&with, &without] {
                let page = Page::open_at(
                    &format!("http://127.0.0.1:{}/", host.port),
                    &format!("preset={preset}&p.duration=10m&tab=seeds"),
                )
                .await;
                // Let the workers load the wasm, as they do while a person reads the tab.
                tokio::time::sleep(std::time::Duration::from_millis(500)).await;
                let before = thread_ticks(page.driver_pid());
                run_to_the_end(&page, 100).await;
                let after = thread_ticks(page.driver_pid());
                let wall: f64 = page
                    .attr("[data-testid=spread]", "data-wall-ms")
                    .await
                    .parse()
                    .unwrap();
                // CPU time per thread during the run, in ms (ticks of 10 ms), busiest first.
                let mut busy: Vec<(u64, String)> = after
                    .iter()
                    .map(|(k, (comm, t))| {
                        (10 * (t - before.get(k).map_or(0, |b| b.1)), comm.clone())
                    })
                    .filter(|(ms, _)| *ms >= 100)
                    .collect();
                busy.sort_by(|a, b| b.cmp(a));
                walls.push((ran(&page).await.0, wall, busy));
                page.close().await;
            }
            println!(
                "SPREAD PAGE BENCH round {round} (load {}): {preset}, 100 seeds x 10 virtual min: {} {:.0} ms, {} {:.0} ms, ratio {:.2}; CPU ms per thread: {:?} / {:?}",
                std::fs::read_to_string("/proc/loadavg").unwrap_or_default().split(' ').next().unwrap_or(""),
                walls[0].0,
                walls[0].1,
                walls[1].0,
                walls[1].1,
                walls[0].1 / walls[1].1,
                walls[0].2,
                walls[1].2
            );
        }
    }
}
