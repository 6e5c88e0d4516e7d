/** The model card (`models/irrigation/model.json`): what the ONNX file takes and returns, and how good it is. */
export interface ModelCard {
  name: string;
  /** Semantic version of the model; bump the major when features change. */
  version: string;
  description: string;
  file: { path: string; bytes: number; sha256: string };
  onnx: { opset: Record<string, number>; input: string; inputType: 'float32'; output: string };
  /** Feature names in input column order, with units. */
  features: { name: string; unit: string; description: string }[];
  /** Output columns of the output tensor, with units. */
  outputs: { name: string; unit: string; description: string }[];
  /** Values computed from the outputs by the runtime. */
  derived: { name: string; unit: string; description: string }[];
  training: Record<string, unknown>;
  metrics: Record<string, unknown>;
  limits: string[];
}

export const MODEL_OUTPUTS = [
  { name: 'depletion_24h_mm', unit: 'mm', description: 'root-zone depletion 24 h after the prediction time if not irrigated' },
  { name: 'depletion_48h_mm', unit: 'mm', description: 'root-zone depletion 48 h after the prediction time if not irrigated' },
] as const;

export const MODEL_DERIVED = [
  { name: 'irrigate', unit: 'boolean', description: 'depletion_24h_mm ≥ RAW: irrigate within the next 24 h (FAO-56 rule)' },
  { name: 'hours_to_raw', unit: 'h', description: 'hours until depletion reaches RAW (0 if already reached; null if not within 240 h)' },
  { name: 'irrigation_depth_mm', unit: 'mm', description: 'net depth that refills the root zone at the 24 h horizon, when irrigating' },
] as const;
