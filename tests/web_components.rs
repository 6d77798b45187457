//! Component tests in a real headless Chromium (wasm-bindgen-test-runner + chromedriver).
#![cfg(target_arch = "wasm32")]

use wasm_bindgen_test::*;

wasm_bindgen_test_configure!(run_in_browser);

fn host() -> web_sys::Element {
    let document = web_sys::window().unwrap().document().unwrap();
    let host = document.create_element("div").unwrap();
    document.body().unwrap().append_child(&host).unwrap();
    host
}

#[wasm_bindgen_test]
async fn app_renders_its_title() {
    let host = host();
    let _app = replscope::web::render_into(host.clone());
    yew::scheduler::flush().await;
    let h1 = host.query_selector("h1").unwrap().expect("an h1");
    assert_eq!(h1.text_content().unwrap(), "ReplScope");
}

use replscope::view::{BacklogView, MasterView, ReplicaView};
use replscope::web::url::Lang;
use replscope::web::views::{
    buffers::BufferBars, buffers::BuffersProps, ring::BacklogRing, ring::RingProps,
};

fn replica(name: &str, offset: i64, obuf: u64, since: Option<u64>) -> ReplicaView {
    ReplicaView {
        name: name.into(),
        link_state: "connected".into(),
        master_side_state: "online".into(),
        offset,
        ack_offset: offset,
        obuf_bytes: obuf,
        hard_limit: 256 << 20,
        soft_limit: 64 << 20,
        soft_seconds: 60,
        soft_limit_since_ms: since,
        ..ReplicaView::default()
    }
}

#[wasm_bindgen_test]
async fn ring_marks_replicas_inside_and_outside_and_draws_growth() {
    let host = host();
    let master = MasterView {
        master_repl_offset: 3_000_000,
        backlog: Some(BacklogView {
            size: 1 << 20,
            first_byte_offset: 900_000,
            histlen: 2_100_001,
        }),
        ..MasterView::default()
    };
    // One replica still inside the window (PSYNC would continue), one fallen out of it.
    let props = RingProps {
        master,
        replicas: vec![replica("a", 2_500_000, 0, None), replica("b", 100, 0, None)],
        lang: Lang::En,
        title: Default::default(),
    };
    let _h = yew::Renderer::<BacklogRing>::with_root_and_props(host.clone(), props).render();
    yew::scheduler::flush().await;
    let cov = |name: &str| {
        host.query_selector(&format!("[data-replica='{name}']"))
            .unwrap()
            .and_then(|e| e.get_attribute("data-coverage"))
    };
    assert_eq!(cov("a").as_deref(), Some("inside"));
    assert_eq!(cov("b").as_deref(), Some("outside"));
    // histlen is twice the size: the 7.0 growth is drawn, not clipped.
    assert!(host.query_selector(".ring-grown").unwrap().is_some());
    assert!(host.text_content().unwrap().contains("+1 MB"));
}

#[wasm_bindgen_test]
async fn buffer_bars_show_levels_and_the_soft_limit_timer() {
    let host = host();
    let props = BuffersProps {
        replicas: vec![
            replica("calm", 0, 10 << 20, None),
            replica("over-soft", 0, 100 << 20, Some(5_000)),
            replica("over-hard", 0, 300 << 20, Some(1_000)),
        ],
        now_ms: 17_500,
        lang: Lang::En,
    };
    let _h = yew::Renderer::<BufferBars>::with_root_and_props(host.clone(), props).render();
    yew::scheduler::flush().await;
    let level = |name: &str| {
        host.query_selector(&format!(".buffer-row[data-replica='{name}']"))
            .unwrap()
            .and_then(|e| e.get_attribute("data-level"))
    };
    assert_eq!(level("calm").as_deref(), Some("ok"));
    assert_eq!(level("over-soft").as_deref(), Some("over-soft"));
    assert_eq!(level("over-hard").as_deref(), Some("over-hard"));
    let timer = host
        .query_selector(".buffer-row[data-replica='over-soft'] [data-testid=soft-timer]")
        .unwrap()
        .expect("a soft-limit timer")
        .text_content()
        .unwrap();
    assert_eq!(timer, "soft-limit timer 12.5s / 60s");
}
