// RUN: kvant-opt %s --qt-lower-to-linalg --split-input-file | FileCheck %s

// The lookup-table and ternary formats (IQ4_NL, MXFP4, TQ1_0, TQ2_0) through
// the same block-split generics as Q4_0 & co. A 16-entry table of int8 levels
// is two i64 constants (entries 0-7 and 8-15, little-endian bytes): the entry
// is shifted out of the word its index selects.

// IQ4_NL: Q4_0's layout (f16 d, then 16 bytes of nibbles, loops (h, j)), the
// nibble indexing kvalues_iq4nl = [-127, -104, ..., -10 | 1, 13, ..., 113]:
// -654466911485192063 = 0xF6EADDCFBFAD9881, 8167635493787864321 =
// 0x7159453526190D01.
// CHECK-DAG: #[[$BLOCK:.*]] = affine_map<(d0, d1, d2, d3) -> (d0, d1)>
// CHECK-DAG: #[[$QS:.*]] = affine_map<(d0, d1, d2, d3) -> (d0, d1, d3)>
// CHECK-DAG: #[[$ID:.*]] = affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>
// CHECK-LABEL: func.func @dequantize_iq4_nl
// CHECK-SAME: (%[[B:.*]]: tensor<4x36xi8>)
func.func @dequantize_iq4_nl(%b: tensor<4x36xi8>) -> tensor<4x64xf32> {
  // CHECK-NOT: qt.
  // CHECK-DAG: %[[HIGH:.*]] = arith.constant 8167635493787864321 : i64
  // CHECK-DAG: %[[LOW:.*]] = arith.constant -654466911485192063 : i64
  // CHECK: %[[V:.*]] = tensor.expand_shape %[[B]] {{\[}}[0], [1, 2]] output_shape [4, 2, 18]
  // CHECK: %[[E:.*]] = tensor.empty() : tensor<4x2x2x16xf32>
  // CHECK: %[[DLO:.*]] = tensor.extract_slice %[[V]][0, 0, 0] [4, 2, 1]
  // CHECK: %[[DHI:.*]] = tensor.extract_slice %[[V]][0, 0, 1] [4, 2, 1]
  // CHECK: %[[QS:.*]] = tensor.extract_slice %[[V]][0, 0, 2] [4, 2, 16] [1, 1, 1] : tensor<4x2x18xi8> to tensor<4x2x16xi8>
  // CHECK: %[[D:.*]] = linalg.generic
  // CHECK-SAME: indexing_maps = [#[[$BLOCK]], #[[$BLOCK]], #[[$QS]], #[[$ID]]]
  // CHECK-SAME: ins(%[[DLO]], %[[DHI]], %[[QS]] : {{.*}}) outs(%[[E]] : tensor<4x2x2x16xf32>)
  // CHECK: ^bb0(%{{.*}}: i8, %{{.*}}: i8, %[[QB:.*]]: i8, %{{.*}}: f32):
  // CHECK: %[[S:.*]] = arith.extf %{{.*}} : f16 to f32
  // CHECK: %[[H:.*]] = linalg.index 2 : index
  // CHECK: %[[Q:.*]] = arith.extui %[[QB]] : i8 to i32
  // CHECK: %[[SH:.*]] = arith.shrui %[[Q]], %{{.*}} : i32
  // CHECK: %[[NIB:.*]] = arith.andi %[[SH]], %{{.*}} : i32
  // CHECK: %[[IDX:.*]] = arith.extui %[[NIB]] : i32 to i64
  // CHECK: %[[INW:.*]] = arith.andi %[[IDX]], %{{.*}} : i64
  // CHECK: %[[BITS:.*]] = arith.muli %[[INW]], %{{.*}} : i64
  // CHECK: %[[ISHIGH:.*]] = arith.cmpi uge, %[[IDX]], %{{.*}} : i64
  // CHECK: %[[WORD:.*]] = arith.select %[[ISHIGH]], %[[HIGH]], %[[LOW]] : i64
  // CHECK: %[[ENTRY:.*]] = arith.shrui %[[WORD]], %[[BITS]] : i64
  // CHECK: %[[L8:.*]] = arith.trunci %[[ENTRY]] : i64 to i8
  // CHECK: %[[L32:.*]] = arith.extsi %[[L8]] : i8 to i32
  // CHECK: %[[LF:.*]] = arith.sitofp %[[L32]] : i32 to f32
  // CHECK: %[[X:.*]] = arith.mulf %[[S]], %[[LF]] : f32
  // CHECK: linalg.yield %[[X]] : f32
  // CHECK: tensor.collapse_shape %[[D]] {{\[}}[0], [1, 2, 3]] : tensor<4x2x2x16xf32> into tensor<4x64xf32>
  %w = qt.from_bytes %b : tensor<4x36xi8> -> !qt.tensor<4x64, #qt.gguf<iq4_nl>>
  %d = qt.dequantize %w : !qt.tensor<4x64, #qt.gguf<iq4_nl>> -> tensor<4x64xf32>
  return %d : tensor<4x64xf32>
}

