// The slice of transformers.js v4 the bench's comparison worker uses. 'hpd-bench-transformers' is a Vite alias the
// browser bench sets to the pinned @huggingface/transformers it installs on demand in bench/.deps (not a dependency).
declare module 'hpd-bench-transformers' {
  export interface TjsTensor {
    dims: number[];
    data: Float32Array;
    dispose(): void;
  }
  export interface FeatureExtractionPipeline {
    (texts: string[], options: { pooling: 'mean'; normalize: boolean }): Promise<TjsTensor>;
    dispose(): Promise<void>;
  }
  export const env: {
    version: string;
    allowRemoteModels: boolean;
    allowLocalModels: boolean;
    localModelPath: string;
    useBrowserCache: boolean;
    useWasmCache: boolean;
    backends: {
      onnx: {
        versions?: Record<string, string>;
        wasm: { numThreads?: number; proxy?: boolean; wasmPaths?: string | { mjs: string; wasm: string } };
      };
    };
  };
  export function pipeline(
    task: 'feature-extraction',
    model: string,
    options: { device: 'wasm'; dtype: 'fp32' | 'q8' },
  ): Promise<FeatureExtractionPipeline>;
}
