/** The slice of onnxruntime-web's API the engine uses; satisfied by `onnxruntime-web`, `onnxruntime-web/webgpu` and `onnxruntime-web/wasm`. */
export type Ort = Pick<typeof import('onnxruntime-web'), 'InferenceSession' | 'Tensor' | 'env'>;
export type OrtSession = import('onnxruntime-web').InferenceSession;
