import { BUNDLE_FORMAT, type BundleManifest } from '../convert/manifest.js';
import { HpdError } from '../errors.js';

export { BUNDLE_FORMAT, MANIFEST_FILE, type BundleFile, type BundleManifest } from '../convert/manifest.js';

/** Parses and checks hpd.json; anything the engine relies on must be present and sane. */
export function parseManifest(bytes: Uint8Array, where: string): BundleManifest {
  let m: Partial<BundleManifest>;
  try {
    m = JSON.parse(new TextDecoder().decode(bytes)) as Partial<BundleManifest>;
  } catch {
    throw new HpdError('MODEL_INVALID', `${where} is not valid JSON.`);
  }
  const bad = (why: string) => new HpdError('MODEL_INVALID', `${where}: ${why}`);
  if (m.format !== BUNDLE_FORMAT) throw bad(`format is ${JSON.stringify(m.format)}, expected "${BUNDLE_FORMAT}" (re-compile the bundle with this version).`);
  if (!(Number.isInteger(m.dim) && m.dim! > 0)) throw bad('dim must be a positive integer.');
  if (!(Number.isInteger(m.maxTokens) && m.maxTokens! >= 2)) throw bad('maxTokens must be an integer ≥ 2.');
  for (const key of ['model', 'tokenizer'] as const) {
    const f = m.files?.[key];
    if (!f || typeof f.path !== 'string' || !/^[0-9a-f]{64}$/.test(f.sha256) || !(f.bytes >= 0)) throw bad(`files.${key} needs path, bytes and sha256.`);
  }
  return m as BundleManifest;
}
