// RUN: kvant-opt %s --qt-lower-to-linalg --split-input-file | FileCheck %s

// Dequantization: one parallel generic over (row, block, j) reading the raw
// bytes viewed as [rows, blocks, 34]: the f16 scale's two bytes (offsets 0 and
// 1, shared by the block) and quant j (offset 2 + j), each through a slice so
// that every indexing map is a projected permutation. The result is collapsed
// back to [rows, K].
// CHECK-DAG: #[[$BLOCK:.*]] = affine_map<(d0, d1, d2) -> (d0, d1)>
// CHECK-DAG: #[[$ID:.*]] = affine_map<(d0, d1, d2) -> (d0, d1, d2)>
// CHECK-LABEL: func.func @dequantize_q8_0
// CHECK-SAME: (%[[B:.*]]: tensor<8x68xi8>)
func.func @dequantize_q8_0(%b: tensor<8x68xi8>) -> tensor<8x64xf32> {
  // CHECK-NOT: qt.
  // CHECK: %[[V:.*]] = tensor.expand_shape %[[B]] {{\[}}[0], [1, 2]] output_shape [8, 2, 34] : tensor<8x68xi8> into tensor<8x2x34xi8>
  // CHECK: %[[E:.*]] = tensor.empty() : tensor<8x2x32xf32>
  // CHECK: %[[DLO:.*]] = tensor.extract_slice %[[V]][0, 0, 0] [8, 2, 1] [1, 1, 1] : tensor<8x2x34xi8> to tensor<8x2xi8>
  // CHECK: %[[DHI:.*]] = tensor.extract_slice %[[V]][0, 0, 1] [8, 2, 1] [1, 1, 1] : tensor<8x2x34xi8> to tensor<8x2xi8>
  // CHECK: %[[QS:.*]] = tensor.extract_slice %[[V]][0, 0, 2] [8, 2, 32] [1, 1, 1] : tensor<8x2x34xi8> to tensor<8x2x32xi8>
  // CHECK: %[[D:.*]] = linalg.generic
  // CHECK-SAME: indexing_maps = [#[[$BLOCK]], #[[$BLOCK]], #[[$ID]], #[[$ID]]]
  // CHECK-SAME: iterator_types = ["parallel", "parallel", "parallel"]
  // CHECK-SAME: ins(%[[DLO]], %[[DHI]], %[[QS]] : {{.*}}) outs(%[[E]] : tensor<8x2x32xf32>)
  // CHECK: ^bb0(%[[LO:.*]]: i8, %[[HI:.*]]: i8, %[[QB:.*]]: i8, %{{.*}}: f32):
  // CHECK-DAG: %[[LO16:.*]] = arith.extui %[[LO]] : i8 to i16
  // CHECK-DAG: %[[HI16:.*]] = arith.extui %[[HI]] : i8 to i16
  // CHECK: %[[HISH:.*]] = arith.shli %[[HI16]], %{{.*}} : i16
  // CHECK: %[[BITS:.*]] = arith.ori %[[HISH]], %[[LO16]] : i16
  // CHECK: %[[H:.*]] = arith.bitcast %[[BITS]] : i16 to f16
  // CHECK: %[[S:.*]] = arith.extf %[[H]] : f16 to f32
  // CHECK: %[[QF:.*]] = arith.sitofp %[[QB]] : i8 to f32
  // CHECK: %[[X:.*]] = arith.mulf %[[S]], %[[QF]] : f32
  // CHECK: linalg.yield %[[X]] : f32
  // CHECK: %[[R:.*]] = tensor.collapse_shape %[[D]] {{\[}}[0], [1, 2]] : tensor<8x2x32xf32> into tensor<8x64xf32>
  // CHECK: return %[[R]]
  %w = qt.from_bytes %b : tensor<8x68xi8> -> !qt.tensor<8x64, #qt.gguf<q8_0>>
  %d = qt.dequantize %w : !qt.tensor<8x64, #qt.gguf<q8_0>> -> tensor<8x64xf32>
  return %d : tensor<8x64xf32>
}

// -----

