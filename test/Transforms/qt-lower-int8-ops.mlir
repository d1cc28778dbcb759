// RUN: kvant-opt %s --qt-lower-int8-ops --split-input-file | FileCheck %s --check-prefix=GENERIC
// RUN: kvant-opt %s --qt-lower-int8-ops=target=avx2 --split-input-file | FileCheck %s --check-prefix=AVX2
// RUN: kvant-opt %s --qt-lower-int8-ops=target=avx2-vnni --split-input-file | FileCheck %s --check-prefix=VNNI
// RUN: not kvant-opt %s --qt-lower-int8-ops=target=neon 2>&1 | FileCheck %s --check-prefix=BAD

// BAD: qt-lower-int8-ops: unknown target 'neon' (expected generic, avx2 or avx2-vnni)

// The generic form widens to i32, multiplies, and sums product 4j + r over r
// with four strided shuffles. The AVX2 form: |w| (math.absi), sign(x, w)
// (vpsignb), unsigned x signed byte pairs (vpmaddubsw), pairs of i16 to i32
// by ones (vpmaddwd).
// GENERIC-LABEL: func.func @dot32
// AVX2-LABEL: func.func @dot32
func.func @dot32(%w: vector<32xi8>, %x: vector<32xi8>) -> vector<8xi32> {
  // GENERIC-NOT: qt.dot_i8
  // GENERIC: %[[W:.*]] = arith.extsi %{{.*}} : vector<32xi8> to vector<32xi32>
  // GENERIC: %[[X:.*]] = arith.extsi %{{.*}} : vector<32xi8> to vector<32xi32>
  // GENERIC: %[[P:.*]] = arith.muli %[[W]], %[[X]] : vector<32xi32>
  // GENERIC: %[[S0:.*]] = vector.shuffle %[[P]], %[[P]] [0, 4, 8, 12, 16, 20, 24, 28]
  // GENERIC: %[[S1:.*]] = vector.shuffle %[[P]], %[[P]] [1, 5, 9, 13, 17, 21, 25, 29]
  // GENERIC: %[[A1:.*]] = arith.addi %[[S0]], %[[S1]] : vector<8xi32>
  // GENERIC: %[[S2:.*]] = vector.shuffle %[[P]], %[[P]] [2, 6, 10, 14, 18, 22, 26, 30]
  // GENERIC: %[[A2:.*]] = arith.addi %[[A1]], %[[S2]] : vector<8xi32>
  // GENERIC: %[[S3:.*]] = vector.shuffle %[[P]], %[[P]] [3, 7, 11, 15, 19, 23, 27, 31]
  // GENERIC: %[[A3:.*]] = arith.addi %[[A2]], %[[S3]] : vector<8xi32>
  // GENERIC: return %[[A3]]
  // AVX2: %[[ONES:.*]] = arith.constant dense<1> : vector<16xi16>
  // AVX2: %[[ABS:.*]] = math.absi %[[W:.*]] : vector<32xi8>
  // AVX2: %[[SX:.*]] = llvm.call_intrinsic "llvm.x86.avx2.psign.b"(%[[X:.*]], %[[W]]) : (vector<32xi8>, vector<32xi8>) -> vector<32xi8>
  // AVX2: %[[PAIRS:.*]] = llvm.call_intrinsic "llvm.x86.avx2.pmadd.ub.sw"(%[[ABS]], %[[SX]]) : (vector<32xi8>, vector<32xi8>) -> vector<16xi16>
  // AVX2: %[[D:.*]] = llvm.call_intrinsic "llvm.x86.avx2.pmadd.wd"(%[[PAIRS]], %[[ONES]]) : (vector<16xi16>, vector<16xi16>) -> vector<8xi32>
  // AVX2: return %[[D]]
  // With VNNI the pair sums and their widening are one vpdpbusd into zeros.
  // VNNI-DAG: %[[ZERO:.*]] = arith.constant dense<0> : vector<8xi32>
  // VNNI-DAG: %[[ABS:.*]] = math.absi %[[W:.*]] : vector<32xi8>
  // VNNI-DAG: %[[SX:.*]] = llvm.call_intrinsic "llvm.x86.avx2.psign.b"(%[[X:.*]], %[[W]])
  // VNNI: %[[D:.*]] = llvm.call_intrinsic "llvm.x86.avx512.vpdpbusd.256"(%[[ZERO]], %[[ABS]], %[[SX]]) : (vector<8xi32>, vector<32xi8>, vector<32xi8>) -> vector<8xi32>
  // VNNI-NOT: pmadd
  // VNNI: return %[[D]]
  %d = qt.dot_i8 %w, %x : vector<32xi8> -> vector<8xi32>
  return %d : vector<8xi32>
}

