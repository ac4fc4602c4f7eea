// Seeded fuzzer for index files (issue 8): bit flips, truncations, length-field and id-length changes, byte
// insertions and deletions, each with and without a recomputed checksum (so the structural checks behind the
// CRC are reached too). Every outcome must be a loadable, usable index or a typed error, in bounded time and memory.
// Cases: HPD_FUZZ_CASES (default 3000); seed: HPD_FUZZ_SEED.
import { describe, expect, it } from 'vitest';
import { CosineIndex, HpdError } from '../../src/search/index.js';
import { crc32 } from '../../src/search/crc32.js';
import type { Int8Rescore, JsonValue, StorageKind } from '../../src/search/index.js';
import { seededRandom } from '../../src/seeded-random.js';

const CASES = Number(process.env.HPD_FUZZ_CASES ?? 3000);
const SEED = Number(process.env.HPD_FUZZ_SEED ?? 20261127);
const TYPED = new Set(['CORRUPT_INDEX', 'UNSUPPORTED_INDEX_VERSION']);
const INTERESTING = [
  0, 1, 2, 3, 4, 0x7f, 0xff, 0xffff, 65_535, 65_536, 65_537, 0x7fffffff, 0x80000000, 0xfffffffc, 0xffffffff,
];

function seeds(): Uint8Array[] {
  const r = seededRandom(SEED);
  const out: Uint8Array[] = [];
  const variants: [StorageKind, Int8Rescore | undefined, number][] = [
    ['f32', undefined, 16],
    ['f32', undefined, 5],
    ['int8', 'residual', 16],
    ['int8', 'dequantized', 7],
    ['int8', 'f32', 32],
  ];
  for (const [storage, rescore, dim] of variants) {
    const index = new CosineIndex<JsonValue>({ dim, storage, ...(rescore ? { rescore } : {}) });
    const n = 3 + Math.floor(r() * 12);
    const ids = Array.from({ length: n }, (_, i) => (i % 4 === 0 ? `ü-${i}-😀` : `id${i}`));
    const meta = ids.map((id, i) =>
      i % 3 === 0 ? undefined : { id, i, tags: ['a', i % 2 === 0], nested: { deep: [null, 1.5] } },
    );
    index.addVectors(
      ids,
      new Float32Array(n * dim).map(() => r() - 0.5),
      meta,
    );
    out.push(new Uint8Array(index.serialize()));
  }
  out.push(new Uint8Array(new CosineIndex({ dim: 8 }).serialize()));
  return out;
}

function fixCrc(b: Uint8Array): Uint8Array {
  if (b.length >= 4)
    new DataView(b.buffer, b.byteOffset, b.length).setUint32(b.length - 4, crc32(b.subarray(0, b.length - 4)), true);
  return b;
}

/** Offsets of the u32 length prefixes of the ids section (walked with the original, valid layout). */
function idLengthOffsets(b: Uint8Array): number[] {
  const v = new DataView(b.buffer, b.byteOffset, b.length);
  const count = v.getUint32(12, true);
  const out: number[] = [];
  let p = 32;
  for (let i = 0; i < count; i++) {
    out.push(p);
    p += 4 + v.getUint32(p, true);
  }
  return out;
}

function mutate(seed: Uint8Array, r: () => number): { bytes: Uint8Array; op: string } {
  const pick = (n: number) => Math.floor(r() * n);
  const op = pick(6);
  let b = seed.slice();
  let name: string;
  if (op === 0) {
    const flips = 1 + pick(8);
    for (let i = 0; i < flips; i++) b[pick(b.length)] ^= 1 << pick(8);
    name = `flip×${flips}`;
  } else if (op === 1) {
    b = b.slice(0, pick(b.length));
    name = `truncate→${b.length}`;
  } else if (op === 2) {
    const field = [8, 12, 16, 20, 24, 28][pick(6)];
    const v = new DataView(b.buffer);
    const old = v.getUint32(field, true);
    const value = r() < 0.5 ? INTERESTING[pick(INTERESTING.length)] : (old + (pick(9) - 4)) >>> 0;
    v.setUint32(field, value, true);
    name = `header@${field}=${value}`;
  } else if (op === 3) {
    const offsets = idLengthOffsets(seed);
    if (offsets.length === 0) return mutate(seed, r);
    const at = offsets[pick(offsets.length)];
    const v = new DataView(b.buffer);
    const value = r() < 0.5 ? INTERESTING[pick(INTERESTING.length)] : (v.getUint32(at, true) + (pick(9) - 4)) >>> 0;
    v.setUint32(at, value, true);
    name = `idlen@${at}=${value}`;
  } else if (op === 4) {
    const at = pick(b.length);
    const n = 1 + pick(16);
    const out = new Uint8Array(b.length + n);
    out.set(b.subarray(0, at));
    for (let i = 0; i < n; i++) out[at + i] = pick(256);
    out.set(b.subarray(at), at + n);
    b = out;
    name = `insert ${n}@${at}`;
  } else {
    const at = pick(b.length);
    const n = Math.min(1 + pick(16), b.length - at);
    b = new Uint8Array([...b.subarray(0, at), ...b.subarray(at + n)]);
    name = `delete ${n}@${at}`;
  }
  // Mostly recompute the checksum: otherwise almost every case stops at the CRC check.
  if (r() < 0.85) fixCrc(b);
  return { bytes: b, op: name };
}

describe(`index file fuzzing (${CASES} cases, seed ${SEED})`, () => {
  it('every mutated file loads as a usable index or fails with a typed error, in bounded time and memory', () => {
    const r = seededRandom(SEED + 1);
    const files = seeds();
    const outcomes = new Map<string, number>();
    const baseline = process.memoryUsage().arrayBuffers;
    let worstMs = 0;
    let worstGrowth = 0;
    for (let c = 0; c < CASES; c++) {
      const seed = files[c % files.length];
      const { bytes, op } = mutate(seed, r);
      const t0 = performance.now();
      let outcome: string;
      try {
        const index = CosineIndex.deserialize(bytes);
        // A file that loads must be fully usable: every entry readable, searchable, and re-savable.
        for (const id of index.ids()) index.get(id);
        if (index.size > 0) index.search(new Float32Array(index.dim).fill(1), 3);
        CosineIndex.deserialize(index.serialize());
        outcome = 'loaded';
      } catch (e) {
        if (!(e instanceof HpdError) || !TYPED.has(e.code)) {
          throw new Error(`case ${c} (${op}) threw an untyped or unexpected error: ${String(e)}`, { cause: e });
        }
        outcome = e.code;
      }
      const ms = performance.now() - t0;
      const growth = process.memoryUsage().arrayBuffers - baseline;
      worstMs = Math.max(worstMs, ms);
      worstGrowth = Math.max(worstGrowth, growth);
      // Generous bounds: a hang or a multi-megabyte reservation from a few-kilobyte file fails here.
      expect(ms, `case ${c} (${op})`).toBeLessThan(2000);
      expect(growth, `case ${c} (${op})`).toBeLessThan(64 << 20);
      outcomes.set(outcome, (outcomes.get(outcome) ?? 0) + 1);
    }
    console.info(
      `index fuzz: ${CASES} cases → ${[...outcomes].map(([k, v]) => `${k} ${v}`).join(', ')}; slowest ${worstMs.toFixed(1)} ms, peak ArrayBuffer growth ${(worstGrowth / 1024).toFixed(0)} KiB`,
    );
    expect(outcomes.get('CORRUPT_INDEX') ?? 0).toBeGreaterThan(CASES / 2);
  });
});
