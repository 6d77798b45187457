//! The stage in headless Chromium (needs `trunk build --release`): the first screen at
//! 1280×720 and 1920×1080, the diagram's parts and caption against a native run of the same
//! scenario, the ring through an outage, the end of a run, the inspector, dialogs in view,
//! Chinese, timeline marks, and the measured frame times and pause latency (printed for the
//! README; the assertions are about behaviour, not speed). Screenshots of each checked state
//! at both sizes go to the target directory's `screenshots/`.
#![cfg(not(target_arch = "wasm32"))]

mod support;
use replscope::sim::{Scenario, Simulation};
use replscope::web::caption::caption;
use replscope::web::stage::Stage;
use replscope::web::url::Lang;
use support::browser::{until, Page};

const SIZES: [(u32, u32); 2] = [(1280, 720), (1920, 1080)];

/// No horizontal scroll, and the header, controls, stage, caption and tabs all inside the first
/// viewport, each on one line where it should be.
async fn check_first_screen(page: &Page, what: &str) {
    let v = page
        .exec(
            r#"
        const r = s => { const e = document.querySelector(s); if (!e) return null; const b = e.getBoundingClientRect();
                         return [b.left, b.top, b.right, b.bottom]; };
        const rows = s => { const e = document.querySelector(s); if (!e) return 99;
            const tops = [...e.children].filter(c => c.getBoundingClientRect().height > 0)
                .map(c => { const b = c.getBoundingClientRect(); return b.top + b.height / 2; });
            const mid = tops.reduce((a, b) => a + b, 0) / tops.length;
            return Math.max(...tops.map(t => Math.abs(t - mid))); };
        return { sw: document.documentElement.scrollWidth, w: innerWidth, h: innerHeight,
                 parts: { header: r('header.top'), controls: r('.controls'), stage: r('svg.stage'),
                          caption: r('[data-testid=caption]'), tabs: r('[data-testid=tabs]') },
                 spread: { header: rows('header.top'), controls: rows('.controls') },
                 captionCut: (() => { const c = document.querySelector('[data-testid=caption]');
                                      return c.scrollHeight > c.clientHeight + 1; })() };
    "#,
        )
        .await;
    let (w, h) = (v["w"].as_f64().unwrap(), v["h"].as_f64().unwrap());
    assert!(
        v["sw"].as_f64().unwrap() <= w,
        "{what}: horizontal overflow ({} > {w})",
        v["sw"]
    );
    for (name, r) in v["parts"].as_object().unwrap() {
        let r: Vec<f64> = r
            .as_array()
            .unwrap_or_else(|| panic!("{what}: no {name}"))
            .iter()
            .map(|x| x.as_f64().unwrap())
            .collect();
        assert!(
            r[0] >= -0.5 && r[1] >= -0.5 && r[2] <= w + 0.5 && r[3] <= h + 0.5,
            "{what}: {name} at {r:?} is not inside the first {w}x{h} screen"
        );
    }
    for (name, spread) in v["spread"].as_object().unwrap() {
        assert!(
            spread.as_f64().unwrap() < 8.0,
            "{what}: the {name} wraps onto a second line (centres spread {spread} px)"
        );
    }
    assert_eq!(v["captionCut"], false, "{what}: the caption is cut off");
}

#[tokio::test(flavor = "multi_thread")]
async fn the_stage_caption_and_controls_fit_the_first_screen() {
    let page = Page::open("preset=disk-sync-loop&t=100000").await;
    for (w, h) in SIZES {
        page.resize(w, h).await;
        for (name, query) in [
            ("disk-sync-loop", "preset=disk-sync-loop&t=100000"),
            (
                "eight-replicas",
                "preset=disk-sync-loop&t=120000&p.replicas=8",
            ),
            ("large-type", "preset=disk-sync-loop&t=100000&big=1"),
            (
                "chinese-large",
                "preset=diskless-fix&t=100000&big=1&lang=zh",
            ),
        ] {
            page.client
                .goto(&format!("{}?{query}", page.base))
                .await
                .unwrap();
            page.wait_for("svg.stage").await;
            check_first_screen(&page, &format!("{name} at {w}x{h}")).await;
            page.screenshot(&format!("first-screen-{name}-{w}x{h}"))
                .await;
        }
    }
    page.close().await;
}