// -----

// MXFP4: the e8m0 exponent byte at offset 0, nibbles from offset 1. The scale
// is ggml_e8m0_to_fp32_half: 0x00200000 << e (a subnormal) for e < 2, else
// (e - 1) << 23, as f32 bits; kvalues_mxfp4 = [0, 1, 2, 3, 4, 6, 8, 12 | 0,
// -1, ..., -12]: 866949542568919296 = 0x0C08060403020100,
// -794609369730842880 = 0xF4F8FAFCFDFEFF00.
// CHECK-DAG: #[[$X:.*]] = affine_map<(d0, d1, d2, d3, d4) -> (d0, d2, d3, d4)>
// CHECK-DAG: #[[$E:.*]] = affine_map<(d0, d1, d2, d3, d4) -> (d1, d2)>
// CHECK-DAG: #[[$QS:.*]] = affine_map<(d0, d1, d2, d3, d4) -> (d1, d2, d4)>
// CHECK-DAG: #[[$Y:.*]] = affine_map<(d0, d1, d2, d3, d4) -> (d0, d1)>
// CHECK-LABEL: func.func @matmul_mxfp4
// CHECK-SAME: (%[[X:.*]]: tensor<1x64xf32>, %[[B:.*]]: tensor<8x34xi8>)
func.func @matmul_mxfp4(%x: tensor<1x64xf32>, %b: tensor<8x34xi8>) -> tensor<1x8xf32> {
  // CHECK-DAG: %[[HIGH:.*]] = arith.constant -794609369730842880 : i64
  // CHECK-DAG: %[[LOW:.*]] = arith.constant 866949542568919296 : i64
  // CHECK-DAG: %[[C23:.*]] = arith.constant 23 : i32
  // CHECK-DAG: %[[SMALLEST:.*]] = arith.constant 2097152 : i32
  // CHECK-DAG: %[[XB:.*]] = tensor.expand_shape %[[X]] {{\[}}[0], [1, 2, 3]] output_shape [1, 2, 2, 16]
  // CHECK-DAG: %[[V:.*]] = tensor.expand_shape %[[B]] {{\[}}[0], [1, 2]] output_shape [8, 2, 17]
  // CHECK: %[[EB:.*]] = tensor.extract_slice %[[V]][0, 0, 0] [8, 2, 1]
  // CHECK: %[[QS:.*]] = tensor.extract_slice %[[V]][0, 0, 1] [8, 2, 16] [1, 1, 1] : tensor<8x2x17xi8> to tensor<8x2x16xi8>
  // CHECK: linalg.generic
  // CHECK-SAME: indexing_maps = [#[[$X]], #[[$E]], #[[$QS]], #[[$Y]]]
  // CHECK-SAME: iterator_types = ["parallel", "parallel", "reduction", "reduction", "reduction"]
  // CHECK-SAME: ins(%[[XB]], %[[EB]], %[[QS]] : {{.*}})
  // CHECK: ^bb0(%[[XE:.*]]: f32, %[[E8:.*]]: i8, %{{.*}}: i8, %[[OUT:.*]]: f32):
  // CHECK: %[[E:.*]] = arith.extui %[[E8]] : i8 to i32
  // CHECK: %[[ELOW:.*]] = arith.andi %[[E]], %{{.*}} : i32
  // CHECK: %[[SUB:.*]] = arith.shli %[[SMALLEST]], %[[ELOW]] : i32
  // CHECK: %[[EM1:.*]] = arith.subi %[[E]], %{{.*}} : i32
  // CHECK: %[[NORM:.*]] = arith.shli %[[EM1]], %[[C23]] : i32
  // CHECK: %[[ISSUB:.*]] = arith.cmpi ult, %[[E]], %{{.*}} : i32
  // CHECK: %[[SBITS:.*]] = arith.select %[[ISSUB]], %[[SUB]], %[[NORM]] : i32
  // CHECK: %[[S:.*]] = arith.bitcast %[[SBITS]] : i32 to f32
  // CHECK: arith.select %{{.*}}, %[[HIGH]], %[[LOW]] : i64
  // CHECK: %[[LF:.*]] = arith.sitofp %{{.*}} : i32 to f32
  // CHECK: %[[W:.*]] = arith.mulf %[[S]], %[[LF]] : f32
  // CHECK: %[[P:.*]] = arith.mulf %[[XE]], %[[W]] : f32
  // CHECK: %[[SUM:.*]] = arith.addf %[[OUT]], %[[P]] : f32
  // CHECK: linalg.yield %[[SUM]] : f32
  %w = qt.from_bytes %b : tensor<8x34xi8> -> !qt.tensor<8x64, #qt.gguf<mxfp4>>
  %y = qt.matmul %x, %w : tensor<1x64xf32>, !qt.tensor<8x64, #qt.gguf<mxfp4>> -> tensor<1x8xf32>
  return %y : tensor<1x8xf32>
}

