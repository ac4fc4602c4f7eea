// Issue 8: a seeded fuzzer over checkpoints (safetensors, torch zip, its pickle, the JSON configs). Every case is a success
// or a typed error, within time and memory bounds. HPD_FUZZ_CASES=5000 HPD_FUZZ_SEED=7 runs more, or other, cases.
import { unzipSync, zipSync, type Zippable } from 'fflate';
import { describe, expect, it } from 'vitest';
import { parseManifest } from '../../src/bundle/manifest.js';
import { memorySource } from '../../src/bundle/source.js';
import { compileCheckpoint } from '../../src/convert/compile.js';
import { generateFixture } from '../../src/convert/fixture.js';
import { readSafetensors } from '../../src/convert/safetensors.js';
import { readTorchCheckpoint } from '../../src/convert/torch-pickle.js';
import { HpdError } from '../../src/errors.js';
import { TINY } from '../helpers/fixtures.js';
import { fuzzCase, fuzzCases, Mutator, newStats, pickleLengthFields, zipLengthFields } from '../helpers/mutate.js';

const isTyped = (e: unknown): e is HpdError => e instanceof HpdError;
const SEED = Number(process.env.HPD_FUZZ_SEED ?? 1);

describe('checkpoint fuzzing (issue 8)', () => {
  const files = generateFixture({ ...TINY, layers: 1 });
  const st = files.get('model.safetensors')!;
  const torch = files.get('pytorch_model.bin')!;
  const torchEntries = unzipSync(torch);
  const pklName = Object.keys(torchEntries).find((n) => n.endsWith('data.pkl'))!;
  const torchFields = zipLengthFields(torch);
  const pklFields = pickleLengthFields(torchEntries[pklName]);

  it(`weight readers: ${fuzzCases(600)} mutated safetensors / torch zip / pickle files give success or a typed error`, async () => {
    const m = new Mutator(SEED);
    const stats = newStats();
    const n = fuzzCases(600);
    for (let i = 0; i < n; i++) {
      const target = i % 3;
      if (target === 0) {
        const { bytes, what } = m.mutate(st, [0, 4]);
        await fuzzCase(stats, `#${i} safetensors ${what}`, () => readSafetensors(bytes), isTyped);
      } else if (target === 1) {
        const { bytes, what } = m.mutate(torch, torchFields);
        await fuzzCase(stats, `#${i} torch zip ${what}`, () => readTorchCheckpoint(bytes), isTyped);
      } else {
        const { bytes, what } = m.mutate(torchEntries[pklName], pklFields);
        const z: Zippable = {};
        for (const [k, v] of Object.entries(torchEntries)) z[k] = [k === pklName ? bytes : v, { level: 0 }];
        await fuzzCase(stats, `#${i} data.pkl ${what}`, () => readTorchCheckpoint(zipSync(z)), isTyped);
      }
    }
    console.log(
      `weight fuzz seed ${SEED}: ${n} cases, outcomes ${JSON.stringify(Object.fromEntries(stats.outcomes))}, slowest ${stats.maxMs.toFixed(0)} ms, most memory ${stats.maxGrowthMb.toFixed(0)} MB`,
    );
    expect(stats.failures).toEqual([]);
  });

  it(`compiler: ${fuzzCases(120)} checkpoints with one mutated file compile or give a typed error`, async () => {
    const m = new Mutator(SEED + 1);
    const stats = newStats();
    const n = fuzzCases(120);
    const names = [
      'config.json',
      'modules.json',
      '1_Pooling/config.json',
      '2_Dense/config.json',
      'sentence_bert_config.json',
      '2_Dense/model.safetensors',
      'model.safetensors',
    ];
    for (let i = 0; i < n; i++) {
      const name = m.pick(names);
      const original = files.get(name)!;
      const { bytes, what } = name.endsWith('.json') && m.rand() < 0.7 ? m.mutateJson(original) : m.mutate(original);
      const mutated = new Map(files);
      mutated.set(name, bytes);
      if (name === 'model.safetensors') mutated.delete('pytorch_model.bin');
      // A compile that succeeds must produce a bundle the runtime accepts.
      await fuzzCase(
        stats,
        `#${i} ${name} ${what}`,
        async () => parseManifest((await compileCheckpoint(memorySource(mutated))).files.get('hpd.json')!, 'hpd.json'),
        isTyped,
      );
    }
    console.log(
      `compile fuzz seed ${SEED + 1}: ${n} cases, outcomes ${JSON.stringify(Object.fromEntries(stats.outcomes))}, slowest ${stats.maxMs.toFixed(0)} ms, most memory ${stats.maxGrowthMb.toFixed(0)} MB`,
    );
    expect(stats.failures).toEqual([]);
  });
});
