// Ranking metrics as BEIR reports them (pytrec_eval conventions): nDCG@k with linear graded gains, MRR@k, recall@k.

/** nDCG@k of one ranked list; `rel` maps relevant ids to their grade (> 0). */
export function ndcgAt(ranked: readonly string[], rel: ReadonlyMap<string, number>, k: number): number {
  let dcg = 0;
  for (let i = 0; i < Math.min(k, ranked.length); i++) dcg += (rel.get(ranked[i]) ?? 0) / Math.log2(i + 2);
  const ideal = [...rel.values()].sort((a, b) => b - a);
  let idcg = 0;
  for (let i = 0; i < Math.min(k, ideal.length); i++) idcg += ideal[i] / Math.log2(i + 2);
  return idcg > 0 ? dcg / idcg : 0;
}

/** Reciprocal rank of the first relevant id within the top k (0 if none). */
export function reciprocalRankAt(ranked: readonly string[], rel: ReadonlyMap<string, number>, k: number): number {
  for (let i = 0; i < Math.min(k, ranked.length); i++) if (rel.has(ranked[i])) return 1 / (i + 1);
  return 0;
}

/** Fraction of the relevant ids found in the top k. */
export function recallAt(ranked: readonly string[], rel: ReadonlyMap<string, number>, k: number): number {
  if (rel.size === 0) return 0;
  let hit = 0;
  for (let i = 0; i < Math.min(k, ranked.length); i++) if (rel.has(ranked[i])) hit++;
  return hit / rel.size;
}
