//===- Passes.td - kv transformation passes ----------------*- tablegen -*-===//

#ifndef KVANT_DIALECTS_KV_TRANSFORMS_PASSES_TD
#define KVANT_DIALECTS_KV_TRANSFORMS_PASSES_TD

include "mlir/Pass/PassBase.td"

def LowerToTensorPass : Pass<"kv-lower-to-tensor", "::mlir::ModuleOp"> {
  let summary = "Lower KV cache values to tensors updated in place";
  let description = [{
    A float `!kv.cache<layers = L, heads = H, head_dim = D, ..., capacity = C,
    T>` becomes `tensor<L x 2 x C x H x D x T>` (index 1 selects keys or
    values), everywhere: function signatures, calls and returns included.
    `kv.append` becomes two `tensor.insert_slice`s at the position,
    `kv.read` two rank-reducing `tensor.extract_slice`s of the first `length`
    positions, `kv.rollback` the unchanged tensor (the length lives outside
    the cache) and `kv.empty` a `tensor.empty`. Since every read comes after
    the appends it depends on, one-shot bufferization updates a cache passed
    into a function in place.

    Quantized caches and `kv.evict`/`kv.quantize` are not lowered yet: the
    pass reports them as errors rather than producing wrong code.

    ```mlir
    %c1 = kv.append %k, %v into %c layer 0 at %pos : tensor<?x2x16xf32> into !cache
    // becomes
    %0 = tensor.insert_slice %k into %c[0, 0, %pos, 0, 0] [1, 1, %n, 2, 16] [1, 1, 1, 1, 1]
    %1 = tensor.insert_slice %v into %0[0, 1, %pos, 0, 0] [1, 1, %n, 2, 16] [1, 1, 1, 1, 1]
    ```
  }];
  let dependentDialects = ["::mlir::tensor::TensorDialect",
                           "::mlir::arith::ArithDialect"];
}

#endif // KVANT_DIALECTS_KV_TRANSFORMS_PASSES_TD
