// The offscreen document: owns the embedder (model packaged inside the extension, no network) and a worker-side index.
import { createEmbedder, type Embedder } from '../../src/index.js';

interface Request {
  target?: string;
  type: 'embed' | 'index' | 'search';
  texts?: string[];
  ids?: string[];
  query?: string;
  k?: number;
}

// The bundle ships in the extension; see build.ts.
const MODEL_URL = chrome.runtime.getURL('models/bundle/');
let embedder: Promise<Embedder> | undefined;
// A failed start is not kept: the next message tries again (the model may be back, the GPU process restarted).
const ready = () =>
  (embedder ??= createEmbedder({ model: MODEL_URL, device: 'auto' }).catch((e: unknown) => {
    embedder = undefined;
    throw e;
  }));

async function handle(req: Request): Promise<unknown> {
  const e = await ready();
  if (req.type === 'embed') {
    const v = await e.embed(req.texts ?? []);
    return { dim: e.dim, device: e.device.actual, vectors: Array.from(v) };
  }
  const notes = e.index('notes');
  if (req.type === 'index') return notes.addTexts(req.ids ?? [], req.texts ?? []);
  return { hits: await notes.search(req.query ?? '', req.k ?? 5) };
}

chrome.runtime.onMessage.addListener((msg: Request, _sender, sendResponse) => {
  if (msg?.target !== 'hpd-offscreen') return false;
  handle(msg).then(sendResponse, (err: Error & { code?: string }) => sendResponse({ error: err.message, code: err.code ?? 'UNTYPED' }));
  return true; // the answer is asynchronous
});
