// A web app as a user writes it: import the package, point it at a bundle folder, embed, index, search.
import { createEmbedder } from 'hpd-embed';

const TEXTS = [
  'A man is playing a flute.',
  'The quick brown fox jumps over the lazy dog.',
  'Search engines rank documents.',
  'a cat sat on the mat',
];
const params = new URLSearchParams(location.search);

async function run() {
  const embedder = await createEmbedder({
    model: new URL(`models/${params.get('model') ?? 'bundle'}/`, location.href).href,
    device: params.get('device') ?? 'auto',
  });
  try {
    const vectors = await embedder.embed(TEXTS);
    const docs = embedder.index('docs');
    await docs.addTexts(
      TEXTS.map((_, i) => `d${i}`),
      TEXTS,
    );
    const hits = await docs.search(TEXTS[1], 2);
    return {
      ok: true,
      device: embedder.device.actual,
      reason: embedder.device.reason,
      dim: embedder.dim,
      vectors: Array.from(vectors),
      hits,
    };
  } finally {
    await embedder.dispose();
  }
}

run().then(
  (r) => (window.__result = r),
  (e) => (window.__result = { ok: false, code: e?.code, error: String(e?.stack ?? e) }),
);
