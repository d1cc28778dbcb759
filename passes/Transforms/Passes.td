//===- Passes.td - kvant-level transformation passes -------*- tablegen -*-===//

#ifndef KVANT_PASSES_TRANSFORMS_PASSES_TD
#define KVANT_PASSES_TRANSFORMS_PASSES_TD

include "mlir/Pass/PassBase.td"

def BindABIPass : Pass<"kvant-bind-abi", "::mlir::ModuleOp"> {
  let summary = "Give the model's entry point the artifact's C ABI";
  let description = [{
    Rewrites the entry function, after `kv-lower-to-tensor`,

    ```mlir
    func.func @forward(%tokens: tensor<?xi32>, %pos: index, %cache: tensor<Lx2xCxHxDxf32>)
        -> (tensor<?xVxf32>, tensor<Lx2xCxHxDxf32>)
    ```

    into the artifact's entry point, whose arguments are all buffers the
    runtime owns:

    ```mlir
    func.func @forward(%weights: memref<?xi8>, %offsets: memref<?xi64>,
                       %tokens: memref<?xi32>, %pos: index,
                       %cache: memref<Lx2xCxHxDxf32>, %logits: memref<?xVxf32>)
        attributes {llvm.emit_c_interface}
    ```

    Every distinct `qt.weight` gets an index in the weight table: its bytes
    start at `weights + offsets[index]`, viewed with `memref.view` as the
    float tensor it is, or as the `[N, rowBytes]` i8 storage of a block
    format wrapped in `qt.from_bytes`. The cache is updated in place and the
    logits are materialized into `%logits`. The module gets the constant
    `kvant_descriptor` (lib/Artifact/Descriptor.h), which lists the entry, the
    hyperparameters, the cache geometry and the weights in table order, so
    the runtime can check a GGUF file against the artifact before running it.

    Weights whose type has interleaved rows (`qt-interleave-weights`) are
    read in that compute layout, which the file does not store: the pass
    then also emits `@<entry>_repack(%src: memref<?xi8>, %dst: memref<?xi8>,
    %offsets: memref<?xi64>)`, which rearranges each such weight's blocks
    from the file's bytes into `dst` at the same offset, and names it in the
    descriptor (`repack`), with each weight's layout (`file` or
    `interleave8`). The runtime calls it once at load.
  }];
  let options = [
    Option<"entry", "entry", "std::string", /*default=*/"\"forward\"",
           "Name of the model's entry function">,
    Option<"target", "target", "std::string", /*default=*/"\"cpu\"",
           "Target recorded in the descriptor">,
  ];
  let dependentDialects = ["::mlir::memref::MemRefDialect",
                           "::mlir::bufferization::BufferizationDialect",
                           "::mlir::arith::ArithDialect",
                           "::mlir::LLVM::LLVMDialect",
                           "::mlir::scf::SCFDialect",
                           "::mlir::vector::VectorDialect",
                           "::kvant::qt::QtDialect"];
}

def MemRefCopyToLinalgPass : Pass<"kvant-memref-copy-to-linalg"> {
  let summary = "Turn memref.copy into linalg.copy";
  let description = [{
    `finalize-memref-to-llvm` lowers a `memref.copy` it cannot prove
    contiguous (a strided subview, such as a slab of the KV cache) to a call
    of `memrefCopy` from MLIR's C runner utilities. Compiled models must not
    need MLIR's libraries at run time, so copies become `linalg.copy` and
    then loops like every other linalg op.
  }];
  let dependentDialects = ["::mlir::linalg::LinalgDialect"];
}

def DeallocAfterLastUsePass : Pass<"kvant-dealloc-after-last-use"> {
  let summary = "Free each buffer right after its last use in its block";
  let description = [{
    `buffer-deallocation-pipeline` frees each buffer at the end of the block
    that allocates it. In a model's forward function that is the end of the
    forward: all layers' intermediates stay allocated until then, and each
    takes fresh pages from the kernel. This pass moves each unconditional
    `memref.dealloc` of a `memref.alloc` of the same block to just after the
    last op of that block that uses the buffer, directly, inside a region
    (a parallel loop), or through a view of it (`memref.subview`,
    `expand_shape`, `collapse_shape`, `cast`, `view`,
    `extract_strided_metadata`, ...). A buffer that may be reached another
    way (an op that derives a memref from it and is not a view, a pointer
    taken as an integer, a terminator that yields or returns it, a call
    other than to a private function of the module that has a body and
    returns no memref, such as the matmuls of `qt-outline-matmuls`) keeps
    its dealloc where it is.

    ```mlir
    %a = memref.alloc(%n) : memref<?xf32>
    linalg.fill ins(%zero : f32) outs(%a : memref<?xf32>)
    linalg.copy ins(%a : memref<?xf32>) outs(%out : memref<?xf32>)
    // ... the rest of the function ...
    memref.dealloc %a : memref<?xf32>
    // becomes: memref.dealloc %a right after the linalg.copy
    ```

    Measured on TinyLlama-1.1B Q4_0 (64-token prompt): see bench/README.md.
  }];
}

