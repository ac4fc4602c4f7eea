// npm run models:fetch [-- --dtype fp32|fp16|int8 --out DIR --hub-url URL --model models/<name>.model.json]
// Downloads the published checkpoint at its pinned revision and compiles it into a bundle folder
// (git-ignored) that a static site or a browser extension can ship.
import { readFile } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { compileCheckpoint } from '../src/convert/compile.js';
import { checkDtype } from '../src/bundle/manifest.js';
import { HpdError } from '../src/errors.js';
import { DEFAULT_HUB_URL, hubFileUrl } from '../src/model/hub.js';
import { openRemoteCheckpoint } from '../src/model/load.js';
import { writeFolderAtomic } from '../src/node/write-folder.js';

const here = dirname(fileURLToPath(import.meta.url));

interface ModelEntry {
  name: string;
  repo: string;
  revision: string;
}

export async function fetchModel(args: string[], log: (s: string) => void = (s) => process.stderr.write(s)): Promise<string> {
  const { values } = parseArgs({
    args,
    options: { model: { type: 'string', default: join(here, 'hpd-minilm-f128.model.json') }, dtype: { type: 'string', default: 'fp32' }, out: { type: 'string' }, 'hub-url': { type: 'string', default: process.env.HF_ENDPOINT ?? DEFAULT_HUB_URL } },
  });
  const entry = JSON.parse(await readFile(values.model!, 'utf8')) as ModelEntry;
  const dtype = checkDtype(values.dtype!);
  const out = resolve(values.out ?? join(here, dtype === 'fp32' ? entry.name : `${entry.name}-${dtype}`));
  const repo = { repo: entry.repo, revision: entry.revision };
  log(`fetching ${entry.repo}@${entry.revision} from ${values['hub-url']}\n`);
  let shown = '';
  const src = await openRemoteCheckpoint({
    url: (p) => hubFileUrl(values['hub-url']!, repo, p),
    label: `${entry.repo}@${entry.revision}`,
    fetch: (u, i) => fetch(u, i),
    onProgress: (p) => {
      if (p.stage !== 'download') return;
      const line = `  ${p.file}: ${(p.loaded / 1048576).toFixed(1)}${p.total ? ` / ${(p.total / 1048576).toFixed(1)}` : ''} MiB`;
      if (p.loaded === p.total && line !== shown) log(`${(shown = line)}\n`);
    },
  });
  const bundle = await compileCheckpoint(src, { dtype, source: repo, name: entry.name, onProgress: (p) => p.stage === 'graph' && log('compiling…\n') });
  await writeFolderAtomic(out, bundle.files);
  log(`wrote ${out}: ${bundle.manifest.params.toLocaleString('en-US')} params, ${dtype}, model.onnx ${(bundle.manifest.files.model.bytes / 1048576).toFixed(1)} MiB\n`);
  return out;
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  fetchModel(process.argv.slice(2)).catch((e: unknown) => {
    process.stderr.write(`models:fetch failed: ${(e as Error).message}${e instanceof HpdError ? ` [${e.code}]` : ''}\n`);
    process.exitCode = 1;
  });
}
