// RUN: kvant-opt %s | kvant-opt | FileCheck %s
// RUN: kvant-opt %s --mlir-print-op-generic | kvant-opt | FileCheck %s

// CHECK-LABEL: func.func @embedding
// CHECK-SAME: (%[[TOK:.*]]: tensor<?xi32>, %[[TOK2:.*]]: tensor<2x3xi32>)
func.func @embedding(%tokens: tensor<?xi32>, %tokens2: tensor<2x3xi32>) -> (tensor<?x64xf32>, tensor<2x3x64xf16>) {
  // CHECK: %[[Q:.*]] = qt.weight "token_embd.weight"
  %q = qt.weight "token_embd.weight" : !qt.tensor<1000x64, #qt.gguf<q8_0>>
  // CHECK: %[[F:.*]] = qt.weight "token_embd_f16.weight"
  %f = qt.weight "token_embd_f16.weight" : tensor<1000x64xf16>
  // CHECK: llm.embedding %[[Q]], %[[TOK]] : !qt.tensor<1000x64, #qt.gguf<q8_0>>, tensor<?xi32> -> tensor<?x64xf32>
  %0 = llm.embedding %q, %tokens : !qt.tensor<1000x64, #qt.gguf<q8_0>>, tensor<?xi32> -> tensor<?x64xf32>
  // CHECK: llm.embedding %[[F]], %[[TOK2]] : tensor<1000x64xf16>, tensor<2x3xi32> -> tensor<2x3x64xf16>
  %1 = llm.embedding %f, %tokens2 : tensor<1000x64xf16>, tensor<2x3xi32> -> tensor<2x3x64xf16>
  return %0, %1 : tensor<?x64xf32>, tensor<2x3x64xf16>
}

// CHECK-LABEL: func.func @rms_norm
// CHECK-SAME: (%[[X:.*]]: tensor<?x64xf32>, %[[W:.*]]: tensor<64xf32>, %[[Y:.*]]: tensor<2x?x64xf16>)
func.func @rms_norm(%x: tensor<?x64xf32>, %w: tensor<64xf32>, %y: tensor<2x?x64xf16>) -> (tensor<?x64xf32>, tensor<2x?x64xf16>) {
  // CHECK: llm.rms_norm %[[X]], %[[W]] epsilon = 9.99999974E-6 : tensor<?x64xf32>, tensor<64xf32>
  %0 = llm.rms_norm %x, %w epsilon = 1.0e-5 : tensor<?x64xf32>, tensor<64xf32>
  // CHECK: llm.rms_norm %[[Y]], %[[W]] epsilon = 9.99999997E-7 : tensor<2x?x64xf16>, tensor<64xf32>
  %1 = llm.rms_norm %y, %w epsilon = 1.0e-6 : tensor<2x?x64xf16>, tensor<64xf32>
  return %0, %1 : tensor<?x64xf32>, tensor<2x?x64xf16>
}

// CHECK-LABEL: func.func @rope
// CHECK-SAME: (%[[Q:.*]]: tensor<?x4x16xf32>, %[[K:.*]]: tensor<?x2x16xf32>, %[[P:.*]]: tensor<?xi32>, %[[FF:.*]]: tensor<4xf32>)
func.func @rope(%q: tensor<?x4x16xf32>, %k: tensor<?x2x16xf32>, %pos: tensor<?xi32>, %ff: tensor<4xf32>) -> (tensor<?x4x16xf32>, tensor<?x2x16xf32>) {
  // CHECK: llm.rope normal %[[Q]], %[[P]] theta = 1.000000e+04 : tensor<?x4x16xf32>, tensor<?xi32>
  %0 = llm.rope normal %q, %pos theta = 10000.0 : tensor<?x4x16xf32>, tensor<?xi32>
  // CHECK: llm.rope neox %[[K]], %[[P]] theta = 1.000000e+06 rotary_dim = 8 freq_factors(%[[FF]] : tensor<4xf32>) : tensor<?x2x16xf32>, tensor<?xi32>
  %1 = llm.rope neox %k, %pos theta = 1.0e6 rotary_dim = 8 freq_factors(%ff : tensor<4xf32>) : tensor<?x2x16xf32>, tensor<?xi32>
  return %0, %1 : tensor<?x4x16xf32>, tensor<?x2x16xf32>
}

