// RUN: kvant-opt %s | kvant-opt | FileCheck %s
// RUN: kvant-opt %s --mlir-print-op-generic | kvant-opt | FileCheck %s

func.func private @draft_step(tensor<?xi32>) -> tensor<128xf32>

// CHECK-LABEL: func.func @tree_types
// CHECK-SAME: !spec.tree<1, depth = 0>
// CHECK-SAME: !spec.tree<64, depth = 4>
func.func @tree_types(%a: !spec.tree<1, depth = 0>, %b: !spec.tree<64, depth = 4>) {
  return
}

// CHECK-LABEL: func.func @drafts
// CHECK-SAME: (%[[H:.*]]: tensor<?xi32>, %[[S:.*]]: i64)
func.func @drafts(%history: tensor<?xi32>, %seed: i64) {
  // CHECK: spec.draft ngram %[[H]] n = 3 : tensor<?xi32> -> tensor<4xi32>
  %0 = spec.draft ngram %history n = 3 : tensor<?xi32> -> tensor<4xi32>
  // CHECK: spec.draft suffix %[[H]] : tensor<?xi32> -> tensor<8xi32>
  %1 = spec.draft suffix %history : tensor<?xi32> -> tensor<8xi32>
  // CHECK: spec.draft model %[[H]] using @draft_step : tensor<?xi32> -> tensor<4xi32>
  %2 = spec.draft model %history using @draft_step : tensor<?xi32> -> tensor<4xi32>
  // CHECK: spec.draft model %[[H]] using @draft_step : tensor<?xi32> -> tensor<2xi32>, tensor<2x128xf32>
  %3, %4 = spec.draft model %history using @draft_step : tensor<?xi32> -> tensor<2xi32>, tensor<2x128xf32>
  // CHECK: spec.draft model %[[H]] using @draft_step seed(%[[S]]) {temperature = 5.000000e-01 : f32} : tensor<?xi32> -> tensor<4xi32>, tensor<4x128xf32>
  %5, %6 = spec.draft model %history using @draft_step seed(%seed) {temperature = 0.5 : f32} : tensor<?xi32> -> tensor<4xi32>, tensor<4x128xf32>
  return
}

// CHECK-LABEL: func.func @trees
// CHECK-SAME: (%[[T1:.*]]: tensor<1xi32>, %[[T5:.*]]: tensor<5xi32>)
func.func @trees(%t1: tensor<1xi32>, %t5: tensor<5xi32>) -> (tensor<5x5xi1>, tensor<5xi32>) {
  // CHECK: spec.tree %[[T1]] parents [-1] : tensor<1xi32> -> !spec.tree<1, depth = 0>
  %root = spec.tree %t1 parents [-1] : tensor<1xi32> -> !spec.tree<1, depth = 0>
  // CHECK: spec.tree %[[T5]] parents [-1, 0, 1, 2, 3] : tensor<5xi32> -> !spec.tree<5, depth = 4>
  %chain = spec.tree %t5 parents [-1, 0, 1, 2, 3] : tensor<5xi32> -> !spec.tree<5, depth = 4>
  // CHECK: %[[TREE:.*]] = spec.tree %[[T5]] parents [-1, 0, 0, 1, 2] : tensor<5xi32> -> !spec.tree<5, depth = 2>
  %tree = spec.tree %t5 parents [-1, 0, 0, 1, 2] : tensor<5xi32> -> !spec.tree<5, depth = 2>
  // CHECK: spec.tree_mask %[[TREE]] : !spec.tree<5, depth = 2> -> tensor<5x5xi1>
  %mask = spec.tree_mask %tree : !spec.tree<5, depth = 2> -> tensor<5x5xi1>
  // CHECK: spec.tree_depths %[[TREE]] : !spec.tree<5, depth = 2> -> tensor<5xi32>
  %depths = spec.tree_depths %tree : !spec.tree<5, depth = 2> -> tensor<5xi32>
  return %mask, %depths : tensor<5x5xi1>, tensor<5xi32>
}

// CHECK-LABEL: func.func @verify_and_accept
// CHECK-SAME: (%[[TREE:.*]]: !spec.tree<5, depth = 2>, %[[L:.*]]: tensor<5x128xf32>, %[[Q:.*]]: tensor<4x128xf32>, %[[S:.*]]: i64, %[[C:.*]]: !kv.cache<layers = 1, heads = 2, head_dim = 16, page = 16, capacity = 64, f16>, %[[D:.*]]: !kv.cache<layers = 1, heads = 2, head_dim = 16, page = 16, capacity = 64, f16>)
func.func @verify_and_accept(%tree: !spec.tree<5, depth = 2>, %logits: tensor<5x128xf32>,
                             %q: tensor<4x128xf32>, %seed: i64,
                             %cache0: !kv.cache<layers = 1, heads = 2, head_dim = 16, page = 16, capacity = 64, f16>, %cache1: !kv.cache<layers = 1, heads = 2, head_dim = 16, page = 16, capacity = 64, f16>) {
  // CHECK: %[[N:.*]], %[[P:.*]], %[[B:.*]] = spec.verify greedy %[[TREE]], %[[L]] : !spec.tree<5, depth = 2>, tensor<5x128xf32> -> tensor<3xi32>
  %n, %p, %b = spec.verify greedy %tree, %logits : !spec.tree<5, depth = 2>, tensor<5x128xf32> -> tensor<3xi32>
  // CHECK: spec.verify rejection %[[TREE]], %[[L]] draft_probs(%[[Q]] : tensor<4x128xf32>) seed(%[[S]]) {temperature = 5.000000e-01 : f32} : !spec.tree<5, depth = 2>, tensor<5x128xf32> -> tensor<3xi32>
  %n1, %p1, %b1 = spec.verify rejection %tree, %logits draft_probs(%q : tensor<4x128xf32>) seed(%seed) {temperature = 0.5 : f32} : !spec.tree<5, depth = 2>, tensor<5x128xf32> -> tensor<3xi32>
  // CHECK: spec.verify rejection %[[TREE]], %[[L]] seed(%[[S]]) : !spec.tree<5, depth = 2>, tensor<5x128xf32> -> tensor<3xi32>
  %n2, %p2, %b2 = spec.verify rejection %tree, %logits seed(%seed) : !spec.tree<5, depth = 2>, tensor<5x128xf32> -> tensor<3xi32>
  // CHECK: spec.accept %[[TREE]], %[[N]], %[[P]], %[[B]] : !spec.tree<5, depth = 2>, tensor<3xi32>
  %tokens = spec.accept %tree, %n, %p, %b : !spec.tree<5, depth = 2>, tensor<3xi32>
  // CHECK: spec.accept %[[TREE]], %[[N]], %[[P]], %[[B]] caches(%[[C]], %[[D]] : !kv.cache<layers = 1, heads = 2, head_dim = 16, page = 16, capacity = 64, f16>, !kv.cache<layers = 1, heads = 2, head_dim = 16, page = 16, capacity = 64, f16>) : !spec.tree<5, depth = 2>, tensor<3xi32>
  %tokens1, %c0, %c1 = spec.accept %tree, %n, %p, %b caches(%cache0, %cache1 : !kv.cache<layers = 1, heads = 2, head_dim = 16, page = 16, capacity = 64, f16>, !kv.cache<layers = 1, heads = 2, head_dim = 16, page = 16, capacity = 64, f16>) : !spec.tree<5, depth = 2>, tensor<3xi32>
  return
}

