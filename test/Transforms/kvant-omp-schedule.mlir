// RUN: kvant-opt %s --kvant-omp-schedule | FileCheck %s --check-prefix=DYNAMIC
// RUN: kvant-opt %s --kvant-omp-schedule=kind=static | FileCheck %s --check-prefix=STATIC
// RUN: not kvant-opt %s --kvant-omp-schedule=kind=guided 2>&1 | FileCheck %s --check-prefix=BAD

// Loops without a schedule get the chosen one; a loop that has one keeps it.
// DYNAMIC-LABEL: func.func @loops
// DYNAMIC: omp.wsloop schedule(dynamic) {
// DYNAMIC: omp.wsloop schedule(static) {
// STATIC-LABEL: func.func @loops
// STATIC: omp.wsloop {
// STATIC: omp.wsloop schedule(static) {
// BAD: error: kvant-omp-schedule: unknown kind 'guided' (expected static or dynamic)
func.func @loops(%buf: memref<?xf32>, %n: index) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %one = arith.constant 1.0 : f32
  omp.parallel {
    omp.wsloop {
      omp.loop_nest (%i) : index = (%c0) to (%n) step (%c1) {
        memref.store %one, %buf[%i] : memref<?xf32>
        omp.yield
      }
    }
    omp.wsloop schedule(static) {
      omp.loop_nest (%i) : index = (%c0) to (%n) step (%c1) {
        memref.store %one, %buf[%i] : memref<?xf32>
        omp.yield
      }
    }
    omp.terminator
  }
  return
}
