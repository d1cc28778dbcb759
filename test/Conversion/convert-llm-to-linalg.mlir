// RUN: kvant-opt %s --convert-llm-to-linalg --split-input-file | FileCheck %s

// A float table is gathered row by row.
// CHECK-LABEL: func.func @embedding_float
// CHECK-SAME: (%[[TABLE:.*]]: tensor<100x16xf16>, %[[TOK:.*]]: tensor<?xi32>)
func.func @embedding_float(%table: tensor<100x16xf16>, %tokens: tensor<?xi32>) -> tensor<?x16xf16> {
  // CHECK: %[[OUT:.*]] = linalg.generic {{.*}} ins(%[[TOK]] : tensor<?xi32>)
  // CHECK: ^bb0(%[[ID:.*]]: i32, %{{.*}}: f16):
  // CHECK:   %[[ROW:.*]] = arith.index_cast %[[ID]] : i32 to index
  // CHECK:   %[[COL:.*]] = linalg.index 1
  // CHECK:   %[[V:.*]] = tensor.extract %[[TABLE]][%[[ROW]], %[[COL]]]
  // CHECK:   linalg.yield %[[V]] : f16
  // CHECK: return %[[OUT]] : tensor<?x16xf16>
  %0 = llm.embedding %table, %tokens : tensor<100x16xf16>, tensor<?xi32> -> tensor<?x16xf16>
  return %0 : tensor<?x16xf16>
}

// -----

// A quantized table: only the looked-up rows' bytes are gathered, then
// dequantized.
// CHECK-LABEL: func.func @embedding_quantized
// CHECK-SAME: (%[[TOK:.*]]: tensor<2x3xi32>)
func.func @embedding_quantized(%tokens: tensor<2x3xi32>) -> tensor<2x3x64xf32> {
  // CHECK: %[[W:.*]] = qt.weight
  %w = qt.weight "token_embd.weight" : !qt.tensor<1000x64, #qt.gguf<q8_0>>
  // CHECK: %[[BYTES:.*]] = qt.to_bytes %[[W]] : {{.*}} -> tensor<1000x68xi8>
  // CHECK: %[[FLAT:.*]] = tensor.collapse_shape %[[TOK]] {{\[}}[0, 1]] : tensor<2x3xi32> into tensor<6xi32>
  // CHECK: %[[ROWS:.*]] = linalg.generic {{.*}} ins(%[[FLAT]] : tensor<6xi32>) outs(%{{.*}} : tensor<6x68xi8>)
  // CHECK:   tensor.extract %[[BYTES]]
  // CHECK: %[[Q:.*]] = qt.from_bytes %[[ROWS]] : tensor<6x68xi8> -> !qt.tensor<6x64, #qt.gguf<q8_0>>
  // CHECK: %[[D:.*]] = qt.dequantize %[[Q]] : !qt.tensor<6x64, #qt.gguf<q8_0>> -> tensor<6x64xf32>
  // CHECK: %[[OUT:.*]] = tensor.expand_shape %[[D]] {{\[}}[0, 1], [2]] output_shape [2, 3, 64]
  // CHECK: return %[[OUT]]
  %0 = llm.embedding %w, %tokens : !qt.tensor<1000x64, #qt.gguf<q8_0>>, tensor<2x3xi32> -> tensor<2x3x64xf32>
  return %0 : tensor<2x3x64xf32>
}

// -----

