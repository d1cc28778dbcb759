//===- LLMAttrs.td - llm attributes and enums --------------*- tablegen -*-===//
//
// Attention mask kinds (one attribute each, all implementing
// AttentionMaskAttrInterface), the sampling configuration, and the enums of
// rotary embedding styles and MLP activations.
//
//===----------------------------------------------------------------------===//

#ifndef KVANT_DIALECTS_LLM_IR_LLMATTRS_TD
#define KVANT_DIALECTS_LLM_IR_LLMATTRS_TD

include "dialects/llm/IR/LLMBase.td"

//===----------------------------------------------------------------------===//
// Enums
//===----------------------------------------------------------------------===//

def LLM_RopeStyle : I32EnumAttr<"RopeStyle",
    "which elements of a head rotary embedding rotates together", [
    I32EnumAttrCase<"Normal", 0, "normal">,
    I32EnumAttrCase<"NeoX", 1, "neox">,
  ]> {
  let cppNamespace = "::kvant::llm";
  let genSpecializedAttr = 0;
}

def LLM_RopeStyleAttr : EnumAttr<LLM_Dialect, LLM_RopeStyle, "rope_style">;

def LLM_MlpActivation : I32EnumAttr<"MlpActivation",
    "the activation of a feed-forward block", [
    I32EnumAttrCase<"SwiGLU", 0, "swiglu">,
    I32EnumAttrCase<"GeGLU", 1, "geglu">,
    I32EnumAttrCase<"GELU", 2, "gelu">,
  ]> {
  let cppNamespace = "::kvant::llm";
  let genSpecializedAttr = 0;
}

def LLM_MlpActivationAttr
    : EnumAttr<LLM_Dialect, LLM_MlpActivation, "mlp_activation">;

//===----------------------------------------------------------------------===//
// Attention masks
//===----------------------------------------------------------------------===//

def LLM_AttentionMaskAttrInterface
    : AttrInterface<"AttentionMaskAttrInterface"> {
  let cppNamespace = "::kvant::llm";
  let description = [{
    Which keys a query may attend to, stated on absolute token positions:
    every mask is causal (a query never sees a later key) and may forbid
    more. `llm.attention` places query `i` at position `offset + i` and key
    `j` at position `j`; lowerings, the block-sparse planner and the KV cache
    read a mask only through this interface.
  }];
  let methods = [
    InterfaceMethod<[{
        Whether the key at position `key` is visible to the query at position
        `query` by the attribute alone. For a mask that takes a mask operand
        this is the necessary condition that the operand refines.
      }], "bool", "isVisible", (ins "int64_t":$query, "int64_t":$key)>,
    InterfaceMethod<[{
        Whether `llm.attention` needs an explicit mask operand with this
        mask (and must not have one otherwise).
      }], "bool", "needsMaskOperand", (ins), [{}], [{ return false; }]>,
  ];
}

def LLM_CausalMaskAttr : LLM_Attr<"CausalMask", "causal", [
    DeclareAttrInterfaceMethods<LLM_AttentionMaskAttrInterface>]> {
  let summary = "Causal attention: every key at or before the query";
  let description = [{
    Key `j` is visible to the query at position `p` iff `j <= p`. The mask of
    Llama, Qwen2 and every full-attention decoder.

    ```mlir
    %o = llm.attention #llm.causal %q, %k, %v
        : tensor<?x32x128xf32>, tensor<?x8x128xf32>, tensor<?x8x128xf32>
        -> tensor<?x32x128xf32>
    ```
  }];
}

def LLM_SlidingWindowMaskAttr : LLM_Attr<"SlidingWindowMask",
    "sliding_window", [
    DeclareAttrInterfaceMethods<LLM_AttentionMaskAttrInterface>]> {
  let summary = "Causal attention limited to the last `window` positions";
  let description = [{
    Key `j` is visible to the query at position `p` iff
    `j <= p && p - j < window`: a query sees itself and the `window - 1`
    positions before it (Mistral's `sliding_window`, llama.cpp's standard
    SWA). A KV cache for it needs only `window` slots per sequence.

    ```mlir
    #mistral = #llm.sliding_window<4096>
    ```
  }];
  let parameters = (ins "int64_t":$window);
  let assemblyFormat = "`<` $window `>`";
  let genVerifyDecl = 1;
}

