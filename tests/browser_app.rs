//! End-to-end tests of the web app in headless Chromium (needs `trunk build --release`; the
//! test command builds it first): the views under the stage, the controls, faults,
//! parameters, the URL, languages. Each check saves a screenshot under the target directory's
//! `screenshots/`. The stage itself is tested in `browser_stage.rs`.
#![cfg(not(target_arch = "wasm32"))]

mod support;
use replscope::sim::{self, summary::check_summary, Scenario, Simulation};
use support::browser::{until, Page};

#[tokio::test(flavor = "multi_thread")]
async fn every_view_draws_the_simulation() {
    let page = Page::open("preset=disk-sync-loop&t=95000").await;
    assert_eq!(page.client.title().await.unwrap(), "ReplScope");
    assert_eq!(page.now_ms().await, 95_000);
    page.open_tab("buffers").await;
    assert_eq!(
        page.attr("[data-testid=ring]", "data-backlog").await,
        "active"
    );
    let histlen: u64 = page
        .attr("[data-testid=ring]", "data-histlen")
        .await
        .parse()
        .unwrap();
    assert!(histlen > 0, "the backlog holds history");
    // The page draws what the native simulator computes for the same moment.
    let s = Scenario::preset("disk-sync-loop").unwrap();
    let mut sim = Simulation::new(&s, 1);
    sim.run_until(95_000);
    let frame = sim.frame();
    let b = frame.master.backlog.as_ref().expect("native backlog");
    assert_eq!(histlen, b.histlen);
    let r = &frame.replicas[0];
    let obuf: u64 = page.attr(".buffer-row", "data-obuf").await.parse().unwrap();
    assert_eq!(obuf, r.obuf_bytes);
    page.open_tab("timeline").await;
    let spans = page
        .client
        .find_all(fantoccini::Locator::Css(".timeline .span"))
        .await
        .unwrap();
    assert!(!spans.is_empty(), "timeline has spans");
    page.open_tab("chart").await;
    let points: usize = page
        .attr("[data-testid=chart]", "data-points")
        .await
        .parse()
        .unwrap();
    assert!(points > 10, "chart has samples");
    page.open_tab("log").await;
    let lines: usize = page
        .attr("[data-testid=log]", "data-lines")
        .await
        .parse()
        .unwrap();
    assert_eq!(lines, sim.log().iter().filter(|l| l.t_ms <= 95_000).count());
    page.open_tab("info").await;
    let info = page.text("pre.info").await;
    assert!(
        info.starts_with("# Replication\nrole:master"),
        "INFO replication: {info}"
    );
    page.open_tab("why").await;
    assert!(page
        .text("[data-testid=why]")
        .await
        .contains("outside the backlog"));
    page.screenshot("views-disk-sync-loop").await;
    page.close().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn playback_controls_move_time_both_ways() {
    let page = Page::open("preset=backlog-too-small&speed=10&tab=log").await;
    assert_eq!(page.now_ms().await, 0);
    page.click("[data-testid=play]").await;
    until("time to advance while playing", || async {
        page.now_ms().await > 2_000
    })
    .await;
    page.click("[data-testid=play]").await;
    assert_eq!(page.attr("#app-ready", "data-playing").await, "false");
    page.screenshot("controls-after-play").await;

    // Step to the next log line: time moves to exactly a line's time.
    let before = page.now_ms().await;
    page.click("[data-testid=step]").await;
    until("step to move forward", || async {
        page.now_ms().await > before
    })
    .await;
    let stepped = page.now_ms().await;
    let lines = page
        .exec("return [...document.querySelectorAll('.log-line')].map(l => +l.dataset.t)")
        .await;
    assert!(
        lines
            .as_array()
            .unwrap()
            .iter()
            .any(|t| t.as_u64() == Some(stepped)),
        "stopped at a log line"
    );

    // Step back: earlier.
    page.click("[data-testid=step-back]").await;
    until("step back to move backwards", || async {
        page.now_ms().await < stepped
    })
    .await;
    let back = page.now_ms().await;

    // Jump to the next interesting event (sync, cut-off, resync, fault): it is selected and
    // explained in the "why" panel.
    page.click("[data-testid=next-interesting]").await;
    until("an interesting event", || async {
        page.now_ms().await > back
    })
    .await;
    page.open_tab("why").await;
    let why = page.text("[data-testid=why-selected]").await;
    assert!(!why.trim().is_empty(), "the event is explained");
    page.screenshot("controls-next-interesting").await;

    // Clicking a log line jumps to that moment.
    page.open_tab("log").await;
    let first_line_t = page
        .exec("const b = document.querySelector('.log-line:last-child button'); const t = +b.parentElement.dataset.t; b.click(); return t")
        .await
        .as_u64()
        .expect("a log line time");
    until("the clicked line's moment", || async {
        page.now_ms().await == first_line_t
    })
    .await;

    // Scrub the time axis.
    page.set_control("[data-testid=scrub]", "60000", "input")
        .await;
    until("scrub to 60 s", || async { page.now_ms().await == 60_000 }).await;
    assert_eq!(page.text("[data-testid=clock]").await, "1:00.0");

    // Speed slider and keyboard shortcuts.
    page.set_control("[data-testid=speed]", "12", "input").await;
    until("speed 1000x", || async {
        page.text("[data-testid=speed-label]").await == "1000×"
    })
    .await;
    page.key("-").await;
    until("'-' slows down", || async {
        page.text("[data-testid=speed-label]").await == "500×"
    })
    .await;
    page.key("?").await;
    page.wait_for("[data-testid=help]").await;
    page.screenshot("controls-help-sheet").await;
    assert!(page.text("[data-testid=help]").await.contains("Space"));
    page.close().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn faults_and_parameters_change_the_run() {
    // A preset with no faults of its own: whatever is cut here is the button's doing.
    let page = Page::open("preset=psync-no-reconnection-disk&t=30000&tab=buffers").await;
    page.click("[data-testid=cut-0]").await;
    page.set_control("[data-testid=scrub]", "60000", "input")
        .await;
    until("time to reach 60 s", || async {
        page.now_ms().await == 60_000
    })
    .await;
    // The page shows exactly what the native simulator does with the same cut at 30 s.
    let s = Scenario::preset("psync-no-reconnection-disk").unwrap();
    let mut native = Simulation::new(&s, 1);
    native.run_until(30_000);
    native.cut_link(1, 10_000);
    native.run_until(60_000);
    let want = &native.summary().replicas[0];
    assert_eq!(
        want.disconnects.get("link_cut"),
        Some(&1),
        "the native run saw the cut"
    );
    page.open_tab("summary").await;
    let disc: u64 = page
        .attr("tr[data-replica]", "data-disconnects")
        .await
        .parse()
        .unwrap();
    assert_eq!(disc, want.disconnects.values().sum::<u64>());
    let partial: u64 = page
        .attr("tr[data-replica]", "data-partial-ok")
        .await
        .parse()
        .unwrap();
    assert_eq!(partial, want.partial_syncs_accepted);
    page.open_tab("timeline").await;
    assert!(
        page.exec("return document.querySelectorAll('.timeline .mark[data-kind=LinkCut]').length")
            .await
            .as_u64()
            >= Some(1)
    );
    page.screenshot("fault-cut-link").await;

    // A bad value typed into a parameter is refused with a message, and the run is kept.
    page.open_tab("parameters").await;
    page.set_control("[data-param-text='repl-backlog-size']", "lots", "change")
        .await;
    let err = page.text("[data-testid=param-error]").await;
    assert!(
        err.contains("repl-backlog-size") || err.contains("lots"),
        "error names the problem: {err}"
    );
    assert_eq!(page.now_ms().await, 60_000);
    // A good value forks the run from now (the default change mode: the clock is not reset)
    // and lands in the URL with its moment.
    page.set_control("[data-param-text='repl-backlog-size']", "64mb", "change")
        .await;
    until("the change is in the link", || async {
        let search = page.exec("return location.search").await;
        search
            .as_str()
            .unwrap()
            .contains("e=60000.p.repl-backlog-size%3D64mb")
    })
    .await;
    assert_eq!(page.now_ms().await, 60_000, "forking keeps the time");
    // In "restart from zero" mode, a change restarts the run and is a starting value.
    page.set_control("[data-testid=change-mode]", "restart", "change")
        .await;
    page.set_control("[data-param-text='repl-backlog-size']", "32mb", "change")
        .await;
    until("restart after the change", || async {
        page.now_ms().await == 0
    })
    .await;
    let search = page.exec("return location.search").await;
    assert!(
        search
            .as_str()
            .unwrap()
            .contains("p.repl-backlog-size=32mb"),
        "{search}"
    );
    page.close().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn every_preset_shows_its_expected_outcome() {
    let page = Page::open("").await;
    for info in sim::presets() {
        let s = Scenario::preset(&info.name).unwrap();
        let mut native = Simulation::new(&s, 1);
        native.run_until(s.duration);
        let summary = native.summary();
        let failures = check_summary(&summary, &s.check);
        assert!(
            failures.is_empty(),
            "preset {} seed 1: {failures:?}",
            info.name
        );
        page.client
            .goto(&format!(
                "{}?preset={}&t={}&tab=about",
                page.base, info.name, s.duration
            ))
            .await
            .unwrap();
        page.wait_for("#app-ready").await;
        assert_eq!(
            page.text("[data-testid=expect]").await,
            info.expect,
            "preset {}",
            info.name
        );
        page.open_tab("summary").await;
        let rows = page
            .client
            .find_all(fantoccini::Locator::Css("tr[data-replica]"))
            .await
            .unwrap();
        assert_eq!(rows.len(), summary.replicas.len(), "preset {}", info.name);
        for (row, want) in rows.iter().zip(&summary.replicas) {
            let get =
                |n: &'static str| async move { row.attr(n).await.unwrap().unwrap_or_default() };
            let got = (
                get("data-full-syncs").await,
                get("data-partial-ok").await,
                get("data-partial-refused").await,
                get("data-in-sync").await,
                get("data-final-offset").await,
            );
            let expected = (
                want.full_syncs.to_string(),
                want.partial_syncs_accepted.to_string(),
                want.partial_syncs_refused.to_string(),
                want.in_sync_at_end.to_string(),
                want.final_offset.to_string(),
            );
            assert_eq!(
                got, expected,
                "preset {} replica {}: page vs native",
                info.name, want.name
            );
        }
        page.screenshot(&format!("preset-{}", info.name)).await;
    }
    page.close().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn the_url_reopens_the_same_moment() {
    let q = "preset=diskless-fix&seed=9&t=73000&speed=50&p.repl-backlog-size=4mb&view=compare&cmp=repl-diskless-sync%3Dno";
    let page = Page::open(q).await;
    assert!(
        page.client
            .find(fantoccini::Locator::Css("[data-testid=notices]"))
            .await
            .is_err(),
        "no notices"
    );
    assert_eq!(page.now_ms().await, 73_000);
    page.wait_for("[data-testid=compare]").await;
    page.screenshot("url-compare-view").await;
    page.open_tab("summary").await;
    let first = page.text("[data-testid=summary]").await;
    let search = page
        .exec("return location.search")
        .await
        .as_str()
        .unwrap()
        .to_string();
    assert!(
        search.contains("tab=summary"),
        "the open panel is in the link: {search}"
    );
    page.client
        .goto(&format!("{}{}", page.base, search))
        .await
        .unwrap();
    page.wait_for("#app-ready").await;
    assert_eq!(page.now_ms().await, 73_000);
    assert_eq!(page.text("[data-testid=summary]").await, first);
    assert_eq!(page.text("[data-testid=speed-label]").await, "50×");
    page.close().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn bad_url_values_are_named_and_never_injected() {
    let q = "preset=%3Cimg%20src%3Dx%20onerror%3Dalert(1)%3E&speed=99999&t=abc&p.repl-backlog-size=huge&%3Cscript%3E=1&lang=fr";
    let page = Page::open(q).await;
    let notices = page.text("[data-testid=notices]").await;
    for key in [
        "preset",
        "speed",
        "t",
        "p.repl-backlog-size",
        "<script>",
        "lang",
    ] {
        assert!(
            notices.contains(key),
            "notice for {key} missing in: {notices}"
        );
    }
    // Shown as text only: no element was created from the URL.
    let injected = page
        .exec("return document.querySelectorAll('img, main script').length")
        .await;
    assert_eq!(injected.as_u64(), Some(0));
    // Defaults are in force and the app still plays.
    assert_eq!(page.text("[data-testid=speed-label]").await, "10×");
    assert_eq!(page.now_ms().await, 0);
    page.screenshot("bad-url-notices").await;
    page.close().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn language_switch_to_chinese_and_back() {
    let page = Page::open("preset=disk-sync-loop&t=95000").await;
    assert!(page.text("[data-testid=play]").await.contains("Play"));
    page.set_control("[data-testid=lang]", "zh", "change").await;
    until("Chinese labels", || async {
        page.text("[data-testid=play]").await.contains("播放")
    })
    .await;
    assert_eq!(page.attr("#app-ready", "lang").await, "zh-CN");
    page.open_tab("buffers").await;
    assert!(page
        .text("[data-testid=buffers] h2")
        .await
        .contains("从节点输出缓冲区"));
    // Redis's own words stay as they are, so users can match their logs.
    page.open_tab("info").await;
    assert!(page.text("pre.info").await.contains("master_repl_offset:"));
    let search = page.exec("return location.search").await;
    assert!(search.as_str().unwrap().contains("lang=zh"));
    page.screenshot("language-zh").await;
    page.set_control("[data-testid=lang]", "en", "change").await;
    until("English labels", || async {
        page.text("[data-testid=play]").await.contains("Play")
    })
    .await;
    page.close().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn large_type_and_side_by_side_toggle() {
    let page = Page::open("preset=disk-sync-loop&t=120000").await;
    page.click("[data-testid=large]").await;
    until("large type", || async {
        page.attr("#app-ready", "class").await.contains("big")
    })
    .await;
    page.click("[data-testid=compare-toggle]").await;
    page.wait_for("[data-testid=compare]").await;
    let timelines = page
        .client
        .find_all(fantoccini::Locator::Css("[data-testid=compare] .timeline"))
        .await
        .unwrap();
    assert_eq!(timelines.len(), 2, "two runs on one time axis");
    // disk-sync-loop's own comparison is diskless sync: B's stage says so.
    assert_eq!(
        page.text("[data-testid=label-b]").await,
        "B · repl-diskless-sync yes"
    );
    page.screenshot("side-by-side-large").await;
    page.close().await;
}
