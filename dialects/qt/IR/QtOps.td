//===- QtOps.td - qt operations ----------------------------*- tablegen -*-===//

#ifndef KVANT_DIALECTS_QT_IR_QTOPS_TD
#define KVANT_DIALECTS_QT_IR_QTOPS_TD

include "dialects/qt/IR/QtTypes.td"
include "mlir/Interfaces/SideEffectInterfaces.td"

def Qt_AnyQTensor : Type<CPred<"::llvm::isa<::kvant::qt::QuantizedTensorType>($_self)">,
                         "quantized tensor", "::kvant::qt::QuantizedTensorType">;

def Qt_WeightOp : Qt_Op<"weight", [Pure]> {
  let summary = "A named model weight, referenced rather than inlined";
  let description = [{
    Produces a weight tensor that lives outside the IR: `name` is the
    tensor's name in the weight file (the GGUF tensor name) and `offset` its
    byte offset in the file's data section, when known at import time. The
    result is a `!qt.tensor` for quantized weights or a builtin tensor for
    F32/F16/BF16 ones. Compiled code receives the bytes through the weight
    table that the runtime fills, so the module stays small whatever the
    model's size.

    ```mlir
    %wq = qt.weight "blk.0.attn_q.weight" at 1048576
        : !qt.tensor<2048x2048, #qt.gguf<q8_0>>
    %norm = qt.weight "blk.0.attn_norm.weight" : tensor<2048xf32>
    ```
  }];
  let arguments = (ins StrAttr:$name, OptionalAttr<I64Attr>:$offset);
  let results = (outs AnyTypeOf<[Qt_AnyQTensor, AnyRankedTensor]>:$result);
  let assemblyFormat = "$name (`at` $offset^)? attr-dict `:` qualified(type($result))";
  let hasVerifier = 1;
}

def Qt_QuantizeOp : Qt_Op<"quantize", [Pure]> {
  let summary = "Quantize a float tensor into a scheme";
  let description = [{
    Computes scales (and zero points for asymmetric schemes) per block from
    the block's values and stores the values in the scheme.

    ```mlir
    %q = qt.quantize %x : tensor<4x64xf32>
        -> !qt.tensor<4x64, #qt.grouped<i8, group = 32, scale = f32>>
    ```
  }];
  let arguments = (ins AnyRankedTensor:$input);
  let results = (outs Qt_AnyQTensor:$result);
  let assemblyFormat = "$input attr-dict `:` qualified(type($input)) `->` qualified(type($result))";
  let hasVerifier = 1;
}

def Qt_DequantizeOp : Qt_Op<"dequantize", [Pure]> {
  let summary = "Expand a quantized tensor to floats";
  let description = [{
    The reference semantics of a scheme. `qt-fuse-dequant` folds a
    dequantization that feeds a matmul into `qt.matmul`, so full-precision
    copies of weights are never materialized.

    ```mlir
    %w = qt.dequantize %q : !qt.tensor<64x128, #qt.gguf<q4_0>> -> tensor<64x128xf32>
    ```
  }];
  let arguments = (ins Qt_AnyQTensor:$input);
  let results = (outs AnyRankedTensor:$result);
  let assemblyFormat = "$input attr-dict `:` qualified(type($input)) `->` qualified(type($result))";
  let hasVerifier = 1;
}

def Qt_AssembleOp : Qt_Op<"assemble", [Pure]> {
  let summary = "Build a group-wise quantized tensor from values, scales, zeros";
  let description = [{
    Wraps already-quantized storage values with their per-group scales (and
    zero points for asymmetric schemes) into a `!qt.tensor` of a
    `#qt.grouped` scheme. For a tensor of shape `[..., K]` with groups of
    `G`, `values` has shape `[..., K]` and the storage element type, and
    `scales`/`zeros` have shape `[..., K/G]`.

    ```mlir
    %q = qt.assemble values(%v : tensor<8x64xi4>) scales(%s : tensor<8x2xf16>)
        zeros(%z : tensor<8x2xi8>)
        : !qt.tensor<8x64, #qt.grouped<i4, group = 32, scale = f16, zero = i8>>
    ```
  }];
  let arguments = (ins AnyRankedTensor:$values, AnyRankedTensor:$scales,
                       Optional<AnyRankedTensor>:$zeros);
  let results = (outs Qt_AnyQTensor:$result);
  let assemblyFormat = [{
    `values` `(` $values `:` type($values) `)`
    `scales` `(` $scales `:` type($scales) `)`
    (`zeros` `(` $zeros^ `:` type($zeros) `)`)?
    attr-dict `:` qualified(type($result))
  }];
  let hasVerifier = 1;
}

