// Strict UTF-8 for evaluation files: every kind of invalid sequence is refused with its line; nothing becomes U+FFFD.
import { describe, expect, it } from 'vitest';
import { parseBeir } from '../../src/eval/beir-data.js';
import { parseSts } from '../../src/eval/sts-data.js';
import { decodeUtf8 } from '../../src/eval/utf8.js';

const bytes = (...parts: (string | number[])[]) =>
  Uint8Array.from(parts.flatMap((p) => (typeof p === 'string' ? [...new TextEncoder().encode(p)] : p)));

describe('decodeUtf8', () => {
  it('decodes valid UTF-8 (a leading BOM dropped), CRLF and astral characters included', () => {
    expect(decodeUtf8(bytes([0xef, 0xbb, 0xbf], 'a\r\nb 😀 é'), 'f')).toBe('a\r\nb 😀 é');
  });

  it('names the line of the first invalid sequence, whatever its kind', () => {
    const cases: [string, number[]][] = [
      ['a lone continuation byte', [0x80]],
      ['a lead byte cut short', [0xc3, 0x41]],
      ['an overlong encoding', [0xc0, 0xaf]],
      ['an encoded surrogate', [0xed, 0xa0, 0x80]],
      ['a code point above U+10FFFF', [0xf4, 0x90, 0x80, 0x80]],
      ['0xFF', [0xff]],
    ];
    for (const [what, bad] of cases) {
      expect(() => decodeUtf8(bytes('one\ntwo\r\nthr', bad, 'ee\nfour'), 'data.tsv'), what).toThrow(
        expect.objectContaining({
          code: 'INVALID_INPUT',
          message: expect.stringMatching(/^data\.tsv:3: not valid UTF-8/),
        }),
      );
      // At the very end, without a newline.
      expect(() => decodeUtf8(bytes('x\ny', bad), 'f'), what).toThrow(/^f:2: not valid UTF-8/);
    }
  });

  it('parseSts and parseBeir given bytes refuse invalid UTF-8 with file and line', () => {
    expect(() => parseSts(bytes('a\tb\t1\nc\td', [0xff], '\t2\n'), 'tsv', 'pairs.tsv')).toThrow(/^pairs\.tsv:2: /);
    expect(parseSts(bytes('a\tb\t1\nc\td\t2\n'), 'tsv').scores).toEqual(Float64Array.of(1, 2));
    const ok = {
      corpus: bytes('{"_id":"d","text":"t"}'),
      queries: bytes('{"_id":"q","text":"t"}'),
      qrels: bytes('q\td\t1'),
    };
    expect(parseBeir(ok).corpusIds).toEqual(['d']);
    expect(() =>
      parseBeir({ ...ok, queries: bytes('\n{"_id":"q","text":"', [0xfe], '"}') }, { queries: 'Q.jsonl' }),
    ).toThrow(/^Q\.jsonl:2: not valid UTF-8/);
  });
});
