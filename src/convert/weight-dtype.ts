import type { WeightDtype } from '../bundle/manifest.js';
import { f32ToF16Bits } from './half.js';
import { DataType, type GraphBuilder } from './onnx-graph.js';

const bytes = (v: ArrayBufferView) => new Uint8Array(v.buffer, v.byteOffset, v.byteLength);

/**
 * Stores large matrices in the chosen dtype and emits the nodes that turn them back into f32.
 * Those nodes read only initializers, so ONNX Runtime folds them at session creation: the download
 * shrinks while compute stays f32 on every execution provider (no `shader-f16`, no int8 kernels).
 * 'q8' is the exception: its MatMul weights stay int8 and each MatMul runs on int8 (see `matmul`).
 */
export class WeightEncoder {
  constructor(
    private g: GraphBuilder,
    readonly dtype: WeightDtype,
  ) {}

  /**
   * A [rows, cols] f32 matrix; int8 scales are per row (`scaleAxis` 0, for lookup tables)
   * or per column (`scaleAxis` 1, the output channels of a MatMul weight).
   */
  matrix(name: string, data: Float32Array, rows: number, cols: number, scaleAxis: 0 | 1): string {
    if (this.dtype === 'fp32') return this.g.f32(name, [rows, cols], data);
    if (this.dtype === 'fp16') {
      const half = this.g.initializer(`${name}_fp16`, DataType.FLOAT16, [rows, cols], bytes(f32ToF16Bits(data)));
      return this.g.op('Cast', [half], `${name}_dequant`, { to: DataType.FLOAT });
    }
    const { q, scale } = quantizeInt8(data, rows, cols, scaleAxis);
    const qName = this.g.initializer(`${name}_int8`, DataType.INT8, [rows, cols], bytes(q));
    const sName = this.g.f32(`${name}_scale`, scaleAxis === 0 ? [rows, 1] : [1, cols], scale);
    const asFloat = this.g.op('Cast', [qName], `${name}_cast`, { to: DataType.FLOAT });
    return this.g.op('Mul', [asFloat, sName], `${name}_dequant`);
  }

  /**
   * `input` × a [rows, cols] weight. For 'q8' the product is computed in int8: DynamicQuantizeLinear quantises the
   * activations per tensor (uint8 + zero point) at run time, MatMulInteger multiplies them with the int8 weights
   * (symmetric, per output column) into int32, and one Mul by x_scale × w_scale returns f32 — the pattern ONNX
   * Runtime's CPU EP fuses into a single quantised MatMul (DynamicQuantizeMatMul / MatMulIntegerToFloat).
   */
  matmul(input: string, name: string, data: Float32Array, rows: number, cols: number): string {
    if (this.dtype !== 'q8')
      return this.g.op('MatMul', [input, this.matrix(`${name}_w`, data, rows, cols, 1)], `${name}_matmul`);
    const { q, scale } = quantizeInt8(data, rows, cols, 1);
    const w = this.g.initializer(`${name}_w_int8`, DataType.INT8, [rows, cols], bytes(q));
    const wScale = this.g.f32(`${name}_w_scale`, [cols], scale);
    const [xq, xScale, xZero] = this.g.opN('DynamicQuantizeLinear', [input], `${name}_quant`, 3);
    const acc = this.g.op('MatMulInteger', [xq, w, xZero], `${name}_matmul_int`);
    const scaleAll = this.g.op('Mul', [xScale, wScale], `${name}_scale`);
    return this.g.op(
      'Mul',
      [this.g.op('Cast', [acc], `${name}_matmul_f32`, { to: DataType.FLOAT }), scaleAll],
      `${name}_matmul`,
    );
  }

  /** Small tensors (biases, LayerNorm) stay f32 whatever the dtype: they cost little and matter much. */
  vector(name: string, data: Float32Array, dims: number[] = [data.length]): string {
    return this.g.f32(name, dims, data);
  }
}

/**
 * Symmetric int8 quantisation with one scale per row or per column. Not search/quantize.ts's quantizeRow (same rule):
 * a weight scale may cover a strided matrix column, an all-zero column is legal (scale 1), and the bytes of compiled models stay as they are.
 */
export function quantizeInt8(
  data: Float32Array,
  rows: number,
  cols: number,
  axis: 0 | 1,
): { q: Int8Array; scale: Float32Array } {
  const n = axis === 0 ? rows : cols;
  const maxAbs = new Float32Array(n);
  for (let r = 0; r < rows; r++) {
    for (let c = 0; c < cols; c++) {
      const a = Math.abs(data[r * cols + c]);
      const k = axis === 0 ? r : c;
      if (a > maxAbs[k]) maxAbs[k] = a;
    }
  }
  const scale = new Float32Array(n);
  const inv = new Float32Array(n);
  for (let k = 0; k < n; k++) {
    scale[k] = maxAbs[k] > 0 ? maxAbs[k] / 127 : 1;
    inv[k] = 1 / scale[k];
  }
  const q = new Int8Array(rows * cols);
  for (let r = 0; r < rows; r++) {
    for (let c = 0; c < cols; c++) {
      const v = Math.round(data[r * cols + c] * inv[axis === 0 ? r : c]);
      q[r * cols + c] = v > 127 ? 127 : v < -127 ? -127 : v;
    }
  }
  return { q, scale };
}
