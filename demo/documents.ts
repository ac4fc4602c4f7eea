// Turns uploaded files (.txt, .md, .jsonl) into passages ready to index: an id, the passage text, and its document.
import { splitPassages } from 'hpd-embed';

/** One passage to embed; `doc` names the document it came from (shown with each hit). */
export interface PassageItem {
  id: string;
  text: string;
  doc: string;
}

export interface ParsedFile {
  items: PassageItem[];
  documents: number;
  /** .jsonl lines that were not an object with a non-empty string `text` (1-based line numbers, first 5). */
  skipped: number;
  skippedLines: number[];
}

const FIELDS = ['text', 'content', 'body'] as const;

/** One document's passages; ids are `<key>#<n>`, stable for the same document. */
function passagesOf(key: string, doc: string, text: string): PassageItem[] {
  return splitPassages(text).map((p, i) => ({ id: `${key}#${i}`, text: p.text, doc }));
}

/** A .jsonl file: each line one document ({ text | content | body, title? | doc? | id? }). */
export function parseJsonl(fileName: string, content: string): ParsedFile {
  const out: ParsedFile = { items: [], documents: 0, skipped: 0, skippedLines: [] };
  const lines = content.split('\n');
  lines.forEach((line, i) => {
    if (line.trim() === '') return;
    let rec: unknown;
    try {
      rec = JSON.parse(line);
    } catch {
      rec = undefined;
    }
    const obj =
      rec !== null && typeof rec === 'object' && !Array.isArray(rec) ? (rec as Record<string, unknown>) : undefined;
    const text = obj && FIELDS.map((f) => obj[f]).find((v): v is string => typeof v === 'string' && v.trim() !== '');
    if (!obj || !text) {
      out.skipped++;
      if (out.skippedLines.length < 5) out.skippedLines.push(i + 1);
      return;
    }
    const name = [obj.title, obj.doc, obj.id].find(
      (v): v is string | number => (typeof v === 'string' && v !== '') || typeof v === 'number',
    );
    out.items.push(
      ...passagesOf(`${fileName}:${i + 1}`, name === undefined ? `${fileName}, line ${i + 1}` : String(name), text),
    );
    out.documents++;
  });
  return out;
}

/** A .txt or .md file: one document, split into passages. */
export function parsePlain(fileName: string, content: string): ParsedFile {
  const items = passagesOf(fileName, fileName, content);
  return { items, documents: items.length > 0 ? 1 : 0, skipped: 0, skippedLines: [] };
}

export function parseFile(fileName: string, content: string): ParsedFile {
  return /\.jsonl$/i.test(fileName) ? parseJsonl(fileName, content) : parsePlain(fileName, content);
}
