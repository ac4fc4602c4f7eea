// The text a reader sees on a page: rendered, visible text only. innerText keeps text hidden by opacity 0, a 1 px clip,
// off-screen positioning, zero font size, aria-hidden or a colour equal to its background, which a page can stuff with
// keywords to take the omnibox's "Enter opens the best match". Pure DOM, no chrome.*: test/browser/extension-capture.test.ts.

/** Text smaller than this (CSS px) is not read: a keyword-stuffing trick, never body text. */
const MIN_FONT_PX = 4;
/** An element this small (CSS px) in either dimension that clips its content shows none of it (the "sr-only" pattern). */
const MIN_CLIP_BOX_PX = 2;
const CANVAS = 'rgb(255, 255, 255)';

const INLINE = /^(inline|contents|ruby)/;
const TRANSPARENT = /^(transparent|rgba\(.*,\s*0\))$/;
const ZERO_RECT = /^rect\(0(px)?,? 0(px)?,? 0(px)?,? 0(px)?\)$/;

/** What an element means for the text directly inside it; one getComputedStyle per element. */
interface Info {
  /** The element and its ancestors let content show (display, opacity, clipping, aria-hidden: what no child undoes). */
  shown: boolean;
  /** Its own text draws ink: visible (inherited, a child may override it), a readable size, a colour that shows. */
  ink: boolean;
  /** The nearest ancestor-or-self not laid out inline: text in different blocks is in different paragraphs. */
  block: Element;
  /** The background its text is drawn on (the first non-transparent one up the tree). */
  background: string;
}

/** What one capture reads once: the window, the page's box, a reusable Range, the per-element memo. */
interface Page {
  win: Window;
  range: Range;
  scrollX: number;
  scrollY: number;
  width: number;
  height: number;
  memo: Map<Element, Info>;
}

function info(el: Element, page: Page): Info {
  const known = page.memo.get(el);
  if (known) return known;
  const parent = el.parentElement ? info(el.parentElement, page) : undefined;
  const cs = page.win.getComputedStyle(el);
  const own = TRANSPARENT.test(cs.backgroundColor) ? undefined : cs.backgroundColor;
  const background = own ?? parent?.background ?? CANVAS;
  let shown =
    (parent?.shown ?? true) &&
    el.getAttribute('aria-hidden') !== 'true' &&
    !el.hasAttribute('hidden') &&
    el.tagName !== 'NOSCRIPT' &&
    cs.display !== 'none' &&
    Number(cs.opacity) !== 0 &&
    !ZERO_RECT.test(cs.clip) &&
    !/^inset\(50%/.test(cs.clipPath);
  if (shown && (cs.overflow !== 'visible' || cs.clip !== 'auto' || cs.clipPath !== 'none')) {
    // A box that clips its content and is (nearly) zero in one dimension shows none of it.
    const r = el.getBoundingClientRect();
    shown = r.width >= MIN_CLIP_BOX_PX && r.height >= MIN_CLIP_BOX_PX;
  }
  // Chromium's own answer where it has one (content-visibility, opacity up the tree), asked of block boxes only: an
  // inline child cannot be hidden by what its block is not.
  const inline = INLINE.test(cs.display);
  if (shown && !inline && typeof el.checkVisibility === 'function')
    shown = el.checkVisibility({ opacityProperty: true, contentVisibilityAuto: true });
  const ink =
    cs.visibility === 'visible' &&
    parseFloat(cs.fontSize) >= MIN_FONT_PX &&
    !TRANSPARENT.test(cs.color) &&
    cs.color !== background;
  const result: Info = { shown, ink, block: inline && parent ? parent.block : el, background };
  page.memo.set(el, result);
  return result;
}

/** Whether some box of a text node is non-empty and starts inside the page (not pushed off its left or top edge, or
 * right of the viewport: the page does not scroll sideways to it). */
function onPage(node: Text, page: Page): boolean {
  page.range.selectNodeContents(node);
  for (const r of page.range.getClientRects()) {
    const left = r.left + page.scrollX;
    const top = r.top + page.scrollY;
    if (
      r.width >= 1 &&
      r.height >= 1 &&
      left + r.width > 0 &&
      top + r.height > 0 &&
      left < page.width &&
      top < page.height
    )
      return true;
  }
  return false;
}

/**
 * The visible text under `root`, at most `maxChars` characters: runs of spaces collapsed, paragraphs (text in
 * different blocks) separated by a blank line.
 */
export function visibleText(root: Element, maxChars: number): string {
  const doc = root.ownerDocument;
  const win = doc.defaultView;
  if (!win) return '';
  const page: Page = {
    win,
    range: doc.createRange(),
    scrollX: win.scrollX,
    scrollY: win.scrollY,
    width: Math.max(doc.documentElement.clientWidth, win.innerWidth),
    height: Math.max(doc.documentElement.scrollHeight, win.innerHeight),
    memo: new Map(),
  };
  const walker = doc.createTreeWalker(root, NodeFilter.SHOW_TEXT);
  // Pieces, joined once at the end: appending to one growing string re-copied it per paragraph.
  const parts: string[] = [];
  let length = 0;
  let lastBlock: Element | undefined;
  let space = true;
  for (let n = walker.nextNode(); n && length < maxChars; n = walker.nextNode()) {
    const node = n as Text;
    const el = node.parentElement;
    let text = node.data.replace(/[\s\u00a0]+/g, ' ');
    if (!el || text === ' ' || !text) continue;
    const at = info(el, page);
    if (!at.shown || !at.ink || !onPage(node, page)) continue;
    if (lastBlock && at.block !== lastBlock) {
      if (space && parts.length) parts[parts.length - 1] = parts[parts.length - 1].trimEnd();
      parts.push('\n\n');
      space = true;
    }
    lastBlock = at.block;
    if (space) text = text.trimStart();
    if (!text) continue;
    parts.push(text);
    length += text.length;
    space = text.endsWith(' ');
  }
  return parts.join('').trim().slice(0, maxChars);
}
