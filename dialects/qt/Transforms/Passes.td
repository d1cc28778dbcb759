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

def LowerToLinalgPass : Pass<"qt-lower-to-linalg"> {
  let summary = "Lower GGUF block formats to linalg on tensors (reference)";
  let description = [{
    Rewrites `qt.dequantize` and `qt.matmul` of `#qt.gguf` block formats
    into `linalg.generic` ops on tensors that read the weight's raw bytes
    through `qt.to_bytes` (which folds away against `qt.from_bytes` once the
    weights are bound to byte buffers).

    A block format is addressable with affine maps once the iteration space
    is split by block: over `(..., b, s...)`, with `b` the block and `s...`
    the element's position inside it, the bytes one element needs are
    `(row, b, offset + linear(s...))` of the bytes viewed as
    `[rows, blocks, blockBytes]`. Each such read is a slice of that view
    (reshaped so that `linear(s...)` becomes separate dimensions), so every
    indexing map is a projected permutation and the generic vectorizes with
    the upstream vectorizer. The body decodes one element (e.g. the f16
    scale from two bytes, a nibble selected through `linalg.index`).
    `qt.matmul` decodes each weight element inside its reduction over
    `(b, s...)` and accumulates in f32: the dequantized weight is never
    materialized. Leading dimensions of the activations may be dynamic.

    Supported: q8_0, q4_0, q4_1, q5_0, q5_1; a format is added by describing
    its block loops, byte reads and element decode. Any other scheme is
    reported as an error (`lowering of q4_k to linalg is not implemented
    yet`) and the pass fails.

    ```mlir
    %y = qt.matmul %x, %w : tensor<4x64xf32>, !qt.tensor<128x64, #qt.gguf<q8_0>>
        -> tensor<4x128xf32>
    // becomes, with the bytes of %w viewed as tensor<128x2x34xi8> and sliced
    // into %d0, %d1 : tensor<128x2xi8> (the f16 scale's bytes) and
    // %q : tensor<128x2x32xi8> (the quants), and %x viewed as tensor<4x2x32xf32>:
    %y = linalg.generic {
        indexing_maps = [affine_map<(m, n, b, j) -> (m, b, j)>,
                         affine_map<(m, n, b, j) -> (n, b)>,
                         affine_map<(m, n, b, j) -> (n, b)>,
                         affine_map<(m, n, b, j) -> (n, b, j)>,
                         affine_map<(m, n, b, j) -> (m, n)>],
        iterator_types = ["parallel", "parallel", "reduction", "reduction"]}
        ins(%xb, %d0, %d1, %q : ...) outs(%zeros : tensor<4x128xf32>) {...}
    ```
  }];
  let dependentDialects = ["::kvant::qt::QtDialect",
                           "::mlir::arith::ArithDialect",
                           "::mlir::linalg::LinalgDialect",
                           "::mlir::tensor::TensorDialect"];
}

#endif // KVANT_DIALECTS_QT_TRANSFORMS_PASSES_TD