// -----

// Shapes other than 32 -> 8 take the generic form on every target.
// AVX2-LABEL: func.func @dot16
// VNNI-LABEL: func.func @dot16
func.func @dot16(%w: vector<16xi8>, %x: vector<16xi8>) -> vector<4xi32> {
  // AVX2-NOT: llvm.call_intrinsic
  // VNNI-NOT: llvm.call_intrinsic
  // VNNI: arith.muli %{{.*}}, %{{.*}} : vector<16xi32>
  // AVX2: arith.muli %{{.*}}, %{{.*}} : vector<16xi32>
  %d = qt.dot_i8 %w, %x : vector<16xi8> -> vector<4xi32>
  return %d : vector<4xi32>
}

// -----

// An unsigned lhs skips the sign trick on AVX2 and is zero-extended by the
// generic form.
// GENERIC-LABEL: func.func @unsigned
// AVX2-LABEL: func.func @unsigned
// VNNI-LABEL: func.func @unsigned
func.func @unsigned(%q: vector<32xi8>, %x: vector<32xi8>) -> vector<8xi32> {
  // VNNI-NOT: math.absi
  // VNNI-NOT: psign
  // VNNI: llvm.call_intrinsic "llvm.x86.avx512.vpdpbusd.256"(%{{.*}}, %arg0, %arg1)
  // GENERIC: arith.extui %{{.*}} : vector<32xi8> to vector<32xi32>
  // GENERIC: arith.extsi %{{.*}} : vector<32xi8> to vector<32xi32>
  // AVX2-NOT: math.absi
  // AVX2-NOT: psign
  // AVX2: llvm.call_intrinsic "llvm.x86.avx2.pmadd.ub.sw"(%arg0, %arg1)
  // AVX2: llvm.call_intrinsic "llvm.x86.avx2.pmadd.wd"
  %d = qt.dot_i8 %q, %x {unsigned_lhs} : vector<32xi8> -> vector<8xi32>
  return %d : vector<8xi32>
}

// -----

// qt.lookup_i8: one vpshufb of the table repeated in both 128-bit halves on
// AVX2; a chain of 15 compares and selects otherwise.
// GENERIC-LABEL: func.func @lookup
// AVX2-LABEL: func.func @lookup
func.func @lookup(%i: vector<32xi8>) -> vector<32xi8> {
  // GENERIC-COUNT-15: arith.select
  // GENERIC-NOT: arith.select
  // AVX2: %[[T:.*]] = arith.constant dense<[-127, -104, -83, -65, -49, -35, -22, -10, 1, 13, 25, 38, 53, 69, 89, 113, -127, -104, -83, -65, -49, -35, -22, -10, 1, 13, 25, 38, 53, 69, 89, 113]> : vector<32xi8>
  // AVX2: llvm.call_intrinsic "llvm.x86.avx2.pshuf.b"(%[[T]], %arg0) : (vector<32xi8>, vector<32xi8>) -> vector<32xi8>
  %q = qt.lookup_i8 %i [-127, -104, -83, -65, -49, -35, -22, -10, 1, 13, 25, 38, 53, 69, 89, 113] : vector<32xi8>
  return %q : vector<32xi8>
}

// -----

