// ReplScope's "How often?" worker: runs chunks of seeds beside the page (src/web/spread_workers.rs).
//
// It loads the page's own wasm, not a second one: each message carries the URL of the
// wasm-bindgen glue (trunk hashes its name) and the page's compiled WebAssembly.Module, so
// nothing is downloaded or compiled twice. The wasm's start function sees no `window` here and
// mounts nothing. Each {glue, module, recipe (the scenario as text), first, count (BigInts)} is
// answered with {spread: the chunk's counts as text} or {error: text}; the page merges them.
let glue;

self.onmessage = async ({ data }) => {
  try {
    glue ??= import(data.glue).then(async (g) => {
      await g.default({ module_or_path: data.module });
      return g;
    });
    self.postMessage({ spread: (await glue).spread_seeds(data.recipe, data.first, data.count) });
  } catch (e) {
    self.postMessage({ error: String(e) });
  }
};
