//! Drives the release web build (`dist/`) in a real headless Chromium through chromedriver.
//!
//! `Page::open(query)` serves `dist/` on 127.0.0.1 (a small static server on its own thread),
//! starts chromedriver on a free port and opens the app. Every check can save a PNG under
//! `target/screenshots/` so a person can look at what the test saw.

#![allow(dead_code)] // each test file uses a different subset of these helpers

use super::free_port;
use fantoccini::{Client, ClientBuilder, Locator};
use hyper_util::client::legacy::connect::HttpConnector;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

pub fn repo_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn content_type(path: &Path) -> &'static str {
    match path.extension().and_then(|e| e.to_str()) {
        Some("html") => "text/html; charset=utf-8",
        Some("js") => "text/javascript",
        Some("wasm") => "application/wasm",
        Some("css") => "text/css",
        Some("svg") => "image/svg+xml",
        Some("json") => "application/json",
        _ => "application/octet-stream",
    }
}

/// Serves `dir` on 127.0.0.1 until the process exits; returns the port.
fn serve_dir(dir: PathBuf) -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind static server");
    let port = listener.local_addr().unwrap().port();
    std::thread::spawn(move || {
        for stream in listener.incoming().flatten() {
            let dir = dir.clone();
            std::thread::spawn(move || serve_one(stream, &dir));
        }
    });
    port
}

fn serve_one(mut stream: TcpStream, dir: &Path) {
    let mut reader = BufReader::new(stream.try_clone().unwrap());
    let mut request_line = String::new();
    if reader.read_line(&mut request_line).is_err() {
        return;
    }
    // Drain the headers; the static server needs none of them.
    let mut line = String::new();
    while reader.read_line(&mut line).map(|n| n > 2).unwrap_or(false) {
        line.clear();
    }
    let raw_path = request_line.split_whitespace().nth(1).unwrap_or("/");
    let path = raw_path.split(['?', '#']).next().unwrap_or("/");
    let rel = path.trim_start_matches('/');
    let mut file = if rel.is_empty() {
        dir.join("index.html")
    } else {
        dir.join(rel)
    };
    if rel.contains("..") || !file.is_file() {
        file = dir.join("index.html");
    }
    let mut body = Vec::new();
    if let Ok(mut f) = std::fs::File::open(&file) {
        let _ = f.read_to_end(&mut body);
    }
    let header = format!(
        "HTTP/1.1 200 OK\r\nContent-Type: {}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
        content_type(&file),
        body.len()
    );
    let _ = stream.write_all(header.as_bytes());
    let _ = stream.write_all(&body);
}

/// A chromedriver process, stopped on drop.
struct Driver(Child);

impl Drop for Driver {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

pub struct Page {
    pub client: Client,
    pub base: String,
    _driver: Driver,
}

impl Page {
    /// Opens the app with the given query string (without `?`), waiting for it to render.
    pub async fn open(query: &str) -> Page {
        let dist = repo_root().join("dist");
        assert!(
            dist.join("index.html").is_file(),
            "dist/ has no release build: run `trunk build --release` first (scripts/test.sh does)"
        );
        let http_port = serve_dir(dist);
        let driver_port = free_port();
        let driver_bin = std::env::var("CHROMEDRIVER").unwrap_or_else(|_| "chromedriver".into());
        let child = Command::new(&driver_bin)
            .arg(format!("--port={driver_port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {driver_bin}: {e} (install chromium-driver)"));
        let driver = Driver(child);
        let user_data = tempfile::tempdir().expect("temp dir for Chromium's profile");
        let user_data_dir = user_data.keep();
        let caps: serde_json::Map<String, serde_json::Value> = serde_json::from_value(serde_json::json!({
            "goog:chromeOptions": {
                "binary": std::env::var("CHROMIUM").unwrap_or_else(|_| "/usr/bin/chromium".into()),
                "args": ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
                         "--no-first-run", "--disable-background-networking",
                         "--disable-component-update", "--disable-sync",
                         "--window-size=1400,1000",
                         format!("--user-data-dir={}", user_data_dir.display())]
            }
        }))
        .unwrap();
        // chromedriver needs a moment to listen: retry the session until it answers.
        let deadline = Instant::now() + Duration::from_secs(30);
        let client = loop {
            match ClientBuilder::new(HttpConnector::new())
                .capabilities(caps.clone())
                .connect(&format!("http://127.0.0.1:{driver_port}"))
                .await
            {
                Ok(c) => break c,
                Err(e) if Instant::now() < deadline => {
                    let _ = e;
                    tokio::time::sleep(Duration::from_millis(100)).await;
                }
                Err(e) => panic!("chromedriver did not accept a session: {e}"),
            }
        };
        let base = format!("http://127.0.0.1:{http_port}/");
        let url = if query.is_empty() {
            base.clone()
        } else {
            format!("{base}?{query}")
        };
        client.goto(&url).await.expect("open the app");
        let page = Page {
            client,
            base,
            _driver: driver,
        };
        page.wait_for("#app-ready").await;
        page
    }

    /// Waits (up to 20 s) for an element matching `css` to exist.
    pub async fn wait_for(&self, css: &str) -> fantoccini::elements::Element {
        self.client
            .wait()
            .at_most(Duration::from_secs(20))
            .for_element(Locator::Css(css))
            .await
            .unwrap_or_else(|e| panic!("element {css} never appeared: {e}"))
    }

    pub async fn text(&self, css: &str) -> String {
        self.wait_for(css).await.text().await.expect("element text")
    }

    pub async fn click(&self, css: &str) {
        self.wait_for(css)
            .await
            .click()
            .await
            .unwrap_or_else(|e| panic!("click {css}: {e}"));
    }

    pub async fn exec(&self, js: &str) -> serde_json::Value {
        self.client
            .execute(js, vec![])
            .await
            .unwrap_or_else(|e| panic!("script failed: {e}\n{js}"))
    }

    /// Saves a PNG of the page to `target/screenshots/<name>.png`.
    pub async fn screenshot(&self, name: &str) {
        let png = self.client.screenshot().await.expect("screenshot");
        assert!(png.starts_with(b"\x89PNG"), "screenshot is not a PNG");
        let dir = repo_root().join("target/screenshots");
        std::fs::create_dir_all(&dir).expect("create target/screenshots");
        std::fs::write(dir.join(format!("{name}.png")), png).expect("write screenshot");
    }

    pub async fn close(self) {
        let _ = self.client.close().await;
    }
}
