// Content script (a classic script: build.ts transpiles it alone, so no imports). Runs at document_idle only on the
// hosts the user granted; sends the page's readable text to the service worker once and does nothing else.
(() => {
  const flag = '__hpdEmbedCaptured';
  const g = globalThis as unknown as Record<string, boolean>;
  if (g[flag] || !document.body || !/html/.test(document.contentType)) return;
  g[flag] = true;
  const capture = () => {
    // The main content where the page marks it, else the body; innerText drops scripts, styles and hidden text.
    const root = document.querySelector<HTMLElement>('article, main, [role="main"]') ?? document.body;
    const text = root.innerText
      .replace(/[ \t\u00a0]+/g, ' ')
      .replace(/\n[ \t]*(\n[ \t]*)+/g, '\n\n')
      .trim()
      .slice(0, 100_000);
    if (text.length < 20) return;
    chrome.runtime
      .sendMessage({ target: 'hpd-background', type: 'capture', url: location.href, title: document.title, text })
      .catch(() => undefined);
  };
  // innerText lays the page out: do it when the page is idle, never in the way of its own work.
  if (typeof requestIdleCallback === 'function') requestIdleCallback(capture, { timeout: 5_000 });
  else setTimeout(capture, 500);
})();
