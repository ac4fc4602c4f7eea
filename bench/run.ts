// Runs every bench/*.bench.ts in sequence (each exports `run()`); `npm run bench -- search` runs only matching files.
import { readdir } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { setFlagsFromString } from 'node:v8';

// Relaxed SIMD (the int8 search kernel) is on by default from Node 22; Node 20 has it behind this flag.
setFlagsFromString('--experimental-wasm-relaxed-simd');

interface BenchModule {
  run: () => Promise<void>;
}

function isBenchModule(m: unknown): m is BenchModule {
  return typeof m === 'object' && m !== null && typeof (m as { run?: unknown }).run === 'function';
}

const here = dirname(fileURLToPath(import.meta.url));
// Arguments starting with -- are options for the bench files (e.g. `browser --gpu`), not file filters.
const filters = process.argv.slice(2).filter((a) => !a.startsWith('--'));
const files = (await readdir(here))
  .filter((f) => f.endsWith('.bench.ts') && (filters.length === 0 || filters.some((p) => f.includes(p))))
  .sort();
if (files.length === 0) {
  console.error(`no bench/*.bench.ts matches ${filters.join(', ') || '(any)'}`);
  process.exit(1);
}
let failed = 0;
for (const file of files) {
  console.log(`\n=== ${file} ===`);
  const started = performance.now();
  try {
    const mod: unknown = await import(pathToFileURL(join(here, file)).href);
    if (!isBenchModule(mod)) throw new Error(`${file} does not export async function run()`);
    await mod.run();
    console.log(`=== ${file} done in ${((performance.now() - started) / 1000).toFixed(1)} s ===`);
  } catch (e) {
    failed++;
    console.error(`=== ${file} FAILED ===`, e);
  }
}
process.exit(failed === 0 ? 0 : 1);