// sum(x^2) per row in f32, 1/sqrt(sum/D + eps), then x * that * weight,
// rounded back to f16.
// CHECK-DAG: #[[$ID:.*]] = affine_map<(d0, d1) -> (d0, d1)>
// CHECK-DAG: #[[$ROW:.*]] = affine_map<(d0, d1) -> (d0)>
// CHECK-DAG: #[[$COL:.*]] = affine_map<(d0, d1) -> (d1)>
// CHECK-LABEL: func.func @rms_norm
// CHECK-SAME: (%[[X:.*]]: tensor<?x64xf16>, %[[W:.*]]: tensor<64xf32>)
func.func @rms_norm(%x: tensor<?x64xf16>, %w: tensor<64xf32>) -> tensor<?x64xf16> {
  // CHECK: %[[ZERO:.*]] = linalg.fill {{.*}} -> tensor<?xf32>
  // CHECK: %[[SUM:.*]] = linalg.generic {indexing_maps = [#[[$ID]], #[[$ROW]]], iterator_types = ["parallel", "reduction"]} ins(%[[X]] : tensor<?x64xf16>) outs(%[[ZERO]] : tensor<?xf32>)
  // CHECK:   arith.extf
  // CHECK:   arith.mulf
  // CHECK:   arith.addf
  // CHECK-DAG: %[[D:.*]] = arith.constant 6.400000e+01 : f32
  // CHECK-DAG: %[[EPS:.*]] = arith.constant 9.99999974E-6 : f32
  // CHECK: %[[INV:.*]] = linalg.generic {{.*}} ins(%[[SUM]] : tensor<?xf32>)
  // CHECK:   %[[MEAN:.*]] = arith.divf %{{.*}}, %[[D]]
  // CHECK:   %[[SH:.*]] = arith.addf %[[MEAN]], %[[EPS]]
  // CHECK:   %[[ROOT:.*]] = math.sqrt %[[SH]]
  // CHECK:   arith.divf %{{.*}}, %[[ROOT]]
  // CHECK: %[[OUT:.*]] = linalg.generic {indexing_maps = [#[[$ID]], #[[$ROW]], #[[$COL]], #[[$ID]]], {{.*}} ins(%[[X]], %[[INV]], %[[W]] : {{.*}}) outs(%{{.*}} : tensor<?x64xf16>)
  // CHECK:   arith.truncf %{{.*}} : f32 to f16
  // CHECK: return %[[OUT]]
  %0 = llm.rms_norm %x, %w epsilon = 1.0e-5 : tensor<?x64xf16>, tensor<64xf32>
  return %0 : tensor<?x64xf16>
}

// -----

// A [T, R/2] table of cos/sin of positions * theta^(-2i/R) / freq_factors (in
// f64), then one pass rotating each element with its partner: (x[i],
// x[i + R/2]) for neox; elements past rotary_dim pass through.
// CHECK-LABEL: func.func @rope_neox
// CHECK-SAME: (%[[X:.*]]: tensor<?x2x16xf32>, %[[P:.*]]: tensor<?xi32>, %[[F:.*]]: tensor<4xf32>)
func.func @rope_neox(%x: tensor<?x2x16xf32>, %pos: tensor<?xi32>, %ff: tensor<4xf32>) -> tensor<?x2x16xf32> {
  // CHECK: %[[TABLES:.*]]:2 = linalg.generic {{.*}} ins(%[[P]], %[[F]] : tensor<?xi32>, tensor<4xf32>) outs(%{{.*}}, %{{.*}} : tensor<?x4xf32>, tensor<?x4xf32>)
  // CHECK:   math.exp %{{.*}} : f64
  // CHECK:   arith.sitofp %{{.*}} : i32 to f64
  // CHECK:   arith.divf
  // CHECK:   math.cos %{{.*}} : f64
  // CHECK:   math.sin %{{.*}} : f64
  // CHECK-DAG: %[[R:.*]] = arith.constant 8 : index
  // CHECK-DAG: %[[HALF:.*]] = arith.constant 4 : index
  // CHECK: %[[OUT:.*]] = linalg.generic {{.*}} ins(%[[X]] : tensor<?x2x16xf32>)
  // CHECK:   %[[T:.*]] = linalg.index 0
  // CHECK:   %[[H:.*]] = linalg.index 1
  // CHECK:   %[[D:.*]] = linalg.index 2
  // CHECK:   %[[ROT:.*]] = arith.cmpi ult, %[[D]], %[[R]]
  // CHECK:   %[[FIRST:.*]] = arith.cmpi ult, %[[D]], %[[HALF]]
  // CHECK:   %[[UP:.*]] = arith.addi %[[D]], %[[HALF]]
  // CHECK:   %[[DOWN:.*]] = arith.subi %[[D]], %[[HALF]]
  // CHECK:   %[[PARTNER:.*]] = arith.select %[[FIRST]], %[[UP]], %[[DOWN]]
  // CHECK:   %[[SAFE:.*]] = arith.select %[[ROT]], %[[PARTNER]], %[[D]]
  // CHECK:   tensor.extract %[[TABLES]]#0
  // CHECK:   tensor.extract %[[TABLES]]#1
  // CHECK:   tensor.extract %[[X]][%[[T]], %[[H]], %[[SAFE]]]
  // CHECK:   %[[A:.*]] = arith.subf
  // CHECK:   %[[B:.*]] = arith.addf
  // CHECK:   %[[V:.*]] = arith.select %[[FIRST]], %[[A]], %[[B]]
  // CHECK:   arith.select %[[ROT]], %[[V]], %{{.*}}
  // CHECK: return %[[OUT]]
  %0 = llm.rope neox %x, %pos theta = 1.0e6 rotary_dim = 8 freq_factors(%ff : tensor<4xf32>) : tensor<?x2x16xf32>, tensor<?xi32>
  return %0 : tensor<?x2x16xf32>
}

