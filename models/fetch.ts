// npm run models:fetch [-- --dtype fp32|fp16|int8 --out DIR --hub-url URL --model models/<name>.model.json]
// An alias of `hpd-embed convert <repo>@<revision>` for the pinned published checkpoint: the bundle folder
// (git-ignored) that a static site or a browser extension can ship, with golden probes like every bundle.
import { readFile } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { checkDtype } from '../src/bundle/manifest.js';
import { HpdError } from '../src/errors.js';
import { DEFAULT_HUB_URL } from '../src/model/hub.js';
import { convert } from '../src/node/cli.js';

const here = dirname(fileURLToPath(import.meta.url));

interface ModelEntry {
  name: string;
  repo: string;
  revision: string;
}

export async function fetchModel(
  args: string[],
  log: (s: string) => void = (s) => process.stderr.write(s),
): Promise<string> {
  const { values } = parseArgs({
    args,
    options: {
      model: { type: 'string', default: join(here, 'hpd-minilm-f128.model.json') },
      dtype: { type: 'string', default: 'fp32' },
      out: { type: 'string' },
      'hub-url': { type: 'string', default: process.env.HF_ENDPOINT ?? DEFAULT_HUB_URL },
    },
  });
  const entry = JSON.parse(await readFile(values.model!, 'utf8')) as ModelEntry;
  const dtype = checkDtype(values.dtype!);
  const out = resolve(values.out ?? join(here, dtype === 'fp32' ? entry.name : `${entry.name}-${dtype}`));
  await convert(
    [
      ...[`${entry.repo}@${entry.revision}`, '--out', out, '--dtype', dtype, '--name', entry.name],
      ...['--hub-url', values['hub-url']!, '--force'],
    ],
    { out: log, err: log, tty: false },
  );
  return out;
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  fetchModel(process.argv.slice(2)).catch((e: unknown) => {
    process.stderr.write(
      `models:fetch failed: ${(e as Error).message}${e instanceof HpdError ? ` [${e.code}]` : ''}\n`,
    );
    process.exitCode = 1;
  });
}