// A scale multiplies every lane: after the sums (generic), or as the
// vpmaddwd weights instead of ones (AVX2; the op requires it to fit 16 bits).
// GENERIC-LABEL: func.func @scaled
// AVX2-LABEL: func.func @scaled
// VNNI-LABEL: func.func @scaled
func.func @scaled(%q: vector<32xi8>, %x: vector<32xi8>, %s: i32) -> vector<8xi32> {
  // GENERIC-COUNT-3: arith.addi %{{.*}}, %{{.*}} : vector<8xi32>
  // GENERIC: %[[SPLAT:.*]] = vector.broadcast %arg2 : i32 to vector<8xi32>
  // GENERIC: %[[D:.*]] = arith.muli %{{.*}}, %[[SPLAT]] : vector<8xi32>
  // GENERIC: return %[[D]]
  // AVX2: %[[PAIRS:.*]] = llvm.call_intrinsic "llvm.x86.avx2.pmadd.ub.sw"(%arg0, %arg1)
  // AVX2: %[[S16:.*]] = arith.trunci %arg2 : i32 to i16
  // AVX2: %[[W:.*]] = vector.broadcast %[[S16]] : i16 to vector<16xi16>
  // AVX2: %[[D:.*]] = llvm.call_intrinsic "llvm.x86.avx2.pmadd.wd"(%[[PAIRS]], %[[W]])
  // AVX2-NOT: arith.muli
  // AVX2: return %[[D]]
  // A scaled dot keeps the AVX2 form on VNNI (LLVM folds its vpmaddwd by the
  // scale and the add that follows into one vpdpwssd).
  // VNNI-NOT: vpdpbusd
  // VNNI: llvm.call_intrinsic "llvm.x86.avx2.pmadd.ub.sw"(%arg0, %arg1)
  // VNNI: llvm.call_intrinsic "llvm.x86.avx2.pmadd.wd"
  %d = qt.dot_i8 %q, %x scale %s {unsigned_lhs} : vector<32xi8> -> vector<8xi32>
  return %d : vector<8xi32>
}

// -----

// A scale that is lane k of bytes widened to i32 (k-quant sub-block scales)
// is spread over the vpmaddwd weights by one vpshufb. Unsigned: the bytes
// repeated in both 128-bit halves, control byte k then -128 (a zero) in each
// i16 lane. Signed, with a high-half scale (Q6_K: one per 16 inputs): the
// bytes widened to i16, the 8 words holding both lanes repeated in both
// halves, each half picking its lane's word. The generic form multiplies the
// sums. A lane of an i32 vector that is not a widening of bytes takes the
// scalar broadcast.
// GENERIC-LABEL: func.func @scaled_byte_lane
// AVX2-LABEL: func.func @scaled_byte_lane
func.func @scaled_byte_lane(%q: vector<32xi8>, %x: vector<32xi8>, %b: vector<8xi8>, %v: vector<8xi32>) -> (vector<8xi32>, vector<8xi32>) {
  // GENERIC: %[[S:.*]] = vector.extract %{{.*}}[5] : i32 from vector<8xi32>
  // GENERIC: vector.broadcast %[[S]] : i32 to vector<8xi32>
  // GENERIC-NOT: pshuf.b
  // AVX2-DAG: %[[CTL:.*]] = arith.constant dense<[5, -128, 5, -128, 5, -128, 5, -128, 5, -128, 5, -128, 5, -128, 5, -128, 5, -128, 5, -128, 5, -128, 5, -128, 5, -128, 5, -128, 5, -128, 5, -128]> : vector<32xi8>
  // AVX2-DAG: %[[PAIRS:.*]] = llvm.call_intrinsic "llvm.x86.avx2.pmadd.ub.sw"(%arg0, %arg1)
  // AVX2-DAG: %[[REP:.*]] = vector.shuffle %arg2, %arg2 [0, 1, 2, 3, 4, 5, 6, 7, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 2, 3, 4, 5, 6, 7, 0, 0, 0, 0, 0, 0, 0, 0] : vector<8xi8>, vector<8xi8>
  // AVX2: %[[SPREAD:.*]] = llvm.call_intrinsic "llvm.x86.avx2.pshuf.b"(%[[REP]], %[[CTL]])
  // AVX2: %[[W:.*]] = vector.bitcast %[[SPREAD]] : vector<32xi8> to vector<16xi16>
  // AVX2: %[[D:.*]] = llvm.call_intrinsic "llvm.x86.avx2.pmadd.wd"(%[[PAIRS]], %[[W]])
  // AVX2: %[[T:.*]] = arith.trunci %{{.*}} : i32 to i16
  // AVX2: vector.broadcast %[[T]] : i16 to vector<16xi16>
  // AVX2: return %[[D]]
  %wide = arith.extui %b : vector<8xi8> to vector<8xi32>
  %s = vector.extract %wide[5] : i32 from vector<8xi32>
  %d = qt.dot_i8 %q, %x scale %s {unsigned_lhs} : vector<32xi8> -> vector<8xi32>
  %t = vector.extract %v[5] : i32 from vector<8xi32>
  %e = qt.dot_i8 %q, %x scale %t {unsigned_lhs} : vector<32xi8> -> vector<8xi32>
  return %d, %e : vector<8xi32>, vector<8xi32>
}

