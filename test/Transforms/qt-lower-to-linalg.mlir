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

// -----

// Q4_K (144-byte super-blocks of 256: d, dmin, scales[12], qs[128]) over
// (row, b, ch, cl, h, l) of sizes (.., 2, 2, 2, 32): element
// 128ch + 64cl + 32h + l is nibble h of qs[64ch + 32cl + l] in sub-block
// j = 4ch + 2cl + h, whose 6-bit scale and min come from scales[jl],
// scales[4 + jl] and scales[8 + jl] (jl = 2cl + h), selected by jh = ch.
// CHECK-DAG: #[[$F16:.*]] = affine_map<(d0, d1, d2, d3, d4, d5) -> (d0, d1)>
// CHECK-DAG: #[[$SCALES:.*]] = affine_map<(d0, d1, d2, d3, d4, d5) -> (d0, d1, d3, d4)>
// CHECK-DAG: #[[$QS:.*]] = affine_map<(d0, d1, d2, d3, d4, d5) -> (d0, d1, d2, d3, d5)>
// CHECK-DAG: #[[$ID:.*]] = affine_map<(d0, d1, d2, d3, d4, d5) -> (d0, d1, d2, d3, d4, d5)>
// CHECK-LABEL: func.func @dequantize_q4_k
func.func @dequantize_q4_k(%b: tensor<2x144xi8>) -> tensor<2x256xf32> {
  // CHECK: %[[V:.*]] = tensor.expand_shape %{{.*}} output_shape [2, 1, 144]
  // CHECK: %[[E:.*]] = tensor.empty() : tensor<2x1x2x2x2x32xf32>
  // CHECK: %[[D0:.*]] = tensor.extract_slice %[[V]][0, 0, 0] [2, 1, 1]
  // CHECK: %[[M1:.*]] = tensor.extract_slice %[[V]][0, 0, 3] [2, 1, 1]
  // CHECK: %[[SA4:.*]] = tensor.extract_slice %[[V]][0, 0, 4] [2, 1, 4]
  // CHECK: %[[SA:.*]] = tensor.expand_shape %[[SA4]] {{\[}}[0], [1], [2, 3]] output_shape [2, 1, 2, 2]
  // CHECK: %[[SB4:.*]] = tensor.extract_slice %[[V]][0, 0, 8] [2, 1, 4]
  // CHECK: %[[SB:.*]] = tensor.expand_shape %[[SB4]]
  // CHECK: %[[SC4:.*]] = tensor.extract_slice %[[V]][0, 0, 12] [2, 1, 4]
  // CHECK: %[[SC:.*]] = tensor.expand_shape %[[SC4]]
  // CHECK: %[[QS128:.*]] = tensor.extract_slice %[[V]][0, 0, 16] [2, 1, 128]
  // CHECK: %[[QS:.*]] = tensor.expand_shape %[[QS128]] {{\[}}[0], [1], [2, 3, 4]] output_shape [2, 1, 2, 2, 32]
  // CHECK: %[[D:.*]] = linalg.generic
  // CHECK-SAME: indexing_maps = [#[[$F16]], #[[$F16]], #[[$F16]], #[[$F16]], #[[$SCALES]], #[[$SCALES]], #[[$SCALES]], #[[$QS]], #[[$ID]]]
  // CHECK-SAME: iterator_types = ["parallel", "parallel", "parallel", "parallel", "parallel", "parallel"]
  // CHECK-SAME: ins(%[[D0]], %{{.*}}, %{{.*}}, %[[M1]], %[[SA]], %[[SB]], %[[SC]], %[[QS]] : {{.*}}) outs(%[[E]] : tensor<2x1x2x2x2x32xf32>)
  // CHECK: linalg.index 4 : index
  // CHECK: %[[JH:.*]] = linalg.index 2 : index
  // CHECK: %[[JH32:.*]] = arith.index_castui %[[JH]]
  // CHECK: %[[LOW:.*]] = arith.cmpi eq, %[[JH32]], %{{.*}} : i32
  // CHECK: %[[SCALE:.*]] = arith.select %[[LOW]], %{{.*}}, %{{.*}} : i32
  // CHECK: %[[MIN:.*]] = arith.select %[[LOW]], %{{.*}}, %{{.*}} : i32
  // CHECK: %[[SCALEF:.*]] = arith.uitofp %[[SCALE]] : i32 to f32
  // CHECK: %[[MINF:.*]] = arith.uitofp %[[MIN]] : i32 to f32
  // CHECK: %[[DL:.*]] = arith.mulf %{{.*}}, %[[SCALEF]] : f32
  // CHECK: %[[ML:.*]] = arith.mulf %{{.*}}, %[[MINF]] : f32
  // CHECK: %[[QF:.*]] = arith.uitofp %{{.*}} : i32 to f32
  // CHECK: %[[DQ:.*]] = arith.mulf %[[DL]], %[[QF]] : f32
  // CHECK: %[[X:.*]] = arith.subf %[[DQ]], %[[ML]] : f32
  // CHECK: linalg.yield %[[X]] : f32
  // CHECK: tensor.collapse_shape %[[D]] {{\[}}[0], [1, 2, 3, 4, 5]] : tensor<2x1x2x2x2x32xf32> into tensor<2x256xf32>
  %w = qt.from_bytes %b : tensor<2x144xi8> -> !qt.tensor<2x256, #qt.gguf<q4_k>>
  %d = qt.dequantize %w : !qt.tensor<2x256, #qt.gguf<q4_k>> -> tensor<2x256xf32>
  return %d : tensor<2x256xf32>
}

