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

    Supported: q8_0, q4_0, q4_1, q5_0, q5_1; the k-quants q2_k, q3_k, q4_k,
    q5_k, q6_k (256-element super-blocks, split into loops such that every
    byte an element needs, including its sub-block's packed scale, is again
    `offset + linear(s...)`); iq4_nl and mxfp4 (their 16 levels looked up in
    two packed i64 constants by shifts), tq2_0 and tq1_0 (ternary; tq1_0's
    base-3 digit index computed from `linalg.index`). A format is added by
    describing its block loops, byte reads and element decode. Any other
    scheme is reported as an error (`lowering of q8_k to linalg is not
    implemented yet`) and the pass fails.

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

def LowerMatmulToVectorPass : Pass<"qt-lower-matmul-to-vector"> {
  let summary = "Lower matmuls by [N, K] weights to vector GEMV loops";
  let description = [{
    Decode multiplies one activation row by every weight, so it runs at the
    speed weights are read. This pass rewrites, on tensors and before
    `qt-lower-to-linalg`, each `qt.matmul` whose weight is a GGUF block
    format with a vector decoder (q8_0, q4_0, q4_1, q5_0, q5_1, q4_k, q5_k,
    q6_k, q3_k, q2_k (with `int8-activations` only: its mins are per 16
    elements), tq1_0, tq2_0, iq4_nl, mxfp4; the last two look their levels
    up with
    `qt.lookup_i8`) and, with
    `float-weights`, each transposed-B `linalg.matmul` of float weights (the
    F32/F16/BF16 projections of `convert-llm-to-linalg`), into

    * an `scf.forall` over the weight's rows `n` (the loop that runs in
      parallel), holding
    * `scf.for`s over the rows `m` of the activations (any leading
      dimensions are flattened): tiles of 8 rows, then one of 4, that share
      each decoded weight block (prefill; against interleaved rows of
      unsigned quants, the tile meets the 8 rows' quants transposed by
      4-byte words, one `qt.dot_i8_sum` per activation row whose lane r is
      row r's dot), then the remaining rows one by one, holding
    * an `scf.for` over the row's blocks that decodes one block of 32 weights
      to a `vector<32xf32>` (`vector.transfer_read` of the block's bytes from
      `qt.to_bytes`, viewed `[N, blocks, blockBytes]`; shifts and masks for
      nibbles and high bits; the f16 scale broadcast) and adds its product
      with the matching slice of `x` into a vector accumulator with
      `vector.fma`;
    * one `vector.reduction <add>` per output element, inserted into column
      `n` of the result, which `tensor.parallel_insert_slice` writes back.

    The result is the same tensor, accumulated in f32 and bufferizable in
    place. A format is one function that decodes a block into groups of 32
    small integers with a scale (two for 16-element sub-blocks) and an
    optional min. Other formats are left to `qt-lower-to-linalg`.

    With `int8-activations`, the activations are first quantized per block
    of 32 as llama.cpp's q8_0 (d = amax / 127, roundeven; plus the blocks'
    sums for formats with a min), and each group's quants meet the
    activations' with `qt.dot_i8`, scaled by d_w * d_x: integer math where
    the f32 path converts every weight. `qt-lower-int8-ops` then picks the
    target's instructions.

    Weights with rows interleaved by 8 (`#qt.gguf<fmt, interleave = 8>`, from
    `qt-interleave-weights`; int8 activations only; any format whose groups
    have one scale: also q4_k, q5_k, tq1_0, tq2_0) are read as
    `[N / 8, blocks, 8, blockBytes]`: the `scf.forall` runs over groups of 8
    rows, and per block the 8 rows' `qt.dot_i8` results sum to the 8 lanes of
    one vector (a transposing tree of `vector.shuffle`s and adds), converted
    once and scaled by the rows' scales gathered into one vector, so each
    activation row has one accumulator whose lane r is weight row r.

    With `prefetch-distance` > 0, the block loop of a single activation row
    (decode) also emits a `qt.prefetch` per 64-byte line of each block, for
    the same block of the row (or group of 8 rows) that lies at least that
    many bytes ahead, clamped to the last row: a block's decode has enough
    arithmetic between its loads that the hardware prefetcher alone keeps
    too few lines in flight (measured on Zen 3, 2 threads, 32000x2048 from
    DRAM: Q4_K GEMV 17.5 to 21.5 GB/s with 4096 bytes, Q4_0 interleaved 18.8
    to 23.6, TQ2_0 18.3 to 19.7). Float weights are not prefetched: their
    loop is a plain stream that the hardware prefetcher keeps up with (F16
    GEMV 17.1 GB/s without, 16.7 with).

    ```mlir
    %y = qt.matmul %x, %w : tensor<1x64xf32>, !qt.tensor<128x64, #qt.gguf<q8_0>>
        -> tensor<1x128xf32>
    // becomes
    %y = scf.forall (%n) in (128) shared_outs(%out = %empty) -> (tensor<1x128xf32>) {
      %col = tensor.extract_slice %out[0, %n] [1, 1] [1, 1]
      %r = scf.for %m = %c0 to %c1 step %c1 iter_args(%c = %col) -> (tensor<1x1xf32>) {
        %acc = scf.for %b = %c0 to %c2 step %c1 iter_args(%a = %zeros) -> (vector<32xf32>) {
          %q = vector.transfer_read %view[%n, %b, %c2], %pad : tensor<128x2x34xi8>, vector<32xi8>
          ...
          %next = vector.fma %w, %xs, %a : vector<32xf32>
          scf.yield %next : vector<32xf32>
        }
        %s = vector.reduction <add>, %acc : vector<32xf32> into f32
        %u = tensor.insert %s into %c[%m, %c0] : tensor<1x1xf32>
        scf.yield %u : tensor<1x1xf32>
      }
      scf.forall.in_parallel {
        tensor.parallel_insert_slice %r into %out[0, %n] [1, 1] [1, 1]
      }
    }
    ```
  }];
  let options = [
    Option<"floatWeights", "float-weights", "bool", /*default=*/"true",
           "Also lower transposed-B linalg.matmul of float weights">,
    Option<"int8Activations", "int8-activations", "bool", /*default=*/"false",
           "Quantize the activations of block-format matmuls to int8 blocks "
           "of 32 (llama.cpp's q8_0) and multiply with qt.dot_i8">,
    Option<"prefetchDistance", "prefetch-distance", "int64_t",
           /*default=*/"4096",
           "Bytes ahead in the weight that decode's block loops prefetch "
           "(0: none)">,
  ];
  let dependentDialects = ["::kvant::qt::QtDialect",
                           "::mlir::math::MathDialect",
                           "::mlir::arith::ArithDialect",
                           "::mlir::scf::SCFDialect",
                           "::mlir::tensor::TensorDialect",
                           "::mlir::vector::VectorDialect"];
}

