// Issue 8: a seeded fuzzer over compiled bundles (hpd.json, tokenizer files, model.onnx): loading, and building the
// tokenizer from what loaded, gives success or a typed error. HPD_FUZZ_CASES / HPD_FUZZ_SEED run more or other cases.
import { beforeAll, describe, expect, it } from 'vitest';
import { sha256Hex } from '../../src/bundle/sha256.js';
import { TextTokenizer } from '../../src/engine/tokenizer.js';
import { HpdError } from '../../src/errors.js';
import { memoryCache } from '../../src/model/cache.js';
import { loadModel } from '../../src/model/load.js';
import { compiledFixture } from '../helpers/compiled-fixture.js';
import { TINY } from '../helpers/fixtures.js';
import { fuzzCase, fuzzCases, Mutator, newStats } from '../helpers/mutate.js';

const isTyped = (e: unknown): e is HpdError => e instanceof HpdError;
const SEED = Number(process.env.HPD_FUZZ_SEED ?? 1);

describe('bundle fuzzing (issue 8)', () => {
  let bundle: Map<string, Uint8Array>;
  beforeAll(async () => {
    bundle = (await (await compiledFixture({ ...TINY, layers: 1 })).bundle()).files;
  });

  it(`${fuzzCases(150)} mutated bundles load (and tokenise) or give a typed error`, async () => {
    const m = new Mutator(SEED + 2);
    const stats = newStats();
    const n = fuzzCases(150);
    const opts = {
      cache: memoryCache(),
      fetch: () => Promise.reject(new Error('no network in this test')),
      build: () => Promise.reject(new Error('bundles only in this test')),
    };
    for (let i = 0; i < n; i++) {
      const name = m.pick(['hpd.json', 'hpd.json', 'tokenizer.json', 'tokenizer_config.json', 'model.onnx']);
      const original = bundle.get(name)!;
      const { bytes, what } = name.endsWith('.json') && m.rand() < 0.7 ? m.mutateJson(original) : m.mutate(original);
      const files = new Map(bundle);
      files.set(name, bytes);
      // Half the time the manifest is re-signed, as a hostile bundle would be, so the mutation reaches the parsers.
      const resign = name !== 'hpd.json' && m.rand() < 0.5;
      if (resign) {
        const manifest = JSON.parse(new TextDecoder().decode(bundle.get('hpd.json')!));
        const key = name === 'tokenizer.json' ? 'tokenizer' : name === 'model.onnx' ? 'model' : 'tokenizerConfig';
        manifest.files[key] = { ...manifest.files[key], bytes: bytes.byteLength, sha256: await sha256Hex(bytes) };
        files.set('hpd.json', new TextEncoder().encode(JSON.stringify(manifest)));
      }
      await fuzzCase(
        stats,
        `#${i} ${name}${resign ? ' (re-signed)' : ''} ${what}`,
        async () => {
          const loaded = await loadModel({ files }, opts);
          new TextTokenizer(loaded.tokenizerJson, loaded.tokenizerConfig, loaded.manifest.maxTokens).encode(
            'The quick brown fox, 中文!',
          );
        },
        isTyped,
      );
    }
    console.log(
      `bundle fuzz seed ${SEED + 2}: ${n} cases, outcomes ${JSON.stringify(Object.fromEntries(stats.outcomes))}, slowest ${stats.maxMs.toFixed(0)} ms, most memory ${stats.maxGrowthMb.toFixed(0)} MB`,
    );
    expect(stats.failures).toEqual([]);
  });
});