// -----

// Q5_K (176 bytes: Q4_K's header, qh[32], qs[128]) fused into a matmul over
// (m, n, b, ch, cl, h, l): the fifth bit of element 32j + l is bit
// j = 4ch + 2cl + h of qh[l], read at (n, b, l).
// CHECK-DAG: #[[$X:.*]] = affine_map<(d0, d1, d2, d3, d4, d5, d6) -> (d0, d2, d3, d4, d5, d6)>
// CHECK-DAG: #[[$SCALES:.*]] = affine_map<(d0, d1, d2, d3, d4, d5, d6) -> (d1, d2, d4, d5)>
// CHECK-DAG: #[[$QH:.*]] = affine_map<(d0, d1, d2, d3, d4, d5, d6) -> (d1, d2, d6)>
// CHECK-DAG: #[[$QS:.*]] = affine_map<(d0, d1, d2, d3, d4, d5, d6) -> (d1, d2, d3, d4, d6)>
// CHECK-DAG: #[[$Y:.*]] = affine_map<(d0, d1, d2, d3, d4, d5, d6) -> (d0, d1)>
// CHECK-LABEL: func.func @matmul_q5_k
func.func @matmul_q5_k(%x: tensor<1x256xf32>, %b: tensor<4x176xi8>) -> tensor<1x4xf32> {
  // CHECK: %[[XB:.*]] = tensor.expand_shape %{{.*}} output_shape [1, 1, 2, 2, 2, 32]
  // CHECK: %[[V:.*]] = tensor.expand_shape %{{.*}} output_shape [4, 1, 176]
  // CHECK: %[[QH:.*]] = tensor.extract_slice %[[V]][0, 0, 16] [4, 1, 32]
  // CHECK: %[[QS128:.*]] = tensor.extract_slice %[[V]][0, 0, 48] [4, 1, 128]
  // CHECK: %[[QS:.*]] = tensor.expand_shape %[[QS128]] {{.*}} output_shape [4, 1, 2, 2, 32]
  // CHECK: linalg.generic
  // CHECK-SAME: indexing_maps = [#[[$X]], #{{[a-z0-9_]+}}, #{{[a-z0-9_]+}}, #{{[a-z0-9_]+}}, #{{[a-z0-9_]+}}, #[[$SCALES]], #[[$SCALES]], #[[$SCALES]], #[[$QH]], #[[$QS]], #[[$Y]]]
  // CHECK-SAME: iterator_types = ["parallel", "parallel", "reduction", "reduction", "reduction", "reduction", "reduction"]
  // CHECK-SAME: ins(%[[XB]], %{{.*}}, %{{.*}}, %{{.*}}, %{{.*}}, %{{.*}}, %{{.*}}, %{{.*}}, %[[QH]], %[[QS]] :
  // CHECK: ^bb0(%[[XE:[^:]*]]: f32, {{.*}}, %[[QHB:[^:]*]]: i8, %{{[^:]*}}: i8, %[[OUT:[^:]*]]: f32):
  // CHECK: %[[NIB:.*]] = arith.andi %{{.*}}, %{{.*}} : i32
  // CHECK: %[[QHW:.*]] = arith.extui %[[QHB]] : i8 to i32
  // CHECK: %[[QHS:.*]] = arith.shrui %[[QHW]], %{{.*}} : i32
  // CHECK: %[[BIT:.*]] = arith.andi %[[QHS]], %{{.*}} : i32
  // CHECK: %[[HIGH:.*]] = arith.shli %[[BIT]], %{{.*}} : i32
  // CHECK: %[[Q:.*]] = arith.ori %[[NIB]], %[[HIGH]] : i32
  // CHECK: arith.select
  // CHECK: %[[QF:.*]] = arith.uitofp %[[Q]] : i32 to f32
  // CHECK: %[[DQ:.*]] = arith.mulf %{{.*}}, %[[QF]] : f32
  // CHECK: %[[W:.*]] = arith.subf %[[DQ]], %{{.*}} : f32
  // CHECK: %[[P:.*]] = arith.mulf %[[XE]], %[[W]] : f32
  // CHECK: %[[S:.*]] = arith.addf %[[OUT]], %[[P]] : f32
  // CHECK: linalg.yield %[[S]] : f32
  %w = qt.from_bytes %b : tensor<4x176xi8> -> !qt.tensor<4x256, #qt.gguf<q5_k>>
  %y = qt.matmul %x, %w : tensor<1x256xf32>, !qt.tensor<4x256, #qt.gguf<q5_k>> -> tensor<1x4xf32>
  return %y : tensor<1x4xf32>
}

