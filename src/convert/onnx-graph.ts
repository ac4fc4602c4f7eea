/** ONNX element types the compiler emits (TensorProto.DataType). */
export const DataType = { FLOAT: 1, UINT8: 2, INT8: 3, INT32: 6, INT64: 7, FLOAT16: 10 } as const;
export type DataTypeCode = (typeof DataType)[keyof typeof DataType];

export type AttributeValue = number | string | number[] | { float: number } | { floats: number[] };

export interface OnnxNode {
  opType: string;
  domain?: string;
  name: string;
  inputs: string[];
  outputs: string[];
  attributes: Record<string, AttributeValue>;
}

export interface OnnxInitializer {
  name: string;
  dataType: DataTypeCode;
  dims: number[];
  /** Little-endian raw bytes (TensorProto.raw_data). */
  raw: Uint8Array;
}

export interface OnnxValueInfo {
  name: string;
  elemType: DataTypeCode;
  /** A number is a fixed size, a string a symbolic dimension. */
  shape: (number | string)[];
}

export interface OnnxModel {
  irVersion: number;
  opsets: { domain: string; version: number }[];
  producerName: string;
  producerVersion: string;
  graphName: string;
  docString?: string;
  metadata: Record<string, string>;
  nodes: OnnxNode[];
  initializers: OnnxInitializer[];
  inputs: OnnxValueInfo[];
  outputs: OnnxValueInfo[];
}

const bytesOf = (v: ArrayBufferView) => new Uint8Array(v.buffer, v.byteOffset, v.byteLength);

/** Builds a graph node by node; every value gets a unique, readable name. */
export class GraphBuilder {
  readonly nodes: OnnxNode[] = [];
  readonly initializers: OnnxInitializer[] = [];
  private used = new Set<string>();

  private unique(base: string): string {
    let name = base;
    for (let i = 1; this.used.has(name); i++) name = `${base}_${i}`;
    this.used.add(name);
    return name;
  }

  initializer(name: string, dataType: DataTypeCode, dims: number[], raw: Uint8Array): string {
    const unique = this.unique(name);
    this.initializers.push({ name: unique, dataType, dims, raw });
    return unique;
  }

  f32(name: string, dims: number[], values: Float32Array | number[]): string {
    return this.initializer(
      name,
      DataType.FLOAT,
      dims,
      bytesOf(values instanceof Float32Array ? values : Float32Array.from(values)),
    );
  }

  i64(name: string, dims: number[], values: number[]): string {
    return this.initializer(name, DataType.INT64, dims, bytesOf(BigInt64Array.from(values, BigInt)));
  }

  /** Adds a node and returns its single output's name. */
  op(
    opType: string,
    inputs: string[],
    name: string,
    attributes: Record<string, AttributeValue> = {},
    domain?: string,
  ): string {
    return this.opN(opType, inputs, name, 1, attributes, domain)[0];
  }

  opN(
    opType: string,
    inputs: string[],
    name: string,
    outputs: number,
    attributes: Record<string, AttributeValue> = {},
    domain?: string,
  ): string[] {
    const nodeName = this.unique(name);
    const outs = Array.from({ length: outputs }, (_, i) =>
      this.unique(outputs === 1 ? `${nodeName}_out` : `${nodeName}_out${i}`),
    );
    this.nodes.push({ opType, name: nodeName, inputs, outputs: outs, attributes, ...(domain ? { domain } : {}) });
    return outs;
  }

  /** Renames a node output (e.g. to a graph output name). */
  rename(from: string, to: string): void {
    this.used.add(to);
    for (const n of this.nodes) {
      n.outputs = n.outputs.map((o) => (o === from ? to : o));
      n.inputs = n.inputs.map((i) => (i === from ? to : i));
    }
  }
}