// CHECK-LABEL: func.func @attention_masks
// CHECK-SAME: (%[[Q:.*]]: tensor<?x4x16xf32>, %[[K:.*]]: tensor<?x2x16xf32>, %[[V:.*]]: tensor<?x2x16xf32>)
func.func @attention_masks(%q: tensor<?x4x16xf32>, %k: tensor<?x2x16xf32>, %v: tensor<?x2x16xf32>) {
  // CHECK: llm.attention #llm.causal %[[Q]], %[[K]], %[[V]] : tensor<?x4x16xf32>, tensor<?x2x16xf32>, tensor<?x2x16xf32> -> tensor<?x4x16xf32>
  %0 = llm.attention #llm.causal %q, %k, %v : tensor<?x4x16xf32>, tensor<?x2x16xf32>, tensor<?x2x16xf32> -> tensor<?x4x16xf32>
  // CHECK: llm.attention #llm.sliding_window<4096> %[[Q]], %[[K]], %[[V]] scale = 1.250000e-01 :
  %1 = llm.attention #llm.sliding_window<4096> %q, %k, %v scale = 0.125 : tensor<?x4x16xf32>, tensor<?x2x16xf32>, tensor<?x2x16xf32> -> tensor<?x4x16xf32>
  // CHECK: llm.attention #llm.sink_window<sink = 4, window = 1024> %[[Q]], %[[K]], %[[V]] :
  %2 = llm.attention #llm.sink_window<sink = 4, window = 1024> %q, %k, %v : tensor<?x4x16xf32>, tensor<?x2x16xf32>, tensor<?x2x16xf32> -> tensor<?x4x16xf32>
  // CHECK: llm.attention #llm.sink_window<sink = 4, window = 1024, max_distance = 8192> %[[Q]], %[[K]], %[[V]] :
  %3 = llm.attention #llm.sink_window<sink = 4, window = 1024, max_distance = 8192> %q, %k, %v : tensor<?x4x16xf32>, tensor<?x2x16xf32>, tensor<?x2x16xf32> -> tensor<?x4x16xf32>
  // CHECK: llm.attention #llm.block_sparse<block = 64, local = 4, global = 1> %[[Q]], %[[K]], %[[V]] :
  %4 = llm.attention #llm.block_sparse<block = 64, local = 4, global = 1> %q, %k, %v : tensor<?x4x16xf32>, tensor<?x2x16xf32>, tensor<?x2x16xf32> -> tensor<?x4x16xf32>
  // CHECK: llm.attention #llm.block_sparse<block = 128, local = 1, global = 0> %[[Q]], %[[K]], %[[V]] :
  %5 = llm.attention #llm.block_sparse<block = 128, local = 1, global = 0> %q, %k, %v : tensor<?x4x16xf32>, tensor<?x2x16xf32>, tensor<?x2x16xf32> -> tensor<?x4x16xf32>
  return
}

