// RUN: kvant-opt %s --kvant-approximate-exp --split-input-file | FileCheck %s

// f32 exponentials with `afn` (here alone and within `fast`) become the
// polynomial: no math.exp is left, and the exponent is built in integer
// bits. Without the flag, or on f64, math.exp stays (a libm call later).
// CHECK-LABEL: func.func @exps
func.func @exps(%x: vector<8xf32>, %y: f32, %z: vector<8xf64>) -> (vector<8xf32>, f32, f32, vector<8xf64>) {
  // CHECK-NOT: math.exp %arg0
  // CHECK: math.fma %{{.*}} : vector<8xf32>
  // CHECK: arith.bitcast %{{.*}} : vector<8xi32> to vector<8xf32>
  // CHECK: arith.bitcast %{{.*}} : i32 to f32
  // CHECK: %[[PRECISE:.*]] = math.exp %arg1 : f32
  // CHECK: %[[WIDE:.*]] = math.exp %arg2 fastmath<afn> : vector<8xf64>
  // CHECK: return %{{.*}}, %{{.*}}, %[[PRECISE]], %[[WIDE]]
  %a = math.exp %x fastmath<afn> : vector<8xf32>
  %b = math.exp %y fastmath<fast> : f32
  %c = math.exp %y : f32
  %d = math.exp %z fastmath<afn> : vector<8xf64>
  return %a, %b, %c, %d : vector<8xf32>, f32, f32, vector<8xf64>
}

// -----

// Nothing to approximate: the function is unchanged.
// CHECK-LABEL: func.func @none
func.func @none(%x: f32) -> f32 {
  // CHECK-NEXT: %[[E:.*]] = math.exp %arg0 : f32
  // CHECK-NEXT: return %[[E]]
  %e = math.exp %x : f32
  return %e : f32
}
