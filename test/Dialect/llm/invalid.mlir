// RUN: kvant-opt %s -split-input-file -verify-diagnostics

//===----------------------------------------------------------------------===//
// Attention mask attributes
//===----------------------------------------------------------------------===//

func.func @sliding_window_zero(%q: tensor<4x4x16xf32>, %k: tensor<4x2x16xf32>) {
  // expected-error @+1 {{sliding window must be positive, got 0}}
  %0 = llm.attention #llm.sliding_window<0> %q, %k, %k : tensor<4x4x16xf32>, tensor<4x2x16xf32>, tensor<4x2x16xf32> -> tensor<4x4x16xf32>
  return
}

// -----

func.func @sink_zero(%q: tensor<4x4x16xf32>, %k: tensor<4x2x16xf32>) {
  // expected-error @+1 {{sink count must be positive, got 0}}
  %0 = llm.attention #llm.sink_window<sink = 0, window = 1024> %q, %k, %k : tensor<4x4x16xf32>, tensor<4x2x16xf32>, tensor<4x2x16xf32> -> tensor<4x4x16xf32>
  return
}

// -----

func.func @sink_window_negative(%q: tensor<4x4x16xf32>, %k: tensor<4x2x16xf32>) {
  // expected-error @+1 {{window must be positive, got -8}}
  %0 = llm.attention #llm.sink_window<sink = 4, window = -8> %q, %k, %k : tensor<4x4x16xf32>, tensor<4x2x16xf32>, tensor<4x2x16xf32> -> tensor<4x4x16xf32>
  return
}

// -----

func.func @sink_max_distance(%q: tensor<4x4x16xf32>, %k: tensor<4x2x16xf32>) {
  // expected-error @+1 {{max_distance 1024 must exceed the window 1024}}
  %0 = llm.attention #llm.sink_window<sink = 4, window = 1024, max_distance = 1024> %q, %k, %k : tensor<4x4x16xf32>, tensor<4x2x16xf32>, tensor<4x2x16xf32> -> tensor<4x4x16xf32>
  return
}

// -----

func.func @block_sparse_block(%q: tensor<4x4x16xf32>, %k: tensor<4x2x16xf32>) {
  // expected-error @+1 {{block size must be positive, got 0}}
  %0 = llm.attention #llm.block_sparse<block = 0, local = 4, global = 1> %q, %k, %k : tensor<4x4x16xf32>, tensor<4x2x16xf32>, tensor<4x2x16xf32> -> tensor<4x4x16xf32>
  return
}

// -----

func.func @block_sparse_local(%q: tensor<4x4x16xf32>, %k: tensor<4x2x16xf32>) {
  // expected-error @+1 {{local block count must be positive, got 0}}
  %0 = llm.attention #llm.block_sparse<block = 64, local = 0, global = 1> %q, %k, %k : tensor<4x4x16xf32>, tensor<4x2x16xf32>, tensor<4x2x16xf32> -> tensor<4x4x16xf32>
  return
}

// -----

func.func @block_sparse_global(%q: tensor<4x4x16xf32>, %k: tensor<4x2x16xf32>) {
  // expected-error @+1 {{global block count must be non-negative, got -1}}
  %0 = llm.attention #llm.block_sparse<block = 64, local = 4, global = -1> %q, %k, %k : tensor<4x4x16xf32>, tensor<4x2x16xf32>, tensor<4x2x16xf32> -> tensor<4x4x16xf32>
  return
}

// -----

//===----------------------------------------------------------------------===//
// Sampling attribute
//===----------------------------------------------------------------------===//

func.func @temperature_zero(%l: tensor<100xf32>, %s: index) {
  // expected-error @+1 {{temperature must be positive and finite, got 0}}
  %0 = llm.sample #llm.sampling<temperature = 0.0> %l step(%s) : tensor<100xf32> -> i32
  return
}

// -----

