// RUN: kvant-opt %s --kv-lower-to-tensor --split-input-file -verify-diagnostics | FileCheck %s

!cache = !kv.cache<layers = 2, heads = 2, head_dim = 16, page = 16, capacity = 64, f32>

// Appends write keys then values of one layer at the position; reads take
// the first `length` positions; the cache threads through the signature.
// CHECK-LABEL: func.func @append_read
// CHECK-SAME: (%[[K:.*]]: tensor<?x2x16xf32>, %[[V:.*]]: tensor<?x2x16xf32>, %[[POS:.*]]: index, %[[LEN:.*]]: index, %[[C:.*]]: tensor<2x2x64x2x16xf32>)
// CHECK-SAME: -> (tensor<?x2x16xf32>, tensor<?x2x16xf32>, tensor<2x2x64x2x16xf32>)
func.func @append_read(%k: tensor<?x2x16xf32>, %v: tensor<?x2x16xf32>, %pos: index, %len: index, %c: !cache)
    -> (tensor<?x2x16xf32>, tensor<?x2x16xf32>, !cache) {
  // CHECK: %[[N:.*]] = tensor.dim %[[K]], %c0
  // CHECK: %[[C1:.*]] = tensor.insert_slice %[[K]] into %[[C]][1, 0, %[[POS]], 0, 0] [1, 1, %[[N]], 2, 16] [1, 1, 1, 1, 1]
  // CHECK: %[[C2:.*]] = tensor.insert_slice %[[V]] into %[[C1]][1, 1, %[[POS]], 0, 0] [1, 1, %[[N]], 2, 16] [1, 1, 1, 1, 1]
  %c1 = kv.append %k, %v into %c layer 1 at %pos : tensor<?x2x16xf32> into !cache
  // CHECK: %[[KS:.*]] = tensor.extract_slice %[[C2]][1, 0, 0, 0, 0] [1, 1, %[[LEN]], 2, 16] [1, 1, 1, 1, 1] : tensor<2x2x64x2x16xf32> to tensor<?x2x16xf32>
  // CHECK: %[[VS:.*]] = tensor.extract_slice %[[C2]][1, 1, 0, 0, 0] [1, 1, %[[LEN]], 2, 16] [1, 1, 1, 1, 1] : tensor<2x2x64x2x16xf32> to tensor<?x2x16xf32>
  %ks, %vs = kv.read %c1 layer 1 length %len : !cache -> tensor<?x2x16xf32>
  // CHECK: return %[[KS]], %[[VS]], %[[C2]]
  return %ks, %vs, %c1 : tensor<?x2x16xf32>, tensor<?x2x16xf32>, !cache
}

// -----

!cache = !kv.cache<layers = 1, heads = 1, head_dim = 8, page = 4, capacity = 8, f16>

// A fresh cache is an uninitialized tensor; rollback leaves the storage as is.
// CHECK-LABEL: func.func @empty_rollback
// CHECK-SAME: -> tensor<1x2x8x1x8xf16>
func.func @empty_rollback(%n: index) -> !cache {
  // CHECK: %[[E:.*]] = tensor.empty() : tensor<1x2x8x1x8xf16>
  // CHECK-NOT: kv.
  // CHECK: return %[[E]]
  %c = kv.empty : !cache
  %r = kv.rollback %c to %n : !cache
  return %r : !cache
}

// -----

!cache = !kv.cache<layers = 1, heads = 1, head_dim = 8, page = 4, capacity = 8, f16>

// Calls pass the lowered cache along.
// CHECK-LABEL: func.func @caller
// CHECK: call @callee(%{{.*}}) : (tensor<1x2x8x1x8xf16>) -> tensor<1x2x8x1x8xf16>
func.func private @callee(!cache) -> !cache
func.func @caller(%c: !cache) -> !cache {
  %r = func.call @callee(%c) : (!cache) -> !cache
  return %r : !cache
}

// -----

!cache = !kv.cache<layers = 1, heads = 1, head_dim = 8, page = 4, capacity = 8, f32>

func.func @evict_not_lowered(%c: !cache, %n: index) -> !cache {
  // expected-error @+1 {{'kv.evict' op is not lowered yet by kv-lower-to-tensor}}
  %kept, %len = kv.evict %c, %n policy(#kv.sink_window<sink = 2, window = 4>) : !cache
  return %kept : !cache
}

// -----

!q = !kv.cache<layers = 1, heads = 1, head_dim = 32, page = 4, capacity = 8, #qt.grouped<i8, group = 32, scale = f16>>

func.func @quantized_not_lowered() -> !q {
  // expected-error @+1 {{'kv.empty' op quantized KV caches are not lowered yet}}
  %c = kv.empty : !q
  return %c : !q
}
