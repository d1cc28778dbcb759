// RUN: kvant-opt %s --qt-lower-matmul-to-vector --split-input-file | FileCheck %s
// RUN: kvant-opt %s --qt-lower-matmul-to-vector=float-weights=false --split-input-file | FileCheck %s --check-prefix=NOFLOAT
// Folded (canonicalize, cse) so that the static row loops disappear:
// RUN: kvant-opt %s --qt-lower-matmul-to-vector --canonicalize --cse --split-input-file | FileCheck %s --check-prefix=TILE
// RUN: kvant-opt %s --qt-lower-matmul-to-vector=int8-activations=true --canonicalize --cse --split-input-file | FileCheck %s --check-prefix=INT8
// A prefetch distance short enough to read (100 bytes), and none:
// RUN: kvant-opt %s --qt-lower-matmul-to-vector="int8-activations=true prefetch-distance=100" --canonicalize --cse --split-input-file | FileCheck %s --check-prefix=PREFETCH
// RUN: kvant-opt %s --qt-lower-matmul-to-vector="int8-activations=true prefetch-distance=0" --split-input-file | FileCheck %s --check-prefix=NOPREFETCH
// NOPREFETCH-NOT: qt.prefetch

// q8_0, M = 1: a parallel loop over the weight rows; per row, a loop over the
// 2 blocks reading each block's f16 scale and 32 quants from the bytes viewed
// as [N, blocks, 34]; the block's dot product with x's slice is a chain of
// fmas over 8-wide slices, scaled once into an 8-wide accumulator; one
// reduction per output element. Rows of x go in tiles of 8, then one of 4
// (none here: M = 1), then one at a time.
// CHECK-LABEL: func.func @q8_0
// CHECK-SAME: (%[[X:.*]]: tensor<1x64xf32>, %[[B:.*]]: tensor<8x68xi8>)
// With a prefetch distance, each block of the row ceil(100 / 68) = 2 rows
// ahead (the last row at most) is prefetched before the block is read; a
// 34-byte block is one 64-byte line.
// PREFETCH-LABEL: func.func @q8_0
// PREFETCH: %[[PV:.*]] = tensor.expand_shape %{{.*}} output_shape [8, 2, 34]
// PREFETCH: scf.forall (%[[PN:.*]]) in (8)
// PREFETCH: scf.for %[[PB:.*]] = %c0 to %c2
// PREFETCH: %[[AHEAD:.*]] = arith.addi %[[PN]], %c2 : index
// PREFETCH: %[[ROW:.*]] = arith.minui %[[AHEAD]], %c7 : index
// PREFETCH: qt.prefetch %[[PV]][%[[ROW]], %[[PB]], %c0] : tensor<8x2x34xi8>
// PREFETCH-NOT: qt.prefetch
// PREFETCH: vector.transfer_read %[[PV]][%[[PN]], %[[PB]], %c0]
func.func @q8_0(%x: tensor<1x64xf32>, %b: tensor<8x68xi8>) -> tensor<1x8xf32> {
  // CHECK-NOT: qt.matmul
  // CHECK: %[[V:.*]] = tensor.expand_shape %[[B]] {{\[}}[0], [1, 2]] output_shape [8, 2, 34] : tensor<8x68xi8> into tensor<8x2x34xi8>
  // CHECK: %[[E:.*]] = tensor.empty() : tensor<1x8xf32>
  // CHECK: %[[Y:.*]] = scf.forall (%[[N:.*]]) in (8) shared_outs(%[[OUT:.*]] = %[[E]]) -> (tensor<1x8xf32>)
  // CHECK: %[[COL:.*]] = tensor.extract_slice %[[OUT]][0, %[[N]]] [1, 1] [1, 1]
  // CHECK: %[[T8:.*]] = scf.for %{{.*}} = %{{.*}} to %{{.*}} step %c8{{.*}} iter_args(%{{.*}} = %[[COL]]) -> (tensor<1x1xf32>)
  // CHECK: scf.yield
  // CHECK: %[[T:.*]] = scf.for %{{.*}} = %{{.*}} to %{{.*}} step %c4{{.*}} iter_args(%{{.*}} = %[[T8]]) -> (tensor<1x1xf32>)
  // CHECK: scf.yield
  // CHECK: %[[R:.*]] = scf.for %[[M:.*]] = {{.*}} iter_args(%[[C:.*]] = %[[T]]) -> (tensor<1x1xf32>)
  // CHECK: %[[ACC:.*]] = scf.for %[[BLK:.*]] = {{.*}} iter_args(%[[A:.*]] = %{{.*}}) -> (vector<8xf32>)
  // CHECK: %[[DB:.*]] = vector.transfer_read %[[V]][%[[N]], %[[BLK]], %{{.*}}], %{{.*}} {in_bounds = [true]} : tensor<8x2x34xi8>, vector<2xi8>
  // CHECK: %[[DH:.*]] = vector.bitcast %[[DB]] : vector<2xi8> to vector<1xf16>
  // CHECK: %[[D:.*]] = arith.extf
  // CHECK: %[[QB:.*]] = vector.transfer_read %[[V]][%[[N]], %[[BLK]], %{{.*}}], %{{.*}} {in_bounds = [true]} : tensor<8x2x34xi8>, vector<32xi8>
  // CHECK: %[[XS:.*]] = vector.transfer_read %[[X]][%{{.*}}, %{{.*}}], %{{.*}} {in_bounds = [true]} : tensor<1x64xf32>, vector<32xf32>
  // CHECK: %[[Q:.*]] = arith.sitofp %[[QB]] : vector<32xi8> to vector<32xf32>
  // CHECK: %[[Q0:.*]] = vector.extract_strided_slice %[[Q]] {offsets = [0], sizes = [8], strides = [1]}
  // CHECK: %[[X0:.*]] = vector.extract_strided_slice %[[XS]] {offsets = [0], sizes = [8], strides = [1]}
  // CHECK: %[[P0:.*]] = arith.mulf %[[Q0]], %[[X0]] : vector<8xf32>
  // CHECK: %[[P1:.*]] = vector.fma %{{.*}}, %{{.*}}, %[[P0]] : vector<8xf32>
  // CHECK: %[[P2:.*]] = vector.fma %{{.*}}, %{{.*}}, %[[P1]] : vector<8xf32>
  // CHECK: %[[P3:.*]] = vector.fma %{{.*}}, %{{.*}}, %[[P2]] : vector<8xf32>
  // CHECK: %[[DS:.*]] = vector.broadcast %[[D]] : f32 to vector<8xf32>
  // CHECK: %[[NEXT:.*]] = vector.fma %[[DS]], %[[P3]], %[[A]] : vector<8xf32>
  // CHECK: scf.yield %[[NEXT]] : vector<8xf32>
  // CHECK: %[[S:.*]] = vector.reduction <add>, %[[ACC]] : vector<8xf32> into f32
  // CHECK: %[[U:.*]] = tensor.insert %[[S]] into %[[C]][%{{.*}}, %{{.*}}] : tensor<1x1xf32>
  // CHECK: scf.yield %[[U]]
  // CHECK: scf.forall.in_parallel
  // CHECK-NEXT: tensor.parallel_insert_slice %[[R]] into %[[OUT]][0, %[[N]]] [1, 1] [1, 1]
  // CHECK: return %[[Y]]
  %w = qt.from_bytes %b : tensor<8x68xi8> -> !qt.tensor<8x64, #qt.gguf<q8_0>>
  %y = qt.matmul %x, %w : tensor<1x64xf32>, !qt.tensor<8x64, #qt.gguf<q8_0>> -> tensor<1x8xf32>
  return %y : tensor<1x8xf32>
}