def LLM_SinkWindowMaskAttr : LLM_Attr<"SinkWindowMask", "sink_window", [
    DeclareAttrInterfaceMethods<LLM_AttentionMaskAttrInterface>]> {
  let summary = "Attention sinks plus a sliding window (StreamingLLM)";
  let description = [{
    The first `sink` positions stay visible beside a sliding window of
    `window` positions, as in StreamingLLM. Key `j` is visible to the query
    at position `p` iff `j <= p` and either `p - j < window`, or `j < sink`
    and `p - j < max_distance`. Without `max_distance` sinks stay visible
    forever; with it they fade out once the query is that far away, which
    bounds how long a cache has to keep them. `sink` and `window` are
    positive and `max_distance`, when present, exceeds `window` (a smaller
    one would hide every sink the window does not already show).

    ```mlir
    #streaming = #llm.sink_window<sink = 4, window = 1024>
    #bounded   = #llm.sink_window<sink = 4, window = 1024, max_distance = 8192>
    ```
  }];
  let parameters = (ins "int64_t":$sink, "int64_t":$window,
                        OptionalParameter<"std::optional<int64_t>">:$maxDistance);
  let assemblyFormat = [{
    `<` `sink` `=` $sink `,` `window` `=` $window
        (`,` `max_distance` `=` $maxDistance^)? `>`
  }];
  let genVerifyDecl = 1;
}

def LLM_BlockSparseMaskAttr : LLM_Attr<"BlockSparseMask", "block_sparse", [
    DeclareAttrInterfaceMethods<LLM_AttentionMaskAttrInterface>]> {
  let summary = "Causal attention over local and global blocks of positions";
  let description = [{
    Positions are cut into blocks of `block` tokens; position `x` is in block
    `x / block`. Key `j` is visible to the query at position `p` iff
    `j <= p` and either the key's block is one of the `local` most recent
    blocks up to the query's own (`p / block - j / block < local`) or one of
    the first `global` blocks of the sequence (`j / block < global`).
    Lowerings skip whole invisible blocks, which is the point of the mask.
    `block` and `local` are positive, `global` is non-negative.

    ```mlir
    #sparse = #llm.block_sparse<block = 64, local = 4, global = 1>
    ```
  }];
  let parameters = (ins "int64_t":$block, "int64_t":$local, "int64_t":$global);
  let assemblyFormat = [{
    `<` `block` `=` $block `,` `local` `=` $local `,` `global` `=` $global `>`
  }];
  let genVerifyDecl = 1;
}

def LLM_TreeMaskAttr : LLM_Attr<"TreeMask", "tree", [
    DeclareAttrInterfaceMethods<LLM_AttentionMaskAttrInterface,
                                ["needsMaskOperand"]>]> {
  let summary = "Tree attention over speculative draft tokens";
  let description = [{
    Verifies a tree of draft tokens in one pass (speculative decoding). The
    `T` queries are the tree's nodes, placed after the committed prefix; the
    `tree_mask` operand of `llm.attention`, a `T x T` `i1` tensor, holds
    `mask[i][k] = 1` iff node `k` is node `i` or one of its ancestors. With
    query offset `o`, key `j` is visible to query `i` iff `j < o` (the
    committed prefix) or `o <= j < o + T` and `mask[i][j - o]`. As an
    interface, the attribute alone only promises causality (`j <= o + i`).

    ```mlir
    %o = llm.attention #llm.tree %q, %k, %v
        tree_mask(%m : tensor<8x8xi1>) offset(%committed)
        : tensor<8x32x128xf32>, tensor<?x8x128xf32>, tensor<?x8x128xf32>
        -> tensor<8x32x128xf32>
    ```
  }];
}

//===----------------------------------------------------------------------===//
// Sampling
//===----------------------------------------------------------------------===//

def LLM_SamplingAttr : LLM_Attr<"Sampling", "sampling"> {
  let summary = "How `llm.sample` picks a token from logits";
  let description = [{
    Either `greedy` (argmax; the lowest token id wins ties) or stochastic
    sampling at a `temperature`, optionally restricted to the `top_k` most
    likely tokens and then to the smallest set whose probability reaches
    `top_p` (nucleus sampling), in that order, as llama.cpp's default chain
    does. Random draws come from a counter-based generator keyed by `seed`
    and the `step` operand of `llm.sample`, so sampling is a pure function of
    its operands.

    `temperature` is positive, `top_k` is non-negative (0, the default,
    keeps every token), `top_p` is in `(0, 1]` (absent keeps every token),
    `seed` defaults to 0. Greedy sampling takes none of them.

    ```mlir
    #argmax = #llm.sampling<greedy>
    #chat   = #llm.sampling<temperature = 0.8, top_k = 40,
                            top_p = 0.95, seed = 42>
    ```
  }];
  let parameters = (ins OptionalParameter<"::mlir::FloatAttr">:$temperature,
                        DefaultValuedParameter<"int64_t", "0">:$topK,
                        OptionalParameter<"::mlir::FloatAttr">:$topP,
                        DefaultValuedParameter<"uint64_t", "0">:$seed);
  let hasCustomAssemblyFormat = 1;
  let genVerifyDecl = 1;
  let builders = [
    AttrBuilder<(ins), [{
      return $_get($_ctxt, ::mlir::FloatAttr(), 0, ::mlir::FloatAttr(), 0);
    }]>,
  ];
  let extraClassDeclaration = [{
    /// Greedy sampling is the one without a temperature.
    bool isGreedy() const { return !getTemperature(); }
  }];
}

#endif // KVANT_DIALECTS_LLM_IR_LLMATTRS_TD
