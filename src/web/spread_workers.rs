//! The "How often?" seeds run in web workers, beside the page (wasm32 only).
//!
//! No second download: each worker (`static/spread-worker.js`) loads this same wasm. Its first
//! message, `{glue, module}`, sent as the worker starts, carries the URL of the wasm-bindgen
//! glue (the glue's own `import.meta.url`: trunk hashes the file's name) and the page's compiled
//! `WebAssembly.Module`, so the worker neither fetches nor compiles the wasm again; the wasm's
//! start function sees no `window` there and mounts nothing. Each later message,
//! `{recipe, first, count}` (the scenario as `spread_run::recipe` writes it; seeds as BigInts),
//! is answered with `{spread}`, the chunk's counts as `spread_run::encode` writes them, through
//! [`spread_seeds`]; any failure with `{error}`. A worker that cannot start or answer is
//! reported as an error; the panel then runs the seeds on the page instead.

use std::ops::Range;
use std::rc::Rc;

use wasm_bindgen::closure::Closure;
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;
use web_sys::{MessageEvent, Worker, WorkerOptions, WorkerType};

use super::spread_run::{decode, run_chunk};
use crate::sim::Spread;

// The worker's entry point: see `run_chunk`. Seeds are u64 (JS BigInts): never rounded.
// (`//`, not `///`: wasm-bindgen would copy a doc comment into the page's JS.)
#[wasm_bindgen]
pub fn spread_seeds(recipe: &str, first_seed: u64, count: u64) -> Result<String, String> {
    run_chunk(recipe, first_seed, count)
}

#[wasm_bindgen]
extern "C" {
    /// The URL of the wasm-bindgen glue this wasm was loaded by.
    #[wasm_bindgen(thread_local_v2, js_namespace = ["import", "meta"], js_name = url)]
    static GLUE_URL: JsValue;
}

/// The worker script, next to the page (relative: the static build works under any path).
const SCRIPT: &str = "spread-worker.js";

/// How many workers to use: one per core, at least 1 and at most 2 (what the ≤ 2 s for 100
/// seeds of a 10-minute preset asks for; each worker holds its own wasm memory).
pub fn wanted() -> usize {
    let cores = web_sys::window().map_or(1.0, |w| w.navigator().hardware_concurrency());
    (cores as usize).clamp(1, 2)
}

/// What a worker said: the `Spread` of the chunk it was asked for, or why it failed.
pub type Answer = Result<Spread, String>;

/// Running workers; terminated on drop.
pub struct SpreadWorkers {
    workers: Vec<Worker>,
    _on_message: Vec<Closure<dyn FnMut(MessageEvent)>>,
    _on_error: Vec<Closure<dyn FnMut(web_sys::Event)>>,
}

impl SpreadWorkers {
    /// Starts `n` workers, each loading the wasm at once so a run need not wait for it;
    /// `on_answer(i, answer)` is called with each answer of worker `i`, and with any failure
    /// (also while idle). An error here (no `Worker` in this browser, or one it refuses to
    /// start) means none run.
    pub fn start(n: usize, on_answer: Rc<dyn Fn(usize, Answer)>) -> Result<SpreadWorkers, String> {
        let options = WorkerOptions::new();
        options.set_type(WorkerType::Module);
        let mut pool = SpreadWorkers {
            workers: Vec::new(),
            _on_message: Vec::new(),
            _on_error: Vec::new(),
        };
        for i in 0..n {
            let worker = Worker::new_with_options(SCRIPT, &options)
                .map_err(|e| format!("cannot start a web worker: {e:?}"))?;
            let answer = on_answer.clone();
            let on_message = Closure::<dyn FnMut(MessageEvent)>::new(move |e: MessageEvent| {
                answer(i, read_answer(&e.data()))
            });
            let answer = on_answer.clone();
            // A script that does not load (or an error the worker did not catch).
            let on_error = Closure::<dyn FnMut(web_sys::Event)>::new(move |_| {
                answer(i, Err(format!("web worker {i} failed to load {SCRIPT}")))
            });
            worker.set_onmessage(Some(on_message.as_ref().unchecked_ref()));
            worker.set_onerror(Some(on_error.as_ref().unchecked_ref()));
            pool.workers.push(worker);
            pool._on_message.push(on_message);
            pool._on_error.push(on_error);
            pool.post(i, None)?;
        }
        Ok(pool)
    }

    /// How many workers run.
    pub fn count(&self) -> usize {
        self.workers.len()
    }

    /// Asks worker `i` for the seeds `seeds` of the scenario `recipe` (`spread_run::recipe`);
    /// its answer comes through `on_answer`.
    pub fn ask(&self, i: usize, recipe: &str, seeds: Range<u64>) -> Result<(), String> {
        self.post(i, Some((recipe, seeds)))
    }

    /// Sends worker `i` a chunk to run, or with `None` (its first message) the wasm to load.
    fn post(&self, i: usize, chunk: Option<(&str, Range<u64>)>) -> Result<(), String> {
        let message = js_sys::Object::new();
        let set = |key: &str, value: &JsValue| {
            js_sys::Reflect::set(&message, &JsValue::from_str(key), value).map(|_| ())
        };
        match chunk {
            Some((recipe, seeds)) => set("recipe", &JsValue::from_str(recipe))
                .and_then(|_| set("first", &JsValue::from(seeds.start)))
                .and_then(|_| set("count", &JsValue::from(seeds.end - seeds.start))),
            None => GLUE_URL
                .with(|url| set("glue", url))
                .and_then(|_| set("module", &wasm_bindgen::module())),
        }
        .and_then(|_| self.workers[i].post_message(&message))
        .map_err(|e| format!("cannot reach web worker {i}: {e:?}"))
    }
}

/// `{spread: "<encoded>"}` or `{error: "..."}` from `static/spread-worker.js`.
fn read_answer(data: &JsValue) -> Answer {
    let field = |key: &str| {
        js_sys::Reflect::get(data, &JsValue::from_str(key))
            .ok()
            .and_then(|v| v.as_string())
    };
    match (field("spread"), field("error")) {
        (Some(text), _) => decode(&text),
        (None, Some(error)) => Err(format!("a web worker failed: {error}")),
        (None, None) => Err("a web worker answered nothing".into()),
    }
}

impl Drop for SpreadWorkers {
    fn drop(&mut self) {
        for w in &self.workers {
            w.set_onmessage(None);
            w.set_onerror(None);
            w.terminate();
        }
    }
}
