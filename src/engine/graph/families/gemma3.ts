// Gemma3 text decoder: sandwich norms around attention and MLP, (1 + w) RMSNorm weights,
// sliding-window layers with their own RoPE base (chosen by the caller through `rope`).
import { attention, mlp, type RopeCache, rmsNorm } from '../blocks';
import type { BuildContext } from '../context';

/**
 *   x ─► input_layernorm ─► attention ─► post_attention_layernorm ─► +
 *   └────────────────────────────────────────────────────────────────┘
 *   ─► pre_feedforward_layernorm ─► mlp ─► post_feedforward_layernorm ─► +
 */
export function gemma3Layer(ctx: BuildContext, layer: number, x: string, rope: RopeCache): string {
  const { g, o } = ctx;
  const path = `/model/layers.${layer}`;
  const w = `${o.weightPrefix}layers.${layer}`;
  const norm = (name: string, t: string) =>
    rmsNorm(ctx, `${path}/${name}`, t, `${w}.${name}.weight`, o.hiddenSize);
  const attn = attention(ctx, `${path}/attn`, norm('input_layernorm', x), layer, rope);
  const afterAttn = g.op('Add', `${path}/attn/residual`, [x, norm('post_attention_layernorm', attn)]);
  const ff = mlp(ctx, `${path}/mlp`, norm('pre_feedforward_layernorm', afterAttn), layer);
  return g.op('Add', `${path}/mlp/residual`, [afterAttn, norm('post_feedforward_layernorm', ff)]);
}
