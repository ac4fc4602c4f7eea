import { readFile, stat } from 'node:fs/promises';
import { parseArgs } from 'node:util';
import { buildBundle } from '../engine/build-bundle.js';
import { HPD_MINILM_F128, generateFixture, generatedVocab } from '../convert/fixture.js';
import { MAX_WEIGHT_BYTES, bertParams } from '../convert/st-layout.js';
import { parseJsonBytes } from '../bundle/json.js';
import { WEIGHT_DTYPES, type WeightDtype } from '../bundle/manifest.js';
import type { FileSource } from '../bundle/source.js';
import { DEFAULT_HUB_URL, hubFileUrl, type HubRepo } from '../model/hub.js';
import { openRemoteCheckpoint } from '../model/remote-checkpoint.js';
import { readModelString } from '../model/spec.js';
import { parseVocab } from '../convert/wordpiece-tokenizer.js';
import { ConvertError, HpdError, InvalidInputError } from '../errors.js';
import { folderSource } from './fs-source.js';
import { wasmProbes } from './probe-runtime.js';
import { benchCommand, embedCommand, positiveInt, searchCommand } from './cli-runtime.js';
import { EVAL_SUMMARY, EVAL_USAGE, evalCommand } from './cli-eval.js';
import { PROJECT_SUMMARY, PROJECT_USAGE, projectCommand } from './cli-project.js';
import { INDEX_SUMMARY, INDEX_USAGE, indexCommand } from './cli-index.js';
import { MODEL_FLAGS, RANDOM_WEIGHTS_NOTE } from './cli-model.js';
import { checkInputFile } from './cli-files.js';
import { OUTPUT_MARKER, checkOutputFolder, writeFolderAtomic } from './write-folder.js';
import { UsageError, type CliIO } from './cli-io.js';

export type { CliIO };

const defaultIO: CliIO = {
  out: (s) => process.stdout.write(s),
  err: (s) => process.stderr.write(s),
  tty: Boolean(process.stderr.isTTY),
};

/**
 * One CLI command: its usage text (printed by `hpd-embed <name> --help` and after a usage error), a one-sentence
 * summary (the overview prints the usage's first line and this), and its body.
 */
interface CliCommand {
  usage: string;
  summary: string;
  run: (args: string[], io: CliIO) => Promise<void>;
}

const DTYPES = WEIGHT_DTYPES.join('|');

