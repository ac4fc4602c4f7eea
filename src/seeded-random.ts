/**
 * mulberry32: a seeded uniform [0, 1) generator, so fixtures, tests and benchmarks are identical on every
 * machine and run (hand-written: six lines, and Math.random cannot be seeded).
 */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
