// Reference for src/search tests only: score every vector in float64 and sort everything.
import { seededRandom } from '../../src/seeded-random.js';

export { seededRandom };

/** Standard normal sample via Box–Muller. */
export function gaussian(rand: () => number): number {
  const u = 1 - rand();
  const v = rand();
  return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v);
}

/** `count` isotropic random vectors (not normalised), flat. */
export function randomVectors(rand: () => number, count: number, dim: number): Float32Array {
  const out = new Float32Array(count * dim);
  for (let i = 0; i < out.length; i++) out[i] = gaussian(rand);
  return out;
}

export interface NaiveHit {
  id: string;
  score: number;
}

/** Every stored vector's cosine to the query, sorted by score descending then id ascending. */
export function naiveSearch(
  entries: readonly { id: string; vector: ArrayLike<number> }[],
  query: ArrayLike<number>,
  k: number,
  keep: (id: string) => boolean = () => true,
  minScore = -Infinity,
): NaiveHit[] {
  const norm = (v: ArrayLike<number>): number => {
    let s = 0;
    for (let i = 0; i < v.length; i++) s += v[i] * v[i];
    return Math.sqrt(s);
  };
  const qn = norm(query);
  const all: NaiveHit[] = [];
  for (const { id, vector } of entries) {
    if (!keep(id)) continue;
    const vn = norm(vector);
    let dot = 0;
    for (let i = 0; i < query.length; i++) dot += vector[i] * query[i];
    const score = dot / (qn * vn);
    if (score >= minScore) all.push({ id, score });
  }
  all.sort((a, b) => b.score - a.score || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  return all.slice(0, k);
}
