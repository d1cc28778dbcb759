// RUN: kvant-opt %s -split-input-file -verify-diagnostics

// expected-error @+1 {{a tree has at least its root node, got 0 nodes}}
func.func private @no_nodes(!spec.tree<0, depth = 0>)

// -----

// expected-error @+1 {{depth 3 is impossible for 3 nodes; expected 0 to 2}}
func.func private @too_deep(!spec.tree<3, depth = 3>)

// -----

func.func @unknown_method(%h: tensor<?xi32>) {
  // expected-error @+1 {{unknown draft_method 'bigram'}}
  %0 = spec.draft bigram %h : tensor<?xi32> -> tensor<4xi32>
  return
}

// -----

func.func @dynamic_draft(%h: tensor<?xi32>) {
  // expected-error @+1 {{the number of draft tokens must be static}}
  %0 = spec.draft suffix %h : tensor<?xi32> -> tensor<?xi32>
  return
}

// -----

func.func @empty_draft(%h: tensor<?xi32>) {
  // expected-error @+1 {{must propose at least one token}}
  %0 = spec.draft suffix %h : tensor<?xi32> -> tensor<0xi32>
  return
}

// -----

func.func @model_without_callee(%h: tensor<?xi32>) {
  // expected-error @+1 {{model drafts need a draft function (`using @f`)}}
  %0 = spec.draft model %h : tensor<?xi32> -> tensor<4xi32>
  return
}

// -----

func.func private @draft_step(tensor<?xi32>) -> tensor<128xf32>

func.func @lookup_with_callee(%h: tensor<?xi32>) {
  // expected-error @+1 {{lookup drafts take no draft function}}
  %0 = spec.draft suffix %h using @draft_step : tensor<?xi32> -> tensor<4xi32>
  return
}

// -----

func.func @ngram_without_n(%h: tensor<?xi32>) {
  // expected-error @+1 {{ngram drafts need a match length `n`}}
  %0 = spec.draft ngram %h : tensor<?xi32> -> tensor<4xi32>
  return
}

// -----

func.func @ngram_zero_n(%h: tensor<?xi32>) {
  // expected-error @+1 {{match length n must be positive, got 0}}
  %0 = spec.draft ngram %h n = 0 : tensor<?xi32> -> tensor<4xi32>
  return
}

// -----

func.func @suffix_with_n(%h: tensor<?xi32>) {
  // expected-error @+1 {{a match length `n` only applies to ngram drafts}}
  %0 = spec.draft suffix %h n = 2 : tensor<?xi32> -> tensor<4xi32>
  return
}

// -----

func.func @lookup_with_seed(%h: tensor<?xi32>, %seed: i64) {
  // expected-error @+1 {{lookup drafts are deterministic and take no seed}}
  %0 = spec.draft ngram %h n = 2 seed(%seed) : tensor<?xi32> -> tensor<4xi32>
  return
}

// -----

func.func @lookup_with_probs(%h: tensor<?xi32>) {
  // expected-error @+1 {{only model drafts produce probabilities}}
  %0, %1 = spec.draft ngram %h n = 2 : tensor<?xi32> -> tensor<4xi32>, tensor<4x128xf32>
  return
}

// -----

func.func private @draft_step(tensor<?xi32>) -> tensor<128xf32>

func.func @temperature_without_seed(%h: tensor<?xi32>) {
  // expected-error @+1 {{a temperature needs a sampled draft (`seed`)}}
  %0 = spec.draft model %h using @draft_step {temperature = 0.5 : f32} : tensor<?xi32> -> tensor<4xi32>
  return
}

// -----

func.func private @draft_step(tensor<?xi32>) -> tensor<128xf32>

func.func @draft_zero_temperature(%h: tensor<?xi32>, %seed: i64) {
  // expected-error @+1 {{temperature must be positive, got 0}}
  %0 = spec.draft model %h using @draft_step seed(%seed) {temperature = 0.0 : f32} : tensor<?xi32> -> tensor<4xi32>
  return
}

// -----

func.func private @draft_step(tensor<?xi32>) -> tensor<128xf32>

func.func @probs_rows(%h: tensor<?xi32>) {
  // expected-error @+1 {{probs have 3 rows but 4 tokens are drafted}}
  %0, %1 = spec.draft model %h using @draft_step : tensor<?xi32> -> tensor<4xi32>, tensor<3x128xf32>
  return
}

// -----

func.func @missing_callee(%h: tensor<?xi32>) {
  // expected-error @+1 {{@missing does not reference a func.func}}
  %0 = spec.draft model %h using @missing : tensor<?xi32> -> tensor<4xi32>
  return
}