def Qt_MatmulOp : Qt_Op<"matmul", [Pure]> {
  let summary = "Matmul with a right operand that stays quantized";
  let description = [{
    `result[..., n] = sum_k lhs[..., k] * dequant(weight)[n, k]`: the weight
    is `N x K` (rows are output features, as GGUF stores them) and is
    dequantized block by block inside the reduction by the lowering, never as
    a whole. `lhs` has any leading dimensions and `K` innermost.

    ```mlir
    %y = qt.matmul %x, %w : tensor<4x2048xf32>, !qt.tensor<5632x2048, #qt.gguf<q8_0>>
        -> tensor<4x5632xf32>
    ```
  }];
  let arguments = (ins AnyRankedTensor:$lhs, Qt_AnyQTensor:$weight);
  let results = (outs AnyRankedTensor:$result);
  let assemblyFormat = [{
    $lhs `,` $weight attr-dict `:` type($lhs) `,` qualified(type($weight)) `->` qualified(type($result))
  }];
  let hasVerifier = 1;
}

def Qt_PackOp : Qt_Op<"pack", [Pure]> {
  let summary = "Pack sub-byte integers into bytes along the innermost axis";
  let description = [{
    Packs `8 / w` consecutive `w`-bit integers (w = 1, 2 or 4) into one i8,
    lowest element in the lowest bits, along the innermost dimension.

    ```mlir
    %b = qt.pack %v : tensor<4x64xi4> -> tensor<4x32xi8>
    ```
  }];
  let arguments = (ins AnyRankedTensor:$input);
  let results = (outs AnyRankedTensor:$result);
  let assemblyFormat = "$input attr-dict `:` qualified(type($input)) `->` qualified(type($result))";
  let hasVerifier = 1;
  let hasFolder = 1;
}

def Qt_UnpackOp : Qt_Op<"unpack", [Pure]> {
  let summary = "Unpack bytes into sub-byte integers along the innermost axis";
  let description = [{
    The inverse of `qt.pack`: each i8 yields `8 / w` integers of `w` bits.

    ```mlir
    %v = qt.unpack %b : tensor<4x32xi8> -> tensor<4x64xi4>
    ```
  }];
  let arguments = (ins AnyRankedTensor:$input);
  let results = (outs AnyRankedTensor:$result);
  let assemblyFormat = "$input attr-dict `:` qualified(type($input)) `->` qualified(type($result))";
  let hasVerifier = 1;
  let hasFolder = 1;
}


def Qt_FromBytesOp : Qt_Op<"from_bytes", [Pure]> {
  let summary = "View raw bytes as a quantized tensor of a block format";
  let description = [{
    Interprets a byte tensor as the storage of a `!qt.tensor` whose scheme
    has a fixed byte layout per block (the GGUF formats): the byte tensor has
    the quantized tensor's outer dimensions and one innermost dimension of
    `K / blockSize * blockBytes` bytes per row. This is how weights bound to
    the runtime's weight table enter the tensor world, and what lowerings of
    `qt.matmul` read through `qt.to_bytes`.

    ```mlir
    %w = qt.from_bytes %b : tensor<128x68xi8> -> !qt.tensor<128x64, #qt.gguf<q8_0>>
    ```
  }];
  let arguments = (ins AnyRankedTensor:$input);
  let results = (outs Qt_AnyQTensor:$result);
  let assemblyFormat = "$input attr-dict `:` qualified(type($input)) `->` qualified(type($result))";
  let hasVerifier = 1;
  let hasFolder = 1;
}

