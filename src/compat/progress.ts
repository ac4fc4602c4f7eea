// createEmbedder's onProgress → transformers.js' progress_callback events, at most one 'progress' per file per 100 ms.
import type { LoadProgress } from '../model/progress.js';

/** transformers.js' ProgressInfo shapes that this adapter sends. */
export type CompatProgress =
  | { status: 'initiate'; name: string; file: string }
  | { status: 'progress'; name: string; file: string; progress: number; loaded: number; total: number }
  | { status: 'done'; name: string; file: string }
  | { status: 'ready'; task: string; model: string };

const PROGRESS_INTERVAL_MS = 100;

/**
 * An onProgress that forwards downloads to `callback`: 'initiate' and 'done' once per file, 'progress' at most once per
 * file per PROGRESS_INTERVAL_MS (a load reports every chunk: hundreds of events per file). Compile and session stages
 * have no transformers.js event; 'ready' comes from the pipeline once the model is usable.
 */
export function progressForwarder(
  callback: (p: CompatProgress) => void,
  name: string,
  now: () => number = () => performance.now(),
): (p: LoadProgress) => void {
  const files = new Map<string, { last: number; done: boolean }>();
  return (p) => {
    if (p.stage !== 'download') return;
    const { file, loaded } = p;
    const total = p.total ?? 0;
    let f = files.get(file);
    if (!f) {
      f = { last: -Infinity, done: false };
      files.set(file, f);
      callback({ status: 'initiate', name, file });
    }
    if (f.done) return;
    const t = now();
    if (t - f.last >= PROGRESS_INTERVAL_MS) {
      f.last = t;
      callback({ status: 'progress', name, file, progress: total > 0 ? (loaded / total) * 100 : 0, loaded, total });
    }
    if (total > 0 && loaded >= total) {
      f.done = true;
      callback({ status: 'done', name, file });
    }
  };
}
