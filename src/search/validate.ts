// Input checks shared by the index's methods: ids, vector batches, queries, k and search options. Each throws a
// typed error before anything is written, so bad input changes nothing.
import { DimMismatchError, DuplicateIdError, InvalidInputError } from './errors.js';
import { isWellFormedString } from './json-value.js';
import { MAX_INDEX_DIM } from './serialize.js';
import type { CosineIndexOptions, Int8Rescore, JsonValue, SearchOptions, StorageKind, VectorBatch } from './types.js';

/** Checks `new CosineIndex` options and fills in the defaults. */
export function checkIndexOptions(options: CosineIndexOptions): {
  dim: number;
  storage: StorageKind;
  rescore: Int8Rescore;
  capacity: number;
} {
  if (options === null || typeof options !== 'object')
    throw new InvalidInputError('CosineIndex needs an options object: new CosineIndex({ dim: 128, storage: "f32" }).');
  const { dim, storage = 'f32', capacity = 0, rescore = storage === 'f32' ? 'f32' : 'residual' } = options;
  if (!Number.isInteger(dim) || dim <= 0 || dim > MAX_INDEX_DIM)
    throw new InvalidInputError(`dim must be an integer from 1 to ${MAX_INDEX_DIM}, got ${String(dim)}.`);
  if (storage !== 'f32' && storage !== 'int8')
    throw new InvalidInputError(`storage must be 'f32' or 'int8', got ${String(storage)}.`);
  if (rescore !== 'f32' && rescore !== 'dequantized' && rescore !== 'residual')
    throw new InvalidInputError(`rescore must be 'residual', 'dequantized' or 'f32', got ${String(rescore)}.`);
  if (storage === 'f32' && rescore !== 'f32')
    throw new InvalidInputError(`rescore: '${rescore}' applies to int8 storage only; f32 storage is always exact.`);
  if (!Number.isInteger(capacity) || capacity < 0)
    throw new InvalidInputError(`capacity must be a non-negative integer, got ${String(capacity)}.`);
  return { dim, storage, rescore, capacity };
}

/**
 * Validates one vector (finite numbers, a norm that neither underflows to 0 nor overflows) and writes its unit-length
 * form to `out`; `add` and `search` share it, so a vector is accepted by both or refused by both.
 */
function unitInto(
  src: ArrayLike<number>,
  off: number,
  dim: number,
  out: Float32Array | Float64Array,
  outOff: number,
  what: string,
): void {
  let norm2 = 0;
  for (let j = 0; j < dim; j++) {
    const v = src[off + j];
    if (typeof v !== 'number' || !Number.isFinite(v))
      throw new InvalidInputError(`${what} has ${String(v)} at position ${j}; vectors must hold finite numbers.`);
    norm2 += v * v;
  }
  if (!(norm2 > 0) || !Number.isFinite(norm2))
    throw new InvalidInputError(
      `${what} is the zero vector (or its norm under/overflows); cosine similarity is undefined for it.`,
    );
  const inv = 1 / Math.sqrt(norm2);
  for (let j = 0; j < dim; j++) out[outOff + j] = src[off + j] * inv;
}

/** Checks the ids of an add/upsert batch: strings, well-formed, each once. */
export function checkBatchIds(ids: readonly string[], op: string): void {
  if (!Array.isArray(ids)) throw new InvalidInputError(`${op} expects an array of string ids as its first argument.`);
  const seen = new Set<string>();
  for (let i = 0; i < ids.length; i++) {
    const id: unknown = ids[i];
    if (typeof id !== 'string') throw new InvalidInputError(`ids[${i}] is a ${typeof id}; ids must be strings.`);
    // A lone surrogate cannot be stored as UTF-8: it would load back as U+FFFD, so a saved index would not load.
    if (!isWellFormedString(id))
      throw new InvalidInputError(`ids[${i}] contains a lone UTF-16 surrogate; ids must be well-formed strings.`);
    if (seen.has(id))
      throw new DuplicateIdError(id, `id "${id}" occurs more than once in this ${op}() batch; pass each id once.`);
    seen.add(id);
  }
}

/** Checks the ids `remove` gets: an array of strings. */
export function checkRemoveIds(ids: readonly string[]): void {
  if (!Array.isArray(ids)) throw new InvalidInputError('remove expects an array of string ids.');
  for (let i = 0; i < ids.length; i++) {
    if (typeof ids[i] !== 'string')
      throw new InvalidInputError(`ids[${i}] is a ${typeof ids[i]}; ids must be strings.`);
  }
}

