// Readers for STS files: STS-B as distributed, SICK (header with sentence_A / sentence_B / relatedness_score), and plain s1<TAB>s2<TAB>score.
import { InvalidInputError } from '../search/errors.js';
import { decodeUtf8 } from './utf8.js';

export type StsFormat = 'stsb' | 'sick' | 'tsv';
export const STS_FORMATS: readonly StsFormat[] = ['stsb', 'sick', 'tsv'];

/** Sentence pairs with gold scores, as parallel arrays. */
export interface StsData {
  sentences1: string[];
  sentences2: string[];
  scores: Float64Array;
  /**
   * STS-B only: 1-based line numbers that carry more than the seven fields. Their first seven fields are used and the
   * extra trailing fields (source annotations in the distributed files) are ignored.
   */
  extraFieldLines: number[];
}

/** Picks a format from a file name: SICK*.txt → sick, *.csv → stsb, anything else → tsv. */
export function guessStsFormat(name: string): StsFormat {
  const base = name.split(/[\\/]/).pop() ?? name;
  if (/^sick/i.test(base)) return 'sick';
  if (/\.csv$/i.test(base)) return 'stsb';
  return 'tsv';
}

/**
 * Parses an STS file (its text, or its bytes: strict UTF-8). Tabs separate fields and quoting is off (quotes are part
 * of the text); blank lines are skipped; any other malformed line, or one that is not UTF-8, is an INVALID_INPUT naming
 * the line, and nothing is returned.
 */
export function parseSts(text: string | Uint8Array, format: StsFormat, where = 'STS file'): StsData {
  if (!STS_FORMATS.includes(format))
    throw new InvalidInputError(`unknown STS format "${format}"; use ${STS_FORMATS.join(', ')}.`);
  const lines = (typeof text === 'string' ? text : decodeUtf8(text, where)).split('\n');
  const out: { s1: string[]; s2: string[]; scores: number[]; extra: number[] } = {
    s1: [],
    s2: [],
    scores: [],
    extra: [],
  };
  let cols = { s1: 5, s2: 6, score: 4, min: 7 };
  let start = 0;
  if (format === 'tsv') cols = { s1: 0, s2: 1, score: 2, min: 3 };
  if (format === 'sick') {
    while (start < lines.length && lines[start].trim() === '') start++;
    const header = (lines[start] ?? '').replace(/\r$/, '').split('\t');
    const col = (name: string) => {
      const i = header.indexOf(name);
      if (i < 0)
        throw new InvalidInputError(
          `${where}: the SICK header (line ${start + 1}) has no "${name}" column; expected pair_ID, sentence_A, sentence_B, relatedness_score, …`,
        );
      return i;
    };
    cols = { s1: col('sentence_A'), s2: col('sentence_B'), score: col('relatedness_score'), min: 0 };
    cols.min = Math.max(cols.s1, cols.s2, cols.score) + 1;
    start++;
  }
  for (let i = start; i < lines.length; i++) {
    const line = lines[i].replace(/\r$/, '');
    if (line.trim() === '') continue;
    const f = line.split('\t');
    if (f.length < cols.min)
      throw new InvalidInputError(
        `${where}:${i + 1}: expected ${cols.min} tab-separated fields${format === 'stsb' ? ' (genre, file, year, id, score, sentence1, sentence2)' : ''}, got ${f.length}.`,
      );
    if (format === 'stsb' && f.length > 7) out.extra.push(i + 1);
    if (format === 'tsv' && f.length > 3)
      throw new InvalidInputError(`${where}:${i + 1}: a tsv line is s1<TAB>s2<TAB>score, got ${f.length} fields.`);
    const score = Number(f[cols.score]);
    if (f[cols.score].trim() === '' || !Number.isFinite(score))
      throw new InvalidInputError(`${where}:${i + 1}: score "${f[cols.score]}" is not a number.`);
    out.s1.push(f[cols.s1]);
    out.s2.push(f[cols.s2]);
    out.scores.push(score);
  }
  if (out.scores.length < 2)
    throw new InvalidInputError(`${where}: found ${out.scores.length} pair(s); a correlation needs at least 2.`);
  return { sentences1: out.s1, sentences2: out.s2, scores: Float64Array.from(out.scores), extraFieldLines: out.extra };
}
