import { seededRandom } from '../../src/seeded-random.js';

/** A seeded byte mutator for fuzzing readers: bit flips, byte stores, truncation, length-field changes. */
export class Mutator {
  readonly rand: () => number;
  constructor(seed: number) {
    this.rand = seededRandom(seed);
  }

  int(n: number): number {
    return Math.floor(this.rand() * n);
  }

  pick<T>(items: readonly T[]): T {
    return items[this.int(items.length)];
  }

  /** Values that break naive size arithmetic. */
  interesting(old: number, fileLength: number): number {
    return (
      this.pick([
        0,
        1,
        0x7f,
        0x80,
        0xff,
        0xffff,
        0x7fffffff,
        0x80000000,
        0xffffffff,
        fileLength - 1,
        fileLength + 1,
        old * 2,
        old + 1,
        Math.max(0, old - 1),
        this.int(2 ** 32),
      ]) >>> 0
    );
  }

  /** One mutation of `input` (never modified); `what` says which, for a failing case's message. */
  mutate(input: Uint8Array, lengthFields: number[] = []): { bytes: Uint8Array; what: string } {
    const b = Uint8Array.prototype.slice.call(input); // Buffer#slice would be a view
    const kind = this.pick(['flip', 'store', 'truncate', 'length', 'length', 'splice'] as const);
    if (kind === 'flip') {
      const n = 1 + this.int(8);
      for (let i = 0; i < n; i++) b[this.int(b.length)] ^= 1 << this.int(8);
      return { bytes: b, what: `flip ${n} bits` };
    }
    if (kind === 'store') {
      const at = this.int(b.length);
      b[at] = this.pick([0, 0xff, 0x7f, 0x80, this.int(256)]);
      return { bytes: b, what: `store at ${at}` };
    }
    if (kind === 'truncate') {
      const n = this.int(b.length);
      return { bytes: b.subarray(0, n), what: `truncate to ${n}` };
    }
    if (kind === 'splice') {
      // Repeat a chunk in place: shifts every later offset.
      const at = this.int(b.length);
      const len = 1 + this.int(64);
      const out = new Uint8Array(b.length + len);
      out.set(b.subarray(0, at));
      out.set(b.subarray(at, at + len), at);
      out.set(b.subarray(at), at + Math.min(len, b.length - at));
      return { bytes: out, what: `splice ${len} at ${at}` };
    }
    const at =
      lengthFields.length > 0 && this.rand() < 0.8 ? this.pick(lengthFields) : this.int(Math.max(1, b.length - 4));
    if (at + 4 > b.length) return { bytes: b, what: 'noop' };
    const view = new DataView(b.buffer);
    const v = this.interesting(view.getUint32(at, true), b.length);
    view.setUint32(at, v, true);
    return { bytes: b, what: `u32 ${v} at ${at}` };
  }

  /** Replaces one JSON leaf (or key) with a hostile value. */
  mutateJson(input: Uint8Array): { bytes: Uint8Array; what: string } {
    const root = JSON.parse(new TextDecoder().decode(input)) as unknown;
    const leaves: [Record<string, unknown> | unknown[], string | number][] = [];
    const walk = (v: unknown) => {
      if (v && typeof v === 'object') {
        for (const [k, x] of Object.entries(v)) {
          leaves.push([v as Record<string, unknown>, Array.isArray(v) ? Number(k) : k]);
          walk(x);
        }
      }
    };
    walk(root);
    if (leaves.length === 0) return this.mutate(input);
    const [parent, key] = this.pick(leaves);
    const value = this.pick<unknown>([
      null,
      -1,
      0,
      1e308,
      2 ** 53,
      1.5,
      '1e15',
      'x',
      [],
      {},
      [1e9],
      'file:///etc/hostname',
      '../x',
      'http://other-host/x',
      true,
      'x'.repeat(10_000),
    ]);
    (parent as Record<string, unknown>)[key as string] = value;
    return {
      bytes: new TextEncoder().encode(JSON.stringify(root)),
      what: `json ${String(key)} = ${JSON.stringify(value)?.slice(0, 40)}`,
    };
  }
}

/** Offsets of the size/offset fields of a zip's local headers, central directory and end record. */
export function zipLengthFields(b: Uint8Array): number[] {
  const v = new DataView(b.buffer, b.byteOffset, b.byteLength);
  const out: number[] = [];
  for (let i = 0; i + 4 <= b.length; i++) {
    const sig = v.getUint32(i, true);
    if (sig === 0x04034b50) out.push(i + 18, i + 22, i + 26);
    else if (sig === 0x02014b50) out.push(i + 20, i + 24, i + 28, i + 42);
    else if (sig === 0x06054b50) out.push(i + 8, i + 10, i + 12, i + 16);
  }
  return out;
}

/** Offsets of the u32 lengths after pickle BINUNICODE / BINBYTES / LONG4 opcodes (a heuristic: any such byte). */
export function pickleLengthFields(b: Uint8Array): number[] {
  const out: number[] = [];
  for (let i = 0; i + 5 <= b.length; i++) if (b[i] === 0x58 || b[i] === 0x42 || b[i] === 0x8b) out.push(i + 1);
  return out;
}

export interface FuzzStats {
  outcomes: Map<string, number>;
  failures: string[];
  maxMs: number;
  maxGrowthMb: number;
}

/** How many cases a fuzz test runs: a fixed number in CI, more with HPD_FUZZ_CASES. */
export function fuzzCases(fallback: number): number {
  const n = Number(process.env.HPD_FUZZ_CASES);
  return Number.isSafeInteger(n) && n > 0 ? n : fallback;
}

/**
 * Runs one fuzz case: success or an HpdError is fine; anything else, a case slower than `maxMs`, or memory
 * (heap + array buffers) growing by more than `maxGrowthMb` is recorded as a failure.
 */
export async function fuzzCase(
  stats: FuzzStats,
  label: string,
  fn: () => unknown,
  isTyped: (e: unknown) => e is { code: string },
  limits = { maxMs: 5000, maxGrowthMb: 256 },
): Promise<void> {
  const mem = () => {
    const m = process.memoryUsage();
    return m.heapUsed + m.arrayBuffers;
  };
  const before = mem();
  let peak = before;
  const t0 = performance.now();
  let outcome: string;
  try {
    const r = fn();
    if (r instanceof Promise) await r;
    outcome = 'ok';
  } catch (e) {
    outcome = isTyped(e) ? e.code : `UNTYPED ${(e as Error)?.name}: ${(e as Error)?.message?.slice(0, 200)}`;
  }
  peak = Math.max(peak, mem());
  const ms = performance.now() - t0;
  const growthMb = (peak - before) / 2 ** 20;
  stats.outcomes.set(outcome, (stats.outcomes.get(outcome) ?? 0) + 1);
  stats.maxMs = Math.max(stats.maxMs, ms);
  stats.maxGrowthMb = Math.max(stats.maxGrowthMb, growthMb);
  if (outcome.startsWith('UNTYPED')) stats.failures.push(`${label}: ${outcome}`);
  if (ms > limits.maxMs) stats.failures.push(`${label}: took ${ms.toFixed(0)} ms`);
  if (growthMb > limits.maxGrowthMb) stats.failures.push(`${label}: memory grew ${growthMb.toFixed(0)} MB`);
}

export const newStats = (): FuzzStats => ({ outcomes: new Map(), failures: [], maxMs: 0, maxGrowthMb: 0 });
