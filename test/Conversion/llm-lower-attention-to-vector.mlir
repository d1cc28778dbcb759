// RUN: kvant-opt %s --llm-lower-attention-to-vector --split-input-file | FileCheck %s

// Decode against a cache: one parallel iteration per (token, key/value head),
// the two query heads of each group read once and pre-scaled, a loop over
// the keys up to the query's position only, online-softmax state carried as
// vectors, and exponentials marked approximate (`afn`: kvant-approximate-exp
// expands them to polynomials, with no libm call per lane).
// CHECK-LABEL: func.func @decode_gqa
// CHECK-SAME: (%[[Q:.*]]: tensor<1x4x8xf32>, %[[K:.*]]: tensor<16x2x8xf32>, %[[V:.*]]: tensor<16x2x8xf32>, %[[POS:.*]]: index)
func.func @decode_gqa(%q: tensor<1x4x8xf32>, %k: tensor<16x2x8xf32>, %v: tensor<16x2x8xf32>, %pos: index) -> tensor<1x4x8xf32> {
  // CHECK: %[[OUT:.*]] = scf.forall (%[[T:.*]], %[[G:.*]]) in (%{{.*}}, 2) shared_outs(%[[O:.*]] = %{{.*}}) -> (tensor<?x4x8xf32>)
  // CHECK:   %[[SCALE:.*]] = arith.constant 0.353553385 : f32
  // CHECK:   %[[Q0:.*]] = vector.transfer_read %[[Q]][%[[T]], %{{.*}}, %{{.*}}], %{{.*}} {in_bounds = [true]} : tensor<1x4x8xf32>, vector<8xf32>
  // CHECK:   arith.mulf %[[Q0]], %{{.*}} : vector<8xf32>
  // CHECK:   vector.transfer_read %[[Q]]
  // CHECK:   %[[P:.*]] = arith.addi %[[POS]], %[[T]] : index
  // CHECK:   %[[P1:.*]] = arith.addi %[[P]], %{{.*}} : index
  // CHECK:   %[[END:.*]] = arith.minsi %{{.*}}, %[[P1]] : index
  // CHECK:   %[[LOOP:.*]]:4 = scf.for %[[J:.*]] = %{{.*}} to %[[END]] step %{{.*}} iter_args(%[[M:.*]] = %{{.*}}, %[[L:.*]] = %{{.*}}, %{{.*}} = %{{.*}}, %{{.*}} = %{{.*}}) -> (vector<2xf32>, vector<2xf32>, vector<8xf32>, vector<8xf32>)
  // CHECK:     vector.transfer_read %[[K]][%[[J]], %[[G]], %{{.*}}]
  // CHECK:     vector.reduction <add>
  // CHECK:     vector.reduction <add>
  // CHECK:     %[[S:.*]] = vector.from_elements %{{.*}}, %{{.*}} : vector<2xf32>
  // CHECK-NOT: arith.select %{{.*}}, %[[S]]
  // CHECK:     arith.maximumf %[[M]], %[[S]] : vector<2xf32>
  // CHECK:     math.exp %{{.*}} fastmath<afn> : vector<2xf32>
  // CHECK:     math.exp %{{.*}} fastmath<afn> : vector<2xf32>
  // CHECK:     vector.transfer_read %[[V]][%[[J]], %[[G]], %{{.*}}]
  // CHECK:     scf.yield
  // CHECK:   tensor.extract_slice %[[O]][%[[T]], %{{.*}}, 0] [1, 2, 8] [1, 1, 1] : tensor<?x4x8xf32> to tensor<2x8xf32>
  // CHECK:   arith.divf
  // CHECK:   vector.transfer_write
  // CHECK:   arith.divf
  // CHECK:   vector.transfer_write
  // CHECK:   scf.forall.in_parallel
  // CHECK:     tensor.parallel_insert_slice %{{.*}} into %[[O]][%[[T]], %{{.*}}, 0] [1, 2, 8] [1, 1, 1]
  // CHECK: %[[CAST:.*]] = tensor.cast %[[OUT]] : tensor<?x4x8xf32> to tensor<1x4x8xf32>
  // CHECK: return %[[CAST]]
  %o = llm.attention #llm.causal %q, %k, %v offset(%pos) : tensor<1x4x8xf32>, tensor<16x2x8xf32>, tensor<16x2x8xf32> -> tensor<1x4x8xf32>
  return %o : tensor<1x4x8xf32>
}

// -----

// A mask other than causal adds its predicate per key: scores it hides are
// -inf. f16 keys and values are read as f16 and extended; the result is
// truncated to the query's f16.
// CHECK-LABEL: func.func @sliding_window_f16
func.func @sliding_window_f16(%q: tensor<?x2x8xf16>, %k: tensor<?x2x8xf16>, %v: tensor<?x2x4xf16>) -> tensor<?x2x4xf16> {
  // CHECK: scf.forall ({{.*}}) in (%{{.*}}, 2)
  // CHECK:   scf.for
  // CHECK:     %[[KEY:.*]] = vector.transfer_read {{.*}} : tensor<?x2x8xf16>, vector<8xf16>
  // CHECK:     arith.extf %[[KEY]] : vector<8xf16> to vector<8xf32>
  // CHECK:     %[[DIST:.*]] = arith.subi
  // CHECK:     arith.cmpi slt, %[[DIST]], %{{.*}} : index
  // CHECK:     %[[SEEN:.*]] = arith.andi
  // CHECK:     arith.select %[[SEEN]], %{{.*}}, %{{.*}} : vector<1xf32>
  // CHECK:   arith.truncf %{{.*}} : vector<4xf32> to vector<4xf16>
  %o = llm.attention #llm.sliding_window<3> %q, %k, %v : tensor<?x2x8xf16>, tensor<?x2x8xf16>, tensor<?x2x4xf16> -> tensor<?x2x4xf16>
  return %o : tensor<?x2x4xf16>
}

// -----

// Dynamic head sizes give no vector type: the op is left for
// convert-llm-to-linalg.
// CHECK-LABEL: func.func @dynamic_head_dim
func.func @dynamic_head_dim(%q: tensor<?x2x?xf32>, %k: tensor<?x2x?xf32>, %v: tensor<?x2x?xf32>) -> tensor<?x2x?xf32> {
  // CHECK-NOT: scf.forall
  // CHECK: llm.attention #llm.causal
  %o = llm.attention #llm.causal %q, %k, %v scale = 0.5 : tensor<?x2x?xf32>, tensor<?x2x?xf32>, tensor<?x2x?xf32> -> tensor<?x2x?xf32>
  return %o : tensor<?x2x?xf32>
}
