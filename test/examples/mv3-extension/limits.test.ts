// Clamps on every argument a message carries, and the quota's arithmetic.
import { describe, expect, it } from 'vitest';
import {
  DEFAULT_QUOTA,
  MAX_K,
  clampInt,
  clampK,
  searchMode,
  clampText,
  hostArg,
  pageQuotaExceeded,
  passageQuotaExceeded,
  sanitizeQuota,
} from '../../../examples/mv3-extension/limits.js';

describe('clamps', () => {
  it('k is an integer in [1, MAX_K]; anything else is the default 10', () => {
    expect(MAX_K).toBe(50);
    expect(clampK(1e9)).toBe(MAX_K);
    expect(clampK(Number.MAX_SAFE_INTEGER)).toBe(MAX_K);
    expect(clampK(Infinity)).toBe(10);
    expect(clampK(NaN)).toBe(10);
    expect(clampK(-5)).toBe(1);
    expect(clampK(0)).toBe(1);
    expect(clampK(3.9)).toBe(3);
    for (const notNumber of ['50', undefined, null, {}, [3], 10n]) expect(clampK(notNumber)).toBe(10);
  });

  it('clampInt and clampText', () => {
    expect(clampInt(7, 1, 5, 2)).toBe(5);
    expect(clampInt(-9, -1, 5, 2)).toBe(-1);
    expect(clampText('abcdef', 3)).toBe('abc');
    expect(clampText(42, 3)).toBe('');
    expect(clampText({ toString: () => 'x' }, 3)).toBe('');
  });

  it('a host is a non-empty string of at most 253 characters', () => {
    expect(hostArg('example.com')).toBe('example.com');
    expect(hostArg('a'.repeat(253))).toBe('a'.repeat(253));
    expect(hostArg('a'.repeat(254))).toBeUndefined();
    expect(hostArg('')).toBeUndefined();
    expect(hostArg(undefined)).toBeUndefined();
    expect(hostArg(['example.com'])).toBeUndefined();
  });
});

describe('quota', () => {
  const q = { maxPagesPerHost: 3, maxPages: 10, maxPassages: 100 };

  it('stored settings are sanitised field by field', () => {
    expect(sanitizeQuota({})).toEqual(DEFAULT_QUOTA);
    expect(sanitizeQuota({ maxPagesPerHost: 2, maxPages: 'x', maxPassages: -4 })).toEqual({
      ...DEFAULT_QUOTA,
      maxPagesPerHost: 2,
      maxPassages: 1,
    });
    expect(sanitizeQuota({ maxPages: 1e30 }).maxPages).toBe(10_000_000);
  });

  it('a new page fits until its host or the whole index is full', () => {
    expect(pageQuotaExceeded('a.example', 2, 5, q)).toBeUndefined();
    expect(pageQuotaExceeded('a.example', 3, 5, q)).toMatch(
      /^Limit reached: a\.example has 3 pages \(at most 3 per site\)/,
    );
    expect(pageQuotaExceeded('a.example', 0, 10, q)).toMatch(/^Limit reached: 10 pages indexed \(at most 10\)/);
  });

  it('passages: only growth past the limit is refused; a re-visit that shrinks or keeps a page always fits', () => {
    expect(passageQuotaExceeded(90, 0, 10, q)).toBeUndefined();
    expect(passageQuotaExceeded(90, 0, 11, q)).toMatch(/^Limit reached: the index holds 90 passages \(at most 100\)/);
    expect(passageQuotaExceeded(100, 5, 5, q)).toBeUndefined();
    expect(passageQuotaExceeded(120, 20, 10, q)).toBeUndefined();
    expect(passageQuotaExceeded(100, 5, 6, q)).toBeDefined();
  });

  it('a search mode is one of the three, else hybrid', () => {
    expect(searchMode('keyword')).toBe('keyword');
    expect(searchMode('vector')).toBe('vector');
    expect(searchMode(undefined)).toBe('hybrid');
    expect(searchMode({ toString: () => 'keyword' })).toBe('hybrid');
  });
});
