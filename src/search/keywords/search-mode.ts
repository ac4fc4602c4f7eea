// The search-mode options of CosineIndex.search/searchMany, checked in one place.
import { InvalidInputError } from '../../errors.js';
import type { SearchMode, SearchOptions } from '../types.js';

export interface ModePlan {
  mode: SearchMode;
  weights: { vector: number; keyword: number };
}

const MODES: readonly SearchMode[] = ['vector', 'keyword', 'hybrid'];

/** Checks `mode` and `weights`; a keyword or hybrid search needs an index that keeps keywords. */
export function checkSearchMode(options: SearchOptions<never>, hasKeywords: boolean): ModePlan {
  const { mode = 'vector', weights = {} } = options;
  if (!MODES.includes(mode))
    throw new InvalidInputError(`mode must be 'vector', 'keyword' or 'hybrid' (got ${JSON.stringify(mode)}).`);
  if (mode !== 'vector' && !hasKeywords)
    throw new InvalidInputError(
      `a '${mode}' search needs an index that keeps keywords: create it with { keywords: true } and add entries with their texts.`,
    );
  if (weights === null || typeof weights !== 'object')
    throw new InvalidInputError('weights must be an object { vector?, keyword? } of numbers ≥ 0.');
  const out = { vector: weights.vector ?? 1, keyword: weights.keyword ?? 1 };
  for (const [name, w] of Object.entries(out))
    if (typeof w !== 'number' || !Number.isFinite(w) || w < 0)
      throw new InvalidInputError(`weights.${name} must be a finite number ≥ 0 (got ${String(w)}).`);
  return { mode, weights: out };
}

/** The query text of a keyword or hybrid search: the string query itself, else `options.text`. */
export function queryText(query: unknown, text: unknown, what: string): string {
  const t = typeof query === 'string' ? (text ?? query) : text;
  if (typeof t !== 'string')
    throw new InvalidInputError(
      `${what} needs the query's text: pass a string query, or { text } with a vector query.`,
    );
  return t;
}
