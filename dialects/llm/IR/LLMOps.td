//===- LLMOps.td - llm operations ---------------------------*- tablegen -*-===//

#ifndef KVANT_DIALECTS_LLM_IR_LLMOPS_TD
#define KVANT_DIALECTS_LLM_IR_LLMOPS_TD

include "dialects/llm/IR/LLMAttrs.td"
include "mlir/Interfaces/SideEffectInterfaces.td"

// qt's own constraint lives in QtOps.td; including that file would generate
// qt's ops into this dialect's .inc files.
def LLM_QTensor : Type<
    CPred<"::llvm::isa<::kvant::qt::QuantizedTensorType>($_self)">,
    "quantized tensor", "::kvant::qt::QuantizedTensorType">;

def LLM_Weight : AnyTypeOf<[AnyRankedTensor, LLM_QTensor],
                           "float or quantized tensor">;

def LLM_EmbeddingOp : LLM_Op<"embedding", [Pure]> {
  let summary = "Look up token embeddings";
  let description = [{
    `result[..., :] = table[tokens[...], :]`: one row of the `[V, D]` table
    per token id. The table is a float tensor or a quantized one (GGUF's
    `token_embd.weight`, often Q8_0 or Q4_K), in which case only the rows
    looked up are dequantized. The result has the tokens' shape followed by
    `D`. Token ids outside `[0, V)` are undefined behavior.

    ```mlir
    %table = qt.weight "token_embd.weight" : !qt.tensor<32000x2048, #qt.gguf<q8_0>>
    %h = llm.embedding %table, %tokens
        : !qt.tensor<32000x2048, #qt.gguf<q8_0>>, tensor<?xi32> -> tensor<?x2048xf32>
    ```
  }];
  let arguments = (ins LLM_Weight:$table, RankedTensorOf<[I32]>:$tokens);
  let results = (outs AnyRankedTensor:$result);
  let assemblyFormat = [{
    $table `,` $tokens attr-dict `:` qualified(type($table)) `,`
        type($tokens) `->` type($result)
  }];
  let hasVerifier = 1;
}

def LLM_RMSNormOp : LLM_Op<"rms_norm", [Pure,
    AllTypesMatch<["input", "result"]>]> {
  let summary = "Root-mean-square normalization over the innermost axis";
  let description = [{
    `result[..., d] = input[..., d] / sqrt(mean(input[..., :]^2) + epsilon)
    * weight[d]`, with the mean over the innermost axis `D` and the
    arithmetic in f32 whatever the element type. `weight` is `[D]` (GGUF's
    `*_norm.weight`, always float) and `epsilon` is positive
    (`*.attention.layer_norm_rms_epsilon`).

    ```mlir
    %n = llm.rms_norm %h, %w epsilon = 9.99999974E-6
        : tensor<?x2048xf32>, tensor<2048xf32>
    ```
  }];
  let arguments = (ins AnyRankedTensor:$input, AnyRankedTensor:$weight,
                       F32Attr:$epsilon);
  let results = (outs AnyRankedTensor:$result);
  let assemblyFormat = [{
    $input `,` $weight `epsilon` `=` $epsilon attr-dict `:` type($input) `,`
        type($weight)
  }];
  let hasVerifier = 1;
}

