// The popup (also the options page): search as you type, the capture switch, site access, and forgetting.
// Page text is untrusted: it is only ever rendered with textContent.
import { isErrorReply, type BackgroundRequest, type PageHit, type SearchModeArg, type Status } from './protocol.js';
import { webUrl } from './urls.js';

const $ = <T extends HTMLElement>(id: string) => document.getElementById(id) as T;
const q = $<HTMLInputElement>('q');
const results = $<HTMLOListElement>('results');
const statusEl = $('status');

async function send<T>(req: BackgroundRequest): Promise<T> {
  const reply: unknown = await chrome.runtime.sendMessage(req);
  if (isErrorReply(reply)) throw new Error(reply.error);
  return reply as T;
}

function el(tag: string, cls: string, text: string): HTMLElement {
  const e = document.createElement(tag);
  e.className = cls;
  e.textContent = text;
  return e;
}

function open(url: string, background: boolean): void {
  const u = webUrl(url);
  if (u) void chrome.tabs.create({ url: u.href, active: !background });
}

/** The passage as text nodes, the query's words (the hit's offsets) in <mark>. */
function passage(h: PageHit): HTMLElement {
  const div = el('div', 'passage', '');
  let at = 0;
  for (const { start, end } of h.highlights ?? []) {
    if (start < at || end > h.passage.length) continue;
    if (start > at) div.append(h.passage.slice(at, start));
    div.append(el('mark', '', h.passage.slice(start, end)));
    at = end;
  }
  div.append(h.passage.slice(at));
  return div;
}

function render(hits: PageHit[]): void {
  results.replaceChildren(
    ...hits.map((h) => {
      const li = el('li', 'hit', '');
      li.tabIndex = 0;
      li.dataset.url = h.url;
      const when = h.visitedAt ? new Date(h.visitedAt).toLocaleString() : '';
      li.append(
        el('span', 'score', h.score.toFixed(3)),
        el('div', 'title', h.title),
        el('div', 'url', h.url),
        passage(h),
        el('div', 'why', h.why ?? ''),
        el('div', 'meta', when),
      );
      li.addEventListener('click', (e) => open(h.url, e.ctrlKey || e.metaKey || e.button === 1));
      li.addEventListener('keydown', (e) => e.key === 'Enter' && open(h.url, e.ctrlKey || e.metaKey));
      return li;
    }),
  );
  $('empty').hidden = hits.length > 0 || !q.value.trim();
}

let searchSeq = 0;
let timer: ReturnType<typeof setTimeout> | undefined;
async function runSearch(): Promise<void> {
  const mine = ++searchSeq;
  const query = q.value;
  const t0 = performance.now();
  try {
    const mode = $<HTMLSelectElement>('mode').value as SearchModeArg;
    const hits = query.trim()
      ? await send<PageHit[]>({ target: 'hpd-background', type: 'search', query, k: 10, mode })
      : [];
    if (mine !== searchSeq) return; // a newer query is on its way
    render(hits);
    document.body.dataset.searched = query;
    if (query.trim()) statusEl.dataset.searchMs = String(Math.round(performance.now() - t0));
  } catch (e) {
    if (mine === searchSeq) statusEl.textContent = `Search failed: ${(e as Error).message}`;
  }
}
$('mode').addEventListener('change', () => void runSearch());
q.addEventListener('input', () => {
  clearTimeout(timer);
  timer = setTimeout(() => void runSearch(), 150);
});

