// RUN: kvant-opt %s --kvant-omp-parallel-threshold --split-input-file | FileCheck %s
// RUN: kvant-opt %s --kvant-omp-parallel-threshold="min-work=100 dynamic-trips=4" --split-input-file | FileCheck %s --check-prefix=SMALL

// The trip count of the work-sharing loop (dynamic here) times the body's
// work (an scf.for of 10 trips over a store and its yield, and the
// omp.yield: 1 + 10 * 2 + 1 = 22) decides whether the team forks.
// CHECK-LABEL: func.func @dynamic_trips
// CHECK-SAME: (%[[BUF:.*]]: memref<?x10xf32>, %[[N:.*]]: index)
// CHECK: %[[SPAN:.*]] = arith.subi %[[N]], %[[C0:.*]] : index
// CHECK: %[[TRIPS:.*]] = arith.ceildivsi %[[SPAN]], %{{.*}} : index
// CHECK: %[[ALL:.*]] = arith.muli %{{.*}}, %[[TRIPS]] : index
// CHECK: %[[W:.*]] = arith.constant 22 : index
// CHECK: %[[WORK:.*]] = arith.muli %[[ALL]], %[[W]] : index
// CHECK: %[[MIN:.*]] = arith.constant 32768 : index
// CHECK: %[[WORTH:.*]] = arith.cmpi sge, %[[WORK]], %[[MIN]] : index
// CHECK: omp.parallel if(%[[WORTH]])
// SMALL-LABEL: func.func @dynamic_trips
// SMALL: arith.constant 22 : index
// SMALL: arith.constant 100 : index
func.func @dynamic_trips(%buf: memref<?x10xf32>, %n: index) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c10 = arith.constant 10 : index
  %one = arith.constant 1.0 : f32
  omp.parallel {
    omp.wsloop {
      omp.loop_nest (%i) : index = (%c0) to (%n) step (%c1) {
        scf.for %j = %c0 to %c10 step %c1 {
          memref.store %one, %buf[%i, %j] : memref<?x10xf32>
        }
        omp.yield
      }
    }
    omp.terminator
  }
  return
}

// -----

// A nested loop with dynamic bounds counts as dynamic-trips iterations
// (256 by default: 1 + 256 * 2 + 1 = 514, or 1 + 4 * 2 + 1 = 10).
// CHECK-LABEL: func.func @dynamic_inner
// CHECK: arith.constant 514 : index
// CHECK: omp.parallel if(
// SMALL-LABEL: func.func @dynamic_inner
// SMALL: arith.constant 10 : index
func.func @dynamic_inner(%buf: memref<8x?xf32>, %m: index) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c8 = arith.constant 8 : index
  %one = arith.constant 1.0 : f32
  omp.parallel {
    omp.wsloop {
      omp.loop_nest (%i) : index = (%c0) to (%c8) step (%c1) {
        scf.for %j = %c0 to %m step %c1 {
          memref.store %one, %buf[%i, %j] : memref<8x?xf32>
        }
        omp.yield
      }
    }
    omp.terminator
  }
  return
}

// -----

// A region that already has a condition is left as it is.
// CHECK-LABEL: func.func @has_if
// CHECK-NOT: arith.cmpi
// CHECK: omp.parallel if(%{{.*}})
func.func @has_if(%buf: memref<?xf32>, %n: index, %cond: i1) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %one = arith.constant 1.0 : f32
  omp.parallel if(%cond) {
    omp.wsloop {
      omp.loop_nest (%i) : index = (%c0) to (%n) step (%c1) {
        memref.store %one, %buf[%i] : memref<?xf32>
        omp.yield
      }
    }
    omp.terminator
  }
  return
}