/** Number of vectors in a batch, checking its shape against dim. */
export function batchLength(vectors: VectorBatch, dim: number, what: string): number {
  if (Array.isArray(vectors)) return vectors.length;
  if (vectors instanceof Float32Array || vectors instanceof Float64Array) {
    if (vectors.length % dim !== 0)
      throw new DimMismatchError(
        dim,
        vectors.length % dim,
        `the flat ${what} array (length ${vectors.length}, not a multiple of ${dim}) ends in a row that`,
      );
    return vectors.length / dim;
  }
  throw new InvalidInputError(
    `${what} must be a Float32Array/Float64Array of count × ${dim} values or an array of vectors.`,
  );
}

/** Row `i` of a batch whose shape `batchLength` has checked: the array and the offset its values start at. */
function batchRow(
  vectors: VectorBatch,
  i: number,
  dim: number,
  what: string,
  dimWhat: string,
): { src: ArrayLike<number>; off: number } {
  if (!Array.isArray(vectors)) return { src: vectors as Float32Array | Float64Array, off: i * dim };
  const src = (vectors as readonly ArrayLike<number>[])[i];
  if (src === null || typeof src !== 'object' || typeof src.length !== 'number')
    throw new InvalidInputError(`${what} must be a Float32Array or an array of numbers.`);
  if (src.length !== dim) throw new DimMismatchError(dim, src.length, dimWhat);
  return { src, off: 0 };
}

/** Validates the vectors of an add/upsert batch (one per id) and returns their unit-length forms, flat. */
export function unitRows(vectors: VectorBatch, ids: readonly string[], dim: number): Float32Array {
  const n = ids.length;
  const flat = new Float32Array(n * dim);
  for (let i = 0; i < n; i++) {
    const { src, off } = batchRow(vectors, i, dim, `vectors[${i}]`, `vectors[${i}] (id "${ids[i]}")`);
    unitInto(src, off, dim, flat, i * dim, `vector ${i} (id "${ids[i]}")`);
  }
  return flat;
}

/** Validates `n` queries and writes their unit-length forms into `out` (n × dim). */
export function unitQueries(queries: VectorBatch, n: number, dim: number, out: Float64Array): void {
  for (let i = 0; i < n; i++) {
    const { src, off } = batchRow(queries, i, dim, `queries[${i}]`, `queries[${i}]`);
    unitInto(src, off, dim, out, i * dim, `queries[${i}]`);
  }
}

/** Validates one query and writes its unit-length form into `out`. */
export function unitQuery(query: ArrayLike<number>, dim: number, out: Float64Array): void {
  if (query === null || typeof query !== 'object' || typeof query.length !== 'number')
    throw new InvalidInputError('query must be a Float32Array or an array of numbers.');
  if (query.length !== dim) throw new DimMismatchError(dim, query.length, 'query');
  unitInto(query, 0, dim, out, 0, 'query');
}

export function checkK(k: number): void {
  if (typeof k !== 'number' || !Number.isInteger(k) || k <= 0)
    throw new InvalidInputError(`k must be a positive integer, got ${String(k)}.`);
}

/** Checks search options; returns minScore as the floor scores must reach. */
export function checkOptions<M extends JsonValue>(
  options: SearchOptions<M>,
): { filter: SearchOptions<M>['filter']; where: [string, string | undefined][] | undefined; floor: number } {
  if (options === null || typeof options !== 'object')
    throw new InvalidInputError('search options must be an object: { minScore?, where?, withMetadata?, filter? }.');
  const { filter, minScore, where, withMetadata } = options;
  if (filter !== undefined && typeof filter !== 'function')
    throw new InvalidInputError('filter must be a function (id, metadata) => boolean.');
  if (minScore !== undefined && (typeof minScore !== 'number' || Number.isNaN(minScore)))
    throw new InvalidInputError(`minScore must be a number, got ${String(minScore)}.`);
  if (where !== undefined && (where === null || typeof where !== 'object' || Array.isArray(where)))
    throw new InvalidInputError('where must be an object of top-level metadata values, e.g. { lang: "en" }.');
  if (withMetadata !== undefined && typeof withMetadata !== 'boolean')
    throw new InvalidInputError(`withMetadata must be true or false, got ${String(withMetadata)}.`);
  // The wanted values as JSON once per search, so a candidate row costs one stringify per key.
  const pairs = where && Object.entries(where).map(([k, v]): [string, string | undefined] => [k, JSON.stringify(v)]);
  return { filter, where: pairs, floor: minScore ?? -Infinity };
}