// -----

func.func private @draft_step(tensor<?xi32>) -> tensor<128xi32>

func.func @callee_signature(%h: tensor<?xi32>) {
  // expected-error @+1 {{draft function must map the history ('tensor<?xi32>') to next-token logits (tensor<Vxf*>), got '(tensor<?xi32>) -> tensor<128xi32>'}}
  %0 = spec.draft model %h using @draft_step : tensor<?xi32> -> tensor<4xi32>
  return
}

// -----

func.func private @draft_step(tensor<?xi32>) -> tensor<128xf32>

func.func @probs_vocab(%h: tensor<?xi32>) {
  // expected-error @+1 {{probs cover 64 tokens but the draft function scores 128}}
  %0, %1 = spec.draft model %h using @draft_step : tensor<?xi32> -> tensor<4xi32>, tensor<4x64xf32>
  return
}

// -----

func.func @tree_tokens(%t: tensor<4xi32>) {
  // expected-error @+1 {{has 4 tokens but the tree has 5 nodes}}
  %0 = spec.tree %t parents [-1, 0, 1, 2, 3] : tensor<4xi32> -> !spec.tree<5, depth = 4>
  return
}

// -----

func.func @tree_parents_size(%t: tensor<5xi32>) {
  // expected-error @+1 {{has 4 parents but the tree has 5 nodes}}
  %0 = spec.tree %t parents [-1, 0, 1, 2] : tensor<5xi32> -> !spec.tree<5, depth = 4>
  return
}

// -----

func.func @tree_root_parent(%t: tensor<3xi32>) {
  // expected-error @+1 {{the root's parent must be -1, got 0}}
  %0 = spec.tree %t parents [0, 0, 1] : tensor<3xi32> -> !spec.tree<3, depth = 2>
  return
}

// -----

func.func @tree_order(%t: tensor<3xi32>) {
  // expected-error @+1 {{node 2 has parent 2; parents must be earlier nodes (0 to 1)}}
  %0 = spec.tree %t parents [-1, 0, 2] : tensor<3xi32> -> !spec.tree<3, depth = 2>
  return
}

// -----

func.func @tree_depth(%t: tensor<4xi32>) {
  // expected-error @+1 {{the parents give a tree of depth 2 but the type says 3}}
  %0 = spec.tree %t parents [-1, 0, 0, 1] : tensor<4xi32> -> !spec.tree<4, depth = 3>
  return
}

// -----

func.func @mask_shape(%tree: !spec.tree<5, depth = 2>) {
  // expected-error @+1 {{mask must be 5x5 for a tree of 5 nodes, got 'tensor<5x4xi1>'}}
  %0 = spec.tree_mask %tree : !spec.tree<5, depth = 2> -> tensor<5x4xi1>
  return
}

// -----

func.func @depths_size(%tree: !spec.tree<5, depth = 2>) {
  // expected-error @+1 {{has 4 depths but the tree has 5 nodes}}
  %0 = spec.tree_depths %tree : !spec.tree<5, depth = 2> -> tensor<4xi32>
  return
}

// -----

func.func @logits_rows(%tree: !spec.tree<5, depth = 2>, %l: tensor<4x128xf32>) {
  // expected-error @+1 {{logits have 4 rows but the tree has 5 nodes}}
  %n, %p, %b = spec.verify greedy %tree, %l : !spec.tree<5, depth = 2>, tensor<4x128xf32> -> tensor<3xi32>
  return
}

// -----

func.func @verify_path(%tree: !spec.tree<5, depth = 2>, %l: tensor<5x128xf32>) {
  // expected-error @+1 {{path holds 5 node indices but a tree of depth 2 needs 3}}
  %n, %p, %b = spec.verify greedy %tree, %l : !spec.tree<5, depth = 2>, tensor<5x128xf32> -> tensor<5xi32>
  return
}

// -----

func.func @greedy_probs(%tree: !spec.tree<5, depth = 2>, %l: tensor<5x128xf32>, %q: tensor<4x128xf32>) {
  // expected-error @+1 {{greedy verification takes no draft probabilities}}
  %n, %p, %b = spec.verify greedy %tree, %l draft_probs(%q : tensor<4x128xf32>) : !spec.tree<5, depth = 2>, tensor<5x128xf32> -> tensor<3xi32>
  return
}

// -----

func.func @greedy_seed(%tree: !spec.tree<5, depth = 2>, %l: tensor<5x128xf32>, %seed: i64) {
  // expected-error @+1 {{greedy verification takes no seed or temperature}}
  %n, %p, %b = spec.verify greedy %tree, %l seed(%seed) : !spec.tree<5, depth = 2>, tensor<5x128xf32> -> tensor<3xi32>
  return
}