// -----

// normal pairs adjacent elements: the partner is d xor 1, the pair d / 2.
// CHECK-LABEL: func.func @rope_normal
func.func @rope_normal(%x: tensor<?x2x16xf32>, %pos: tensor<?xi32>) -> tensor<?x2x16xf32> {
  // CHECK: linalg.generic
  // CHECK-NOT: arith.divf
  // CHECK: linalg.generic
  // CHECK:   %[[D:.*]] = linalg.index 2
  // CHECK:   %[[PARITY:.*]] = arith.andi %[[D]], %{{.*}}
  // CHECK:   arith.cmpi eq, %[[PARITY]]
  // CHECK:   arith.divui %[[D]]
  // CHECK:   arith.xori %[[D]]
  %0 = llm.rope normal %x, %pos theta = 1.0e4 : tensor<?x2x16xf32>, tensor<?xi32>
  return %0 : tensor<?x2x16xf32>
}

// -----

// GQA decode against a cache: queries grouped as [T, Hkv, Hq/Hkv, D], keys
// past offset + T never read, one f32 score tensor updated in place (mask,
// exp), max-subtracted softmax, P·V, normalization where an empty row (sum 0)
// gives 0.
// CHECK-DAG: #[[$Q:.*]] = affine_map<(d0, d1, d2, d3, d4) -> (d0, d1, d2, d4)>
// CHECK-DAG: #[[$K:.*]] = affine_map<(d0, d1, d2, d3, d4) -> (d3, d1, d4)>
// CHECK-DAG: #[[$S:.*]] = affine_map<(d0, d1, d2, d3, d4) -> (d0, d1, d2, d3)>
// CHECK-DAG: #[[$V:.*]] = affine_map<(d0, d1, d2, d3, d4) -> (d4, d1, d3)>
// CHECK-LABEL: func.func @attention_decode
// CHECK-SAME: (%[[Q:.*]]: tensor<1x4x16xf16>, %[[K:.*]]: tensor<256x2x16xf16>, %[[V:.*]]: tensor<256x2x8xf16>, %[[POS:.*]]: index)
func.func @attention_decode(%q: tensor<1x4x16xf16>, %k: tensor<256x2x16xf16>, %v: tensor<256x2x8xf16>, %pos: index) -> tensor<1x4x8xf16> {
  // CHECK: %[[END:.*]] = arith.addi %[[POS]], %{{.*}} : index
  // CHECK: %[[S:.*]] = arith.minsi %{{.*}}, %[[END]] : index
  // CHECK: %[[KS:.*]] = tensor.extract_slice %[[K]][0, 0, 0] [%[[S]], 2, 16] [1, 1, 1]
  // CHECK: %[[VS:.*]] = tensor.extract_slice %[[V]][0, 0, 0] [%[[S]], 2, 8] [1, 1, 1]
  // CHECK: %[[QG:.*]] = tensor.expand_shape %[[Q]] {{\[}}[0], [1, 2], [3]] output_shape [1, 2, 2, 16] : tensor<1x4x16xf16> into tensor<1x2x2x16xf16>
  // CHECK: %[[DOT:.*]] = linalg.generic {indexing_maps = [#[[$Q]], #[[$K]], #[[$S]]], iterator_types = ["parallel", "parallel", "parallel", "parallel", "reduction"]} ins(%[[QG]], %[[KS]] : {{.*}}) outs(%{{.*}} : tensor<1x2x2x?xf32>)
  // CHECK-DAG: %[[SCALE:.*]] = arith.constant 2.500000e-01 : f32
  // CHECK-DAG: %[[NEGINF:.*]] = arith.constant 0xFF800000 : f32
  // CHECK: %[[MASKED:.*]] = linalg.generic {{.*}} outs(%[[DOT]] : tensor<1x2x2x?xf32>)
  // CHECK:   %[[T:.*]] = linalg.index 0
  // CHECK:   %[[J:.*]] = linalg.index 3
  // CHECK:   %[[P:.*]] = arith.addi %[[POS]], %[[T]]
  // CHECK:   %[[CAUSAL:.*]] = arith.cmpi sle, %[[J]], %[[P]]
  // CHECK:   %[[DIST:.*]] = arith.subi %[[P]], %[[J]]
  // CHECK:   %[[W:.*]] = arith.constant 64 : index
  // CHECK:   %[[INWIN:.*]] = arith.cmpi slt, %[[DIST]], %[[W]]
  // CHECK:   %[[VIS:.*]] = arith.andi %[[CAUSAL]], %[[INWIN]]
  // CHECK:   %[[SCALED:.*]] = arith.mulf %{{.*}}, %[[SCALE]]
  // CHECK:   arith.select %[[VIS]], %[[SCALED]], %[[NEGINF]]
  // CHECK: %[[MAX:.*]] = linalg.generic {{.*}} ins(%[[MASKED]] : tensor<1x2x2x?xf32>) outs(%{{.*}} : tensor<1x2x2xf32>)
  // CHECK:   arith.maximumf
  // CHECK: %[[NEGINF2:.*]] = arith.constant 0xFF800000 : f32
  // CHECK: %[[EXP:.*]] = linalg.generic {{.*}} ins(%[[MAX]] : tensor<1x2x2xf32>) outs(%[[MASKED]] : tensor<1x2x2x?xf32>)
  // CHECK:   %[[EMPTY:.*]] = arith.cmpf oeq, %{{.*}}, %[[NEGINF2]]
  // CHECK:   %[[M:.*]] = arith.select %[[EMPTY]]
  // CHECK:   %[[SHIFTED:.*]] = arith.subf %{{.*}}, %[[M]]
  // CHECK:   math.exp %[[SHIFTED]]
  // CHECK: %[[SUM:.*]] = linalg.generic {{.*}} ins(%[[EXP]] : tensor<1x2x2x?xf32>) outs(%{{.*}} : tensor<1x2x2xf32>)
  // CHECK: %[[PV:.*]] = linalg.generic {indexing_maps = [#[[$Q]], #[[$V]], #[[$S]]], {{.*}} ins(%[[EXP]], %[[VS]] : {{.*}}) outs(%{{.*}} : tensor<1x2x2x8xf32>)
  // CHECK: %[[OUT:.*]] = linalg.generic {{.*}} ins(%[[PV]], %[[SUM]] : {{.*}}) outs(%{{.*}} : tensor<1x2x2x8xf16>)
  // CHECK:   %[[NONE:.*]] = arith.cmpf oeq, %[[DEN:.*]], %[[ZERO:.*]] : f32
  // CHECK:   %[[QUOT:.*]] = arith.divf %{{.*}}, %[[DEN]]
  // CHECK:   %[[R:.*]] = arith.select %[[NONE]], %[[ZERO]], %[[QUOT]]
  // CHECK:   arith.truncf %[[R]] : f32 to f16
  // CHECK: %[[RES:.*]] = tensor.collapse_shape %[[OUT]] {{\[}}[0], [1, 2], [3]] : tensor<1x2x2x8xf16> into tensor<1x4x8xf16>
  // CHECK: return %[[RES]]
  %0 = llm.attention #llm.sliding_window<64> %q, %k, %v offset(%pos) : tensor<1x4x16xf16>, tensor<256x2x16xf16>, tensor<256x2x8xf16> -> tensor<1x4x8xf16>
  return %0 : tensor<1x4x8xf16>
}

