// The one row that differs between the kill test's snapshots (shared by the child and the test).
import { seededRandom } from '../../src/seeded-random.js';

export function versionRow(dim: number, v: number): { vector: Float32Array; metadata: { v: number } } {
  const r = seededRandom(1_000_000 + v);
  return { vector: new Float32Array(dim).map(() => r() - 0.5), metadata: { v } };
}