def LLM_RopeOp : LLM_Op<"rope", [Pure, AllTypesMatch<["input", "result"]>]> {
  let summary = "Rotary position embedding";
  let description = [{
    Rotates pairs of elements of every head of `input` (`[T, H, Dh]`) by
    angles proportional to each token's position (`positions`, `[T]` i32).
    With `R = rotary_dim` (default `Dh`) and `i` in `[0, R/2)`, the pair
    `(a, b)` is rotated by `positions[t] * theta^(-2i/R) / freq_factors[i]`:
    `a' = a cos - b sin`, `b' = a sin + b cos`. Elements `R..Dh-1` pass
    through unchanged.

    * `normal` pairs adjacent elements `(2i, 2i+1)`: GGUF's `llama`
      architecture (the importer's Q/K weights are permuted for it).
    * `neox` pairs the halves `(i, i + R/2)`: Qwen2, GPT-NeoX, Phi.

    `theta` is positive (`*.rope.freq_base`), `R` is even, positive and at
    most `Dh`. The optional `freq_factors` (`[R/2]`, float) divide each
    frequency, as Llama 3.1's `rope_freqs.weight` does.

    ```mlir
    %qr = llm.rope normal %q, %pos theta = 5.000000e+05
        : tensor<?x32x64xf32>, tensor<?xi32>
    %kr = llm.rope neox %k, %pos theta = 1.000000e+06 rotary_dim = 32
        freq_factors(%f : tensor<16xf32>) : tensor<?x8x64xf32>, tensor<?xi32>
    ```
  }];
  let arguments = (ins AnyRankedTensor:$input, RankedTensorOf<[I32]>:$positions,
                       Optional<AnyRankedTensor>:$freq_factors,
                       LLM_RopeStyleAttr:$style, F32Attr:$theta,
                       OptionalAttr<I64Attr>:$rotary_dim);
  let results = (outs AnyRankedTensor:$result);
  let assemblyFormat = [{
    custom<EnumKeyword>($style) $input `,` $positions `theta` `=` $theta
        (`rotary_dim` `=` $rotary_dim^)?
        (`freq_factors` `(` $freq_factors^ `:` type($freq_factors) `)`)?
        attr-dict `:` type($input) `,` type($positions)
  }];
  let hasVerifier = 1;
  let extraClassDeclaration = [{
    /// The number of leading elements of a head that are rotated.
    int64_t getRotaryDimOrHeadDim();
  }];
}

def LLM_AttentionOp : LLM_Op<"attention", [Pure, AttrSizedOperandSegments]> {
  let summary = "Multi-head scaled dot-product attention with a named mask";
  let description = [{
    `result[t, h, :] = softmax_j(scale * q[t, h, :] · k[j, g, :] + M[t, j])
    · v[:, g, :]` where `g = h / (Hq / Hkv)` is the key/value head shared by
    `Hq / Hkv` query heads (grouped-query attention; `Hkv = Hq` is plain
    multi-head attention) and `M[t, j]` is 0 where the mask shows key `j` to
    query `t` and `-inf` elsewhere.

    * `query` is `[T, Hq, D]`, `key` `[S, Hkv, D]`, `value` `[S, Hkv, Dv]`
      and the result `[T, Hq, Dv]`, with `Hq` a multiple of `Hkv`. `key` and
      `value` share an element type; the result has the query's.
    * Positions: key `j` is at position `j`; query `t` at `offset + t`. The
      `offset` operand defaults to `S - T`, i.e. the queries are the last `T`
      of the `S` keys (prefill: `S = T`; decode with a cache holding exactly
      the sequence so far). Pass it when `key`/`value` are a cache larger
      than the sequence, whose slots past `offset + T` are not yet written:
      every mask is causal, so they are never read.
    * `mask` is an attribute implementing `AttentionMaskAttrInterface`:
      `#llm.causal`, `#llm.sliding_window<W>`, `#llm.sink_window<...>`,
      `#llm.block_sparse<...>` or `#llm.tree`. Only `#llm.tree` takes the
      `tree_mask` operand (`[T, T]` i1) and it requires it.
    * `scale` defaults to `1/sqrt(D)` and is positive.

    A row with no visible key (possible only with an explicit tree mask that
    hides the whole prefix and the node itself) yields zeros.

    ```mlir
    // Prefill of Llama 3.2 1B's first layer (32 query heads, 8 KV heads).
    %o = llm.attention #llm.causal %q, %k, %v
        : tensor<?x32x64xf32>, tensor<?x8x64xf32>, tensor<?x8x64xf32>
        -> tensor<?x32x64xf32>
    // One decode step against a 4096-slot cache, Mistral's window.
    %d = llm.attention #llm.sliding_window<4096> %q1, %kc, %vc
        offset(%pos) scale = 1.250000e-01
        : tensor<1x32x128xf16>, tensor<4096x8x128xf16>, tensor<4096x8x128xf16>
        -> tensor<1x32x128xf16>
    ```
  }];
  let arguments = (ins AnyRankedTensor:$query, AnyRankedTensor:$key,
                       AnyRankedTensor:$value,
                       Optional<RankedTensorOf<[I1]>>:$tree_mask,
                       Optional<Index>:$offset,
                       LLM_AttentionMaskAttrInterface:$mask,
                       OptionalAttr<F32Attr>:$scale);
  let results = (outs AnyRankedTensor:$result);
  let assemblyFormat = [{
    $mask $query `,` $key `,` $value
        (`tree_mask` `(` $tree_mask^ `:` type($tree_mask) `)`)?
        (`offset` `(` $offset^ `)`)?
        (`scale` `=` $scale^)?
        attr-dict `:` type($query) `,` type($key) `,` type($value) `->`
        type($result)
  }];
  let hasVerifier = 1;
  let extraClassDeclaration = [{
    /// `scale` if given, `1/sqrt(D)` otherwise; requires a static `D` then.
    float getScaleOrDefault();
  }];
}

def LLM_MlpOp : LLM_Op<"mlp", [Pure,
    AllTypesMatch<["input", "result"]>]> {
  let summary = "Feed-forward block: up-projection, activation, down-projection";
  let description = [{
    With weights in GGUF's `[out, in]` layout (`gate`, `up`: `[F, D]`;
    `down`: `[D, F]`) and `x · wᵀ` products:

    * `swiglu`: `down(silu(gate(x)) * up(x))` (Llama, Qwen2, Mistral);
    * `geglu`:  `down(gelu(gate(x)) * up(x))` (Gemma);
    * `gelu`:   `down(gelu(up(x)))`, not gated (GPT-2, Phi-2).

    `gelu` is the tanh approximation, as GGML computes it. The gated
    activations require `gate`, `gelu` forbids it. `input` is `[..., D]` and
    the result has its type; weights are float or quantized tensors.

    ```mlir
    %y = llm.mlp swiglu %x gate(%g : !qt.tensor<8192x2048, #qt.gguf<q4_k>>)
        up(%u : !qt.tensor<8192x2048, #qt.gguf<q4_k>>)
        down(%d : !qt.tensor<2048x8192, #qt.gguf<q6_k>>) : tensor<?x2048xf32>
    ```
  }];
  let arguments = (ins AnyRankedTensor:$input, Optional<LLM_Weight>:$gate,
                       LLM_Weight:$up, LLM_Weight:$down,
                       LLM_MlpActivationAttr:$activation);
  let results = (outs AnyRankedTensor:$result);
  let assemblyFormat = [{
    custom<EnumKeyword>($activation) $input
        (`gate` `(` $gate^ `:` qualified(type($gate)) `)`)?
        `up` `(` $up `:` qualified(type($up)) `)`
        `down` `(` $down `:` qualified(type($down)) `)`
        attr-dict `:` type($input)
  }];
  let hasVerifier = 1;
  let extraClassDeclaration = [{
    /// Whether `activation` multiplies by a gate projection.
    bool isGated();
  }];
}