// -----

// GENERIC-LABEL: func.func @scaled_halves
// AVX2-LABEL: func.func @scaled_halves
func.func @scaled_halves(%q: vector<32xi8>, %x: vector<32xi8>, %b: vector<16xi8>, %s: i32, %h: i32) -> (vector<8xi32>, vector<8xi32>) {
  // GENERIC: %[[LO:.*]] = vector.broadcast %{{.*}} : i32 to vector<8xi32>
  // GENERIC: %[[HI:.*]] = vector.broadcast %{{.*}} : i32 to vector<8xi32>
  // GENERIC: vector.shuffle %[[LO]], %[[HI]] [0, 1, 2, 3, 12, 13, 14, 15]
  // Lanes 10 and 11 of 16 signed bytes: the upper 8 words, words 2 and 3.
  // AVX2-DAG: %[[CTL:.*]] = arith.constant dense<[4, 5, 4, 5, 4, 5, 4, 5, 4, 5, 4, 5, 4, 5, 4, 5, 6, 7, 6, 7, 6, 7, 6, 7, 6, 7, 6, 7, 6, 7, 6, 7]> : vector<32xi8>
  // AVX2-DAG: %[[WORDS:.*]] = arith.extsi %arg2 : vector<16xi8> to vector<16xi16>
  // AVX2: %[[REP:.*]] = vector.shuffle %[[WORDS]], %[[WORDS]] [8, 9, 10, 11, 12, 13, 14, 15, 8, 9, 10, 11, 12, 13, 14, 15] : vector<16xi16>, vector<16xi16>
  // AVX2: %[[REPB:.*]] = vector.bitcast %[[REP]] : vector<16xi16> to vector<32xi8>
  // AVX2: llvm.call_intrinsic "llvm.x86.avx2.pshuf.b"(%[[REPB]], %[[CTL]])
  // Scalar scales: two broadcasts, the upper 8 words from the second.
  // AVX2: %[[SLO:.*]] = vector.broadcast %{{.*}} : i16 to vector<16xi16>
  // AVX2: %[[SHI:.*]] = vector.broadcast %{{.*}} : i16 to vector<16xi16>
  // AVX2: %[[W:.*]] = vector.shuffle %[[SLO]], %[[SHI]] [0, 1, 2, 3, 4, 5, 6, 7, 24, 25, 26, 27, 28, 29, 30, 31]
  // AVX2: llvm.call_intrinsic "llvm.x86.avx2.pmadd.wd"(%{{.*}}, %[[W]])
  %wide = arith.extsi %b : vector<16xi8> to vector<16xi32>
  %lo = vector.extract %wide[10] : i32 from vector<16xi32>
  %hi = vector.extract %wide[11] : i32 from vector<16xi32>
  %d = qt.dot_i8 %q, %x scale %lo high %hi {unsigned_lhs} : vector<32xi8> -> vector<8xi32>
  %e = qt.dot_i8 %q, %x scale %s high %h {unsigned_lhs} : vector<32xi8> -> vector<8xi32>
  return %d, %e : vector<8xi32>, vector<8xi32>
}

// -----