func.func @top_k_negative(%l: tensor<100xf32>, %s: index) {
  // expected-error @+1 {{top_k must be non-negative, got -1}}
  %0 = llm.sample #llm.sampling<temperature = 0.7, top_k = -1> %l step(%s) : tensor<100xf32> -> i32
  return
}

// -----

func.func @top_p_above_one(%l: tensor<100xf32>, %s: index) {
  // expected-error @+1 {{top_p must be in (0, 1], got 1.5}}
  %0 = llm.sample #llm.sampling<temperature = 0.7, top_p = 1.5> %l step(%s) : tensor<100xf32> -> i32
  return
}

// -----

func.func @top_p_zero(%l: tensor<100xf32>, %s: index) {
  // expected-error @+1 {{top_p must be in (0, 1], got 0}}
  %0 = llm.sample #llm.sampling<temperature = 0.7, top_p = 0.0> %l step(%s) : tensor<100xf32> -> i32
  return
}

// -----

func.func @greedy_with_others(%l: tensor<100xf32>) {
  // expected-error @+1 {{greedy sampling takes no other parameter}}
  %0 = llm.sample #llm.sampling<greedy, top_k = 40> %l : tensor<100xf32> -> i32
  return
}

// -----

func.func @no_temperature(%l: tensor<100xf32>, %s: index) {
  // expected-error @+1 {{expected 'greedy' or a temperature}}
  %0 = llm.sample #llm.sampling<top_k = 40> %l step(%s) : tensor<100xf32> -> i32
  return
}

// -----

func.func @duplicate_parameter(%l: tensor<100xf32>, %s: index) {
  // expected-error @+1 {{duplicate sampling parameter 'temperature'}}
  %0 = llm.sample #llm.sampling<temperature = 0.7, temperature = 0.8> %l step(%s) : tensor<100xf32> -> i32
  return
}

// -----

func.func @unknown_parameter(%l: tensor<100xf32>, %s: index) {
  // expected-error @+1 {{unknown sampling parameter 'min_p'}}
  %0 = llm.sample #llm.sampling<temperature = 0.7, min_p = 0.05> %l step(%s) : tensor<100xf32> -> i32
  return
}

// -----

//===----------------------------------------------------------------------===//
// llm.embedding
//===----------------------------------------------------------------------===//

func.func @embedding_table_rank(%t: tensor<1000xf32>, %tok: tensor<4xi32>) {
  // expected-error @+1 {{'llm.embedding' op table must be rank 2, got rank 1}}
  %0 = llm.embedding %t, %tok : tensor<1000xf32>, tensor<4xi32> -> tensor<4x1xf32>
  return
}

// -----

func.func @embedding_table_int(%t: tensor<1000x64xi8>, %tok: tensor<4xi32>) {
  // expected-error @+1 {{'llm.embedding' op table must have float elements, got 'i8'}}
  %0 = llm.embedding %t, %tok : tensor<1000x64xi8>, tensor<4xi32> -> tensor<4x64xf32>
  return
}

// -----

func.func @embedding_result_int(%tok: tensor<4xi32>) {
  %t = qt.weight "token_embd.weight" : !qt.tensor<1000x64, #qt.gguf<q8_0>>
  // expected-error @+1 {{'llm.embedding' op result must have float elements, got 'i32'}}
  %0 = llm.embedding %t, %tok : !qt.tensor<1000x64, #qt.gguf<q8_0>>, tensor<4xi32> -> tensor<4x64xi32>
  return
}

// -----

func.func @embedding_element_type(%t: tensor<1000x64xf16>, %tok: tensor<4xi32>) {
  // expected-error @+1 {{'llm.embedding' op result element type 'f32' differs from the unquantized table's 'f16'}}
  %0 = llm.embedding %t, %tok : tensor<1000x64xf16>, tensor<4xi32> -> tensor<4x64xf32>
  return
}

// -----

func.func @embedding_result_shape(%t: tensor<1000x64xf32>, %tok: tensor<4xi32>) {
  // expected-error @+1 {{'llm.embedding' op result shape 4x32 does not match the expected 4x64}}
  %0 = llm.embedding %t, %tok : tensor<1000x64xf32>, tensor<4xi32> -> tensor<4x32xf32>
  return
}