// -----

// Q6_K (210 bytes: ql[128], qh[64], scales[16], d) over (row, b, n, kh, kl,
// lh, ll) of sizes (.., 2, 2, 2, 2, 16): element 128n + 32k + 16lh + ll
// (k = 2kh + kl) is nibble kh of ql[64n + 32kl + 16lh + ll] with bits 2k of
// qh[32n + 16lh + ll] above it, scaled by the signed scales[8n + 2k + lh].
// CHECK-DAG: #[[$QL:.*]] = affine_map<(d0, d1, d2, d3, d4, d5, d6) -> (d0, d1, d2, d4, d5, d6)>
// CHECK-DAG: #[[$QH:.*]] = affine_map<(d0, d1, d2, d3, d4, d5, d6) -> (d0, d1, d2, d5, d6)>
// CHECK-DAG: #[[$SCALES:.*]] = affine_map<(d0, d1, d2, d3, d4, d5, d6) -> (d0, d1, d2, d3, d4, d5)>
// CHECK-DAG: #[[$D:.*]] = affine_map<(d0, d1, d2, d3, d4, d5, d6) -> (d0, d1)>
// CHECK-LABEL: func.func @dequantize_q6_k
func.func @dequantize_q6_k(%b: tensor<2x420xi8>) -> tensor<2x512xf32> {
  // CHECK: %[[V:.*]] = tensor.expand_shape %{{.*}} output_shape [2, 2, 210]
  // CHECK: %[[QL128:.*]] = tensor.extract_slice %[[V]][0, 0, 0] [2, 2, 128]
  // CHECK: %[[QL:.*]] = tensor.expand_shape %[[QL128]] {{.*}} output_shape [2, 2, 2, 2, 2, 16]
  // CHECK: %[[QH64:.*]] = tensor.extract_slice %[[V]][0, 0, 128] [2, 2, 64]
  // CHECK: %[[QH:.*]] = tensor.expand_shape %[[QH64]] {{.*}} output_shape [2, 2, 2, 2, 16]
  // CHECK: %[[SC16:.*]] = tensor.extract_slice %[[V]][0, 0, 192] [2, 2, 16]
  // CHECK: %[[SC:.*]] = tensor.expand_shape %[[SC16]] {{.*}} output_shape [2, 2, 2, 2, 2, 2]
  // CHECK: %[[DLO:.*]] = tensor.extract_slice %[[V]][0, 0, 208] [2, 2, 1]
  // CHECK: %[[DHI:.*]] = tensor.extract_slice %[[V]][0, 0, 209] [2, 2, 1]
  // CHECK: linalg.generic
  // CHECK-SAME: indexing_maps = [#[[$QL]], #[[$QH]], #[[$SCALES]], #[[$D]], #[[$D]], #{{[a-z0-9_]+}}]
  // CHECK-SAME: ins(%[[QL]], %[[QH]], %[[SC]], %[[DLO]], %[[DHI]] :
  // CHECK-SAME: outs(%{{.*}} : tensor<2x2x2x2x2x2x16xf32>)
  // CHECK: ^bb0(%{{[^:]*}}: i8, %{{[^:]*}}: i8, %[[SCB:[^:]*]]: i8,
  // CHECK: %[[DF:.*]] = arith.extf %{{.*}} : f16 to f32
  // CHECK: %[[SCF:.*]] = arith.sitofp %[[SCB]] : i8 to f32
  // CHECK: %[[Q:.*]] = arith.subi %{{.*}}, %{{.*}} : i32
  // CHECK: %[[QF:.*]] = arith.sitofp %[[Q]] : i32 to f32
  // CHECK: %[[DS:.*]] = arith.mulf %[[DF]], %[[SCF]] : f32
  // CHECK: %[[X:.*]] = arith.mulf %[[DS]], %[[QF]] : f32
  // CHECK: linalg.yield %[[X]] : f32
  %w = qt.from_bytes %b : tensor<2x420xi8> -> !qt.tensor<2x512, #qt.gguf<q6_k>>
  %d = qt.dequantize %w : !qt.tensor<2x512, #qt.gguf<q6_k>> -> tensor<2x512xf32>
  return %d : tensor<2x512xf32>
}

