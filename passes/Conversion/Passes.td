//===- Passes.td - conversions between dialects ------------*- tablegen -*-===//

#ifndef KVANT_PASSES_CONVERSION_PASSES_TD
#define KVANT_PASSES_CONVERSION_PASSES_TD

include "mlir/Pass/PassBase.td"

def ConvertLLMToLinalgPass : Pass<"convert-llm-to-linalg"> {
  let summary = "Lower llm model ops to linalg, tensor, arith and math on tensors";
  let description = [{
    The reference lowering of the `llm` dialect: every op becomes upstream
    `linalg`/`tensor`/`arith`/`math` ops on tensors that compute exactly what
    the op's description states, with f32 arithmetic and accumulation whatever
    the element types, and dynamic token counts. It favours clarity over
    speed; tiling and vectorization happen later.

    * `llm.embedding`: a gather (`linalg.generic` with `tensor.extract`). A
      quantized (GGUF block format) table is gathered as the rows' bytes
      (`qt.to_bytes`), viewed as `[T, D]` with `qt.from_bytes` and
      `qt.dequantize`d, so only the looked-up rows are dequantized.
    * `llm.rms_norm`: a sum-of-squares reduction, a per-row `1/sqrt(mean +
      epsilon)`, and a scaling by it and the weight.
    * `llm.rope`: a `[T, R/2]` table of cosines and sines (angles in f64,
      then rounded to f32), then one elementwise pass that reads each
      element's partner with `tensor.extract`.
    * `llm.attention`: query heads grouped per key/value head
      (`[T, Hkv, Hq/Hkv, D]`), one `[T, Hkv, Hq/Hkv, S]` score tensor
      (the only quadratic buffer, updated in place), the mask's visibility
      predicate, a max-subtracted softmax and a `P · V` reduction. With an
      `offset` operand, keys past `offset + T` (unwritten cache slots) are
      sliced off and never read. A query row that sees no key yields zeros,
      as the op states.
    * `llm.linear`, `llm.logits`, `llm.mlp`: leading dimensions are
      flattened; a float weight gives a `linalg.matmul` with the transposed-B
      map `(m, n, k) -> (n, k)`, a `!qt.tensor` weight a `qt.matmul`
      (lowered by `qt-lower-to-linalg`); bias, activation and the cast to
      the result type follow in one elementwise `linalg.generic`. GELU is the
      tanh approximation, as GGML computes it.
    * `llm.sample` stays as it is: the runtime samples.

    Ops the lowering cannot handle are reported before any rewriting: an
    embedding table quantized in a scheme without a byte layout per row
    (`#qt.grouped`), and `llm.rope` without a static rotary dimension.
  }];
  let dependentDialects = ["::mlir::linalg::LinalgDialect",
                           "::mlir::tensor::TensorDialect",
                           "::mlir::arith::ArithDialect",
                           "::mlir::math::MathDialect",
                           "::kvant::qt::QtDialect"];
}

def LowerAttentionToVectorPass : Pass<"llm-lower-attention-to-vector"> {
  let summary = "Lower llm.attention to vector loops over the keys with an "
                "online softmax";
  let description = [{
    The CPU lowering of `llm.attention`. The reference lowering
    (`convert-llm-to-linalg`) builds a `[T, Hkv, G, S]` score tensor and
    about eight loop nests (scores, mask, max, exponentials, sum, `P · V`,
    normalization), each a scalar loop whose reduction runs across rows of the
    cache. This one visits each (query position, key/value head) pair once
    and reads every key and value row it needs once, as vectors:

    ```
    scf.forall (t, g) in (T, Hkv)
      q_r = scale * query[t, g*G + r, :]                  r < G = Hq / Hkv
      scf.for j in [0, min(S, offset + t + 1))   m, l: vector<G>, acc_r
        s[r] = q_r · key[j, g, :]       (-inf where the mask hides key j)
        m' = max(m, s);  c = exp(m - m');  p = exp(s - m')
        l = l * c + p;   acc_r = acc_r * c[r] + p[r] * value[j, g, :]
      result[t, g*G + r, :] = acc_r / l[r]         (0 where l[r] = 0)
    ```

    Keys after the query are invisible under every mask, so the loop stops
    at the query's position: no mask is materialized and unwritten cache
    slots are never read. Other masks add their visibility predicate (the
    same as the reference lowering's) per key. The query heads sharing a
    key/value head are handled together, so grouped-query attention reads
    the cache once per key/value head. Arithmetic is f32 whatever the
    element types; the exponentials carry the `afn` fast-math flag, and
    `kvant-approximate-exp` (in the CPU pipeline) makes them the `math`
    dialect's polynomial approximation (accurate to a few ulp), so that they
    stay vectors.

    The op needs static head counts and head sizes; attention with dynamic
    ones is left for `convert-llm-to-linalg`.

    Example (decode against a cache, 4 query heads per key/value head):

    ```mlir
    %o = llm.attention #llm.causal %q, %k, %v offset(%pos)
        : tensor<1x32x64xf32>, tensor<512x4x64xf32>, tensor<512x4x64xf32>
        -> tensor<1x32x64xf32>
    ```

    becomes one `scf.forall` over `(1, 4)` whose body holds an `scf.for`
    over `min(512, %pos + 1)` keys carrying `vector<8xf32>` maxima and sums
    and eight `vector<64xf32>` accumulators.
  }];
  let dependentDialects = ["::mlir::arith::ArithDialect",
                           "::mlir::math::MathDialect",
                           "::mlir::scf::SCFDialect",
                           "::mlir::tensor::TensorDialect",
                           "::mlir::vector::VectorDialect"];
}

#endif // KVANT_PASSES_CONVERSION_PASSES_TD
