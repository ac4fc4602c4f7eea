import { readFile } from 'node:fs/promises';
import { parseArgs } from 'node:util';
import { compileCheckpoint, type CompiledBundle } from '../convert/compile.js';
import { computeProbes, withProbes } from '../engine/golden.js';
import type { BundleProbes } from '../bundle/manifest.js';
import { generateFixture } from '../convert/fixture.js';
import { checkDtype } from '../bundle/manifest.js';
import { parseVocab } from '../convert/wordpiece-tokenizer.js';
import { HpdError } from '../errors.js';
import { folderSource } from './fs-source.js';
import { benchCommand, embedCommand, searchCommand } from './cli-runtime.js';
import { evalCommand } from './cli-eval.js';
import { writeFolderAtomic } from './write-folder.js';

export interface CliIO {
  out: (s: string) => void;
  err: (s: string) => void;
  /** Whether stderr is a terminal (progress redraws in place). */
  tty: boolean;
}

const defaultIO: CliIO = {
  out: (s) => process.stdout.write(s),
  err: (s) => process.stderr.write(s),
  tty: Boolean(process.stderr.isTTY),
};

const USAGE = `Usage:
  hpd-embed convert <checkpoint-dir> --out <bundle-dir> [--dtype fp32|fp16|int8] [--name NAME] [--prefer safetensors|pytorch]
  hpd-embed fixture --out <dir> [--layers 6 --hidden 384 --heads 12 --ffn 1536 --dim 128 --vocab <vocab.txt|tokenizer.json>] [--seed N]
  hpd-embed embed --model <bundle-dir|url|repo-id> --input <lines.txt> --output <vectors.f32> [--device auto|wasm] [--batch 32]
  hpd-embed search --model <…> (--input <corpus.txt> [--index <file>] | --index <file>) [--query TEXT]… [--k 10] [--storage f32|int8]
  hpd-embed bench --model <…> [--n 512] [--words 16] [--batch 32]
  (--hub-url URL and --dtype fp32|fp16|int8 apply when --model is a Hugging Face repo id)
`;

export type Command = (args: string[], io: CliIO) => Promise<void>;

const commands: Record<string, Command> = { convert, fixture, embed: embedCommand, search: searchCommand, bench: benchCommand, eval: evalCommand };

export async function main(argv: string[], io: CliIO = defaultIO): Promise<number> {
  const [name, ...rest] = argv;
  const cmd = name ? commands[name] : undefined;
  if (!cmd) {
    io.err(USAGE);
    return name === undefined || name === '--help' || name === '-h' ? 0 : 2;
  }
  try {
    await cmd(rest, io);
    return 0;
  } catch (e) {
    if (e instanceof HpdError) {
      io.err(`hpd-embed ${name}: ${e.message} [${e.code}]\n`);
      return 1;
    }
    if (e instanceof TypeError && (e as NodeJS.ErrnoException).code?.startsWith('ERR_PARSE_ARGS')) {
      io.err(`hpd-embed ${name}: ${e.message}\n${USAGE}`);
      return 2;
    }
    throw e;
  }
}

const int = (v: string | undefined, flag: string, fallback: number): number => {
  if (v === undefined) return fallback;
  const n = Number(v);
  if (!Number.isInteger(n) || n < 0) throw new HpdError('INVALID_INPUT', `--${flag} must be a non-negative integer, got "${v}".`);
  return n;
};