def LLM_LinearOp : LLM_Op<"linear", [Pure]> {
  let summary = "Linear projection `x · wᵀ (+ bias)` with a float or quantized weight";
  let description = [{
    `result[..., n] = sum_k input[..., k] * weight[n, k] (+ bias[n])`: the
    weight is `[N, K]` (rows are output features, as GGUF stores them), the
    input `[..., K]` and the result `[..., N]` with the input's element type.
    The weight is a float tensor of any float type, or a `!qt.tensor`: the
    lowering then dequantizes it block by block inside the reduction
    (`qt.matmul`), never as a whole. `qt-fuse-dequant` rewrites a linear
    whose weight is a `qt.dequantize` into that form. The optional `bias` is
    `[N]` (Qwen2's Q/K/V projections).

    ```mlir
    %wq = qt.weight "blk.0.attn_q.weight" : !qt.tensor<2048x2048, #qt.gguf<q8_0>>
    %q = llm.linear %x, %wq
        : tensor<?x2048xf32>, !qt.tensor<2048x2048, #qt.gguf<q8_0>> -> tensor<?x2048xf32>
    %k = llm.linear %x, %wk, %bk
        : tensor<?x896xf32>, tensor<128x896xf16>, tensor<128xf32> -> tensor<?x128xf32>
    ```
  }];
  let arguments = (ins AnyRankedTensor:$input, LLM_Weight:$weight,
                       Optional<AnyRankedTensor>:$bias);
  let results = (outs AnyRankedTensor:$result);
  let assemblyFormat = [{
    $input `,` $weight (`,` $bias^)? attr-dict `:` type($input) `,`
        qualified(type($weight)) (`,` type($bias)^)? `->` type($result)
  }];
  let hasVerifier = 1;
}

def LLM_LogitsOp : LLM_Op<"logits", [Pure]> {
  let summary = "Project hidden states onto the vocabulary";
  let description = [{
    `result[..., v] = sum_d hidden[..., d] * weight[v, d]` with the `[V, D]`
    output weight (GGUF's `output.weight`, or `token_embd.weight` when the
    embeddings are tied), float or quantized. The result is f32 or the
    hidden states' element type.

    With `last_only`, only the last position along the second-innermost
    axis is projected: `[..., T, D] -> [..., V]`, what decoding needs (`T`
    must not be 0). Without it, `[..., D] -> [..., V]`.

    ```mlir
    %all  = llm.logits %h, %w : tensor<?x2048xf32>, !qt.tensor<128256x2048, #qt.gguf<q6_k>>
        -> tensor<?x128256xf32>
    %last = llm.logits %h, %w last_only
        : tensor<?x2048xf32>, !qt.tensor<128256x2048, #qt.gguf<q6_k>> -> tensor<128256xf32>
    ```
  }];
  let arguments = (ins AnyRankedTensor:$hidden, LLM_Weight:$weight,
                       UnitAttr:$last_only);
  let results = (outs AnyRankedTensor:$result);
  let assemblyFormat = [{
    $hidden `,` $weight (`last_only` $last_only^)? attr-dict `:`
        type($hidden) `,` qualified(type($weight)) `->` type($result)
  }];
  let hasVerifier = 1;
}

def LLM_SampleOp : LLM_Op<"sample", [Pure]> {
  let summary = "Pick the next token from logits";
  let description = [{
    Picks one token id per row of `logits` (`[V]` gives an `i32`, `[B, V]` a
    `tensor<Bxi32>`) as the `#llm.sampling` attribute says. Stochastic
    sampling draws from a counter-based generator keyed by the attribute's
    `seed` and the `step` operand (the caller passes the decode step, so
    draws differ from step to step yet replay exactly); it requires `step`,
    greedy sampling forbids it. Both are pure functions of their operands.

    ```mlir
    %t = llm.sample #llm.sampling<greedy> %l : tensor<32000xf32> -> i32
    %u = llm.sample #llm.sampling<temperature = 0.8, top_k = 40,
                                  top_p = 0.95, seed = 42> %lb step(%i)
        : tensor<4x32000xf32> -> tensor<4xi32>
    ```
  }];
  let arguments = (ins AnyRankedTensor:$logits, Optional<Index>:$step,
                       LLM_SamplingAttr:$sampling);
  let results = (outs AnyTypeOf<[I32, RankedTensorOf<[I32]>]>:$result);
  let assemblyFormat = [{
    qualified($sampling) $logits (`step` `(` $step^ `)`)? attr-dict `:`
        type($logits) `->` type($result)
  }];
  let hasVerifier = 1;
}

#endif // KVANT_DIALECTS_LLM_IR_LLMOPS_TD