// -----

// q4_0 with leading dimensions: x is flattened to [M, K] and the result
// expanded back; the nibbles are split with a mask and a shift and joined in
// llama.cpp's order (low nibbles first), then offset by -8.
// CHECK-LABEL: func.func @q4_0_batch
func.func @q4_0_batch(%x: tensor<2x?x64xf32>, %b: tensor<8x36xi8>) -> tensor<2x?x8xf32> {
  // CHECK: %[[XM:.*]] = tensor.collapse_shape %{{.*}} {{\[}}[0, 1], [2]] : tensor<2x?x64xf32> into tensor<?x64xf32>
  // CHECK: scf.forall
  // CHECK: %[[P:.*]] = vector.transfer_read %{{.*}} : tensor<8x2x18xi8>, vector<16xi8>
  // CHECK: %[[LO:.*]] = arith.andi %[[P]], %{{.*}} : vector<16xi8>
  // CHECK: %[[HI:.*]] = arith.shrui %[[P]], %{{.*}} : vector<16xi8>
  // CHECK: %[[NIB:.*]] = vector.shuffle %[[LO]], %[[HI]] [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20, 21, 22, 23, 24, 25, 26, 27, 28, 29, 30, 31] : vector<16xi8>, vector<16xi8>
  // CHECK: %[[Q:.*]] = arith.addi %[[NIB]], %{{.*}} : vector<32xi8>
  // CHECK: arith.sitofp %[[Q]] : vector<32xi8> to vector<32xf32>
  // CHECK: vector.fma
  // CHECK: vector.reduction <add>
  // CHECK: tensor.expand_shape %{{.*}} {{\[}}[0, 1], [2]] output_shape [2, %{{.*}}, 8] : tensor<?x8xf32> into tensor<2x?x8xf32>
  %w = qt.from_bytes %b : tensor<8x36xi8> -> !qt.tensor<8x64, #qt.gguf<q4_0>>
  %y = qt.matmul %x, %w : tensor<2x?x64xf32>, !qt.tensor<8x64, #qt.gguf<q4_0>> -> tensor<2x?x8xf32>
  return %y : tensor<2x?x8xf32>
}

// -----

// q5_1: the fifth bits come from the u32 at byte 4 (bit j for element j,
// tested in bytes: byte j/8 spread to element j, masked with 1 << (j % 8));
// the quants' dot product is scaled by d, and the min adds m * sum(x).
// CHECK-LABEL: func.func @q5_1
func.func @q5_1(%x: tensor<1x32xf32>, %b: tensor<4x24xi8>) -> tensor<1x4xf32> {
  // CHECK: %[[QH:.*]] = vector.transfer_read %{{.*}} : tensor<4x1x24xi8>, vector<4xi8>
  // CHECK: %[[SPREAD:.*]] = vector.shuffle %[[QH]], %[[QH]] [0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 1, 1, 1, 1, 2, 2, 2, 2, 2, 2, 2, 2, 3, 3, 3, 3, 3, 3, 3, 3] : vector<4xi8>, vector<4xi8>
  // CHECK: %[[BITS:.*]] = arith.andi %[[SPREAD]], %{{.*}} : vector<32xi8>
  // CHECK: %[[SET:.*]] = arith.cmpi ne, %[[BITS]], %{{.*}} : vector<32xi8>
  // CHECK: %[[HIGH:.*]] = arith.select %[[SET]], %{{.*}}, %{{.*}} : vector<32xi1>, vector<32xi8>
  // CHECK: %[[Q:.*]] = arith.ori %{{.*}}, %[[HIGH]] : vector<32xi8>
  // CHECK: arith.sitofp %[[Q]] : vector<32xi8> to vector<32xf32>
  // CHECK: %[[D:.*]] = vector.broadcast %{{.*}} : f32 to vector<8xf32>
  // CHECK: %[[SCALED:.*]] = vector.fma %[[D]], %{{.*}}, %{{.*}} : vector<8xf32>
  // CHECK: arith.addf %{{.*}}, %{{.*}} : vector<8xf32>
  // CHECK: %[[MIN:.*]] = vector.broadcast %{{.*}} : f32 to vector<8xf32>
  // CHECK: vector.fma %[[MIN]], %{{.*}}, %[[SCALED]] : vector<8xf32>
  // CHECK: vector.reduction <add>, %{{.*}} : vector<8xf32> into f32
  %w = qt.from_bytes %b : tensor<4x24xi8> -> !qt.tensor<4x32, #qt.gguf<q5_1>>
  %y = qt.matmul %x, %w : tensor<1x32xf32>, !qt.tensor<4x32, #qt.gguf<q5_1>> -> tensor<1x4xf32>
  return %y : tensor<1x4xf32>
}

