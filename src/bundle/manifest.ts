// The compiled-bundle format (hpd.json): a leaf module shared by the compiler and the runtime, so runtime code never imports the compiler.
import { ConvertError, HpdError } from '../errors.js';
import { parseJsonBytes } from './json.js';
import { unsafePathReason } from './path.js';

export const BUNDLE_FORMAT = 'hpd-embed/1';
export const MANIFEST_FILE = 'hpd.json';

// 'q8': int8 weights AND int8 compute (dynamically quantised MatMuls) on the CPU EPs; never on WebGPU.
export const WEIGHT_DTYPES = ['fp32', 'fp16', 'int8', 'q8'] as const;
export type WeightDtype = (typeof WEIGHT_DTYPES)[number];

export type PoolingMode = 'cls' | 'max' | 'mean' | 'mean_sqrt_len';

export function checkDtype(d: string): WeightDtype {
  if (!(WEIGHT_DTYPES as readonly string[]).includes(d)) {
    throw new ConvertError(
      'UNSUPPORTED_DTYPE',
      `dtype "${d}" is not supported; use one of ${WEIGHT_DTYPES.join(', ')}.`,
    );
  }
  return d as WeightDtype;
}

export interface BundleFile {
  path: string;
  bytes: number;
  sha256: string;
}

/** hpd.json: everything the engine needs to run a compiled model and nothing it can derive. */
export interface BundleManifest {
  format: typeof BUNDLE_FORMAT;
  name: string;
  source?: { repo: string; revision: string };
  dim: number;
  maxTokens: number;
  pooling: PoolingMode | PoolingMode[];
  normalized: true;
  dtype: WeightDtype;
  /** Weights are stored in `dtype` but computed in f32, so no adapter feature (e.g. `shader-f16`) is needed. */
  compute: { precision: 'fp32'; requiresShaderF16: boolean };
  params: number;
  files: { model: BundleFile; tokenizer: BundleFile; tokenizerConfig?: BundleFile };
  /** Present when the model is a distilled (HPD) student: the PCA its outputs were trained against (see projectTeacher). */
  teacherProjection?: TeacherProjectionInfo;
  /** True when the weights are random (compiled from a `hpd-embed fixture` checkpoint): speed is real, rankings are meaningless. */
  randomWeights?: boolean;
  /** Golden check: fixed sentences and their vectors from a CPU run at compile time; each device is checked against them. */
  probes?: BundleProbes;
}

/** hpd.json's record of a student's teacher projection; `file` holds the d × D components then the D-value mean (f32 LE). */
export interface TeacherProjectionInfo {
  file: BundleFile;
  teacherDim: number;
  dim: number;
  center: boolean;
  /** The PCA was fitted on L2-normalised teacher vectors: projectTeacher normalises each row first (absent = false). */
  normalizeInput?: boolean;
  teacher?: string;
}

export interface BundleProbes {
  texts: string[];
  /** One `dim`-long vector per text. */
  vectors: number[][];
  /** The CPU execution provider that computed them. */
  ep: 'wasm' | 'cpu';
}

/** Parses and checks hpd.json; anything the engine relies on must be present and sane. */
export function parseManifest(bytes: Uint8Array, where: string): BundleManifest {
  const m = parseJsonBytes<Partial<BundleManifest> | null>(bytes, where, 'MODEL_INVALID');
  const bad = (why: string) => new HpdError('MODEL_INVALID', `${where}: ${why}`);
  if (!m || typeof m !== 'object') throw bad('expected a JSON object.');
  if (m.format !== BUNDLE_FORMAT)
    throw bad(
      `format is ${JSON.stringify(m.format)}, expected "${BUNDLE_FORMAT}" (re-compile the bundle with this version).`,
    );
  if (!(Number.isInteger(m.dim) && m.dim! > 0)) throw bad('dim must be a positive integer.');
  if (!(Number.isInteger(m.maxTokens) && m.maxTokens! >= 2)) throw bad('maxTokens must be an integer ≥ 2.');
  for (const key of ['model', 'tokenizer', 'tokenizerConfig'] as const) {
    const f = m.files?.[key];
    if (key === 'tokenizerConfig' && f === undefined) continue;
    if (
      !f ||
      typeof f.path !== 'string' ||
      !/^[0-9a-f]{64}$/.test(f.sha256) ||
      !(Number.isSafeInteger(f.bytes) && f.bytes >= 0)
    )
      throw bad(`files.${key} needs path, bytes and sha256.`);
    const unsafe = unsafePathReason(f.path);
    if (unsafe)
      throw bad(
        `files.${key}.path ${JSON.stringify(f.path)} is refused: ${unsafe}; bundle paths must be relative and stay inside the bundle folder.`,
      );
  }
  if (m.randomWeights !== undefined && typeof m.randomWeights !== 'boolean')
    throw bad('randomWeights must be true or false.');
  const tp = m.teacherProjection;
  if (tp !== undefined) {
    const f = tp?.file;
    if (
      !f ||
      typeof f.path !== 'string' ||
      !/^[0-9a-f]{64}$/.test(f.sha256) ||
      !(Number.isSafeInteger(f.bytes) && f.bytes >= 0)
    )
      throw bad('teacherProjection.file needs path, bytes and sha256.');
    const unsafe = unsafePathReason(f.path);
    if (unsafe)
      throw bad(
        `teacherProjection.file.path ${JSON.stringify(f.path)} is refused: ${unsafe}; bundle paths must be relative and stay inside the bundle folder.`,
      );
    if (tp.normalizeInput !== undefined && typeof tp.normalizeInput !== 'boolean')
      throw bad('teacherProjection.normalizeInput must be true or false.');
  }
  const p = m.probes;
  if (
    p !== undefined &&
    !(
      p &&
      Array.isArray(p.texts) &&
      Array.isArray(p.vectors) &&
      p.texts.length === p.vectors.length &&
      p.texts.every((t) => typeof t === 'string') &&
      p.vectors.every((v) => Array.isArray(v) && v.length === m.dim && v.every((x) => typeof x === 'number'))
    )
  ) {
    throw bad(`probes must hold texts and one ${m.dim}-long vector per text.`);
  }
  return m as BundleManifest;
}
