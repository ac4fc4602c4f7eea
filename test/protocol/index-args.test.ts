// The page's checks of index calls: what structured clone would reject is INVALID_INPUT naming its field, and what
// crosses is a plain-JSON copy.
import { describe, expect, it } from 'vitest';
import { HpdError } from '../../src/errors.js';
import { indexCallArgs } from '../../src/protocol/index-args.js';

const vec = new Float32Array(4);

/** The INVALID_INPUT message `indexCallArgs` throws (fails the test on anything else). */
function refusal(method: Parameters<typeof indexCallArgs>[0], args: unknown[]): string {
  let caught: unknown;
  try {
    indexCallArgs(method, args);
  } catch (e) {
    caught = e;
  }
  expect(caught).toBeInstanceOf(HpdError);
  expect((caught as HpdError).code).toBe('INVALID_INPUT');
  return (caught as Error).message;
}

class Tag {
  constructor(readonly v: number) {}
}

describe('indexCallArgs: metadata structured clone would reject is INVALID_INPUT naming the field (issue 16)', () => {
  const cases: [unknown, RegExp][] = [
    [{ tags: { fn: () => 1 } }, /metadata\[3\]\.tags\.fn is a function/],
    [{ s: Symbol('x') }, /metadata\[3\]\.s is a symbol/],
    [{ n: 10n }, /metadata\[3\]\.n is a bigint/],
    [{ w: new WeakMap() }, /metadata\[3\]\.w is a WeakMap/],
    [{ list: [1, new Tag(1)] }, /metadata\[3\]\.list\[1\] is a Tag/],
    [{ m: new Map() }, /metadata\[3\]\.m is a Map/],
    [{ d: new Date(0) }, /metadata\[3\]\.d is a Date/],
    [{ u8: new Uint8Array(2) }, /metadata\[3\]\.u8 is a Uint8Array/],
    [{ x: Number.NaN }, /metadata\[3\]\.x is NaN/],
    [() => 1, /metadata\[3\] is a function/],
    [[undefined], /metadata\[3\]\[0\] is undefined/],
  ];
  for (const method of ['addTexts', 'upsertTexts', 'addVectors', 'upsertVectors'] as const) {
    it(`${method}`, () => {
      const second = method.endsWith('Texts') ? ['a', 'b', 'c', 'd'] : new Float32Array(16);
      for (const [bad, pattern] of cases) {
        const metadata = [{ ok: 1 }, undefined, null, bad];
        expect(refusal(method, [['a', 'b', 'c', 'd'], second, metadata])).toMatch(pattern);
      }
      const cyclic: Record<string, unknown> = {};
      cyclic.self = cyclic;
      expect(refusal(method, [['a'], method.endsWith('Texts') ? ['a'] : vec, [cyclic]])).toMatch(/nests deeper/);
      expect(refusal(method, [['a'], method.endsWith('Texts') ? ['a'] : vec, () => 1])).toMatch(/one entry/);
      expect(
        refusal(method, [
          ['a', Symbol('b')],
          ['a', 'b'],
        ]),
      ).toMatch(/ids\[1\] is a symbol/);
    });
  }

  it('texts and remove ids that are not strings are refused before they cross', () => {
    expect(refusal('addTexts', [['a'], [() => 'x']])).toMatch(/texts\[0\] is a function/);
    expect(refusal('remove', [[1n]])).toMatch(/ids\[0\] is a bigint/);
  });

  it('what crosses is a plain-JSON copy: structured clone accepts it, and later changes by the caller do not reach it', () => {
    const tags = ['x'];
    const proxied = new Proxy({ a: 1, tags }, {}); // structured clone rejects a Proxy; its plain copy crosses
    expect(() => structuredClone(proxied)).toThrow();
    const meta = [{ tags, __proto__: null, nested: { k: [1, 'two', null, true] } }, undefined, proxied];
    const [, , sent] = indexCallArgs('addVectors', [['a', 'b', 'c'], new Float32Array(12), meta]) as unknown[];
    expect(sent).not.toBe(meta);
    expect(structuredClone(sent)).toEqual(sent);
    tags.push('later');
    expect((sent as { tags: string[] }[])[0].tags).toEqual(['x']);
    expect((sent as { tags: string[] }[])[2]).toEqual({ a: 1, tags: ['x'] });
  });

  it('search options: a filter function is refused (use where), where is checked and copied, unknown keys dropped', () => {
    expect(refusal('search', ['q', 5, { filter: () => true }])).toMatch(/filter: a function cannot cross.*where/);
    expect(refusal('search', ['q', 5, { where: { k: () => 1 } }])).toMatch(/search options\.where\.k is a function/);
    expect(refusal('search', ['q', 5, { where: 'k' }])).toMatch(/where must be an object/);
    expect(refusal('search', ['q', 5, 7])).toMatch(/search options must be an object/);
    const where = { k: 'v' };
    const sent = indexCallArgs('search', ['q', 5, { where, minScore: 0.5, withMetadata: true, extra: Symbol('x') }]);
    expect(sent).toEqual(['q', 5, { where: { k: 'v' }, minScore: 0.5, withMetadata: true }]);
    expect((sent[2] as { where: object }).where).not.toBe(where);
    expect(indexCallArgs('search', ['q', 5])).toEqual(['q', 5]);
  });
});