// -----

// Q2_K (84 bytes: scales[16], qs[64], d, dmin) fused into a matmul over
// (m, n, b, h, j, lh, ll) of sizes (.., 2, 4, 2, 16): element
// 128h + 32j + 16lh + ll is bits 2j of qs[32h + 16lh + ll]; its sub-block's
// byte scales[8h + 2j + lh] holds the scale (low nibble) and min.
// CHECK-DAG: #[[$X:.*]] = affine_map<(d0, d1, d2, d3, d4, d5, d6) -> (d0, d2, d3, d4, d5, d6)>
// CHECK-DAG: #[[$SCALES:.*]] = affine_map<(d0, d1, d2, d3, d4, d5, d6) -> (d1, d2, d3, d4, d5)>
// CHECK-DAG: #[[$QS:.*]] = affine_map<(d0, d1, d2, d3, d4, d5, d6) -> (d1, d2, d3, d5, d6)>
// CHECK-DAG: #[[$F16:.*]] = affine_map<(d0, d1, d2, d3, d4, d5, d6) -> (d1, d2)>
// CHECK-DAG: #[[$Y:.*]] = affine_map<(d0, d1, d2, d3, d4, d5, d6) -> (d0, d1)>
// CHECK-LABEL: func.func @matmul_q2_k
func.func @matmul_q2_k(%x: tensor<3x256xf32>, %b: tensor<8x84xi8>) -> tensor<3x8xf32> {
  // CHECK: tensor.expand_shape %{{.*}} output_shape [3, 1, 2, 4, 2, 16]
  // CHECK: %[[V:.*]] = tensor.expand_shape %{{.*}} output_shape [8, 1, 84]
  // CHECK: %[[SC16:.*]] = tensor.extract_slice %[[V]][0, 0, 0] [8, 1, 16]
  // CHECK: %[[SC:.*]] = tensor.expand_shape %[[SC16]] {{.*}} output_shape [8, 1, 2, 4, 2]
  // CHECK: %[[QS64:.*]] = tensor.extract_slice %[[V]][0, 0, 16] [8, 1, 64]
  // CHECK: %[[QS:.*]] = tensor.expand_shape %[[QS64]] {{.*}} output_shape [8, 1, 2, 2, 16]
  // CHECK: tensor.extract_slice %[[V]][0, 0, 80] [8, 1, 1]
  // CHECK: tensor.extract_slice %[[V]][0, 0, 83] [8, 1, 1]
  // CHECK: linalg.generic
  // CHECK-SAME: indexing_maps = [#[[$X]], #[[$SCALES]], #[[$QS]], #[[$F16]], #[[$F16]], #[[$F16]], #[[$F16]], #[[$Y]]]
  // CHECK-SAME: iterator_types = ["parallel", "parallel", "reduction", "reduction", "reduction", "reduction", "reduction"]
  // CHECK-SAME: ins(%{{[^,]*}}, %[[SC]], %[[QS]], %{{[^,]*}}, %{{[^,]*}}, %{{[^,]*}}, %{{[^ ]*}} :
  // CHECK: ^bb0(%{{[^:]*}}: f32, %[[SCB:[^:]*]]: i8,
  // CHECK: %[[PACKED:.*]] = arith.extui %[[SCB]] : i8 to i32
  // CHECK: %[[SCALE:.*]] = arith.andi %[[PACKED]], %{{.*}} : i32
  // CHECK: %[[MIN:.*]] = arith.shrui %[[PACKED]], %{{.*}} : i32
  // CHECK: %[[J:.*]] = linalg.index 4 : index
  // CHECK: %[[J32:.*]] = arith.index_castui %[[J]] : index to i32
  // CHECK: %[[SHIFT:.*]] = arith.muli %[[J32]], %{{.*}} : i32
  // CHECK: arith.shrui %{{.*}}, %[[SHIFT]] : i32
  // CHECK: arith.subf
  %w = qt.from_bytes %b : tensor<8x84xi8> -> !qt.tensor<8x256, #qt.gguf<q2_k>>
  %y = qt.matmul %x, %w : tensor<3x256xf32>, !qt.tensor<8x256, #qt.gguf<q2_k>> -> tensor<3x8xf32>
  return %y : tensor<3x8xf32>
}

