// Reader for the BEIR layout: corpus.jsonl ({_id, title, text}), queries.jsonl ({_id, text}), qrels/<split>.tsv (query-id, corpus-id, score).
import { InvalidInputError } from '../search/errors.js';
import { decodeUtf8 } from './utf8.js';

export interface BeirData {
  corpusIds: string[];
  /** Title and text joined by a space (the BEIR / sentence-transformers convention), or the text alone. */
  corpusTexts: string[];
  queryIds: string[];
  queryTexts: string[];
  /** query id → (corpus id → graded relevance > 0); only queries with a relevant document are evaluated. */
  qrels: Map<string, Map<string, number>>;
}

/** A file's text, or its bytes decoded as strict UTF-8 (INVALID_INPUT naming the line otherwise). */
const textOf = (t: string | Uint8Array, where: string): string => (typeof t === 'string' ? t : decodeUtf8(t, where));

function jsonLines(
  text: string | Uint8Array,
  where: string,
  f: (o: Record<string, unknown>, line: number) => void,
): void {
  const lines = textOf(text, where).split('\n');
  for (let i = 0; i < lines.length; i++) {
    if (lines[i].trim() === '') continue;
    let o: unknown;
    try {
      o = JSON.parse(lines[i]);
    } catch {
      throw new InvalidInputError(`${where}:${i + 1}: not valid JSON.`);
    }
    if (!o || typeof o !== 'object' || Array.isArray(o))
      throw new InvalidInputError(`${where}:${i + 1}: expected a JSON object.`);
    f(o as Record<string, unknown>, i + 1);
  }
}

const str = (o: Record<string, unknown>, key: string, where: string, line: number, optional = false): string => {
  const v = o[key];
  if (v === undefined && optional) return '';
  if (typeof v === 'number') return String(v);
  if (typeof v !== 'string') throw new InvalidInputError(`${where}:${line}: "${key}" must be a string.`);
  return v;
};

/**
 * Parses the three BEIR files' contents (text, or bytes: strict UTF-8); ids must be unique and qrels must name known
 * queries and documents. `where` names the files in errors (default: their BEIR names).
 */
export function parseBeir(
  files: { corpus: string | Uint8Array; queries: string | Uint8Array; qrels: string | Uint8Array },
  where: { corpus?: string; queries?: string; qrels?: string } = {},
): BeirData {
  const d: BeirData = { corpusIds: [], corpusTexts: [], queryIds: [], queryTexts: [], qrels: new Map() };
  const docs = new Set<string>(),
    queries = new Set<string>();
  jsonLines(files.corpus, where.corpus ?? 'corpus.jsonl', (o, line) => {
    const id = str(o, '_id', 'corpus.jsonl', line);
    if (docs.has(id)) throw new InvalidInputError(`corpus.jsonl:${line}: duplicate _id "${id}".`);
    docs.add(id);
    const title = str(o, 'title', 'corpus.jsonl', line, true),
      text = str(o, 'text', 'corpus.jsonl', line);
    d.corpusIds.push(id);
    d.corpusTexts.push(title ? `${title} ${text}` : text);
  });
  jsonLines(files.queries, where.queries ?? 'queries.jsonl', (o, line) => {
    const id = str(o, '_id', 'queries.jsonl', line);
    if (queries.has(id)) throw new InvalidInputError(`queries.jsonl:${line}: duplicate _id "${id}".`);
    queries.add(id);
    d.queryIds.push(id);
    d.queryTexts.push(str(o, 'text', 'queries.jsonl', line));
  });
  const lines = textOf(files.qrels, where.qrels ?? 'qrels').split('\n');
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i].replace(/\r$/, '');
    if (line.trim() === '') continue;
    const f = line.split('\t');
    if (i === 0 && (f[0] === 'query-id' || Number.isNaN(Number(f[2])))) continue; // header row
    if (f.length < 3) throw new InvalidInputError(`qrels:${i + 1}: expected query-id<TAB>corpus-id<TAB>score.`);
    const score = Number(f[2]);
    if (!Number.isFinite(score)) throw new InvalidInputError(`qrels:${i + 1}: score "${f[2]}" is not a number.`);
    if (!queries.has(f[0])) throw new InvalidInputError(`qrels:${i + 1}: query "${f[0]}" is not in queries.jsonl.`);
    if (!docs.has(f[1])) throw new InvalidInputError(`qrels:${i + 1}: document "${f[1]}" is not in corpus.jsonl.`);
    if (score <= 0) continue;
    let m = d.qrels.get(f[0]);
    if (!m) d.qrels.set(f[0], (m = new Map()));
    m.set(f[1], score);
  }
  if (d.qrels.size === 0) throw new InvalidInputError('qrels: no query has a relevant document (score > 0).');
  return d;
}