def Qt_ToBytesOp : Qt_Op<"to_bytes", [Pure]> {
  let summary = "The raw bytes of a quantized tensor of a block format";
  let description = [{
    The inverse of `qt.from_bytes`: the storage of a `!qt.tensor` whose
    scheme is a GGUF block format, as `[outer dims..., rowBytes]` i8.

    ```mlir
    %b = qt.to_bytes %w : !qt.tensor<128x64, #qt.gguf<q8_0>> -> tensor<128x68xi8>
    ```
  }];
  let arguments = (ins Qt_AnyQTensor:$input);
  let results = (outs AnyRankedTensor:$result);
  let assemblyFormat = "$input attr-dict `:` qualified(type($input)) `->` qualified(type($result))";
  let hasVerifier = 1;
  let hasFolder = 1;
}

def Qt_PrefetchOp : Qt_Op<"prefetch"> {
  let summary = "Hint that bytes of a tensor will be read soon";
  let description = [{
    Asks the memory system to start loading the cache line that holds the
    element of `source` at `indices`, which a later read needs; the result
    of the program does not depend on it. Decode streams every weight byte
    once per token, and a weight row's blocks are decoded with enough
    arithmetic between loads that the core's own hardware prefetcher keeps
    fewer lines in flight than the memory system can serve: the GEMV loops of
    `qt-lower-matmul-to-vector` ask for the blocks a few rows ahead
    (`prefetch-distance`). The indices must be within the tensor's bounds.

    It has no results and is not removed as dead code. Bufferization turns
    it into `memref.prefetch` (a read, into all cache levels) on the
    tensor's buffer; it does not write the tensor.

    ```mlir
    qt.prefetch %bytes[%row, %block, %c0] : tensor<2048x8x66xi8>
    ```
  }];
  let arguments = (ins AnyRankedTensor:$source, Variadic<Index>:$indices);
  let assemblyFormat = "$source `[` $indices `]` attr-dict `:` type($source)";
  let hasVerifier = 1;
}

