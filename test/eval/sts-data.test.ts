import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { guessStsFormat, parseSts } from '../../src/eval/sts-data.js';
import { readStsFile } from '../../src/node/eval-files.js';
import { SHARED_DATA } from '../helpers/fixtures.js';

const STSB = join(SHARED_DATA, 'stsbenchmark');
const haveStsb = existsSync(join(STSB, 'sts-dev.csv')) && existsSync(join(STSB, 'sts-train.csv'));
if (!haveStsb) console.warn(`skipping the real STS-B reader test: ${STSB} is absent (../shared/data beside the repo)`);

describe('STS readers', () => {
  it('stsb: seven tab-separated fields, quoting off, extra trailing fields ignored and reported', () => {
    const text = [
      'main-captions\tMSRvid\t2012test\t0001\t5.000\tA plane is taking off.\tAn air plane is taking off.',
      'main-news\theadlines\t2015\t0002\t0.800\t"Quoted" text, with comma\tOther\tEXTRA\tMORE',
      '',
      'main-forums\tanswers\t2016\t0003\t2.4\tOne\tTwo\r',
    ].join('\n');
    const d = parseSts(text, 'stsb');
    expect(d.sentences1).toEqual(['A plane is taking off.', '"Quoted" text, with comma', 'One']);
    expect(d.sentences2).toEqual(['An air plane is taking off.', 'Other', 'Two']);
    expect(Array.from(d.scores)).toEqual([5, 0.8, 2.4]);
    expect(d.extraFieldLines).toEqual([2]);
  });

  it('sick: columns by header name; tsv: s1, s2, score', () => {
    const sick =
      'pair_ID\tsentence_A\tsentence_B\trelatedness_score\tentailment_judgment\n1\tA dog runs\tA dog is running\t4.5\tENTAILMENT\n2\tA cat\tA car\t1.2\tNEUTRAL\n';
    expect(parseSts(sick, 'sick')).toMatchObject({
      sentences1: ['A dog runs', 'A cat'],
      sentences2: ['A dog is running', 'A car'],
    });
    expect(Array.from(parseSts('a\tb\t1\nc\td\t2.5\n', 'tsv').scores)).toEqual([1, 2.5]);
    expect(guessStsFormat('data/SICK_test_annotated.txt')).toBe('sick');
    expect(guessStsFormat('sts-test.csv')).toBe('stsb');
    expect(guessStsFormat('pairs.tsv')).toBe('tsv');
  });

  it('malformed lines are typed errors that name the line', () => {
    expect(() => parseSts('g\tf\ty\ti\t1\tonly six', 'stsb', 'x.csv')).toThrow(/x\.csv:1: expected 7/);
    expect(() => parseSts('a\tb\tnope\nc\td\t1', 'tsv', 'p.tsv')).toThrow(
      expect.objectContaining({ code: 'INVALID_INPUT', message: expect.stringMatching(/p\.tsv:1: score "nope"/) }),
    );
    expect(() => parseSts('pair_ID\tsentence_A\n', 'sick')).toThrow(/no "sentence_B" column/);
  });

  it.skipIf(!haveStsb)(
    'reads every row of the real STS-B train and dev files; extra-field lines keep their first seven fields',
    async () => {
      for (const name of ['sts-train.csv', 'sts-dev.csv']) {
        const path = join(STSB, name);
        const lines = readFileSync(path, 'utf8')
          .split('\n')
          .filter((l) => l.trim() !== '');
        const d = await readStsFile(path);
        expect(d.format).toBe('stsb');
        expect(d.scores.length).toBe(lines.length);
        const extra = lines
          .map((l, i) => [l.split('\t').length, i + 1] as const)
          .filter(([n]) => n > 7)
          .map(([, i]) => i);
        expect(d.extraFieldLines).toEqual(extra);
        for (const lineNo of extra) {
          const f = lines[lineNo - 1].replace(/\r$/, '').split('\t');
          expect(d.sentences1[lineNo - 1]).toBe(f[5]);
          expect(d.sentences2[lineNo - 1]).toBe(f[6]);
          expect(d.scores[lineNo - 1]).toBe(Number(f[4]));
        }
        for (const s of d.scores) expect(s >= 0 && s <= 5).toBe(true);
        console.info(
          `${name}: ${d.scores.length} pairs read, ${extra.length} line(s) with extra fields (${extra.slice(0, 5).join(', ')}${extra.length > 5 ? ', …' : ''})`,
        );
      }
    },
  );
});