// -----

// Formats without a vector decoder are left to qt-lower-to-linalg.
// CHECK-LABEL: func.func @q2_k
func.func @q2_k(%x: tensor<1x256xf32>, %w: !qt.tensor<4x256, #qt.gguf<q2_k>>) -> tensor<1x4xf32> {
  // CHECK-NOT: scf.forall
  // CHECK: qt.matmul
  %y = qt.matmul %x, %w : tensor<1x256xf32>, !qt.tensor<4x256, #qt.gguf<q2_k>> -> tensor<1x4xf32>
  return %y : tensor<1x4xf32>
}

// -----

// M = 6: one tile of 4 rows shares each decoded block (4 accumulators), then
// rows 4 and 5 one at a time.
// TILE-LABEL: func.func @q8_0_tiles
// Only the loop of single rows prefetches: a tile re-reads each block for 4
// activation rows, and prefill's weights are cached after the first tile.
// PREFETCH-LABEL: func.func @q8_0_tiles
// PREFETCH: scf.for {{.*}} -> (vector<8xf32>, vector<8xf32>, vector<8xf32>, vector<8xf32>)
// PREFETCH-NOT: qt.prefetch
// PREFETCH: scf.for %{{.*}} = %c4 to %c6 step %c1
// PREFETCH: qt.prefetch
func.func @q8_0_tiles(%x: tensor<6x64xf32>, %b: tensor<8x68xi8>) -> tensor<6x8xf32> {
  // TILE: scf.forall
  // TILE: %[[ACC:.*]]:4 = scf.for {{.*}} -> (vector<8xf32>, vector<8xf32>, vector<8xf32>, vector<8xf32>)
  // TILE: vector.transfer_read %arg0[%c0
  // TILE: arith.sitofp %{{.*}} : vector<32xi8> to vector<32xf32>
  // TILE-NOT: arith.sitofp
  // TILE: vector.transfer_read %arg0[%c1
  // TILE-NOT: arith.sitofp
  // TILE: vector.transfer_read %arg0[%c2
  // TILE-NOT: arith.sitofp
  // TILE: vector.transfer_read %arg0[%c3
  // TILE-NOT: arith.sitofp
  // TILE: scf.yield
  // TILE-COUNT-4: vector.reduction <add>
  // TILE: scf.for %{{.*}} = %c4 to %c6 step %c1
  %w = qt.from_bytes %b : tensor<8x68xi8> -> !qt.tensor<8x64, #qt.gguf<q8_0>>
  %y = qt.matmul %x, %w : tensor<6x64xf32>, !qt.tensor<8x64, #qt.gguf<q8_0>> -> tensor<6x8xf32>
  return %y : tensor<6x8xf32>
}

// -----