def OutlineMatmulsPass : Pass<"qt-outline-matmuls", "::mlir::ModuleOp"> {
  let summary = "Call one function per distinct block-format matmul";
  let description = [{
    Replaces each `qt.matmul` by a static block-format matrix with a call to
    a private function that holds the matmul alone, one function per
    signature (activation, weight and result types): the weight's bytes
    (`qt.to_bytes`) are its second argument. The layers of a model repeat a
    few matmul shapes, so the GEMV and GEMM code that
    `qt-lower-matmul-to-vector` generates exists once per shape instead of
    once per layer (TinyLlama-1.1B: 154 matmuls, 5 functions), and so does
    the time to compile it. The result is written into a destination that
    the caller passes (a `tensor.empty` of the result's shape; the CPU
    pipeline then runs `eliminate-empty-tensors` so that the GEMV writes
    into the caller's buffer, and `drop-equivalent-buffer-results`), so the
    caller owns it and frees it after its last use
    (`kvant-dealloc-after-last-use`). Each call quantizes its activations
    itself: matmuls of one activation, like q/k/v, no longer share that
    work.

    Not in the default CPU pipeline: `kvant-compile --outline-matmuls` (or
    the `kvant-cpu-pipeline` option `outline-matmuls`) adds it. Measured on
    TinyLlama-1.1B (Zen 5, 2 threads, A/B against the inline artifact):
    compile Q4_0 86 s to 18 s and Q4_K 224 s to 17 s; decode unchanged;
    prefill Q4_0 -8 % (242 against 223 tok/s), Q4_K -5 % (203 against
    194).

    ```mlir
    %y = qt.matmul %x, %w : tensor<?x2048xf32>,
        !qt.tensor<2048x2048, #qt.gguf<q4_0, interleave = 8>> -> tensor<?x2048xf32>
    // becomes
    %b = qt.to_bytes %w : !qt.tensor<2048x2048, #qt.gguf<q4_0, interleave = 8>>
        -> tensor<2048x1152xi8>
    %e = tensor.empty(%m) : tensor<?x2048xf32>
    %y = call @qt_matmul_q4_0_i8_2048x2048(%x, %b, %e)
        : (tensor<?x2048xf32>, tensor<2048x1152xi8>, tensor<?x2048xf32>)
        -> tensor<?x2048xf32>
    ```
  }];
  let dependentDialects = ["::kvant::qt::QtDialect",
                           "::mlir::bufferization::BufferizationDialect",
                           "::mlir::func::FuncDialect",
                           "::mlir::LLVM::LLVMDialect",
                           "::mlir::tensor::TensorDialect"];
}

def InterleaveWeightsPass : Pass<"qt-interleave-weights", "::mlir::ModuleOp"> {
  let summary = "Give matmul weights a compute layout of interleaved rows";
  let description = [{
    A GEMV over a weight in the file's layout reads one stream per row and
    sums each row across the lanes of its own register. This pass gives each
    named `qt.weight` that only `qt.matmul`s read (as their weight), in a
    format of 32-element blocks with one scale (q8_0, q4_0, q4_1, q5_0,
    q5_1, iq4_nl, mxfp4) or tq2_0 (the other super-block formats decode
    slower so)
    and with a row count that `rows` divides, the layout `#qt.gguf<format, interleave = rows>`: the
    blocks of `rows` consecutive rows stored together, so that
    `qt-lower-matmul-to-vector` reads them as one stream and accumulates
    the rows in the lanes of one register (it reads `rows = 8`, with int8
    activations). `kvant-bind-abi` then records the layout in the
    descriptor and emits the repack entry point that the runtime calls at
    load. Weights read by anything else (an embedding lookup, a
    dequantization) keep the file's layout.

    ```mlir
    %w = qt.weight "blk.0.ffn_up.weight" : !qt.tensor<5632x2048, #qt.gguf<q4_0>>
    %y = qt.matmul %x, %w : tensor<1x2048xf32>, !qt.tensor<5632x2048, #qt.gguf<q4_0>>
        -> tensor<1x5632xf32>
    // becomes
    %w = qt.weight "blk.0.ffn_up.weight"
        : !qt.tensor<5632x2048, #qt.gguf<q4_0, interleave = 8>>
    %y = qt.matmul %x, %w : tensor<1x2048xf32>,
        !qt.tensor<5632x2048, #qt.gguf<q4_0, interleave = 8>> -> tensor<1x5632xf32>
    ```
  }];
  let options = [
    Option<"rows", "rows", "int64_t", /*default=*/"8",
           "Rows whose blocks are stored together (1 leaves every weight in "
           "the file's layout)">,
  ];
  let dependentDialects = ["::kvant::qt::QtDialect"];
}

def LowerInt8OpsPass : Pass<"qt-lower-int8-ops"> {
  let summary = "Lower qt.dot_i8 and qt.lookup_i8 for a target";
  let description = [{
    Rewrites each `qt.dot_i8` and `qt.lookup_i8` into the target's
    instructions. Runs after bufferization (the x86 forms are LLVM intrinsic
    calls, which bufferization's analyses cannot see through). `qt.lookup_i8`
    becomes a chain of compares and selects, or on AVX2 one `vpshufb`.
    `qt.dot_i8`:

    * `generic`: sign-extends both operands to i32, multiplies, and sums the
      runs of four products with strided `vector.shuffle`s and adds.
    * `avx2` (vector<32xi8> -> vector<8xi32> only; other shapes take the
      generic form): llama.cpp's sequence, `|lhs|` times `sign(rhs, lhs)` as
      unsigned-by-signed byte pairs (`vpmaddubsw`; |lhs| <= 128 and
      |rhs| <= 127 cannot saturate) summed to i32 pairs with `vpmaddwd` by
      ones, as `llvm.call_intrinsic`s.

    * `avx2-vnni` (AVX-VNNI, or AVX512-VNNI with AVX512-VL): an unscaled
      dot is one `vpdpbusd` (`llvm.x86.avx512.vpdpbusd.256`; the sign trick
      as on AVX2 for a signed lhs), accumulating onto the other operand of
      an `arith.addi` that is its only use; scaled dots take the AVX2 form
      (LLVM fuses its `vpmaddwd` by the scales and the add after it into
      `vpdpwssd`).

    `qt.dot_i8_sum` on AVX2 adds the `vpmaddubsw` pair sums as i16 while
    `lhs_max` proves they fit, then widens them with one `vpmaddwd`. Its
    bit-field operands `(v >> c) & m` are read as `(v >> (c - c % 4)) &
    (m << c % 4)`, and the pair sums of each such scale are shifted back
    once (exact): TQ2_0's four 2-bit planes then cost two byte shifts
    instead of six. On `avx2-vnni` its pairs chain through `vpdpbusd` into
    one i32 accumulator per such scale.

    ```mlir
    %d = qt.dot_i8 %w, %x : vector<32xi8> -> vector<8xi32>
    // with target=avx2 becomes
    %abs = math.absi %w : vector<32xi8>
    %sx = llvm.call_intrinsic "llvm.x86.avx2.psign.b"(%x, %w) : ...
    %p = llvm.call_intrinsic "llvm.x86.avx2.pmadd.ub.sw"(%abs, %sx) : ...
    %d = llvm.call_intrinsic "llvm.x86.avx2.pmadd.wd"(%p, %ones) : ...
    ```
  }];
  let options = [
    Option<"target", "target", "std::string", /*default=*/"\"generic\"",
           "generic, avx2 or avx2-vnni">,
  ];
  let dependentDialects = ["::mlir::LLVM::LLVMDialect",
                           "::mlir::arith::ArithDialect",
                           "::mlir::math::MathDialect",
                           "::mlir::vector::VectorDialect"];
}

#endif // KVANT_DIALECTS_QT_TRANSFORMS_PASSES_TD
