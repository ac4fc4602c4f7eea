// The floor for the browser bench: raw onnxruntime-web session.run in a module worker, like the hpd-embed worker
// (ORT's threaded wasm cannot block on the page's main thread).
// The same ORT build as the hpd-embed worker (onnxruntime-web/webgpu), so the floor runs the same wasm.
import * as ort from 'onnxruntime-web/webgpu';

let session: ort.InferenceSession | null = null;

export type FloorRequest =
  | { op: 'load'; model: ArrayBuffer; threads: number; device: 'wasm' | 'webgpu' }
  | { op: 'run'; batches: { ids: BigInt64Array; mask: BigInt64Array; b: number; s: number }[] }
  | { op: 'release' };

// ORT's threaded wasm starts its pthread workers from this same bundle (named 'em-pthread'): they must keep
// emscripten's own message handler, so this one is added with addEventListener and only outside them.
const handler = async (e: MessageEvent<FloorRequest>): Promise<void> => {
  const m = e.data;
  try {
    if (m.op === 'load') {
      ort.env.wasm.numThreads = m.threads;
      session = await ort.InferenceSession.create(new Uint8Array(m.model), {
        executionProviders: [m.device],
        graphOptimizationLevel: 'all',
      });
      self.postMessage({ ok: true, ort: ort.env.versions.web });
    } else if (m.op === 'run') {
      const t = performance.now();
      for (const x of m.batches) {
        const out = await session!.run({
          input_ids: new ort.Tensor('int64', x.ids, [x.b, x.s]),
          attention_mask: new ort.Tensor('int64', x.mask, [x.b, x.s]),
        });
        out.sentence_embedding.dispose();
      }
      self.postMessage({ ok: true, ms: performance.now() - t });
    } else {
      await session?.release();
      session = null;
      self.postMessage({ ok: true });
    }
  } catch (err) {
    self.postMessage({ ok: false, message: (err as Error).message });
  }
};

if (self.name !== 'em-pthread') self.addEventListener('message', (e: MessageEvent<FloorRequest>) => void handler(e));