// -----

//===----------------------------------------------------------------------===//
// llm.rms_norm
//===----------------------------------------------------------------------===//

func.func @rms_norm_int(%x: tensor<4x64xi32>, %w: tensor<64xf32>) {
  // expected-error @+1 {{'llm.rms_norm' op input must have float elements, got 'i32'}}
  %0 = llm.rms_norm %x, %w epsilon = 1.0e-5 : tensor<4x64xi32>, tensor<64xf32>
  return
}

// -----

func.func @rms_norm_rank0(%x: tensor<f32>, %w: tensor<64xf32>) {
  // expected-error @+1 {{'llm.rms_norm' op input must have rank >= 1}}
  %0 = llm.rms_norm %x, %w epsilon = 1.0e-5 : tensor<f32>, tensor<64xf32>
  return
}

// -----

func.func @rms_norm_weight_rank(%x: tensor<4x64xf32>, %w: tensor<1x64xf32>) {
  // expected-error @+1 {{'llm.rms_norm' op weight must be rank 1, got rank 2}}
  %0 = llm.rms_norm %x, %w epsilon = 1.0e-5 : tensor<4x64xf32>, tensor<1x64xf32>
  return
}

// -----

func.func @rms_norm_weight_size(%x: tensor<4x64xf32>, %w: tensor<32xf32>) {
  // expected-error @+1 {{'llm.rms_norm' op weight size is 32 but the normalized dimension is 64}}
  %0 = llm.rms_norm %x, %w epsilon = 1.0e-5 : tensor<4x64xf32>, tensor<32xf32>
  return
}

// -----

func.func @rms_norm_epsilon(%x: tensor<4x64xf32>, %w: tensor<64xf32>) {
  // expected-error @+1 {{'llm.rms_norm' op epsilon must be positive, got 0}}
  %0 = llm.rms_norm %x, %w epsilon = 0.0 : tensor<4x64xf32>, tensor<64xf32>
  return
}

// -----

//===----------------------------------------------------------------------===//
// llm.rope
//===----------------------------------------------------------------------===//

func.func @rope_unknown_style(%x: tensor<4x2x16xf32>, %p: tensor<4xi32>) {
  // expected-error @+1 {{unknown keyword 'gptj'}}
  %0 = llm.rope gptj %x, %p theta = 10000.0 : tensor<4x2x16xf32>, tensor<4xi32>
  return
}

// -----

func.func @rope_rank(%x: tensor<4x32xf32>, %p: tensor<4xi32>) {
  // expected-error @+1 {{'llm.rope' op input must be rank 3 (tokens x heads x head_dim), got rank 2}}
  %0 = llm.rope normal %x, %p theta = 10000.0 : tensor<4x32xf32>, tensor<4xi32>
  return
}

// -----

func.func @rope_positions_rank(%x: tensor<4x2x16xf32>, %p: tensor<1x4xi32>) {
  // expected-error @+1 {{'llm.rope' op positions must be rank 1, got rank 2}}
  %0 = llm.rope normal %x, %p theta = 10000.0 : tensor<4x2x16xf32>, tensor<1x4xi32>
  return
}

// -----

func.func @rope_positions_size(%x: tensor<4x2x16xf32>, %p: tensor<5xi32>) {
  // expected-error @+1 {{'llm.rope' op positions size is 5 but the token count is 4}}
  %0 = llm.rope normal %x, %p theta = 10000.0 : tensor<4x2x16xf32>, tensor<5xi32>
  return
}

// -----

func.func @rope_theta(%x: tensor<4x2x16xf32>, %p: tensor<4xi32>) {
  // expected-error @+1 {{'llm.rope' op theta must be positive, got -1}}
  %0 = llm.rope normal %x, %p theta = -1.0 : tensor<4x2x16xf32>, tensor<4xi32>
  return
}

// -----

