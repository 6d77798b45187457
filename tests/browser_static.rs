//! The built folder on a plain static host: served under a sub-path (relative URLs), visited
//! once, then reloaded with the host stopped (the service worker in `static/sw.js`), where the
//! "How often?" seeds still run in web workers. Needs `trunk build --release` (or
//! `scripts/build-static.sh`), which writes `dist/`.
#![cfg(not(target_arch = "wasm32"))]

mod support;
use support::browser::{repo_root, until, Page, StaticServer};

/// The release build's folder, which these tests serve as a static host would.
fn built_dist() -> std::path::PathBuf {
    let dist = repo_root().join("dist");
    assert!(
        dist.join("index.html").is_file(),
        "dist/ has no release build: run scripts/build-static.sh (or trunk build --release)"
    );
    dist
}

#[tokio::test(flavor = "multi_thread")]
async fn the_built_folder_works_under_a_sub_path_and_reloads_offline() {
    let dist = built_dist();
    let html = std::fs::read_to_string(dist.join("index.html")).unwrap();
    assert!(
        !html.contains("href=\"/") && !html.contains("from '/"),
        "the page names its files with absolute paths:\n{html}"
    );
    let host = StaticServer::start_under(dist, "/course/replscope/");
    let base = format!("http://127.0.0.1:{}/course/replscope/", host.port);
    let page = Page::open_at(&base, "preset=diskless-fix&t=100000").await;
    page.wait_for(".stage-wrap [data-part=fork]").await;
    // The "Loading" placeholder of index.html went when the app mounted.
    assert_eq!(
        page.exec("return document.getElementById('loading') === null")
            .await,
        serde_json::Value::Bool(true),
        "the loading placeholder is still on the page"
    );

    // The service worker has taken over and stored the page and its files.
    let stored = page
        .client
        .execute_async(
            r#"
        const done = arguments[arguments.length - 1];
        navigator.serviceWorker.ready
          .then(async () => {
            for (let i = 0; i < 200 && !navigator.serviceWorker.controller; i++)
              await new Promise(r => setTimeout(r, 50));
            const keys = await (await caches.open('replscope')).keys();
            done(keys.map(k => new URL(k.url).pathname));
          })
          .catch(e => done(String(e)));
    "#,
            vec![],
        )
        .await
        .expect("service worker script");
    let stored: Vec<String> = serde_json::from_value(stored.clone())
        .unwrap_or_else(|_| panic!("no service worker cache: {stored}"));
    for ext in [".wasm", ".js", ".css"] {
        assert!(
            stored.iter().any(|p| p.ends_with(ext)),
            "the cache holds no {ext}: {stored:?}"
        );
    }
    assert!(stored.iter().all(|p| p.starts_with("/course/replscope/")));
    assert!(
        stored.contains(&"/course/replscope/spread-worker.js".to_string()),
        "the cache holds no spread worker: {stored:?}"
    );

    // The host goes away; the page still reloads, at another moment of another preset.
    host.stop();
    page.client
        .goto(&format!("{base}?preset=disk-sync-loop&t=120000"))
        .await
        .expect("reload offline");
    page.wait_for("#app-ready").await;
    until("the offline page at 2:00", || async {
        page.now_ms().await == 120_000
    })
    .await;
    assert_eq!(
        page.attr(".stage-wrap [data-part=disk]", "data-state")
            .await,
        "sending"
    );
    page.screenshot("offline-reload").await;

    // Offline, the spread's workers start from the cache and count.
    page.open_tab("seeds").await;
    page.click(".spread-count [data-runs='20']").await;
    page.click("[data-testid=spread-run]").await;
    until("20 runs counted offline", || async {
        page.attr("[data-testid=spread]", "data-state").await == "done"
    })
    .await;
    let at = page.attr("[data-testid=spread]", "data-ran").await;
    assert!(at.starts_with("workers-"), "offline, the seeds ran: {at}");
    assert_eq!(
        page.attr("[data-testid=spread-result]", "data-runs").await,
        "20"
    );
    page.close().await;
}

/// A folder whose wasm is missing (a partial upload, a host that blocks .wasm): the page says it
/// could not start and why, in both languages, instead of staying blank.
#[tokio::test(flavor = "multi_thread")]
async fn a_page_whose_wasm_cannot_load_says_why() {
    let dist = built_dist();
    let broken = tempfile::tempdir().expect("temp dir");
    for entry in std::fs::read_dir(&dist).unwrap() {
        let path = entry.unwrap().path();
        let is_wasm = path.extension().is_some_and(|e| e == "wasm");
        if path.is_file() && !is_wasm {
            std::fs::copy(&path, broken.path().join(path.file_name().unwrap())).unwrap();
        }
    }
    let host = StaticServer::start(broken.path().to_path_buf());
    let page = Page::open_unready(&format!("http://127.0.0.1:{}/", host.port), "").await;
    page.wait_for("#loading[data-state=failed]").await;
    let said = page.text("#loading .loading-error").await;
    assert!(
        said.starts_with("ReplScope could not start.") && said.contains("ReplScope 无法启动。"),
        "the page does not say it could not start: {said}"
    );
    let why = page.text("#loading .loading-why").await;
    assert!(
        why.contains("WebAssembly"),
        "the page does not give the browser's reason: {why:?}"
    );
    assert!(
        page.exec("return document.getElementById('app-ready') === null")
            .await
            == serde_json::Value::Bool(true),
        "an app mounted without its wasm"
    );
    page.screenshot("could-not-start").await;
    page.close().await;
}
