// `hpd-embed eval`: STS correlation or BEIR retrieval for a bundle folder, bundle URL or Hub repo id.
import { parseArgs } from 'node:util';
import { evaluateRetrieval, evaluateSts, type EvalProgress } from '../eval/evaluate.js';
import { STS_FORMATS, type StsFormat } from '../eval/sts-data.js';
import { UsageError, type CliIO } from './cli-io.js';
import { MODEL_FLAGS, RANDOM_WEIGHTS_NOTE, modelOptions, modelSettings, openEmbedder } from './cli-model.js';
import { readBeirFolder, readStsFile } from './eval-files.js';
import { readTeacherCorpus } from './teacher-vectors.js';
import { positiveInt } from './cli-runtime.js';
import type { SearchMode } from '../search/types.js';

const SEARCH_MODES: readonly SearchMode[] = ['vector', 'keyword', 'hybrid'];

export const EVAL_SUMMARY =
  'Scores a model on an STS file (Spearman, Pearson) or a BEIR folder (nDCG@10, MRR@10, recall).';

export const EVAL_USAGE = `hpd-embed eval --model <bundle-dir|url|repo-id> (--sts <file> [--format stsb|sick|tsv] | --retrieval <beir-dir> [--split test] [--mode vector|keyword|hybrid] [--teacher-corpus <vectors> [--teacher-dim D]]) [--device auto|webgpu|wasm] [--json] [--hub-timeout 15]
  Reports Spearman/Pearson ×100 on an STS file, or nDCG@10, MRR@10, recall@10/100 on a BEIR folder (f32 and int8 index).
  --mode ranks by cosine (vector, the default), BM25 over the corpus texts (keyword: nothing is embedded) or both fused by reciprocal rank (hybrid).
  --json prints one object (randomWeights: true for a random-weight fixture model, whose scores are meaningless).
  --teacher-corpus: the asymmetric setting: the corpus is one teacher vector per document, in corpus.jsonl's line order
  (.npy, or raw float32 with --teacher-dim), projected with the bundle folder's teacher projection and searched with
  the model's query embeddings (--json: teacherCorpus: true).
  ${MODEL_FLAGS}`;

export async function evalCommand(args: string[], io: CliIO): Promise<void> {
  const { values } = parseArgs({
    args,
    options: {
      ...modelOptions,
      sts: { type: 'string' },
      format: { type: 'string' },
      retrieval: { type: 'string' },
      split: { type: 'string', default: 'test' },
      mode: { type: 'string', default: 'vector' },
      json: { type: 'boolean', default: false },
      'teacher-corpus': { type: 'string' },
      'teacher-dim': { type: 'string' },
    },
  });
  if (!values.model) throw new UsageError(`eval needs --model.`);
  if (Boolean(values.sts) === Boolean(values.retrieval))
    throw new UsageError(`eval needs exactly one of --sts <file> or --retrieval <beir-dir>.`);
  if (values.format !== undefined && !(STS_FORMATS as readonly string[]).includes(values.format))
    throw new UsageError(`--format must be one of ${STS_FORMATS.join(', ')}, got "${values.format}".`);
  if (values['teacher-corpus'] !== undefined && !values.retrieval)
    throw new UsageError(`--teacher-corpus goes with --retrieval <beir-dir>.`);
  if (values['teacher-dim'] !== undefined && values['teacher-corpus'] === undefined)
    throw new UsageError(`--teacher-dim goes with --teacher-corpus.`);
  const teacherDim =
    values['teacher-dim'] === undefined ? undefined : positiveInt(values['teacher-dim'], 'teacher-dim');
  const mode = values.mode as SearchMode;
  if (!SEARCH_MODES.includes(mode))
    throw new UsageError(`--mode must be one of ${SEARCH_MODES.join(', ')}, got "${values.mode}".`);
  if (values.sts && values.mode !== 'vector') throw new UsageError(`--mode applies to --retrieval only.`);
  if (values['teacher-corpus'] !== undefined && mode === 'keyword')
    throw new UsageError(`--teacher-corpus scores vectors; it does not go with --mode keyword.`);
  const settings = modelSettings(values);

  // Read and check the data before loading a model, so bad input costs nothing.
  const sts = values.sts ? await readStsFile(values.sts, values.format as StsFormat | undefined) : undefined;
  const beir = values.retrieval ? await readBeirFolder(values.retrieval, values.split) : undefined;
  const teacherCorpus =
    beir && values['teacher-corpus'] !== undefined
      ? await readTeacherCorpus(values.model, values['teacher-corpus'], teacherDim, beir.corpusIds.length)
      : undefined;
  if (sts?.extraFieldLines.length)
    io.err(
      `${values.sts}: ${sts.extraFieldLines.length} line(s) carry extra fields after the seventh; they were ignored.\n`,
    );

  const e = await openEmbedder(settings, io);
  try {
    const about = {
      model: values.model,
      dtype: e.info.dtype,
      device: e.device.actual,
      randomWeights: e.info.randomWeights,
    };
    const random = about.randomWeights ? `; ${RANDOM_WEIGHTS_NOTE.toUpperCase()}` : '';
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
          `STS ${values.sts} (${sts.format}): ${r.pairs} pairs, Spearman ${r.spearman.toFixed(2)}, Pearson ${r.pearson.toFixed(2)} (× 100; ${about.model}, ${about.dtype}, ${about.device}${random})\n`,
        );
    } else {
      const r = await evaluateRetrieval(embed, beir!, {
        onProgress,
        mode,
        ...(teacherCorpus ? { corpusVectors: teacherCorpus } : {}),
      });
      if (io.tty) io.err('\n');
      if (values.json) io.out(`${JSON.stringify({ ...r, teacherCorpus: Boolean(teacherCorpus), ...about })}\n`);
      else {
        const teacher = teacherCorpus ? ` (teacher corpus ${values['teacher-corpus']}, projected)` : '';
        io.out(
          `retrieval ${values.retrieval}${teacher} (${mode}): ${r.corpus} documents, ${r.queries} queries; query embedding ${r.embedMsPerQuery.toFixed(2)} ms/query (× 100 scores${random})\n`,
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
