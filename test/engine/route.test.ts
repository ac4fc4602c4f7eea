import { describe, expect, it } from 'vitest';
import type { Row } from '../../src/engine/batcher.js';
import type { Ort, OrtSession } from '../../src/engine/ort-types.js';
import { RunQueue } from '../../src/engine/queue.js';
import { crossoverFromTimings, DEFAULT_WASM_MAX_ROWS, measureCrossover, routeBatch } from '../../src/engine/route.js';

describe('batch routing between wasm and WebGPU (fake timings)', () => {
  it('routes batches up to the crossover to wasm, larger ones to WebGPU; the documented default sends only single queries to wasm', () => {
    expect(DEFAULT_WASM_MAX_ROWS).toBe(1);
    expect(routeBatch(1, DEFAULT_WASM_MAX_ROWS)).toBe('wasm');
    expect(routeBatch(2, DEFAULT_WASM_MAX_ROWS)).toBe('gpu');
    expect(routeBatch(8, 8)).toBe('wasm');
    expect(routeBatch(1, 0)).toBe('gpu');
  });

  it('the crossover is the largest size before WebGPU first wins, and later noise does not reopen it', () => {
    expect(
      crossoverFromTimings([
        { rows: 1, wasmMs: 3, gpuMs: 9 },
        { rows: 2, wasmMs: 5, gpuMs: 9 },
        { rows: 4, wasmMs: 10, gpuMs: 9 },
        { rows: 8, wasmMs: 8, gpuMs: 20 },
      ]),
    ).toBe(2);
    expect(
      crossoverFromTimings([
        { rows: 4, wasmMs: 10, gpuMs: 9 },
        { rows: 1, wasmMs: 3, gpuMs: 9 },
      ]),
    ).toBe(1);
    expect(crossoverFromTimings([{ rows: 1, wasmMs: 9, gpuMs: 3 }])).toBe(0);
    expect(crossoverFromTimings([{ rows: 1, wasmMs: 3, gpuMs: 3 }])).toBe(0); // a tie goes to WebGPU
  });

  it('measureCrossover times both devices on a fake clock and stops once WebGPU wins', async () => {
    let clock = 0;
    const calls: string[] = [];
    // wasm: 4 ms + 3 ms/row; WebGPU: 10 ms fixed dispatch + 0.5 ms/row → wasm wins at 1 and 2 rows, loses at 4.
    const run = async (d: 'wasm' | 'gpu', rows: number) => {
      calls.push(`${d}:${rows}`);
      clock += d === 'wasm' ? 4 + 3 * rows : 10 + 0.5 * rows;
    };
    const r = await measureCrossover(run, () => clock, 2);
    expect(r.wasmMaxRows).toBe(2);
    expect(r.timings.map((t) => t.rows)).toEqual([1, 2, 4]);
    expect(r.timings[0]).toEqual({ rows: 1, wasmMs: 7, gpuMs: 10.5 });
    expect(calls.some((c) => c.endsWith(':8'))).toBe(false);
  });

  it('RunQueue sends batches of at most maxRows rows to the small (wasm) session and the rest to the primary one', async () => {
    const seen: { session: string; rows: number }[] = [];
    class Tensor {
      constructor(
        readonly type: string,
        readonly data: unknown,
        readonly dims: number[],
      ) {}
    }
    const fakeSession = (name: string): OrtSession =>
      ({
        run: async (feeds: Record<string, Tensor>) => {
          const rows = feeds.input_ids.dims[0];
          seen.push({ session: name, rows });
          return {
            sentence_embedding: {
              data: new Float32Array(rows * 2).fill(name === 'wasm' ? 1 : 2),
              dims: [rows, 2],
              dispose() {},
            },
          };
        },
        release: async () => {},
      }) as unknown as OrtSession;
    const ort = { Tensor } as unknown as Ort;
    const queue = new RunQueue(ort, fakeSession('gpu'), 2, { batchSize: 4, maxBatchTokens: 1000, maxRoundRows: 1000 });
    queue.routeSmallBatches(fakeSession('wasm'), 1);
    const rows = (n: number): Row[] => {
      const out = new Float32Array(n * 2);
      return Array.from(
        { length: n },
        (_, i) => ({ ids: Int32Array.from([1, 2, 3]), out, offset: i * 2 }) as unknown as Row,
      );
    };
    const one = rows(1);
    await queue.submit(one);
    const five = rows(5);
    await queue.submit(five);
    expect(seen).toEqual([
      { session: 'wasm', rows: 1 },
      { session: 'gpu', rows: 4 },
      { session: 'wasm', rows: 1 },
    ]);
    expect(Array.from(one[0].out)).toEqual([1, 1]);
  });
});
