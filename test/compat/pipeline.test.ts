import { basename, dirname } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { Embedder } from '../../src/api/embedder.js';
import { env as browserEnv } from '../../src/compat/index.js';
import { env, pipeline } from '../../src/compat/node.js';
import { compatPipeline, modelSpec, type EmbedderFactory } from '../../src/compat/pipeline.js';
import type { CompatProgress } from '../../src/compat/progress.js';
import { createEmbedder } from '../../src/node/create-embedder.js';
import { compiledFixture } from '../helpers/compiled-fixture.js';
import { processScratch } from '../helpers/process-scratch.js';

/** A factory that records the options createEmbedder would get and embeds `rows` rows of 2-d vectors. */
function fake() {
  const seen: Parameters<EmbedderFactory>[0][] = [];
  const factory: EmbedderFactory = async (o) => {
    seen.push(o);
    o.onProgress?.({
      stage: 'download',
      file: 'model.onnx',
      loaded: 5,
      total: 10,
      aggregate: { loaded: 5, total: 10 },
      fromCache: false,
    });
    o.onProgress?.({
      stage: 'download',
      file: 'model.onnx',
      loaded: 10,
      total: 10,
      aggregate: { loaded: 10, total: 10 },
      fromCache: false,
    });
    return {
      dim: 2,
      embed: async (texts: readonly string[]) => Float32Array.from(texts.flatMap((_, i) => [i, 1])),
      dispose: async () => {},
    } as unknown as Embedder;
  };
  return { seen, factory };
}

describe('hpd-embed/compat pipeline (mapping)', () => {
  it("passes device, dtype, revision, remoteHost and cacheDir through in createEmbedder's names", async () => {
    const { seen, factory } = fake();
    const e = { allowRemoteModels: true, localModelPath: '/models/', remoteHost: 'http://127.0.0.1:1', cacheDir: '/c' };
    const events: CompatProgress[] = [];
    await compatPipeline(factory, e, 'wasm')('feature-extraction', 'owner/name', {
      device: 'cpu',
      dtype: 'int8',
      revision: 'abc123',
      progress_callback: (p) => events.push(p),
    });
    expect(seen[0]).toMatchObject({
      model: 'owner/name@abc123',
      device: 'wasm',
      dtype: 'q8',
      hubUrl: 'http://127.0.0.1:1',
      cacheDir: '/c',
    });
    expect(events.map((p) => p.status)).toEqual(['initiate', 'progress', 'done', 'ready']);
    expect(events.at(-1)).toEqual({ status: 'ready', task: 'feature-extraction', model: 'owner/name' });
  });

  it('with allowRemoteModels false, a model is the folder under localModelPath (a path, never a repo id)', () => {
    const local = (localModelPath: string) => ({ allowRemoteModels: false, localModelPath });
    expect(modelSpec('hpd', undefined, local('/models/'))).toBe('/models/hpd/');
    expect(modelSpec('owner/hpd', 'v1', local('./models'))).toBe('./models/owner/hpd/');
    expect(modelSpec('hpd', undefined, local('models/'))).toBe('./models/hpd/');
    expect(modelSpec('hpd', undefined, local('https://cdn.example/m/'))).toBe('https://cdn.example/m/hpd/');
    const remote = { allowRemoteModels: true, localModelPath: '/models/' };
    expect(modelSpec('owner/name', undefined, remote)).toBe('owner/name');
    expect(modelSpec('owner/name@v2', 'v1', remote)).toBe('owner/name@v2');
    expect(modelSpec('https://cdn.example/m/', 'v1', remote)).toBe('https://cdn.example/m/');
    expect(browserEnv).toEqual({ allowRemoteModels: true, localModelPath: '/models/' });
  });

  it('returns a Tensor-like { data, dims, tolist() } for a text or texts; refuses other tasks and poolings', async () => {
    const { factory } = fake();
    const extract = await compatPipeline(factory, { ...env }, 'auto')('feature-extraction', 'owner/name');
    const one = await extract('hello', { pooling: 'mean', normalize: true });
    expect(one.dims).toEqual([1, 2]);
    expect(one.tolist()).toEqual([[0, 1]]);
    const many = await extract(['a', 'b', 'c']);
    expect(many.dims).toEqual([3, 2]);
    expect(many.data).toBeInstanceOf(Float32Array);
    expect(many.tolist()).toEqual([
      [0, 1],
      [1, 1],
      [2, 1],
    ]);
    await expect(extract('x', { pooling: 'cls' as 'mean' })).rejects.toMatchObject({ code: 'INVALID_INPUT' });
    await expect(
      compatPipeline(factory, env, 'auto')('text-generation' as 'feature-extraction', 'm'),
    ).rejects.toMatchObject({
      code: 'INVALID_INPUT',
    });
  });
});

describe('hpd-embed/compat pipeline (Node, a real model)', () => {
  it("device 'cpu' with a local model: Node's CPU path (as device 'auto'), the same vectors as createEmbedder", async () => {
    const bundle = await (await compiledFixture()).bundleDir();
    const saved = { ...env };
    Object.assign(env, { allowRemoteModels: false, localModelPath: dirname(bundle), cacheDir: processScratch() });
    const texts = ['a cat sat on the mat', 'stocks fell today'];
    const extractor = await pipeline('feature-extraction', basename(bundle), { device: 'cpu', dtype: 'fp32' });
    const direct = await createEmbedder({ model: bundle, cacheDir: processScratch() });
    try {
      const out = await extractor(texts, { pooling: 'mean', normalize: true });
      expect(out.dims).toEqual([2, direct.dim]);
      expect(out.data).toEqual(await direct.embed(texts));
      expect(extractor.embedder.device).toMatchObject({ requested: 'auto', actual: direct.device.actual });
    } finally {
      Object.assign(env, saved);
      await extractor.dispose();
      await direct.dispose();
    }
  });
});