// -----

// TQ2_0 with a dynamic M and f16 activations: loops (m, n, b, c, s, j);
// element 128c + 32s + j is bits 2s, 2s+1 of qs[32c + j], read through the
// 64 quant bytes split into [2, 32] at (n, b, c, j); the f16 d trails the
// 66-byte block (offsets 64, 65). x = (q - 1) * d.
// CHECK-DAG: #[[$X:.*]] = affine_map<(d0, d1, d2, d3, d4, d5) -> (d0, d2, d3, d4, d5)>
// CHECK-DAG: #[[$QS:.*]] = affine_map<(d0, d1, d2, d3, d4, d5) -> (d1, d2, d3, d5)>
// CHECK-DAG: #[[$D:.*]] = affine_map<(d0, d1, d2, d3, d4, d5) -> (d1, d2)>
// CHECK-DAG: #[[$Y:.*]] = affine_map<(d0, d1, d2, d3, d4, d5) -> (d0, d1)>
// CHECK-LABEL: func.func @matmul_tq2_0_f16
// CHECK-SAME: (%[[X:.*]]: tensor<?x512xf16>, %[[B:.*]]: tensor<8x132xi8>)
func.func @matmul_tq2_0_f16(%x: tensor<?x512xf16>, %b: tensor<8x132xi8>) -> tensor<?x8xf16> {
  // CHECK: %[[XB:.*]] = tensor.expand_shape %[[X]] {{\[}}[0], [1, 2, 3, 4]] output_shape [%{{.*}}, 2, 2, 4, 32] : tensor<?x512xf16> into tensor<?x2x2x4x32xf16>
  // CHECK: %[[V:.*]] = tensor.expand_shape %[[B]] {{\[}}[0], [1, 2]] output_shape [8, 2, 66]
  // CHECK: %[[QS:.*]] = tensor.extract_slice %[[V]][0, 0, 0] [8, 2, 64]
  // CHECK: %[[QSS:.*]] = tensor.expand_shape %[[QS]] {{\[}}[0], [1], [2, 3]] output_shape [8, 2, 2, 32] : tensor<8x2x64xi8> into tensor<8x2x2x32xi8>
  // CHECK: %[[DLO:.*]] = tensor.extract_slice %[[V]][0, 0, 64] [8, 2, 1]
  // CHECK: %[[DHI:.*]] = tensor.extract_slice %[[V]][0, 0, 65] [8, 2, 1]
  // CHECK: %[[ACC:.*]] = linalg.generic
  // CHECK-SAME: indexing_maps = [#[[$X]], #[[$QS]], #[[$D]], #[[$D]], #[[$Y]]]
  // CHECK-SAME: iterator_types = ["parallel", "parallel", "reduction", "reduction", "reduction", "reduction"]
  // CHECK-SAME: ins(%[[XB]], %[[QSS]], %[[DLO]], %[[DHI]] : {{.*}}) outs(%{{.*}} : tensor<?x8xf32>)
  // CHECK: ^bb0(%[[XE:.*]]: f16, %[[QB:.*]]: i8, %{{.*}}: i8, %{{.*}}: i8, %[[OUT:.*]]: f32):
  // CHECK: %[[S:.*]] = arith.extf %{{.*}} : f16 to f32
  // CHECK: %[[SI:.*]] = linalg.index 4 : index
  // CHECK: %[[SPOS:.*]] = arith.index_castui %[[SI]] : index to i32
  // CHECK: %[[Q:.*]] = arith.extui %[[QB]] : i8 to i32
  // CHECK: %[[SHIFT:.*]] = arith.muli %[[SPOS]], %{{.*}} : i32
  // CHECK: %[[SH:.*]] = arith.shrui %[[Q]], %[[SHIFT]] : i32
  // CHECK: %[[CRUMB:.*]] = arith.andi %[[SH]], %{{.*}} : i32
  // CHECK: %[[T:.*]] = arith.subi %[[CRUMB]], %{{.*}} : i32
  // CHECK: %[[TF:.*]] = arith.sitofp %[[T]] : i32 to f32
  // CHECK: %[[W:.*]] = arith.mulf %[[S]], %[[TF]] : f32
  // CHECK: %[[XF:.*]] = arith.extf %[[XE]] : f16 to f32
  // CHECK: %[[P:.*]] = arith.mulf %[[XF]], %[[W]] : f32
  // CHECK: arith.addf %[[OUT]], %[[P]] : f32
  // CHECK: linalg.generic
  // CHECK: arith.truncf %{{.*}} : f32 to f16
  %w = qt.from_bytes %b : tensor<8x132xi8> -> !qt.tensor<8x512, #qt.gguf<tq2_0>>
  %y = qt.matmul %x, %w : tensor<?x512xf16>, !qt.tensor<8x512, #qt.gguf<tq2_0>> -> tensor<?x8xf16>
  return %y : tensor<?x8xf16>
}