// int8 activations: x is quantized before the GEMV (amax / 127, roundeven),
// here per block of 256 as llama.cpp's q8_K since q4_k's 256-element blocks
// have one f32 scale d (times a 6-bit integer scale per sub-block of 32) and
// one dmin (times a 6-bit integer min). The 8 scales and mins are decoded as
// vectors from the 12 scale bytes; each sub-block's unsigned nibbles meet
// x's quants with qt.dot_i8, weighted by its integer scale (the dot's
// `scale`); the 8 integer
// dots add up and are converted and scaled by d * d_x once; the mins
// (-dmin * m) meet the 8 groups' sums d_x * sum(q_x) in one fma.
// INT8-LABEL: func.func @q4_k_int8
// A 144-byte block spans three lines: prefetches at bytes 0, 64 and 128 of
// the block one row (288 bytes >= 100) ahead.
// PREFETCH-LABEL: func.func @q4_k_int8
// PREFETCH: scf.forall (%[[KN:.*]]) in (4)
// PREFETCH: scf.for %[[KB:.*]] = %c0 to %c2
// PREFETCH: %[[KAHEAD:.*]] = arith.addi %[[KN]], %c1 : index
// PREFETCH: %[[KROW:.*]] = arith.minui %[[KAHEAD]], %c3 : index
// PREFETCH: qt.prefetch %{{.*}}[%[[KROW]], %[[KB]], %c0] : tensor<4x2x144xi8>
// PREFETCH: qt.prefetch %{{.*}}[%[[KROW]], %[[KB]], %c64] : tensor<4x2x144xi8>
// PREFETCH: qt.prefetch %{{.*}}[%[[KROW]], %[[KB]], %c128] : tensor<4x2x144xi8>
// PREFETCH-NOT: qt.prefetch
// PREFETCH: scf.forall.in_parallel
func.func @q4_k_int8(%x: tensor<1x512xf32>, %w: !qt.tensor<4x512, #qt.gguf<q4_k>>) -> tensor<1x4xf32> {
  // INT8: %[[QX:.*]]:3 = scf.for {{.*}} -> (tensor<1x512xi8>, tensor<1x2xf32>, tensor<1x16xf32>)
  // INT8: math.absf
  // INT8: vector.reduction <maxnumf>
  // INT8: math.roundeven
  // INT8: arith.fptosi %{{.*}} : vector<32xf32> to vector<32xi8>
  // INT8: vector.reduction <add>, %{{.*}} : vector<32xi32> into i32
  // INT8: scf.forall
  // The 6-bit scales and mins: three u32 words, combined four bytes at a
  // time, then two i64 of eight bytes each.
  // INT8-COUNT-3: vector.bitcast %{{.*}} : vector<4xi8> to vector<1xi32>
  // INT8: arith.andi %{{.*}}, %c1061109567_i32 : i32
  // INT8: arith.andi %{{.*}}, %c252645135_i32 : i32
  // INT8: arith.andi %{{.*}}, %c50529027_i32 : i32
  // INT8: %[[SCB:.*]] = vector.bitcast %{{.*}} : vector<1xi64> to vector<8xi8>
  // INT8: vector.bitcast %{{.*}} : vector<1xi64> to vector<8xi8>
  // INT8: %[[SCI:.*]] = arith.extui %[[SCB]] : vector<8xi8> to vector<8xi32>
  // INT8: %[[MINS:.*]] = arith.negf %{{.*}} : vector<8xf32>
  // INT8: %[[SCALE:.*]] = vector.extract %[[SCI]][1] : i32 from vector<8xi32>
  // INT8: qt.dot_i8 %{{.*}}, %{{.*}} scale %[[SCALE]] {unsigned_lhs} : vector<32xi8> -> vector<8xi32>
  // INT8-NOT: arith.muli %{{.*}}, %{{.*}} : vector<8xi32>
  // INT8: arith.addi %{{.*}}, %{{.*}} : vector<8xi32>
  // INT8: arith.sitofp %{{.*}} : vector<8xi32> to vector<8xf32>
  // INT8-NOT: arith.sitofp %{{.*}} : vector<8xi32>
  // INT8: %[[SUMS:.*]] = vector.transfer_read %[[QX]]#2
  // INT8: vector.fma %[[MINS]], %[[SUMS]], %{{.*}} : vector<8xf32>
  // INT8: vector.reduction <add>
  %y = qt.matmul %x, %w : tensor<1x512xf32>, !qt.tensor<4x512, #qt.gguf<q4_k>> -> tensor<1x4xf32>
  return %y : tensor<1x4xf32>
}

// -----

// Q6_K with int8 activations: per 256 (q8_K) with sums per 16. The 6-bit
// quants stay unsigned (no sign trick); each group's dot takes its two
// signed scales (one per 16 elements); the block's -32 becomes 16 mins,
// -32 * d * scale, which meet the 16 activation sums in two fmas.
// INT8-LABEL: func.func @q6_k_int8
func.func @q6_k_int8(%x: tensor<1x512xf32>, %w: !qt.tensor<4x512, #qt.gguf<q6_k>>) -> tensor<1x4xf32> {
  // INT8: %[[QX:.*]]:3 = scf.for {{.*}} -> (tensor<1x512xi8>, tensor<1x2xf32>, tensor<1x32xf32>)
  // INT8: scf.forall
  // INT8: %[[SCB:.*]] = vector.transfer_read %{{.*}}[%{{.*}}, %{{.*}}, %c192]{{.*}} : tensor<4x2x210xi8>, vector<16xi8>
  // INT8: %[[SC:.*]] = arith.extsi %[[SCB]] : vector<16xi8> to vector<16xi32>
  // INT8-NOT: math.absi
  // INT8-NOT: arith.subi %{{.*}} : vector<32xi8>
  // INT8: %[[SCF:.*]] = arith.sitofp %[[SC]] : vector<16xi32> to vector<16xf32>
  // INT8: %[[MINS:.*]] = arith.mulf %{{.*}}, %[[SCF]] : vector<16xf32>
  // INT8: %[[LO:.*]] = vector.extract %[[SC]][0] : i32 from vector<16xi32>
  // INT8: %[[HI:.*]] = vector.extract %[[SC]][1] : i32 from vector<16xi32>
  // INT8: qt.dot_i8 %{{.*}}, %{{.*}} scale %[[LO]] high %[[HI]] {unsigned_lhs}
  // INT8-COUNT-7: qt.dot_i8 %{{.*}}, %{{.*}} scale %{{.*}} high %{{.*}} {unsigned_lhs}
  // INT8: arith.sitofp %{{.*}} : vector<8xi32> to vector<8xf32>
  // INT8: %[[SUMS:.*]] = vector.transfer_read %[[QX]]#2{{.*}} : tensor<1x32xf32>, vector<16xf32>
  // INT8: vector.extract_strided_slice %[[MINS]] {offsets = [0]
  // INT8: vector.fma
  // INT8: vector.extract_strided_slice %[[MINS]] {offsets = [8]
  // INT8: vector.fma
  %y = qt.matmul %x, %w : tensor<1x512xf32>, !qt.tensor<4x512, #qt.gguf<q6_k>> -> tensor<1x4xf32>
  return %y : tensor<1x4xf32>
}

