// A checkpoint served by URL, read as a FileSource: what `loadModel` compiles and `hpd-embed convert` reads from the Hub.
import type { FileSource } from '../bundle/source.js';
import { HpdError } from '../errors.js';
import { HTML_ANSWER, fetchBytes, isWebPage, verifySha256, type FetchLike } from './fetch.js';
import { DownloadTracker, type LoadProgress } from './progress.js';

/** hpd.json, configs, tokenizer.json and vocab.txt are far below this (bert-base's tokenizer.json is 0.7 MB). */
export const MAX_TEXT_FILE_BYTES = 64 * 2 ** 20;

export interface RemoteCheckpointOptions {
  /** Maps a checkpoint-relative path to its URL. */
  url: (path: string) => string;
  label: string;
  fetch: FetchLike;
  onProgress?: (p: LoadProgress) => void;
  signal?: AbortSignal;
  /** The error for config.json missing (404) or answered with an HTML page (`html`); default: the fetch error with URL and status. */
  notFound?: (configUrl: string, html: boolean) => Error;
}

/**
 * A FileSource over a checkpoint served by URL (the Hub's resolve/ layout, or any folder URL).
 * config.json is fetched up front, so a wrong repo, revision or host fails at once with URL and status;
 * other files are optional (404 → absent) and Hub-announced SHA-256s are verified.
 */
export async function openRemoteCheckpoint(o: RemoteCheckpointOptions): Promise<FileSource> {
  const tracker = new DownloadTracker(o.onProgress);
  const fetchFile = async (path: string, optional: boolean) => {
    const maxBytes = /\.(json|txt)$/.test(path) ? MAX_TEXT_FILE_BYTES : undefined; // configs and vocabularies are small
    const got = await fetchBytes(o.fetch, o.url(path), {
      optional,
      ...(maxBytes ? { maxBytes } : {}),
      onBytes: (l, t) => tracker.update(path, l, t),
      ...signalOf(o),
    });
    if (got && isWebPage(got, path)) return null; // a SPA fallback's page for a missing file
    if (got?.announcedSha256) await verifySha256(got.bytes, got.announcedSha256, o.url(path));
    return got?.bytes;
  };
  const config = await fetchFile('config.json', o.notFound !== undefined);
  if (!config) {
    const html = config === null;
    if (o.notFound) throw o.notFound(o.url('config.json'), html);
    throw new HpdError(
      'MODEL_FETCH_FAILED',
      `${o.url('config.json')} returned an HTML page, not JSON: ${HTML_ANSWER}.`,
    );
  }
  return {
    label: o.label,
    read: async (path) => (path === 'config.json' ? config : ((await fetchFile(path, true)) ?? undefined)),
  };
}

const signalOf = (o: { signal?: AbortSignal }) => (o.signal ? { signal: o.signal } : {});