/// The moments checked: each names a phase a student should see.
const MOMENTS: [(&str, u64); 7] = [
    ("disk-sync-loop", 100_000), // fork: the child writes the RDB to disk, the tank fills
    ("disk-sync-loop", 120_000), // the file is sent from disk, the replica receives it
    ("disk-sync-loop", 55_000),  // the first load
    ("diskless-fix", 100_000),   // the child streams into the socket; no disk on the path
    ("diskless-fix", 200_000),   // online and streaming
    ("dual-channel-fix", 100_000), // RDB on its own channel, the replica buffers the stream
    ("backlog-sized", 35_000),   // the link is cut
];

#[tokio::test(flavor = "multi_thread")]
async fn the_stage_draws_what_the_native_run_computes() {
    let page = Page::open("").await;
    for (preset, t) in MOMENTS {
        let s = Scenario::preset(preset).unwrap();
        let mut sim = Simulation::new(&s, 1);
        sim.run_until(t);
        let stage = Stage::from_frame(&sim.frame());
        let want = stage.parts();
        for (w, h) in SIZES {
            page.resize(w, h).await;
            page.client
                .goto(&format!("{}?preset={preset}&t={t}", page.base))
                .await
                .unwrap();
            page.wait_for("svg.stage [data-part=master]").await;
            let got = page
                .exec("return [...document.querySelectorAll('.stage-wrap svg.stage [data-part]')].map(e => [e.dataset.part, e.dataset.state])")
                .await;
            let got: Vec<(String, String)> = got
                .as_array()
                .unwrap()
                .iter()
                .map(|p| {
                    (
                        p[0].as_str().unwrap().to_string(),
                        p[1].as_str().unwrap().to_string(),
                    )
                })
                .collect();
            assert_eq!(got, want, "{preset} at {t} ms ({w}x{h}): page vs native");
            let text = page.text("[data-testid=caption]").await;
            assert_eq!(
                text,
                caption(&stage, sim.marks(), Lang::En).text,
                "{preset} at {t} ms: caption"
            );
            page.screenshot(&format!("stage-{preset}-{t}-{w}x{h}"))
                .await;
        }
    }
    // The three full-sync paths look different: the RDB comes from the disk, from the fork
    // child, or over its own channel.
    let state = |preset: &str, t: u64| {
        let s = Scenario::preset(preset).unwrap();
        let mut sim = Simulation::new(&s, 1);
        sim.run_until(t);
        Stage::from_frame(&sim.frame()).parts()
    };
    let has = |parts: &[(String, String)], p: &str, st: &str| {
        parts.iter().any(|(a, b)| a == p && b == st)
    };
    let disk_fork = state("disk-sync-loop", 100_000);
    assert!(has(&disk_fork, "fork", "writing-disk") && has(&disk_fork, "disk", "writing"));
    assert!(has(&disk_fork, "tank-1", "over-soft"));
    let disk_send = state("disk-sync-loop", 120_000);
    assert!(has(&disk_send, "disk", "sending") && has(&disk_send, "link-1", "rdb"));
    assert!(has(&disk_send, "replica-1", "receiving"));
    let diskless = state("diskless-fix", 100_000);
    assert!(
        has(&diskless, "fork", "writing-sockets") && !diskless.iter().any(|(p, _)| p == "disk")
    );
    let cut = state("backlog-sized", 35_000);
    assert!(has(&cut, "link-1", "cut") && has(&cut, "replica-1", "connecting"));
    page.client
        .goto(&format!("{}?preset=dual-channel-fix&t=100000", page.base))
        .await
        .unwrap();
    page.wait_for(".stage-wrap .wire.channel").await;
    page.wait_for(".stage-wrap [data-route=rdb-1]").await;
    page.close().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn the_ring_keeps_the_replica_offset_through_the_outage() {
    // backlog-sized: the link is cut from 30 s to 40 s; the backlog covers the outage.
    let s = Scenario::preset("backlog-sized").unwrap();
    let mut sim = Simulation::new(&s, 1);
    sim.run_until(29_900);
    let before = sim.frame().replicas[0].offset;
    sim.run_until(35_000);
    let during = sim.frame().replicas[0].clone();
    assert!(
        during.offset_cached,
        "the native frame keeps the cached offset"
    );
    let page = Page::open("preset=backlog-sized&t=35000&tab=buffers").await;
    let marker = "[data-testid=ring] .marker[data-replica=replica-1]";
    assert_eq!(page.attr(marker, "data-coverage").await, "inside");
    let offset: i64 = page.attr(marker, "data-offset").await.parse().unwrap();
    assert_eq!(offset, during.offset);
    assert!(
        offset > 0 && offset >= before,
        "{offset} vs {before} before the cut"
    );
    page.screenshot("ring-during-outage-backlog-sized").await;
    // After the cut, +CONTINUE: a partial resync, no full sync.
    page.set_control("[data-testid=scrub]", "45000", "input")
        .await;
    until("45 s", || async { page.now_ms().await == 45_000 }).await;
    page.open_tab("summary").await;
    assert_eq!(page.attr("tr[data-replica]", "data-partial-ok").await, "1");
    // With a backlog too small for the outage, the same moment is outside.
    page.client
        .goto(&format!(
            "{}?preset=backlog-too-small&t=35000&tab=buffers",
            page.base
        ))
        .await
        .unwrap();
    until("the marker outside", || async {
        page.attr(marker, "data-coverage").await == "outside"
    })
    .await;
    page.close().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn playing_stops_at_the_end_of_the_run() {
    let end = Scenario::preset("backlog-sized").unwrap().duration;
    let page = Page::open(&format!("preset=backlog-sized&t={}&speed=20", end - 3_000)).await;
    assert_eq!(
        page.attr("[data-testid=scrub]", "max").await,
        end.to_string()
    );
    page.click("[data-testid=play]").await;
    until("playing to stop by itself", || async {
        page.attr("#app-ready", "data-playing").await == "false"
    })
    .await;
    assert_eq!(page.now_ms().await, end, "stopped exactly at the end");
    assert_eq!(
        page.attr("[data-testid=scrub]", "max").await,
        end.to_string()
    );
    // Play at the end starts over; Restart keeps the run's own range.
    page.click("[data-testid=play]").await;
    until("a new start", || async { page.now_ms().await < 30_000 }).await;
    page.click("[data-testid=play]").await;
    page.click("[data-testid=restart]").await;
    until("restart", || async { page.now_ms().await == 0 }).await;
    assert_eq!(
        page.attr("[data-testid=scrub]", "max").await,
        end.to_string()
    );
    page.close().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn clicking_the_stage_opens_details_and_cuts_links() {
    let page = Page::open("preset=psync-no-reconnection-disk&t=30000").await;
    page.resize(1280, 720).await;
    page.click(".stage-wrap [data-part=tank-1]").await;
    let text = page.text("[data-testid=inspector][data-part=tank-1]").await;
    assert!(
        text.contains("client-output-buffer-limit replica"),
        "{text}"
    );
    page.screenshot("inspector-tank-1280x720").await;
    page.click(".stage-wrap [data-part=master]").await;
    let text = page.text("[data-testid=inspector][data-part=master]").await;
    assert!(text.contains("role:master"), "{text}");
    // From the keyboard: focus a replica, Enter opens its INFO, Escape closes.
    page.exec("document.querySelector('.stage-wrap [data-part=replica-1]').focus()")
        .await;
    page.exec("document.activeElement.dispatchEvent(new KeyboardEvent('keydown', {key: 'Enter', bubbles: true}))")
        .await;
    let text = page
        .text("[data-testid=inspector][data-part=replica-1]")
        .await;
    assert!(text.contains("role:slave"), "{text}");
    let inside = page
        .exec("const b = document.querySelector('[data-testid=inspector]').getBoundingClientRect(); return b.top >= 0 && b.bottom <= innerHeight && b.right <= innerWidth")
        .await;
    assert_eq!(inside, true, "the inspector opens in view");
    page.key("Escape").await;
    until("the inspector to close", || async {
        page.client
            .find(fantoccini::Locator::Css("[data-testid=inspector]"))
            .await
            .is_err()
    })
    .await;
    // A click on the link cuts it, at this moment, as the native run would.
    page.click(".stage-wrap [data-part=link-1]").await;
    until("the link drawn cut", || async {
        page.attr(".stage-wrap [data-part=link-1]", "data-state")
            .await
            == "cut"
    })
    .await;
    assert!(page.text("[data-testid=caption]").await.contains("link"));
    page.screenshot("link-cut-1280x720").await;
    page.close().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn the_help_sheet_opens_in_view_from_anywhere() {
    let page = Page::open("preset=disk-sync-loop&t=100000&tab=parameters").await;
    for (w, h) in SIZES {
        page.resize(w, h).await;
        page.exec("window.scrollTo(0, document.body.scrollHeight)")
            .await;
        page.key("?").await;
        page.wait_for("[data-testid=help]").await;
        let inside = page
            .exec("const b = document.querySelector('[data-testid=help]').getBoundingClientRect(); return b.top >= 0 && b.bottom <= innerHeight && b.left >= 0 && b.right <= innerWidth && b.height > 100")
            .await;
        assert_eq!(inside, true, "the help sheet is in view at {w}x{h}");
        page.screenshot(&format!("help-sheet-{w}x{h}")).await;
        page.key("Escape").await;
        until("help closed", || async {
            page.client
                .find(fantoccini::Locator::Css("[data-testid=help]"))
                .await
                .is_err()
        })
        .await;
    }
    page.close().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn chinese_covers_causes_help_summary_and_legends() {
    let page = Page::open("preset=disk-sync-loop&t=200000&lang=zh&tab=why").await;
    page.resize(1280, 720).await;
    let why = page.text("[data-testid=why]").await;
    assert!(
        why.contains("不在积压缓冲区"),
        "the causes are in Chinese: {why}"
    );
    assert!(page
        .text("[data-testid=caption]")
        .await
        .chars()
        .any(|c| ('\u{4e00}'..='\u{9fff}').contains(&c)));
    page.open_tab("parameters").await;
    let help = page.text("[data-testid=parameters]").await;
    assert!(
        help.contains("为部分重同步保留的历史"),
        "parameter help in Chinese"
    );
    page.open_tab("summary").await;
    let fits = page
        .exec("const t = document.querySelector('.summary-table'); const p = document.querySelector('[data-testid=tab-panel]').getBoundingClientRect(); const b = t.getBoundingClientRect(); return b.right <= p.right && t.scrollWidth <= t.clientWidth + 1")
        .await;
    assert_eq!(fits, true, "the summary table is not clipped");
    page.screenshot("chinese-summary-1280x720").await;
    page.open_tab("chart").await;
    let stroke = page
        .exec("const l = document.querySelector('.chart .legend .sample line.backlog'); const s = getComputedStyle(l); return [s.stroke, s.strokeWidth, l.closest('.sample').textContent]")
        .await;
    assert_ne!(stroke[0], "none", "the histlen legend line is drawn");
    assert!(stroke[2].as_str().unwrap().contains("repl_backlog_histlen"));
    page.screenshot("chinese-chart-1280x720").await;
    page.close().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn timeline_marks_stay_apart_and_are_all_in_the_legend() {
    let end = Scenario::preset("disk-sync-loop").unwrap().duration;
    let page = Page::open(&format!("preset=disk-sync-loop&t={end}")).await;
    for (w, h) in SIZES {
        page.resize(w, h).await;
        let v = page
            .exec(
                r#"
            const boxes = [...document.querySelectorAll('.timeline .mark rect')].map(r => r.getBoundingClientRect());
            let worst = 0;
            for (let i = 0; i < boxes.length; i++) for (let j = i + 1; j < boxes.length; j++) {
                const a = boxes[i], b = boxes[j];
                const ox = Math.min(a.right, b.right) - Math.max(a.left, b.left);
                const oy = Math.min(a.bottom, b.bottom) - Math.max(a.top, b.top);
                if (ox > 0 && oy > 0) worst = Math.max(worst, ox * oy / (a.width * a.height));
            }
            const glyphs = [...new Set([...document.querySelectorAll('.timeline .mark text')].map(t => t.textContent))];
            const legend = document.querySelector('.timeline figcaption').textContent;
            return { n: boxes.length, worst, missing: glyphs.filter(g => !legend.includes(g)) };
        "#,
            )
            .await;
        assert!(v["n"].as_u64().unwrap() > 10, "marks drawn: {v}");
        assert!(
            v["worst"].as_f64().unwrap() < 0.1,
            "marks cover each other at {w}x{h}: {v}"
        );
        assert_eq!(
            v["missing"].as_array().unwrap().len(),
            0,
            "glyphs missing from the legend: {v}"
        );
        page.exec("document.querySelector('[data-testid=tab-panel]').scrollIntoView()")
            .await;
        page.screenshot(&format!("timeline-marks-{w}x{h}")).await;
    }
    page.close().await;
}

/// For `ms` of playing: the intervals between frames (`requestAnimationFrame`), and what each
/// frame cost the app (simulation and render, `data-frame-ms`), both sorted.
async fn frame_times(page: &Page, ms: u32) -> (Vec<f64>, Vec<f64>) {
    let js = format!(
        r#"
        const done = arguments[arguments.length - 1];
        const main = document.getElementById('app-ready');
        const gaps = [], work = []; let last = performance.now(); const end = last + {ms};
        function f(t) {{
            gaps.push(t - last); last = t;
            work.push(parseFloat(main.dataset.frameMs || 'NaN'));
            if (t < end) requestAnimationFrame(f); else done([gaps, work]);
        }}
        requestAnimationFrame(f);
    "#
    );
    let v = page
        .client
        .execute_async(&js, vec![])
        .await
        .expect("frame timing script");
    let list = |i: usize| {
        let mut t: Vec<f64> = v[i]
            .as_array()
            .unwrap()
            .iter()
            .filter_map(|x| x.as_f64())
            .filter(|x| x.is_finite())
            .collect();
        t.sort_by(|a, b| a.partial_cmp(b).unwrap());
        t
    };
    (list(0), list(1))
}

fn p95(sorted: &[f64]) -> f64 {
    sorted[(sorted.len() * 95 / 100).min(sorted.len() - 1)]
}

/// Frame times with 8 replicas at 100× with the stage drawn, and how soon Pause acts at
/// 1000×: measurements printed for the README. The assertions are behavioural: frames are
/// drawn and time moves, and the first frame after Pause is already paused.
#[tokio::test(flavor = "multi_thread")]
async fn frame_times_and_pause_latency_with_eight_replicas() {
    // A six-hour run, so it is still playing when measured at 1000×.
    let page = Page::open("preset=disk-sync-loop&p.replicas=8&p.duration=6h&speed=100").await;
    page.resize(1280, 720).await;
    page.click("[data-testid=play]").await;
    let (gaps, work) = frame_times(&page, 5_000).await;
    assert!(gaps.len() > 10 && work.len() > 10, "frames were drawn");
    let mean = gaps.iter().sum::<f64>() / gaps.len() as f64;
    println!(
        "FRAME TIMES 8 replicas @100x with the stage: {} frames in 5 s ({:.0} fps); work per frame p50 {:.1} ms, p95 {:.1} ms, max {:.1} ms; frame interval p95 {:.1} ms",
        gaps.len(),
        1000.0 / mean,
        work[work.len() / 2],
        p95(&work),
        work[work.len() - 1],
        p95(&gaps),
    );
    assert!(
        page.now_ms().await > 0,
        "virtual time advanced while playing"
    );
    page.screenshot("eight-replicas-playing-100x").await;

    page.set_control("[data-testid=speed]", "12", "input").await;
    until("1000x", || async {
        page.text("[data-testid=speed-label]").await == "1000×"
    })
    .await;
    assert_eq!(page.attr("#app-ready", "data-playing").await, "true");
    let (gaps, work) = frame_times(&page, 3_000).await;
    println!(
        "FRAME TIMES 8 replicas @1000x: {} frames in 3 s; work per frame p50 {:.1} ms, p95 {:.1} ms; frame interval p95 {:.1} ms",
        gaps.len(),
        work[work.len() / 2],
        p95(&work),
        p95(&gaps),
    );
    // Pause, as a click does: then watch the next frames.
    let v = page
        .client
        .execute_async(
            r#"
        const done = arguments[arguments.length - 1];
        const main = document.getElementById('app-ready');
        const t0 = performance.now();
        const seen = [[0, main.dataset.playing, main.dataset.now]];
        document.querySelector('[data-testid=play]').click();
        function f(t) {
            seen.push([t - t0, main.dataset.playing, main.dataset.now]);
            if (seen.length < 5) requestAnimationFrame(f); else done(seen);
        }
        requestAnimationFrame(f);
    "#,
            vec![],
        )
        .await
        .expect("pause timing script");
    let seen = v.as_array().unwrap();
    println!("PAUSE at 1000x, 8 replicas: [ms after the click, playing, now] before and at the next frames {seen:?}");
    assert_eq!(seen[0][1], "true", "it was playing when Pause was clicked");
    let frames = &seen[1..];
    assert_eq!(
        frames[0][1], "false",
        "paused by the first frame after the click"
    );
    assert!(
        frames.iter().all(|f| f[2] == frames[0][2]),
        "time does not move after Pause: {frames:?}"
    );
    page.close().await;
}
