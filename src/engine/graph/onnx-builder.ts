// A small ONNX graph builder: one-op helpers, node names as paths, shared constants.
// Serialization goes through onnx-proto (protobufjs); nothing here knows about model families.
import { onnx } from 'onnx-proto';

export type ElemType = 'float32' | 'float16' | 'bfloat16' | 'int64' | 'int32' | 'uint8' | 'int8';
export type Dim = number | string;
type AttrValue = number | string | number[] | { float: number } | { floats: number[] };

const ELEM: Record<ElemType, onnx.TensorProto.DataType> = {
  float32: onnx.TensorProto.DataType.FLOAT,
  float16: onnx.TensorProto.DataType.FLOAT16,
  bfloat16: onnx.TensorProto.DataType.BFLOAT16,
  int64: onnx.TensorProto.DataType.INT64,
  int32: onnx.TensorProto.DataType.INT32,
  uint8: onnx.TensorProto.DataType.UINT8,
  int8: onnx.TensorProto.DataType.INT8,
};

export interface ExternalWeight {
  /** Location as written in the graph: a bare file name resolved next to the model. */
  location: string;
  offset: number;
  length: number;
  type: ElemType;
  shape: readonly number[];
}

export class GraphBuilder {
  private readonly nodes: onnx.INodeProto[] = [];
  private readonly initializers: onnx.ITensorProto[] = [];
  private readonly inputs: onnx.IValueInfoProto[] = [];
  private readonly outputs: onnx.IValueInfoProto[] = [];
  private readonly constants = new Map<string, string>();
  private readonly usedNames = new Set<string>();

  /** Adds a node named `name` and returns its output names (`{name}/output_{i}`). */
  node(
    op: string,
    name: string,
    inputs: readonly string[],
    attrs: Record<string, AttrValue> = {},
    options: { outputs?: number; domain?: string; outputNames?: string[] } = {},
  ): string[] {
    if (this.usedNames.has(name)) throw new Error(`duplicate node name ${name}`);
    this.usedNames.add(name);
    const outputs =
      options.outputNames ?? Array.from({ length: options.outputs ?? 1 }, (_, i) => `${name}/output_${i}`);
    this.nodes.push({
      opType: op,
      name,
      domain: options.domain ?? '',
      input: [...inputs],
      output: outputs,
      attribute: Object.entries(attrs).map(([key, value]) => attribute(key, value)),
    });
    return outputs;
  }

  /** Single-output shorthand of `node`. */
  op(
    op: string,
    name: string,
    inputs: readonly string[],
    attrs: Record<string, AttrValue> = {},
    domain?: string,
  ): string {
    return this.node(op, name, inputs, attrs, { domain })[0];
  }

  input(name: string, type: ElemType, shape: readonly Dim[]): string {
    this.inputs.push(valueInfo(name, type, shape));
    return name;
  }

  output(name: string, type: ElemType, shape: readonly Dim[]): void {
    this.outputs.push(valueInfo(name, type, shape));
  }

  /** An initializer whose bytes live in an external file. */
  external(name: string, weight: ExternalWeight): string {
    this.initializers.push({
      name,
      dataType: ELEM[weight.type],
      dims: [...weight.shape],
      dataLocation: onnx.TensorProto.DataLocation.EXTERNAL,
      externalData: [
        { key: 'location', value: weight.location },
        { key: 'offset', value: String(weight.offset) },
        { key: 'length', value: String(weight.length) },
      ],
    });
    return name;
  }

  /** A float32 initializer stored inside the graph (small tables: RoPE caches, inverse frequencies). */
  floatTensor(name: string, data: Float32Array, shape: readonly number[]): string {
    this.initializers.push({
      name,
      dataType: ELEM.float32,
      dims: [...shape],
      rawData: new Uint8Array(data.buffer, data.byteOffset, data.byteLength),
    });
    return name;
  }

  /** A shared int64 constant, created once per distinct value. */
  int64(values: readonly number[], scalar = false): string {
    const key = `i64:${scalar ? 's' : 'v'}:${values.join(',')}`;
    const existing = this.constants.get(key);
    if (existing) return existing;
    const name = `/const/int64_${scalar ? 's' : 'v'}_${values.join('_').replaceAll('-', 'm')}`;
    const data = new BigInt64Array(values.map((v) => BigInt(v)));
    this.initializers.push({
      name,
      dataType: ELEM.int64,
      dims: scalar ? [] : [values.length],
      rawData: new Uint8Array(data.buffer),
    });
    this.constants.set(key, name);
    return name;
  }

  /** A shared float32 scalar constant. */
  float(value: number): string {
    const key = `f32:${value}`;
    const existing = this.constants.get(key);
    if (existing) return existing;
    const name = `/const/float_${this.constants.size}`;
    this.floatTensor(name, new Float32Array([value]), []);
    this.constants.set(key, name);
    return name;
  }

  toBytes(opsets: Record<string, number>): Uint8Array {
    const model = onnx.ModelProto.create({
      irVersion: 10,
      producerName: 'dit-auditor',
      opsetImport: Object.entries(opsets).map(([domain, version]) => ({ domain, version })),
      graph: {
        name: 'main',
        node: this.nodes,
        initializer: this.initializers,
        input: this.inputs,
        output: this.outputs,
      },
    });
    return onnx.ModelProto.encode(model).finish();
  }

  /** For structure tests: the ops in order with their names. */
  listNodes(): { op: string; name: string; domain: string }[] {
    return this.nodes.map((n) => ({ op: n.opType ?? '', name: n.name ?? '', domain: n.domain ?? '' }));
  }
}

function valueInfo(name: string, type: ElemType, shape: readonly Dim[]): onnx.IValueInfoProto {
  return {
    name,
    type: {
      tensorType: {
        elemType: ELEM[type],
        shape: { dim: shape.map((d) => (typeof d === 'number' ? { dimValue: d } : { dimParam: d })) },
      },
    },
  };
}

function attribute(name: string, value: AttrValue): onnx.IAttributeProto {
  const T = onnx.AttributeProto.AttributeType;
  if (typeof value === 'number') return { name, type: T.INT, i: value };
  if (typeof value === 'string') return { name, type: T.STRING, s: new TextEncoder().encode(value) };
  if (Array.isArray(value)) return { name, type: T.INTS, ints: value };
  if ('float' in value) return { name, type: T.FLOAT, f: value.float };
  return { name, type: T.FLOATS, floats: value.floats };
}