// -----

// Prefill: the offset defaults to S - T; no key slicing.
// CHECK-LABEL: func.func @attention_causal
// CHECK-SAME: (%[[Q:.*]]: tensor<?x4x16xf32>, %[[K:.*]]: tensor<?x4x16xf32>, %[[V:.*]]: tensor<?x4x16xf32>)
func.func @attention_causal(%q: tensor<?x4x16xf32>, %k: tensor<?x4x16xf32>, %v: tensor<?x4x16xf32>) -> tensor<?x4x16xf32> {
  // CHECK-NOT: tensor.extract_slice
  // CHECK-DAG: %[[T:.*]] = tensor.dim %[[Q]], %{{.*}}
  // CHECK-DAG: %[[S:.*]] = tensor.dim %[[K]], %{{.*}}
  // CHECK: %[[OFF:.*]] = arith.subi %[[S]], %[[T]] : index
  // CHECK: linalg.generic
  // CHECK: linalg.generic
  // CHECK:   %[[P:.*]] = arith.addi %[[OFF]], %{{.*}}
  // CHECK:   %[[VIS:.*]] = arith.cmpi sle, %{{.*}}, %[[P]]
  // CHECK-NEXT: arith.mulf
  // CHECK-NEXT: arith.select %[[VIS]]
  %0 = llm.attention #llm.causal %q, %k, %v : tensor<?x4x16xf32>, tensor<?x4x16xf32>, tensor<?x4x16xf32> -> tensor<?x4x16xf32>
  return %0 : tensor<?x4x16xf32>
}

