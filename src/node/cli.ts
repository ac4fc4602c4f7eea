import { readFile } from 'node:fs/promises';
import { parseArgs } from 'node:util';
import { buildBundle } from '../engine/build-bundle.js';
import { generateFixture, generatedVocab } from '../convert/fixture.js';
import { parseJsonBytes } from '../bundle/json.js';
import { MANIFEST_FILE, checkDtype } from '../bundle/manifest.js';
import type { FileSource } from '../bundle/source.js';
import { DEFAULT_HUB_URL, hubFileUrl, type HubRepo } from '../model/hub.js';
import { openRemoteCheckpoint } from '../model/remote-checkpoint.js';
import { readModelString } from '../model/spec.js';
import { parseVocab } from '../convert/wordpiece-tokenizer.js';
import { HpdError, InvalidInputError } from '../errors.js';
import { folderSource } from './fs-source.js';
import { wasmProbes } from './probe-runtime.js';
import { benchCommand, embedCommand, searchCommand } from './cli-runtime.js';
import { EVAL_USAGE, evalCommand } from './cli-eval.js';
import { checkOutputFolder, writeFolderAtomic } from './write-folder.js';
import { UsageError, type CliIO } from './cli-io.js';

export type { CliIO };

const defaultIO: CliIO = {
  out: (s) => process.stdout.write(s),
  err: (s) => process.stderr.write(s),
  tty: Boolean(process.stderr.isTTY),
};

/** One CLI command: its usage text (printed by `hpd-embed <name> --help` and after a usage error) and its body. */
interface CliCommand {
  usage: string;
  run: (args: string[], io: CliIO) => Promise<void>;
}

const MODEL_FLAGS = `--model is a compiled bundle folder or URL (with hpd.json), a sentence-transformers checkpoint folder,
  or a Hugging Face repo id owner/name[@revision] (owner/name is always a repo id: write a folder ./dir or /dir); --hub-url URL and --dtype fp32|fp16|int8 apply to repo ids.
  --device auto|webgpu|wasm (default auto: onnxruntime-node's CPU runtime when installed, else wasm), --batch N (most texts per
  session run, default 32; a run holds at most 4096 padded tokens, so long texts run in smaller batches).`;

// The command table: a command in its own file exports a CliCommand and adds one line here.
const commands: Record<string, CliCommand> = {
  convert: {
    run: convert,
    usage: `hpd-embed convert <checkpoint-dir | owner/name[@revision]> --out <bundle-dir> [--dtype fp32|fp16|int8] [--name NAME] [--prefer safetensors|pytorch] [--hub-url URL] [--force]
  Compiles a sentence-transformers checkpoint (a folder: ./dir, /dir; or a Hub repo id) into a bundle (model.onnx, tokenizer.json, hpd.json with golden probes).
  An existing --out folder is replaced only with --force, and only if this tool wrote it.`,
  },
  fixture: {
    run: fixture,
    usage: `hpd-embed fixture --out <dir> [--layers 6 --hidden 384 --heads 12 --ffn 1536 --dim 128] [--vocab <vocab.txt|tokenizer.json>] [--seed N] [--force]
  Writes a random-weight checkpoint in the Hugging Face layout (real speed, meaningless rankings).
  Without --vocab it uses a small generated WordPiece vocabulary; pass a real one (e.g. bert-base-uncased's vocab.txt).`,
  },
  embed: {
    run: embedCommand,
    usage: `hpd-embed embed --model <…> --input <lines.txt> --output <vectors.f32> [--device auto|webgpu|wasm] [--batch 32]
  Embeds each line of --input. --output gets N × dim little-endian float32, row-major (row i is line i), no header;
  in numpy: np.fromfile(path, '<f4').reshape(-1, dim). Rows are unit length.
  ${MODEL_FLAGS}`,
  },
  search: {
    run: searchCommand,
    usage: `hpd-embed search --model <…> (--input <corpus.txt> [--index <file>] | --index <file>) [--query TEXT]… [--k 10] [--storage f32|int8]
  Embeds the corpus (one text per line; or loads --index), then prints the top k lines for each --query
  (or for each line of stdin).
  ${MODEL_FLAGS}`,
  },
  bench: {
    run: benchCommand,
    usage: `hpd-embed bench --model <…> [--n 512] [--words 16] [--batch 32]
  Times embedding n generated texts after a warm-up.
  ${MODEL_FLAGS}`,
  },
  eval: { run: evalCommand, usage: EVAL_USAGE },
};

