//===- Passes.td - qt transformation passes ----------------*- tablegen -*-===//

#ifndef KVANT_DIALECTS_QT_TRANSFORMS_PASSES_TD
#define KVANT_DIALECTS_QT_TRANSFORMS_PASSES_TD

include "mlir/Pass/PassBase.td"

def FuseDequantPass : Pass<"qt-fuse-dequant"> {
  let summary = "Fold dequantizations that feed matmuls into quantized matmuls";
  let description = [{
    A `qt.dequantize` whose result only feeds matrix products would
    materialize a full-precision copy of a weight. This pass rewrites each
    such product so that the weight stays quantized and is dequantized block
    by block inside the reduction by the lowering:

    * `linalg.matmul` whose right operand is `qt.dequantize %w` read
      transposed (indexing map `(m, n, k) -> (n, k)`), or
      `linalg.transpose` of `qt.dequantize %w`, becomes
      `qt.matmul %lhs, %w`, plus an `arith.addf` with the accumulator when
      that is not a zero fill;
    * `llm.linear`, `llm.logits`, `llm.mlp` and `llm.embedding` take the
      quantized weight directly, since their lowerings already fuse.

    Dequantizations left without users are erased.

    ```mlir
    %d = qt.dequantize %w : !qt.tensor<128x64, #qt.gguf<q8_0>> -> tensor<128x64xf32>
    %y = llm.linear %x, %d : tensor<4x64xf32>, tensor<128x64xf32> -> tensor<4x128xf32>
    // becomes
    %y = qt.matmul %x, %w : tensor<4x64xf32>, !qt.tensor<128x64, #qt.gguf<q8_0>> -> tensor<4x128xf32>
    ```
  }];
  let dependentDialects = ["::kvant::qt::QtDialect",
                           "::mlir::arith::ArithDialect"];
}

#endif // KVANT_DIALECTS_QT_TRANSFORMS_PASSES_TD
