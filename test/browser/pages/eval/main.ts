// The evaluation in a page: the same evaluateSts / evaluateRetrieval the CLI uses, over a worker-backed Embedder.
import { createEmbedder } from '../../../../src/index.js';
import {
  evaluateRetrieval,
  evaluateSts,
  parseBeir,
  parseSts,
  type RetrievalResult,
  type StsFormat,
  type StsResult,
} from '../../../../src/eval/index.js';

export interface EvalRunOptions {
  model: string;
  device: 'webgpu' | 'wasm';
  sts?: { text: string; format: StsFormat };
  beir?: { corpus: string; queries: string; qrels: string };
  /** Also return these texts' vectors (for parity checks). */
  texts?: string[];
}

export interface EvalRunResult {
  device: string;
  sts?: StsResult;
  retrieval?: RetrievalResult;
  vectors?: number[];
}

export type Outcome<T> = { ok: true; value: T } | { ok: false; code: string; message: string };

const api = {
  run: async (o: EvalRunOptions): Promise<Outcome<EvalRunResult>> => {
    try {
      const e = await createEmbedder({ model: o.model, device: o.device });
      try {
        const embed = (t: readonly string[]) => e.embed(t);
        const out: EvalRunResult = { device: e.device.actual };
        if (o.sts) out.sts = await evaluateSts(embed, parseSts(o.sts.text, o.sts.format));
        if (o.beir) out.retrieval = await evaluateRetrieval(embed, parseBeir(o.beir));
        if (o.texts) out.vectors = Array.from(await e.embed(o.texts));
        return { ok: true, value: out };
      } finally {
        await e.dispose();
      }
    } catch (err) {
      return { ok: false, code: (err as { code?: string }).code ?? 'UNTYPED', message: (err as Error).message };
    }
  },
};

declare global {
  interface Window {
    hpdEval: typeof api;
  }
}
window.hpdEval = api;
document.getElementById('status')!.textContent = 'ready';
