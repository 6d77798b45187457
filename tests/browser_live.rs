//! Live mode end to end with real parts: our server with its live feed on 127.0.0.1, a real
//! redis-server 7.0 replicating from it, and the page drawing both in headless Chromium.
#![cfg(not(target_arch = "wasm32"))]

mod support;
use std::time::{Duration, Instant};
use support::browser::Page;
use support::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn live_mode_draws_a_real_server_and_its_real_replica() {
    if !have_real_redis("live_mode_draws_a_real_server_and_its_real_replica") {
        return;
    }
    // The page is served on a port of its own: open it first, so the feed can allow exactly
    // its origin (the feed refuses pages not in --live-allow-origin).
    let page = Page::open("preset=psync-no-reconnection-diskless").await;
    let origin = page.base.trim_end_matches('/').to_string();
    let dir = tempfile::tempdir().unwrap();
    let live = free_port();
    let ours = start_ours(
        &dir.path().join("master"),
        &[
            "--live-port",
            &live.to_string(),
            "--live-allow-origin",
            &origin,
        ],
    )
    .await;
    for i in 0..200 {
        cli(ours.port, &["set", &format!("key:{i}"), "value"]);
    }
    let replica = RealRedis::replica_of(&dir.path().join("replica"), ours.port, &[]);

    let url = format!("ws://127.0.0.1:{live}/");
    let query = format!(
        "preset=psync-no-reconnection-diskless&live={}",
        replscope::web::url::encode(&url)
    );
    page.client
        .goto(&format!("{}?{query}", page.base))
        .await
        .expect("open the live link");
    page.wait_for("#app-ready").await;
    let section = page.wait_for("[data-testid=live]").await;
    // Frames arrive (about ten a second) and show the real replica.
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let replicas = section
            .attr("data-replicas")
            .await
            .unwrap()
            .unwrap_or_default();
        let online = page
            .exec("return [...document.querySelectorAll('[data-testid=live] .buffer-row .state')].map(e => e.textContent).join(',')")
            .await;
        if replicas == "1" && online.as_str().unwrap_or("").contains("online") {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "the live view never showed the replica online: {online}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    // The real replica really has the data, and the page shows the master's log lines.
    wait_for(Duration::from_secs(20), "replica dataset", {
        let rport = replica.port;
        move || dataset(rport).len() == 200
    })
    .await;
    // The live frame has none of the simulator-only stage fields, and the stage still draws
    // the real replica, online.
    assert_eq!(
        page.attr("[data-testid=live] [data-part=replica-1]", "data-state")
            .await,
        "online"
    );
    // The online replica is drawn inside the backlog window (from its ACKed offset).
    let coverage = page.exec("return [...document.querySelectorAll('[data-testid=live] .marker')].map(e => e.dataset.coverage).join(',')").await;
    assert_eq!(coverage.as_str(), Some("inside"));
    let log = page.text("[data-testid=live] [data-testid=log]").await;
    assert!(
        log.contains("Synchronization with replica"),
        "live log: {log}"
    );
    // Two timelines on one axis: the simulation's and the live run's.
    let lanes = page
        .client
        .find_all(fantoccini::Locator::Css("[data-testid=live] .timeline"))
        .await
        .unwrap();
    assert_eq!(lanes.len(), 2);
    page.screenshot("live-mode-real-replica").await;

    // Disconnecting closes the feed and removes the live section.
    page.click("[data-testid=live-disconnect]").await;
    let deadline = Instant::now() + Duration::from_secs(10);
    while page
        .client
        .find(fantoccini::Locator::Css("[data-testid=live]"))
        .await
        .is_ok()
    {
        assert!(
            Instant::now() < deadline,
            "live section still shown after disconnect"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    page.close().await;
    ours.stop();
}

/// A server with `requirepass`: the feed refuses the page until the Live tab's password field
/// is filled, and the password reaches the socket only, never the page's link.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn the_live_tab_sends_the_password_to_the_socket_only() {
    let page = Page::open("preset=psync-no-reconnection-diskless&tab=live").await;
    let origin = page.base.trim_end_matches('/').to_string();
    let dir = tempfile::tempdir().unwrap();
    let live = free_port();
    // Characters a URL would misread, to see the token is encoded.
    let password = "s3cr&t =?#";
    let ours = start_ours(
        &dir.path().join("master"),
        &[
            "--live-port",
            &live.to_string(),
            "--live-allow-origin",
            &origin,
            "--requirepass",
            password,
        ],
    )
    .await;
    let url = format!("ws://127.0.0.1:{live}/");
    let frames = || async {
        page.exec("const s = document.querySelector('[data-testid=live]'); return s ? Number(s.dataset.frames) : -1")
            .await
            .as_i64()
            .unwrap_or(-1)
    };
    // Without the password: refused, and the page says why it is not connected.
    page.set_control("[data-testid=live-url]", &url, "change")
        .await;
    page.click("[data-testid=live-connect]").await;
    page.wait_for("[data-testid=live]").await;
    let deadline = Instant::now() + Duration::from_secs(3);
    while Instant::now() < deadline {
        assert!(
            frames().await <= 0,
            "the feed sent frames without the password"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    page.click("[data-testid=live-disconnect]").await;
    // With it: frames arrive.
    page.wait_for("[data-testid=live-connect]").await;
    page.set_control("[data-testid=live-url]", &url, "change")
        .await;
    page.set_control("[data-testid=live-password]", password, "change")
        .await;
    page.click("[data-testid=live-connect]").await;
    let deadline = Instant::now() + Duration::from_secs(20);
    while frames().await < 1 {
        assert!(Instant::now() < deadline, "no frames with the password");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    // The link names the feed, never the password.
    let search = page
        .exec("return decodeURIComponent(location.search)")
        .await;
    let search = search.as_str().unwrap();
    assert!(search.contains(&format!("live={url}")), "{search}");
    assert!(
        !search.contains("token") && !search.contains("s3cr"),
        "the password leaked into the link: {search}"
    );
    page.screenshot("live-password").await;
    page.close().await;
    ours.stop();
}
