// Splits long documents into passages that fit the model's token budget: paragraph and sentence aware, with overlap.
import { InvalidInputError } from '../errors.js';
import { sentenceRanges } from './sentences.js';

export interface Passage {
  /** The passage's text, exactly as it appears in the document (a slice of it). */
  text: string;
  /** Offsets of `text` in the document: `doc.slice(start, end) === text`. */
  start: number;
  end: number;
  /** Index of the paragraph (blank-line separated) the passage starts in. */
  paragraph: number;
}

export interface SplitOptions {
  /** Token budget of one passage (default 120: the model reads 128 tokens, [CLS] and [SEP] included, with a margin for the estimate). */
  maxTokens?: number;
  /** Tokens of context repeated from the end of the previous passage, in whole sentences, within a paragraph (default 24, at most a fifth of maxTokens). */
  overlapTokens?: number;
  /** Token counter; default: `estimateTokens` (a WordPiece-like estimate). Pass an exact one to pack tighter. */
  countTokens?: (text: string) => number;
}

// Sticky, tested with lastIndex: classifying a code point allocates nothing (estimateTokens runs over whole documents).
const LETTER = /[\p{L}\p{M}\p{N}]/uy;
const SPACE = /\s/y;
const CJK = /[\p{Script=Han}\p{Script=Hiragana}\p{Script=Katakana}\p{Script=Hangul}]/uy;
const at = (re: RegExp, text: string, i: number): boolean => ((re.lastIndex = i), re.test(text));

/**
 * Estimates BERT WordPiece tokens: one per punctuation mark and per CJK character, and one per word plus one per
 * 8 further letters (long or rare words split into several pieces). It errs high for plain English.
 * A word is a run of letters, marks and digits; anything else that is not whitespace is one mark.
 */
export function estimateTokens(text: string): number {
  let n = 0;
  let i = 0;
  const len = text.length;
  while (i < len) {
    const c = text.charCodeAt(i);
    const ascii = c < 0x80;
    if (ascii ? c === 32 || (c >= 9 && c <= 13) : at(SPACE, text, i)) {
      i++; // every whitespace character is one UTF-16 unit
      continue;
    }
    const start = i;
    let points = 0;
    let cjk = false;
    for (;;) {
      const d = text.charCodeAt(i);
      const letter = d < 0x80 ? (d >= 48 && d <= 57) || ((d | 32) >= 97 && (d | 32) <= 122) : at(LETTER, text, i);
      if (!letter) break;
      if (d >= 0x80 && !cjk) cjk = at(CJK, text, i);
      i += d >= 0xd800 && d <= 0xdbff && i + 1 < len && (text.charCodeAt(i + 1) & 0xfc00) === 0xdc00 ? 2 : 1;
      points++;
      if (i >= len) break;
    }
    if (points === 0) {
      // A mark: one code point.
      i += c >= 0xd800 && c <= 0xdbff && i + 1 < len && (text.charCodeAt(i + 1) & 0xfc00) === 0xdc00 ? 2 : 1;
      n++;
      continue;
    }
    const units = i - start;
    n += units === 1 || !cjk ? 1 + Math.floor((units - 1) / 8) : points;
  }
  return n;
}

interface Span {
  start: number;
  end: number;
  tokens: number;
}

/**
 * Splits `doc` into passages of at most `maxTokens` (estimated) tokens. Paragraphs (blank lines) are never merged
 * into one passage with text from another unless both fit whole; sentences are kept whole where they fit; a
 * sentence longer than the budget is cut at word boundaries (and a word longer than the budget, hard).
 * Empty or whitespace-only documents give no passages.
 */
export function splitPassages(doc: string, options: SplitOptions = {}): Passage[] {
  if (typeof doc !== 'string') throw new InvalidInputError('splitPassages expects a string.');
  const maxTokens = options.maxTokens ?? 120;
  const overlap = options.overlapTokens ?? Math.min(24, Math.floor(maxTokens / 5));
  const count = options.countTokens ?? estimateTokens;
  if (!(Number.isInteger(maxTokens) && maxTokens >= 8))
    throw new InvalidInputError(`maxTokens must be an integer ≥ 8, got ${String(maxTokens)}.`);
  if (!(Number.isInteger(overlap) && overlap >= 0 && overlap < maxTokens / 2)) {
    throw new InvalidInputError(`overlapTokens must be an integer in [0, maxTokens / 2), got ${String(overlap)}.`);
  }

  const out: Passage[] = [];
  const paragraphs = paragraphSpans(doc);
  // Small paragraphs share a passage while they fit; a paragraph that does not fit starts its own passages.
  let pending: { start: number; end: number; tokens: number; paragraph: number } | undefined;
  const flush = () => {
    if (pending)
      out.push({
        text: doc.slice(pending.start, pending.end),
        start: pending.start,
        end: pending.end,
        paragraph: pending.paragraph,
      });
    pending = undefined;
  };
  paragraphs.forEach((p, pi) => {
    const tokens = count(doc.slice(p.start, p.end));
    if (tokens <= maxTokens) {
      if (pending && pending.tokens + tokens <= maxTokens) {
        pending.end = p.end;
        pending.tokens += tokens;
      } else {
        flush();
        pending = { start: p.start, end: p.end, tokens, paragraph: pi };
      }
      return;
    }
    flush();
    for (const s of packSentences(sentenceSpans(doc, p, count, maxTokens), maxTokens, overlap)) {
      out.push({ text: doc.slice(s.start, s.end), start: s.start, end: s.end, paragraph: pi });
    }
  });
  flush();
  return out;
}

