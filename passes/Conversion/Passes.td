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

#endif // KVANT_PASSES_CONVERSION_PASSES_TD