// -----

func.func @rejection_without_seed(%tree: !spec.tree<5, depth = 2>, %l: tensor<5x128xf32>) {
  // expected-error @+1 {{rejection sampling needs a seed}}
  %n, %p, %b = spec.verify rejection %tree, %l : !spec.tree<5, depth = 2>, tensor<5x128xf32> -> tensor<3xi32>
  return
}

// -----

func.func @verify_negative_temperature(%tree: !spec.tree<5, depth = 2>, %l: tensor<5x128xf32>, %seed: i64) {
  // expected-error @+1 {{temperature must be positive, got -1}}
  %n, %p, %b = spec.verify rejection %tree, %l seed(%seed) {temperature = -1.0 : f32} : !spec.tree<5, depth = 2>, tensor<5x128xf32> -> tensor<3xi32>
  return
}

// -----

func.func @draft_probs_rows(%tree: !spec.tree<5, depth = 2>, %l: tensor<5x128xf32>, %q: tensor<5x128xf32>, %seed: i64) {
  // expected-error @+1 {{draft probabilities have 5 rows but the tree has 4 candidate nodes}}
  %n, %p, %b = spec.verify rejection %tree, %l draft_probs(%q : tensor<5x128xf32>) seed(%seed) : !spec.tree<5, depth = 2>, tensor<5x128xf32> -> tensor<3xi32>
  return
}

// -----

func.func @draft_probs_vocab(%tree: !spec.tree<5, depth = 2>, %l: tensor<5x128xf32>, %q: tensor<4x64xf32>, %seed: i64) {
  // expected-error @+1 {{draft probabilities cover 64 tokens but the logits cover 128}}
  %n, %p, %b = spec.verify rejection %tree, %l draft_probs(%q : tensor<4x64xf32>) seed(%seed) : !spec.tree<5, depth = 2>, tensor<5x128xf32> -> tensor<3xi32>
  return
}

// -----

func.func @accept_path(%tree: !spec.tree<5, depth = 2>, %n: index, %p: tensor<2xi32>, %b: i32) {
  // expected-error @+1 {{path holds 2 node indices but a tree of depth 2 needs 3}}
  %t = spec.accept %tree, %n, %p, %b : !spec.tree<5, depth = 2>, tensor<2xi32>
  return
}

// -----

func.func @accept_cache_count(%tree: !spec.tree<5, depth = 2>, %n: index, %p: tensor<3xi32>, %b: i32, %c: !kv.cache<layers = 1, heads = 2, head_dim = 16, page = 16, capacity = 64, f16>) {
  // expected-error @+1 {{has 1 caches but 0 updated caches}}
  %t = "spec.accept"(%tree, %n, %p, %b, %c) : (!spec.tree<5, depth = 2>, index, tensor<3xi32>, i32, !kv.cache<layers = 1, heads = 2, head_dim = 16, page = 16, capacity = 64, f16>) -> tensor<?xi32>
  return
}

// -----

func.func @accept_cache_type(%tree: !spec.tree<5, depth = 2>, %n: index, %p: tensor<3xi32>, %b: i32, %c: !kv.cache<layers = 1, heads = 2, head_dim = 16, page = 16, capacity = 64, f16>) {
  // expected-error @+1 {{updated cache #0 has type '!kv.cache<layers = 1, heads = 2, head_dim = 16, page = 16, capacity = 64, f32>' but the cache has type '!kv.cache<layers = 1, heads = 2, head_dim = 16, page = 16, capacity = 64, f16>'}}
  %t, %u = "spec.accept"(%tree, %n, %p, %b, %c) : (!spec.tree<5, depth = 2>, index, tensor<3xi32>, i32, !kv.cache<layers = 1, heads = 2, head_dim = 16, page = 16, capacity = 64, f16>) -> (tensor<?xi32>, !kv.cache<layers = 1, heads = 2, head_dim = 16, page = 16, capacity = 64, f32>)
  return
}

// -----

func.func @accept_not_a_cache(%tree: !spec.tree<5, depth = 2>, %n: index, %p: tensor<3xi32>, %b: i32, %c: memref<?xf16>) {
  // expected-error @+1 {{'spec.accept' op operand #4 must be variadic of KV cache, but got 'memref<?xf16>'}}
  %t, %u = "spec.accept"(%tree, %n, %p, %b, %c) : (!spec.tree<5, depth = 2>, index, tensor<3xi32>, i32, memref<?xf16>) -> (tensor<?xi32>, memref<?xf16>)
  return
}
