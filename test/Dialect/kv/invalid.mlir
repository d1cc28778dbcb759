// RUN: kvant-opt %s -split-input-file -verify-diagnostics

// expected-error @+1 {{layers must be positive, got 0}}
func.func @zero_layers(%c: !kv.cache<layers = 0, heads = 4, head_dim = 64, page = 16, capacity = 2048, f16>)

// -----

// expected-error @+1 {{heads must be positive, got -1}}
func.func @negative_heads(%c: !kv.cache<layers = 2, heads = -1, head_dim = 64, page = 16, capacity = 2048, f16>)

// -----

// expected-error @+1 {{head_dim must be positive, got 0}}
func.func @zero_head_dim(%c: !kv.cache<layers = 2, heads = 4, head_dim = 0, page = 16, capacity = 2048, f16>)

// -----

// expected-error @+1 {{page must be positive, got 0}}
func.func @zero_page(%c: !kv.cache<layers = 2, heads = 4, head_dim = 64, page = 0, capacity = 2048, f16>)

// -----

// expected-error @+1 {{capacity must be positive, got 0}}
func.func @zero_capacity(%c: !kv.cache<layers = 2, heads = 4, head_dim = 64, page = 16, capacity = 0, f16>)

// -----

// expected-error @+1 {{capacity 1000 is not a multiple of the page size 16}}
func.func @ragged_pages(%c: !kv.cache<layers = 2, heads = 4, head_dim = 64, page = 16, capacity = 1000, f16>)

// -----

// expected-error @+1 {{element type 'f64' is not f32, f16 or bf16}}
func.func @f64_elements(%c: !kv.cache<layers = 2, heads = 4, head_dim = 64, page = 16, capacity = 2048, f64>)

// -----

// expected-error @+1 {{element type 'i8' is not f32, f16 or bf16}}
func.func @int_elements(%c: !kv.cache<layers = 2, heads = 4, head_dim = 64, page = 16, capacity = 2048, i8>)

// -----

// expected-error @+1 {{element must be f32, f16, bf16 or a quantization scheme, got "i8"}}
func.func @not_a_scheme(%c: !kv.cache<layers = 2, heads = 4, head_dim = 64, page = 16, capacity = 2048, "i8">)

// -----

