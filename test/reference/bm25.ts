// A straightforward BM25 (Lucene's formula, exact lengths) over texts held in a plain map: the check for
// src/search/keywords/bm25.ts. Terms come from a regex of their own, not from terms.ts.

export interface ReferenceBm25Options {
  k1?: number;
  b?: number;
  stopWords?: readonly string[];
}

export function referenceTerms(text: string, stop: ReadonlySet<string> = new Set()): string[] {
  return (
    text
      .normalize('NFKC')
      .toLowerCase()
      .match(/[\p{L}\p{N}\p{M}]+/gu) ?? []
  ).filter((t) => !stop.has(t));
}

/** Scores of every document with a score > 0 for `query`, by id. Documents with no terms do not count in N. */
export function referenceBm25(
  docs: ReadonlyMap<string, string>,
  query: string,
  options: ReferenceBm25Options = {},
): Map<string, number> {
  const { k1 = 1.2, b = 0.75 } = options;
  const stop = new Set((options.stopWords ?? []).map((w) => w.normalize('NFKC').toLowerCase()));
  const tokenised = new Map<string, string[]>();
  for (const [id, text] of docs) {
    const t = referenceTerms(text, stop);
    if (t.length > 0) tokenised.set(id, t);
  }
  const n = tokenised.size;
  let total = 0;
  for (const t of tokenised.values()) total += t.length;
  const avgdl = total / n;
  const scores = new Map<string, number>();
  for (const q of referenceTerms(query, stop)) {
    let df = 0;
    for (const t of tokenised.values()) if (t.includes(q)) df++;
    if (df === 0) continue;
    const idf = Math.log(1 + (n - df + 0.5) / (df + 0.5));
    for (const [id, t] of tokenised) {
      const tf = t.filter((x) => x === q).length;
      if (tf === 0) continue;
      const s = (idf * tf * (k1 + 1)) / (tf + k1 * (1 - b + (b * t.length) / avgdl));
      scores.set(id, (scores.get(id) ?? 0) + s);
    }
  }
  return scores;
}
