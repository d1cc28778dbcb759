//===- SpecOps.td - spec operations ------------------------*- tablegen -*-===//

#ifndef KVANT_DIALECTS_SPEC_IR_SPECOPS_TD
#define KVANT_DIALECTS_SPEC_IR_SPECOPS_TD

include "dialects/spec/IR/SpecTypes.td"
include "mlir/IR/SymbolInterfaces.td"
include "mlir/Interfaces/SideEffectInterfaces.td"

def Spec_AnyTree : Type<CPred<"::llvm::isa<::kvant::spec::TreeType>($_self)">,
                        "candidate tree", "::kvant::spec::TreeType">;

def Spec_TokenIds : 1DTensorOf<[I32]>;

/// The accepted tokens of one step: their number is only known at run time.
def Spec_TokenSequence : Type<
    CPred<"::llvm::isa<::mlir::RankedTensorType>($_self) && "
          "::llvm::cast<::mlir::RankedTensorType>($_self).getRank() == 1 && "
          "::llvm::cast<::mlir::RankedTensorType>($_self).isDynamicDim(0) && "
          "::llvm::cast<::mlir::RankedTensorType>($_self)"
          ".getElementType().isSignlessInteger(32)">,
    "tensor<?xi32>", "::mlir::RankedTensorType">,
  BuildableType<"::mlir::RankedTensorType::get({::mlir::ShapedType::kDynamic}, "
                "$_builder.getI32Type())">;

//===----------------------------------------------------------------------===//
// DraftOp
//===----------------------------------------------------------------------===//

def Spec_DraftOp : Spec_Op<"draft", [
    DeclareOpInterfaceMethods<SymbolUserOpInterface>,
    DeclareOpInterfaceMethods<MemoryEffectsOpInterface>]> {
  let summary = "Propose draft tokens that continue the token history";
  let description = [{
    Proposes `K` tokens (the static size of `tokens`) that continue
    `history`, the token ids seen so far (prompt and generated), by one of
    three methods:

    * `model`: calls the draft model function `callee` `K` times, each time
      on the history extended by the tokens drafted so far. The callee has
      type `(tensor<?xi32>) -> tensor<Vxf*>` and returns the logits of the
      next token; whatever else it needs (weights, its own key/value cache)
      is its own business. Without `seed` the draft is greedy (argmax);
      with `seed` each token is sampled from `softmax(logits / temperature)`
      (`temperature` defaults to 1). The optional `probs` result, `K x V`,
      holds the distribution every token was drawn from (one-hot at the
      argmax for greedy drafts), which `spec.verify rejection` needs for
      exact speculative sampling.
    * `ngram` (prompt lookup decoding): finds the most recent earlier
      occurrence of the last `n` tokens of the history and proposes the `K`
      tokens that followed it.
    * `suffix`: finds the longest suffix of the history that occurs earlier
      in it and proposes the `K` tokens that followed that occurrence.

    When a lookup finds no match, or fewer than `K` following tokens, the
    missing slots repeat the last history token. Verification rejects them
    like any wrong guess, so this changes how many tokens are accepted,
    never which.

    A model draft calls a function and so may read and write memory; lookup
    drafts are pure.

    ```mlir
    %d0 = spec.draft ngram %history n = 3 : tensor<?xi32> -> tensor<4xi32>
    %d1 = spec.draft suffix %history : tensor<?xi32> -> tensor<8xi32>
    %d2 = spec.draft model %history using @draft_step : tensor<?xi32> -> tensor<4xi32>
    %d3, %q = spec.draft model %history using @draft_step seed(%seed)
        {temperature = 8.000000e-01 : f32}
        : tensor<?xi32> -> tensor<4xi32>, tensor<4x32000xf32>
    ```
  }];
  let arguments = (ins Spec_DraftMethodAttr:$method,
                       Spec_TokenIds:$history,
                       Optional<I64>:$seed,
                       OptionalAttr<FlatSymbolRefAttr>:$callee,
                       OptionalAttr<I64Attr>:$n,
                       OptionalAttr<F32Attr>:$temperature);
  let results = (outs Spec_TokenIds:$tokens,
                      Optional<2DTensorOf<[AnyFloat]>>:$probs);
  let assemblyFormat = [{
    custom<EnumKeyword>($method) $history (`using` $callee^)? (`n` `=` $n^)?
    (`seed` `(` $seed^ `)`)? attr-dict
    `:` type($history) `->` type($tokens) (`,` type($probs)^)?
  }];
  let hasVerifier = 1;
  let extraClassDeclaration = [{
    /// The number of tokens proposed.
    int64_t getNumTokens() { return getTokens().getType().getDimSize(0); }
    bool isLookup() { return getMethod() != DraftMethod::Model; }
  }];
}

