//! Drives the release web build (`dist/`) in a real headless Chromium through chromedriver.
//!
//! `Page::open(query)` serves `dist/` on 127.0.0.1 (a small static server on its own thread),
//! starts chromedriver on a free port and opens the app. `Page::resize` sets the viewport to an
//! exact size (1280×720, 1920×1080). Every check can save a PNG under the target directory's
//! `screenshots/` (`$CARGO_TARGET_DIR`, else `target/`) so a person can look at what the test saw.

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

/// `<target dir>/screenshots`: the cargo target directory in use (`CARGO_TARGET_DIR`, as the
/// test command and each engineer set it), else the worktree's `target/`.
pub fn screenshot_dir() -> PathBuf {
    std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .map(|d| {
            if d.is_absolute() {
                d
            } else {
                repo_root().join(d)
            }
        })
        .unwrap_or_else(|| repo_root().join("target"))
        .join("screenshots")
}

fn content_type(path: &Path) -> &'static str {
    match path.extension().and_then(|e| e.to_str()) {
        Some("html") => "text/html; charset=utf-8",
        Some("js") => "text/javascript",
        Some("wasm") => "application/wasm",
        Some("css") => "text/css",
        Some("svg") => "image/svg+xml",
        Some("json") => "application/json",
        Some("webmanifest") => "application/manifest+json",
        _ => "application/octet-stream",
    }
}

/// Serves `dir` on 127.0.0.1 until the process exits; returns the port.
fn serve_dir(dir: PathBuf) -> u16 {
    StaticServer::start(dir).port
}

/// A static file server on 127.0.0.1 that can be stopped (to see the page work offline).
pub struct StaticServer {
    pub port: u16,
    stop: std::sync::Arc<std::sync::atomic::AtomicBool>,
}

impl StaticServer {
    pub fn start(dir: PathBuf) -> StaticServer {
        StaticServer::start_under(dir, "/")
    }

    /// Serves `dir` at `http://127.0.0.1:<port><prefix>` (`prefix` starts and ends with `/`),
    /// as a static host serving the folder under a sub-path would; other paths are 404.
    pub fn start_under(dir: PathBuf, prefix: &str) -> StaticServer {
        let prefix = prefix.to_string();
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind static server");
        let port = listener.local_addr().unwrap().port();
        let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
        let stopped = stop.clone();
        std::thread::spawn(move || {
            for stream in listener.incoming().flatten() {
                if stopped.load(std::sync::atomic::Ordering::SeqCst) {
                    // Closing the listener: later connections are refused.
                    break;
                }
                let dir = dir.clone();
                let prefix = prefix.clone();
                std::thread::spawn(move || serve_one(stream, &dir, &prefix));
            }
        });
        StaticServer { port, stop }
    }

