// The regex form of estimateTokens (src/text/passages.ts), kept to check the allocation-free scanner against.
const WORD = /[\p{L}\p{M}\p{N}]+|[^\s\p{L}\p{M}\p{N}]/gu;
const CJK = /[\p{Script=Han}\p{Script=Hiragana}\p{Script=Katakana}\p{Script=Hangul}]/u;

export function estimateTokensReference(text: string): number {
  let n = 0;
  for (const m of text.matchAll(WORD)) {
    const w = m[0];
    if (w.length === 1 || !CJK.test(w)) n += 1 + Math.floor((w.length - 1) / 8);
    else n += [...w].length;
  }
  return n;
}
