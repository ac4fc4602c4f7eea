// Documents → their searchable text, title and offsets, for `index build`: Markdown and plain text as written, HTML
// as its visible text (with a map back to source offsets), JSONL as one document per `{ id, text, … }` record.
// The HTML stripper is hand-written: a page's visible text needs only tags, entities and a few hidden elements, and
// a full HTML parser (parse5, ~150 kB) would be the largest dependency of the build for that.
import { InvalidInputError } from '../errors.js';
import type { JsonValue } from '../search/types.js';

const DOCUMENT_EXTENSIONS = ['.md', '.markdown', '.txt', '.html', '.htm', '.jsonl'] as const;

/** One document's searchable text. `offsets[i]` is the source offset of text[i] (absent: text is the source itself). */
export interface SourceDocument {
  /** The document's name: its path relative to the build's root (posix), or `<file>#<id>` for a JSONL record. */
  doc: string;
  title: string;
  text: string;
  /** Where `text` begins in the source, when text is a slice of it (Markdown front matter skipped). */
  base?: number;
  offsets?: Int32Array;
  /** Extra metadata (a JSONL record's other fields). */
  fields?: Record<string, JsonValue>;
}

/** Whether a file name is one `index build` reads. */
export function isDocumentFile(name: string): boolean {
  const lower = name.toLowerCase();
  return DOCUMENT_EXTENSIONS.some((e) => lower.endsWith(e));
}

