// A bundle can pass its checksums (hpd.json re-signed) and still hold a model the engine cannot run: these checks turn
// that into MODEL_INVALID before the first run, instead of onnxruntime's untyped errors at creation or at run time.
import type { BundleManifest } from '../bundle/manifest.js';
import { HpdError } from '../errors.js';
import { readOnnxInfo } from './onnx-info.js';
import type { OrtSession } from './ort-types.js';

const MODEL_INPUTS = ['input_ids', 'attention_mask'] as const;
export const MODEL_OUTPUT = 'sentence_embedding';
/** A lookup table's initializer names, per weight dtype (src/convert/weight-dtype.ts names them). */
const tableNames = (name: string) => [name, `${name}_fp16`, `${name}_int8`];

const RECOMPILE = 're-compile the bundle (hpd-embed convert) or fetch it again';

const invalid = (message: string, cause?: unknown) =>
  new HpdError('MODEL_INVALID', message, cause === undefined ? undefined : { cause });

/**
 * Checks model.onnx's graph against hpd.json: input and output names, the output dim, positions ≥ maxTokens, and (given
 * tokenizer.json) a word-table row for every token id (WebGPU's Gather does not check its indices).
 */
export function checkModelBytes(model: Uint8Array, m: BundleManifest, tokenizerJson?: object): void {
  const info = readOnnxInfo(model);
  const inputs = info.inputs.map((v) => v.name);
  for (const name of MODEL_INPUTS)
    if (!inputs.includes(name))
      throw invalid(
        `model.onnx has no input "${name}" (its inputs: ${JSON.stringify(inputs)}); hpd-embed models take ${MODEL_INPUTS.join(' and ')}: ${RECOMPILE}.`,
      );
  const out = info.outputs.find((v) => v.name === MODEL_OUTPUT);
  if (!out)
    throw invalid(
      `model.onnx has no output "${MODEL_OUTPUT}" (its outputs: ${JSON.stringify(info.outputs.map((v) => v.name))}): ${RECOMPILE}.`,
    );
  const last = out.dims?.[out.dims.length - 1];
  if (out.dims && (out.dims.length !== 2 || (typeof last === 'number' && last !== m.dim)))
    throw invalid(
      `model.onnx's output "${MODEL_OUTPUT}" has shape [${out.dims.join(', ')}] but hpd.json says dim ${m.dim} ([batch, ${m.dim}]): the bundle's files do not belong together; ${RECOMPILE}.`,
    );
  const rows = (name: string): number => {
    const dims = tableNames(name)
      .map((n) => info.initializers.get(n))
      .find((d) => d !== undefined);
    if (!dims || dims.length !== 2)
      throw invalid(`model.onnx has no ${name} table: it is not an hpd-embed model; ${RECOMPILE}.`);
    return dims[0];
  };
  const positions = rows('position_embeddings');
  if (positions < m.maxTokens)
    throw invalid(
      `hpd.json's maxTokens is ${m.maxTokens} but model.onnx has only ${positions} positions: set maxTokens to at most ${positions} or ${RECOMPILE}.`,
    );
  if (tokenizerJson) {
    const words = rows('word_embeddings');
    const top = maxTokenId(tokenizerJson);
    if (top >= words)
      throw invalid(
        `tokenizer.json has token id ${top} but model.onnx's word table has ${words} rows: the tokenizer does not belong to this model; ${RECOMPILE}.`,
      );
  }
}

/** The largest id in tokenizer.json's vocabulary (model.vocab as an object or [token, score] list) and added tokens. */
function maxTokenId(json: object): number {
  const j = json as { model?: { vocab?: unknown }; added_tokens?: { id?: unknown }[] };
  let top = -1;
  const see = (id: unknown) => {
    if (typeof id === 'number' && id > top) top = id;
  };
  const vocab = j.model?.vocab;
  if (Array.isArray(vocab)) vocab.forEach((_, i) => see(i));
  else if (vocab && typeof vocab === 'object') for (const id of Object.values(vocab)) see(id);
  if (Array.isArray(j.added_tokens)) for (const t of j.added_tokens) see(t?.id);
  return top;
}

/** Checks what the runtime made of the model: the names the engine feeds and reads. */
export function checkSession(session: OrtSession): void {
  const inputs = session.inputNames;
  const outputs = session.outputNames;
  const missing = [
    ...MODEL_INPUTS.filter((n) => !inputs.includes(n)),
    ...(outputs.includes(MODEL_OUTPUT) ? [] : [MODEL_OUTPUT]),
  ];
  if (missing.length)
    throw invalid(
      `the model's session lacks ${missing.map((n) => `"${n}"`).join(', ')} (inputs ${JSON.stringify(inputs)}, outputs ${JSON.stringify(outputs)}): ${RECOMPILE}.`,
    );
}

/** A runtime failure while creating a session on the model, as MODEL_INVALID with the runtime's error as cause; typed errors pass through. */
export function creationFailed(e: unknown): HpdError {
  if (e instanceof HpdError) return e;
  return invalid(
    `onnxruntime could not load model.onnx (${(e as Error)?.message ?? String(e)}): the model is damaged or was not compiled by hpd-embed; ${RECOMPILE}.`,
    e,
  );
}

/** A runtime failure while running the model, as MODEL_INVALID with the runtime's error as cause; typed errors pass through. */
export function runFailed(e: unknown): HpdError {
  if (e instanceof HpdError) return e;
  return invalid(
    `onnxruntime failed to run the model (${(e as Error)?.message ?? String(e)}): the model does not match its hpd.json or is damaged; ${RECOMPILE}.`,
    e,
  );
}
