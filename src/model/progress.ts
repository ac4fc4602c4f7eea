import type { CompileStage } from '../convert/compile.js';

/** What `onProgress` receives while a model loads: downloads, then compile (checkpoints only), then the session. */
export type LoadProgress =
  | {
      stage: 'download';
      file: string;
      loaded: number;
      total: number | undefined;
      /** Across all files of this load; total is undefined until every file's size is known. */
      aggregate: { loaded: number; total: number | undefined };
      fromCache: boolean;
    }
  | { stage: 'compile'; step: CompileStage; fraction: number }
  | { stage: 'session'; device: 'webgpu' | 'wasm' | 'cpu' }
  /** Caching is best effort: a write that failed (full or read-only disk, quota) or a read that failed (then a miss) is reported here and the load goes on. */
  | { stage: 'cache'; ok: false; key: string; reason: string }
  | { stage: 'ready' };

/** Tracks per-file bytes and reports aggregate progress. */
export class DownloadTracker {
  private files = new Map<string, { loaded: number; total: number | undefined }>();
  constructor(
    private emit: ((p: LoadProgress) => void) | undefined,
    private expectedFiles?: Map<string, number>,
  ) {}

  update(file: string, loaded: number, total: number | undefined, fromCache = false): void {
    this.files.set(file, { loaded, total: total ?? this.expectedFiles?.get(file) });
    if (!this.emit) return;
    let aggLoaded = 0;
    let aggTotal: number | undefined = 0;
    const names = new Set([...this.files.keys(), ...(this.expectedFiles?.keys() ?? [])]);
    for (const name of names) {
      const f = this.files.get(name);
      aggLoaded += f?.loaded ?? 0;
      const t = f?.total ?? this.expectedFiles?.get(name);
      aggTotal = aggTotal === undefined || t === undefined ? undefined : aggTotal + t;
    }
    this.emit({
      stage: 'download',
      file,
      loaded,
      total: this.files.get(file)!.total,
      aggregate: { loaded: aggLoaded, total: aggTotal },
      fromCache,
    });
  }
}