// -----

// Sinks: j <= p && (p - j < window || (j < sink && p - j < max_distance)).
// CHECK-LABEL: func.func @attention_sink
func.func @attention_sink(%q: tensor<?x4x16xf32>, %k: tensor<?x2x16xf32>, %v: tensor<?x2x16xf32>) -> tensor<?x4x16xf32> {
  // CHECK: linalg.generic
  // CHECK: linalg.generic
  // CHECK:   %[[J:.*]] = linalg.index 3
  // CHECK:   %[[P:.*]] = arith.addi
  // CHECK:   %[[CAUSAL:.*]] = arith.cmpi sle, %[[J]], %[[P]]
  // CHECK:   %[[SINKS:.*]] = arith.constant 4 : index
  // CHECK:   %[[ISSINK:.*]] = arith.cmpi slt, %[[J]], %[[SINKS]]
  // CHECK:   %[[MAXD:.*]] = arith.constant 8192 : index
  // CHECK:   %[[NEAR:.*]] = arith.cmpi slt, %{{.*}}, %[[MAXD]]
  // CHECK:   %[[SINK:.*]] = arith.andi %[[ISSINK]], %[[NEAR]]
  // CHECK:   %[[WIN:.*]] = arith.constant 1024 : index
  // CHECK:   %[[INWIN:.*]] = arith.cmpi slt, %{{.*}}, %[[WIN]]
  // CHECK:   %[[EITHER:.*]] = arith.ori %[[INWIN]], %[[SINK]]
  // CHECK:   arith.andi %[[CAUSAL]], %[[EITHER]]
  %0 = llm.attention #llm.sink_window<sink = 4, window = 1024, max_distance = 8192> %q, %k, %v : tensor<?x4x16xf32>, tensor<?x2x16xf32>, tensor<?x2x16xf32> -> tensor<?x4x16xf32>
  return %0 : tensor<?x4x16xf32>
}

// -----

