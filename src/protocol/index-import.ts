// handle.import's arguments as they cross to the worker: a Response's body travels as a transferred stream and
// onProgress as a message port (comlink proxies only top-level arguments), both posted with the call itself, so the
// import keeps its place in the index's call order. The worker ends the port with null; a successful import resolves
// after that, so every progress event has been delivered by then.
import { HpdError, InvalidInputError } from '../errors.js';
import type { IndexImportOptions, IndexImportProgress, IndexSource } from './messages.js';

/** A Response, as the worker receives it: its body stream (transferred), URL and announced length. */
export interface WireResponse {
  stream: ReadableStream<Uint8Array>;
  url: string;
  total?: number;
}

export interface WireImportOptions {
  integrity?: string;
  cache?: boolean;
  /** Receives IndexImportProgress messages; stands in for onProgress across the worker boundary. */
  progress?: MessagePort;
}

export type WireIndexSource = string | Blob | ArrayBuffer | Uint8Array | WireResponse;

export function isWireResponse(s: unknown): s is WireResponse {
  return typeof s === 'object' && s !== null && 'stream' in s && (s as WireResponse).stream instanceof ReadableStream;
}

/** Checks import options (both sides call it: a bad option fails before anything is downloaded). */
function checkImportOptions(options: unknown): void {
  if (options === undefined) return;
  const o = options as IndexImportOptions & WireImportOptions;
  if (typeof o !== 'object' || o === null) throw new InvalidInputError('import options must be an object.');
  if (o.integrity !== undefined && (typeof o.integrity !== 'string' || !/\b(sha256|sha384|sha512)-/.test(o.integrity)))
    throw new InvalidInputError(
      `integrity must be an SRI string such as "sha256-<base64 digest>", got ${JSON.stringify(o.integrity)}.`,
    );
  if (o.onProgress !== undefined && typeof o.onProgress !== 'function')
    throw new InvalidInputError('onProgress must be a function.');
  if (o.cache !== undefined && typeof o.cache !== 'boolean') throw new InvalidInputError('cache must be a boolean.');
}

/** The page side: handle.import's arguments as wire values, what to transfer, and the progress port's receiver. */
export function importToWire(
  source: IndexSource,
  options: IndexImportOptions | undefined,
): { args: [WireIndexSource, WireImportOptions]; transfer: Transferable[]; progressDone: Promise<void> } {
  checkImportOptions(options);
  const wireOpts: WireImportOptions = {};
  const transfer: Transferable[] = [];
  if (options?.integrity !== undefined) wireOpts.integrity = options.integrity;
  if (options?.cache !== undefined) wireOpts.cache = options.cache;
  let progressDone = Promise.resolve();
  if (options?.onProgress) {
    const onProgress = options.onProgress;
    const channel = new MessageChannel();
    let done = () => {};
    progressDone = new Promise<void>((r) => (done = r));
    channel.port1.onmessage = (e: MessageEvent<IndexImportProgress | null>) => {
      if (e.data !== null) return onProgress(e.data);
      channel.port1.close();
      done();
    };
    wireOpts.progress = channel.port2;
    transfer.push(channel.port2);
  }
  let wire: WireIndexSource;
  // A relative URL is resolved here, against the page, before it crosses (as model specs are).
  if (typeof source === 'string')
    wire = typeof location === 'undefined' || !location.href ? source : new URL(source, location.href).href;
  else if (source instanceof URL) wire = source.href;
  else if (typeof Response !== 'undefined' && source instanceof Response) {
    if (!source.ok)
      throw new HpdError(
        'INDEX_FETCH_FAILED',
        `the index response for ${source.url || 'import'} has HTTP status ${source.status}; pass a successful response.`,
      );
    if (source.bodyUsed || !source.body)
      throw new InvalidInputError('the index response has no unread body; pass a fresh Response.');
    const len = source.headers.get('content-length');
    const total = len && !source.headers.get('content-encoding') ? Number(len) : undefined;
    wire = { stream: source.body, url: source.url, ...(total !== undefined && total >= 0 ? { total } : {}) };
    transfer.push(source.body as unknown as Transferable);
  } else if (
    source instanceof ArrayBuffer ||
    source instanceof Uint8Array ||
    (typeof Blob !== 'undefined' && source instanceof Blob)
  )
    wire = source;
  else
    throw new InvalidInputError(
      'import(source): source must be a URL (string or URL), a Response, a Blob, an ArrayBuffer or a Uint8Array.',
    );
  return { args: [wire, wireOpts], transfer, progressDone };
}
