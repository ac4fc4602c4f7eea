// Content script (bundled by build.ts into one classic script). Runs at document_idle only on the hosts the user
// granted; sends the page's visible text to the service worker once and does nothing else. The service worker takes
// the page's URL from the browser, not from this message.
import { MAX_TEXT } from './limits.js';
import { visibleText } from './visible-text.js';

const flag = '__hpdEmbedCaptured';
const g = globalThis as unknown as Record<string, boolean>;
if (!g[flag] && document.body && /html/.test(document.contentType)) {
  g[flag] = true;
  const capture = () => {
    // The main content where the page marks it, else the body; only text a reader can see (visible-text.ts).
    const root = document.querySelector<HTMLElement>('article, main, [role="main"]') ?? document.body;
    const text = visibleText(root, MAX_TEXT);
    if (text.length < 20) return;
    chrome.runtime
      .sendMessage({ target: 'hpd-background', type: 'capture', title: document.title, text })
      .catch(() => undefined);
  };
  // Reading styles lays the page out: do it when the page is idle, never in the way of its own work.
  if (typeof requestIdleCallback === 'function') requestIdleCallback(capture, { timeout: 5_000 });
  else setTimeout(capture, 500);
}