// Fused matmul over (m, n, b, j), reducing over the block b and j: x is read
// as [M, blocks, 32] at (m, b, j), the weight's bytes at (n, b) and (n, b, j).
// No dequantized weight tensor (128x64) is ever built.
// CHECK-DAG: #[[$X:.*]] = affine_map<(d0, d1, d2, d3) -> (d0, d2, d3)>
// CHECK-DAG: #[[$SCALE:.*]] = affine_map<(d0, d1, d2, d3) -> (d1, d2)>
// CHECK-DAG: #[[$Q:.*]] = affine_map<(d0, d1, d2, d3) -> (d1, d2, d3)>
// CHECK-DAG: #[[$Y:.*]] = affine_map<(d0, d1, d2, d3) -> (d0, d1)>
// CHECK-LABEL: func.func @matmul_q8_0
// CHECK-SAME: (%[[X:.*]]: tensor<4x64xf32>, %[[B:.*]]: tensor<128x68xi8>)
func.func @matmul_q8_0(%x: tensor<4x64xf32>, %b: tensor<128x68xi8>) -> tensor<4x128xf32> {
  // CHECK-NOT: tensor<128x64xf32>
  // CHECK-DAG: %[[ZERO:.*]] = arith.constant 0.000000e+00 : f32
  // CHECK-DAG: %[[XB:.*]] = tensor.expand_shape %[[X]] {{\[}}[0], [1, 2]] output_shape [4, 2, 32] : tensor<4x64xf32> into tensor<4x2x32xf32>
  // CHECK-DAG: %[[V:.*]] = tensor.expand_shape %[[B]] {{\[}}[0], [1, 2]] output_shape [128, 2, 34] : tensor<128x68xi8> into tensor<128x2x34xi8>
  // CHECK: %[[ACC:.*]] = linalg.fill ins(%[[ZERO]] : f32) outs(%{{.*}} : tensor<4x128xf32>)
  // CHECK: %[[DLO:.*]] = tensor.extract_slice %[[V]][0, 0, 0] [128, 2, 1]
  // CHECK: %[[DHI:.*]] = tensor.extract_slice %[[V]][0, 0, 1] [128, 2, 1]
  // CHECK: %[[QS:.*]] = tensor.extract_slice %[[V]][0, 0, 2] [128, 2, 32]
  // CHECK-NOT: tensor<128x64xf32>
  // CHECK: %[[Y:.*]] = linalg.generic
  // CHECK-SAME: indexing_maps = [#[[$X]], #[[$SCALE]], #[[$SCALE]], #[[$Q]], #[[$Y]]]
  // CHECK-SAME: iterator_types = ["parallel", "parallel", "reduction", "reduction"]
  // CHECK-SAME: ins(%[[XB]], %[[DLO]], %[[DHI]], %[[QS]] : {{.*}}) outs(%[[ACC]] : tensor<4x128xf32>)
  // CHECK: ^bb0(%[[XE:.*]]: f32, %{{.*}}: i8, %{{.*}}: i8, %{{.*}}: i8, %[[OUT:.*]]: f32):
  // CHECK: %[[W:.*]] = arith.mulf %{{.*}}, %{{.*}} : f32
  // CHECK: %[[P:.*]] = arith.mulf %[[XE]], %[[W]] : f32
  // CHECK: %[[S:.*]] = arith.addf %[[OUT]], %[[P]] : f32
  // CHECK: linalg.yield %[[S]] : f32
  // CHECK-NOT: tensor<128x64xf32>
  // CHECK: return %[[Y]]
  %w = qt.from_bytes %b : tensor<128x68xi8> -> !qt.tensor<128x64, #qt.gguf<q8_0>>
  %y = qt.matmul %x, %w : tensor<4x64xf32>, !qt.tensor<128x64, #qt.gguf<q8_0>> -> tensor<4x128xf32>
  return %y : tensor<4x128xf32>
}

// -----

