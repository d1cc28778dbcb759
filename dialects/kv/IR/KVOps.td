//===- KVOps.td - kv operations ---------------------------*- tablegen -*-===//

#ifndef KVANT_DIALECTS_KV_IR_KVOPS_TD
#define KVANT_DIALECTS_KV_IR_KVOPS_TD

include "dialects/kv/IR/KVTypes.td"
include "mlir/Interfaces/SideEffectInterfaces.td"

def KV_EmptyOp : KV_Op<"empty", [Pure]> {
  let summary = "A cache holding no tokens";
  let description = [{
    Creates a cache of the result type with every position free. Its
    length is 0.

    ```mlir
    %cache = kv.empty : !kv.cache<layers = 22, heads = 4, head_dim = 64,
                                  page = 16, capacity = 2048, f16>
    ```
  }];
  let results = (outs KV_CacheType:$result);
  let assemblyFormat = "attr-dict `:` qualified(type($result))";
}

def KV_AppendOp : KV_Op<"append", [Pure,
    AllTypesMatch<["cache", "result"]>, AllTypesMatch<["keys", "values"]>]> {
  let summary = "Write one layer's keys and values for new tokens";
  let description = [{
    Returns `cache` with the keys and values of `tokens` new tokens written
    to layer `layer` at positions `position` to `position + tokens - 1`.
    `keys` and `values` have shape `[tokens, heads, head_dim]`; `tokens`
    may be dynamic. A float cache takes tensors of its own element type; a
    quantized cache takes f32, f16 or bf16 tensors and quantizes them as it
    stores them. Writing past `capacity` is undefined behaviour.

    ```mlir
    %c1 = kv.append %k, %v into %c0 layer 0 at %pos
        : tensor<?x4x64xf16> into !kv.cache<layers = 22, heads = 4,
              head_dim = 64, page = 16, capacity = 2048, f16>
    ```
  }];
  let arguments = (ins RankedTensorOf<[AnyFloat]>:$keys,
                       RankedTensorOf<[AnyFloat]>:$values,
                       KV_CacheType:$cache, I64Attr:$layer, Index:$position);
  let results = (outs KV_CacheType:$result);
  let assemblyFormat = [{
    $keys `,` $values `into` $cache `layer` $layer `at` $position attr-dict
    `:` type($keys) `into` qualified(type($cache))
  }];
  let hasVerifier = 1;
}

def KV_ReadOp : KV_Op<"read", [Pure, AllTypesMatch<["keys", "values"]>]> {
  let summary = "The keys and values of one layer's first `length` tokens";
  let description = [{
    Returns the keys and values of positions `0` to `length - 1` of layer
    `layer` as float tensors of shape `[length, heads, head_dim]`, the view
    attention consumes. A float cache reads in its own element type; a
    quantized cache dequantizes into f32, f16 or bf16. The leading dimension
    is usually dynamic; a static one states the value `length` has at run
    time.

    ```mlir
    %k, %v = kv.read %c layer 3 length %n
        : !kv.cache<layers = 22, heads = 4, head_dim = 64, page = 16,
                    capacity = 2048, #qt.grouped<i8, group = 64, scale = f16>>
          -> tensor<?x4x64xf16>
    ```
  }];
  let arguments = (ins KV_CacheType:$cache, I64Attr:$layer, Index:$length);
  let results = (outs RankedTensorOf<[AnyFloat]>:$keys,
                      RankedTensorOf<[AnyFloat]>:$values);
  let assemblyFormat = [{
    $cache `layer` $layer `length` $length attr-dict
    `:` qualified(type($cache)) `->` type($keys)
  }];
  let hasVerifier = 1;
}

def KV_QuantizeOp : KV_Op<"quantize", [Pure]> {
  let summary = "Re-store a float cache in a quantization scheme";
  let description = [{
    Returns a cache of the same geometry whose elements are stored in the
    result type's scheme, quantizing every stored token. Used to shrink a
    cache after prefill, or to hand a float cache to a quantized decoder.

    ```mlir
    %q = kv.quantize %c
        : !kv.cache<layers = 22, heads = 4, head_dim = 64, page = 16,
                    capacity = 2048, f16>
          -> !kv.cache<layers = 22, heads = 4, head_dim = 64, page = 16,
                       capacity = 2048, #qt.grouped<i8, group = 64, scale = f16>>
    ```
  }];
  let arguments = (ins KV_CacheType:$input);
  let results = (outs KV_CacheType:$result);
  let assemblyFormat = [{
    $input attr-dict `:` qualified(type($input)) `->` qualified(type($result))
  }];
  let hasVerifier = 1;
}

def KV_EvictOp : KV_Op<"evict", [Pure, AllTypesMatch<["cache", "kept"]>]> {
  let summary = "Drop tokens by an eviction policy to bound the cache";
  let description = [{
    Applies `policy` to the first `length` tokens of `cache` (in every
    layer alike) and returns the cache with the kept tokens compacted to the
    front, in their original order, together with the new length
    `min(length, budget)`. Keys keep the positional encoding they were
    stored with.

    * `#kv.sink_window<sink = S, window = W>` keeps positions `[0, S)` and
      the last `W` positions.
    * `#kv.score<keep = N>` keeps the `N` positions with the highest
      accumulated attention score; `scores` holds one score per cached
      position (a rank-1 float tensor indexed by position).

    ```mlir
    %c1, %n1 = kv.evict %c0, %n0 policy(#kv.sink_window<sink = 4, window = 1020>)
        : !kv.cache<layers = 22, heads = 4, head_dim = 64, page = 16,
                    capacity = 2048, f16>
    %c2, %n2 = kv.evict %c1, %n1 policy(#kv.score<keep = 512>)
        scores(%s : tensor<?xf32>)
        : !kv.cache<layers = 22, heads = 4, head_dim = 64, page = 16,
                    capacity = 2048, f16>
    ```
  }];
  let arguments = (ins KV_CacheType:$cache, Index:$length,
                       Optional<AnyRankedTensor>:$scores,
                       KV_EvictionPolicyAttrInterface:$policy);
  let results = (outs KV_CacheType:$kept, Index:$keptLength);
  let assemblyFormat = [{
    $cache `,` $length `policy` `(` custom<Policy>($policy) `)`
    (`scores` `(` $scores^ `:` type($scores) `)`)? attr-dict
    `:` qualified(type($cache))
  }];
  let hasVerifier = 1;
  let hasFolder = 1;
}

def KV_RollbackOp : KV_Op<"rollback", [Pure,
    AllTypesMatch<["cache", "result"]>]> {
  let summary = "Truncate the cache to its first `length` tokens";
  let description = [{
    Discards every position at or after `length` in every layer, e.g. the
    draft tokens a speculative-decoding step rejected, and frees the pages
    only those positions occupied. Rolling back to a length at or beyond the
    cache's current length changes nothing.

    ```mlir
    %c1 = kv.rollback %c0 to %accepted
        : !kv.cache<layers = 22, heads = 4, head_dim = 64, page = 16,
                    capacity = 2048, f16>
    ```
  }];
  let arguments = (ins KV_CacheType:$cache, Index:$length);
  let results = (outs KV_CacheType:$result);
  let assemblyFormat = [{
    $cache `to` $length attr-dict `:` qualified(type($cache))
  }];
  let hasFolder = 1;
}

#endif // KVANT_DIALECTS_KV_IR_KVOPS_TD
