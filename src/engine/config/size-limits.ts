// The largest value dit-auditor takes for each size field of config.json. They are far above any
// released model's (Llama 3.1 405B: 126 layers, hidden 16384, 128 heads; Gemma3: vocab 262,208) and
// far below what would make a hostile config allocate gigabytes or loop for minutes before the
// weights are looked at (graph/rope.ts sizes its tables by head_dim and positions, the families a
// list by layers).
export const SIZE_LIMITS: Readonly<Record<string, number>> = {
  num_hidden_layers: 1024,
  hidden_size: 1 << 17,
  intermediate_size: 1 << 20,
  num_attention_heads: 4096,
  num_key_value_heads: 4096,
  head_dim: 4096,
  vocab_size: 1 << 24,
  max_position_embeddings: 1 << 24,
  original_max_position_embeddings: 1 << 24,
  sliding_window: 1 << 24,
  max_window_layers: 1 << 24,
  sliding_window_pattern: 1024,
};