// Blocks: j <= p && (p/B - j/B < local || j/B < global).
// CHECK-LABEL: func.func @attention_block_sparse
func.func @attention_block_sparse(%q: tensor<?x4x16xf32>, %k: tensor<?x2x16xf32>, %v: tensor<?x2x16xf32>) -> tensor<?x4x16xf32> {
  // CHECK: linalg.generic
  // CHECK: linalg.generic
  // CHECK:   %[[J:.*]] = linalg.index 3
  // CHECK:   %[[P:.*]] = arith.addi
  // CHECK:   %[[CAUSAL:.*]] = arith.cmpi sle, %[[J]], %[[P]]
  // CHECK:   %[[B:.*]] = arith.constant 64 : index
  // CHECK:   %[[JB:.*]] = arith.divsi %[[J]], %[[B]]
  // CHECK:   %[[PB:.*]] = arith.divsi %[[P]], %[[B]]
  // CHECK:   %[[BD:.*]] = arith.subi %[[PB]], %[[JB]]
  // CHECK:   %[[LOCAL:.*]] = arith.cmpi slt, %[[BD]], %{{.*}}
  // CHECK:   %[[GLOBAL:.*]] = arith.cmpi slt, %[[JB]], %{{.*}}
  // CHECK:   %[[EITHER:.*]] = arith.ori %[[LOCAL]], %[[GLOBAL]]
  // CHECK:   arith.andi %[[CAUSAL]], %[[EITHER]]
  %0 = llm.attention #llm.block_sparse<block = 64, local = 4, global = 1> %q, %k, %v : tensor<?x4x16xf32>, tensor<?x2x16xf32>, tensor<?x2x16xf32> -> tensor<?x4x16xf32>
  return %0 : tensor<?x4x16xf32>
}

// -----

// Tree: the committed prefix (j < offset) or, for a node, the mask bit
// mask[t][j - offset], both under causality.
// CHECK-LABEL: func.func @attention_tree
// CHECK-SAME: (%[[Q:.*]]: tensor<8x4x16xf32>, %[[K:.*]]: tensor<?x2x16xf32>, %[[V:.*]]: tensor<?x2x16xf32>, %[[M:.*]]: tensor<8x8xi1>, %[[C:.*]]: index)
func.func @attention_tree(%q: tensor<8x4x16xf32>, %k: tensor<?x2x16xf32>, %v: tensor<?x2x16xf32>, %m: tensor<8x8xi1>, %committed: index) -> tensor<8x4x16xf32> {
  // CHECK: linalg.generic
  // CHECK: linalg.generic
  // CHECK:   %[[T:.*]] = linalg.index 0
  // CHECK:   %[[J:.*]] = linalg.index 3
  // CHECK:   %[[P:.*]] = arith.addi %[[C]], %[[T]]
  // CHECK:   %[[CAUSAL:.*]] = arith.cmpi sle, %[[J]], %[[P]]
  // CHECK:   %[[PREFIX:.*]] = arith.cmpi slt, %[[J]], %[[C]]
  // CHECK:   %[[NODE:.*]] = arith.subi %[[J]], %[[C]]
  // CHECK:   %[[N1:.*]] = arith.select %[[PREFIX]], %{{.*}}, %[[NODE]]
  // CHECK:   %[[N2:.*]] = arith.select %[[CAUSAL]], %[[N1]], %{{.*}}
  // CHECK:   %[[BIT:.*]] = tensor.extract %[[M]][%[[T]], %[[N2]]] : tensor<8x8xi1>
  // CHECK:   %[[EITHER:.*]] = arith.ori %[[PREFIX]], %[[BIT]]
  // CHECK:   arith.andi %[[CAUSAL]], %[[EITHER]]
  %0 = llm.attention #llm.tree %q, %k, %v tree_mask(%m : tensor<8x8xi1>) offset(%committed) scale = 0.25 : tensor<8x4x16xf32>, tensor<?x2x16xf32>, tensor<?x2x16xf32> -> tensor<8x4x16xf32>
  return %0 : tensor<8x4x16xf32>
}

// -----

