import { describe, expect, it } from 'vitest';
import { compileCheckpoint } from '../../src/convert/compile.js';
import { generateFixture } from '../../src/convert/fixture.js';
import { sha256Hex } from '../../src/bundle/sha256.js';
import { memorySource } from '../../src/bundle/source.js';
import { HpdError } from '../../src/errors.js';
import { TINY } from '../helpers/fixtures.js';
import { runModel } from '../helpers/ort-run.js';

const enc = (v: unknown) => new TextEncoder().encode(JSON.stringify(v));

async function codeOf(p: Promise<unknown>): Promise<string | undefined> {
  try {
    await p;
  } catch (e) {
    return e instanceof HpdError ? e.code : `untyped: ${String(e)}`;
  }
  return undefined;
}

function without(files: Map<string, Uint8Array>, ...paths: string[]): Map<string, Uint8Array> {
  const m = new Map(files);
  for (const p of paths) m.delete(p);
  return m;
}

function withFile(files: Map<string, Uint8Array>, path: string, bytes: Uint8Array): Map<string, Uint8Array> {
  return new Map(files).set(path, bytes);
}

describe('compileCheckpoint', () => {
  const files = generateFixture(TINY);

  it('gives bit-identical ONNX from safetensors and from pytorch_model.bin', async () => {
    const a = await compileCheckpoint(memorySource(files), { prefer: 'safetensors' });
    const b = await compileCheckpoint(memorySource(files), { prefer: 'pytorch' });
    expect(a.stats.weightFiles).toEqual(['model.safetensors', '2_Dense/model.safetensors']);
    expect(b.stats.weightFiles).toEqual(['pytorch_model.bin', '2_Dense/pytorch_model.bin']);
    expect(Buffer.from(a.files.get('model.onnx')!).equals(Buffer.from(b.files.get('model.onnx')!))).toBe(true);
    // And with only the .bin files present (as in the published repo's 2_Dense).
    const c = await compileCheckpoint(memorySource(without(files, 'model.safetensors', '2_Dense/model.safetensors')));
    expect(c.manifest.files.model.sha256).toBe(a.manifest.files.model.sha256);
  });

  it('writes a manifest with sizes and sha256 of every file, maxTokens from sentence_bert_config.json', async () => {
    const b = await compileCheckpoint(memorySource(files, 'tiny'), {
      source: { repo: 'someone/tiny', revision: 'abc123' },
      name: 'tiny-model',
    });
    const m = b.manifest;
    expect(m).toMatchObject({
      format: 'hpd-embed/1',
      name: 'tiny-model',
      source: { repo: 'someone/tiny', revision: 'abc123' },
      dim: 16,
      maxTokens: 48,
      pooling: 'mean',
      normalized: true,
      dtype: 'fp32',
    });
    for (const f of [m.files.model, m.files.tokenizer, m.files.tokenizerConfig!]) {
      const bytes = b.files.get(f.path)!;
      expect(f.bytes).toBe(bytes.byteLength);
      expect(f.sha256).toBe(await sha256Hex(bytes));
    }
    expect(JSON.parse(new TextDecoder().decode(b.files.get('hpd.json')))).toEqual(m);
    expect(await sha256Hex(new TextEncoder().encode('abc'))).toBe(
      'ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad',
    );
  });

  it('marks a bundle compiled from a random-weight fixture (config.json hpd_embed_random_weights) and no other', async () => {
    const config = JSON.parse(new TextDecoder().decode(files.get('config.json')));
    expect(config.hpd_embed_random_weights).toBe(true);
    const random = await compileCheckpoint(memorySource(files));
    expect(random.manifest.randomWeights).toBe(true);
    expect(JSON.parse(new TextDecoder().decode(random.files.get('hpd.json'))).randomWeights).toBe(true);
    const { hpd_embed_random_weights: _, ...trained } = config;
    const real = await compileCheckpoint(memorySource(withFile(files, 'config.json', enc(trained))));
    expect(real.manifest.randomWeights).toBeUndefined();
    // Only the literal true counts: a string "true" is some other tool's setting, not ours.
    const odd = await compileCheckpoint(
      memorySource(withFile(files, 'config.json', enc({ ...trained, hpd_embed_random_weights: 'true' }))),
    );
    expect(odd.manifest.randomWeights).toBeUndefined();
  });

  it('shrinks the model with fp16 (about 1/2) and int8 (about 1/4)', async () => {
    const big = generateFixture({ ...TINY, hidden: 64, ffn: 256, heads: 4 });
    const size = async (dtype: 'fp32' | 'fp16' | 'int8') =>
      (await compileCheckpoint(memorySource(big), { dtype })).manifest.files.model.bytes;
    const [f32, f16, i8] = [await size('fp32'), await size('fp16'), await size('int8')];
    expect(f16 / f32).toBeLessThan(0.56);
    expect(i8 / f32).toBeLessThan(0.32);
  });

  it('builds tokenizer.json from vocab.txt when the checkpoint has none', async () => {
    const a = await compileCheckpoint(memorySource(files));
    const b = await compileCheckpoint(memorySource(without(files, 'tokenizer.json')));
    expect(JSON.parse(new TextDecoder().decode(b.files.get('tokenizer.json')))).toEqual(
      JSON.parse(new TextDecoder().decode(a.files.get('tokenizer.json'))),
    );
  });

  it('emits only ops that run on the WebGPU EP, opset 17, IR 8, int64 inputs, and no key_padding_mask', async () => {
    const b = await compileCheckpoint(memorySource(files), { dtype: 'int8' });
    const text = Buffer.from(b.files.get('model.onnx')!).toString('latin1');
    for (const banned of [
      'EmbedLayerNormalization',
      'MatMulInteger',
      'DynamicQuantizeLinear',
      'FusedMatMul',
      'BiasGelu',
      'key_padding_mask',
      'Shape',
    ]) {
      expect(text.includes(banned), banned).toBe(false);
    }
    // The model runs and its rows are unit length.
    const rows = await runModel(b.files.get('model.onnx')!, [
      [7, 20, 8],
      [7, 21, 22, 23, 8],
    ]);
    for (const r of rows) expect(Math.hypot(...r)).toBeCloseTo(1, 5);
  });

  describe('refuses bad checkpoints with a typed error', () => {
    const cases: [string, Map<string, Uint8Array>, string][] = [
      ['missing config.json', without(files, 'config.json'), 'CHECKPOINT_MISSING_FILE'],
      ['missing modules.json', without(files, 'modules.json'), 'CHECKPOINT_MISSING_FILE'],
      ['missing pooling config', without(files, '1_Pooling/config.json'), 'CHECKPOINT_MISSING_FILE'],
      ['no weights at all', without(files, 'model.safetensors', 'pytorch_model.bin'), 'CHECKPOINT_MISSING_FILE'],
      [
        'no Dense weights',
        without(files, '2_Dense/model.safetensors', '2_Dense/pytorch_model.bin'),
        'CHECKPOINT_MISSING_FILE',
      ],
      ['no tokenizer', without(files, 'tokenizer.json', 'vocab.txt'), 'CHECKPOINT_MISSING_FILE'],
      [
        'unknown pooling mode',
        withFile(
          files,
          '1_Pooling/config.json',
          enc({ word_embedding_dimension: 32, pooling_mode_weightedmean_tokens: true }),
        ),
        'UNSUPPORTED_POOLING',
      ],
      [
        'no pooling mode',
        withFile(files, '1_Pooling/config.json', enc({ word_embedding_dimension: 32 })),
        'UNSUPPORTED_POOLING',
      ],
      [
        'pooling dim mismatch',
        withFile(
          files,
          '1_Pooling/config.json',
          enc({ word_embedding_dimension: 384, pooling_mode_mean_tokens: true }),
        ),
        'DIM_MISMATCH',
      ],
      [
        'dense dim mismatch',
        withFile(
          files,
          '2_Dense/config.json',
          enc({
            in_features: 64,
            out_features: 16,
            bias: true,
            activation_function: 'torch.nn.modules.activation.Tanh',
          }),
        ),
        'DIM_MISMATCH',
      ],
      [
        'weights shaped unlike config',
        withFile(
          files,
          'config.json',
          enc({ ...JSON.parse(new TextDecoder().decode(files.get('config.json'))), intermediate_size: 128 }),
        ),
        'DIM_MISMATCH',
      ],
      [
        'heads do not divide hidden',
        withFile(
          files,
          'config.json',
          enc({ ...JSON.parse(new TextDecoder().decode(files.get('config.json'))), num_attention_heads: 5 }),
        ),
        'DIM_MISMATCH',
      ],
      [
        'unsupported activation',
        withFile(
          files,
          '2_Dense/config.json',
          enc({ in_features: 32, out_features: 16, activation_function: 'torch.nn.modules.activation.Softplus' }),
        ),
        'UNSUPPORTED_ACTIVATION',
      ],
      [
        'not BERT',
        withFile(
          files,
          'config.json',
          enc({ ...JSON.parse(new TextDecoder().decode(files.get('config.json'))), model_type: 'roberta' }),
        ),
        'CHECKPOINT_INVALID',
      ],
      ['broken JSON', withFile(files, 'modules.json', new TextEncoder().encode('[{"path": ')), 'CHECKPOINT_INVALID'],
      [
        'truncated safetensors',
        withFile(files, 'model.safetensors', files.get('model.safetensors')!.subarray(0, 5000)),
        'WEIGHTS_CORRUPT',
      ],
      [
        'truncated pytorch_model.bin',
        withFile(
          without(files, 'model.safetensors'),
          'pytorch_model.bin',
          files.get('pytorch_model.bin')!.subarray(0, 20000),
        ),
        'WEIGHTS_CORRUPT',
      ],
      [
        'missing parameter',
        withFile(without(files, 'pytorch_model.bin'), 'model.safetensors', files.get('2_Dense/model.safetensors')!),
        'CHECKPOINT_INVALID',
      ],
    ];
    it.each(cases)('%s', async (_, f, code) => {
      expect(await codeOf(compileCheckpoint(memorySource(f)))).toBe(code);
    });

    it('unsupported dtype', async () => {
      expect(await codeOf(compileCheckpoint(memorySource(files), { dtype: 'q4' as 'int8' }))).toBe('UNSUPPORTED_DTYPE');
    });
  });
});