def Qt_DotI8Op : Qt_Op<"dot_i8", [Pure, AllTypesMatch<["lhs", "rhs"]>,
                                  AttrSizedOperandSegments]> {
  let summary = "Dot products of int8 vectors, four lanes per result lane";
  let description = [{
    Multiplies two vectors of signed 8-bit integers lane by lane and sums
    each run of four consecutive products into one i32: result lane `j` is
    `sum_{r < 4} lhs[4j + r] * rhs[4j + r]`, exactly (no saturation). This
    is the integer core of a block-quantized dot product (weights' quants
    times activations' quants); the scales are applied to the result.

    `lhs` must not hold -128 together with `rhs` holding -128 in the same
    lane (quantized activations are within [-127, 127]), which lets targets
    use unsigned-by-signed byte instructions. With `unsigned_lhs`, `lhs`
    holds unsigned values in [0, 128] (4- to 6-bit quants before their
    offset), which such instructions take as they are. With `scale` (an
    integer in [-32768, 32767], e.g. a k-quant's 6-bit sub-block scale),
    every result lane is multiplied by it: targets fold it into the step
    that sums pairs (`vpmaddwd` by the scale instead of by ones). With
    `scale_high` too (same range), the upper half of the result lanes (the
    products of the upper half of the inputs) is multiplied by it instead:
    Q6_K's scales per 16 elements, one pair per 32-element group.
    `qt-lower-int8-ops` lowers it for a target: portable vector arithmetic,
    or x86 AVX2 `vpmaddubsw`/`vpmaddwd`.

    ```mlir
    %d = qt.dot_i8 %w, %x : vector<32xi8> -> vector<8xi32>
    %u = qt.dot_i8 %q, %x {unsigned_lhs} : vector<32xi8> -> vector<8xi32>
    %s = qt.dot_i8 %q, %x scale %sc {unsigned_lhs} : vector<32xi8> -> vector<8xi32>
    %h = qt.dot_i8 %q, %x scale %lo high %hi {unsigned_lhs} : vector<32xi8> -> vector<8xi32>
    ```
  }];
  let arguments = (ins VectorOfRankAndType<[1], [I8]>:$lhs,
                       VectorOfRankAndType<[1], [I8]>:$rhs,
                       Optional<I32>:$scale,
                       Optional<I32>:$scale_high,
                       UnitAttr:$unsigned_lhs);
  let results = (outs VectorOfRankAndType<[1], [I32]>:$result);
  let assemblyFormat = [{
    $lhs `,` $rhs (`scale` $scale^)? (`high` $scale_high^)? attr-dict `:`
    type($lhs) `->` type($result)
  }];
  let hasVerifier = 1;
}

def Qt_DotI8SumOp : Qt_Op<"dot_i8_sum", [Pure, SameVariadicOperandSize]> {
  let summary = "Sum of int8 dot products whose small unsigned lhs bound is known";
  let description = [{
    `qt.dot_i8` of each (`lhs[i]`, `rhs[i]`) pair, summed: result lane `j` is
    `sum_i sum_{r < 4} lhs[i][4j + r] * rhs[i][4j + r]`, exactly. Every `lhs`
    holds unsigned values in [0, `lhs_max`] and every `rhs` values in
    [-127, 127], so the bound of a partial sum is known: targets may add the
    16-bit pair sums of several products before widening them (on AVX2,
    `vpaddw` of `vpmaddubsw` results and one `vpmaddwd` per run of pairs
    that cannot overflow 16 bits, as llama.cpp does for its ternary
    formats) instead of widening every pair. `qt-lower-matmul-to-vector`
    emits it for the groups of a block that share one scale and have small
    quants (TQ2_0: `lhs_max = 3`, TQ1_0: 2).

    ```mlir
    %s = qt.dot_i8_sum %q0, %q1 x %x0, %x1 {lhs_max = 3}
        : (vector<32xi8>, vector<32xi8>) x (vector<32xi8>, vector<32xi8>)
        -> vector<8xi32>
    ```
  }];
  let arguments = (ins Variadic<VectorOfRankAndType<[1], [I8]>>:$lhs,
                       Variadic<VectorOfRankAndType<[1], [I8]>>:$rhs,
                       ConfinedAttr<I64Attr, [IntMinValue<0>, IntMaxValue<128>]>:$lhs_max);
  let results = (outs VectorOfRankAndType<[1], [I32]>:$result);
  let assemblyFormat = [{
    $lhs `x` $rhs attr-dict `:` `(` type($lhs) `)` `x` ` ` `(` type($rhs) `)`
        `->` type($result)
  }];
  let hasVerifier = 1;
}

def Qt_LookupI8Op : Qt_Op<"lookup_i8", [Pure, AllTypesMatch<["indices", "result"]>]> {
  let summary = "Look up int8 vector lanes in a 16-entry table";
  let description = [{
    Result lane `i` is `table[indices[i]]`, for indices in [0, 16): the
    levels of non-uniform 4-bit formats (IQ4_NL's, MXFP4's e2m1 values)
    looked up from their nibbles. `qt-lower-int8-ops` lowers it for a
    target: a chain of compares and selects, or x86 AVX2 `vpshufb`.

    ```mlir
    %q = qt.lookup_i8 %nibbles [-127, -104, -83, -65, -49, -35, -22, -10,
                                1, 13, 25, 38, 53, 69, 89, 113] : vector<32xi8>
    ```
  }];
  let arguments = (ins VectorOfRankAndType<[1], [I8]>:$indices,
                       DenseI8ArrayAttr:$table);
  let results = (outs VectorOfRankAndType<[1], [I8]>:$result);
  let assemblyFormat = "$indices $table attr-dict `:` type($indices)";
  let hasVerifier = 1;
}

#endif // KVANT_DIALECTS_QT_IR_QTOPS_TD