// Float weight: a transposed-B linalg.matmul into a zero-filled f32
// accumulator, then the bias; leading dimensions flattened and restored.
// CHECK-DAG: #[[$A:.*]] = affine_map<(d0, d1, d2) -> (d0, d2)>
// CHECK-DAG: #[[$BT:.*]] = affine_map<(d0, d1, d2) -> (d1, d2)>
// CHECK-DAG: #[[$C:.*]] = affine_map<(d0, d1, d2) -> (d0, d1)>
// CHECK-LABEL: func.func @linear_float_bias
// CHECK-SAME: (%[[X:.*]]: tensor<2x?x64xf32>, %[[W:.*]]: tensor<32x64xf16>, %[[B:.*]]: tensor<32xf32>)
func.func @linear_float_bias(%x: tensor<2x?x64xf32>, %w: tensor<32x64xf16>, %b: tensor<32xf32>) -> tensor<2x?x32xf32> {
  // CHECK: %[[X2:.*]] = tensor.collapse_shape %[[X]] {{\[}}[0, 1], [2]] : tensor<2x?x64xf32> into tensor<?x64xf32>
  // CHECK: %[[ACC:.*]] = linalg.fill {{.*}} -> tensor<?x32xf32>
  // CHECK: %[[MM:.*]] = linalg.matmul indexing_maps = [#[[$A]], #[[$BT]], #[[$C]]] ins(%[[X2]], %[[W]] : tensor<?x64xf32>, tensor<32x64xf16>) outs(%[[ACC]] : tensor<?x32xf32>)
  // CHECK: %[[Y:.*]] = linalg.generic {{.*}} ins(%[[MM]], %[[B]] : tensor<?x32xf32>, tensor<32xf32>)
  // CHECK:   arith.addf
  // CHECK: %[[OUT:.*]] = tensor.expand_shape %[[Y]] {{\[}}[0, 1], [2]] output_shape [2, %{{.*}}, 32] : tensor<?x32xf32> into tensor<2x?x32xf32>
  // CHECK: return %[[OUT]]
  %0 = llm.linear %x, %w, %b : tensor<2x?x64xf32>, tensor<32x64xf16>, tensor<32xf32> -> tensor<2x?x32xf32>
  return %0 : tensor<2x?x32xf32>
}

// -----

// Quantized weight: qt.matmul keeps it quantized.
// CHECK-LABEL: func.func @linear_quantized
// CHECK-SAME: (%[[X:.*]]: tensor<?x64xf32>)
func.func @linear_quantized(%x: tensor<?x64xf32>) -> tensor<?x32xf32> {
  // CHECK: %[[W:.*]] = qt.weight
  %w = qt.weight "blk.0.attn_k.weight" : !qt.tensor<32x64, #qt.gguf<q8_0>>
  // CHECK-NEXT: %[[Y:.*]] = qt.matmul %[[X]], %[[W]] : tensor<?x64xf32>, !qt.tensor<32x64, #qt.gguf<q8_0>> -> tensor<?x32xf32>
  // CHECK-NEXT: return %[[Y]]
  %0 = llm.linear %x, %w : tensor<?x64xf32>, !qt.tensor<32x64, #qt.gguf<q8_0>> -> tensor<?x32xf32>
  return %0 : tensor<?x32xf32>
}

// -----

// last_only projects the slice at T - 1 only.
// CHECK-LABEL: func.func @logits_last_only
// CHECK-SAME: (%[[H:.*]]: tensor<?x64xf32>, %[[W:.*]]: tensor<1000x64xf32>)
func.func @logits_last_only(%h: tensor<?x64xf32>, %w: tensor<1000x64xf32>) -> tensor<1000xf32> {
  // CHECK: %[[T:.*]] = tensor.dim %[[H]]
  // CHECK: %[[LAST:.*]] = arith.subi %[[T]], %{{.*}} : index
  // CHECK: %[[ROW:.*]] = tensor.extract_slice %[[H]][%[[LAST]], 0] [1, 64] [1, 1] : tensor<?x64xf32> to tensor<64xf32>
  // CHECK: %[[ROW2:.*]] = tensor.expand_shape %[[ROW]] {{\[}}[0, 1]] output_shape [1, 64]
  // CHECK: %[[MM:.*]] = linalg.matmul {{.*}} ins(%[[ROW2]], %[[W]] : tensor<1x64xf32>, tensor<1000x64xf32>)
  // CHECK: %[[OUT:.*]] = tensor.collapse_shape %[[MM]] {{\[}}[0, 1]] : tensor<1x1000xf32> into tensor<1000xf32>
  // CHECK: return %[[OUT]]
  %0 = llm.logits %h, %w last_only : tensor<?x64xf32>, tensor<1000x64xf32> -> tensor<1000xf32>
  return %0 : tensor<1000xf32>
}

