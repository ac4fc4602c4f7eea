export {
  compileCheckpoint,
  type CompileOptions,
  type CompiledBundle,
  type CompileProgress,
  type CompileStage,
} from './compile.js';
export {
  BUNDLE_FORMAT,
  MANIFEST_FILE,
  WEIGHT_DTYPES,
  type BundleFile,
  type BundleManifest,
  type WeightDtype,
} from '../bundle/manifest.js';
export { memorySource, type FileSource, type InMemoryFile } from '../bundle/source.js';
export { generateFixture, generatedVocab, HPD_MINILM_F128, type FixtureOptions } from './fixture.js';
export { parseVocab, wordpieceTokenizerJson } from './wordpiece-tokenizer.js';
export { sha256Hex } from '../bundle/sha256.js';
export type { PoolingMode } from './st-layout.js';
export type { WeightFormat } from './weights.js';