// -----

// Q3_K (110 bytes: hmask[32], qs[64], scales[12], d) over (row, b, n, jh,
// jl, lh, ll) of sizes (.., 2, 2, 2, 2, 16): element 128n + 32j + 16lh + ll
// (j = 2jh + jl) reads hmask[16lh + ll] (bit 4n + j), qs[32n + 16lh + ll]
// (bits 2j), and its sub-block's 6-bit scale from scales[4jh + 2jl + lh]
// (nibble n) and scales[8 + 2jl + lh] (bits 2(2n + jh)).
// CHECK-DAG: #[[$HMASK:.*]] = affine_map<(d0, d1, d2, d3, d4, d5, d6) -> (d0, d1, d5, d6)>
// CHECK-DAG: #[[$QS:.*]] = affine_map<(d0, d1, d2, d3, d4, d5, d6) -> (d0, d1, d2, d5, d6)>
// CHECK-DAG: #[[$SLOW:.*]] = affine_map<(d0, d1, d2, d3, d4, d5, d6) -> (d0, d1, d3, d4, d5)>
// CHECK-DAG: #[[$SHIGH:.*]] = affine_map<(d0, d1, d2, d3, d4, d5, d6) -> (d0, d1, d4, d5)>
// CHECK-DAG: #[[$D:.*]] = affine_map<(d0, d1, d2, d3, d4, d5, d6) -> (d0, d1)>
// CHECK-LABEL: func.func @dequantize_q3_k
func.func @dequantize_q3_k(%b: tensor<4x110xi8>) -> tensor<4x256xf32> {
  // CHECK: %[[V:.*]] = tensor.expand_shape %{{.*}} output_shape [4, 1, 110]
  // CHECK: %[[HM32:.*]] = tensor.extract_slice %[[V]][0, 0, 0] [4, 1, 32]
  // CHECK: %[[HM:.*]] = tensor.expand_shape %[[HM32]] {{.*}} output_shape [4, 1, 2, 16]
  // CHECK: %[[QS64:.*]] = tensor.extract_slice %[[V]][0, 0, 32] [4, 1, 64]
  // CHECK: %[[QS:.*]] = tensor.expand_shape %[[QS64]] {{.*}} output_shape [4, 1, 2, 2, 16]
  // CHECK: %[[SL8:.*]] = tensor.extract_slice %[[V]][0, 0, 96] [4, 1, 8]
  // CHECK: %[[SL:.*]] = tensor.expand_shape %[[SL8]] {{.*}} output_shape [4, 1, 2, 2, 2]
  // CHECK: %[[SH4:.*]] = tensor.extract_slice %[[V]][0, 0, 104] [4, 1, 4]
  // CHECK: %[[SH:.*]] = tensor.expand_shape %[[SH4]] {{.*}} output_shape [4, 1, 2, 2]
  // CHECK: tensor.extract_slice %[[V]][0, 0, 108] [4, 1, 1]
  // CHECK: tensor.extract_slice %[[V]][0, 0, 109] [4, 1, 1]
  // CHECK: linalg.generic
  // CHECK-SAME: indexing_maps = [#[[$HMASK]], #[[$QS]], #[[$SLOW]], #[[$SHIGH]], #[[$D]], #[[$D]], #{{[a-z0-9_]+}}]
  // CHECK-SAME: ins(%[[HM]], %[[QS]], %[[SL]], %[[SH]], %{{[^,]*}}, %{{[^ ]*}} :
  // CHECK-SAME: outs(%{{.*}} : tensor<4x1x2x2x2x2x16xf32>)
  // CHECK: ^bb0(%[[HMB:[^:]*]]: i8,
  // CHECK: %[[SCALE:.*]] = arith.subi %{{.*}}, %{{.*}} : i32
  // CHECK: %[[SCALEF:.*]] = arith.sitofp %[[SCALE]] : i32 to f32
  // CHECK: %[[DL:.*]] = arith.mulf %{{.*}}, %[[SCALEF]] : f32
  // CHECK: %[[HMW:.*]] = arith.extui %[[HMB]] : i8 to i32
  // CHECK: %[[HMS:.*]] = arith.shrui %[[HMW]], %{{.*}} : i32
  // CHECK: %[[BIT:.*]] = arith.andi %[[HMS]], %{{.*}} : i32
  // CHECK: %[[NOBIT:.*]] = arith.xori %[[BIT]], %{{.*}} : i32
  // CHECK: %[[OFF:.*]] = arith.shli %[[NOBIT]], %{{.*}} : i32
  // CHECK: %[[Q:.*]] = arith.subi %{{.*}}, %[[OFF]] : i32
  // CHECK: %[[QF:.*]] = arith.sitofp %[[Q]] : i32 to f32
  // CHECK: %[[X:.*]] = arith.mulf %[[DL]], %[[QF]] : f32
  // CHECK: linalg.yield %[[X]] : f32
  %w = qt.from_bytes %b : tensor<4x110xi8> -> !qt.tensor<4x256, #qt.gguf<q3_k>>
  %d = qt.dequantize %w : !qt.tensor<4x256, #qt.gguf<q3_k>> -> tensor<4x256xf32>
  return %d : tensor<4x256xf32>
}