func.func @rope_rotary_dim_zero(%x: tensor<4x2x16xf32>, %p: tensor<4xi32>) {
  // expected-error @+1 {{'llm.rope' op rotary_dim must be positive, got 0}}
  %0 = llm.rope neox %x, %p theta = 10000.0 rotary_dim = 0 : tensor<4x2x16xf32>, tensor<4xi32>
  return
}

// -----

func.func @rope_rotary_dim_large(%x: tensor<4x2x16xf32>, %p: tensor<4xi32>) {
  // expected-error @+1 {{'llm.rope' op rotary_dim 32 exceeds the head dimension 16}}
  %0 = llm.rope neox %x, %p theta = 10000.0 rotary_dim = 32 : tensor<4x2x16xf32>, tensor<4xi32>
  return
}

// -----

func.func @rope_odd(%x: tensor<4x2x15xf32>, %p: tensor<4xi32>) {
  // expected-error @+1 {{'llm.rope' op rotated dimension must be even, got 15}}
  %0 = llm.rope normal %x, %p theta = 10000.0 : tensor<4x2x15xf32>, tensor<4xi32>
  return
}

// -----

func.func @rope_freq_factors_shape(%x: tensor<4x2x16xf32>, %p: tensor<4xi32>, %f: tensor<16xf32>) {
  // expected-error @+1 {{'llm.rope' op freq_factors shape 16 does not match the expected 8}}
  %0 = llm.rope normal %x, %p theta = 10000.0 freq_factors(%f : tensor<16xf32>) : tensor<4x2x16xf32>, tensor<4xi32>
  return
}

// -----

func.func @rope_freq_factors_int(%x: tensor<4x2x16xf32>, %p: tensor<4xi32>, %f: tensor<8xi32>) {
  // expected-error @+1 {{'llm.rope' op freq_factors must have float elements, got 'i32'}}
  %0 = llm.rope normal %x, %p theta = 10000.0 freq_factors(%f : tensor<8xi32>) : tensor<4x2x16xf32>, tensor<4xi32>
  return
}

// -----

//===----------------------------------------------------------------------===//
// llm.attention
//===----------------------------------------------------------------------===//

func.func @attention_int(%q: tensor<4x4x16xi32>, %k: tensor<4x2x16xf32>) {
  // expected-error @+1 {{'llm.attention' op query must have float elements, got 'i32'}}
  %0 = llm.attention #llm.causal %q, %k, %k : tensor<4x4x16xi32>, tensor<4x2x16xf32>, tensor<4x2x16xf32> -> tensor<4x4x16xi32>
  return
}

// -----

func.func @attention_rank(%q: tensor<4x64xf32>, %k: tensor<4x2x16xf32>) {
  // expected-error @+1 {{'llm.attention' op query must be rank 3 (tokens x heads x head_dim), got rank 2}}
  %0 = llm.attention #llm.causal %q, %k, %k : tensor<4x64xf32>, tensor<4x2x16xf32>, tensor<4x2x16xf32> -> tensor<4x4x16xf32>
  return
}

// -----

func.func @attention_kv_types(%q: tensor<4x4x16xf32>, %k: tensor<4x2x16xf32>, %v: tensor<4x2x16xf16>) {
  // expected-error @+1 {{'llm.attention' op key and value element types differ: 'f32' vs 'f16'}}
  %0 = llm.attention #llm.causal %q, %k, %v : tensor<4x4x16xf32>, tensor<4x2x16xf32>, tensor<4x2x16xf16> -> tensor<4x4x16xf32>
  return
}

// -----

func.func @attention_result_type(%q: tensor<4x4x16xf32>, %k: tensor<4x2x16xf16>) {
  // expected-error @+1 {{'llm.attention' op result element type 'f16' differs from the query's 'f32'}}
  %0 = llm.attention #llm.causal %q, %k, %k : tensor<4x4x16xf32>, tensor<4x2x16xf16>, tensor<4x2x16xf16> -> tensor<4x4x16xf16>
  return
}

// -----