//===----------------------------------------------------------------------===//
// TreeOp, TreeMaskOp, TreeDepthsOp
//===----------------------------------------------------------------------===//

def Spec_TreeOp : Spec_Op<"tree", [Pure]> {
  let summary = "Arrange candidate tokens into a tree";
  let description = [{
    Builds a `!spec.tree<N, depth = D>` from `N` token ids. Token 0 is the
    root, the last accepted token; `parents[i]` is the node that node `i`
    continues, so `parents[0] = -1` and `0 <= parents[i] < i` otherwise.
    `D` is the length of the longest chain of parents.

    ```mlir
    // A chain of three drafts after the root.
    %chain = spec.tree %t4 parents [-1, 0, 1, 2]
        : tensor<4xi32> -> !spec.tree<4, depth = 3>
    // Two first guesses, each with one follow-up.
    %tree = spec.tree %t5 parents [-1, 0, 0, 1, 2]
        : tensor<5xi32> -> !spec.tree<5, depth = 2>
    ```
  }];
  let arguments = (ins Spec_TokenIds:$tokens, DenseI32ArrayAttr:$parents);
  let results = (outs Spec_AnyTree:$tree);
  let assemblyFormat = [{
    $tokens `parents` $parents attr-dict `:` type($tokens) `->` qualified(type($tree))
  }];
  let hasVerifier = 1;
}

def Spec_TreeMaskOp : Spec_Op<"tree_mask", [Pure]> {
  let summary = "The ancestor mask with which tree nodes attend to each other";
  let description = [{
    `mask[i][j]` is true when node `j` is node `i` or one of its ancestors:
    in tree attention node `i` attends to the cached context and to exactly
    these nodes. Folds to a constant when the tree's parents are known.

    ```mlir
    %mask = spec.tree_mask %tree : !spec.tree<5, depth = 2> -> tensor<5x5xi1>
    ```
  }];
  let arguments = (ins Spec_AnyTree:$tree);
  let results = (outs 2DTensorOf<[I1]>:$mask);
  let assemblyFormat = "$tree attr-dict `:` qualified(type($tree)) `->` type($mask)";
  let hasVerifier = 1;
  let hasFolder = 1;
}

def Spec_TreeDepthsOp : Spec_Op<"tree_depths", [Pure]> {
  let summary = "The depth of every tree node, for position ids";
  let description = [{
    `depths[i]` is the number of edges from the root to node `i` (0 for the
    root). Adding the root's sequence position gives each node's position
    id (e.g. for rotary embeddings) in tree attention. Folds to a constant
    when the tree's parents are known.

    ```mlir
    %depths = spec.tree_depths %tree : !spec.tree<5, depth = 2> -> tensor<5xi32>
    ```
  }];
  let arguments = (ins Spec_AnyTree:$tree);
  let results = (outs Spec_TokenIds:$depths);
  let assemblyFormat = "$tree attr-dict `:` qualified(type($tree)) `->` type($depths)";
  let hasVerifier = 1;
  let hasFolder = 1;
}

//===----------------------------------------------------------------------===//
// VerifyOp
//===----------------------------------------------------------------------===//

