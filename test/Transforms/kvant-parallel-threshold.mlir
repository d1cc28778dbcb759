// RUN: kvant-opt %s --kvant-parallel-threshold --split-input-file | FileCheck %s
// RUN: kvant-opt %s --kvant-parallel-threshold="min-work=1000 dynamic-trips=4" --split-input-file | FileCheck %s --check-prefix=SMALL

// The trip count of the parallel loop (dynamic here) times the body's work
// (an scf.for of 10 trips over a store and its yield, and the scf.reduce:
// 1 + 10 * 2 + 1 = 22) decides which version runs.
// CHECK-LABEL: func.func @dynamic_trips
// CHECK-SAME: (%[[BUF:.*]]: memref<?x10xf32>, %[[N:.*]]: index)
// CHECK: %[[SPAN:.*]] = arith.subi %[[N]], %[[C0:.*]] : index
// CHECK: %[[TRIPS:.*]] = arith.ceildivsi %[[SPAN]], %{{.*}} : index
// CHECK: %[[ALL:.*]] = arith.muli %{{.*}}, %[[TRIPS]] : index
// CHECK: %[[W:.*]] = arith.constant 22 : index
// CHECK: %[[WORK:.*]] = arith.muli %[[ALL]], %[[W]] : index
// CHECK: %[[MIN:.*]] = arith.constant 32768 : index
// CHECK: %[[WORTH:.*]] = arith.cmpi sge, %[[WORK]], %[[MIN]] : index
// CHECK: scf.if %[[WORTH]] {
// CHECK-NEXT: scf.parallel (%[[I:.*]]) = (%[[C0]]) to (%[[N]])
// CHECK: memref.store %{{.*}}, %[[BUF]][%[[I]], %{{.*}}]
// CHECK: } else {
// CHECK-NOT: scf.parallel
// CHECK: scf.for %[[J:.*]] = %[[C0]] to %[[N]]
// CHECK: scf.for
// CHECK: memref.store %{{.*}}, %[[BUF]][%[[J]], %{{.*}}]
// CHECK-NOT: scf.parallel
// CHECK: return
// SMALL-LABEL: func.func @dynamic_trips
// SMALL: arith.constant 22 : index
// SMALL: arith.constant 1000 : index
func.func @dynamic_trips(%buf: memref<?x10xf32>, %n: index) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c10 = arith.constant 10 : index
  %one = arith.constant 1.0 : f32
  scf.parallel (%i) = (%c0) to (%n) step (%c1) {
    scf.for %j = %c0 to %c10 step %c1 {
      memref.store %one, %buf[%i, %j] : memref<?x10xf32>
    }
  }
  return
}

// -----

// A nested loop with dynamic bounds counts as dynamic-trips iterations
// (256 by default: 64 * (1 + 256 * 2 + 1) = 32896, parallel; with 4:
// 64 * (1 + 4 * 2 + 1) = 640, serial). With constant trip counts the choice
// is made at compile time.
// CHECK-LABEL: func.func @dynamic_inner
// CHECK-NOT: scf.if
// CHECK: scf.parallel
// CHECK-NEXT: scf.for
// SMALL-LABEL: func.func @dynamic_inner
// SMALL-NOT: scf.if
// SMALL-NOT: scf.parallel
// SMALL: scf.for
// SMALL-NEXT: scf.for
// SMALL-NOT: scf.parallel
func.func @dynamic_inner(%buf: memref<64x?xf32>, %m: index) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c64 = arith.constant 64 : index
  %one = arith.constant 1.0 : f32
  scf.parallel (%i) = (%c0) to (%c64) step (%c1) {
    scf.for %j = %c0 to %m step %c1 {
      memref.store %one, %buf[%i, %j] : memref<64x?xf32>
    }
  }
  return
}

// -----

// Constant trips with enough work (4096 * 10 >= 32768) stay parallel, with
// no condition; with min-work=100 too.
// CHECK-LABEL: func.func @static_large
// CHECK-NOT: scf.if
// CHECK: scf.parallel
// SMALL-LABEL: func.func @static_large
// SMALL-NOT: scf.if
// SMALL: scf.parallel
func.func @static_large(%buf: memref<4096x4xf32>) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c4 = arith.constant 4 : index
  %c4096 = arith.constant 4096 : index
  %one = arith.constant 1.0 : f32
  scf.parallel (%i) = (%c0) to (%c4096) step (%c1) {
    scf.for %j = %c0 to %c4 step %c1 {
      memref.store %one, %buf[%i, %j] : memref<4096x4xf32>
    }
  }
  return
}

// -----

// Parallel loops nested in a serialized one become serial too; two parallel
// dimensions become two nested loops.
// CHECK-LABEL: func.func @nested
// CHECK-NOT: scf.parallel
// CHECK: scf.for %[[I:.*]] =
// CHECK-NEXT: scf.for %[[J:.*]] =
// CHECK-NEXT: scf.for %[[K:.*]] =
// CHECK-NEXT: memref.store %{{.*}}, %{{.*}}[%[[I]], %[[J]], %[[K]]]
// CHECK-NOT: scf.parallel
func.func @nested(%buf: memref<2x2x2xf32>) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c2 = arith.constant 2 : index
  %one = arith.constant 1.0 : f32
  scf.parallel (%i, %j) = (%c0, %c0) to (%c2, %c2) step (%c1, %c1) {
    scf.parallel (%k) = (%c0) to (%c2) step (%c1) {
      memref.store %one, %buf[%i, %j, %k] : memref<2x2x2xf32>
    }
  }
  return
}

// -----

// Reductions are left alone.
// CHECK-LABEL: func.func @reduction
// CHECK-NOT: scf.if
// CHECK: scf.parallel
// CHECK: scf.reduce
func.func @reduction(%buf: memref<?xf32>, %n: index) -> f32 {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %zero = arith.constant 0.0 : f32
  %sum = scf.parallel (%i) = (%c0) to (%n) step (%c1) init (%zero) -> f32 {
    %v = memref.load %buf[%i] : memref<?xf32>
    scf.reduce(%v : f32) {
    ^bb0(%a: f32, %b: f32):
      %s = arith.addf %a, %b : f32
      scf.reduce.return %s : f32
    }
  }
  return %sum : f32
}
