// RUN: kvant-opt %s -canonicalize | FileCheck %s

// The mask and depths of a tree whose parents are in sight are constants, and
// the tree itself is then dead.
// CHECK-LABEL: func.func @fold_tree_layout
// CHECK-DAG: %[[MASK:.*]] = arith.constant dense<{{\[}}[true, false, false, false, false], [true, true, false, false, false], [true, false, true, false, false], [true, true, false, true, false], [true, false, true, false, true]]> : tensor<5x5xi1>
// CHECK-DAG: %[[DEPTHS:.*]] = arith.constant dense<[0, 1, 1, 2, 2]> : tensor<5xi32>
// CHECK-NOT: spec.
// CHECK: return %[[MASK]], %[[DEPTHS]]
func.func @fold_tree_layout(%tokens: tensor<5xi32>) -> (tensor<5x5xi1>, tensor<5xi32>) {
  %tree = spec.tree %tokens parents [-1, 0, 0, 1, 2] : tensor<5xi32> -> !spec.tree<5, depth = 2>
  %mask = spec.tree_mask %tree : !spec.tree<5, depth = 2> -> tensor<5x5xi1>
  %depths = spec.tree_depths %tree : !spec.tree<5, depth = 2> -> tensor<5xi32>
  return %mask, %depths : tensor<5x5xi1>, tensor<5xi32>
}

// A tree that comes from elsewhere keeps its ops.
// CHECK-LABEL: func.func @opaque_tree
// CHECK-SAME: (%[[TREE:.*]]: !spec.tree<3, depth = 2>)
// CHECK: spec.tree_mask %[[TREE]]
// CHECK: spec.tree_depths %[[TREE]]
func.func @opaque_tree(%tree: !spec.tree<3, depth = 2>) -> (tensor<3x3xi1>, tensor<3xi32>) {
  %mask = spec.tree_mask %tree : !spec.tree<3, depth = 2> -> tensor<3x3xi1>
  %depths = spec.tree_depths %tree : !spec.tree<3, depth = 2> -> tensor<3xi32>
  return %mask, %depths : tensor<3x3xi1>, tensor<3xi32>
}

// Lookup drafts are pure and die when unused; model drafts call a function
// and stay.
// CHECK-LABEL: func.func @dead_drafts
// CHECK-NOT: spec.draft ngram
// CHECK: spec.draft model
// CHECK-NOT: spec.draft
func.func private @draft_step(tensor<?xi32>) -> tensor<128xf32>
func.func @dead_drafts(%history: tensor<?xi32>) {
  %0 = spec.draft ngram %history n = 2 : tensor<?xi32> -> tensor<4xi32>
  %1 = spec.draft model %history using @draft_step : tensor<?xi32> -> tensor<4xi32>
  return
}