func.func @attention_kv_length(%q: tensor<4x4x16xf32>, %k: tensor<8x2x16xf32>, %v: tensor<6x2x16xf32>) {
  // expected-error @+1 {{'llm.attention' op key length is 8 but value length is 6}}
  %0 = llm.attention #llm.causal %q, %k, %v : tensor<4x4x16xf32>, tensor<8x2x16xf32>, tensor<6x2x16xf32> -> tensor<4x4x16xf32>
  return
}

// -----

func.func @attention_kv_heads(%q: tensor<4x4x16xf32>, %k: tensor<8x2x16xf32>, %v: tensor<8x4x16xf32>) {
  // expected-error @+1 {{'llm.attention' op key head count is 2 but value head count is 4}}
  %0 = llm.attention #llm.causal %q, %k, %v : tensor<4x4x16xf32>, tensor<8x2x16xf32>, tensor<8x4x16xf32> -> tensor<4x4x16xf32>
  return
}

// -----

func.func @attention_head_dim(%q: tensor<4x4x32xf32>, %k: tensor<8x2x16xf32>) {
  // expected-error @+1 {{'llm.attention' op query head dim is 32 but key head dim is 16}}
  %0 = llm.attention #llm.causal %q, %k, %k : tensor<4x4x32xf32>, tensor<8x2x16xf32>, tensor<8x2x16xf32> -> tensor<4x4x16xf32>
  return
}

// -----

func.func @attention_gqa(%q: tensor<4x6x16xf32>, %k: tensor<8x4x16xf32>) {
  // expected-error @+1 {{'llm.attention' op query head count 6 is not a multiple of the key/value head count 4}}
  %0 = llm.attention #llm.causal %q, %k, %k : tensor<4x6x16xf32>, tensor<8x4x16xf32>, tensor<8x4x16xf32> -> tensor<4x6x16xf32>
  return
}

// -----

func.func @attention_result_shape(%q: tensor<4x4x16xf32>, %k: tensor<8x2x16xf32>, %v: tensor<8x2x8xf32>) {
  // expected-error @+1 {{'llm.attention' op result shape 4x4x16 does not match the expected 4x4x8}}
  %0 = llm.attention #llm.causal %q, %k, %v : tensor<4x4x16xf32>, tensor<8x2x16xf32>, tensor<8x2x8xf32> -> tensor<4x4x16xf32>
  return
}

// -----

func.func @attention_tree_without_mask(%q: tensor<4x4x16xf32>, %k: tensor<8x2x16xf32>) {
  // expected-error @+1 {{'llm.attention' op mask #llm.tree needs a tree_mask operand}}
  %0 = llm.attention #llm.tree %q, %k, %k : tensor<4x4x16xf32>, tensor<8x2x16xf32>, tensor<8x2x16xf32> -> tensor<4x4x16xf32>
  return
}

// -----

func.func @attention_causal_with_mask(%q: tensor<4x4x16xf32>, %k: tensor<8x2x16xf32>, %m: tensor<4x4xi1>) {
  // expected-error @+1 {{'llm.attention' op mask #llm.causal takes no tree_mask operand}}
  %0 = llm.attention #llm.causal %q, %k, %k tree_mask(%m : tensor<4x4xi1>) : tensor<4x4x16xf32>, tensor<8x2x16xf32>, tensor<8x2x16xf32> -> tensor<4x4x16xf32>
  return
}

// -----

func.func @attention_tree_mask_shape(%q: tensor<4x4x16xf32>, %k: tensor<8x2x16xf32>, %m: tensor<4x8xi1>) {
  // expected-error @+1 {{'llm.attention' op tree_mask shape 4x8 does not match the expected 4x4}}
  %0 = llm.attention #llm.tree %q, %k, %k tree_mask(%m : tensor<4x8xi1>) : tensor<4x4x16xf32>, tensor<8x2x16xf32>, tensor<8x2x16xf32> -> tensor<4x4x16xf32>
  return
}

// -----