// One decoding step with a chain of four model drafts, verified by
// speculative sampling against the target; the caches stand in for !kv.cache.
func.func private @target(tensor<5xi32>, tensor<5x5xi1>, tensor<5xi32>, !kv.cache<layers = 1, heads = 2, head_dim = 16, page = 16, capacity = 64, f16>)
    -> (tensor<5x128xf32>, !kv.cache<layers = 1, heads = 2, head_dim = 16, page = 16, capacity = 64, f16>)

// CHECK-LABEL: func.func @decode_step
func.func @decode_step(%history: tensor<?xi32>, %last: tensor<1xi32>, %seed: i64,
                       %cache: !kv.cache<layers = 1, heads = 2, head_dim = 16, page = 16, capacity = 64, f16>) -> (tensor<?xi32>, !kv.cache<layers = 1, heads = 2, head_dim = 16, page = 16, capacity = 64, f16>) {
  // CHECK: %[[D:.*]], %[[Q:.*]] = spec.draft model
  %draft, %q = spec.draft model %history using @draft_step seed(%seed) : tensor<?xi32> -> tensor<4xi32>, tensor<4x128xf32>
  // CHECK: %[[T:.*]] = tensor.concat
  %tokens = tensor.concat dim(0) %last, %draft : (tensor<1xi32>, tensor<4xi32>) -> tensor<5xi32>
  // CHECK: %[[TREE:.*]] = spec.tree %[[T]] parents [-1, 0, 1, 2, 3]
  %tree = spec.tree %tokens parents [-1, 0, 1, 2, 3] : tensor<5xi32> -> !spec.tree<5, depth = 4>
  // CHECK: %[[MASK:.*]] = spec.tree_mask %[[TREE]]
  %mask = spec.tree_mask %tree : !spec.tree<5, depth = 4> -> tensor<5x5xi1>
  // CHECK: %[[POS:.*]] = spec.tree_depths %[[TREE]]
  %depths = spec.tree_depths %tree : !spec.tree<5, depth = 4> -> tensor<5xi32>
  // CHECK: %[[L:.*]]:2 = call @target(%[[T]], %[[MASK]], %[[POS]]
  %logits, %cache1 = func.call @target(%tokens, %mask, %depths, %cache) : (tensor<5xi32>, tensor<5x5xi1>, tensor<5xi32>, !kv.cache<layers = 1, heads = 2, head_dim = 16, page = 16, capacity = 64, f16>) -> (tensor<5x128xf32>, !kv.cache<layers = 1, heads = 2, head_dim = 16, page = 16, capacity = 64, f16>)
  // CHECK: %[[N:.*]], %[[P:.*]], %[[B:.*]] = spec.verify rejection %[[TREE]], %[[L]]#0 draft_probs(%[[Q]] : tensor<4x128xf32>)
  %n, %path, %bonus = spec.verify rejection %tree, %logits draft_probs(%q : tensor<4x128xf32>) seed(%seed) : !spec.tree<5, depth = 4>, tensor<5x128xf32> -> tensor<5xi32>
  // CHECK: %[[A:.*]], %[[C:.*]] = spec.accept %[[TREE]], %[[N]], %[[P]], %[[B]] caches(%[[L]]#1 : !kv.cache<layers = 1, heads = 2, head_dim = 16, page = 16, capacity = 64, f16>)
  %accepted, %cache2 = spec.accept %tree, %n, %path, %bonus caches(%cache1 : !kv.cache<layers = 1, heads = 2, head_dim = 16, page = 16, capacity = 64, f16>) : !spec.tree<5, depth = 4>, tensor<5xi32>
  // CHECK: %[[H:.*]] = tensor.concat dim(0) %{{.*}}, %[[A]]
  %next = tensor.concat dim(0) %history, %accepted : (tensor<?xi32>, tensor<?xi32>) -> tensor<?xi32>
  // CHECK: return %[[H]], %[[C]]
  return %next, %cache2 : tensor<?xi32>, !kv.cache<layers = 1, heads = 2, head_dim = 16, page = 16, capacity = 64, f16>
}