// A decode step against a fixed-size f16 cache; multi-head (Hq = Hkv) with a
// value head dim different from the key's.
// CHECK-LABEL: func.func @attention_decode
// CHECK-SAME: (%[[Q:.*]]: tensor<1x4x16xf16>, %[[K:.*]]: tensor<256x4x16xf16>, %[[V:.*]]: tensor<256x4x8xf16>, %[[POS:.*]]: index)
func.func @attention_decode(%q: tensor<1x4x16xf16>, %k: tensor<256x4x16xf16>, %v: tensor<256x4x8xf16>, %pos: index) -> tensor<1x4x8xf16> {
  // CHECK: llm.attention #llm.causal %[[Q]], %[[K]], %[[V]] offset(%[[POS]]) : tensor<1x4x16xf16>, tensor<256x4x16xf16>, tensor<256x4x8xf16> -> tensor<1x4x8xf16>
  %0 = llm.attention #llm.causal %q, %k, %v offset(%pos) : tensor<1x4x16xf16>, tensor<256x4x16xf16>, tensor<256x4x8xf16> -> tensor<1x4x8xf16>
  return %0 : tensor<1x4x8xf16>
}

// Verification of an 8-node draft tree after %committed tokens.
// CHECK-LABEL: func.func @attention_tree
// CHECK-SAME: (%[[Q:.*]]: tensor<8x4x16xf32>, %[[K:.*]]: tensor<?x2x16xf32>, %[[V:.*]]: tensor<?x2x16xf32>, %[[M:.*]]: tensor<8x8xi1>, %[[C:.*]]: index)
func.func @attention_tree(%q: tensor<8x4x16xf32>, %k: tensor<?x2x16xf32>, %v: tensor<?x2x16xf32>, %m: tensor<8x8xi1>, %committed: index) -> tensor<8x4x16xf32> {
  // CHECK: llm.attention #llm.tree %[[Q]], %[[K]], %[[V]] tree_mask(%[[M]] : tensor<8x8xi1>) offset(%[[C]]) scale = 2.500000e-01 : tensor<8x4x16xf32>, tensor<?x2x16xf32>, tensor<?x2x16xf32> -> tensor<8x4x16xf32>
  %0 = llm.attention #llm.tree %q, %k, %v tree_mask(%m : tensor<8x8xi1>) offset(%committed) scale = 0.25 : tensor<8x4x16xf32>, tensor<?x2x16xf32>, tensor<?x2x16xf32> -> tensor<8x4x16xf32>
  return %0 : tensor<8x4x16xf32>
}

