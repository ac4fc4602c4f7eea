import { describe, expect, it } from 'vitest';
import { progressForwarder, type CompatProgress } from '../../src/compat/progress.js';
import type { LoadProgress } from '../../src/model/progress.js';

const download = (file: string, loaded: number, total: number | undefined): LoadProgress => ({
  stage: 'download',
  file,
  loaded,
  total,
  aggregate: { loaded, total },
  fromCache: false,
});

describe('progressForwarder', () => {
  it('sends initiate and done once per file and at most one progress event per file per 100 ms', () => {
    let t = 0;
    const got: CompatProgress[] = [];
    const on = progressForwarder(
      (p) => got.push(p),
      'owner/model',
      () => t,
    );
    // Two files downloading side by side in 1,000 chunks each over 1 s: a chunk every millisecond.
    for (let i = 1; i <= 1000; i++) {
      t = i;
      on(download('model.onnx', i * 100, 100_000));
      on(download('tokenizer.json', i, 1000));
      on({ stage: 'compile', step: 'graph', fraction: 0.5 });
    }
    on({ stage: 'ready' });
    for (const file of ['model.onnx', 'tokenizer.json']) {
      const mine = got.filter((p) => 'file' in p && p.file === file);
      expect(mine[0]).toEqual({ status: 'initiate', name: 'owner/model', file });
      expect(mine.at(-1)).toEqual({ status: 'done', name: 'owner/model', file });
      const progress = mine.filter((p) => p.status === 'progress');
      expect(progress).toHaveLength(10); // at t = 1, 101, …, 901
      expect(progress[0]).toMatchObject({ progress: 0.1, total: file === 'model.onnx' ? 100_000 : 1000 });
    }
    expect(got).toHaveLength(2 * 12);
  });

  it('a file of unknown size reports progress 0 and total 0, never done', () => {
    const got: CompatProgress[] = [];
    const on = progressForwarder(
      (p) => got.push(p),
      'm',
      () => 0,
    );
    on(download('a.bin', 10, undefined));
    expect(got).toEqual([
      { status: 'initiate', name: 'm', file: 'a.bin' },
      { status: 'progress', name: 'm', file: 'a.bin', progress: 0, loaded: 10, total: 0 },
    ]);
  });
});