// Q4_0 with a batch dimension, a dynamic M and f16 activations: loops
// (batch, m, n, b, h, j); quant j (offset 2 + j of the 18-byte block) gives
// its nibble h, selected through linalg.index; accumulation in f32, then one
// truncation to the f16 result. An unbound weight is read through qt.to_bytes.
// CHECK-DAG: #[[$X:.*]] = affine_map<(d0, d1, d2, d3, d4, d5) -> (d0, d1, d3, d4, d5)>
// CHECK-DAG: #[[$Q:.*]] = affine_map<(d0, d1, d2, d3, d4, d5) -> (d2, d3, d5)>
// CHECK-DAG: #[[$Y:.*]] = affine_map<(d0, d1, d2, d3, d4, d5) -> (d0, d1, d2)>
// CHECK-LABEL: func.func @matmul_q4_0_batch_dynamic
// CHECK-SAME: (%[[X:.*]]: tensor<2x?x64xf16>)
func.func @matmul_q4_0_batch_dynamic(%x: tensor<2x?x64xf16>) -> tensor<2x?x16xf16> {
  // CHECK-DAG: %[[C1:.*]] = arith.constant 1 : index
  // CHECK-DAG: %[[W:.*]] = qt.weight "w"
  // CHECK-DAG: %[[M:.*]] = tensor.dim %[[X]], %[[C1]] : tensor<2x?x64xf16>
  // CHECK: %[[XB:.*]] = tensor.expand_shape %[[X]] {{\[}}[0], [1], [2, 3, 4]] output_shape [2, %[[M]], 2, 2, 16] : tensor<2x?x64xf16> into tensor<2x?x2x2x16xf16>
  // CHECK: %[[B:.*]] = qt.to_bytes %[[W]] : !qt.tensor<16x64, #qt.gguf<q4_0>> -> tensor<16x36xi8>
  // CHECK: %[[V:.*]] = tensor.expand_shape %[[B]] {{\[}}[0], [1, 2]] output_shape [16, 2, 18]
  // CHECK: %[[ACC:.*]] = linalg.fill {{.*}} -> tensor<2x?x16xf32>
  // CHECK: %[[QS:.*]] = tensor.extract_slice %[[V]][0, 0, 2] [16, 2, 16]
  // CHECK: %[[Y:.*]] = linalg.generic
  // CHECK-SAME: indexing_maps = [#[[$X]], #{{[a-z0-9_]+}}, #{{[a-z0-9_]+}}, #[[$Q]], #[[$Y]]]
  // CHECK-SAME: iterator_types = ["parallel", "parallel", "parallel", "reduction", "reduction", "reduction"]
  // CHECK-SAME: ins(%[[XB]], %{{.*}}, %{{.*}}, %[[QS]] : {{.*}}) outs(%[[ACC]] : tensor<2x?x16xf32>)
  // CHECK: %[[H:.*]] = linalg.index 4 : index
  // CHECK: %[[H32:.*]] = arith.index_castui %[[H]] : index to i32
  // CHECK: %[[SHIFT:.*]] = arith.muli %[[H32]], %{{.*}} : i32
  // CHECK: %[[SHIFTED:.*]] = arith.shrui %{{.*}}, %[[SHIFT]] : i32
  // CHECK: %[[NIBBLE:.*]] = arith.andi %[[SHIFTED]], %{{.*}} : i32
  // CHECK: arith.subi %[[NIBBLE]], %{{.*}} : i32
  // CHECK: arith.extf %{{.*}} : f16 to f32
  // CHECK: } -> tensor<2x?x16xf32>
  // CHECK: %[[R:.*]] = linalg.generic {{.*}} ins(%[[Y]] : tensor<2x?x16xf32>)
  // CHECK: arith.truncf %{{.*}} : f32 to f16
  // CHECK: return %[[R]] : tensor<2x?x16xf16>
  %w = qt.weight "w" : !qt.tensor<16x64, #qt.gguf<q4_0>>
  %y = qt.matmul %x, %w : tensor<2x?x64xf16>, !qt.tensor<16x64, #qt.gguf<q4_0>> -> tensor<2x?x16xf16>
  return %y : tensor<2x?x16xf16>
}

// -----