func.func @attention_scale(%q: tensor<4x4x16xf32>, %k: tensor<8x2x16xf32>) {
  // expected-error @+1 {{'llm.attention' op scale must be positive and finite, got -1.250000e-01}}
  %0 = llm.attention #llm.causal %q, %k, %k scale = -0.125 : tensor<4x4x16xf32>, tensor<8x2x16xf32>, tensor<8x2x16xf32> -> tensor<4x4x16xf32>
  return
}

// -----

//===----------------------------------------------------------------------===//
// llm.mlp
//===----------------------------------------------------------------------===//

func.func @mlp_input_int(%x: tensor<4x64xi32>, %u: tensor<128x64xf32>, %d: tensor<64x128xf32>) {
  // expected-error @+1 {{'llm.mlp' op input must have float elements, got 'i32'}}
  %0 = llm.mlp gelu %x up(%u : tensor<128x64xf32>) down(%d : tensor<64x128xf32>) : tensor<4x64xi32>
  return
}

// -----

func.func @mlp_swiglu_without_gate(%x: tensor<4x64xf32>, %u: tensor<128x64xf32>, %d: tensor<64x128xf32>) {
  // expected-error @+1 {{'llm.mlp' op activation swiglu needs a gate weight}}
  %0 = llm.mlp swiglu %x up(%u : tensor<128x64xf32>) down(%d : tensor<64x128xf32>) : tensor<4x64xf32>
  return
}

// -----

func.func @mlp_gelu_with_gate(%x: tensor<4x64xf32>, %u: tensor<128x64xf32>, %d: tensor<64x128xf32>) {
  // expected-error @+1 {{'llm.mlp' op activation gelu takes no gate weight}}
  %0 = llm.mlp gelu %x gate(%u : tensor<128x64xf32>) up(%u : tensor<128x64xf32>) down(%d : tensor<64x128xf32>) : tensor<4x64xf32>
  return
}

// -----

func.func @mlp_weight_rank(%x: tensor<4x64xf32>, %u: tensor<128x64xf32>, %d: tensor<64x128x1xf32>) {
  // expected-error @+1 {{'llm.mlp' op down weight must be rank 2, got rank 3}}
  %0 = llm.mlp gelu %x up(%u : tensor<128x64xf32>) down(%d : tensor<64x128x1xf32>) : tensor<4x64xf32>
  return
}

// -----

func.func @mlp_up_shape(%x: tensor<4x64xf32>, %u: tensor<128x32xf32>, %d: tensor<64x128xf32>) {
  // expected-error @+1 {{'llm.mlp' op up weight shape 128x32 does not match the expected 128x64}}
  %0 = llm.mlp gelu %x up(%u : tensor<128x32xf32>) down(%d : tensor<64x128xf32>) : tensor<4x64xf32>
  return
}

// -----

func.func @mlp_down_shape(%x: tensor<4x64xf32>, %u: tensor<128x64xf32>, %d: tensor<128x64xf32>) {
  // expected-error @+1 {{'llm.mlp' op down weight shape 128x64 does not match the expected 64x128}}
  %0 = llm.mlp gelu %x up(%u : tensor<128x64xf32>) down(%d : tensor<128x64xf32>) : tensor<4x64xf32>
  return
}

// -----

func.func @mlp_gate_shape(%x: tensor<4x64xf32>, %g: tensor<96x64xf32>, %u: tensor<128x64xf32>, %d: tensor<64x128xf32>) {
  // expected-error @+1 {{'llm.mlp' op gate weight shape 96x64 does not match the expected 128x64}}
  %0 = llm.mlp swiglu %x gate(%g : tensor<96x64xf32>) up(%u : tensor<128x64xf32>) down(%d : tensor<64x128xf32>) : tensor<4x64xf32>
  return
}

// -----

//===----------------------------------------------------------------------===//
// llm.linear
//===----------------------------------------------------------------------===//