// CHECK-LABEL: func.func @mlp
// CHECK-SAME: (%[[X:.*]]: tensor<?x64xf32>)
func.func @mlp(%x: tensor<?x64xf32>) -> (tensor<?x64xf32>, tensor<?x64xf32>, tensor<?x64xf32>) {
  // CHECK-DAG: %[[G:.*]] = qt.weight "blk.0.ffn_gate.weight"
  // CHECK-DAG: %[[U:.*]] = qt.weight "blk.0.ffn_up.weight"
  // CHECK-DAG: %[[D:.*]] = qt.weight "blk.0.ffn_down.weight"
  // CHECK-DAG: %[[UF:.*]] = qt.weight "up_f32"
  // CHECK-DAG: %[[DF:.*]] = qt.weight "down_f16"
  %g = qt.weight "blk.0.ffn_gate.weight" : !qt.tensor<128x64, #qt.gguf<q4_0>>
  %u = qt.weight "blk.0.ffn_up.weight" : !qt.tensor<128x64, #qt.gguf<q4_0>>
  %d = qt.weight "blk.0.ffn_down.weight" : !qt.tensor<64x128, #qt.gguf<q8_0>>
  %uf = qt.weight "up_f32" : tensor<128x64xf32>
  %df = qt.weight "down_f16" : tensor<64x128xf16>
  // CHECK: llm.mlp swiglu %[[X]] gate(%[[G]] : !qt.tensor<128x64, #qt.gguf<q4_0>>) up(%[[U]] : !qt.tensor<128x64, #qt.gguf<q4_0>>) down(%[[D]] : !qt.tensor<64x128, #qt.gguf<q8_0>>) : tensor<?x64xf32>
  %0 = llm.mlp swiglu %x gate(%g : !qt.tensor<128x64, #qt.gguf<q4_0>>) up(%u : !qt.tensor<128x64, #qt.gguf<q4_0>>) down(%d : !qt.tensor<64x128, #qt.gguf<q8_0>>) : tensor<?x64xf32>
  // CHECK: llm.mlp geglu %[[X]] gate(%[[UF]] : tensor<128x64xf32>) up(%[[U]] : !qt.tensor<128x64, #qt.gguf<q4_0>>) down(%[[DF]] : tensor<64x128xf16>) : tensor<?x64xf32>
  %1 = llm.mlp geglu %x gate(%uf : tensor<128x64xf32>) up(%u : !qt.tensor<128x64, #qt.gguf<q4_0>>) down(%df : tensor<64x128xf16>) : tensor<?x64xf32>
  // CHECK: llm.mlp gelu %[[X]] up(%[[UF]] : tensor<128x64xf32>) down(%[[DF]] : tensor<64x128xf16>) : tensor<?x64xf32>
  %2 = llm.mlp gelu %x up(%uf : tensor<128x64xf32>) down(%df : tensor<64x128xf16>) : tensor<?x64xf32>
  return %0, %1, %2 : tensor<?x64xf32>, tensor<?x64xf32>, tensor<?x64xf32>
}

// CHECK-LABEL: func.func @linear
// CHECK-SAME: (%[[X:.*]]: tensor<?x64xf32>, %[[XB:.*]]: tensor<2x?x64xf32>, %[[B:.*]]: tensor<32xf32>)
func.func @linear(%x: tensor<?x64xf32>, %xb: tensor<2x?x64xf32>, %b: tensor<32xf32>) -> (tensor<?x32xf32>, tensor<2x?x32xf32>, tensor<?x32xf32>) {
  // CHECK: %[[WQ:.*]] = qt.weight "blk.0.attn_k.weight"
  %wq = qt.weight "blk.0.attn_k.weight" : !qt.tensor<32x64, #qt.gguf<q8_0>>
  // CHECK: %[[WF:.*]] = qt.weight "blk.0.attn_k_f16.weight"
  %wf = qt.weight "blk.0.attn_k_f16.weight" : tensor<32x64xf16>
  // CHECK: llm.linear %[[X]], %[[WQ]] : tensor<?x64xf32>, !qt.tensor<32x64, #qt.gguf<q8_0>> -> tensor<?x32xf32>
  %0 = llm.linear %x, %wq : tensor<?x64xf32>, !qt.tensor<32x64, #qt.gguf<q8_0>> -> tensor<?x32xf32>
  // CHECK: llm.linear %[[XB]], %[[WQ]], %[[B]] : tensor<2x?x64xf32>, !qt.tensor<32x64, #qt.gguf<q8_0>>, tensor<32xf32> -> tensor<2x?x32xf32>
  %1 = llm.linear %xb, %wq, %b : tensor<2x?x64xf32>, !qt.tensor<32x64, #qt.gguf<q8_0>>, tensor<32xf32> -> tensor<2x?x32xf32>
  // CHECK: llm.linear %[[X]], %[[WF]] : tensor<?x64xf32>, tensor<32x64xf16> -> tensor<?x32xf32>
  %2 = llm.linear %x, %wf : tensor<?x64xf32>, tensor<32x64xf16> -> tensor<?x32xf32>
  return %0, %1, %2 : tensor<?x32xf32>, tensor<2x?x32xf32>, tensor<?x32xf32>
}

// The form qt-fuse-dequant rewrites into qt.matmul.
// CHECK-LABEL: func.func @linear_dequantized
func.func @linear_dequantized(%x: tensor<4x64xf32>) -> tensor<4x32xf32> {
  %w = qt.weight "w" : !qt.tensor<32x64, #qt.gguf<q4_0>>
  // CHECK: %[[D:.*]] = qt.dequantize
  %d = qt.dequantize %w : !qt.tensor<32x64, #qt.gguf<q4_0>> -> tensor<32x64xf32>
  // CHECK: llm.linear %{{.*}}, %[[D]] : tensor<4x64xf32>, tensor<32x64xf32> -> tensor<4x32xf32>
  %y = llm.linear %x, %d : tensor<4x64xf32>, tensor<32x64xf32> -> tensor<4x32xf32>
  return %y : tensor<4x32xf32>
}

// CHECK-LABEL: func.func @logits
// CHECK-SAME: (%[[H:.*]]: tensor<?x64xf32>, %[[H16:.*]]: tensor<2x5x64xf16>)
func.func @logits(%h: tensor<?x64xf32>, %h16: tensor<2x5x64xf16>) -> (tensor<?x1000xf32>, tensor<1000xf32>, tensor<2x1000xf32>, tensor<2x5x1000xf16>) {
  // CHECK: %[[W:.*]] = qt.weight "output.weight"
  %w = qt.weight "output.weight" : !qt.tensor<1000x64, #qt.gguf<q8_0>>
  // CHECK: llm.logits %[[H]], %[[W]] : tensor<?x64xf32>, !qt.tensor<1000x64, #qt.gguf<q8_0>> -> tensor<?x1000xf32>
  %0 = llm.logits %h, %w : tensor<?x64xf32>, !qt.tensor<1000x64, #qt.gguf<q8_0>> -> tensor<?x1000xf32>
  // CHECK: llm.logits %[[H]], %[[W]] last_only : tensor<?x64xf32>, !qt.tensor<1000x64, #qt.gguf<q8_0>> -> tensor<1000xf32>
  %1 = llm.logits %h, %w last_only : tensor<?x64xf32>, !qt.tensor<1000x64, #qt.gguf<q8_0>> -> tensor<1000xf32>
  // CHECK: llm.logits %[[H16]], %[[W]] last_only : tensor<2x5x64xf16>, !qt.tensor<1000x64, #qt.gguf<q8_0>> -> tensor<2x1000xf32>
  %2 = llm.logits %h16, %w last_only : tensor<2x5x64xf16>, !qt.tensor<1000x64, #qt.gguf<q8_0>> -> tensor<2x1000xf32>
  // CHECK: llm.logits %[[H16]], %[[W]] : tensor<2x5x64xf16>, !qt.tensor<1000x64, #qt.gguf<q8_0>> -> tensor<2x5x1000xf16>
  %3 = llm.logits %h16, %w : tensor<2x5x64xf16>, !qt.tensor<1000x64, #qt.gguf<q8_0>> -> tensor<2x5x1000xf16>
  return %0, %1, %2, %3 : tensor<?x1000xf32>, tensor<1000xf32>, tensor<2x1000xf32>, tensor<2x5x1000xf16>
}

// CHECK-LABEL: func.func @sample
// CHECK-SAME: (%[[L:.*]]: tensor<1000xf32>, %[[LB:.*]]: tensor<4x1000xf32>, %[[S:.*]]: index)
func.func @sample(%l: tensor<1000xf32>, %lb: tensor<4x1000xf32>, %step: index) -> (i32, i32, i32, tensor<4xi32>) {
  // CHECK: llm.sample #llm.sampling<greedy> %[[L]] : tensor<1000xf32> -> i32
  %0 = llm.sample #llm.sampling<greedy> %l : tensor<1000xf32> -> i32
  // CHECK: llm.sample #llm.sampling<temperature = 0.8> %[[L]] step(%[[S]]) : tensor<1000xf32> -> i32
  %1 = llm.sample #llm.sampling<temperature = 0.8> %l step(%step) : tensor<1000xf32> -> i32
  // CHECK: llm.sample #llm.sampling<temperature = 0.8, top_k = 40, top_p = 0.95, seed = 42> %[[L]] step(%[[S]]) : tensor<1000xf32> -> i32
  %2 = llm.sample #llm.sampling<temperature = 0.8, top_k = 40, top_p = 0.95, seed = 42> %l step(%step) : tensor<1000xf32> -> i32
  // Parameters in any order; top_p = 1 is kept as written.
  // CHECK: llm.sample #llm.sampling<temperature = 1.0, top_p = 1.0, seed = 7> %[[LB]] step(%[[S]]) : tensor<4x1000xf32> -> tensor<4xi32>
  %3 = llm.sample #llm.sampling<seed = 7, top_p = 1.0, temperature = 1.0> %lb step(%step) : tensor<4x1000xf32> -> tensor<4xi32>
  return %0, %1, %2, %3 : i32, i32, i32, tensor<4xi32>
}

// One Llama decoder block (D = 64, 4 query heads and 2 KV heads of 16, FFN
// 128) on a prefill of T tokens, Q8_0 projections.
// CHECK-LABEL: func.func @llama_block
// CHECK-SAME: (%[[H:.*]]: tensor<?x64xf32>, %[[POS:.*]]: tensor<?xi32>)
func.func @llama_block(%h: tensor<?x64xf32>, %pos: tensor<?xi32>) -> tensor<?x64xf32> {
  %attn_norm = qt.weight "blk.0.attn_norm.weight" : tensor<64xf32>
  %wq = qt.weight "blk.0.attn_q.weight" : !qt.tensor<64x64, #qt.gguf<q8_0>>
  %wk = qt.weight "blk.0.attn_k.weight" : !qt.tensor<32x64, #qt.gguf<q8_0>>
  %wv = qt.weight "blk.0.attn_v.weight" : !qt.tensor<32x64, #qt.gguf<q8_0>>
  %wo = qt.weight "blk.0.attn_output.weight" : !qt.tensor<64x64, #qt.gguf<q8_0>>
  %ffn_norm = qt.weight "blk.0.ffn_norm.weight" : tensor<64xf32>
  %gate = qt.weight "blk.0.ffn_gate.weight" : !qt.tensor<128x64, #qt.gguf<q8_0>>
  %up = qt.weight "blk.0.ffn_up.weight" : !qt.tensor<128x64, #qt.gguf<q8_0>>
  %down = qt.weight "blk.0.ffn_down.weight" : !qt.tensor<64x128, #qt.gguf<q8_0>>
  %c0 = arith.constant 0 : index
  %t = tensor.dim %h, %c0 : tensor<?x64xf32>

  // CHECK: %[[N:.*]] = llm.rms_norm %[[H]], %{{.*}} epsilon = 9.99999974E-6
  %n = llm.rms_norm %h, %attn_norm epsilon = 1.0e-5 : tensor<?x64xf32>, tensor<64xf32>
  // CHECK: %[[Q:.*]] = llm.linear %[[N]], %{{.*}} : tensor<?x64xf32>, !qt.tensor<64x64, #qt.gguf<q8_0>> -> tensor<?x64xf32>
  %q = llm.linear %n, %wq : tensor<?x64xf32>, !qt.tensor<64x64, #qt.gguf<q8_0>> -> tensor<?x64xf32>
  // CHECK: %[[K:.*]] = llm.linear %[[N]], %{{.*}} : tensor<?x64xf32>, !qt.tensor<32x64, #qt.gguf<q8_0>> -> tensor<?x32xf32>
  %k = llm.linear %n, %wk : tensor<?x64xf32>, !qt.tensor<32x64, #qt.gguf<q8_0>> -> tensor<?x32xf32>
  // CHECK: %[[V:.*]] = llm.linear %[[N]], %{{.*}} : tensor<?x64xf32>, !qt.tensor<32x64, #qt.gguf<q8_0>> -> tensor<?x32xf32>
  %v = llm.linear %n, %wv : tensor<?x64xf32>, !qt.tensor<32x64, #qt.gguf<q8_0>> -> tensor<?x32xf32>
  // CHECK: %[[Q3:.*]] = tensor.expand_shape %[[Q]]
  %q3 = tensor.expand_shape %q [[0], [1, 2]] output_shape [%t, 4, 16] : tensor<?x64xf32> into tensor<?x4x16xf32>
  // CHECK: %[[K3:.*]] = tensor.expand_shape %[[K]]
  %k3 = tensor.expand_shape %k [[0], [1, 2]] output_shape [%t, 2, 16] : tensor<?x32xf32> into tensor<?x2x16xf32>
  // CHECK: %[[V3:.*]] = tensor.expand_shape %[[V]]
  %v3 = tensor.expand_shape %v [[0], [1, 2]] output_shape [%t, 2, 16] : tensor<?x32xf32> into tensor<?x2x16xf32>
  // CHECK: %[[QR:.*]] = llm.rope normal %[[Q3]], %[[POS]] theta = 1.000000e+04
  %qr = llm.rope normal %q3, %pos theta = 10000.0 : tensor<?x4x16xf32>, tensor<?xi32>
  // CHECK: %[[KR:.*]] = llm.rope normal %[[K3]], %[[POS]] theta = 1.000000e+04
  %kr = llm.rope normal %k3, %pos theta = 10000.0 : tensor<?x2x16xf32>, tensor<?xi32>
  // CHECK: %[[A:.*]] = llm.attention #llm.causal %[[QR]], %[[KR]], %[[V3]] : tensor<?x4x16xf32>, tensor<?x2x16xf32>, tensor<?x2x16xf32> -> tensor<?x4x16xf32>
  %a = llm.attention #llm.causal %qr, %kr, %v3 : tensor<?x4x16xf32>, tensor<?x2x16xf32>, tensor<?x2x16xf32> -> tensor<?x4x16xf32>
  // CHECK: %[[A2:.*]] = tensor.collapse_shape %[[A]]
  %a2 = tensor.collapse_shape %a [[0], [1, 2]] : tensor<?x4x16xf32> into tensor<?x64xf32>
  // CHECK: %[[O:.*]] = llm.linear %[[A2]], %{{.*}} : tensor<?x64xf32>, !qt.tensor<64x64, #qt.gguf<q8_0>> -> tensor<?x64xf32>
  %o = llm.linear %a2, %wo : tensor<?x64xf32>, !qt.tensor<64x64, #qt.gguf<q8_0>> -> tensor<?x64xf32>
  // CHECK: %[[R:.*]] = arith.addf %[[H]], %[[O]] : tensor<?x64xf32>
  %r = arith.addf %h, %o : tensor<?x64xf32>
  // CHECK: %[[N2:.*]] = llm.rms_norm %[[R]], %{{.*}} epsilon = 9.99999974E-6
  %n2 = llm.rms_norm %r, %ffn_norm epsilon = 1.0e-5 : tensor<?x64xf32>, tensor<64xf32>
  // CHECK: %[[F:.*]] = llm.mlp swiglu %[[N2]] gate(%{{.*}} : !qt.tensor<128x64, #qt.gguf<q8_0>>) up(%{{.*}} : !qt.tensor<128x64, #qt.gguf<q8_0>>) down(%{{.*}} : !qt.tensor<64x128, #qt.gguf<q8_0>>) : tensor<?x64xf32>
  %f = llm.mlp swiglu %n2 gate(%gate : !qt.tensor<128x64, #qt.gguf<q8_0>>) up(%up : !qt.tensor<128x64, #qt.gguf<q8_0>>) down(%down : !qt.tensor<64x128, #qt.gguf<q8_0>>) : tensor<?x64xf32>
  // CHECK: %[[OUT:.*]] = arith.addf %[[R]], %[[F]] : tensor<?x64xf32>
  %out = arith.addf %r, %f : tensor<?x64xf32>
  // CHECK: return %[[OUT]]
  return %out : tensor<?x64xf32>
}