// -----

// Q3_K and Q2_K take the same path as Q6_K: activations per 256 with sums
// per 16, unsigned quants, each group's two integer scales (Q3_K's signed
// 6-bit, Q2_K's unsigned 4-bit) in its dot. Q3_K's -4 becomes mins; Q2_K has
// its own mins.
// INT8-LABEL: func.func @q3_k_int8
func.func @q3_k_int8(%x: tensor<1x256xf32>, %w: !qt.tensor<4x256, #qt.gguf<q3_k>>) -> tensor<1x4xf32> {
  // INT8: tensor<1x16xf32>
  // INT8: scf.forall
  // INT8: %[[SC:.*]] = arith.extsi %{{.*}} : vector<16xi8> to vector<16xi32>
  // INT8-NOT: math.absi
  // INT8: arith.sitofp %[[SC]] : vector<16xi32> to vector<16xf32>
  // INT8-COUNT-8: qt.dot_i8 %{{.*}}, %{{.*}} scale %{{.*}} high %{{.*}} {unsigned_lhs}
  // INT8-COUNT-2: vector.fma
  %y = qt.matmul %x, %w : tensor<1x256xf32>, !qt.tensor<4x256, #qt.gguf<q3_k>> -> tensor<1x4xf32>
  return %y : tensor<1x4xf32>
}

// -----

// INT8-LABEL: func.func @q2_k_int8
func.func @q2_k_int8(%x: tensor<1x256xf32>, %w: !qt.tensor<4x256, #qt.gguf<q2_k>>) -> tensor<1x4xf32> {
  // INT8: tensor<1x16xf32>
  // INT8: scf.forall
  // INT8: arith.extui %{{.*}} : vector<16xi8> to vector<16xi32>
  // INT8-NOT: math.absi
  // INT8-COUNT-8: qt.dot_i8 %{{.*}}, %{{.*}} scale %{{.*}} high %{{.*}} {unsigned_lhs}
  %y = qt.matmul %x, %w : tensor<1x256xf32>, !qt.tensor<4x256, #qt.gguf<q2_k>> -> tensor<1x4xf32>
  return %y : tensor<1x4xf32>
}

// -----

// F16 weights read transposed by linalg.matmul: blocks of 32 halves widened
// to f32; the destination (here a zero fill) is added to each sum.
// CHECK-LABEL: func.func @f16
// NOFLOAT-LABEL: func.func @f16
// NOFLOAT: linalg.matmul
func.func @f16(%x: tensor<?x64xf32>, %w: tensor<16x64xf16>) -> tensor<?x16xf32> {
  // CHECK-NOT: linalg.matmul
  // CHECK: %[[F:.*]] = linalg.fill
  // CHECK: scf.forall (%[[N:.*]]) in (16) shared_outs(%[[OUT:.*]] = %[[F]]) -> (tensor<?x16xf32>)
  // CHECK: %[[WS:.*]] = vector.transfer_read %{{.*}}[%[[N]], %{{.*}}], %{{.*}} {in_bounds = [true]} : tensor<16x64xf16>, vector<32xf16>
  // CHECK: %[[WF:.*]] = arith.extf %[[WS]] : vector<32xf16> to vector<32xf32>
  // CHECK: vector.fma %[[WF]]
  // CHECK: %[[S:.*]] = vector.reduction <add>
  // CHECK: %[[PRIOR:.*]] = tensor.extract
  // CHECK: arith.addf %[[PRIOR]], %[[S]] : f32
  %c0 = arith.constant 0 : index
  %m = tensor.dim %x, %c0 : tensor<?x64xf32>
  %zero = arith.constant 0.0 : f32
  %e = tensor.empty(%m) : tensor<?x16xf32>
  %acc = linalg.fill ins(%zero : f32) outs(%e : tensor<?x16xf32>) -> tensor<?x16xf32>
  %y = linalg.matmul indexing_maps = [affine_map<(m, n, k) -> (m, k)>, affine_map<(m, n, k) -> (n, k)>, affine_map<(m, n, k) -> (m, n)>]
      ins(%x, %w : tensor<?x64xf32>, tensor<16x64xf16>) outs(%acc : tensor<?x16xf32>) -> tensor<?x16xf32>
  return %y : tensor<?x16xf32>
}

// -----

// A plain (not transposed) matmul is not a GEMV by weight rows.
// CHECK-LABEL: func.func @not_transposed
func.func @not_transposed(%x: tensor<4x64xf32>, %w: tensor<64x16xf32>, %acc: tensor<4x16xf32>) -> tensor<4x16xf32> {
  // CHECK: linalg.matmul
  %y = linalg.matmul ins(%x, %w : tensor<4x64xf32>, tensor<64x16xf32>) outs(%acc : tensor<4x16xf32>) -> tensor<4x16xf32>
  return %y : tensor<4x16xf32>
}

// -----