def ApproximateExpPass : Pass<"kvant-approximate-exp"> {
  let summary = "Compute f32 math.exp allowed to be approximate as a polynomial";
  let description = [{
    Replaces every `math.exp` on f32 (scalar or vector) that carries the
    `afn` fast-math flag (approximate functions allowed) with MLIR's
    polynomial approximation: range reduction to 2^k * exp(r), a polynomial
    in r, and the exponent bits, all in vector registers. Without it, LLVM
    computes a vector `math.exp` as one libm `expf` call per lane (and
    vectorizes no loop that calls it). `convert-llm-to-linalg` marks the
    exponential of SiLU this way: 5632 calls per layer and token in
    TinyLlama's MLP, on the calling thread. Exponentials without the flag
    (rope's frequencies, whose errors grow with the position) stay libm
    calls.

    ```mlir
    %e = math.exp %x fastmath<afn> : vector<8xf32>
    ```

    becomes arithmetic on `vector<8xf32>` and `vector<8xi32>` (`arith.mulf`,
    `math.fma`, `arith.bitcast`, ...), with no `math.exp`.
  }];
  let dependentDialects = ["::mlir::arith::ArithDialect",
                           "::mlir::math::MathDialect",
                           "::mlir::vector::VectorDialect"];
}

def ParallelThresholdPass : Pass<"kvant-parallel-threshold"> {
  let summary = "Give parallel loops with little work a serial version";
  let description = [{
    Before `convert-scf-to-openmp`, every parallel loop of every op is an
    `scf.parallel`, and would become an OpenMP region: a fork and a join of
    the thread team (a few microseconds on a shared 2-core machine), even
    when a decode step's op has one token's worth of work (an RMS norm over
    2048 values, one row of activations to quantize) that takes less time
    than the fork. Even a region the OpenMP runtime runs on the calling
    thread (an `if` clause that is false) enters the runtime three times.

    This pass versions each outermost `scf.parallel`: the loop's trip count
    times a static estimate of its body's work is compared with `min-work`;
    at or above it the loop stays parallel, below it a copy of the loop runs
    as nested `scf.for` loops (inner parallel loops included) and never
    enters the runtime. When the trip counts are constants the choice is
    made here, with no `scf.if`. The estimate counts the operations of the
    loop body, multiplying those in nested `scf.for` loops by their trip
    count when constant and by `dynamic-trips` when not; it is a unit of
    roughly one instruction.

    Loops with reductions or results are left alone.

    ```mlir
    scf.parallel (%i) = (%c0) to (%n) step (%c1) { ... }
    ```

    becomes, with `%worth = (%n - %c0) * W >= min-work` computed before it,

    ```mlir
    scf.if %worth {
      scf.parallel (%i) = (%c0) to (%n) step (%c1) { ... }
    } else {
      scf.for %i = %c0 to %n step %c1 { ... }
    }
    ```
  }];
  let options = [
    Option<"minWork", "min-work", "int64_t", /*default=*/"32768",
           "Estimated work (operations executed) below which a loop runs "
           "serially on the calling thread">,
    Option<"dynamicTrips", "dynamic-trips", "int64_t", /*default=*/"256",
           "Trip count assumed for nested loops with dynamic bounds">,
  ];
  let dependentDialects = ["::mlir::arith::ArithDialect",
                           "::mlir::scf::SCFDialect"];
}

def OpenMPSchedulePass : Pass<"kvant-omp-schedule"> {
  let summary = "Choose the schedule of OpenMP work-sharing loops";
  let description = [{
    Sets the schedule of every `omp.wsloop` that has none (static, OpenMP's
    default). `dynamic` is how parallel CPU artifacts balance their loops:
    their thread team (lib/Artifact/ThreadTeam.c) gives each thread its
    static share first, in chunks, and lets a thread that finishes early take
    chunks from the others' shares, which keeps each thread streaming its own
    weight rows in order and absorbs a core that runs slower for a while.

    ```mlir
    omp.wsloop {
      omp.loop_nest (%i) : index = (%c0) to (%n) step (%c1) { ... }
    }
    ```

    becomes, with `kind=dynamic`,

    ```mlir
    omp.wsloop schedule(dynamic) {
      omp.loop_nest (%i) : index = (%c0) to (%n) step (%c1) { ... }
    }
    ```
  }];
  let options = [
    Option<"kind", "kind", "std::string", /*default=*/"\"dynamic\"",
           "static or dynamic">,
  ];
  let dependentDialects = ["::mlir::omp::OpenMPDialect"];
}

#endif // KVANT_PASSES_TRANSFORMS_PASSES_TD
