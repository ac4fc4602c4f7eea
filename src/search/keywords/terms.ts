// The one tokeniser of the keyword index: terms are maximal runs of [\p{L}\p{N}\p{M}] in text.normalize('NFKC')
// .toLowerCase(), with no stemming. Offsets map back to the original text, since NFKC and lower-casing change lengths.

const TERM = /[\p{L}\p{N}\p{M}]+/gu;
// A starter and the marks after it: NFKC never composes across such a chunk boundary except for Hangul jamo.
const CHUNK = /\P{M}\p{M}*|\p{M}+/gu;

/** A term and where it came from in the original text: `text.slice(start, end)`. */
export interface TermSpan {
  term: string;
  start: number;
  end: number;
}

/** The terms of `text` in order, repeats included, less any in `stop`. */
export function terms(text: string, stop?: ReadonlySet<string>): string[] {
  const found = text.normalize('NFKC').toLowerCase().match(TERM);
  if (found === null) return [];
  return stop === undefined || stop.size === 0 ? found : found.filter((t) => !stop.has(t));
}

/** The terms of `text` with their UTF-16 offsets in `text` itself (not in its normal form), less any in `stop`. */
export function termSpans(text: string, stop?: ReadonlySet<string>): TermSpan[] {
  const nf = text.normalize('NFKC');
  const lower = nf.toLowerCase();
  // nfStart/nfEnd[i]: the original range that produced code unit i of nf (null: nf === text).
  const map = nf === text ? null : mapNormalized(text, nf);
  // lowerToNf[i]: the nf code unit that produced code unit i of lower (null: same lengths, so one for one).
  const lowerToNf = lower.length === nf.length ? null : mapLowerCase(nf, lower.length);
  const out: TermSpan[] = [];
  for (const m of lower.matchAll(TERM)) {
    const term = m[0];
    if (stop !== undefined && stop.has(term)) continue;
    const a = m.index;
    const b = a + term.length - 1;
    const na = lowerToNf === null ? a : lowerToNf[a];
    const nb = lowerToNf === null ? b : lowerToNf[b];
    out.push(
      map === null
        ? { term, start: na, end: nb + 1 + (isHigh(nf.charCodeAt(nb)) ? 1 : 0) }
        : { term, start: map.start[na], end: map.end[nb] },
    );
  }
  return out;
}

const isHigh = (c: number): boolean => c >= 0xd800 && c <= 0xdbff;

/** For each code unit of `nf` (text's NFKC form), the range of `text` it came from; chunks grow until they agree. */
function mapNormalized(text: string, nf: string): { start: Int32Array; end: Int32Array } {
  const start = new Int32Array(nf.length);
  const end = new Int32Array(nf.length);
  const bounds: number[] = [];
  for (const m of text.matchAll(CHUNK)) bounds.push(m.index);
  bounds.push(text.length);
  let j = 0; // position in nf
  let c = 0; // chunk index where the pending original range starts
  while (c < bounds.length - 1 && j < nf.length) {
    let e = c + 1;
    let piece = text.slice(bounds[c], bounds[e]).normalize('NFKC');
    // Extend while the pieces normalise differently apart than together (Hangul jamo, or a mismatch we cannot place).
    while (e < bounds.length - 1 && !agrees(nf, j, piece, text, bounds[e])) {
      e++;
      piece = text.slice(bounds[c], bounds[e]).normalize('NFKC');
    }
    const len = Math.min(piece.length, nf.length - j);
    for (let i = 0; i < len; i++) {
      start[j + i] = bounds[c];
      end[j + i] = bounds[e];
    }
    j += len;
    c = e;
  }
  for (; j < nf.length; j++) {
    start[j] = bounds[Math.min(c, bounds.length - 1)];
    end[j] = text.length;
  }
  return { start, end };
}

/** True when `piece` sits at nf[j] and the next original chunk does not merge into it. */
function agrees(nf: string, j: number, piece: string, text: string, next: number): boolean {
  if (!nf.startsWith(piece, j)) return false;
  // Hangul conjoining jamo compose with what precedes them; keep them with it.
  const cp = text.codePointAt(next) ?? 0;
  return !((cp >= 0x1160 && cp <= 0x11ff) || (cp >= 0xd7b0 && cp <= 0xd7ff));
}

/** For each code unit of nf.toLowerCase(), the nf code unit it came from (lower-casing is per code point in JS). */
function mapLowerCase(nf: string, lowerLength: number): Int32Array {
  const out = new Int32Array(lowerLength);
  let o = 0;
  for (let i = 0; i < nf.length;) {
    const cp = nf.codePointAt(i) ?? 0;
    const w = cp > 0xffff ? 2 : 1;
    const n = String.fromCodePoint(cp).toLowerCase().length;
    for (let k = 0; k < n && o < lowerLength; k++) out[o++] = i;
    i += w;
  }
  return out;
}