// The command table: a command in its own file exports a CliCommand and adds one line here.
const commands: Record<string, CliCommand> = {
  convert: {
    run: convert,
    summary: 'Compiles a sentence-transformers checkpoint (a folder or a Hub repo id) into a model bundle.',
    usage: `hpd-embed convert <checkpoint-dir | owner/name[@revision]> --out <bundle-dir> [--dtype ${DTYPES}] [--name NAME] [--prefer safetensors|pytorch] [--hub-url URL] [--force]
  Compiles a sentence-transformers checkpoint (a folder: ./dir, /dir; or a Hub repo id) into a bundle (model.onnx,
  tokenizer.json, hpd.json with golden probes).
  --dtype: fp32 (default); fp16 and int8 store smaller weights but compute in f32; q8 also computes in int8 (CPU only).
  An existing --out folder is replaced only with --force, and only if this tool wrote it as a bundle (its ${OUTPUT_MARKER}
  file); a symbolic link is never followed.`,
  },
  fixture: {
    run: fixture,
    summary: 'Writes a random-weight checkpoint in the Hugging Face layout, for tests and timing.',
    usage: `hpd-embed fixture --out <dir> [--layers 6 --hidden 384 --heads 12 --ffn 1536 --dim 128] [--vocab <vocab.txt|tokenizer.json>] [--seed N] [--force]
  Writes a random-weight checkpoint in the Hugging Face layout (real speed, meaningless rankings).
  Without --vocab it uses a small generated WordPiece vocabulary; pass a real one (e.g. bert-base-uncased's vocab.txt).
  Its config.json says hpd_embed_random_weights: true, and bundles compiled from it say so wherever they are used.
  --force replaces only a checkpoint folder this tool wrote (its ${OUTPUT_MARKER} file).`,
  },
  embed: {
    run: embedCommand,
    summary: 'Embeds each line of a text file into little-endian float32 rows.',
    usage: `hpd-embed embed --model <…> --input <lines.txt> --output <vectors.f32> [--device auto|webgpu|wasm] [--batch 32]
  Embeds each line of --input (an empty file is refused; blank lines are embedded, and reported on stderr).
  --output gets N × dim little-endian float32, row-major (row i is line i), no header;
  in numpy: np.fromfile(path, '<f4').reshape(-1, dim). Rows are unit length.
  ${MODEL_FLAGS}`,
  },
  search: {
    run: searchCommand,
    summary: 'Ranks the lines of a corpus (or a saved index) for each query.',
    usage: `hpd-embed search --model <…> (--input <corpus.txt> [--index <file>] | --index <file>) [--query TEXT]… [--k 10] [--storage f32|int8]
  Embeds the corpus (one text per line; or loads --index), then prints the top k lines for each --query
  (or for each line of stdin).
  ${MODEL_FLAGS}`,
  },
  bench: {
    run: benchCommand,
    summary: 'Times embedding generated texts after a warm-up.',
    usage: `hpd-embed bench --model <…> [--n 512] [--words 16] [--batch 32]
  Times embedding n generated texts after a warm-up.
  ${MODEL_FLAGS}`,
  },
  eval: { run: evalCommand, usage: EVAL_USAGE, summary: EVAL_SUMMARY },
  project: { run: projectCommand, usage: PROJECT_USAGE, summary: PROJECT_SUMMARY },
  index: { run: indexCommand, usage: INDEX_USAGE, summary: INDEX_SUMMARY },
};

const isHelp = (a: string | undefined) => a === '--help' || a === '-h' || a === 'help';

function usage(): string {
  const list = Object.values(commands).map((c) => `${c.usage.split('\n')[0]}\n  ${c.summary}`);
  return `Usage: hpd-embed <command> [options]   (hpd-embed <command> --help for one command)\n\n${list.join('\n')}\n`;
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
      // One line: node's parseArgs messages carry advice on further lines.
      io.err(`hpd-embed ${name}: ${(e as Error).message.replace(/\s*\n\s*/g, ' ')}\n\nUsage: ${cmd.usage}\n`);
      return 2;
    }
    if (e instanceof HpdError) {
      io.err(`hpd-embed ${name}: ${e.message} [${e.code}]\n`);
      return 1;
    }
    // Every failure ends in one line and exit 1; an untyped one is a bug of ours, so it says so (and keeps its stack).
    const errno = (e as NodeJS.ErrnoException | undefined)?.code;
    io.err(
      `hpd-embed ${name}: unexpected error: ${(e as Error)?.message ?? String(e)}${errno ? ` (${errno})` : ''}; please report it with the command line [INTERNAL]\n`,
    );
    if (process.env.HPD_EMBED_DEBUG) io.err(`${(e as Error)?.stack ?? ''}\n`);
    return 1;
  }
}

const int = (v: string | undefined, flag: string, fallback: number): number => {
  if (v === undefined) return fallback;
  const n = Number(v);
  if (!(/^\s*\d+\s*$/.test(v) && Number.isSafeInteger(n)))
    throw new UsageError(`--${flag} must be a non-negative integer, got "${v}".`);
  return n;
};

