// Sentence segmentation in bounded windows: Node 20's Intl.Segmenter takes time proportional to the whole text per
// sentence (quadratic: 200 KB of U+2028-separated lines took 118 s), so it is only ever given a few KB at a time.

/** Characters given to the segmenter at once. */
export const SEGMENT_WINDOW = 4096;
/** Breaks this close to a window's cut end are not trusted (the rules look ahead), nor this close after a cut start. */
export const SEGMENT_MARGIN = 256;

const segmenter =
  typeof Intl !== 'undefined' && 'Segmenter' in Intl
    ? new Intl.Segmenter(undefined, { granularity: 'sentence' })
    : undefined;

/**
 * The sentences of `text` as consecutive [start, end) ranges covering it, as Intl.Segmenter gives them for the whole
 * text, in time linear in its length: each window starts at a break already found (or, inside a sentence longer than a
 * window, `margin` characters of context before the part whose breaks are kept) and keeps only the breaks at least
 * `margin` characters before its cut end.
 */
export function sentenceRanges(
  text: string,
  window = SEGMENT_WINDOW,
  margin = SEGMENT_MARGIN,
): { start: number; end: number }[] {
  const out: { start: number; end: number }[] = [];
  if (!segmenter) {
    for (const m of text.matchAll(/[^.!?。！？]+(?:[.!?。！？]+|$)\s*/gu))
      out.push({ start: m.index, end: m.index + m[0].length });
    return out;
  }
  if (!(window > 2 * margin && margin >= 0)) throw new RangeError('sentenceRanges: need window > 2 × margin ≥ 0');
  let sentence = 0; // start of the sentence not yet closed: always a true break
  let from = 0; // where the window starts
  let keepFrom = 0; // breaks at or before this are context only
  for (;;) {
    const end = Math.min(text.length, from + window);
    const last = end === text.length;
    const keepTo = last ? end : end - margin;
    for (const s of segmenter.segment(text.slice(from, end))) {
      const b = from + s.index;
      if (b <= keepFrom || b <= sentence) continue;
      if (b > keepTo) break;
      out.push({ start: sentence, end: b });
      sentence = b;
    }
    if (last) {
      if (sentence < text.length) out.push({ start: sentence, end: text.length });
      return out;
    }
    if (sentence > from) from = keepFrom = sentence;
    else ((keepFrom = keepTo), (from = keepTo - margin));
  }
}
