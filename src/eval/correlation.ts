// Pearson and Spearman correlation; Spearman uses average ranks for ties (as scipy.stats.spearmanr does).
import { InvalidInputError } from '../search/errors.js';

function check(a: ArrayLike<number>, b: ArrayLike<number>): void {
  if (a.length !== b.length)
    throw new InvalidInputError(`correlation needs equal lengths, got ${a.length} and ${b.length}.`);
  if (a.length < 2) throw new InvalidInputError(`correlation needs at least 2 pairs, got ${a.length}.`);
  for (let i = 0; i < a.length; i++) {
    if (!Number.isFinite(a[i]) || !Number.isFinite(b[i]))
      throw new InvalidInputError(`correlation input ${i} is not a finite number.`);
  }
}

/** Pearson's r (NaN when either side is constant). */
export function pearson(a: ArrayLike<number>, b: ArrayLike<number>): number {
  check(a, b);
  const n = a.length;
  let ma = 0,
    mb = 0;
  for (let i = 0; i < n; i++) ((ma += a[i]), (mb += b[i]));
  ma /= n;
  mb /= n;
  let sab = 0,
    saa = 0,
    sbb = 0;
  for (let i = 0; i < n; i++) {
    const x = a[i] - ma,
      y = b[i] - mb;
    sab += x * y;
    saa += x * x;
    sbb += y * y;
  }
  return sab / Math.sqrt(saa * sbb);
}

/** 1-based ranks; tied values share the average of the ranks they span. */
export function averageRanks(values: ArrayLike<number>): Float64Array {
  const n = values.length;
  const order = Array.from({ length: n }, (_, i) => i).sort((x, y) => values[x] - values[y]);
  const ranks = new Float64Array(n);
  for (let i = 0; i < n;) {
    let j = i + 1;
    while (j < n && values[order[j]] === values[order[i]]) j++;
    const avg = (i + 1 + j) / 2; // mean of ranks i+1 … j
    for (let t = i; t < j; t++) ranks[order[t]] = avg;
    i = j;
  }
  return ranks;
}

/** Spearman's rho: Pearson's r of the average ranks. */
export function spearman(a: ArrayLike<number>, b: ArrayLike<number>): number {
  check(a, b);
  return pearson(averageRanks(a), averageRanks(b));
}