// qt.dot_i8_sum with lhs_max = 3: a pair sum is at most 2 * 3 * 127 = 762,
// so 43 of them fit in 16 bits; the three pairs' vpmaddubsw results add up
// as i16 before one vpmaddwd. The generic form sums unsigned qt.dot_i8s.
// GENERIC-LABEL: func.func @dot_sum_small
// AVX2-LABEL: func.func @dot_sum_small
// VNNI-LABEL: func.func @dot_sum_small
func.func @dot_sum_small(%q0: vector<32xi8>, %q1: vector<32xi8>, %q2: vector<32xi8>, %x0: vector<32xi8>, %x1: vector<32xi8>, %x2: vector<32xi8>) -> vector<8xi32> {
  // GENERIC-NOT: qt.dot_i8
  // GENERIC-COUNT-3: arith.extui %{{.*}} : vector<32xi8> to vector<32xi32>
  // AVX2: %[[ONES:.*]] = arith.constant dense<1> : vector<16xi16>
  // AVX2: %[[P0:.*]] = llvm.call_intrinsic "llvm.x86.avx2.pmadd.ub.sw"(%arg0, %arg3)
  // AVX2: %[[P1:.*]] = llvm.call_intrinsic "llvm.x86.avx2.pmadd.ub.sw"(%arg1, %arg4)
  // AVX2: %[[S1:.*]] = arith.addi %[[P0]], %[[P1]] : vector<16xi16>
  // AVX2: %[[P2:.*]] = llvm.call_intrinsic "llvm.x86.avx2.pmadd.ub.sw"(%arg2, %arg5)
  // AVX2: %[[S2:.*]] = arith.addi %[[S1]], %[[P2]] : vector<16xi16>
  // AVX2: %[[D:.*]] = llvm.call_intrinsic "llvm.x86.avx2.pmadd.wd"(%[[S2]], %[[ONES]])
  // AVX2-NOT: pmadd.wd
  // AVX2: return %[[D]]
  // With VNNI, one i32 accumulator chained through three vpdpbusd.
  // VNNI: %[[ZERO:.*]] = arith.constant dense<0> : vector<8xi32>
  // VNNI: %[[A0:.*]] = llvm.call_intrinsic "llvm.x86.avx512.vpdpbusd.256"(%[[ZERO]], %arg0, %arg3)
  // VNNI: %[[A1:.*]] = llvm.call_intrinsic "llvm.x86.avx512.vpdpbusd.256"(%[[A0]], %arg1, %arg4)
  // VNNI: %[[A2:.*]] = llvm.call_intrinsic "llvm.x86.avx512.vpdpbusd.256"(%[[A1]], %arg2, %arg5)
  // VNNI-NOT: pmadd
  // VNNI: return %[[A2]]
  %d = qt.dot_i8_sum %q0, %q1, %q2 x %x0, %x1, %x2 {lhs_max = 3} : (vector<32xi8>, vector<32xi8>, vector<32xi8>) x (vector<32xi8>, vector<32xi8>, vector<32xi8>) -> vector<8xi32>
  return %d : vector<8xi32>
}

// -----

// With lhs_max = 100 a pair sum reaches 25400: one pair per 16-bit run, each
// widened on its own and the i32 results added.
// AVX2-LABEL: func.func @dot_sum_large
// VNNI-LABEL: func.func @dot_sum_large
func.func @dot_sum_large(%q0: vector<32xi8>, %q1: vector<32xi8>, %x0: vector<32xi8>, %x1: vector<32xi8>) -> vector<8xi32> {
  // AVX2: %[[P0:.*]] = llvm.call_intrinsic "llvm.x86.avx2.pmadd.ub.sw"(%arg0, %arg2)
  // AVX2: %[[P1:.*]] = llvm.call_intrinsic "llvm.x86.avx2.pmadd.ub.sw"(%arg1, %arg3)
  // AVX2: %[[D0:.*]] = llvm.call_intrinsic "llvm.x86.avx2.pmadd.wd"(%[[P0]]
  // AVX2: %[[D1:.*]] = llvm.call_intrinsic "llvm.x86.avx2.pmadd.wd"(%[[P1]]
  // AVX2: %[[S:.*]] = arith.addi %[[D0]], %[[D1]] : vector<8xi32>
  // AVX2: return %[[S]]
  // VNNI sums in i32 from the start: no bound splits the chain.
  // VNNI: %[[A0:.*]] = llvm.call_intrinsic "llvm.x86.avx512.vpdpbusd.256"(%{{.*}}, %arg0, %arg2)
  // VNNI: %[[A1:.*]] = llvm.call_intrinsic "llvm.x86.avx512.vpdpbusd.256"(%[[A0]], %arg1, %arg3)
  // VNNI: return %[[A1]]
  %d = qt.dot_i8_sum %q0, %q1 x %x0, %x1 {lhs_max = 100} : (vector<32xi8>, vector<32xi8>) x (vector<32xi8>, vector<32xi8>) -> vector<8xi32>
  return %d : vector<8xi32>
}

// -----