function showStatus(s: Status): void {
  const kb = (s.bytes / 1024).toFixed(0);
  const parts = [`${s.pages} pages, ${s.passages} passages (${kb} KiB)`, `${s.model} on ${s.device}`];
  if (s.queued) parts.push(`${s.queued} queued`);
  if (!s.enabled) parts.push('capture off');
  else if (!s.origins.length) parts.push('no site allowed yet');
  statusEl.textContent = parts.join(' · ');
  statusEl.title = s.deviceReason;
  if (s.randomWeights)
    statusEl.append(el('div', 'warn random', 'This model has random weights (a test fixture): results mean nothing.'));
  if (s.lastError) statusEl.append(el('div', 'warn', `Indexing paused: ${s.lastError}`));
  const limit = $('limit');
  limit.textContent = s.limit ?? '';
  limit.hidden = !s.limit;
  $<HTMLInputElement>('enabled').checked = s.enabled;
  $('origins').textContent = s.origins.length
    ? `Allowed: ${s.origins.join(', ')}`
    : 'No site allowed: nothing is captured.';
  $<HTMLButtonElement>('revoke-all').disabled = !s.origins.length;
  const sites = $<HTMLUListElement>('sites');
  // Rebuilt only when the list changes: a rebuild on every 3 s refresh replaced the Forget button under the pointer.
  const key = s.sites.map((site) => `${site.host}\t${site.pages}`).join('\n');
  if (sites.dataset.key !== key) {
    sites.dataset.key = key;
    sites.replaceChildren(
      ...s.sites.map((site) => {
        const li = el('li', 'site', '');
        li.dataset.host = site.host;
        const b = el('button', 'forget', 'Forget') as HTMLButtonElement;
        b.addEventListener('click', () => void forget(site.host));
        li.append(el('span', '', `${site.host} (${site.pages})`), b);
        return li;
      }),
    );
  }
  document.body.dataset.pages = String(s.pages);
}

async function refresh(): Promise<void> {
  try {
    showStatus(await send<Status>({ target: 'hpd-background', type: 'status' }));
  } catch (e) {
    statusEl.textContent = `Not ready: ${(e as Error).message}`;
  }
}

async function forget(host?: string): Promise<void> {
  await send({ target: 'hpd-background', type: 'forget', ...(host === undefined ? {} : { host }) });
  await refresh();
  await runSearch();
}

// Forgetting everything asks twice, in the page (no blocking dialog).
const forgetAll = $<HTMLButtonElement>('forget-all');
forgetAll.addEventListener('click', () => {
  if (forgetAll.dataset.confirm !== '1') {
    forgetAll.dataset.confirm = '1';
    forgetAll.textContent = 'Click again to forget every page';
    return;
  }
  delete forgetAll.dataset.confirm;
  forgetAll.textContent = 'Forget everything';
  void forget();
});

$<HTMLInputElement>('enabled').addEventListener('change', (e) => {
  void send({ target: 'hpd-background', type: 'setEnabled', enabled: (e.target as HTMLInputElement).checked }).then(
    refresh,
  );
});

const grantNote = $('grant-note');
function note(text: string): void {
  grantNote.textContent = text;
  grantNote.hidden = !text;
}

async function grant(origins: string[], tabId?: number): Promise<void> {
  // Must run in the click's user gesture: Chrome shows its own permission prompt. A headless or automated browser shows
  // none and the request never settles, so say what is awaited, and after a while how else to grant access.
  note("Waiting for Chrome's permission prompt…");
  const hint = setTimeout(
    () =>
      note(
        "Waiting for Chrome's permission prompt… No prompt? A headless or automated browser cannot show one: build the extension with --grant-hosts (see the README).",
      ),
    3000,
  );
  try {
    const ok = await chrome.permissions.request({ origins });
    note(ok ? '' : 'Not allowed: nothing is captured there.');
    if (ok) await send({ target: 'hpd-background', type: 'sitesChanged', ...(tabId === undefined ? {} : { tabId }) });
  } catch (e) {
    note(`Chrome refused the request: ${(e as Error).message}`);
  } finally {
    clearTimeout(hint);
  }
  await refresh();
}
$('allow-all').addEventListener('click', () => void grant(['http://*/*', 'https://*/*']));
$('revoke-all').addEventListener('click', () => {
  void chrome.permissions.getAll().then(async (p) => {
    await chrome.permissions.remove({ origins: p.origins ?? [] });
    await send({ target: 'hpd-background', type: 'sitesChanged' });
    await refresh();
  });
});

// "Allow on <this site>": activeTab lets the popup read the URL of the tab it was opened on.
void chrome.tabs.query({ active: true, currentWindow: true }).then(([tab]) => {
  if (!tab?.url || !/^https?:/.test(tab.url)) return;
  const u = new URL(tab.url);
  const b = $<HTMLButtonElement>('allow-this');
  b.textContent = `Allow on ${u.host}`;
  b.hidden = false;
  b.addEventListener('click', () => void grant([`${u.protocol}//${u.hostname}/*`], tab.id));
});

void refresh().then(() => {
  document.body.dataset.ready = '1';
});
setInterval(() => void refresh(), 3000);
