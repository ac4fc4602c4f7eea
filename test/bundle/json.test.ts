import { describe, expect, it } from 'vitest';
import { parseJsonBytes } from '../../src/bundle/json.js';
import { parseManifest } from '../../src/bundle/manifest.js';
import { ConvertError, HpdError } from '../../src/errors.js';
import { parseJson } from '../../src/convert/read-file.js';
import { readSafetensors } from '../../src/convert/safetensors.js';

const enc = (s: string) => new TextEncoder().encode(s);
function thrown(fn: () => unknown): HpdError {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(HpdError);
    return e as HpdError;
  }
  throw new Error('did not throw');
}

describe('parseJsonBytes', () => {
  it('decodes UTF-8 (dropping a BOM) and parses', () => {
    expect(parseJsonBytes(enc('{"a":[1,"é"]}'), 'x.json', 'MODEL_INVALID')).toEqual({ a: [1, 'é'] });
    expect(parseJsonBytes(Uint8Array.of(0xef, 0xbb, 0xbf, ...enc('[2]')), 'x.json', 'MODEL_INVALID')).toEqual([2]);
  });

  it("bad JSON throws the caller's code with a message naming the file and the parser's reason", () => {
    const e = thrown(() => parseJsonBytes(enc('{"a": '), 'bundle/tokenizer.json', 'MODEL_INVALID'));
    expect(e.code).toBe('MODEL_INVALID');
    expect(e.message).toMatch(/^bundle\/tokenizer\.json is not valid JSON: /);
    expect(e.cause).toBeInstanceOf(SyntaxError);
  });

  it('bytes that are not UTF-8 are refused, not parsed with replacement characters', () => {
    const e = thrown(() => parseJsonBytes(Uint8Array.of(0x22, 0xff, 0x22), 'v.json', 'CHECKPOINT_INVALID'));
    expect(e.code).toBe('CHECKPOINT_INVALID');
    expect(e.message).toMatch(/^v\.json is not valid JSON: .*utf-8/i);
  });

  it('throws the error class a module passes (ConvertError in the compiler)', () => {
    const e = thrown(() => parseJsonBytes(enc('nope'), 'config.json', 'CHECKPOINT_INVALID', ConvertError));
    expect(e).toBeInstanceOf(ConvertError);
    expect(e.name).toBe('ConvertError');
  });

  it('is what hpd.json, checkpoint JSON and safetensors headers go through', () => {
    expect(thrown(() => parseManifest(enc('{'), 'https://x/hpd.json'))).toMatchObject({
      code: 'MODEL_INVALID',
      message: expect.stringContaining('https://x/hpd.json is not valid JSON'),
    });
    const c = thrown(() => parseJson(enc('{'), 'ckpt/config.json'));
    expect(c).toBeInstanceOf(ConvertError);
    expect(c).toMatchObject({
      code: 'CHECKPOINT_INVALID',
      message: expect.stringContaining('ckpt/config.json is not valid JSON'),
    });
    const header = enc('{"a":');
    const st = new Uint8Array(8 + header.length);
    new DataView(st.buffer).setBigUint64(0, BigInt(header.length), true);
    st.set(header, 8);
    expect(thrown(() => readSafetensors(st, 'w.safetensors'))).toMatchObject({
      code: 'WEIGHTS_CORRUPT',
      message: expect.stringContaining('w.safetensors (safetensors header) is not valid JSON'),
    });
  });
});