const isHelp = (a: string | undefined) => a === '--help' || a === '-h' || a === 'help';

function usage(): string {
  return `Usage: hpd-embed <command> [options]   (hpd-embed <command> --help for one command)\n\n${Object.values(
    commands,
  )
    .map((c) => c.usage.split('\n').slice(0, 2).join('\n'))
    .join('\n')}\n`;
}

export async function main(argv: string[], io: CliIO = defaultIO): Promise<number> {
  const [name, ...rest] = argv;
  if (name === undefined || isHelp(name)) {
    io.out(usage());
    return 0;
  }
  const cmd = Object.hasOwn(commands, name) ? commands[name] : undefined;
  if (!cmd) {
    io.err(`hpd-embed: unknown command "${name}".\n\n${usage()}`);
    return 2;
  }
  if (rest.some(isHelp)) {
    io.out(`Usage: ${cmd.usage}\n`);
    return 0;
  }
  try {
    await cmd.run(rest, io);
    return 0;
  } catch (e) {
    const parseError = e instanceof TypeError && (e as NodeJS.ErrnoException).code?.startsWith('ERR_PARSE_ARGS');
    if (e instanceof UsageError || parseError) {
      io.err(`hpd-embed ${name}: ${(e as Error).message}\n\nUsage: ${cmd.usage}\n`);
      return 2;
    }
    if (e instanceof HpdError) {
      io.err(`hpd-embed ${name}: ${e.message} [${e.code}]\n`);
      return 1;
    }
    throw e;
  }
}

const int = (v: string | undefined, flag: string, fallback: number): number => {
  if (v === undefined) return fallback;
  const n = Number(v);
  if (!Number.isInteger(n) || n < 0)
    throw new InvalidInputError(`--${flag} must be a non-negative integer, got "${v}".`);
  return n;
};

/** `hpd-embed convert`: also what `npm run models:fetch` runs, with the pinned Hub repo as its source. */
export async function convert(args: string[], io: CliIO): Promise<void> {
  const { values, positionals } = parseArgs({
    args,
    allowPositionals: true,
    options: {
      out: { type: 'string' },
      dtype: { type: 'string', default: 'fp32' },
      name: { type: 'string' },
      prefer: { type: 'string' },
      force: { type: 'boolean', default: false },
      'hub-url': { type: 'string', default: process.env.HF_ENDPOINT ?? DEFAULT_HUB_URL },
    },
  });
  if (positionals.length !== 1 || !values.out) throw new UsageError('convert needs one checkpoint folder and --out.');
  const dtype = checkDtype(values.dtype!);
  if (values.prefer !== undefined && values.prefer !== 'safetensors' && values.prefer !== 'pytorch') {
    throw new InvalidInputError(`--prefer must be safetensors or pytorch, got "${values.prefer}".`);
  }
  // Refuse before compiling: a compile can take minutes.
  await checkOutputFolder(values.out, MANIFEST_FILE, { replace: values.force });
  const { source, repo } = await checkpointSource(positionals[0], values['hub-url']!, io);
  const name = values.name ?? repo?.repo.split('/')[1].toLowerCase();
  const bundle = await buildBundle(source, {
    dtype,
    probes: await wasmProbes(),
    ...(name ? { name } : {}),
    ...(repo ? { source: repo } : {}),
    ...(values.prefer ? { prefer: values.prefer as 'safetensors' | 'pytorch' } : {}),
    onProgress: (p) => {
      const line = `compiling ${positionals[0]}: ${p.stage.padEnd(7)} ${Math.round(p.fraction * 100)}%`;
      io.err(io.tty ? `\r${line}` : `${line}\n`);
    },
  });
  if (io.tty) io.err('\n');
  await writeFolderAtomic(values.out, bundle.files, MANIFEST_FILE, { replace: values.force });
  const m = bundle.manifest;
  const mb = (n: number) => `${(n / 1048576).toFixed(1)} MiB`;
  io.out(
    `${values.out}: ${m.name}, ${m.dim}-d, ${m.pooling} pooling, max ${m.maxTokens} tokens\n` +
      `  params ${m.params.toLocaleString('en-US')}, dtype ${m.dtype}, model.onnx ${mb(m.files.model.bytes)}, ` +
      `read ${bundle.stats.weightFiles.join(' + ')}, ${(bundle.stats.millis / 1000).toFixed(2)} s\n`,
  );
}

