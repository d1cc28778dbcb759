// A one-layer Llama-architecture decoder (dim 64, 4 query heads and 2 KV
// heads of 16, SwiGLU MLP of 128, vocabulary 256) written in kvant's
// dialects, as `kvant-import` emits a model from GGUF: weights are referenced
// by name (`qt.weight`), never inlined; the KV cache is a value threaded
// through the step. The output projection is dequantized explicitly, which
// `qt-fuse-dequant` (part of `--kvant-optimize-pipeline`) folds away so that
// no full-precision copy of a weight is ever made.
//
// Run: kvant-opt examples/models/tiny-llama.mlir --kvant-optimize-pipeline

!cache = !kv.cache<layers = 1, heads = 2, head_dim = 16, page = 16, capacity = 128, f32>
!q8_64x64 = !qt.tensor<64x64, #qt.gguf<q8_0>>
!q8_32x64 = !qt.tensor<32x64, #qt.gguf<q8_0>>
!q4_128x64 = !qt.tensor<128x64, #qt.gguf<q4_0>>
!q8_64x128 = !qt.tensor<64x128, #qt.gguf<q8_0>>
!q8_256x64 = !qt.tensor<256x64, #qt.gguf<q8_0>>

module attributes {kvant.architecture = "llama"} {
  // Runs the model on `tokens` placed at positions [pos, pos + T): appends
  // their keys and values to the cache and returns every position's logits.
  func.func @forward(%tokens: tensor<?xi32>, %pos: index, %cache: !cache)
      -> (tensor<?x256xf32>, !cache) {
    %c0 = arith.constant 0 : index
    %n = tensor.dim %tokens, %c0 : tensor<?xi32>
    %len = arith.addi %pos, %n : index
    %positions = tensor.generate %n {
    ^bb0(%i: index):
      %p = arith.addi %pos, %i : index
      %p32 = arith.index_cast %p : index to i32
      tensor.yield %p32 : i32
    } : tensor<?xi32>

    %embd = qt.weight "token_embd.weight" : !q8_256x64
    %x0 = llm.embedding %embd, %tokens : !q8_256x64, tensor<?xi32> -> tensor<?x64xf32>

    // Attention block.
    %attn_norm = qt.weight "blk.0.attn_norm.weight" : tensor<64xf32>
    %h = llm.rms_norm %x0, %attn_norm epsilon = 1.0e-5 : tensor<?x64xf32>, tensor<64xf32>
    %wq = qt.weight "blk.0.attn_q.weight" : !q8_64x64
    %wk = qt.weight "blk.0.attn_k.weight" : !q8_32x64
    %wv = qt.weight "blk.0.attn_v.weight" : !q8_32x64
    %q = llm.linear %h, %wq : tensor<?x64xf32>, !q8_64x64 -> tensor<?x64xf32>
    %k = llm.linear %h, %wk : tensor<?x64xf32>, !q8_32x64 -> tensor<?x32xf32>
    %v = llm.linear %h, %wv : tensor<?x64xf32>, !q8_32x64 -> tensor<?x32xf32>
    %q3 = tensor.expand_shape %q [[0], [1, 2]] output_shape [%n, 4, 16] : tensor<?x64xf32> into tensor<?x4x16xf32>
    %k3 = tensor.expand_shape %k [[0], [1, 2]] output_shape [%n, 2, 16] : tensor<?x32xf32> into tensor<?x2x16xf32>
    %v3 = tensor.expand_shape %v [[0], [1, 2]] output_shape [%n, 2, 16] : tensor<?x32xf32> into tensor<?x2x16xf32>
    %qr = llm.rope normal %q3, %positions theta = 1.0e4 : tensor<?x4x16xf32>, tensor<?xi32>
    %kr = llm.rope normal %k3, %positions theta = 1.0e4 : tensor<?x2x16xf32>, tensor<?xi32>
    %cache1 = kv.append %kr, %v3 into %cache layer 0 at %pos : tensor<?x2x16xf32> into !cache
    %keys, %values = kv.read %cache1 layer 0 length %len : !cache -> tensor<?x2x16xf32>
    %att = llm.attention #llm.causal %qr, %keys, %values offset(%pos)
        : tensor<?x4x16xf32>, tensor<?x2x16xf32>, tensor<?x2x16xf32> -> tensor<?x4x16xf32>
    %att2 = tensor.collapse_shape %att [[0], [1, 2]] : tensor<?x4x16xf32> into tensor<?x64xf32>
    %wo = qt.weight "blk.0.attn_output.weight" : !q8_64x64
    %o = llm.linear %att2, %wo : tensor<?x64xf32>, !q8_64x64 -> tensor<?x64xf32>
    %x1 = arith.addf %x0, %o : tensor<?x64xf32>

    // MLP block.
    %ffn_norm = qt.weight "blk.0.ffn_norm.weight" : tensor<64xf32>
    %h2 = llm.rms_norm %x1, %ffn_norm epsilon = 1.0e-5 : tensor<?x64xf32>, tensor<64xf32>
    %gate = qt.weight "blk.0.ffn_gate.weight" : !q4_128x64
    %up = qt.weight "blk.0.ffn_up.weight" : !q4_128x64
    %down = qt.weight "blk.0.ffn_down.weight" : !q8_64x128
    %m = llm.mlp swiglu %h2 gate(%gate : !q4_128x64) up(%up : !q4_128x64) down(%down : !q8_64x128) : tensor<?x64xf32>
    %x2 = arith.addf %x1, %m : tensor<?x64xf32>

    // Output head, dequantized explicitly: qt-fuse-dequant removes the copy.
    %out_norm = qt.weight "output_norm.weight" : tensor<64xf32>
    %hf = llm.rms_norm %x2, %out_norm epsilon = 1.0e-5 : tensor<?x64xf32>, tensor<64xf32>
    %out = qt.weight "output.weight" : !q8_256x64
    %out_f32 = qt.dequantize %out : !q8_256x64 -> tensor<256x64xf32>
    %logits = llm.logits %hf, %out_f32 : tensor<?x64xf32>, tensor<256x64xf32> -> tensor<?x256xf32>
    return %logits, %cache1 : tensor<?x256xf32>, !cache
  }
}