    /// Stops serving: the listening socket is closed, so the browser's requests fail.
    pub fn stop(&self) {
        self.stop.store(true, std::sync::atomic::Ordering::SeqCst);
        // Wake the accept loop so it sees the flag and drops the listener.
        let _ = TcpStream::connect(("127.0.0.1", self.port));
        let deadline = Instant::now() + Duration::from_secs(5);
        while TcpStream::connect(("127.0.0.1", self.port)).is_ok() {
            assert!(Instant::now() < deadline, "the static server did not stop");
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

fn serve_one(mut stream: TcpStream, dir: &Path, prefix: &str) {
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
    let Some(rel) = path.strip_prefix(prefix) else {
        let _ = stream
            .write_all(b"HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\nConnection: close\r\n\r\n");
        return;
    };
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
        Page::open_at(&format!("http://127.0.0.1:{http_port}/"), query).await
    }

    /// Opens the app served at `base` (ending in `/`) with the given query string.
    pub async fn open_at(base: &str, query: &str) -> Page {
        let page = Page::open_unready(base, query).await;
        page.wait_for("#app-ready").await;
        page
    }

    /// Opens the page at `base` without waiting for the app: for pages that cannot start.
    pub async fn open_unready(base: &str, query: &str) -> Page {
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
        let base = base.to_string();
        let url = if query.is_empty() {
            base.clone()
        } else {
            format!("{base}?{query}")
        };
        client.goto(&url).await.expect("open the app");
        Page {
            client,
            base,
            _driver: driver,
        }
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

    /// Sets the viewport (not the window) to exactly `width`×`height` CSS pixels.
    pub async fn resize(&self, width: u32, height: u32) {
        let (mut w, mut h) = (width, height);
        let mut seen = Vec::new();
        for _ in 0..6 {
            self.client
                .set_window_size(w, h)
                .await
                .expect("set the window size");
            // The page sees a new size a moment later (longer on a busy machine): wait until
            // the window reports the size asked for and the viewport stops changing.
            let deadline = Instant::now() + Duration::from_secs(10);
            let mut last = serde_json::Value::Null;
            let v = loop {
                tokio::time::sleep(Duration::from_millis(30)).await;
                let v = self
                    .exec("return [innerWidth, innerHeight, outerWidth, outerHeight]")
                    .await;
                let settled =
                    (v[2].as_u64(), v[3].as_u64()) == (Some(w as u64), Some(h as u64)) && v == last;
                if settled || Instant::now() > deadline {
                    break v;
                }
                last = v;
            };
            let (iw, ih) = (
                v[0].as_u64().unwrap_or(0) as u32,
                v[1].as_u64().unwrap_or(0) as u32,
            );
            seen.push(v.clone());
            if (iw, ih) == (width, height) {
                return;
            }
            // The window has borders or bars: grow it by what the viewport lacks.
            w = (w as i64 + width as i64 - iw as i64).max(200) as u32;
            h = (h as i64 + height as i64 - ih as i64).max(200) as u32;
        }
        panic!("could not size the viewport to {width}x{height}: saw {seen:?}");
    }

    /// Saves a PNG of the page to `<target dir>/screenshots/<name>.png`.
    pub async fn screenshot(&self, name: &str) {
        let png = self.client.screenshot().await.expect("screenshot");
        assert!(png.starts_with(b"\x89PNG"), "screenshot is not a PNG");
        let dir = screenshot_dir();
        std::fs::create_dir_all(&dir).expect("create the screenshots directory");
        std::fs::write(dir.join(format!("{name}.png")), png).expect("write screenshot");
    }

    /// Reads an attribute of the first element matching `css`.
    pub async fn attr(&self, css: &str, name: &str) -> String {
        self.wait_for(css)
            .await
            .attr(name)
            .await
            .expect("attribute read")
            .unwrap_or_else(|| panic!("{css} has no {name}"))
    }

    /// The page's virtual time (ms).
    pub async fn now_ms(&self) -> u64 {
        self.attr("#app-ready", "data-now")
            .await
            .parse()
            .expect("data-now is a number")
    }

    /// Sets a form control's value and fires the event Yew listens to.
    pub async fn set_control(&self, css: &str, value: &str, event: &str) {
        self.wait_for(css).await;
        let js = format!(
            "const e = document.querySelector({css:?}); e.value = {value:?}; e.dispatchEvent(new Event({event:?}, {{bubbles: true}}));"
        );
        self.exec(&js).await;
    }

    /// Opens a tab under the stage (`timeline`, `buffers`, `chart`, `log`, `info`, `why`,
    /// `summary`, `parameters`, `about`, `compare`, `live`) and waits for its panel.
    pub async fn open_tab(&self, code: &str) {
        self.click(&format!("[data-testid=tabs] [data-tab={code}]"))
            .await;
        self.wait_for(&format!("[data-testid=tab-panel][data-tab={code}]"))
            .await;
    }

    /// Dispatches a key press on the document (the app's shortcuts listen there).
    pub async fn key(&self, key: &str) {
        self.exec(&format!(
            "document.body.dispatchEvent(new KeyboardEvent('keydown', {{key: {key:?}, bubbles: true}}))"
        ))
        .await;
    }

    /// The process id of this page's chromedriver (Chromium and its renderers are below it).
    pub fn driver_pid(&self) -> u32 {
        self._driver.0.id()
    }

    pub async fn close(self) {
        let _ = self.client.close().await;
    }
}

/// Waits until `cond` holds (checked every 50 ms, up to 20 s).
pub async fn until<F, Fut>(what: &str, mut cond: F)
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    let deadline = Instant::now() + Duration::from_secs(20);
    while !cond().await {
        assert!(Instant::now() < deadline, "timed out waiting for: {what}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}
