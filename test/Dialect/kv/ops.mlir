// RUN: kvant-opt %s | kvant-opt | FileCheck %s
// RUN: kvant-opt %s --mlir-print-op-generic | kvant-opt | FileCheck %s

!f16c = !kv.cache<layers = 22, heads = 4, head_dim = 64, page = 16, capacity = 2048, f16>
!i8c = !kv.cache<layers = 22, heads = 4, head_dim = 64, page = 16, capacity = 2048, #qt.grouped<i8, group = 64, scale = f16>>

// CHECK-LABEL: func.func @cache_types
// CHECK-SAME: !kv.cache<layers = 1, heads = 1, head_dim = 1, page = 1, capacity = 1, f32>
// CHECK-SAME: !kv.cache<layers = 32, heads = 8, head_dim = 128, page = 256, capacity = 8192, bf16>
// CHECK-SAME: !kv.cache<layers = 22, heads = 4, head_dim = 64, page = 16, capacity = 2048, #qt.grouped<i4, group = 32, scale = f16, zero = i8>>
// CHECK-SAME: !kv.cache<layers = 22, heads = 4, head_dim = 64, page = 16, capacity = 2048, #qt.grouped<f8E4M3FN, group = 64, scale = f32>>
// CHECK-SAME: !kv.cache<layers = 2, heads = 2, head_dim = 64, page = 32, capacity = 64, #qt.gguf<q8_0>>
func.func @cache_types(
    %a: !kv.cache<layers = 1, heads = 1, head_dim = 1, page = 1, capacity = 1, f32>,
    %b: !kv.cache<layers = 32, heads = 8, head_dim = 128, page = 256, capacity = 8192, bf16>,
    %c: !kv.cache<layers = 22, heads = 4, head_dim = 64, page = 16, capacity = 2048, #qt.grouped<i4, group = 32, scale = f16, zero = i8>>,
    %d: !kv.cache<layers = 22, heads = 4, head_dim = 64, page = 16, capacity = 2048, #qt.grouped<f8E4M3FN, group = 64, scale = f32>>,
    %e: !kv.cache<layers = 2, heads = 2, head_dim = 64, page = 32, capacity = 64, #qt.gguf<q8_0>>) {
  return
}

// CHECK-LABEL: func.func @decode_step
// CHECK-SAME: (%[[K:.*]]: tensor<?x4x64xf16>, %[[V:.*]]: tensor<?x4x64xf16>, %[[POS:.*]]: index, %[[N:.*]]: index)
func.func @decode_step(%k: tensor<?x4x64xf16>, %v: tensor<?x4x64xf16>, %pos: index, %n: index)
    -> (tensor<?x4x64xf16>, tensor<?x4x64xf16>) {
  // CHECK: %[[C0:.*]] = kv.empty : !kv.cache<layers = 22, heads = 4, head_dim = 64, page = 16, capacity = 2048, f16>
  %c0 = kv.empty : !f16c
  // CHECK: %[[C1:.*]] = kv.append %[[K]], %[[V]] into %[[C0]] layer 21 at %[[POS]] : tensor<?x4x64xf16> into !kv.cache<layers = 22, heads = 4, head_dim = 64, page = 16, capacity = 2048, f16>
  %c1 = kv.append %k, %v into %c0 layer 21 at %pos : tensor<?x4x64xf16> into !f16c
  // CHECK: %[[KS:.*]], %[[VS:.*]] = kv.read %[[C1]] layer 21 length %[[N]] : !kv.cache<layers = 22, heads = 4, head_dim = 64, page = 16, capacity = 2048, f16> -> tensor<?x4x64xf16>
  %ks, %vs = kv.read %c1 layer 21 length %n : !f16c -> tensor<?x4x64xf16>
  // CHECK: return %[[KS]], %[[VS]]
  return %ks, %vs : tensor<?x4x64xf16>, tensor<?x4x64xf16>
}

