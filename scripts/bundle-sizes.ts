// Bundles the page entry and the browser worker with esbuild (minified, as users ship it, and so blind to formatting and comments; code splitting) and reads its metafile:
// what each entry loads up front, what the compiler chunk costs, and whether any CommonJS module is reached.
import { build, type Metafile } from 'esbuild';
import { resolve } from 'node:path';

export interface BundleSizes {
  /** Bytes of our own and third-party code (ORT excluded) that `import 'hpd-embed'` loads up front. */
  page: number;
  /** Bytes the worker loads up front: the compiled-bundle path (ORT excluded). */
  worker: number;
  /** The part of `worker` that is our own code (src/), without third-party modules. */
  workerOwn: number;
  /** Bytes of ORT (onnxruntime-web JS) in the worker, reported apart. */
  workerOrt: number;
  /** Bytes loaded only through dynamic import(): the checkpoint compiler. */
  compiler: number;
  /** Bytes loaded through import() on the first index call: CosineIndex, its kernels and the index stores. */
  index: number;
  /** Source files of the worker's up-front graph. */
  workerInputs: string[];
  /** Source files of the compiler chunk(s). */
  compilerInputs: string[];
  /** Inputs esbuild saw as CommonJS, anywhere in the page or worker graph. */
  commonjs: string[];
}

const ROOT = resolve(import.meta.dirname, '..');
const isOrt = (p: string) =>
  p.includes('node_modules/onnxruntime-web/') || p.includes('node_modules/onnxruntime-common/');

/** Follows static imports from `out`, collecting output files. */
function staticClosure(meta: Metafile, out: string): Set<string> {
  const seen = new Set<string>();
  const walk = (o: string) => {
    if (seen.has(o)) return;
    seen.add(o);
    for (const i of meta.outputs[o]?.imports ?? []) if (i.kind === 'import-statement' && !i.external) walk(i.path);
  };
  walk(out);
  return seen;
}

/** The chunks a dynamic `import()` from `outs` loads, for the imports whose target holds `input` (e.g. the compiler). */
function dynamicTargets(meta: Metafile, outs: Set<string>, input: string): Set<string> {
  const found = new Set<string>();
  for (const o of outs) {
    for (const i of meta.outputs[o]?.imports ?? []) {
      if (i.kind !== 'dynamic-import' || i.external) continue;
      const closure = staticClosure(meta, i.path);
      if (![...closure].some((x) => input in (meta.outputs[x]?.inputs ?? {}))) continue;
      for (const x of closure) found.add(x);
    }
  }
  for (const o of outs) found.delete(o);
  return found;
}

function sum(meta: Metafile, outs: Set<string>, pick: (input: string) => boolean): number {
  let n = 0;
  for (const o of outs)
    for (const [input, v] of Object.entries(meta.outputs[o].inputs)) if (pick(input)) n += v.bytesInOutput;
  return n;
}

function inputsOf(meta: Metafile, outs: Set<string>): string[] {
  return [...new Set([...outs].flatMap((o) => Object.keys(meta.outputs[o].inputs)))].sort();
}

export async function measureBundleSizes(): Promise<BundleSizes> {
  const result = await build({
    absWorkingDir: ROOT,
    entryPoints: { page: 'src/index.ts', worker: 'src/worker/worker.ts' },
    bundle: true,
    splitting: true,
    format: 'esm',
    platform: 'browser',
    target: 'es2022',
    minify: true,
    metafile: true,
    write: false,
    outdir: 'out',
    logLevel: 'silent',
    loader: { '.wasm': 'file' },
  });
  const meta = result.metafile;
  const entry = (name: string) =>
    Object.keys(meta.outputs).find((o) => meta.outputs[o].entryPoint && o.endsWith(`${name}.js`))!;
  const page = staticClosure(meta, entry('page'));
  const worker = staticClosure(meta, entry('worker'));
  const compiler = dynamicTargets(meta, worker, 'src/convert/compile.ts');
  const index = dynamicTargets(meta, worker, 'src/search/cosine-index.ts');
  const commonjs = Object.entries(meta.inputs)
    .filter(([, v]) => v.format === 'cjs')
    .map(([k]) => k);
  return {
    page: sum(meta, page, (i) => !isOrt(i)),
    worker: sum(meta, worker, (i) => !isOrt(i)),
    workerOwn: sum(meta, worker, (i) => i.startsWith('src/')),
    workerOrt: sum(meta, worker, isOrt),
    compiler: sum(meta, compiler, () => true),
    index: sum(meta, index, () => true),
    workerInputs: inputsOf(meta, worker),
    compilerInputs: inputsOf(meta, compiler),
    commonjs,
  };
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const s = await measureBundleSizes();
  const kB = (n: number) => `${(n / 1000).toFixed(1)} kB`;
  console.log(
    `page entry ${kB(s.page)} | worker (compiled-bundle path, ORT excluded) ${kB(s.worker)}, of which src/ ${kB(s.workerOwn)} | ORT JS ${kB(s.workerOrt)} | compiler chunk ${kB(s.compiler)} | index chunk (loaded on the first index call) ${kB(s.index)}`,
  );
  console.log(`CommonJS inputs: ${s.commonjs.length ? s.commonjs.join(', ') : 'none'}`);
  if (process.argv.includes('--inputs')) console.log({ worker: s.workerInputs, compiler: s.compilerInputs });
}