// tq2_0: one scale per 256-element block, so the activations take one scale
// per 256 as well (llama.cpp's q8_K): the 8 groups' integer dots are one
// qt.dot_i8_sum (quants in [0, 3]: their 16-bit pair sums add up before
// widening). The block's -1 offset meets the activations' integer sums per
// group (computed with the quants: no float sums) in one subtraction, and the
// block's sum is converted and scaled once.
// INT8-LABEL: func.func @tq2_0_int8
func.func @tq2_0_int8(%x: tensor<1x512xf32>, %w: !qt.tensor<4x512, #qt.gguf<tq2_0>>) -> tensor<1x4xf32> {
  // INT8: %[[QX:.*]]:3 = scf.for {{.*}} -> (tensor<1x512xi8>, tensor<1x2xf32>, tensor<1x16xi32>)
  // INT8-COUNT-7: arith.maxnumf
  // INT8: scf.forall
  // INT8-NOT: arith.sitofp %{{.*}} : vector<8xi32>
  // INT8-NOT: qt.dot_i8 %
  // INT8: %[[DOT:.*]] = qt.dot_i8_sum %{{.*}}, %{{.*}}, %{{.*}}, %{{.*}}, %{{.*}}, %{{.*}}, %{{.*}}, %{{.*}} x %{{.*}} {lhs_max = 3 : i64}
  // INT8: %[[SUMS:.*]] = vector.transfer_read %[[QX]]#2[%{{.*}}, %{{.*}}], %{{.*}} {in_bounds = [true]} : tensor<1x16xi32>, vector<8xi32>
  // INT8: %[[NET:.*]] = arith.subi %[[DOT]], %[[SUMS]] : vector<8xi32>
  // INT8-NOT: arith.sitofp %{{.*}} : vector<8xi32>
  // INT8: arith.sitofp %[[NET]] : vector<8xi32> to vector<8xf32>
  // INT8-NOT: arith.sitofp %{{.*}} : vector<8xi32>
  // INT8: vector.fma %{{.*}}, %{{.*}}, %{{.*}} : vector<8xf32>
  // INT8-NOT: vector.fma
  // INT8: vector.reduction <add>
  %y = qt.matmul %x, %w : tensor<1x512xf32>, !qt.tensor<4x512, #qt.gguf<tq2_0>> -> tensor<1x4xf32>
  return %y : tensor<1x4xf32>
}

// -----

// iq4_nl: the nibbles index the 16 non-uniform levels with qt.lookup_i8; the
// levels are signed quants scaled by the f16 d like q4_0's.
// INT8-LABEL: func.func @iq4_nl_int8
func.func @iq4_nl_int8(%x: tensor<1x64xf32>, %b: tensor<4x36xi8>) -> tensor<1x4xf32> {
  // INT8: scf.forall
  // INT8: %[[NIB:.*]] = vector.shuffle
  // INT8: %[[Q:.*]] = qt.lookup_i8 %[[NIB]] [-127, -104, -83, -65, -49, -35, -22, -10, 1, 13, 25, 38, 53, 69, 89, 113] : vector<32xi8>
  // INT8: qt.dot_i8 %[[Q]], %{{.*}} : vector<32xi8> -> vector<8xi32>
  %w = qt.from_bytes %b : tensor<4x36xi8> -> !qt.tensor<4x64, #qt.gguf<iq4_nl>>
  %y = qt.matmul %x, %w : tensor<1x64xf32>, !qt.tensor<4x64, #qt.gguf<iq4_nl>> -> tensor<1x4xf32>
  return %y : tensor<1x4xf32>
}

// -----

