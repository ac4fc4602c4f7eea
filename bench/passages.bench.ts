// splitPassages time per byte at 100 KB, 1 MB and 10 MB for a single unpunctuated paragraph, U+2028-separated lines
// and normal prose; the ratio of time/byte at the largest size to the smallest (linear: about 1, target ≤ 2), with
// the CPU model beside it. Writes bench/results/passages.json. HPD_BENCH_PASSAGE_SIZES overrides the sizes (bytes).
import { mkdir, writeFile } from 'node:fs/promises';
import { cpus, loadavg } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { seededRandom } from '../src/seeded-random.js';
import { splitPassages } from '../src/text/passages.js';

const SIZES = (process.env.HPD_BENCH_PASSAGE_SIZES ?? '100000,1000000,10000000').split(',').map(Number);
const here = dirname(fileURLToPath(import.meta.url));
const WORDS =
  'time person year way day thing man world life hand part child eye woman place work week case point'.split(' ');

/** ASCII text of `bytes` characters (= UTF-8 bytes) of one kind. */
function text(kind: string, bytes: number): string {
  const r = seededRandom(bytes);
  const word = () => WORDS[Math.floor(r() * WORDS.length)];
  const parts: string[] = [];
  let n = 0;
  while (n < bytes) {
    let s: string;
    if (kind === 'unpunctuated paragraph') s = `${word()} `;
    else if (kind === 'U+2028 lines') s = `${Array.from({ length: 3 + Math.floor(r() * 8) }, word).join(' ')}\u2028`;
    else {
      // Prose: sentences of 5–25 words, paragraphs of 3–8 sentences.
      const sentences = 3 + Math.floor(r() * 6);
      s = `${Array.from({ length: sentences }, () => {
        const w = Array.from({ length: 5 + Math.floor(r() * 20) }, word).join(' ');
        return `${w[0].toUpperCase()}${w.slice(1)}${r() < 0.1 ? '?' : '.'}`;
      }).join(' ')}\n\n`;
    }
    parts.push(s);
    n += s.length;
  }
  return parts.join('').slice(0, bytes);
}

export interface PassagesResult {
  kind: string;
  bytes: number;
  passages: number;
  ms: number;
  ns_per_byte: number;
}

export async function run(): Promise<void> {
  const cpu = cpus()[0]?.model ?? 'unknown CPU';
  console.log(
    `splitPassages (default options), fastest of three equal-byte blocks, Node ${process.version}, ${cpu}, load average ${loadavg()[0].toFixed(1)}`,
  );
  const rows: PassagesResult[] = [];
  for (const kind of ['unpunctuated paragraph', 'U+2028 lines', 'prose']) {
    for (const bytes of SIZES) {
      const doc = text(kind, bytes);
      // Each timed block splits the same number of bytes (a small document many times), so every size is measured over
      // a similar wall time and sees the same machine load; the fastest of three blocks is kept.
      const perBlock = Math.max(1, Math.round(Math.max(...SIZES) / bytes));
      splitPassages(doc); // warm-up
      let passages = 0;
      let ms = Infinity;
      for (let block = 0; block < 3; block++) {
        const t = performance.now();
        for (let i = 0; i < perBlock; i++) passages = splitPassages(doc).length;
        ms = Math.min(ms, (performance.now() - t) / perBlock);
      }
      rows.push({ kind, bytes, passages, ms, ns_per_byte: (ms * 1e6) / bytes });
      console.log(
        `  ${kind.padEnd(24)} ${String(bytes).padStart(9)} B  ${String(passages).padStart(7)} passages  ${ms.toFixed(1).padStart(9)} ms  ${((ms * 1e6) / bytes).toFixed(0).padStart(6)} ns/B`,
      );
    }
    const mine = rows.filter((r) => r.kind === kind);
    const ratio = mine[mine.length - 1].ns_per_byte / mine[0].ns_per_byte;
    console.log(
      `  ${kind}: time/byte at ${mine[mine.length - 1].bytes} B ÷ at ${mine[0].bytes} B = ${ratio.toFixed(2)} (target ≤ 2)`,
    );
  }
  await mkdir(join(here, 'results'), { recursive: true });
  await writeFile(
    join(here, 'results', 'passages.json'),
    `${JSON.stringify({ cpu, node: process.version, load: loadavg()[0], rows }, null, 2)}\n`,
  );
}
