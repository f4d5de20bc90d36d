// Llama, Qwen2 and Qwen3: pre-norm decoder layers. Qwen2 adds q/k/v biases and Qwen3 per-head
// q/k norms; both are options the shared blocks read.
import { attention, mlp, type RopeCache, rmsNorm } from '../blocks';
import type { BuildContext } from '../context';

/**
 *   x ─► input_layernorm ─► attention ─► + ─► post_attention_layernorm ─► mlp ─► +
 *   └────────────────────────────────────┘ └───────────────────────────────────────┘
 */
export function llamaLayer(ctx: BuildContext, layer: number, x: string, rope: RopeCache): string {
  const { g, o } = ctx;
  const path = `/model/layers.${layer}`;
  const w = `${o.weightPrefix}layers.${layer}`;
  const h = rmsNorm(ctx, `${path}/input_layernorm`, x, `${w}.input_layernorm.weight`, o.hiddenSize);
  const attn = attention(ctx, `${path}/attn`, h, layer, rope);
  const afterAttn = g.op('Add', `${path}/attn/residual`, [x, attn]);
  const h2 = rmsNorm(
    ctx,
    `${path}/post_attention_layernorm`,
    afterAttn,
    `${w}.post_attention_layernorm.weight`,
    o.hiddenSize,
  );
  return g.op('Add', `${path}/mlp/residual`, [afterAttn, mlp(ctx, `${path}/mlp`, h2, layer)]);
}
