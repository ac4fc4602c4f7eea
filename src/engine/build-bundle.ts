// The one way a checkpoint becomes a bundle (engine, CLI convert, models fetch, demo stand-in): compile, then record
// golden probes from a CPU run, so every written or cached bundle can be checked on WebGPU.
import { parseJsonBytes } from '../bundle/json.js';
import type { FileSource } from '../bundle/source.js';
import type { CompiledBundle, CompileOptions } from '../convert/compile.js';
import { computeProbes, withProbes } from './golden.js';
import type { Ort } from './ort-types.js';

/** The CPU runtime that computes the probes' reference vectors: onnxruntime-web's wasm, or onnxruntime-node's cpu. */
export interface ProbeRuntime {
  ort: Ort;
  ep: 'wasm' | 'cpu';
}

export interface BuildOptions extends CompileOptions {
  /** Required: a bundle without probes is never golden-checked on WebGPU. */
  probes: ProbeRuntime;
}

/** Compiles a sentence-transformers checkpoint and adds golden probes to its hpd.json. */
export async function buildBundle(source: FileSource, options: BuildOptions): Promise<CompiledBundle> {
  const { probes, ...compileOptions } = options;
  // The compiler is loaded only when a checkpoint must be compiled, so a compiled bundle never pays for it.
  const { compileCheckpoint } = await import('../convert/compile.js');
  const c = await compileCheckpoint(source, compileOptions);
  const json = (name: string) => parseJsonBytes<object>(c.files.get(name)!, `compiled ${name}`, 'MODEL_INVALID');
  return withProbes(
    c,
    await computeProbes(
      probes.ort,
      probes.ep,
      c.files.get('model.onnx')!,
      json('tokenizer.json'),
      c.files.has('tokenizer_config.json') ? json('tokenizer_config.json') : {},
      c.manifest,
    ),
  );
}
