// ReplScope's "How often?" worker: runs chunks of seeds beside the page (src/web/spread_workers.rs).
//
// It loads the page's own wasm, not a second one: each message carries the URL of the
// wasm-bindgen glue (trunk hashes its name) and the page's compiled WebAssembly.Module, so
// nothing is downloaded or compiled twice. The wasm's start function sees no `window` here and
// mounts nothing. The first message, {glue, module}, loads it (the page sends it when the tab
// opens); each later one, {recipe (the scenario as text), first, count (BigInts)}, is answered
// with {spread: the chunk's counts as text}; a failure with {error: text}.
let glue;

self.onmessage = async ({ data }) => {
  try {
    if (data.glue) {
      glue = import(data.glue).then(async (g) => {
        await g.default({ module_or_path: data.module });
        return g;
      });
    }
    const g = await glue;
    if (data.recipe !== undefined) {
      self.postMessage({ spread: g.spread_seeds(data.recipe, data.first, data.count) });
    }
  } catch (e) {
    self.postMessage({ error: String(e) });
  }
};
