export { compileCheckpoint, type CompileOptions, type CompiledBundle, type CompileProgress, type CompileStage } from './compile.js';
export { BUNDLE_FORMAT, MANIFEST_FILE, type BundleFile, type BundleManifest } from './manifest.js';
export { memorySource, type FileSource, type InMemoryFile } from './source.js';
export { WEIGHT_DTYPES, type WeightDtype } from './weight-dtype.js';
export { generateFixture, generatedVocab, HPD_MINILM_F128, type FixtureOptions } from './fixture.js';
export { parseVocab, wordpieceTokenizerJson } from './wordpiece-tokenizer.js';
export { sha256Hex } from './sha256.js';
export type { PoolingMode } from './st-layout.js';
export type { WeightFormat } from './weights.js';
