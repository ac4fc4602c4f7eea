import { describe, expect, it } from 'vitest';
import { cloneJson, isWellFormedFallback, isWellFormedString } from '../../src/search/json-value.js';
import { seededRandom } from '../../src/seeded-random.js';

describe('json-value', () => {
  it('the lone-surrogate fallback and the native check agree with a UTF-8 round trip on random UTF-16', () => {
    const r = seededRandom(5);
    const pool = [0x41, 0xd800, 0xdbff, 0xdc00, 0xdfff, 0xe000, 0x20ac, 0xd83d, 0xde00];
    for (let i = 0; i < 5000; i++) {
      const s = String.fromCharCode(
        ...Array.from({ length: Math.floor(r() * 6) }, () => pool[Math.floor(r() * pool.length)]),
      );
      // The reference: a well-formed string survives a UTF-8 round trip unchanged.
      const roundTrip = new TextDecoder().decode(new TextEncoder().encode(s)) === s;
      expect(isWellFormedFallback(s)).toBe(roundTrip);
      expect(isWellFormedString(s)).toBe(roundTrip);
    }
  });

  it('cloneJson keeps a "__proto__" key as an own key and never sets the prototype', () => {
    const src = JSON.parse('{"a":{"__proto__":{"polluted":1}},"__proto__":[1]}') as unknown;
    const out = cloneJson(src, 'm', 0) as Record<string, Record<string, unknown>>;
    expect(Object.getPrototypeOf(out)).toBe(Object.prototype);
    expect(Object.getPrototypeOf(out.a)).toBe(Object.prototype);
    expect(out.a.polluted).toBeUndefined();
    expect(JSON.stringify(out)).toBe(JSON.stringify(src));
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });
});