// Q5_1 (24-byte blocks: d, m, 4 high-bit bytes, 16 quant bytes) over
// (m, n, b, h, g, i): element h*16 + 8g + i takes nibble h of quant byte
// 8g + i (read as [.., 2, 8] at (g, i)) and bit i of high-bit byte 2h + g
// (read as [.., 2, 2] at (h, g)).
// CHECK-DAG: #[[$X:.*]] = affine_map<(d0, d1, d2, d3, d4, d5) -> (d0, d2, d3, d4, d5)>
// CHECK-DAG: #[[$QH:.*]] = affine_map<(d0, d1, d2, d3, d4, d5) -> (d1, d2, d3, d4)>
// CHECK-DAG: #[[$QS:.*]] = affine_map<(d0, d1, d2, d3, d4, d5) -> (d1, d2, d4, d5)>
// CHECK-LABEL: func.func @matmul_q5_1
func.func @matmul_q5_1(%x: tensor<1x64xf32>, %b: tensor<8x48xi8>) -> tensor<1x8xf32> {
  // CHECK: tensor.expand_shape %{{.*}} output_shape [1, 2, 2, 2, 8]
  // CHECK: %[[V:.*]] = tensor.expand_shape %{{.*}} output_shape [8, 2, 24]
  // CHECK: %[[QH4:.*]] = tensor.extract_slice %[[V]][0, 0, 4] [8, 2, 4]
  // CHECK: %[[QH:.*]] = tensor.expand_shape %[[QH4]] {{\[}}[0], [1], [2, 3]] output_shape [8, 2, 2, 2]
  // CHECK: %[[QS16:.*]] = tensor.extract_slice %[[V]][0, 0, 8] [8, 2, 16]
  // CHECK: %[[QS:.*]] = tensor.expand_shape %[[QS16]] {{\[}}[0], [1], [2, 3]] output_shape [8, 2, 2, 8]
  // CHECK: linalg.generic
  // CHECK-SAME: indexing_maps = [#[[$X]], #{{[a-z0-9_]+}}, #{{[a-z0-9_]+}}, #{{[a-z0-9_]+}}, #{{[a-z0-9_]+}}, #[[$QH]], #[[$QS]], #{{[a-z0-9_]+}}]
  // CHECK-SAME: iterator_types = ["parallel", "parallel", "reduction", "reduction", "reduction", "reduction"]
  // CHECK-SAME: ins(%{{.*}}, %{{.*}}, %{{.*}}, %{{.*}}, %{{.*}}, %[[QH]], %[[QS]] :
  // CHECK: linalg.index 3 : index
  // CHECK: linalg.index 5 : index
  // CHECK: arith.uitofp
  // CHECK: arith.mulf
  // CHECK: arith.addf
  %w = qt.from_bytes %b : tensor<8x48xi8> -> !qt.tensor<8x64, #qt.gguf<q5_1>>
  %y = qt.matmul %x, %w : tensor<1x64xf32>, !qt.tensor<8x64, #qt.gguf<q5_1>> -> tensor<1x8xf32>
  return %y : tensor<1x8xf32>
}

// -----

// A rank-3 Q4_1 dequantization to f16: decoded in f32 (d * q + m), rounded
// once to f16.
// CHECK-DAG: #[[$Q:.*]] = affine_map<(d0, d1, d2, d3, d4) -> (d0, d1, d2, d4)>
// CHECK-LABEL: func.func @dequantize_q4_1_f16
func.func @dequantize_q4_1_f16(%b: tensor<2x4x40xi8>) -> tensor<2x4x64xf16> {
  // CHECK: %[[V:.*]] = tensor.expand_shape %{{.*}} output_shape [2, 4, 2, 20]
  // CHECK: %[[MLO:.*]] = tensor.extract_slice %[[V]][0, 0, 0, 2] [2, 4, 2, 1]
  // CHECK: %[[QS:.*]] = tensor.extract_slice %[[V]][0, 0, 0, 4] [2, 4, 2, 16]
  // CHECK: %[[D:.*]] = linalg.generic
  // CHECK-SAME: indexing_maps = [#{{[a-z0-9_]+}}, #{{[a-z0-9_]+}}, #{{[a-z0-9_]+}}, #{{[a-z0-9_]+}}, #[[$Q]], #{{[a-z0-9_]+}}]
  // CHECK-SAME: ins(%{{.*}}, %{{.*}}, %[[MLO]], %{{.*}}, %[[QS]] :
  // CHECK-SAME: outs(%{{.*}} : tensor<2x4x2x2x16xf16>)
  // CHECK: %[[V:.*]] = arith.addf
  // CHECK: %[[H:.*]] = arith.truncf %[[V]] : f32 to f16
  // CHECK: linalg.yield %[[H]] : f16
  // CHECK: tensor.collapse_shape %[[D]] {{\[}}[0], [1], [2, 3, 4]] : tensor<2x4x2x2x16xf16> into tensor<2x4x64xf16>
  %w = qt.from_bytes %b : tensor<2x4x40xi8> -> !qt.tensor<2x4x64, #qt.gguf<q4_1>>
  %d = qt.dequantize %w : !qt.tensor<2x4x64, #qt.gguf<q4_1>> -> tensor<2x4x64xf16>
  return %d : tensor<2x4x64xf16>
}
