// ReplScope's service worker: once the page has been visited, it reloads with no network.
//
// Network first, so a teacher's new upload is seen at once whenever the host is reachable;
// the cache only when the network fails. Installing stores the page, every file it names (the
// hashed .js, .wasm and .css trunk writes) and the spread worker's script. All paths are
// relative to where the page is hosted, so the folder works on any static host, under any path.
const CACHE = 'replscope';
const scope = () => self.registration.scope;

self.addEventListener('install', (event) => {
  event.waitUntil((async () => {
    const index = await fetch(scope(), { cache: 'no-cache' });
    if (!index.ok) throw new Error(`cannot fetch the page: ${index.status}`);
    const html = await index.clone().text();
    // The "How often?" worker is started from the wasm, not named in the page.
    const named = [...html.matchAll(/["']((?:\.\/)?[\w\-./]+\.(?:js|wasm|css|svg))["']/g)].map((m) => m[1]);
    const files = [...new Set([...named, 'spread-worker.js'].map((f) => new URL(f, scope()).href))];
    const cache = await caches.open(CACHE);
    await cache.put(scope(), index);
    await cache.addAll(files);
    // Forget the files of older versions (trunk hashes every name).
    const keep = new Set([scope(), ...files]);
    for (const req of await cache.keys()) {
      if (!keep.has(req.url)) await cache.delete(req);
    }
    await self.skipWaiting();
  })());
});

self.addEventListener('activate', (event) => event.waitUntil(self.clients.claim()));

self.addEventListener('fetch', (event) => {
  const req = event.request;
  if (req.method !== 'GET' || new URL(req.url).origin !== self.location.origin) return;
  // Every page URL (`?preset=...&t=...`) is the same page: one cache entry.
  const key = req.mode === 'navigate' ? scope() : req;
  event.respondWith((async () => {
    const cache = await caches.open(CACHE);
    try {
      const res = await fetch(req);
      if (res.ok) await cache.put(key, res.clone());
      return res;
    } catch (err) {
      const hit = await cache.match(key, { ignoreSearch: true });
      if (hit) return hit;
      throw err;
    }
  })());
});
