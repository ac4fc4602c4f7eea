const TEXTS = [
  'A man is playing a flute.',
  'The quick brown fox jumps over the lazy dog.',
  'Search engines rank documents.',
  'a cat sat on the mat',
];

/** Embeds, indexes and searches with the given createEmbedder; returns what the test compares. */
exports.run = async function run(createEmbedder, model) {
  const embedder = await createEmbedder({ model, cacheDir: process.env.HPD_EMBED_CACHE });
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
};