// Rows interleaved by 8 (qt-interleave-weights), int8 activations: one
// parallel iteration per group of 8 rows, the bytes viewed as
// [N / 8, blocks, 8 * blockBytes] (field by field: the 8 rows' f16 scales at
// bytes 0-15 of the group's block, then their nibbles, 16 bytes per row); per
// block the 8 rows' dots sum to the 8 lanes of one vector (a transposing tree
// of shuffles), scaled by the rows' f16 scales read as one vector: one
// accumulator, lane r for row r.
// Without int8 activations the layout has no reader here.
// CHECK-LABEL: func.func @q4_0_rows8
// CHECK: qt.matmul
// INT8-LABEL: func.func @q4_0_rows8
// INT8: %[[FLAT:.*]] = tensor.collapse_shape %{{.*}} {{\[}}[0, 1]] : tensor<16x36xi8> into tensor<576xi8>
// INT8: %[[VIEW:.*]] = tensor.expand_shape %[[FLAT]] {{\[}}[0, 1, 2]] output_shape [2, 2, 144]
// INT8: scf.forall (%[[G:.*]]) in (2)
// INT8: scf.for %[[B:.*]] = %c0 to %c2 step %c1 iter_args(%[[ACC:.*]] = %{{.*}}) -> (vector<8xf32>)
// INT8: vector.transfer_read %[[VIEW]][%[[G]], %[[B]], %c0]{{.*}} vector<2xi8>
// INT8: vector.transfer_read %[[VIEW]][%[[G]], %[[B]], %c16]{{.*}} vector<16xi8>
// INT8: vector.transfer_read %[[VIEW]][%[[G]], %[[B]], %c14]{{.*}} vector<2xi8>
// INT8: vector.transfer_read %[[VIEW]][%[[G]], %[[B]], %c128]{{.*}} vector<16xi8>
// INT8: %[[HALVES:.*]] = vector.from_elements %{{.*}} : vector<8xf16>
// INT8: %[[SCALES:.*]] = arith.extf %[[HALVES]] : vector<8xf16> to vector<8xf32>
// Nibble-packed quants: rows p and p + 4 paired, first halves in one vector
// and last halves in the other, against the activations' halves repeated.
// INT8: %[[P0LO:.*]] = vector.shuffle %[[R0:.*]], %[[R4:.*]] [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 32, {{.*}}, 47] : vector<32xi8>, vector<32xi8>
// INT8: %[[P0HI:.*]] = vector.shuffle %[[R0]], %[[R4]] [16, {{.*}}, 31, 48, {{.*}}, 63] : vector<32xi8>, vector<32xi8>
// INT8-COUNT-6: vector.shuffle %{{.*}}, %{{.*}} [{{.*}}] : vector<32xi8>, vector<32xi8>
// INT8: %[[XLO:.*]] = vector.shuffle %[[X:.*]], %[[X]] [0, {{.*}}, 15, 0, {{.*}}, 15] : vector<32xi8>, vector<32xi8>
// INT8: %[[XHI:.*]] = vector.shuffle %[[X]], %[[X]] [16, {{.*}}, 31, 16, {{.*}}, 31] : vector<32xi8>, vector<32xi8>
// INT8: %[[D0LO:.*]] = qt.dot_i8 %[[P0LO]], %[[XLO]] {unsigned_lhs}
// INT8: %[[D0HI:.*]] = qt.dot_i8 %[[P0HI]], %[[XHI]] {unsigned_lhs}
// INT8: arith.addi %[[D0LO]], %[[D0HI]] : vector<8xi32>
// INT8-COUNT-6: qt.dot_i8
// INT8-NOT: qt.dot_i8
// INT8: vector.shuffle %{{.*}}, %{{.*}} [0, 1, 8, 9, 4, 5, 12, 13] : vector<8xi32>, vector<8xi32>
// INT8: vector.shuffle %{{.*}}, %{{.*}} [2, 3, 10, 11, 6, 7, 14, 15] : vector<8xi32>, vector<8xi32>
// INT8: %[[LO:.*]] = vector.shuffle %{{.*}}, %{{.*}} [0, 2, 8, 10, 4, 6, 12, 14] : vector<8xi32>, vector<8xi32>
// INT8: %[[HI:.*]] = vector.shuffle %{{.*}}, %{{.*}} [1, 3, 9, 11, 5, 7, 13, 15] : vector<8xi32>, vector<8xi32>
// INT8: %[[SUM:.*]] = arith.addi %[[LO]], %[[HI]] : vector<8xi32>
// INT8: %[[ROWSCALES:.*]] = arith.mulf %[[SCALES]], %{{.*}} : vector<8xf32>
// INT8: %[[SUMF:.*]] = arith.sitofp %[[SUM]] : vector<8xi32> to vector<8xf32>
// INT8: vector.fma %[[ROWSCALES]], %[[SUMF]], %[[ACC]] : vector<8xf32>
// INT8-NOT: vector.reduction
// INT8: vector.extract %{{.*}}[7] : f32 from vector<8xf32>
// INT8: scf.forall.in_parallel
// Interleaved rows prefetch the next group of 8 rows' block (8 * 18 bytes):
// lines at bytes 0, 64 and 128.
// PREFETCH-LABEL: func.func @q4_0_rows8
// PREFETCH: scf.forall (%[[RG:.*]]) in (2)
// PREFETCH: scf.for %[[RB:.*]] = %c0 to %c2
// PREFETCH: %[[RAHEAD:.*]] = arith.addi %[[RG]], %c1 : index
// PREFETCH: %[[RROW:.*]] = arith.minui %[[RAHEAD]], %c1 : index
// PREFETCH: qt.prefetch %{{.*}}[%[[RROW]], %[[RB]], %c0] : tensor<2x2x144xi8>
// PREFETCH: qt.prefetch %{{.*}}[%[[RROW]], %[[RB]], %c64] : tensor<2x2x144xi8>
// PREFETCH: qt.prefetch %{{.*}}[%[[RROW]], %[[RB]], %c128] : tensor<2x2x144xi8>
// PREFETCH-NOT: qt.prefetch
// PREFETCH: scf.forall.in_parallel
func.func @q4_0_rows8(%x: tensor<1x64xf32>) -> tensor<1x16xf32> {
  %w = qt.weight "w" : !qt.tensor<16x64, #qt.gguf<q4_0, interleave = 8>>
  %y = qt.matmul %x, %w : tensor<1x64xf32>, !qt.tensor<16x64, #qt.gguf<q4_0, interleave = 8>> -> tensor<1x16xf32>
  return %y : tensor<1x16xf32>
}

// -----

// A tile of 8 activation rows (M = 8) against interleaved rows of unsigned
// quants: the 8 rows' quants of the group transposed by 4-byte words (three
// levels of 8 shuffles, shared by the tile), then per activation row one
// qt.dot_i8_sum of the 8 words against the activations' word j repeated in
// every lane: lane r is row r's dot, with no transposing tree per row.
// INT8-LABEL: func.func @q4_0_rows8_tile
// INT8: scf.forall
// INT8: scf.for %{{.*}} = %c0 to %c2 step %c1 iter_args({{.*}}) -> (vector<8xf32>, vector<8xf32>, vector<8xf32>, vector<8xf32>, vector<8xf32>, vector<8xf32>, vector<8xf32>, vector<8xf32>)
// INT8-COUNT-8: vector.shuffle %{{.*}}, %{{.*}} [{{0, 8, 1, 9|2, 10, 3, 11}}, {{.*}}] : vector<8xi32>, vector<8xi32>
// INT8-COUNT-8: vector.shuffle %{{.*}}, %{{.*}} [{{0, 1, 8, 9|2, 3, 10, 11}}, {{.*}}] : vector<8xi32>, vector<8xi32>
// INT8-COUNT-8: vector.shuffle %{{.*}}, %{{.*}} [{{0, 1, 2, 3|4, 5, 6, 7}}, {{.*}}] : vector<8xi32>, vector<8xi32>
// INT8: %[[XW:.*]] = vector.transfer_read %{{.*}} {in_bounds = [true]} : tensor<8x64xi8>, vector<4xi8>
// INT8: %[[XWORD:.*]] = vector.bitcast %[[XW]] : vector<4xi8> to vector<1xi32>
// INT8: %[[XSPLAT:.*]] = vector.broadcast %[[XWORD]] : vector<1xi32> to vector<8xi32>
// INT8: vector.bitcast %[[XSPLAT]] : vector<8xi32> to vector<32xi8>
// INT8: %[[DOT:.*]] = qt.dot_i8_sum {{.*}} {lhs_max = 15 : i64} : ({{.*}}) x ({{.*}}) -> vector<8xi32>
// INT8-NOT: vector.shuffle {{.*}} : vector<8xi32>, vector<8xi32>
// INT8: arith.sitofp %[[DOT]] : vector<8xi32> to vector<8xf32>
// INT8-COUNT-7: qt.dot_i8_sum
// INT8-NOT: qt.dot_i8
// INT8: scf.forall.in_parallel
func.func @q4_0_rows8_tile(%x: tensor<8x64xf32>) -> tensor<8x16xf32> {
  %w = qt.weight "w" : !qt.tensor<16x64, #qt.gguf<q4_0, interleave = 8>>
  %y = qt.matmul %x, %w : tensor<8x64xf32>, !qt.tensor<16x64, #qt.gguf<q4_0, interleave = 8>> -> tensor<8x16xf32>
  return %y : tensor<8x16xf32>
}