// -----

// swiglu: down(silu(gate · x) * up · x), silu(g) = g / (1 + exp(-g)).
// CHECK-LABEL: func.func @mlp_swiglu
// CHECK-SAME: (%[[X:.*]]: tensor<?x64xf32>, %[[G:.*]]: tensor<128x64xf32>, %[[U:.*]]: tensor<128x64xf32>)
func.func @mlp_swiglu(%x: tensor<?x64xf32>, %g: tensor<128x64xf32>, %u: tensor<128x64xf32>) -> tensor<?x64xf32> {
  // CHECK: %[[D:.*]] = qt.weight
  %d = qt.weight "blk.0.ffn_down.weight" : !qt.tensor<64x128, #qt.gguf<q4_0>>
  // CHECK: %[[UP:.*]] = linalg.matmul {{.*}} ins(%[[X]], %[[U]] :
  // CHECK: %[[GATE:.*]] = linalg.matmul {{.*}} ins(%[[X]], %[[G]] :
  // CHECK: %[[H:.*]] = linalg.generic {{.*}} ins(%[[GATE]], %[[UP]] : tensor<?x128xf32>, tensor<?x128xf32>)
  // CHECK: ^bb0(%[[GV:.*]]: f32, %[[UV:.*]]: f32, %{{.*}}: f32):
  // CHECK:   %[[NEG:.*]] = arith.negf %[[GV]]
  // CHECK:   %[[E:.*]] = math.exp %[[NEG]] fastmath<afn> : f32
  // CHECK:   %[[DEN:.*]] = arith.addf %{{.*}}, %[[E]]
  // CHECK:   %[[SILU:.*]] = arith.divf %[[GV]], %[[DEN]]
  // CHECK:   arith.mulf %[[SILU]], %[[UV]]
  // CHECK: %[[Y:.*]] = qt.matmul %[[H]], %[[D]] : tensor<?x128xf32>, !qt.tensor<64x128, #qt.gguf<q4_0>> -> tensor<?x64xf32>
  // CHECK: return %[[Y]]
  %0 = llm.mlp swiglu %x gate(%g : tensor<128x64xf32>) up(%u : tensor<128x64xf32>) down(%d : !qt.tensor<64x128, #qt.gguf<q4_0>>) : tensor<?x64xf32>
  return %0 : tensor<?x64xf32>
}

// -----

// gelu (not gated), tanh approximation: 0.5 x (1 + tanh(sqrt(2/pi) x (1 + 0.044715 x^2))).
// CHECK-LABEL: func.func @mlp_gelu
func.func @mlp_gelu(%x: tensor<4x64xf32>, %u: tensor<128x64xf32>, %d: tensor<64x128xf32>) -> tensor<4x64xf32> {
  // CHECK: %[[UP:.*]] = linalg.matmul
  // CHECK: %[[H:.*]] = linalg.generic {{.*}} ins(%[[UP]] : tensor<4x128xf32>)
  // CHECK-DAG: arith.constant 4.471500e-02 : f32
  // CHECK-DAG: arith.constant 0.797884583 : f32
  // CHECK:   math.tanh
  // CHECK: linalg.matmul {{.*}} ins(%[[H]], %{{.*}} : tensor<4x128xf32>, tensor<64x128xf32>)
  %0 = llm.mlp gelu %x up(%u : tensor<128x64xf32>) down(%d : tensor<64x128xf32>) : tensor<4x64xf32>
  return %0 : tensor<4x64xf32>
}

// -----

// The runtime samples: llm.sample is left as it is.
// CHECK-LABEL: func.func @sample
func.func @sample(%l: tensor<1000xf32>) -> i32 {
  // CHECK: llm.sample #llm.sampling<greedy>
  %0 = llm.sample #llm.sampling<greedy> %l : tensor<1000xf32> -> i32
  return %0 : i32
}
