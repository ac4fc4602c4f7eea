// The files CLI commands read and write besides models: text inputs, index files, output paths. Every failure is a
// typed error naming the path, raised before a model is loaded.
import { lstat, readFile, stat } from 'node:fs/promises';
import { InvalidInputError } from '../errors.js';
import { CosineIndex } from '../search/cosine-index.js';
import type { CliIO } from './cli-io.js';

const errnoCode = (e: unknown) => (e as NodeJS.ErrnoException | undefined)?.code;

/** Refuses what cannot be read as a file's bytes: a missing path, a folder, a device (/dev/zero never ends) or a socket. */
export async function checkInputFile(path: string, what: string, fifoOk: boolean): Promise<void> {
  let s;
  try {
    s = await stat(path);
  } catch (e) {
    const why = errnoCode(e) === 'ENOENT' || errnoCode(e) === 'ENOTDIR' ? 'no such file' : (e as Error).message;
    throw new InvalidInputError(`cannot read ${what} ${path}: ${why}.`, { cause: e });
  }
  if (s.isDirectory()) throw new InvalidInputError(`${what} ${path} is a folder; pass a file.`);
  if (!(s.isFile() || (fifoOk && s.isFIFO())))
    throw new InvalidInputError(`${what} ${path} is not a regular file (a device or socket?); pass a file.`);
}

/** Lines of a text file, one text per line (a final newline does not add an empty text); refuses an empty file. */
export async function readLines(path: string, io: CliIO): Promise<string[]> {
  await checkInputFile(path, '--input', true); // a FIFO is fine: `--input <(grep … corpus.txt)`
  const text = await readFile(path, 'utf8').catch((e: Error) => {
    throw new InvalidInputError(`cannot read --input ${path}: ${e.message}`, { cause: e });
  });
  const lines = text.split(/\r?\n/);
  if (lines.length && lines[lines.length - 1] === '') lines.pop();
  if (lines.length === 0) throw new InvalidInputError(`--input ${path} is empty; pass a file with one text per line.`);
  const blank: number[] = [];
  for (let i = 0; i < lines.length; i++) if (lines[i].trim() === '') blank.push(i + 1);
  if (blank.length === lines.length)
    throw new InvalidInputError(`--input ${path} holds only blank lines; pass a file with one text per line.`);
  if (blank.length) io.err(blankLinesWarning(path, blank));
  return lines;
}

const SHOWN = 5;

/** Blank lines are kept (row i stays line i) but become vectors of the empty text: say so, and where. */
export function blankLinesWarning(path: string, lineNumbers: readonly number[]): string {
  const shown = lineNumbers.slice(0, SHOWN).join(', ') + (lineNumbers.length > SHOWN ? ', …' : '');
  const n = lineNumbers.length;
  return `warning: ${path} has ${n} blank line${n === 1 ? '' : 's'} (line${n === 1 ? '' : 's'} ${shown}); each is embedded as an empty text so rows stay aligned with lines. Remove ${n === 1 ? 'it' : 'them'} if that is not intended.\n`;
}

/** An index file written by `search --index`, read and checked (CORRUPT_INDEX) before any model is loaded. */
export async function readIndexFile(path: string): Promise<CosineIndex<string>> {
  await checkInputFile(path, '--index', false);
  const bytes = await readFile(path).catch((e: Error) => {
    throw new InvalidInputError(`cannot read --index ${path}: ${e.message}`, { cause: e });
  });
  return CosineIndex.deserialize<string>(bytes);
}

/** Whether `path` names an existing entry (of any type: a folder given as --index is refused when read, not ignored). */
export async function pathExists(path: string): Promise<boolean> {
  return lstat(path).then(
    () => true,
    () => false,
  );
}

/** Refuses an output path that cannot become a file (a folder, a path under a file) before any work is done. */
export async function checkOutputFile(path: string, flag: string): Promise<void> {
  let s;
  try {
    s = await stat(path);
  } catch (e) {
    if (errnoCode(e) === 'ENOENT') return;
    const why = errnoCode(e) === 'ENOTDIR' ? 'a part of its parent path is a file' : (e as Error).message;
    throw new InvalidInputError(`${flag} ${path} cannot be written: ${why}.`, { cause: e });
  }
  if (!s.isFile()) throw new InvalidInputError(`${flag} ${path} exists and is not a regular file; pass a file path.`);
}
