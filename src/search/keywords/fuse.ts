// Reciprocal rank fusion (Cormack et al. 2009): score = Σ weight / (60 + rank) over the lists that hold an id, each
// list cut at max(k, 100) first, so a fused hit says which lists found it and at what rank.

/** Where a fused hit came from: its 1-based rank and score in that list. */
interface ListRank {
  rank: number;
  score: number;
}

export interface FusedHit<K extends string> {
  id: string;
  /** Σ weight / (RRF_CONSTANT + rank) over the lists that found it. */
  score: number;
  sources: Partial<Record<K, ListRank>>;
}

const RRF_CONSTANT = 60;
/** Each list is cut at max(k, RRF_DEPTH) before fusing. */
const RRF_DEPTH = 100;

/** Fuses ranked lists (best first) into the top k; ties go to the lower id. A missing weight is 1. */
export function fuseRanks<K extends string>(
  lists: Readonly<Record<K, readonly { id: string; score: number }[]>>,
  k: number,
  weights?: Readonly<Partial<Record<K, number>>>,
): FusedHit<K>[] {
  const depth = Math.max(k, RRF_DEPTH);
  const byId = new Map<string, FusedHit<K>>();
  for (const name of Object.keys(lists) as K[]) {
    const w = weights?.[name] ?? 1;
    const list = lists[name];
    const n = Math.min(depth, list.length);
    for (let i = 0; i < n; i++) {
      const { id, score } = list[i];
      let hit = byId.get(id);
      if (hit === undefined) {
        hit = { id, score: 0, sources: {} };
        byId.set(id, hit);
      }
      hit.score += w / (RRF_CONSTANT + i + 1);
      hit.sources[name] = { rank: i + 1, score };
    }
  }
  const out = [...byId.values()].filter((h) => h.score > 0);
  out.sort((a, b) => b.score - a.score || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  out.length = Math.min(out.length, k);
  return out;
}
