//! End-to-end tests of the web app in headless Chromium (needs `trunk build --release`).
#![cfg(not(target_arch = "wasm32"))]

mod support {
    pub mod browser;
}
use support::browser::Page;

#[tokio::test(flavor = "multi_thread")]
async fn first_page_is_titled_replscope() {
    let page = Page::open("").await;
    let title = page.client.title().await.expect("title");
    assert_eq!(title, "ReplScope");
    assert_eq!(page.text("h1").await, "ReplScope");
    page.screenshot("first-page").await;
    page.close().await;
}
