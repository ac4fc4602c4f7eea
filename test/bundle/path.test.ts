// Issue 8, "Reading what it was not asked to read": paths from hpd.json and modules.json stay inside their folder.
import { describe, expect, it } from 'vitest';
import { parseManifest } from '../../src/bundle/manifest.js';
import { resolveInside, unsafePathReason } from '../../src/bundle/path.js';
import { HpdError } from '../../src/errors.js';

const UNSAFE_PATHS = [
  'file:///etc/hostname',
  'file:/etc/hostname',
  'http://other-host/x',
  'HTTPS://other-host/x',
  '//other-host/x',
  '/etc/hostname',
  '\\\\server\\share',
  '\\etc\\hostname',
  '../secret',
  'a/../../secret',
  '%2e%2e/secret',
  '.%2E/secret',
  'a/%2e%2e%2f..%2fx',
  '.\t./secret',
  'C:\\Windows\\win.ini',
  'c:/x',
  'javascript:alert(1)',
  'data:,x',
  'a\\..\\..\\x',
  'x?y',
  '',
  '.',
];

describe('bundle paths', () => {
  it('accepts plain relative paths and resolves them inside the base', () => {
    for (const p of ['model.onnx', '2_Dense/config.json', 'a b/c%20d.json', 'x..y/z'])
      expect(unsafePathReason(p), p).toBeUndefined();
    expect(resolveInside('https://h.org/m/bundle/', '2_Dense/config.json')).toBe(
      'https://h.org/m/bundle/2_Dense/config.json',
    );
    expect(resolveInside('file:///srv/bundle/', 'model.onnx')).toBe('file:///srv/bundle/model.onnx');
  });

  it('refuses schemes, absolute paths, .. (also %-escaped) and other hosts', () => {
    for (const p of UNSAFE_PATHS) {
      expect(unsafePathReason(p), JSON.stringify(p)).toBeDefined();
      expect(resolveInside('https://h.org/m/bundle/', p), JSON.stringify(p)).toBeUndefined();
    }
    expect(unsafePathReason(5)).toBeDefined();
  });

  it('parseManifest refuses an unsafe files.*.path with MODEL_INVALID naming it', () => {
    const manifest = (path: string) =>
      new TextEncoder().encode(
        JSON.stringify({
          format: 'hpd-embed/1',
          dim: 8,
          maxTokens: 16,
          dtype: 'fp32',
          files: {
            model: { path, bytes: 1, sha256: '0'.repeat(64) },
            tokenizer: { path: 'tokenizer.json', bytes: 1, sha256: '0'.repeat(64) },
          },
        }),
      );
    expect(parseManifest(manifest('model.onnx'), 'hpd.json').files.model.path).toBe('model.onnx');
    for (const p of UNSAFE_PATHS) {
      let err: unknown;
      try {
        parseManifest(manifest(p), 'hpd.json');
      } catch (e) {
        err = e;
      }
      expect(err, JSON.stringify(p)).toBeInstanceOf(HpdError);
      expect((err as HpdError).code).toBe('MODEL_INVALID');
      expect((err as HpdError).message).toContain(JSON.stringify(p));
    }
  });
});
