// A page of a site with prebuilt search: import the index the plugin built, embed only the queries, search.
import { createEmbedder } from 'hpd-embed';
import { indexes, modelUrl } from 'virtual:hpd-embed';

const queries = JSON.parse(new URLSearchParams(location.search).get('q') ?? '[]');

async function run() {
  const embedder = await createEmbedder({ model: new URL(modelUrl, location.href).href, device: 'wasm' });
  try {
    const docs = embedder.index('docs');
    const stats = await docs.import(indexes.docs.url, { integrity: indexes.docs.integrity });
    const hits = [];
    for (const q of queries) hits.push((await docs.search(q, 10)).map((h) => h.id));
    return { ok: true, size: stats.size, url: indexes.docs.url, hits };
  } finally {
    await embedder.dispose();
  }
}

run().then(
  (r) => (window.__result = r),
  (e) => (window.__result = { ok: false, code: e?.code, error: String(e?.stack ?? e) }),
);