async function convert(args: string[], io: CliIO): Promise<void> {
  const { values, positionals } = parseArgs({
    args, allowPositionals: true,
    options: { out: { type: 'string' }, dtype: { type: 'string', default: 'fp32' }, name: { type: 'string' }, prefer: { type: 'string' } },
  });
  if (positionals.length !== 1 || !values.out) throw new HpdError('INVALID_INPUT', `convert needs one checkpoint folder and --out.\n${USAGE}`);
  const dtype = checkDtype(values.dtype!);
  if (values.prefer !== undefined && values.prefer !== 'safetensors' && values.prefer !== 'pytorch') {
    throw new HpdError('INVALID_INPUT', `--prefer must be safetensors or pytorch, got "${values.prefer}".`);
  }
  const compiled = await compileCheckpoint(folderSource(positionals[0]), {
    dtype,
    ...(values.name ? { name: values.name } : {}),
    ...(values.prefer ? { prefer: values.prefer as 'safetensors' | 'pytorch' } : {}),
    onProgress: (p) => {
      const line = `compiling ${positionals[0]}: ${p.stage.padEnd(7)} ${Math.round(p.fraction * 100)}%`;
      io.err(io.tty ? `\r${line}` : `${line}\n`);
    },
  });
  if (io.tty) io.err('\n');
  const bundle = withProbes(compiled, await cpuProbes(compiled));
  await writeFolderAtomic(values.out, bundle.files);
  const m = bundle.manifest;
  const mb = (n: number) => `${(n / 1048576).toFixed(1)} MiB`;
  io.out(
    `${values.out}: ${m.name}, ${m.dim}-d, ${m.pooling} pooling, max ${m.maxTokens} tokens\n` +
      `  params ${m.params.toLocaleString('en-US')}, dtype ${m.dtype}, model.onnx ${mb(m.files.model.bytes)}, ` +
      `read ${bundle.stats.weightFiles.join(' + ')}, ${(bundle.stats.millis / 1000).toFixed(2)} s\n`,
  );
}

/** The golden probes' vectors from a CPU run of the compiled model (onnxruntime-web's wasm build in Node). */
async function cpuProbes(c: CompiledBundle): Promise<BundleProbes> {
  const ort = await import('onnxruntime-web');
  ort.env.wasm.numThreads = 1;
  const json = (name: string) => JSON.parse(new TextDecoder().decode(c.files.get(name))) as object;
  return computeProbes(ort, 'wasm', c.files.get('model.onnx')!, json('tokenizer.json'), c.files.has('tokenizer_config.json') ? json('tokenizer_config.json') : {}, c.manifest);
}

async function fixture(args: string[], io: CliIO): Promise<void> {
  const { values } = parseArgs({
    args,
    options: {
      out: { type: 'string' }, layers: { type: 'string' }, hidden: { type: 'string' }, heads: { type: 'string' },
      ffn: { type: 'string' }, dim: { type: 'string' }, vocab: { type: 'string' }, seed: { type: 'string' },
    },
  });
  if (!values.out) throw new HpdError('INVALID_INPUT', `fixture needs --out.\n${USAGE}`);
  let vocab: string[] | undefined;
  if (values.vocab) vocab = await readVocab(values.vocab);
  const files = generateFixture({
    layers: int(values.layers, 'layers', 6), hidden: int(values.hidden, 'hidden', 384), heads: int(values.heads, 'heads', 12),
    ffn: int(values.ffn, 'ffn', 1536), dim: int(values.dim, 'dim', 128), seed: int(values.seed, 'seed', 42),
    ...(vocab ? { vocab } : {}),
  });
  await writeFolderAtomic(values.out, files, 'modules.json');
  let bytes = 0;
  for (const f of files.values()) bytes += f.byteLength;
  io.out(`${values.out}: random-weight checkpoint, ${files.size} files, ${(bytes / 1048576).toFixed(1)} MiB\n`);
}

/** A vocabulary from vocab.txt or from a tokenizer.json's WordPiece model. */
async function readVocab(path: string): Promise<string[]> {
  const text = await readFile(path, 'utf8').catch((e: Error) => {
    throw new HpdError('INVALID_INPUT', `cannot read --vocab ${path}: ${e.message}`);
  });
  if (!path.endsWith('.json')) return parseVocab(text);
  const vocab = (JSON.parse(text) as { model?: { vocab?: Record<string, number> } }).model?.vocab;
  if (!vocab) throw new HpdError('INVALID_INPUT', `${path} has no model.vocab (is it a WordPiece tokenizer.json?).`);
  const list: string[] = [];
  for (const [tok, id] of Object.entries(vocab)) list[id] = tok;
  return list;
}
