import { ConvertError } from '../errors.js';
import { parseJsonBytes } from '../bundle/json.js';
import type { FileSource } from '../bundle/source.js';

async function readRequired(src: FileSource, path: string, why: string): Promise<Uint8Array> {
  const bytes = await src.read(path);
  if (!bytes) {
    throw new ConvertError('CHECKPOINT_MISSING_FILE', `${src.label}: missing ${path} (${why}).`);
  }
  return bytes;
}

export async function readJson<T>(src: FileSource, path: string, why: string): Promise<T> {
  return parseJson<T>(await readRequired(src, path, why), `${src.label}/${path}`);
}

export async function readOptionalJson<T>(src: FileSource, path: string): Promise<T | undefined> {
  const bytes = await src.read(path);
  return bytes ? parseJson<T>(bytes, `${src.label}/${path}`) : undefined;
}

export function parseJson<T>(bytes: Uint8Array, where: string): T {
  return parseJsonBytes<T>(bytes, where, 'CHECKPOINT_INVALID', ConvertError);
}
