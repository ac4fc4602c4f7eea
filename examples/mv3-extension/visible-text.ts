// The text a reader sees on a page: rendered, visible text only. innerText keeps text hidden by opacity 0, a 1 px clip,
// off-screen positioning, zero font size, aria-hidden or a colour equal to its background, which a page can stuff with
// keywords to take the omnibox's "Enter opens the best match". Pure DOM, no chrome.*: test/browser/extension-capture.test.ts.

/** Text smaller than this (CSS px) is not read: a keyword-stuffing trick, never body text. */
const MIN_FONT_PX = 4;
/** An element this small (CSS px) in either dimension that clips its content shows none of it (the "sr-only" pattern). */
const MIN_CLIP_BOX_PX = 2;

const INLINE = /^(inline|contents|ruby)/;

/**
 * Whether an element and its ancestors let their content show (display, opacity, clipping, aria-hidden: what a child
 * cannot undo); memoised per element in `memo`. Inherited properties a child can override are checked in `drawn`.
 */
function shown(el: Element, memo: Map<Element, boolean>, win: Window): boolean {
  const known = memo.get(el);
  if (known !== undefined) return known;
  let ok = true;
  if (el.getAttribute('aria-hidden') === 'true' || el.hasAttribute('hidden') || el.tagName === 'NOSCRIPT') ok = false;
  else if (el.parentElement && !shown(el.parentElement, memo, win)) ok = false;
  else {
    const cs = win.getComputedStyle(el);
    const clips = cs.overflow !== 'visible' || cs.clip !== 'auto' || cs.clipPath !== 'none';
    const r = el.getBoundingClientRect();
    if (
      cs.display === 'none' ||
      Number(cs.opacity) === 0 ||
      /^rect\(0(px)?,? 0(px)?,? 0(px)?,? 0(px)?\)$/.test(cs.clip) ||
      /^inset\(50%/.test(cs.clipPath) ||
      (clips && (r.width < MIN_CLIP_BOX_PX || r.height < MIN_CLIP_BOX_PX))
    )
      ok = false;
    // Chromium's own answer where it has one (content-visibility, opacity up the tree).
    else if (typeof el.checkVisibility === 'function')
      ok = el.checkVisibility({ opacityProperty: true, contentVisibilityAuto: true });
  }
  memo.set(el, ok);
  return ok;
}

/** The first non-transparent background colour from `el` up, or white (the canvas). */
function backgroundOf(el: Element | null, win: Window): string {
  for (let e = el; e; e = e.parentElement) {
    const bg = win.getComputedStyle(e).backgroundColor;
    if (bg !== 'transparent' && !/^rgba\(.*,\s*0\)$/.test(bg)) return bg;
  }
  return 'rgb(255, 255, 255)';
}

/**
 * Whether a text node draws ink where a reader can see it: visible, a readable size, a box that starts inside the page
 * (not pushed off its left or top edge, or right of the viewport: the page does not scroll sideways to it), in a colour
 * that differs from its background.
 */
function drawn(node: Text, range: Range, doc: Document, win: Window): boolean {
  const el = node.parentElement!;
  const cs = win.getComputedStyle(el);
  if (cs.visibility !== 'visible' || parseFloat(cs.fontSize) < MIN_FONT_PX) return false;
  range.selectNodeContents(node);
  const pageW = Math.max(doc.documentElement.clientWidth, win.innerWidth);
  const pageH = Math.max(doc.documentElement.scrollHeight, win.innerHeight);
  let inside = false;
  for (const r of range.getClientRects()) {
    const left = r.left + win.scrollX;
    const top = r.top + win.scrollY;
    if (r.width >= 1 && r.height >= 1 && left + r.width > 0 && top + r.height > 0 && left < pageW && top < pageH) {
      inside = true;
      break;
    }
  }
  if (!inside) return false;
  const color = cs.color;
  return !/^rgba\(.*,\s*0\)$/.test(color) && color !== 'transparent' && color !== backgroundOf(el, win);
}

/** The nearest ancestor that is not laid out inline: text in different blocks is in different paragraphs. */
function blockOf(el: Element, win: Window): Element {
  let e: Element = el;
  while (e.parentElement && INLINE.test(win.getComputedStyle(e).display)) e = e.parentElement;
  return e;
}

/**
 * The visible text under `root`, at most `maxChars` characters: runs of spaces collapsed, paragraphs (text in
 * different blocks) separated by a blank line.
 */
export function visibleText(root: Element, maxChars: number): string {
  const doc = root.ownerDocument;
  const win = doc.defaultView;
  if (!win) return '';
  const memo = new Map<Element, boolean>();
  const range = doc.createRange();
  const walker = doc.createTreeWalker(root, NodeFilter.SHOW_TEXT);
  let out = '';
  let lastBlock: Element | undefined;
  for (let n = walker.nextNode(); n && out.length < maxChars; n = walker.nextNode()) {
    const node = n as Text;
    const el = node.parentElement;
    const raw = node.data.replace(/[\s\u00a0]+/g, ' ');
    if (!el || !raw.trim() || !shown(el, memo, win) || !drawn(node, range, doc, win)) continue;
    const block = blockOf(el, win);
    if (lastBlock && block !== lastBlock) out = `${out.trimEnd()}\n\n`;
    lastBlock = block;
    out += out.endsWith(' ') || out.endsWith('\n') ? raw.trimStart() : raw;
  }
  return out
    .replace(/ *\n */g, '\n')
    .trim()
    .slice(0, maxChars);
}
