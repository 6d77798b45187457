//! The web app's URL state (`web::url::parse`) and what the page reads from a live feed
//! (`web::live`): any query string gives a state and notices, never a panic, and the state a
//! query produced reads back the same from its own query.
#![no_main]

use libfuzzer_sys::fuzz_target;
use replscope::web::live::{check_feed_url, LiveFeed};
use replscope::web::model::{SimValidator, DEFAULT_PRESET};
use replscope::web::url;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    if let Err(e) = url::check_reads_back(text, DEFAULT_PRESET, &SimValidator) {
        panic!("{e}");
    }
    let _ = check_feed_url(text);
    let mut feed = LiveFeed::new("ws://127.0.0.1:6381/");
    let _ = feed.ingest(text);
});