// expected-error @+1 {{head_dim 64 is not a multiple of the block size 128 of grouped i4 (group 128)}}
func.func @block_too_big(%c: !kv.cache<layers = 2, heads = 4, head_dim = 64, page = 16, capacity = 2048, #qt.grouped<i4, group = 128, scale = f16>>)

// -----

// expected-error @+1 {{head_dim 80 is not a multiple of the block size 32 of q8_0}}
func.func @gguf_block(%c: !kv.cache<layers = 2, heads = 4, head_dim = 80, page = 16, capacity = 2048, #qt.gguf<q8_0>>)

// -----

!c = !kv.cache<layers = 2, heads = 4, head_dim = 64, page = 16, capacity = 2048, f16>
func.func @negative_sink(%c: !c, %n: index) {
  // expected-error @+1 {{sink must be non-negative, got -4}}
  %c1, %n1 = kv.evict %c, %n policy(#kv.sink_window<sink = -4, window = 1024>) : !c
  return
}

// -----

!c = !kv.cache<layers = 2, heads = 4, head_dim = 64, page = 16, capacity = 2048, f16>
func.func @empty_window(%c: !c, %n: index) {
  // expected-error @+1 {{window must be positive, got 0}}
  %c1, %n1 = kv.evict %c, %n policy(#kv.sink_window<sink = 4, window = 0>) : !c
  return
}

// -----

!c = !kv.cache<layers = 2, heads = 4, head_dim = 64, page = 16, capacity = 2048, f16>
func.func @keep_nothing(%c: !c, %n: index, %s: tensor<?xf32>) {
  // expected-error @+1 {{keep must be positive, got 0}}
  %c1, %n1 = kv.evict %c, %n policy(#kv.score<keep = 0>) scores(%s : tensor<?xf32>) : !c
  return
}

// -----

!c = !kv.cache<layers = 2, heads = 4, head_dim = 64, page = 16, capacity = 2048, f16>
func.func @append_layer_out_of_range(%c: !c, %k: tensor<1x4x64xf16>, %pos: index) {
  // expected-error @+1 {{'kv.append' op layer 2 is out of range for a cache of 2 layers}}
  %c1 = kv.append %k, %k into %c layer 2 at %pos : tensor<1x4x64xf16> into !c
  return
}

// -----

!c = !kv.cache<layers = 2, heads = 4, head_dim = 64, page = 16, capacity = 2048, f16>
func.func @append_wrong_heads(%c: !c, %k: tensor<1x8x64xf16>, %pos: index) {
  // expected-error @+1 {{'kv.append' op keys and values must have shape [tokens, 4, 64] (tokens, heads, head_dim), got 'tensor<1x8x64xf16>'}}
  %c1 = kv.append %k, %k into %c layer 0 at %pos : tensor<1x8x64xf16> into !c
  return
}

// -----

!c = !kv.cache<layers = 2, heads = 4, head_dim = 64, page = 16, capacity = 2048, f16>
func.func @append_wrong_head_dim(%c: !c, %k: tensor<1x4x?xf16>, %pos: index) {
  // expected-error @+1 {{'kv.append' op keys and values must have shape [tokens, 4, 64] (tokens, heads, head_dim), got 'tensor<1x4x?xf16>'}}
  %c1 = kv.append %k, %k into %c layer 0 at %pos : tensor<1x4x?xf16> into !c
  return
}

// -----

!c = !kv.cache<layers = 2, heads = 4, head_dim = 64, page = 16, capacity = 2048, f16>
func.func @append_rank2(%c: !c, %k: tensor<4x64xf16>, %pos: index) {
  // expected-error @+1 {{'kv.append' op keys and values must have shape [tokens, 4, 64] (tokens, heads, head_dim), got 'tensor<4x64xf16>'}}
  %c1 = kv.append %k, %k into %c layer 0 at %pos : tensor<4x64xf16> into !c
  return
}

// -----

!c = !kv.cache<layers = 2, heads = 4, head_dim = 64, page = 16, capacity = 2048, f16>
func.func @append_too_many(%c: !c, %k: tensor<4096x4x64xf16>, %pos: index) {
  // expected-error @+1 {{'kv.append' op appends 4096 tokens, more than the capacity of 2048}}
  %c1 = kv.append %k, %k into %c layer 0 at %pos : tensor<4096x4x64xf16> into !c
  return
}

// -----

!c = !kv.cache<layers = 2, heads = 4, head_dim = 64, page = 16, capacity = 2048, f16>
func.func @append_element_mismatch(%c: !c, %k: tensor<1x4x64xf32>, %pos: index) {
  // expected-error @+1 {{'kv.append' op keys and values have element type 'f32' but the cache stores 'f16'}}
  %c1 = kv.append %k, %k into %c layer 0 at %pos : tensor<1x4x64xf32> into !c
  return
}

// -----

!q = !kv.cache<layers = 2, heads = 4, head_dim = 64, page = 16, capacity = 2048, #qt.grouped<i8, group = 64, scale = f16>>
func.func @append_f64_to_quantized(%c: !q, %k: tensor<1x4x64xf64>, %pos: index) {
  // expected-error @+1 {{'kv.append' op keys and values have element type 'f64'; a quantized cache converts only f32, f16 and bf16}}
  %c1 = kv.append %k, %k into %c layer 0 at %pos : tensor<1x4x64xf64> into !q
  return
}

// -----

!c = !kv.cache<layers = 2, heads = 4, head_dim = 64, page = 16, capacity = 2048, f16>
func.func @append_int_keys(%c: !c, %k: tensor<1x4x64xi8>, %pos: index) {
  // expected-error @+1 {{'kv.append' op operand #0 must be ranked tensor of floating-point values, but got 'tensor<1x4x64xi8>'}}
  %c1 = kv.append %k, %k into %c layer 0 at %pos : tensor<1x4x64xi8> into !c
  return
}

// -----

!c = !kv.cache<layers = 2, heads = 4, head_dim = 64, page = 16, capacity = 2048, f16>
func.func @append_keys_values_differ(%c: !c, %k: tensor<1x4x64xf16>, %v: tensor<2x4x64xf16>, %pos: index) {
  // expected-error @+1 {{'kv.append' op failed to verify that all of {keys, values} have same type}}
  %c1 = "kv.append"(%k, %v, %c, %pos) <{layer = 0 : i64}> : (tensor<1x4x64xf16>, tensor<2x4x64xf16>, !c, index) -> !c
  return
}

// -----

!c = !kv.cache<layers = 2, heads = 4, head_dim = 64, page = 16, capacity = 2048, f16>
!d = !kv.cache<layers = 2, heads = 4, head_dim = 64, page = 16, capacity = 4096, f16>
func.func @append_result_type(%c: !c, %k: tensor<1x4x64xf16>, %pos: index) {
  // expected-error @+1 {{'kv.append' op failed to verify that all of {cache, result} have same type}}
  %c1 = "kv.append"(%k, %k, %c, %pos) <{layer = 0 : i64}> : (tensor<1x4x64xf16>, tensor<1x4x64xf16>, !c, index) -> !d
  return
}

// -----

!c = !kv.cache<layers = 2, heads = 4, head_dim = 64, page = 16, capacity = 2048, f16>
func.func @read_negative_layer(%c: !c, %n: index) {
  // expected-error @+1 {{'kv.read' op layer -1 is out of range for a cache of 2 layers}}
  %k, %v = kv.read %c layer -1 length %n : !c -> tensor<?x4x64xf16>
  return
}

// -----

!c = !kv.cache<layers = 2, heads = 4, head_dim = 64, page = 16, capacity = 2048, f16>
func.func @read_wrong_shape(%c: !c, %n: index) {
  // expected-error @+1 {{'kv.read' op keys and values must have shape [tokens, 4, 64] (tokens, heads, head_dim), got 'tensor<?x64x4xf16>'}}
  %k, %v = kv.read %c layer 0 length %n : !c -> tensor<?x64x4xf16>
  return
}

// -----

!c = !kv.cache<layers = 2, heads = 4, head_dim = 64, page = 16, capacity = 2048, f16>
func.func @read_too_many(%c: !c, %n: index) {
  // expected-error @+1 {{'kv.read' op reads 2049 tokens, more than the capacity of 2048}}
  %k, %v = kv.read %c layer 0 length %n : !c -> tensor<2049x4x64xf16>
  return
}

// -----

!c = !kv.cache<layers = 2, heads = 4, head_dim = 64, page = 16, capacity = 2048, bf16>
func.func @read_element_mismatch(%c: !c, %n: index) {
  // expected-error @+1 {{'kv.read' op keys and values have element type 'f16' but the cache stores 'bf16'}}
  %k, %v = kv.read %c layer 0 length %n : !c -> tensor<?x4x64xf16>
  return
}

// -----

!q = !kv.cache<layers = 2, heads = 4, head_dim = 64, page = 16, capacity = 2048, #qt.gguf<q8_0>>
func.func @read_quantized_as_f64(%c: !q, %n: index) {
  // expected-error @+1 {{'kv.read' op keys and values have element type 'f64'; a quantized cache converts only f32, f16 and bf16}}
  %k, %v = kv.read %c layer 0 length %n : !q -> tensor<?x4x64xf64>
  return
}

// -----

!c = !kv.cache<layers = 2, heads = 4, head_dim = 64, page = 16, capacity = 2048, f16>
func.func @read_keys_values_differ(%c: !c, %n: index) {
  // expected-error @+1 {{'kv.read' op failed to verify that all of {keys, values} have same type}}
  %k, %v = "kv.read"(%c, %n) <{layer = 0 : i64}> : (!c, index) -> (tensor<?x4x64xf16>, tensor<1x4x64xf16>)
  return
}

// -----

!q = !kv.cache<layers = 2, heads = 4, head_dim = 64, page = 16, capacity = 2048, #qt.grouped<i8, group = 64, scale = f16>>
!q4 = !kv.cache<layers = 2, heads = 4, head_dim = 64, page = 16, capacity = 2048, #qt.grouped<i4, group = 32, scale = f16>>
func.func @quantize_quantized(%c: !q) {
  // expected-error @+1 {{'kv.quantize' op input cache is already quantized in grouped i8 (group 64)}}
  %q = kv.quantize %c : !q -> !q4
  return
}

// -----

!c = !kv.cache<layers = 2, heads = 4, head_dim = 64, page = 16, capacity = 2048, f32>
!d = !kv.cache<layers = 2, heads = 4, head_dim = 64, page = 16, capacity = 2048, f16>
func.func @quantize_to_float(%c: !c) {
  // expected-error @+1 {{'kv.quantize' op result cache must have a quantization scheme, got f16}}
  %q = kv.quantize %c : !c -> !d
  return
}

// -----

!c = !kv.cache<layers = 2, heads = 4, head_dim = 64, page = 16, capacity = 2048, f16>
!q = !kv.cache<layers = 2, heads = 4, head_dim = 64, page = 32, capacity = 2048, #qt.grouped<i8, group = 64, scale = f16>>
func.func @quantize_geometry(%c: !c) {
  // expected-error @+1 {{'kv.quantize' op result must have the input's geometry: expected '!kv.cache<layers = 2, heads = 4, head_dim = 64, page = 16, capacity = 2048, #qt.grouped<i8, group = 64, scale = f16>>', got '!kv.cache<layers = 2, heads = 4, head_dim = 64, page = 32, capacity = 2048, #qt.grouped<i8, group = 64, scale = f16>>'}}
  %q = kv.quantize %c : !c -> !q
  return
}

// -----

!c = !kv.cache<layers = 2, heads = 4, head_dim = 64, page = 16, capacity = 2048, f16>
func.func @sink_window_too_big(%c: !c, %n: index) {
  // expected-error @+1 {{'kv.evict' op policy #kv.sink_window<sink = 4, window = 2048> keeps up to 2052 tokens, more than the capacity of 2048}}
  %c1, %n1 = kv.evict %c, %n policy(#kv.sink_window<sink = 4, window = 2048>) : !c
  return
}

// -----

!c = !kv.cache<layers = 2, heads = 4, head_dim = 64, page = 16, capacity = 2048, f16>
func.func @keep_too_many(%c: !c, %n: index, %s: tensor<?xf32>) {
  // expected-error @+1 {{'kv.evict' op policy #kv.score<keep = 4096> keeps up to 4096 tokens, more than the capacity of 2048}}
  %c1, %n1 = kv.evict %c, %n policy(#kv.score<keep = 4096>) scores(%s : tensor<?xf32>) : !c
  return
}

// -----

!c = !kv.cache<layers = 2, heads = 4, head_dim = 64, page = 16, capacity = 2048, f16>
func.func @sink_window_with_scores(%c: !c, %n: index, %s: tensor<?xf32>) {
  // expected-error @+1 {{'kv.evict' op policy #kv.sink_window<sink = 4, window = 1020> takes no scores}}
  %c1, %n1 = kv.evict %c, %n policy(#kv.sink_window<sink = 4, window = 1020>) scores(%s : tensor<?xf32>) : !c
  return
}

// -----

!c = !kv.cache<layers = 2, heads = 4, head_dim = 64, page = 16, capacity = 2048, f16>
func.func @score_without_scores(%c: !c, %n: index) {
  // expected-error @+1 {{'kv.evict' op policy #kv.score<keep = 512> needs a scores operand}}
  %c1, %n1 = kv.evict %c, %n policy(#kv.score<keep = 512>) : !c
  return
}

// -----

!c = !kv.cache<layers = 2, heads = 4, head_dim = 64, page = 16, capacity = 2048, f16>
func.func @scores_rank2(%c: !c, %n: index, %s: tensor<4x?xf32>) {
  // expected-error @+1 {{'kv.evict' op scores must be a rank-1 float tensor (one score per position), got 'tensor<4x?xf32>'}}
  %c1, %n1 = kv.evict %c, %n policy(#kv.score<keep = 512>) scores(%s : tensor<4x?xf32>) : !c
  return
}

// -----

!c = !kv.cache<layers = 2, heads = 4, head_dim = 64, page = 16, capacity = 2048, f16>
func.func @scores_int(%c: !c, %n: index, %s: tensor<?xi32>) {
  // expected-error @+1 {{'kv.evict' op scores must be a rank-1 float tensor (one score per position), got 'tensor<?xi32>'}}
  %c1, %n1 = kv.evict %c, %n policy(#kv.score<keep = 512>) scores(%s : tensor<?xi32>) : !c
  return
}

// -----

!c = !kv.cache<layers = 2, heads = 4, head_dim = 64, page = 16, capacity = 2048, f16>
func.func @scores_too_many(%c: !c, %n: index, %s: tensor<4096xf32>) {
  // expected-error @+1 {{'kv.evict' op scores cover 4096 positions, more than the capacity of 2048}}
  %c1, %n1 = kv.evict %c, %n policy(#kv.score<keep = 512>) scores(%s : tensor<4096xf32>) : !c
  return
}

// -----

!c = !kv.cache<layers = 2, heads = 4, head_dim = 64, page = 16, capacity = 2048, f16>
func.func @not_a_policy(%c: !c, %n: index) {
  // expected-error @+1 {{expected an eviction policy (#kv.sink_window or #kv.score), got #qt.gguf<q8_0>}}
  %c1, %n1 = kv.evict %c, %n policy(#qt.gguf<q8_0>) : !c
  return
}

// -----

!c = !kv.cache<layers = 2, heads = 4, head_dim = 64, page = 16, capacity = 2048, f16>
!d = !kv.cache<layers = 2, heads = 4, head_dim = 64, page = 16, capacity = 2048, bf16>
func.func @rollback_result_type(%c: !c, %n: index) {
  // expected-error @+1 {{'kv.rollback' op failed to verify that all of {cache, result} have same type}}
  %c1 = "kv.rollback"(%c, %n) : (!c, index) -> !d
  return
}
