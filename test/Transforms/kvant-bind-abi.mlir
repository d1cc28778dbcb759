// RUN: kvant-opt %s --kvant-bind-abi --split-input-file -verify-diagnostics | FileCheck %s

// The entry gets the artifact's ABI: weights + offsets table, tokens, pos,
// cache and logits buffers; each distinct weight gets one table slot.
// CHECK-LABEL: func.func @forward
// CHECK-SAME: (%[[W:.*]]: memref<?xi8>, %[[OFF:.*]]: memref<?xi64>, %[[TOK:.*]]: memref<?xi32>, %[[POS:.*]]: index, %[[C:.*]]: memref<1x2x8x1x32xf32>, %[[L:.*]]: memref<?x16xf32>)
// CHECK-SAME: attributes {llvm.emit_c_interface}
// CHECK: %[[T:.*]] = bufferization.to_tensor %[[TOK]] restrict : memref<?xi32> to tensor<?xi32>
// CHECK: %[[CT:.*]] = bufferization.to_tensor %[[C]] restrict writable : memref<1x2x8x1x32xf32> to tensor<1x2x8x1x32xf32>
// CHECK: %[[S0:.*]] = memref.load %[[OFF]][%c0
// CHECK: %[[B0:.*]] = arith.index_cast %[[S0]] : i64 to index
// CHECK: %[[V0:.*]] = memref.view %[[W]][%[[B0]]][] : memref<?xi8> to memref<16x34xi8>
// CHECK: %[[Q:.*]] = bufferization.to_tensor %[[V0]] restrict : memref<16x34xi8> to tensor<16x34xi8>
// CHECK: qt.from_bytes %[[Q]] : tensor<16x34xi8> -> !qt.tensor<16x32, #qt.gguf<q8_0>>
// CHECK: %[[S1:.*]] = memref.load %[[OFF]][%c1
// CHECK: memref.view %[[W]][%{{.*}}][] : memref<?xi8> to memref<32xf32>
// The second use of "embd" reads slot 0 again.
// CHECK: memref.load %[[OFF]][%c0
// CHECK: bufferization.materialize_in_destination %{{.*}} in restrict writable %[[L]] : (tensor<?x16xf32>, memref<?x16xf32>) -> ()
// CHECK: bufferization.materialize_in_destination %[[CT]] in restrict writable %[[C]]
// CHECK: return
// CHECK-NOT: qt.weight
// CHECK: llvm.mlir.global external constant @kvant_descriptor("kvant-artifact 2\0Aentry _mlir_ciface_forward\0Atarget cpu\0Aarchitecture llama\0Ahparam dim 32\0Avocab 16\0Acache F32 1x2x8x1x32\0Aweight Q8_0 32x16 file embd\0Aweight F32 32 file norm\0A\00")
module attributes {kvant.architecture = "llama", kvant.hparams = {dim = 32 : i64}} {
  func.func @forward(%tokens: tensor<?xi32>, %pos: index, %cache: tensor<1x2x8x1x32xf32>)
      -> (tensor<?x16xf32>, tensor<1x2x8x1x32xf32>) {
    %e = qt.weight "embd" : !qt.tensor<16x32, #qt.gguf<q8_0>>
    %n = qt.weight "norm" : tensor<32xf32>
    %e2 = qt.weight "embd" : !qt.tensor<16x32, #qt.gguf<q8_0>>
    %x = llm.embedding %e, %tokens : !qt.tensor<16x32, #qt.gguf<q8_0>>, tensor<?xi32> -> tensor<?x32xf32>
    %h = llm.rms_norm %x, %n epsilon = 1.0e-5 : tensor<?x32xf32>, tensor<32xf32>
    %l = llm.logits %h, %e2 : tensor<?x32xf32>, !qt.tensor<16x32, #qt.gguf<q8_0>> -> tensor<?x16xf32>
    return %l, %cache : tensor<?x16xf32>, tensor<1x2x8x1x32xf32>
  }
}

// -----

// expected-error @+1 {{no entry function @forward}}
module {
  func.func @other() { return }
}

// -----

module {
  // expected-error @+1 {{'func.func' op must have the model signature}}
  func.func @forward(%tokens: tensor<?xi32>) -> tensor<?x16xf32> {
    %c = arith.constant dense<0.0> : tensor<1x16xf32>
    %d = tensor.cast %c : tensor<1x16xf32> to tensor<?x16xf32>
    return %d : tensor<?x16xf32>
  }
}

// -----

module {
  func.func @forward(%tokens: tensor<?xi32>, %pos: index, %cache: tensor<1x2x8x1x32xf32>)
      -> (tensor<?x16xf32>, tensor<1x2x8x1x32xf32>) {
    // expected-error @+1 {{'qt.weight' op weight type '!qt.tensor<16x32, #qt.grouped<i8, group = 32, scale = f16>>' has no GGUF tensor type}}
    %e = qt.weight "embd" : !qt.tensor<16x32, #qt.grouped<i8, group = 32, scale = f16>>
    %x = llm.embedding %e, %tokens : !qt.tensor<16x32, #qt.grouped<i8, group = 32, scale = f16>>, tensor<?xi32> -> tensor<?x32xf32>
    %c = arith.constant dense<0.0> : tensor<1x16xf32>
    %d = tensor.cast %c : tensor<1x16xf32> to tensor<?x16xf32>
    return %d, %cache : tensor<?x16xf32>, tensor<1x2x8x1x32xf32>
  }
}

// -----