// TQ2_0's four 2-bit planes of one byte vector, (v >> 2l) & 3: on AVX2 the
// planes at bits 2 and 6 are read in place as (v & 12) and ((v >> 4) & 12),
// four times their value, which saves two of the three shifts (LLVM merges
// the two shifts by 4). Their pair
// sums add up as i16 and one arithmetic shift right by 2 (exact: every
// product is a multiple of 4) brings them back before the single vpmaddwd.
// The generic form keeps the planes as they are.
// GENERIC-LABEL: func.func @dot_sum_planes
// AVX2-LABEL: func.func @dot_sum_planes
// VNNI-LABEL: func.func @dot_sum_planes
func.func @dot_sum_planes(%v: vector<32xi8>, %x0: vector<32xi8>, %x1: vector<32xi8>, %x2: vector<32xi8>, %x3: vector<32xi8>) -> vector<8xi32> {
  // GENERIC-COUNT-3: arith.shrui %arg0
  // GENERIC-NOT: arith.shrui
  // AVX2-DAG: %[[TWO:.*]] = arith.constant dense<2> : vector<16xi16>
  // AVX2-DAG: %[[TWELVE:.*]] = arith.constant dense<12> : vector<32xi8>
  // AVX2-DAG: %[[ONES:.*]] = arith.constant dense<1> : vector<16xi16>
  // AVX2-DAG: %[[FOUR:.*]] = arith.constant dense<4> : vector<32xi8>
  // AVX2-DAG: %[[THREE:.*]] = arith.constant dense<3> : vector<32xi8>
  // AVX2-NOT: dense<6> : vector<32xi8>
  // AVX2: %[[Q0:.*]] = arith.andi %arg0, %[[THREE]]
  // AVX2: %[[HIGH:.*]] = arith.shrui %arg0, %[[FOUR]]
  // AVX2: %[[Q2:.*]] = arith.andi %[[HIGH]], %[[THREE]]
  // AVX2: %[[P0:.*]] = llvm.call_intrinsic "llvm.x86.avx2.pmadd.ub.sw"(%[[Q0]], %arg1)
  // AVX2: %[[Q1X4:.*]] = arith.andi %arg0, %[[TWELVE]]
  // AVX2: %[[P1:.*]] = llvm.call_intrinsic "llvm.x86.avx2.pmadd.ub.sw"(%[[Q1X4]], %arg2)
  // AVX2: %[[P2:.*]] = llvm.call_intrinsic "llvm.x86.avx2.pmadd.ub.sw"(%[[Q2]], %arg3)
  // AVX2: %[[S0:.*]] = arith.addi %[[P0]], %[[P2]] : vector<16xi16>
  // AVX2: %[[HIGH3:.*]] = arith.shrui %arg0, %[[FOUR]]
  // AVX2: %[[Q3X4:.*]] = arith.andi %[[HIGH3]], %[[TWELVE]]
  // AVX2: %[[P3:.*]] = llvm.call_intrinsic "llvm.x86.avx2.pmadd.ub.sw"(%[[Q3X4]], %arg4)
  // AVX2: %[[S4:.*]] = arith.addi %[[P1]], %[[P3]] : vector<16xi16>
  // AVX2: %[[S1:.*]] = arith.shrsi %[[S4]], %[[TWO]] : vector<16xi16>
  // AVX2: %[[S:.*]] = arith.addi %[[S0]], %[[S1]] : vector<16xi16>
  // AVX2: %[[D:.*]] = llvm.call_intrinsic "llvm.x86.avx2.pmadd.wd"(%[[S]], %[[ONES]])
  // AVX2-NOT: pmadd.wd
  // AVX2: return %[[D]]
  // VNNI reads the planes the same way, into two i32 accumulators (scales 1
  // and 4); the second is shifted right by 2 (exact) and added.
  // VNNI-DAG: %[[TWO:.*]] = arith.constant dense<2> : vector<8xi32>
  // VNNI-DAG: %[[TWELVE:.*]] = arith.constant dense<12> : vector<32xi8>
  // VNNI-DAG: %[[ZERO:.*]] = arith.constant dense<0> : vector<8xi32>
  // VNNI: %[[Q0:.*]] = arith.andi %arg0, %{{.*}}
  // VNNI: %[[A0:.*]] = llvm.call_intrinsic "llvm.x86.avx512.vpdpbusd.256"(%[[ZERO]], %[[Q0]], %arg1)
  // VNNI: %[[Q1X4:.*]] = arith.andi %arg0, %[[TWELVE]]
  // VNNI: %[[B0:.*]] = llvm.call_intrinsic "llvm.x86.avx512.vpdpbusd.256"(%[[ZERO]], %[[Q1X4]], %arg2)
  // VNNI: %[[A1:.*]] = llvm.call_intrinsic "llvm.x86.avx512.vpdpbusd.256"(%[[A0]], %{{.*}}, %arg3)
  // VNNI: %[[Q3X4:.*]] = arith.andi %{{.*}}, %[[TWELVE]]
  // VNNI: %[[B1:.*]] = llvm.call_intrinsic "llvm.x86.avx512.vpdpbusd.256"(%[[B0]], %[[Q3X4]], %arg4)
  // VNNI: %[[B:.*]] = arith.shrsi %[[B1]], %[[TWO]] : vector<8xi32>
  // VNNI: %[[D:.*]] = arith.addi %[[A1]], %[[B]] : vector<8xi32>
  // VNNI-NOT: pmadd
  // VNNI: return %[[D]]
  %c2 = arith.constant dense<2> : vector<32xi8>
  %c4 = arith.constant dense<4> : vector<32xi8>
  %c6 = arith.constant dense<6> : vector<32xi8>
  %m = arith.constant dense<3> : vector<32xi8>
  %q0 = arith.andi %v, %m : vector<32xi8>
  %s1 = arith.shrui %v, %c2 : vector<32xi8>
  %q1 = arith.andi %s1, %m : vector<32xi8>
  %s2 = arith.shrui %v, %c4 : vector<32xi8>
  %q2 = arith.andi %s2, %m : vector<32xi8>
  %s3 = arith.shrui %v, %c6 : vector<32xi8>
  %q3 = arith.andi %s3, %m : vector<32xi8>
  %d = qt.dot_i8_sum %q0, %q1, %q2, %q3 x %x0, %x1, %x2, %x3 {lhs_max = 3} : (vector<32xi8>, vector<32xi8>, vector<32xi8>, vector<32xi8>) x (vector<32xi8>, vector<32xi8>, vector<32xi8>, vector<32xi8>) -> vector<8xi32>
  return %d : vector<8xi32>
}