// CHECK-LABEL: func.func @quantized
// CHECK-SAME: (%[[C:.*]]: !kv.cache<{{.*}}, f16>, %[[K:.*]]: tensor<2048x4x64xf32>, %[[POS:.*]]: index, %[[N:.*]]: index)
func.func @quantized(%c: !f16c, %k: tensor<2048x4x64xf32>, %pos: index, %n: index)
    -> (tensor<?x4x64xbf16>, tensor<?x4x64xbf16>) {
  // CHECK: %[[Q:.*]] = kv.quantize %[[C]] : !kv.cache<layers = 22, heads = 4, head_dim = 64, page = 16, capacity = 2048, f16> -> !kv.cache<layers = 22, heads = 4, head_dim = 64, page = 16, capacity = 2048, #qt.grouped<i8, group = 64, scale = f16>>
  %q = kv.quantize %c : !f16c -> !i8c
  // CHECK: %[[Q1:.*]] = kv.append %[[K]], %[[K]] into %[[Q]] layer 0 at %[[POS]] : tensor<2048x4x64xf32> into !kv.cache<{{.*}}#qt.grouped<i8, group = 64, scale = f16>>
  %q1 = kv.append %k, %k into %q layer 0 at %pos : tensor<2048x4x64xf32> into !i8c
  // CHECK: kv.read %[[Q1]] layer 0 length %[[N]] : !kv.cache<{{.*}}> -> tensor<?x4x64xbf16>
  %ks, %vs = kv.read %q1 layer 0 length %n : !i8c -> tensor<?x4x64xbf16>
  return %ks, %vs : tensor<?x4x64xbf16>, tensor<?x4x64xbf16>
}

// CHECK-LABEL: func.func @evict
// CHECK-SAME: (%[[C:.*]]: !kv.cache<{{.*}}>, %[[N:.*]]: index, %[[S:.*]]: tensor<?xf32>)
func.func @evict(%c: !f16c, %n: index, %s: tensor<?xf32>) -> (!f16c, index) {
  // CHECK: %[[C1:.*]], %[[N1:.*]] = kv.evict %[[C]], %[[N]] policy(#kv.sink_window<sink = 4, window = 1020>) : !kv.cache<layers = 22, heads = 4, head_dim = 64, page = 16, capacity = 2048, f16>
  %c1, %n1 = kv.evict %c, %n policy(#kv.sink_window<sink = 4, window = 1020>) : !f16c
  // CHECK: %[[C2:.*]], %[[N2:.*]] = kv.evict %[[C1]], %[[N1]] policy(#kv.sink_window<sink = 0, window = 2048>) : !kv.cache
  %c2, %n2 = kv.evict %c1, %n1 policy(#kv.sink_window<sink = 0, window = 2048>) : !f16c
  // CHECK: %[[C3:.*]], %[[N3:.*]] = kv.evict %[[C2]], %[[N2]] policy(#kv.score<keep = 512>) scores(%[[S]] : tensor<?xf32>) : !kv.cache
  %c3, %n3 = kv.evict %c2, %n2 policy(#kv.score<keep = 512>) scores(%s : tensor<?xf32>) : !f16c
  // CHECK: return %[[C3]], %[[N3]]
  return %c3, %n3 : !f16c, index
}

// CHECK-LABEL: func.func @rollback
// CHECK-SAME: (%[[C:.*]]: !kv.cache<{{.*}}>, %[[N:.*]]: index)
func.func @rollback(%c: !i8c, %n: index) -> !i8c {
  // CHECK: %[[R:.*]] = kv.rollback %[[C]] to %[[N]] : !kv.cache<layers = 22, heads = 4, head_dim = 64, page = 16, capacity = 2048, #qt.grouped<i8, group = 64, scale = f16>>
  %r = kv.rollback %c to %n : !i8c
  // CHECK: return %[[R]]
  return %r : !i8c
}