/** The checkpoint folder `convert` reads: a missing path or a file is said as such, before anything is read. */
async function checkCheckpointFolder(dir: string): Promise<void> {
  const s = await stat(dir).catch((e: NodeJS.ErrnoException) => {
    const why = e.code === 'ENOENT' || e.code === 'ENOTDIR' ? 'no such folder' : e.message;
    throw new ConvertError(
      'CHECKPOINT_MISSING_FILE',
      `${dir}: ${why}; pass a sentence-transformers checkpoint folder (config.json, modules.json, weights).`,
      { cause: e },
    );
  });
  if (!s.isDirectory())
    throw new ConvertError(
      'CHECKPOINT_INVALID',
      `${dir} is a file, not a folder; pass a sentence-transformers checkpoint folder (config.json, modules.json, weights).`,
    );
}

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
  if (!(WEIGHT_DTYPES as readonly string[]).includes(values.dtype!))
    throw new UsageError(`--dtype must be one of ${WEIGHT_DTYPES.join(', ')}, got "${values.dtype}".`);
  const dtype = values.dtype as WeightDtype;
  if (values.prefer !== undefined && values.prefer !== 'safetensors' && values.prefer !== 'pytorch') {
    throw new UsageError(`--prefer must be safetensors or pytorch, got "${values.prefer}".`);
  }
  // Refuse before compiling: a compile can take minutes.
  const target = { replace: values.force, kind: 'bundle' } as const;
  await checkOutputFolder(values.out, target);
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
  await writeFolderAtomic(values.out, bundle.files, target);
  const m = bundle.manifest;
  const mb = (n: number) => `${(n / 1048576).toFixed(1)} MiB`;
  io.out(
    `${values.out}: ${m.name}, ${m.dim}-d, ${m.pooling} pooling, max ${m.maxTokens} tokens\n` +
      `  params ${m.params.toLocaleString('en-US')}, dtype ${m.dtype}, model.onnx ${mb(m.files.model.bytes)}, ` +
      `read ${bundle.stats.weightFiles.join(' + ')}, ${(bundle.stats.millis / 1000).toFixed(2)} s\n` +
      (m.randomWeights ? `  ${RANDOM_WEIGHTS_NOTE} (compiled from a \`hpd-embed fixture\` checkpoint)\n` : ''),
  );
}

/** The checkpoint to convert, by the model-string rule: a Hub repo id (downloaded at its revision) or a folder. */
async function checkpointSource(
  spec: string,
  hubUrl: string,
  io: CliIO,
): Promise<{ source: FileSource; repo?: HubRepo }> {
  const s = readModelString(spec);
  if (s.kind === 'path') {
    await checkCheckpointFolder(s.path);
    return { source: folderSource(s.path) };
  }
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
  const shape = {
    layers: values.layers === undefined ? 6 : positiveInt(values.layers, 'layers'),
    hidden: values.hidden === undefined ? 384 : positiveInt(values.hidden, 'hidden'),
    heads: values.heads === undefined ? 12 : positiveInt(values.heads, 'heads'),
    ffn: values.ffn === undefined ? 1536 : positiveInt(values.ffn, 'ffn'),
    dim: int(values.dim, 'dim', 128), // 0: no Dense module
    seed: int(values.seed, 'seed', 42),
  };
  if (shape.hidden % shape.heads !== 0)
    throw new UsageError(`--hidden (${shape.hidden}) must be a multiple of --heads (${shape.heads}).`);
  const target = { replace: values.force, kind: 'checkpoint' } as const;
  await checkOutputFolder(values.out, target);
  const vocab = values.vocab ? await readVocab(values.vocab) : generatedVocab();
  const params = bertParams({
    ...{ hiddenSize: shape.hidden, numLayers: shape.layers, numHeads: shape.heads, intermediateSize: shape.ffn },
    ...{ vocabSize: vocab.length, maxPositions: HPD_MINILM_F128.maxPositions, typeVocabSize: 2 },
    ...{ layerNormEps: 1e-12, hiddenAct: 'gelu' },
  });
  // Bounded memory: a checkpoint too large to compile is refused before its weights are generated.
  if (params * 4 > MAX_WEIGHT_BYTES)
    throw new UsageError(
      `that shape has ${params.toLocaleString('en-US')} parameters, more than one ONNX file can hold (${MAX_WEIGHT_BYTES / 4}); choose a smaller one.`,
    );
  const files = generateFixture({ ...shape, vocab });
  await writeFolderAtomic(values.out, files, target);
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
  await checkInputFile(path, '--vocab', false);
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
