// RUN: kvant-opt %s -canonicalize | FileCheck %s

!c = !kv.cache<layers = 2, heads = 4, head_dim = 64, page = 16, capacity = 2048, f16>

// Truncating twice to the same length is truncating once.
// CHECK-LABEL: func.func @rollback_twice
// CHECK-SAME: (%[[C:.*]]: !kv.cache<{{.*}}>, %[[N:.*]]: index)
// CHECK: %[[R:.*]] = kv.rollback %[[C]] to %[[N]]
// CHECK-NOT: kv.rollback
// CHECK: return %[[R]]
func.func @rollback_twice(%c: !c, %n: index) -> !c {
  %r0 = kv.rollback %c to %n : !c
  %r1 = kv.rollback %r0 to %n : !c
  return %r1 : !c
}

// Different lengths may not fold: the second may be longer or shorter.
// CHECK-LABEL: func.func @rollback_other_length
// CHECK: kv.rollback
// CHECK: kv.rollback
func.func @rollback_other_length(%c: !c, %n: index, %m: index) -> !c {
  %r0 = kv.rollback %c to %n : !c
  %r1 = kv.rollback %r0 to %m : !c
  return %r1 : !c
}

// An empty cache has nothing to discard.
// CHECK-LABEL: func.func @rollback_empty
// CHECK: %[[E:.*]] = kv.empty
// CHECK-NOT: kv.rollback
// CHECK: return %[[E]]
func.func @rollback_empty(%n: index) -> !c {
  %e = kv.empty : !c
  %r = kv.rollback %e to %n : !c
  return %r : !c
}

// A policy that may keep a full cache evicts nothing.
// CHECK-LABEL: func.func @evict_full_budget
// CHECK-SAME: (%[[C:.*]]: !kv.cache<{{.*}}>, %[[N:.*]]: index, %[[S:.*]]: tensor<?xf32>)
// CHECK-NOT: kv.evict
// CHECK: return %[[C]], %[[N]], %[[C]], %[[N]]
func.func @evict_full_budget(%c: !c, %n: index, %s: tensor<?xf32>) -> (!c, index, !c, index) {
  %c1, %n1 = kv.evict %c, %n policy(#kv.sink_window<sink = 4, window = 2044>) : !c
  %c2, %n2 = kv.evict %c, %n policy(#kv.score<keep = 2048>) scores(%s : tensor<?xf32>) : !c
  return %c1, %n1, %c2, %n2 : !c, index, !c, index
}

// CHECK-LABEL: func.func @evict_smaller_budget
// CHECK: kv.evict
func.func @evict_smaller_budget(%c: !c, %n: index) -> (!c, index) {
  %c1, %n1 = kv.evict %c, %n policy(#kv.sink_window<sink = 4, window = 2043>) : !c
  return %c1, %n1 : !c, index
}
