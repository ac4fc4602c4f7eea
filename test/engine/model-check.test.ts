// A bundle re-signed over a model that does not fit its hpd.json (truncated, bit-flipped, renamed, too few positions):
// MODEL_INVALID before the first run, never onnxruntime's untyped errors; on onnxruntime-node and on wasm.
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { MANIFEST_FILE, type BundleManifest } from '../../src/bundle/manifest.js';
import { sha256Hex } from '../../src/bundle/sha256.js';
import { Engine } from '../../src/engine/engine.js';
import { checkModelBytes, checkSession } from '../../src/engine/model-check.js';
import { readOnnxInfo } from '../../src/engine/onnx-info.js';
import type { OrtSession } from '../../src/engine/ort-types.js';
import { HpdError } from '../../src/errors.js';
import { nodePlatform } from '../../src/node/platform.js';
import { seededRandom } from '../../src/seeded-random.js';
import { compiledFixture } from '../helpers/compiled-fixture.js';
import { processScratch } from '../helpers/process-scratch.js';

const TEXTS = ['a man is playing a flute', 'word '.repeat(400)];

/** The bundle's files with model.onnx replaced and hpd.json re-signed over it (and edited). */
async function resigned(
  files: Map<string, Uint8Array>,
  model?: Uint8Array,
  edit?: (m: BundleManifest) => void | Promise<void>,
) {
  const m = JSON.parse(new TextDecoder().decode(files.get(MANIFEST_FILE))) as BundleManifest;
  const out = new Map(files);
  if (model) {
    m.files.model = { ...m.files.model, bytes: model.byteLength, sha256: await sha256Hex(model) };
    out.set('model.onnx', model);
  }
  await edit?.(m);
  out.set(MANIFEST_FILE, new TextEncoder().encode(JSON.stringify(m)));
  return out;
}

/** Every occurrence of `from` replaced by `to` (same length), byte for byte. */
function replaceBytes(b: Uint8Array, from: string, to: string): Uint8Array {
  const f = new TextEncoder().encode(from);
  const t = new TextEncoder().encode(to);
  const out = b.slice();
  let n = 0;
  for (let i = 0; i + f.length <= out.length; i++) if (f.every((x, j) => out[i + j] === x)) (out.set(t, i), n++);
  expect(n).toBeGreaterThan(0);
  return out;
}

function flipBits(b: Uint8Array, seed: number, n: number): Uint8Array {
  const r = seededRandom(seed);
  const out = b.slice();
  for (let i = 0; i < n; i++) out[Math.floor(r() * out.length)] ^= 1 << Math.floor(r() * 8);
  return out;
}

async function outcome(
  backend: 'wasm' | 'onnxruntime-node',
  files: Map<string, Uint8Array>,
): Promise<{ ok: true; vectors: Float32Array } | { ok: false; error: unknown }> {
  const { platform } = await nodePlatform({ backend, cacheDir: join(processScratch(), 'cache'), threads: 1 });
  let engine: Engine | undefined;
  try {
    engine = await Engine.create(platform, { model: { files }, device: 'auto' });
    return { ok: true, vectors: (await engine.embed(TEXTS)).vectors };
  } catch (error) {
    return { ok: false, error };
  } finally {
    await engine?.dispose();
  }
}

async function expectInvalid(backend: 'wasm' | 'onnxruntime-node', files: Map<string, Uint8Array>, message: RegExp) {
  const r = await outcome(backend, files);
  if (r.ok) throw new Error('expected MODEL_INVALID, the model ran');
  expect(r.error).toBeInstanceOf(HpdError);
  expect((r.error as HpdError).code).toBe('MODEL_INVALID');
  expect((r.error as HpdError).message).toMatch(message);
}

