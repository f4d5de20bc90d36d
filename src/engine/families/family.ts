// What a model family is to the engine: how its config.json reads, where its tensors live, and its
// graph written as a composition of the shared blocks (graph/blocks.ts).
import type { Json } from '../config/config-fields';
import type { ModelOptions } from '../config/model-options';
import type { BuildContext } from '../graph/context';

/** Options as a family reads them; normalizeConfig adds `modelType` and the weight prefix found. */
export type FamilyOptions<O extends ModelOptions = ModelOptions> = Omit<O, 'modelType' | 'weightPrefix'>;

// Method syntax (bivariant parameters) lets a Family<Gemma3Options> stand in the registry's list of
// Family: its build only ever receives the options its own normalize made (same model_type).
export interface Family<O extends ModelOptions = ModelOptions> {
  /** Where the decoder's tensors may sit (checkpoint/tensor-names.ts), in the order looked for. */
  readonly weightPrefixes: readonly string[];
  /** The whole config.json → options, with the defaults of the family's transformers config class. */
  normalize(config: Json): FamilyOptions<O>;
  /** Token ids → logits of the asked rows; returns the logits' name. */
  build(ctx: BuildContext<O>): string;
  /** A stored RMSNorm weight → what the normalised input is multiplied by (the token prior's, on the CPU). */
  normScale(w: Float32Array): Float32Array;
}