/** The checkpoint to convert, by the model-string rule: a Hub repo id (downloaded at its revision) or a folder. */
async function checkpointSource(
  spec: string,
  hubUrl: string,
  io: CliIO,
): Promise<{ source: FileSource; repo?: HubRepo }> {
  const s = readModelString(spec);
  if (s.kind === 'path') return { source: folderSource(s.path) };
  if (s.kind === 'url') throw new InvalidInputError(`convert reads a folder or a Hub repo id, not a URL: "${spec}".`);
  const { repo } = s;
  io.err(`fetching ${repo.repo}@${repo.revision} from ${hubUrl}\n`);
  let shown = '';
  const source = await openRemoteCheckpoint({
    url: (p) => hubFileUrl(hubUrl, repo, p),
    label: `${repo.repo}@${repo.revision}`,
    fetch: (u, i) => fetch(u, i),
    onProgress: (p) => {
      if (p.stage !== 'download') return;
      const line = `  ${p.file}: ${(p.loaded / 1048576).toFixed(1)}${p.total ? ` / ${(p.total / 1048576).toFixed(1)}` : ''} MiB`;
      if (p.loaded === p.total && line !== shown) io.err(`${(shown = line)}\n`);
    },
  });
  return { source, repo };
}

async function fixture(args: string[], io: CliIO): Promise<void> {
  const { values } = parseArgs({
    args,
    options: {
      out: { type: 'string' },
      layers: { type: 'string' },
      hidden: { type: 'string' },
      heads: { type: 'string' },
      ffn: { type: 'string' },
      dim: { type: 'string' },
      vocab: { type: 'string' },
      seed: { type: 'string' },
      force: { type: 'boolean', default: false },
    },
  });
  if (!values.out) throw new UsageError('fixture needs --out.');
  await checkOutputFolder(values.out, 'modules.json', { replace: values.force });
  const vocab = values.vocab ? await readVocab(values.vocab) : generatedVocab();
  const files = generateFixture({
    layers: int(values.layers, 'layers', 6),
    hidden: int(values.hidden, 'hidden', 384),
    heads: int(values.heads, 'heads', 12),
    ffn: int(values.ffn, 'ffn', 1536),
    dim: int(values.dim, 'dim', 128),
    seed: int(values.seed, 'seed', 42),
    vocab,
  });
  await writeFolderAtomic(values.out, files, 'modules.json', { replace: values.force });
  let bytes = 0;
  for (const f of files.values()) bytes += f.byteLength;
  io.out(`${values.out}: random-weight checkpoint, ${files.size} files, ${(bytes / 1048576).toFixed(1)} MiB\n`);
  io.out(
    values.vocab
      ? `  vocabulary: ${values.vocab} (${vocab.length} tokens)\n`
      : `  vocabulary: generated, ${vocab.length} tokens (common English words and WordPiece pieces). For a real one pass\n` +
          `  --vocab <vocab.txt or tokenizer.json>, e.g. bert-base-uncased's vocab.txt (30522 tokens, the HPD-MiniLM-F128 vocabulary).\n`,
  );
}

/** A vocabulary from vocab.txt or from a tokenizer.json's WordPiece model. */
async function readVocab(path: string): Promise<string[]> {
  const bytes = await readFile(path).catch((e: Error) => {
    throw new InvalidInputError(`cannot read --vocab ${path}: ${e.message}`);
  });
  if (!path.endsWith('.json')) return parseVocab(new TextDecoder().decode(bytes));
  const vocab = parseJsonBytes<{ model?: { vocab?: Record<string, number> } } | null>(
    bytes,
    `--vocab ${path}`,
    'INVALID_INPUT',
  )?.model?.vocab;
  if (!vocab) throw new InvalidInputError(`${path} has no model.vocab (is it a WordPiece tokenizer.json?).`);
  const list: string[] = [];
  for (const [tok, id] of Object.entries(vocab)) list[id] = tok;
  return list;
}