/** Markdown: the text without its front matter; the title from front matter `title:`, else the first heading. */
export function markdownDocument(doc: string, source: string): SourceDocument {
  let base = 0;
  let title = '';
  const fm = /^---\r?\n([\s\S]*?)\r?\n---[ \t]*(\r?\n|$)/.exec(source);
  if (fm) {
    base = fm[0].length;
    const t = /^title:\s*(.+?)\s*$/m.exec(fm[1]);
    if (t) title = t[1].replace(/^(["'])(.*)\1$/, '$2');
  }
  const text = source.slice(base);
  if (!title) {
    const h = /^ {0,3}#{1,6}[ \t]+(.+?)[ \t#]*$/m.exec(text) ?? /^(\S.*)\r?\n(=+|-+)[ \t]*$/m.exec(text);
    if (h) title = h[1].trim();
  }
  return { doc, title, text, base };
}

/** Plain text: as it is; the title is its first non-empty line. */
export function textDocument(doc: string, source: string): SourceDocument {
  const first = /\S.*/.exec(source);
  return { doc, title: first ? first[0].trim().slice(0, 200) : '', text: source };
}

const SKIPPED = new Set(['script', 'style', 'template', 'noscript', 'svg', 'head', 'iframe', 'object']);
const VOID = new Set([
  'area',
  'base',
  'br',
  'col',
  'embed',
  'hr',
  'img',
  'input',
  'link',
  'meta',
  'source',
  'track',
  'wbr',
]);
const BLOCK =
  /^(p|div|section|article|main|header|footer|nav|aside|h[1-6]|li|ul|ol|dl|dt|dd|tr|table|blockquote|pre|figure|figcaption|br|hr|details|summary)$/;
const ENTITIES: Record<string, string> = { amp: '&', lt: '<', gt: '>', quot: '"', apos: "'", nbsp: ' ' };

function isHidden(attrs: string): boolean {
  return (
    /(^|\s)hidden(\s|=|$)/i.test(attrs) ||
    /aria-hidden\s*=\s*["']?true/i.test(attrs) ||
    /style\s*=\s*["'][^"']*display\s*:\s*none/i.test(attrs)
  );
}

/**
 * HTML: the visible text of the body (script, style, template, noscript, head and elements marked hidden dropped;
 * block elements end paragraphs), entities decoded, with each character's source offset; the title is <title>, else
 * the first <h1>.
 */
export function htmlDocument(doc: string, source: string): SourceDocument {
  const out: string[] = [];
  const offsets: number[] = [];
  const emit = (s: string, at: number, exact: boolean) => {
    for (let i = 0; i < s.length; i++) {
      out.push(s[i]);
      offsets.push(exact ? at + i : at);
    }
  };
  const titleMatch = /<title[^>]*>([\s\S]*?)<\/title>/i.exec(source);
  const h1 = /<h1[^>]*>([\s\S]*?)<\/h1>/i.exec(source);
  const plain = (s: string) =>
    decodeEntities(s.replace(/<[^>]*>/g, ''))
      .replace(/\s+/g, ' ')
      .trim();
  const title = titleMatch ? plain(titleMatch[1]) : h1 ? plain(h1[1]) : '';

  const tag = /<!--[\s\S]*?(-->|$)|<(\/?)([a-zA-Z][\w:-]*)((?:[^>"']|"[^"]*"|'[^']*')*)>|<![^>]*>|<\?[^>]*>/g;
  let pos = 0;
  let skip: { name: string; depth: number } | undefined;
  const text = (from: number, to: number) => {
    if (skip || to <= from) return;
    const raw = source.slice(from, to);
    let i = 0;
    for (const m of raw.matchAll(/&(#x[0-9a-f]+|#\d+|[a-z]+);/gi)) {
      const at = m.index;
      emit(raw.slice(i, at), from + i, true);
      emit(decodeEntities(m[0]), from + at, false);
      i = at + m[0].length;
    }
    emit(raw.slice(i), from + i, true);
  };
  for (const m of source.matchAll(tag)) {
    text(pos, m.index);
    pos = m.index + m[0].length;
    const name = m[3]?.toLowerCase();
    if (!name) continue; // comment, doctype, processing instruction
    const closing = m[2] === '/';
    const attrs = m[4] ?? '';
    if (skip) {
      if (name === skip.name && !VOID.has(name) && !attrs.trimEnd().endsWith('/')) {
        skip.depth += closing ? -1 : 1;
        if (skip.depth === 0) skip = undefined;
      }
      continue;
    }
    if (!closing && !VOID.has(name) && !attrs.trimEnd().endsWith('/') && (SKIPPED.has(name) || isHidden(attrs))) {
      skip = { name, depth: 1 };
      continue;
    }
    if (BLOCK.test(name)) emit('\n\n', m.index, false);
    else if (name === 'td' || name === 'th') emit(' ', m.index, false);
  }
  text(pos, source.length);
  // Collapse runs of spaces and blank lines the markup left, keeping each kept character's offset.
  const s: string[] = [];
  const o: number[] = [];
  for (let i = 0; i < out.length; i++) {
    const c = out[i] === '\u00a0' || out[i] === '\t' || out[i] === '\r' ? ' ' : out[i];
    const prev = s.length ? s[s.length - 1] : '\n';
    if (c === ' ' && (prev === ' ' || prev === '\n')) continue;
    if (c === '\n') {
      if (prev === ' ') (s.pop(), o.pop());
      const prev2 = s.length > 1 ? s[s.length - 2] : '\n';
      if (s.length === 0 || (s[s.length - 1] === '\n' && prev2 === '\n')) continue;
    }
    s.push(c);
    o.push(offsets[i]);
  }
  while (s.length && /\s/.test(s[s.length - 1])) (s.pop(), o.pop());
  return { doc, title, text: s.join(''), offsets: Int32Array.from(o) };
}

function decodeEntities(s: string): string {
  return s.replace(/&(#x[0-9a-f]+|#\d+|[a-z]+);/gi, (whole, e: string) => {
    if (e[0] === '#') {
      const n = e[1] === 'x' || e[1] === 'X' ? parseInt(e.slice(2), 16) : parseInt(e.slice(1), 10);
      return n > 0 && n <= 0x10ffff ? String.fromCodePoint(n) : whole;
    }
    return ENTITIES[e.toLowerCase()] ?? whole;
  });
}

/**
 * JSONL: one document per line `{ "id": string, "text": string, … }` (no id: `L<line number>`); other fields are
 * kept as metadata; the title is the record's `title`, else its `doc`.
 */
export function jsonlDocuments(file: string, source: string): { doc: SourceDocument; line: string }[] {
  const out: { doc: SourceDocument; line: string }[] = [];
  const seen = new Set<string>();
  source.split('\n').forEach((line, i) => {
    if (!line.trim()) return;
    let rec: unknown;
    try {
      rec = JSON.parse(line);
    } catch (cause) {
      throw new InvalidInputError(`${file} line ${i + 1} is not JSON; each line must be { "id", "text", … }.`, {
        cause,
      });
    }
    const r = rec as Record<string, JsonValue>;
    if (typeof r !== 'object' || r === null || Array.isArray(r) || typeof r.text !== 'string')
      throw new InvalidInputError(`${file} line ${i + 1} needs a string "text" (and an "id").`);
    // A record without an id is named by its line number (so inserting lines above it renames it).
    const id = typeof r.id === 'string' || typeof r.id === 'number' ? String(r.id) : `L${i + 1}`;
    if (seen.has(id)) throw new InvalidInputError(`${file} has the id "${id}" twice (line ${i + 1}).`);
    seen.add(id);
    const fields: Record<string, JsonValue> = {};
    for (const [k, v] of Object.entries(r)) if (k !== 'id' && k !== 'text') fields[k] = v;
    const title = typeof r.title === 'string' ? r.title : typeof r.doc === 'string' ? r.doc : '';
    out.push({ doc: { doc: `${file}#${id}`, title, text: r.text, fields }, line });
  });
  return out;
}
