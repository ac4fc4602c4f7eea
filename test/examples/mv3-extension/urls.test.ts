// The extension's one scheme check (popup, omnibox, capture, indexing) and what Enter in the omnibox opens.
import { describe, expect, it } from 'vitest';
import { MAX_URL, omniboxTarget, pageKey, webUrl } from '../../../examples/mv3-extension/urls.js';

describe('webUrl / pageKey', () => {
  it('accepts http and https only', () => {
    expect(webUrl('https://example.com/a?b#c')?.href).toBe('https://example.com/a?b#c');
    expect(webUrl('HTTP://Example.com')?.href).toBe('http://example.com/');
    for (const bad of [
      'javascript:alert(1)',
      'JavaScript:alert(1)',
      ' javascript:alert(1)',
      'data:text/html,<script>alert(1)</script>',
      'file:///etc/passwd',
      'chrome://settings',
      'chrome-extension://abc/popup.html',
      'blob:https://example.com/x',
      'ftp://example.com/',
      'example.com',
      '',
    ])
      expect(webUrl(bad), bad).toBeUndefined();
    for (const notString of [undefined, null, 42, {}, ['https://example.com/']])
      expect(webUrl(notString)).toBeUndefined();
  });

  it('refuses URLs longer than MAX_URL', () => {
    const base = 'https://example.com/';
    expect(webUrl(base + 'a'.repeat(MAX_URL - base.length))).toBeDefined();
    expect(webUrl(base + 'a'.repeat(MAX_URL - base.length + 1))).toBeUndefined();
  });

  it('a page key drops the fragment', () => {
    expect(pageKey('https://example.com/a?q=1#section')).toBe('https://example.com/a?q=1');
    expect(pageKey('javascript:alert(1)#x')).toBeUndefined();
  });
});

describe('omniboxTarget', () => {
  const best = (url: string | undefined) => async () => url;

  it('opens a chosen http(s) suggestion as is, and the best match for typed text', async () => {
    expect(await omniboxTarget('https://example.com/x', best('https://other.example/'))).toBe('https://example.com/x');
    expect(await omniboxTarget('sourdough starter', best('https://bread.example/'))).toBe('https://bread.example/');
    expect(await omniboxTarget('nothing', best(undefined))).toBeUndefined();
  });

  it('never opens a javascript:, data: or file: URL, typed or from the index', async () => {
    for (const evil of ['javascript:alert(1)', 'data:text/html,hi', 'file:///etc/passwd']) {
      expect(await omniboxTarget('anything', best(evil)), evil).toBeUndefined();
      // Typed text that is not an http(s) URL is a query: only the (checked) best match may open.
      expect(await omniboxTarget(evil, best(evil)), evil).toBeUndefined();
      expect(await omniboxTarget(evil, best('https://safe.example/'))).toBe('https://safe.example/');
    }
  });
});