func.func @linear_input_int(%x: tensor<4x64xi8>, %w: tensor<32x64xf32>) {
  // expected-error @+1 {{'llm.linear' op input must have float elements, got 'i8'}}
  %0 = llm.linear %x, %w : tensor<4x64xi8>, tensor<32x64xf32> -> tensor<4x32xi8>
  return
}

// -----

func.func @linear_input_rank(%x: tensor<f32>, %w: tensor<32x64xf32>) {
  // expected-error @+1 {{'llm.linear' op input must have rank >= 1}}
  %0 = llm.linear %x, %w : tensor<f32>, tensor<32x64xf32> -> tensor<32xf32>
  return
}

// -----

func.func @linear_result_type(%x: tensor<4x64xf32>, %w: tensor<32x64xf32>) {
  // expected-error @+1 {{'llm.linear' op result element type 'f16' differs from the input's 'f32'}}
  %0 = llm.linear %x, %w : tensor<4x64xf32>, tensor<32x64xf32> -> tensor<4x32xf16>
  return
}

// -----

func.func @linear_weight_int(%x: tensor<4x64xf32>, %w: tensor<32x64xi8>) {
  // expected-error @+1 {{'llm.linear' op weight must have float elements, got 'i8'}}
  %0 = llm.linear %x, %w : tensor<4x64xf32>, tensor<32x64xi8> -> tensor<4x32xf32>
  return
}

// -----

func.func @linear_weight_rank(%x: tensor<4x64xf32>) {
  %w = qt.weight "w" : !qt.tensor<2x32x64, #qt.gguf<q8_0>>
  // expected-error @+1 {{'llm.linear' op weight must be rank 2, got rank 3}}
  %0 = llm.linear %x, %w : tensor<4x64xf32>, !qt.tensor<2x32x64, #qt.gguf<q8_0>> -> tensor<4x32xf32>
  return
}

// -----

func.func @linear_reduction(%x: tensor<4x32xf32>) {
  %w = qt.weight "w" : !qt.tensor<32x64, #qt.gguf<q8_0>>
  // expected-error @+1 {{'llm.linear' op input feature size is 32 but the weight's is 64}}
  %0 = llm.linear %x, %w : tensor<4x32xf32>, !qt.tensor<32x64, #qt.gguf<q8_0>> -> tensor<4x32xf32>
  return
}

// -----

func.func @linear_bias_shape(%x: tensor<4x64xf32>, %w: tensor<32x64xf32>, %b: tensor<64xf32>) {
  // expected-error @+1 {{'llm.linear' op bias shape 64 does not match the expected 32}}
  %0 = llm.linear %x, %w, %b : tensor<4x64xf32>, tensor<32x64xf32>, tensor<64xf32> -> tensor<4x32xf32>
  return
}

// -----

func.func @linear_bias_int(%x: tensor<4x64xf32>, %w: tensor<32x64xf32>, %b: tensor<32xi32>) {
  // expected-error @+1 {{'llm.linear' op bias must have float elements, got 'i32'}}
  %0 = llm.linear %x, %w, %b : tensor<4x64xf32>, tensor<32x64xf32>, tensor<32xi32> -> tensor<4x32xf32>
  return
}

// -----

func.func @linear_result_shape(%x: tensor<4x64xf32>, %w: tensor<32x64xf32>) {
  // expected-error @+1 {{'llm.linear' op result shape 4x64 does not match the expected 4x32}}
  %0 = llm.linear %x, %w : tensor<4x64xf32>, tensor<32x64xf32> -> tensor<4x64xf32>
  return
}

// -----

//===----------------------------------------------------------------------===//
// llm.logits
//===----------------------------------------------------------------------===//

func.func @logits_result_type(%h: tensor<4x64xf32>, %w: tensor<100x64xf32>) {
  // expected-error @+1 {{'llm.logits' op result element type must be f32 or the hidden states', got 'f16'}}
  %0 = llm.logits %h, %w : tensor<4x64xf32>, tensor<100x64xf32> -> tensor<4x100xf16>
  return
}

// -----