/** Paragraphs: runs of text between blank lines, trimmed. */
function paragraphSpans(doc: string): { start: number; end: number }[] {
  const spans: { start: number; end: number }[] = [];
  const re = /\S(?:[\s\S]*?\S)?(?=\s*\n\s*\n|\s*$)/g;
  for (const m of doc.matchAll(re)) spans.push({ start: m.index, end: m.index + m[0].length });
  return spans;
}

/** Sentences of one paragraph (trimmed), each within the budget: longer ones are cut at words, then hard. */
function sentenceSpans(
  doc: string,
  p: { start: number; end: number },
  count: (t: string) => number,
  maxTokens: number,
): Span[] {
  const text = doc.slice(p.start, p.end);
  const spans: Span[] = [];
  for (const r of sentenceRanges(text)) {
    const t = text.slice(r.start, r.end);
    const lead = t.length - t.trimStart().length;
    const trail = t.length - t.trimEnd().length;
    const start = p.start + r.start + lead;
    const end = p.start + r.end - trail;
    if (end <= start) continue;
    const tokens = count(doc.slice(start, end));
    if (tokens <= maxTokens) spans.push({ start, end, tokens });
    else spans.push(...cutLong(doc, start, end, count, maxTokens));
  }
  return spans;
}

/** Cuts an over-long sentence at whitespace into pieces within the budget; a single over-long word is cut by characters. */
function cutLong(doc: string, start: number, end: number, count: (t: string) => number, maxTokens: number): Span[] {
  const pieces: Span[] = [];
  // estimateTokens never counts across whitespace, so a run of words costs the sum of their costs: no re-count.
  const additive = count === estimateTokens;
  let cur: Span | undefined;
  const word = /\S+/g;
  word.lastIndex = start;
  for (let m = word.exec(doc); m !== null && m.index < end; m = word.exec(doc)) {
    const w = { start: m.index, end: Math.min(end, m.index + m[0].length) };
    const wt = count(doc.slice(w.start, w.end));
    if (wt > maxTokens) {
      if (cur) pieces.push(cur);
      cur = undefined;
      // Halve the character window until it fits: a word of n characters costs at most n tokens.
      let s = w.start;
      while (s < w.end) {
        let e = Math.min(w.end, s + maxTokens);
        while (e > s + 1 && count(doc.slice(s, e)) > maxTokens) e = s + Math.ceil((e - s) / 2);
        if (e < w.end && /[\uD800-\uDBFF]/.test(doc[e - 1])) e += e - 1 > s ? -1 : 1; // never split a surrogate pair
        pieces.push({ start: s, end: e, tokens: count(doc.slice(s, e)) });
        s = e;
      }
      continue;
    }
    const joined = cur ? (additive ? cur.tokens + wt : count(doc.slice(cur.start, w.end))) : Infinity;
    if (cur && joined <= maxTokens) {
      cur.end = w.end;
      cur.tokens = joined;
    } else {
      if (cur) pieces.push(cur);
      cur = { start: w.start, end: w.end, tokens: wt };
    }
  }
  if (cur) pieces.push(cur);
  return pieces;
}

/** Greedy packing of sentences into passages; each new passage starts with whole trailing sentences of the last, up to `overlap` tokens. */
function packSentences(sentences: Span[], maxTokens: number, overlap: number): Span[] {
  const out: Span[] = [];
  let first = 0;
  while (first < sentences.length) {
    let last = first;
    let tokens = sentences[first].tokens;
    while (last + 1 < sentences.length && tokens + sentences[last + 1].tokens <= maxTokens)
      tokens += sentences[++last].tokens;
    out.push({ start: sentences[first].start, end: sentences[last].end, tokens });
    if (last + 1 >= sentences.length) break;
    // Back up over whole sentences for overlap, but always make progress.
    let next = last + 1;
    let carried = 0;
    while (
      next - 1 > first &&
      carried + sentences[next - 1].tokens <= overlap &&
      carried + sentences[next - 1].tokens + sentences[last + 1].tokens <= maxTokens
    ) {
      carried += sentences[--next].tokens;
    }
    first = next;
  }
  return out;
}