// -----

// With VNNI an unscaled qt.dot_i8 added to a value accumulates onto it (one
// vpdpbusd, no add); of two such dots added, the first accumulates onto
// zeros and the other onto it. A dot with another use keeps its add.
// VNNI-LABEL: func.func @dot_plus
// AVX2-LABEL: func.func @dot_plus
func.func @dot_plus(%q: vector<32xi8>, %x: vector<32xi8>, %y: vector<8xi32>) -> (vector<8xi32>, vector<8xi32>, vector<8xi32>) {
  // VNNI: %[[ZERO:.*]] = arith.constant dense<0> : vector<8xi32>
  // VNNI: %[[S:.*]] = llvm.call_intrinsic "llvm.x86.avx512.vpdpbusd.256"(%arg2, %arg0, %arg1)
  // VNNI: %[[D1:.*]] = llvm.call_intrinsic "llvm.x86.avx512.vpdpbusd.256"(%[[ZERO]], %arg1, %arg0)
  // VNNI: %[[P:.*]] = llvm.call_intrinsic "llvm.x86.avx512.vpdpbusd.256"(%[[D1]], %arg0, %arg1)
  // VNNI: %[[K:.*]] = llvm.call_intrinsic "llvm.x86.avx512.vpdpbusd.256"(%[[ZERO]], %arg0, %arg0)
  // VNNI: %[[KS:.*]] = arith.addi %[[K]], %arg2 : vector<8xi32>
  // VNNI: return %[[S]], %[[P]], %[[KS]]
  // AVX2: arith.addi %arg2, %{{.*}} : vector<8xi32>
  %d = qt.dot_i8 %q, %x {unsigned_lhs} : vector<32xi8> -> vector<8xi32>
  %s = arith.addi %y, %d : vector<8xi32>
  %d0 = qt.dot_i8 %q, %x {unsigned_lhs} : vector<32xi8> -> vector<8xi32>
  %d1 = qt.dot_i8 %x, %q {unsigned_lhs} : vector<32xi8> -> vector<8xi32>
  %p = arith.addi %d0, %d1 : vector<8xi32>
  %k = qt.dot_i8 %q, %q {unsigned_lhs} : vector<32xi8> -> vector<8xi32>
  %ks = arith.addi %k, %y : vector<8xi32>
  %kk = arith.addi %k, %k : vector<8xi32>
  return %s, %p, %ks : vector<8xi32>, vector<8xi32>, vector<8xi32>
}