def Spec_VerifyOp : Spec_Op<"verify", [Pure, AttrSizedOperandSegments]> {
  let summary = "Check candidate tokens against the target model";
  let description = [{
    `logits` (`N x V`) holds the target model's logits for every node of
    `tree`: row `i` scores the token that follows the path from the root to
    node `i`. A candidate node is checked against the row of its parent,
    and children are tried in node order, so that one path is accepted:

    * `greedy`: a node is accepted when its token is the argmax of its
      parent's row. The result equals greedy decoding with the target.
    * `rejection`: speculative sampling at `temperature` (default 1) with
      random numbers drawn from `seed`. A node whose token `x` was drawn
      from `q` is accepted with probability `min(1, p(x) / q(x))`, where
      `p = softmax(parent row / temperature)`; on rejection the next sibling
      is tried against the residual `norm(max(0, p - q))`. `draft_probs`
      (`(N-1) x V`, row `i - 1` for node `i`) gives `q`; without it drafts
      are taken as deterministic (`q` one-hot at the drafted token), as for
      n-gram and suffix lookup. The output is distributed exactly as
      sampling from the target.

    Results: `count`, the number of accepted candidates (`0` to `D`);
    `path`, the `D + 1` node indices from the root along the accepted path
    (`path[0] = 0`, entries after `path[count]` are -1); `bonus`, one more
    token from the target, taken from the row of the last accepted node
    (argmax, or sampled from the residual after a rejection).

    ```mlir
    %count, %path, %bonus = spec.verify greedy %tree, %logits
        : !spec.tree<5, depth = 2>, tensor<5x32000xf32> -> tensor<3xi32>
    %c, %p, %b = spec.verify rejection %tree, %logits
        draft_probs(%q : tensor<4x32000xf32>) seed(%seed)
        {temperature = 5.000000e-01 : f32}
        : !spec.tree<5, depth = 4>, tensor<5x32000xf32> -> tensor<5xi32>
    ```
  }];
  let arguments = (ins Spec_VerifyRuleAttr:$rule,
                       Spec_AnyTree:$tree,
                       2DTensorOf<[AnyFloat]>:$logits,
                       Optional<2DTensorOf<[AnyFloat]>>:$draft_probs,
                       Optional<I64>:$seed,
                       OptionalAttr<F32Attr>:$temperature);
  let results = (outs Index:$count, Spec_TokenIds:$path, I32:$bonus);
  let assemblyFormat = [{
    custom<EnumKeyword>($rule) $tree `,` $logits
    (`draft_probs` `(` $draft_probs^ `:` type($draft_probs) `)`)?
    (`seed` `(` $seed^ `)`)? attr-dict
    `:` qualified(type($tree)) `,` type($logits) `->` type($path)
  }];
  let hasVerifier = 1;
}

//===----------------------------------------------------------------------===//
// AcceptOp
//===----------------------------------------------------------------------===//

def Spec_KVCache : Type<CPred<"::llvm::isa<::kvant::kv::CacheType>($_self)">,
                        "KV cache", "::kvant::kv::CacheType">;

def Spec_AcceptOp : Spec_Op<"accept", [Pure]> {
  let summary = "Commit a verdict: accepted tokens and trimmed caches";
  let description = [{
    Takes the verdict of `spec.verify` on `tree` and returns `tokens`, the
    `count + 1` tokens the step produces: those of the accepted nodes
    `path[1] .. path[count]`, then `bonus`.

    `caches` are the target model's key/value caches (`!kv.cache` values)
    after the verification pass appended the entries of all `N` tree nodes.
    Each `updated` cache keeps, of those last `N` entries, only the ones of
    the root and the accepted nodes, in path order, and has the type of its
    operand. The bonus token has no entry yet: it is the next step's root.

    ```mlir
    %tokens, %k1, %v1 = spec.accept %tree, %count, %path, %bonus
        caches(%k0, %v0 : !kv.cache<...>, !kv.cache<...>)
        : !spec.tree<5, depth = 2>, tensor<3xi32>
    ```
  }];
  let arguments = (ins Spec_AnyTree:$tree, Index:$count, Spec_TokenIds:$path,
                       I32:$bonus, Variadic<Spec_KVCache>:$caches);
  let results = (outs Spec_TokenSequence:$tokens,
                      Variadic<Spec_KVCache>:$updated);
  let assemblyFormat = [{
    $tree `,` $count `,` $path `,` $bonus
    (`caches` `(` $caches^ `:` custom<CacheTypes>(type($caches), type($updated)) `)`)?
    attr-dict `:` qualified(type($tree)) `,` type($path)
  }];
  let hasVerifier = 1;
}

#endif // KVANT_DIALECTS_SPEC_IR_SPECOPS_TD
