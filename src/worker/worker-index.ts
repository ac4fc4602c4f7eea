import type { CosineIndex } from '../search/cosine-index.js';
import type { JsonValue, StorageKind } from '../search/types.js';
import { DimMismatchError, InvalidInputError } from '../errors.js';
import type { IndexApi, IndexHit, IndexSearchOptions, IndexStats, Metadata } from '../protocol/messages.js';
import { checkStorage } from '../protocol/validate.js';

/** What a WorkerIndex needs from the worker: the index slot by name, the search module, and the model. */
export interface IndexHost {
  /** The in-memory index `name` (created empty with `storage` when absent, e.g. after drop()). */
  slot(name: string, storage: StorageKind): Promise<CosineIndex>;
  replace(name: string, index: CosineIndex): void;
  drop(name: string): boolean;
  searchModule(): Promise<typeof import('../search/cosine-index.js')>;
  embed(texts: string[]): Promise<Float32Array>;
  modelDim(): number | undefined;
  save(name: string, bytes: ArrayBuffer): Promise<void>;
  loadBytes(name: string): Promise<ArrayBuffer | undefined>;
  deleteSaved(name: string): Promise<boolean>;
}

/**
 * One named index as the page sees it (handed out as a comlink proxy). It holds no CosineIndex itself: it reads the
 * worker's slot on each call, so rebuild(), load() and drop() through any handle are seen by all handles.
 */
export class WorkerIndex implements IndexApi {
  constructor(
    private host: IndexHost,
    readonly name: string,
    private storage: StorageKind,
  ) {}

  private index(): Promise<CosineIndex> {
    return this.host.slot(this.name, this.storage);
  }

  async addTexts(ids: readonly string[], texts: readonly string[], metadata?: Metadata): Promise<IndexStats> {
    return this.putTexts(ids, texts, metadata, false);
  }

  async upsertTexts(ids: readonly string[], texts: readonly string[], metadata?: Metadata): Promise<IndexStats> {
    return this.putTexts(ids, texts, metadata, true);
  }

  async addVectors(ids: readonly string[], vectors: Float32Array, metadata?: Metadata): Promise<IndexStats> {
    (await this.index()).add(ids, vectors, metadata);
    return this.stats();
  }

  async upsertVectors(ids: readonly string[], vectors: Float32Array, metadata?: Metadata): Promise<IndexStats> {
    (await this.index()).upsert(ids, vectors, metadata);
    return this.stats();
  }

  async search(query: string | Float32Array, k: number, options: IndexSearchOptions = {}): Promise<IndexHit[]> {
    const vector = typeof query === 'string' ? await this.host.embed([query]) : query;
    const idx = await this.index(); // after the embed: a rebuild or load meanwhile replaced the instance
    const where = options.where;
    const filter = where ? (_: string, meta: JsonValue | undefined) => matches(meta, where) : undefined;
    const hits: IndexHit[] = idx.search(vector, k, {
      ...(options.minScore !== undefined ? { minScore: options.minScore } : {}),
      ...(filter ? { filter } : {}),
    });
    if (options.withMetadata) for (const h of hits) h.metadata = idx.get(h.id)?.metadata;
    return hits;
  }

  async remove(ids: readonly string[]): Promise<number> {
    return (await this.index()).remove(ids);
  }

  async has(id: string): Promise<boolean> {
    return (await this.index()).has(id);
  }

  async ids(): Promise<string[]> {
    return (await this.index()).ids();
  }

  async metadata(id: string): Promise<JsonValue | undefined> {
    return (await this.index()).get(id)?.metadata;
  }

  async stats(): Promise<IndexStats> {
    const idx = await this.index();
    return { name: this.name, size: idx.size, storage: idx.storage, bytes: idx.byteLength };
  }

  /**
   * Rebuilds the index with another storage from its stored vectors, without the model (int8 → f32 starts from the
   * dequantised vectors, within ~1e-5 of the originals). The old index is replaced only once the new one is complete.
   */
  async rebuild(storage: StorageKind): Promise<IndexStats> {
    checkStorage(storage);
    const old = await this.index();
    if (old.storage === storage) return this.stats();
    const { CosineIndex } = await this.host.searchModule();
    const next = new CosineIndex({ dim: old.dim, storage, capacity: Math.max(1, old.size) });
    const ids = old.ids();
    const CHUNK = 1024;
    const vectors = new Float32Array(Math.min(CHUNK, ids.length) * old.dim);
    for (let i = 0; i < ids.length; i += CHUNK) {
      const part = ids.slice(i, i + CHUNK);
      const meta: (JsonValue | undefined)[] = new Array<JsonValue | undefined>(part.length);
      part.forEach((id, j) => {
        const e = old.get(id)!;
        vectors.set(e.vector, j * old.dim);
        meta[j] = e.metadata;
      });
      next.add(
        part,
        part.length * old.dim === vectors.length ? vectors : vectors.subarray(0, part.length * old.dim),
        meta,
      );
    }
    this.host.replace(this.name, next);
    return this.stats();
  }

  async deleteSaved(): Promise<boolean> {
    return this.host.deleteSaved(this.name);
  }

  async save(): Promise<IndexStats> {
    // Snapshot before the next await, so overlapping saves and mutations apply in call order; the store serialises the writes.
    const bytes = (await this.index()).serialize();
    await this.host.save(this.name, bytes);
    return this.stats();
  }

  async load(): Promise<boolean> {
    const bytes = await this.host.loadBytes(this.name);
    if (!bytes) return false;
    const { CosineIndex } = await this.host.searchModule();
    const loaded = CosineIndex.deserialize(bytes);
    const dim = this.host.modelDim();
    if (dim !== undefined && loaded.dim !== dim) {
      throw new DimMismatchError(dim, loaded.dim, 'saved index', {
        message: `saved index "${this.name}" holds ${loaded.dim}-d vectors but the model gives ${dim}-d.`,
      });
    }
    this.host.replace(this.name, loaded);
    return true;
  }

  async drop(): Promise<boolean> {
    return this.host.drop(this.name);
  }

  private async putTexts(
    ids: readonly string[],
    texts: readonly string[],
    metadata: Metadata | undefined,
    upsert: boolean,
  ): Promise<IndexStats> {
    if (!Array.isArray(ids) || !Array.isArray(texts) || ids.length !== texts.length) {
      throw new InvalidInputError(
        `${upsert ? 'upsertTexts' : 'addTexts'} needs as many ids as texts (got ${Array.isArray(ids) ? ids.length : typeof ids} ids, ${Array.isArray(texts) ? texts.length : typeof texts} texts).`,
      );
    }
    // The index's own checks (ids, duplicates, metadata), once before the embed so a bad batch costs no inference, and
    // again atomically by add()/upsert() after it (the index may have changed meanwhile): one rule, in one place.
    (await this.index()).checkBatch(ids, metadata, upsert ? 'upsert' : 'add');
    const vectors = await this.host.embed(texts as string[]);
    const idx = await this.index();
    if (upsert) idx.upsert(ids, vectors, metadata);
    else idx.add(ids, vectors, metadata);
    return this.stats();
  }
}

function matches(meta: JsonValue | undefined, where: Record<string, JsonValue>): boolean {
  if (meta === null || typeof meta !== 'object' || Array.isArray(meta)) return false;
  for (const [k, v] of Object.entries(where)) {
    if (JSON.stringify(meta[k]) !== JSON.stringify(v)) return false;
  }
  return true;
}