// -----

// q4_k with rows interleaved: each row's groups, weighted by its integer
// scales, add up as integers over the block; one tree and one conversion
// per block; the block mins of the 8 rows meet the activations' group sums
// and sum per row with the same tree in f32.
// INT8-LABEL: func.func @q4_k_rows8
// INT8: scf.forall
// INT8-COUNT-64: qt.dot_i8 %{{.*}}, %{{.*}} {unsigned_lhs}
// INT8: %[[SUPER:.*]] = arith.extf %{{.*}} : vector<8xf16> to vector<8xf32>
// INT8: vector.shuffle %{{.*}}, %{{.*}} [0, 8, 1, 9, 4, 12, 5, 13] : vector<8xi32>, vector<8xi32>
// INT8: arith.sitofp %{{.*}} : vector<8xi32> to vector<8xf32>
// INT8-NOT: arith.sitofp
// INT8: vector.shuffle %{{.*}}, %{{.*}} [0, 8, 1, 9, 4, 12, 5, 13] : vector<8xf32>, vector<8xf32>
// INT8: arith.addf %{{.*}}, %{{.*}} : vector<8xf32>
// INT8-NOT: vector.reduction
// INT8: scf.forall.in_parallel
func.func @q4_k_rows8(%x: tensor<1x512xf32>) -> tensor<1x16xf32> {
  %w = qt.weight "w" : !qt.tensor<16x512, #qt.gguf<q4_k, interleave = 8>>
  %y = qt.matmul %x, %w : tensor<1x512xf32>, !qt.tensor<16x512, #qt.gguf<q4_k, interleave = 8>> -> tensor<1x16xf32>
  return %y : tensor<1x16xf32>
}

// -----

// q4_k with a tile of 8 activation rows: the 8 rows' integer sub-block
// scales are transposed once per block (lane r of vector g: row r's scale
// of group g), each group's quants by words; per activation row and group
// one qt.dot_i8_sum times the group's scale vector, summed into one vector
// per activation row: no per-row dots and no tree for the quants.
// INT8-LABEL: func.func @q4_k_rows8_tile
// INT8: scf.forall
// INT8-NOT: qt.dot_i8 %
// INT8: %[[D:.*]] = qt.dot_i8_sum {{.*}} {lhs_max = 127 : i64}
// INT8: arith.muli %[[D]], %{{.*}} : vector<8xi32>
// INT8-COUNT-63: qt.dot_i8_sum
// INT8-NOT: qt.dot_i8
// INT8: scf.forall.in_parallel
func.func @q4_k_rows8_tile(%x: tensor<8x512xf32>) -> tensor<8x16xf32> {
  %w = qt.weight "w" : !qt.tensor<16x512, #qt.gguf<q4_k, interleave = 8>>
  %y = qt.matmul %x, %w : tensor<8x512xf32>, !qt.tensor<16x512, #qt.gguf<q4_k, interleave = 8>> -> tensor<8x16xf32>
  return %y : tensor<8x16xf32>
}

// -----

// q4_k in the file's layout (its decode is faster there) with int8
// activations: each parallel iteration takes 8 weight rows, so that the
// prompt tile of 8 meets their quants transposed by words (64 dot sums: 8
// groups x 8 activation rows, times the rows' scales); the last activation
// row reads the 8 weight rows one at a time in a loop, with the per-row
// dots of M = 1.
// INT8-LABEL: func.func @q4_k_flat_tile
// INT8: scf.forall (%[[G:.*]]) in (2)
// INT8-COUNT-64: qt.dot_i8_sum
// INT8-NOT: qt.dot_i8_sum
// INT8: scf.for %[[R:.*]] = %c0 to %c8 step %c1
// INT8: arith.addi %{{.*}}, %[[R]] : index
// INT8-COUNT-8: qt.dot_i8 %{{.*}}, %{{.*}} scale
// INT8: scf.forall.in_parallel
func.func @q4_k_flat_tile(%x: tensor<9x256xf32>, %b: tensor<16x144xi8>) -> tensor<9x16xf32> {
  %w = qt.from_bytes %b : tensor<16x144xi8> -> !qt.tensor<16x256, #qt.gguf<q4_k>>
  %y = qt.matmul %x, %w : tensor<9x256xf32>, !qt.tensor<16x256, #qt.gguf<q4_k>> -> tensor<9x16xf32>
  return %y : tensor<9x16xf32>
}
