// RUN: kvant-opt %s --pass-pipeline="builtin.module(func.func(kvant-dealloc-after-last-use))" --split-input-file | FileCheck %s

// A buffer is freed after the last op that reads or writes it, here through
// a view inside a parallel loop; the ops after it no longer hold it.
// CHECK-LABEL: func.func @freed_after_last_use
// CHECK: %[[A:.*]] = memref.alloc
// CHECK: linalg.fill {{.*}} outs(%[[A]]
// CHECK: scf.parallel
// CHECK: memref.load %[[SUB:.*]][
// CHECK: scf.reduce
// CHECK-NEXT: }
// CHECK-NEXT: memref.dealloc %[[A]]
// CHECK: %[[B:.*]] = memref.alloc
// CHECK: linalg.fill {{.*}} outs(%[[B]]
// CHECK-NEXT: linalg.copy ins(%[[B]] {{.*}} outs(%{{.*}}
// CHECK-NEXT: memref.dealloc %[[B]]
// CHECK-NEXT: return
func.func @freed_after_last_use(%n: index, %out: memref<?xf32>) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %zero = arith.constant 0.0 : f32
  %a = memref.alloc(%n) : memref<?xf32>
  linalg.fill ins(%zero : f32) outs(%a : memref<?xf32>)
  %sub = memref.subview %a[0] [%n] [1] : memref<?xf32> to memref<?xf32, strided<[1]>>
  scf.parallel (%i) = (%c0) to (%n) step (%c1) {
    %v = memref.load %sub[%i] : memref<?xf32, strided<[1]>>
    memref.store %v, %out[%i] : memref<?xf32>
    scf.reduce
  }
  %b = memref.alloc(%n) : memref<?xf32>
  linalg.fill ins(%zero : f32) outs(%b : memref<?xf32>)
  linalg.copy ins(%b : memref<?xf32>) outs(%out : memref<?xf32>)
  memref.dealloc %a : memref<?xf32>
  memref.dealloc %b : memref<?xf32>
  return
}

// -----

// Buffers that may be reached some other way keep their dealloc: passed to
// a call, its pointer taken as an integer, yielded out of a region.
// CHECK-LABEL: func.func @kept
// CHECK: call @use
// CHECK: memref.extract_aligned_pointer_as_index
// CHECK: scf.if
// CHECK: arith.addi
// CHECK-NEXT: memref.dealloc
// CHECK-NEXT: memref.dealloc
// CHECK-NEXT: memref.dealloc
// CHECK-NEXT: return
func.func private @use(memref<4xf32>)
func.func @kept(%c: i1, %i: index) -> index {
  %a = memref.alloc() : memref<4xf32>
  call @use(%a) : (memref<4xf32>) -> ()
  %b = memref.alloc() : memref<4xf32>
  %p = memref.extract_aligned_pointer_as_index %b : memref<4xf32> -> index
  %d = memref.alloc() : memref<4xf32>
  %e = scf.if %c -> memref<4xf32> {
    scf.yield %d : memref<4xf32>
  } else {
    scf.yield %d : memref<4xf32>
  }
  %s = arith.addi %p, %i : index
  memref.dealloc %a : memref<4xf32>
  memref.dealloc %b : memref<4xf32>
  memref.dealloc %d : memref<4xf32>
  return %s : index
}

// -----

// A call to a private function of the module with a body that returns no
// memref (qt-outline-matmuls' destination-passing matmuls) is a use like any
// other.
// CHECK-LABEL: func.func @outlined_call
// CHECK: %[[A:.*]] = memref.alloc
// CHECK-NEXT: call @fill(%[[A]])
// CHECK-NEXT: memref.dealloc %[[A]]
// CHECK-NEXT: call @other
func.func private @fill(%m: memref<4xf32>) {
  %zero = arith.constant 0.0 : f32
  linalg.fill ins(%zero : f32) outs(%m : memref<4xf32>)
  return
}
func.func private @other()
func.func @outlined_call() {
  %a = memref.alloc() : memref<4xf32>
  call @fill(%a) : (memref<4xf32>) -> ()
  call @other() : () -> ()
  memref.dealloc %a : memref<4xf32>
  return
}
