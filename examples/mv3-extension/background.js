// MV3 service workers cannot run a Web Worker or WebGPU; an offscreen document hosts the embedder instead.
const OFFSCREEN = 'offscreen.html';

let creating; // the one createDocument in flight: Chrome allows a single offscreen document

async function ensureOffscreen() {
  // Concurrent messages share one creation instead of racing to create a second document.
  creating ??= (async () => {
    const url = chrome.runtime.getURL(OFFSCREEN);
    const existing = await chrome.runtime.getContexts({ contextTypes: ['OFFSCREEN_DOCUMENT'], documentUrls: [url] });
    if (existing.length > 0) return;
    await chrome.offscreen.createDocument({
      url: OFFSCREEN,
      reasons: ['WORKERS'],
      justification: 'Runs the hpd-embed model in a Web Worker for on-device semantic search.',
    });
  })();
  try {
    await creating;
  } finally {
    creating = undefined;
  }
}

/** Sends a request to the offscreen document and returns its answer (errors come back as { error, code }). */
export async function ask(request) {
  await ensureOffscreen();
  const reply = await chrome.runtime.sendMessage({ target: 'hpd-offscreen', ...request });
  if (reply && reply.error) throw Object.assign(new Error(reply.error), { code: reply.code });
  return reply;
}

// Callable from DevTools or tests: await embedViaOffscreen(['some text']).
globalThis.embedViaOffscreen = (texts) => ask({ type: 'embed', texts });
globalThis.searchViaOffscreen = (query, k) => ask({ type: 'search', query, k });
globalThis.indexViaOffscreen = (ids, texts) => ask({ type: 'index', ids, texts });
