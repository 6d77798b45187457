//! The version on the page in headless Chromium (needs `trunk build --release`): the selector
//! and `version=` change the run (checked against a native run of the same scenario on that
//! version), a bad `version=` is named and the page still works, side by side compares two
//! versions with both panels labelled, and the stage draws Redis 8.2's RDB channel and
//! Valkey's dual channel by their own names. Screenshots go to the target dir's `screenshots/`.
#![cfg(not(target_arch = "wasm32"))]

mod support;
use replscope::sim::{Scenario, Simulation};
use replscope::web::stage::Stage;
use support::browser::{until, Page};

/// The stage's parts and states of a native run of `preset` with `sets` at `t` ms.
fn native(preset: &str, sets: &[(&str, &str)], t: u64) -> Stage {
    let mut s = Scenario::preset(preset).unwrap();
    for (n, v) in sets {
        s.set(n, v).unwrap();
    }
    let mut sim = Simulation::new(&s, 1);
    sim.run_until(t);
    Stage::from_frame(&sim.frame())
}

async fn page_parts(page: &Page, svg: &str) -> Vec<(String, String)> {
    let js = format!(
        "return [...document.querySelectorAll('{svg} [data-part]')].map(e => [e.dataset.part, e.dataset.state])"
    );
    page.exec(&js)
        .await
        .as_array()
        .unwrap()
        .iter()
        .map(|p| {
            (
                p[0].as_str().unwrap().to_string(),
                p[1].as_str().unwrap().to_string(),
            )
        })
        .collect()
}

/// After the cut at 80 s both versions are in their second full sync: Redis 7.0's master
/// buffers the stream for the replica, Redis 8.2's replica buffers it on its own side.
const T: u64 = 100_000;

#[tokio::test(flavor = "multi_thread")]
async fn the_version_selector_and_link_change_the_run() {
    let on82 = native("rdb-channel-fix", &[], T);
    let on70 = native("rdb-channel-fix", &[("version", "redis-7.0")], T);
    assert_ne!(
        on82.parts(),
        on70.parts(),
        "the versions must differ at {T} ms"
    );

    // version= in the link.
    let page = Page::open(&format!("preset=rdb-channel-fix&version=redis-7.0&t={T}")).await;
    page.wait_for(".stage-wrap svg.stage [data-part=master]")
        .await;
    assert_eq!(
        page_parts(&page, ".stage-wrap svg.stage").await,
        on70.parts()
    );
    assert_eq!(page.text("[data-testid=stage-version]").await, "Redis 7.0");
    let selected = page
        .exec("return document.querySelector('[data-testid=version-select]').value")
        .await;
    assert_eq!(selected, "redis-7.0");

    // The selector: the run starts over on Redis 8.2; at the same moment it matches 8.2's run.
    page.set_control("[data-testid=version-select]", "redis-8.2", "change")
        .await;
    until("the stage shows Redis 8.2", || async {
        page.text("[data-testid=stage-version]").await == "Redis 8.2"
    })
    .await;
    let search = page.exec("return location.search").await;
    assert!(
        search.as_str().unwrap().contains("version=redis-8.2"),
        "the link keeps the version: {search}"
    );
    page.set_control("[data-testid=scrub]", &T.to_string(), "input")
        .await;
    until("the page reaches 100 s", || async {
        page.now_ms().await == T
    })
    .await;
    assert_eq!(
        page_parts(&page, ".stage-wrap svg.stage").await,
        on82.parts()
    );
    page.close().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_bad_version_is_named_and_the_page_still_works() {
    let page = Page::open("preset=disk-sync-loop&version=redis-9&t=100000").await;
    let notice = page.text("[data-testid=notices]").await;
    for want in ["redis-9", "redis-7.0", "redis-8.2", "valkey-9.1"] {
        assert!(notice.contains(want), "{want} in the notice: {notice}");
    }
    // The preset's own version, and its run.
    assert_eq!(page.text("[data-testid=stage-version]").await, "Redis 7.0");
    let want = native("disk-sync-loop", &[], 100_000).parts();
    assert_eq!(page_parts(&page, ".stage-wrap svg.stage").await, want);
    page.resize(1280, 720).await;
    page.screenshot("versions-bad-version-1280x720").await;
    page.close().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn side_by_side_compares_two_versions() {
    let page = Page::open(&format!("preset=disk-sync-loop&t={T}&view=compare")).await;
    page.wait_for("[data-testid=compare-version]").await;
    page.set_control("[data-testid=compare-version]", "redis-8.2", "change")
        .await;
    until("B is Redis 8.2", || async {
        page.text("[data-testid=label-b]").await == "B · Redis 8.2"
    })
    .await;
    let compare = page.text("[data-testid=compare]").await;
    assert!(compare.contains("A · Redis 7.0"), "{compare}");
    // disk-sync-loop syncs from disk: 8.2 keeps one connection there, and the page says so.
    let b = native("disk-sync-loop", &[("version", "redis-8.2")], T);
    assert_eq!(
        page_parts(&page, "[data-testid=stage-b] svg.stage").await,
        b.parts()
    );
    page.click("[data-testid=compare-version-hint]").await;
    until("B is Redis 8.2, diskless", || async {
        page.text("[data-testid=label-b]").await == "B · Redis 8.2, repl-diskless-sync yes"
    })
    .await;
    let b = native(
        "disk-sync-loop",
        &[("version", "redis-8.2"), ("repl-diskless-sync", "yes")],
        T,
    );
    assert!(
        b.replicas[0].link.rdb_channel,
        "8.2 diskless opens its RDB channel"
    );
    assert_eq!(
        page_parts(&page, "[data-testid=stage-b] svg.stage").await,
        b.parts()
    );
    assert_eq!(
        page.text("[data-testid=stage-b] [data-testid=stage-version]")
            .await,
        "Redis 8.2"
    );
    for (w, h) in [(1280, 720), (1920, 1080)] {
        page.resize(w, h).await;
        page.screenshot(&format!("versions-side-by-side-{w}x{h}"))
            .await;
    }
    // The preset about 8.2's RDB channel compares with Redis 7.0 by itself.
    page.client
        .goto(&format!(
            "{}?preset=rdb-channel-fix&t={T}&view=compare",
            page.base
        ))
        .await
        .unwrap();
    until("rdb-channel-fix's own comparison", || async {
        page.text("[data-testid=label-b]").await == "B · Redis 7.0"
    })
    .await;
    page.close().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn the_stage_names_each_versions_second_channel() {
    let page = Page::open("").await;
    for (preset, name) in [
        ("rdb-channel-fix", "RDB channel"),
        ("dual-channel-fix", "dual channel"),
    ] {
        let st = native(preset, &[], T);
        assert!(
            st.replicas[0].link.rdb_channel,
            "{preset}: a second channel at {T} ms"
        );
        assert!(
            st.replicas[0].local_buffer > 0,
            "{preset}: the replica buffers the stream"
        );
        page.client
            .goto(&format!("{}?preset={preset}&t={T}", page.base))
            .await
            .unwrap();
        page.wait_for(".stage-wrap .wire.channel").await;
        assert_eq!(
            page.text(".stage-wrap [data-testid=channel-name]").await,
            name
        );
        let replica = page.text(".stage-wrap [data-part=replica-1]").await;
        assert!(replica.contains("own buffer"), "{preset}: {replica}");
        page.resize(1280, 720).await;
        page.screenshot(&format!("versions-stage-{preset}-1280x720"))
            .await;
    }
    page.close().await;
}
