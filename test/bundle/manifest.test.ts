import { describe, expect, it } from 'vitest';
import { parseManifest } from '../../src/bundle/manifest.js';
import { HpdError } from '../../src/errors.js';

const manifest = (extra: object) =>
  new TextEncoder().encode(
    JSON.stringify({
      format: 'hpd-embed/1',
      dim: 8,
      maxTokens: 16,
      dtype: 'fp32',
      files: {
        model: { path: 'model.onnx', bytes: 1, sha256: '0'.repeat(64) },
        tokenizer: { path: 'tokenizer.json', bytes: 1, sha256: '0'.repeat(64) },
      },
      ...extra,
    }),
  );

describe('parseManifest: randomWeights', () => {
  it('keeps a boolean randomWeights and leaves it absent when absent', () => {
    expect(parseManifest(manifest({ randomWeights: true }), 'hpd.json').randomWeights).toBe(true);
    expect(parseManifest(manifest({ randomWeights: false }), 'hpd.json').randomWeights).toBe(false);
    expect(parseManifest(manifest({}), 'hpd.json').randomWeights).toBeUndefined();
  });

  it('refuses a non-boolean randomWeights with MODEL_INVALID naming the field', () => {
    for (const v of ['true', 1, null, {}]) {
      let err: unknown;
      try {
        parseManifest(manifest({ randomWeights: v }), 'hpd.json');
      } catch (e) {
        err = e;
      }
      expect(err, JSON.stringify(v)).toBeInstanceOf(HpdError);
      expect(err).toMatchObject({ code: 'MODEL_INVALID', message: expect.stringMatching(/randomWeights/) });
    }
  });
});
