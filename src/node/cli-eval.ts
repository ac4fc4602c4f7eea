// `hpd-embed eval`: STS correlation or BEIR retrieval for a bundle folder, bundle URL or Hub repo id.
import { parseArgs } from 'node:util';
import { evaluateRetrieval, evaluateSts, type EvalProgress } from '../eval/evaluate.js';
import { STS_FORMATS, type StsFormat } from '../eval/sts-data.js';
import { HpdError } from '../errors.js';
import { DEFAULT_HUB_URL, hubFileUrl, parseRepoId } from '../model/hub.js';
import type { DeviceRequest } from '../engine/device.js';
import { UsageError, type CliIO } from './cli-io.js';
import { createEmbedder } from './create-embedder.js';
import { readBeirFolder, readStsFile } from './eval-files.js';

export const EVAL_USAGE = `hpd-embed eval --model <bundle-dir|url|repo-id> (--sts <file> [--format stsb|sick|tsv] | --retrieval <beir-dir> [--split test]) [--device auto|webgpu|wasm] [--json] [--hub-timeout 15]
  Reports Spearman/Pearson ×100 on an STS file, or nDCG@10, MRR@10, recall@10/100 on a BEIR folder (f32 and int8 index).
  --json prints one object; a repo id's Hub is checked first and fails after --hub-timeout seconds.`;

/**
 * Fails fast when a repo id's Hub cannot be reached (refused, unresolvable, or silent past `seconds`), instead of
 * leaving the user waiting on the worker's first download.
 */
async function checkHubReachable(model: string, hubUrl: string, seconds: number): Promise<void> {
  const repo = parseRepoId(model);
  if (!repo) return;
  const url = hubFileUrl(hubUrl, repo, 'config.json');
  try {
    const res = await fetch(url, { method: 'HEAD', signal: AbortSignal.timeout(seconds * 1000) });
    await res.body?.cancel();
  } catch (cause) {
    const why =
      (cause as Error).name === 'TimeoutError'
        ? `no answer within ${seconds} s`
        : ((cause as { cause?: Error }).cause?.message ?? (cause as Error).message);
    throw new HpdError(
      'MODEL_FETCH_FAILED',
      `cannot reach the Hugging Face Hub for ${model} at ${hubUrl} (${why}). Check the network, pass --hub-url for a mirror, or run \`hpd-embed convert\` on a local checkpoint and pass the bundle folder.`,
      { cause },
    );
  }
}

export async function evalCommand(args: string[], io: CliIO): Promise<void> {
  const { values } = parseArgs({
    args,
    options: {
      model: { type: 'string' },
      device: { type: 'string', default: 'auto' },
      batch: { type: 'string' },
      'hub-url': { type: 'string' },
      dtype: { type: 'string' },
      sts: { type: 'string' },
      format: { type: 'string' },
      retrieval: { type: 'string' },
      split: { type: 'string', default: 'test' },
      json: { type: 'boolean', default: false },
      'hub-timeout': { type: 'string', default: '15' },
    },
  });
  if (!values.model) throw new UsageError(`eval needs --model.`);
  if (Boolean(values.sts) === Boolean(values.retrieval))
    throw new UsageError(`eval needs exactly one of --sts <file> or --retrieval <beir-dir>.`);
  if (values.format !== undefined && !(STS_FORMATS as readonly string[]).includes(values.format))
    throw new UsageError(`--format must be one of ${STS_FORMATS.join(', ')}, got "${values.format}".`);
  const hubTimeout = Number(values['hub-timeout']);
  if (!(hubTimeout > 0))
    throw new UsageError(`--hub-timeout must be a positive number of seconds, got "${values['hub-timeout']}".`);
  const batchSize = values.batch === undefined ? undefined : Number(values.batch);
  if (batchSize !== undefined && !(Number.isInteger(batchSize) && batchSize > 0))
    throw new UsageError(`--batch must be a positive integer, got "${values.batch}".`);

  // Read and check the data before loading a model, so bad input costs nothing.
  const sts = values.sts ? await readStsFile(values.sts, values.format as StsFormat | undefined) : undefined;
  const beir = values.retrieval ? await readBeirFolder(values.retrieval, values.split) : undefined;
  if (sts?.extraFieldLines.length)
    io.err(
      `${values.sts}: ${sts.extraFieldLines.length} line(s) carry extra fields after the seventh; they were ignored.\n`,
    );

  const hubUrl = values['hub-url'] ?? DEFAULT_HUB_URL;
  await checkHubReachable(values.model, hubUrl, hubTimeout);
  const e = await createEmbedder({
    model: values.model,
    device: values.device as DeviceRequest,
    ...(batchSize ? { batchSize } : {}),
    ...(values['hub-url'] ? { hubUrl } : {}),
    ...(values.dtype ? { dtype: values.dtype as 'fp32' } : {}),
  });
  try {
    const about = { model: values.model, dtype: e.info.dtype, device: e.device.actual };
    io.err(`model ${e.info.name} (${e.info.dim}-d, ${e.info.dtype}) on ${e.device.actual}\n`);
    let last = '';
    const onProgress = (p: EvalProgress) => {
      const line = `${p.stage} ${p.done}/${p.total}`;
      if (line !== last && (p.done === p.total || io.tty)) io.err(io.tty ? `\r${line}` : `${line}\n`);
      last = line;
    };
    const embed = (t: readonly string[]) => e.embed(t);
    if (sts) {
      const r = await evaluateSts(embed, sts, { onProgress });
      if (io.tty) io.err('\n');
      if (values.json)
        io.out(
          `${JSON.stringify({ task: r.task, pairs: r.pairs, spearman: r.spearman, pearson: r.pearson, ...about })}\n`,
        );
      else
        io.out(
          `STS ${values.sts} (${sts.format}): ${r.pairs} pairs, Spearman ${r.spearman.toFixed(2)}, Pearson ${r.pearson.toFixed(2)} (× 100; ${about.model}, ${about.dtype}, ${about.device})\n`,
        );
    } else {
      const r = await evaluateRetrieval(embed, beir!, { onProgress });
      if (io.tty) io.err('\n');
      if (values.json) io.out(`${JSON.stringify({ ...r, ...about })}\n`);
      else {
        io.out(
          `retrieval ${values.retrieval}: ${r.corpus} documents, ${r.queries} queries; query embedding ${r.embedMsPerQuery.toFixed(2)} ms/query (× 100 scores)\n`,
        );
        for (const s of r.results) {
          io.out(
            `  ${s.storage.padEnd(4)} nDCG@10 ${s.ndcg10.toFixed(2)}  MRR@10 ${s.mrr10.toFixed(2)}  R@10 ${s.recall10.toFixed(2)}  R@100 ${s.recall100.toFixed(2)}  index ${s.indexBytes} bytes  search p50 ${s.latencyMs.p50.toFixed(3)} ms, p95 ${s.latencyMs.p95.toFixed(3)} ms\n`,
          );
        }
      }
    }
  } finally {
    await e.dispose();
  }
}