// -----

// TQ1_0: loops (row, b, a1, a0, j1, j0), element e = 32a1 + 16a0 + 4j1 + j0.
// Each element reads its three candidate bytes qs[16a0 + 4j1 + j0] (offset 0,
// split [2, 4, 4]), qs[32 + 4j1 + j0] (offset 32, split [4, 4]), qh[j0]
// (offset 48) and the f16 d (52, 53), then selects by its group g = 2a1 + a0:
// g < 10 takes the first with digit a1, g = 15 the third with digit j1, the
// rest the second with digit g - 10. Digit k of byte q is
// ((q * 3^k mod 256) * 3) >> 8, 3^k from [1, 3, 9, 27, 81] =
// 348345926401 = 0x511B090301.
// CHECK-DAG: #[[$QS0:.*]] = affine_map<(d0, d1, d2, d3, d4, d5) -> (d0, d1, d3, d4, d5)>
// CHECK-DAG: #[[$QS1:.*]] = affine_map<(d0, d1, d2, d3, d4, d5) -> (d0, d1, d4, d5)>
// CHECK-DAG: #[[$QH:.*]] = affine_map<(d0, d1, d2, d3, d4, d5) -> (d0, d1, d5)>
// CHECK-DAG: #[[$D:.*]] = affine_map<(d0, d1, d2, d3, d4, d5) -> (d0, d1)>
// CHECK-DAG: #[[$ID:.*]] = affine_map<(d0, d1, d2, d3, d4, d5) -> (d0, d1, d2, d3, d4, d5)>
// CHECK-LABEL: func.func @dequantize_tq1_0
// CHECK-SAME: (%[[B:.*]]: tensor<2x108xi8>)
func.func @dequantize_tq1_0(%b: tensor<2x108xi8>) -> tensor<2x512xf32> {
  // CHECK-DAG: %[[POW3:.*]] = arith.constant 348345926401 : i64
  // CHECK-DAG: %[[C10:.*]] = arith.constant 10 : i32
  // CHECK-DAG: %[[C15:.*]] = arith.constant 15 : i32
  // CHECK-DAG: %[[C255:.*]] = arith.constant 255 : i32
  // CHECK: %[[V:.*]] = tensor.expand_shape %[[B]] {{\[}}[0], [1, 2]] output_shape [2, 2, 54]
  // CHECK: %[[E:.*]] = tensor.empty() : tensor<2x2x8x2x4x4xf32>
  // CHECK: %[[S0:.*]] = tensor.extract_slice %[[V]][0, 0, 0] [2, 2, 32]
  // CHECK: %[[QS0:.*]] = tensor.expand_shape %[[S0]] {{\[}}[0], [1], [2, 3, 4]] output_shape [2, 2, 2, 4, 4]
  // CHECK: %[[S1:.*]] = tensor.extract_slice %[[V]][0, 0, 32] [2, 2, 16]
  // CHECK: %[[QS1:.*]] = tensor.expand_shape %[[S1]] {{\[}}[0], [1], [2, 3]] output_shape [2, 2, 4, 4]
  // CHECK: %[[QH:.*]] = tensor.extract_slice %[[V]][0, 0, 48] [2, 2, 4] [1, 1, 1] : tensor<2x2x54xi8> to tensor<2x2x4xi8>
  // CHECK: %[[DLO:.*]] = tensor.extract_slice %[[V]][0, 0, 52] [2, 2, 1]
  // CHECK: %[[DHI:.*]] = tensor.extract_slice %[[V]][0, 0, 53] [2, 2, 1]
  // CHECK: %[[R:.*]] = linalg.generic
  // CHECK-SAME: indexing_maps = [#[[$QS0]], #[[$QS1]], #[[$QH]], #[[$D]], #[[$D]], #[[$ID]]]
  // CHECK-SAME: ins(%[[QS0]], %[[QS1]], %[[QH]], %[[DLO]], %[[DHI]] : {{.*}}) outs(%[[E]] : tensor<2x2x8x2x4x4xf32>)
  // CHECK: ^bb0(%[[B0:.*]]: i8, %[[B1:.*]]: i8, %[[B2:.*]]: i8, %{{.*}}: i8, %{{.*}}: i8, %{{.*}}: f32):
  // CHECK: %[[S:.*]] = arith.extf %{{.*}} : f16 to f32
  // CHECK: %[[A1I:.*]] = linalg.index 2 : index
  // CHECK: %[[A1:.*]] = arith.index_castui %[[A1I]] : index to i32
  // CHECK: %[[A0I:.*]] = linalg.index 3 : index
  // CHECK: %[[A0:.*]] = arith.index_castui %[[A0I]] : index to i32
  // CHECK: %[[J1I:.*]] = linalg.index 4 : index
  // CHECK: %[[J1:.*]] = arith.index_castui %[[J1I]] : index to i32
  // CHECK: %[[A1X2:.*]] = arith.muli %[[A1]], %{{.*}} : i32
  // CHECK: %[[G:.*]] = arith.addi %[[A1X2]], %[[A0]] : i32
  // CHECK: %[[FIRST:.*]] = arith.cmpi ult, %[[G]], %[[C10]] : i32
  // CHECK: %[[LAST:.*]] = arith.cmpi eq, %[[G]], %[[C15]] : i32
  // CHECK: %[[GM10:.*]] = arith.subi %[[G]], %[[C10]] : i32
  // CHECK: %[[K1:.*]] = arith.select %[[LAST]], %[[J1]], %[[GM10]] : i32
  // CHECK: %[[K:.*]] = arith.select %[[FIRST]], %[[A1]], %[[K1]] : i32
  // CHECK: %[[Q0:.*]] = arith.extui %[[B0]] : i8 to i32
  // CHECK: %[[Q1:.*]] = arith.extui %[[B1]] : i8 to i32
  // CHECK: %[[Q2:.*]] = arith.extui %[[B2]] : i8 to i32
  // CHECK: %[[QA:.*]] = arith.select %[[LAST]], %[[Q2]], %[[Q1]] : i32
  // CHECK: %[[Q:.*]] = arith.select %[[FIRST]], %[[Q0]], %[[QA]] : i32
  // CHECK: %[[KW:.*]] = arith.extui %[[K]] : i32 to i64
  // CHECK: %[[POWW:.*]] = arith.shrui %[[POW3]], %{{.*}} : i64
  // CHECK: %[[POW8:.*]] = arith.trunci %[[POWW]] : i64 to i8
  // CHECK: %[[POW:.*]] = arith.extsi %[[POW8]] : i8 to i32
  // CHECK: %[[QP:.*]] = arith.muli %[[Q]], %[[POW]] : i32
  // CHECK: %[[MOD:.*]] = arith.andi %[[QP]], %[[C255]] : i32
  // CHECK: %[[Q3:.*]] = arith.muli %[[MOD]], %{{.*}} : i32
  // CHECK: %[[DIGIT:.*]] = arith.shrui %[[Q3]], %{{.*}} : i32
  // CHECK: %[[T:.*]] = arith.subi %[[DIGIT]], %{{.*}} : i32
  // CHECK: %[[TF:.*]] = arith.sitofp %[[T]] : i32 to f32
  // CHECK: %[[X:.*]] = arith.mulf %[[S]], %[[TF]] : f32
  // CHECK: linalg.yield %[[X]] : f32
  // CHECK: tensor.collapse_shape %[[R]] {{\[}}[0], [1, 2, 3, 4, 5]] : tensor<2x2x8x2x4x4xf32> into tensor<2x512xf32>
  %w = qt.from_bytes %b : tensor<2x108xi8> -> !qt.tensor<2x512, #qt.gguf<tq1_0>>
  %d = qt.dequantize %w : !qt.tensor<2x512, #qt.gguf<tq1_0>> -> tensor<2x512xf32>
  return %d : tensor<2x512xf32>
}
