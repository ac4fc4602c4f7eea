// The one scheme check for every URL the extension captures, indexes or opens: http and https only, bounded length.

/** Longer URLs are refused: a page key is also the prefix of its passage ids. */
export const MAX_URL = 2048;

/** The URL if `s` is an http(s) URL of at most MAX_URL characters; undefined otherwise (javascript:, data:, file:, …). */
export function webUrl(s: unknown): URL | undefined {
  if (typeof s !== 'string' || s.length > MAX_URL) return undefined;
  let u: URL;
  try {
    u = new URL(s);
  } catch {
    return undefined;
  }
  return (u.protocol === 'http:' || u.protocol === 'https:') && u.href.length <= MAX_URL ? u : undefined;
}

/** A page's identity: its http(s) URL without the #fragment, or undefined when it is not one. */
export function pageKey(s: unknown): string | undefined {
  const u = webUrl(s);
  if (!u) return undefined;
  u.hash = '';
  return u.href;
}

/**
 * What Enter in the omnibox opens: a chosen suggestion (an http(s) URL) as is, else the best match for the typed text;
 * either way only an http(s) URL, so an index entry cannot make the address bar run javascript: or open data:.
 */
export async function omniboxTarget(
  text: string,
  bestMatch: (query: string) => Promise<string | undefined>,
): Promise<string | undefined> {
  const chosen = /^https?:\/\//i.test(text) ? webUrl(text) : undefined;
  if (chosen) return chosen.href;
  return webUrl(await bestMatch(text))?.href;
}