func.func @logits_hidden_size(%h: tensor<4x32xf32>, %w: tensor<100x64xf32>) {
  // expected-error @+1 {{'llm.logits' op hidden size is 32 but the weight's is 64}}
  %0 = llm.logits %h, %w : tensor<4x32xf32>, tensor<100x64xf32> -> tensor<4x100xf32>
  return
}

// -----

func.func @logits_last_only_rank(%h: tensor<64xf32>, %w: tensor<100x64xf32>) {
  // expected-error @+1 {{'llm.logits' op last_only needs hidden states of rank >= 2 (positions x width)}}
  %0 = llm.logits %h, %w last_only : tensor<64xf32>, tensor<100x64xf32> -> tensor<100xf32>
  return
}

// -----

func.func @logits_last_only_empty(%h: tensor<0x64xf32>, %w: tensor<100x64xf32>) {
  // expected-error @+1 {{'llm.logits' op last_only needs at least one position}}
  %0 = llm.logits %h, %w last_only : tensor<0x64xf32>, tensor<100x64xf32> -> tensor<100xf32>
  return
}

// -----

func.func @logits_last_only_shape(%h: tensor<4x64xf32>, %w: tensor<100x64xf32>) {
  // expected-error @+1 {{'llm.logits' op result shape 4x100 does not match the expected 100}}
  %0 = llm.logits %h, %w last_only : tensor<4x64xf32>, tensor<100x64xf32> -> tensor<4x100xf32>
  return
}

// -----

//===----------------------------------------------------------------------===//
// llm.sample
//===----------------------------------------------------------------------===//

func.func @sample_int(%l: tensor<100xi32>) {
  // expected-error @+1 {{'llm.sample' op logits must have float elements, got 'i32'}}
  %0 = llm.sample #llm.sampling<greedy> %l : tensor<100xi32> -> i32
  return
}

// -----

func.func @sample_rank(%l: tensor<2x4x100xf32>) {
  // expected-error @+1 {{'llm.sample' op logits must be rank 1 (vocabulary) or 2 (batch x vocabulary), got rank 3}}
  %0 = llm.sample #llm.sampling<greedy> %l : tensor<2x4x100xf32> -> tensor<2xi32>
  return
}

// -----

func.func @sample_rank1_tensor(%l: tensor<100xf32>) {
  // expected-error @+1 {{'llm.sample' op rank-1 logits give an i32 token, not 'tensor<1xi32>'}}
  %0 = llm.sample #llm.sampling<greedy> %l : tensor<100xf32> -> tensor<1xi32>
  return
}

// -----

func.func @sample_rank2_scalar(%l: tensor<4x100xf32>) {
  // expected-error @+1 {{'llm.sample' op rank-2 logits give a tensor of tokens, one per row}}
  %0 = llm.sample #llm.sampling<greedy> %l : tensor<4x100xf32> -> i32
  return
}

// -----

func.func @sample_batch(%l: tensor<4x100xf32>) {
  // expected-error @+1 {{'llm.sample' op result shape 2 does not match the expected 4}}
  %0 = llm.sample #llm.sampling<greedy> %l : tensor<4x100xf32> -> tensor<2xi32>
  return
}

// -----

func.func @sample_empty(%l: tensor<0xf32>) {
  // expected-error @+1 {{'llm.sample' op logits must not be empty}}
  %0 = llm.sample #llm.sampling<greedy> %l : tensor<0xf32> -> i32
  return
}

// -----

func.func @sample_greedy_step(%l: tensor<100xf32>, %s: index) {
  // expected-error @+1 {{'llm.sample' op greedy sampling takes no step operand}}
  %0 = llm.sample #llm.sampling<greedy> %l step(%s) : tensor<100xf32> -> i32
  return
}

// -----

func.func @sample_stochastic_without_step(%l: tensor<100xf32>) {
  // expected-error @+1 {{'llm.sample' op stochastic sampling needs a step operand}}
  %0 = llm.sample #llm.sampling<temperature = 0.7> %l : tensor<100xf32> -> i32
  return
}
