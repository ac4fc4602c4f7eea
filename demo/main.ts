// The drop-in demo: load a model with progress, embed a corpus into a worker-side index, search as you type.
import { createEmbedder, type Embedder, type IndexHandle } from '../src/index.js';

const $ = <T extends HTMLElement>(id: string) => document.getElementById(id) as T;
const SAMPLE = [
  'A man is playing a flute.',
  'A woman is slicing an onion.',
  'The cat sleeps on the warm windowsill.',
  'Stock markets fell sharply on Monday.',
  'A child is riding a bicycle down the street.',
  'The recipe calls for two cups of flour.',
  'Scientists discovered a new species of frog.',
  'The orchestra performed a symphony by Beethoven.',
  'Heavy rain is expected over the weekend.',
  'The team won the championship after extra time.',
];

let embedder: Embedder | undefined;
let index: IndexHandle | undefined;

async function defaults(): Promise<void> {
  $<HTMLTextAreaElement>('texts').value = SAMPLE.join('\n');
  // demo/serve.ts writes which bundle it prepared; fall back to the Hub id.
  const res = await fetch('/models/demo-model.json').catch(() => undefined);
  const info = res?.ok ? ((await res.json()) as { url: string; random: boolean }) : { url: 'Xuandong/HPD-MiniLM-F128', random: false };
  $<HTMLInputElement>('model-url').value = info.url;
  if (info.random) {
    const w = $('warning');
    w.hidden = false;
    w.textContent = 'This machine could not download the published weights, so the demo serves a random-weight model of the same shape: speed is real, rankings are not. Run `npm run models:fetch` with internet access for the real model.';
  }
}

async function load(): Promise<void> {
  await embedder?.dispose();
  embedder = undefined;
  const status = $('status');
  const bar = $<HTMLProgressElement>('progress');
  status.textContent = 'starting worker…';
  const t0 = performance.now();
  try {
    embedder = await createEmbedder({
      model: $<HTMLInputElement>('model-url').value.trim(),
      device: $<HTMLSelectElement>('device').value as 'auto',
      onProgress: (p) => {
        if (p.stage === 'download') {
          bar.value = p.aggregate.total ? p.aggregate.loaded / p.aggregate.total : 0;
          status.textContent = `${p.fromCache ? 'from cache' : 'downloading'} ${p.file}: ${(p.aggregate.loaded / 1048576).toFixed(1)} MiB`;
        } else if (p.stage === 'compile') {
          status.textContent = `compiling checkpoint: ${p.step}`;
          bar.value = p.fraction;
        } else if (p.stage === 'session') {
          status.textContent = `creating ${p.device} session…`;
        }
      },
    });
    bar.value = 1;
    const d = embedder.device;
    status.textContent = `ready in ${((performance.now() - t0) / 1000).toFixed(1)} s: ${embedder.info.name}, ${embedder.dim}-d ${embedder.info.dtype} on ${d.actual} (${d.reason})`;
    $<HTMLButtonElement>('index').disabled = false;
  } catch (e) {
    status.textContent = `failed: ${(e as Error).message} [${(e as { code?: string }).code ?? 'error'}]`;
  }
}

async function buildIndex(): Promise<void> {
  if (!embedder) return;
  const texts = $<HTMLTextAreaElement>('texts').value.split('\n').map((t) => t.trim()).filter(Boolean);
  const out = $('index-status');
  out.textContent = 'embedding…';
  const t0 = performance.now();
  index = embedder.index(`demo-${Date.now()}`);
  await index.addTexts(texts.map((_, i) => String(i)), texts, texts);
  const s = (performance.now() - t0) / 1000;
  out.textContent = `${texts.length} texts indexed in ${s.toFixed(2)} s (${(texts.length / s).toFixed(1)} texts/s)`;
  $<HTMLInputElement>('query').disabled = false;
  void search();
}

let searchSeq = 0;
async function search(): Promise<void> {
  const q = $<HTMLInputElement>('query').value.trim();
  if (!index || !q) return;
  const seq = ++searchSeq;
  const t0 = performance.now();
  const hits = await index.search(q, 5);
  const meta = await Promise.all(hits.map((h) => index!.metadata(h.id)));
  if (seq !== searchSeq) return; // a newer query already ran
  const list = $('results');
  list.replaceChildren(...hits.map((h, i) => {
    const li = document.createElement('li');
    const score = document.createElement('span');
    score.className = 'score';
    score.textContent = h.score.toFixed(3);
    li.append(score, String(meta[i] ?? h.id));
    return li;
  }));
  list.title = `${(performance.now() - t0).toFixed(1)} ms`;
}

$('load').addEventListener('click', () => void load());
$('index').addEventListener('click', () => void buildIndex());
$('query').addEventListener('input', () => void search());
void defaults().then(load);
