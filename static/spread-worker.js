// ReplScope's "How often?" worker: runs chunks of seeds in the page's own wasm, beside the page.
// The messages and why they are so: src/web/spread_workers.rs.
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