describe.each(['onnxruntime-node', 'wasm'] as const)('a re-signed bundle with a wrong model (%s)', (backend) => {
  it('truncated model.onnx: MODEL_INVALID at load', async () => {
    const b = await (await compiledFixture()).bundle();
    const model = b.files.get('model.onnx')!;
    for (const n of [0, 1, 17, model.length >> 1, model.length - 1])
      await expectInvalid(backend, await resigned(b.files, model.subarray(0, n)), /model\.onnx|onnxruntime/);
  }, 120_000);

  it('renamed input or output: MODEL_INVALID naming it', async () => {
    const b = await (await compiledFixture()).bundle();
    const model = b.files.get('model.onnx')!;
    await expectInvalid(backend, await resigned(b.files, replaceBytes(model, 'input_ids', 'input_idz')), /"input_ids"/);
    await expectInvalid(
      backend,
      await resigned(b.files, replaceBytes(model, 'attention_mask', 'attention_masq')),
      /"attention_mask"/,
    );
    await expectInvalid(
      backend,
      await resigned(b.files, replaceBytes(model, 'sentence_embedding', 'sentence_embeddinX')),
      /"sentence_embedding"/,
    );
  }, 120_000);

  it('maxTokens above the position table, or a dim the output lacks: MODEL_INVALID at load, not a Gather error at run time', async () => {
    const fx = await compiledFixture();
    for (const dtype of ['fp32', 'int8'] as const) {
      const b = await fx.bundle(dtype);
      const positions = readOnnxInfo(b.files.get('model.onnx')!).initializers.get(
        dtype === 'fp32' ? 'position_embeddings' : 'position_embeddings_int8',
      )![0];
      await expectInvalid(
        backend,
        await resigned(b.files, undefined, (m) => void (m.maxTokens = positions + 1)),
        new RegExp(`maxTokens is ${positions + 1} but model\\.onnx has only ${positions} positions`),
      );
    }
    const b = await fx.bundle();
    await expectInvalid(
      backend,
      await resigned(b.files, undefined, (m) => {
        m.dim += 1;
        m.probes = undefined;
      }),
      /dim 17/,
    );
  }, 120_000);

  it('a tokenizer.json with ids beyond the word table (re-signed): MODEL_INVALID at load', async () => {
    const b = await (await compiledFixture()).bundle();
    const words = readOnnxInfo(b.files.get('model.onnx')!).initializers.get('word_embeddings')![0];
    const tok = JSON.parse(new TextDecoder().decode(b.files.get('tokenizer.json'))) as {
      added_tokens: { id: number; content: string }[];
    };
    tok.added_tokens.push({ ...tok.added_tokens[0], id: words, content: '[EXTRA]' });
    const bytes = new TextEncoder().encode(JSON.stringify(tok));
    const files = await resigned(b.files, undefined, async (m) => {
      m.files.tokenizer = { ...m.files.tokenizer, bytes: bytes.byteLength, sha256: await sha256Hex(bytes) };
    });
    files.set('tokenizer.json', bytes);
    await expectInvalid(
      backend,
      files,
      new RegExp(`token id ${words} but model\\.onnx's word table has ${words} rows`),
    );
  }, 60_000);

  it('bit-flipped model.onnx (seeded): MODEL_INVALID or vectors, never an untyped error', async () => {
    const b = await (await compiledFixture()).bundle();
    const model = b.files.get('model.onnx')!;
    const seen = { invalid: 0, ran: 0 };
    // Few flips mostly land in weights (the golden check then bounds the damage); many also hit the structure.
    for (let seed = 1; seed <= 16; seed++) {
      const r = await outcome(backend, await resigned(b.files, flipBits(model, seed, seed <= 8 ? seed : 64 * seed)));
      if (r.ok) (expect(r.vectors.every(Number.isFinite)).toBe(true), seen.ran++);
      else {
        expect(r.error, `seed ${seed}: ${String(r.error)}`).toBeInstanceOf(HpdError);
        expect((r.error as HpdError).code, `seed ${seed}`).toBe('MODEL_INVALID');
        seen.invalid++;
      }
    }
    expect(seen.invalid).toBeGreaterThan(0);
  }, 300_000);

  it('a call cut short by dispose() is DISPOSED, not MODEL_INVALID', async () => {
    const b = await (await compiledFixture()).bundle();
    const { platform } = await nodePlatform({ backend, cacheDir: join(processScratch(), 'cache'), threads: 1 });
    const engine = await Engine.create(platform, { model: { files: b.files }, batchSize: 1 });
    const call = engine.embed(Array.from({ length: 200 }, (_, i) => `text number ${i} `.repeat(1 + (i % 7))));
    await engine.dispose(); // the call's rows are queued; its runs start on a later task, on a released session
    const r = await call.then(
      () => 'resolved',
      (e: HpdError) => e.code,
    );
    expect(r).toBe('DISPOSED');
  }, 60_000);

  it('the untouched bundle still loads and embeds', async () => {
    const b = await (await compiledFixture()).bundle();
    const r = await outcome(backend, b.files);
    expect(r.ok).toBe(true);
  }, 60_000);
});

describe('checkSession and checkModelBytes', () => {
  it('a session without the names the engine feeds and reads is MODEL_INVALID', () => {
    const session = (inputNames: string[], outputNames: string[]) =>
      ({ inputNames, outputNames }) as unknown as OrtSession;
    expect(() => checkSession(session(['input_ids', 'attention_mask'], ['sentence_embedding']))).not.toThrow();
    for (const s of [
      session(['input_ids'], ['sentence_embedding']),
      session(['input_ids', 'attention_mask'], ['last_hidden_state']),
    ])
      expect(() => checkSession(s)).toThrow(expect.objectContaining({ code: 'MODEL_INVALID' }));
  });

  it('bytes that are not ONNX are MODEL_INVALID (no graph, overlong field, group wire type)', async () => {
    const m = JSON.parse(
      new TextDecoder().decode((await (await compiledFixture()).bundle()).files.get(MANIFEST_FILE)),
    ) as BundleManifest;
    for (const bytes of [
      new Uint8Array(0),
      Uint8Array.of(0x3a, 0x7f, 1),
      Uint8Array.of(0x0b),
      new TextEncoder().encode('{}'),
    ])
      expect(() => checkModelBytes(bytes, m)).toThrow(expect.objectContaining({ code: 'MODEL_INVALID' }));
  });
});