// A weight with interleaved rows is viewed as the file's bytes like any
// other; the artifact gets the repack entry point that produces its layout,
// and the descriptor names it and each weight's layout.
// CHECK-LABEL: func.func @forward
// CHECK: qt.from_bytes %{{.*}} : tensor<16x18xi8> -> !qt.tensor<16x32, #qt.gguf<q4_0, interleave = 8>>
// CHECK-LABEL: func.func @forward_repack
// CHECK-SAME: (%[[SRC:.*]]: memref<?xi8>, %[[DST:.*]]: memref<?xi8>, %[[OFF:.*]]: memref<?xi64>)
// CHECK-SAME: attributes {llvm.emit_c_interface}
// CHECK: %[[AT:.*]] = memref.load %[[OFF]][%c1{{.*}}]
// CHECK: %[[SHIFT:.*]] = arith.index_cast %[[AT]] : i64 to index
// CHECK: %[[FROM:.*]] = memref.view %[[SRC]][%[[SHIFT]]][] : memref<?xi8> to memref<16x1x18xi8>
// CHECK: %[[TO:.*]] = memref.view %[[DST]][%[[SHIFT]]][] : memref<?xi8> to memref<2x1x144xi8>
// CHECK: scf.parallel (%[[G:.*]]) = (%c0) to (%c2) step (%c1)
// CHECK: %[[FIRST:.*]] = arith.muli %[[G]], %c8
// CHECK: scf.for %[[B:.*]] = %c0 to %c1{{.*}} step %c1
// Field by field: row r's scale at byte 2 r of the group's block, its
// nibbles at 16 + 16 r.
// CHECK: %[[ROW:.*]] = arith.addi %[[FIRST]], %c0
// CHECK: %[[D0:.*]] = vector.load %[[FROM]][%[[ROW]], %[[B]], %c0{{.*}}] : memref<16x1x18xi8>, vector<2xi8>
// CHECK: vector.store %[[D0]], %[[TO]][%[[G]], %[[B]], %c0{{.*}}] : memref<2x1x144xi8>, vector<2xi8>
// CHECK: %[[Q0:.*]] = vector.load %[[FROM]][%[[ROW]], %[[B]], %c2{{.*}}] : memref<16x1x18xi8>, vector<16xi8>
// CHECK: vector.store %[[Q0]], %[[TO]][%[[G]], %[[B]], %c16] : memref<2x1x144xi8>, vector<16xi8>
// CHECK: %[[ROW1:.*]] = arith.addi %[[FIRST]], %c1
// CHECK: %[[D1:.*]] = vector.load %[[FROM]][%[[ROW1]], %[[B]], %c0{{.*}}] : memref<16x1x18xi8>, vector<2xi8>
// CHECK: vector.store %[[D1]], %[[TO]][%[[G]], %[[B]], %c2{{.*}}] : memref<2x1x144xi8>, vector<2xi8>
// CHECK: %[[Q1:.*]] = vector.load %[[FROM]][%[[ROW1]], %[[B]], %c2{{.*}}] : memref<16x1x18xi8>, vector<16xi8>
// CHECK: vector.store %[[Q1]], %[[TO]][%[[G]], %[[B]], %c32] : memref<2x1x144xi8>, vector<16xi8>
// CHECK-COUNT-12: vector.store
// CHECK-NOT: vector.store
// CHECK: return
// CHECK: @kvant_descriptor("kvant-artifact 2{{.*}}\0Arepack _mlir_ciface_forward_repack\0Aweight Q8_0 32x16 file embd\0Aweight Q4_0 32x16 interleave8 out\0A\00")
module {
  func.func @forward(%tokens: tensor<?xi32>, %pos: index, %cache: tensor<1x2x8x1x32xf32>)
      -> (tensor<?x16xf32>, tensor<1x2x8x1x32xf32>) {
    %e = qt.weight "embd" : !qt.tensor<16x32, #qt.gguf<q8_0>>
    %o = qt.weight "out" : !qt.tensor<16x32, #qt.gguf<q4_0, interleave = 8>>
    %x = llm.embedding %e, %tokens : !qt.tensor<16x32, #qt.gguf<q8_0>>, tensor<?xi32> -> tensor<?x32xf32>
    %l = qt.matmul %x, %o : tensor<?x32xf32>, !qt.tensor<16x32, #qt.gguf<q4_0, interleave = 8>> -> tensor<?x16xf32>
    return %l, %cache : tensor<?x16xf32>, tensor<1x2x8x1x32xf32>
  }
}

// -----

// expected-error @+1 {{the repack entry point @forward_repack would shadow an existing symbol}}
module {
  func.func @forward_repack() { return }
  func.func @forward(%tokens: tensor<?xi32>, %pos: index, %cache: tensor<1x2x8x1x32xf32>)
      -> (tensor<?x16xf32>, tensor<1x2x8x1x32xf32>) {
    %e = qt.weight "embd" : !qt.tensor<16x32, #qt.gguf<q8_0>>
    %o = qt.weight "out" : !qt.tensor<16x32, #qt.gguf<q4_0, interleave = 8>>
    %x = llm.embedding %e, %tokens : !qt.tensor<16x32, #qt.gguf<q8_0>>, tensor<?xi32> -> tensor<?x32xf32>
    %l = qt.matmul %x, %o : tensor<?x32xf32>, !qt.tensor<16x32, #qt.gguf<q4_0, interleave = 8>> -> tensor<?x16xf32>
    return %l, %cache : tensor<?x16xf32>, tensor<1x2x8x1x32xf32>
  }
}
