//===- LowerMatmulToVector.cpp - matmuls by [N, K] weights as vector GEMVs ===//
//
// Decode (M = 1) streams every weight once per token, so its matmuls run at
// the speed the weight bytes are read. The reference lowering visits one
// element at a time; this one reads a weight row a block at a time:
//
//   scf.forall n in [0, N)                      (the parallel loop)
//     scf.for m in [0, M)
//       scf.for b in [0, K / B)  acc: vector<B x f32>
//         w = decode(row n, block b)            vector<B x f32>
//         acc = fma(w, x[m, b*B : B], acc)
//       y[m, n] = reduce_add(acc) (+ init[m, n])
//
// all on tensors, so that it bufferizes in place like any tiled op. A weight
// format is one function decoding a block of a row to a vector of f32; the
// block geometry comes from the scheme (GGUFSchemeAttr). Formats whose
// weights are `q * d` (q8_0, q4_0, q5_0) leave d out of the decode: the
// block's dot product with x is a chain of 8-wide fmas, scaled once into an
// 8-wide accumulator, which saves a multiply per weight (the f32 path is
// compute-bound on AVX2 for 4- and 5-bit formats).
//
//===----------------------------------------------------------------------===//

#include "dialects/qt/IR/QtOps.h"
#include "dialects/qt/Transforms/Passes.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/Dialect/Vector/IR/VectorOps.h"
#include "mlir/IR/PatternMatch.h"
#include "mlir/Transforms/GreedyPatternRewriteDriver.h"

#include <functional>

namespace kvant::qt {
#define GEN_PASS_DEF_LOWERMATMULTOVECTORPASS
#include "dialects/qt/Transforms/Passes.h.inc"
} // namespace kvant::qt

using namespace mlir;
using namespace kvant::qt;

namespace {

//===----------------------------------------------------------------------===//
// Decoding one block of a GGUF row
//===----------------------------------------------------------------------===//

/// What a block decoder sees: the weight's bytes viewed as
/// [N, blocks, blockBytes] and the block (row, block) being decoded. Reads
/// are in-bounds vector.transfer_reads of bytes; integer work stays in i8
/// vectors, values come out as vector<32 x f32>.
class BlockReader {
public:
  BlockReader(OpBuilder &b, Location loc, Value view, Value row, Value block,
              int64_t blockSize)
      : b(b), loc(loc), view(view), row(row), block(block),
        blockSize(blockSize) {}

  /// `count` bytes of the block from byte `offset`.
  Value bytes(int64_t offset, int64_t count) {
    auto type = VectorType::get({count}, b.getI8Type());
    Value at = arith::ConstantIndexOp::create(b, loc, offset);
    Value pad = arith::ConstantIntOp::create(b, loc, b.getI8Type(), 0);
    return vector::TransferReadOp::create(b, loc, type, view,
                                          ValueRange{row, block, at}, pad,
                                          ArrayRef<bool>{true});
  }

  /// The little-endian f16 at byte `offset`, in f32, as a scalar.
  Value f16(int64_t offset) {
    Value raw = bytes(offset, 2);
    Value half = vector::BitCastOp::create(
        b, loc, VectorType::get({1}, b.getF16Type()), raw);
    Value scalar =
        vector::ExtractOp::create(b, loc, half, ArrayRef<int64_t>{0});
    return arith::ExtFOp::create(b, loc, b.getF32Type(), scalar);
  }

  /// The block's 4-bit quants from the `blockSize / 2` bytes at `offset`:
  /// element j < blockSize/2 is the low nibble of byte j, element
  /// blockSize/2 + j its high nibble (llama.cpp's order), as unsigned i8.
  Value nibbles(int64_t offset) {
    Value packed = bytes(offset, blockSize / 2);
    Value low =
        arith::AndIOp::create(b, loc, packed, splatI8(0xF, blockSize / 2));
    Value high =
        arith::ShRUIOp::create(b, loc, packed, splatI8(4, blockSize / 2));
    SmallVector<int64_t> concat =
        llvm::to_vector(llvm::seq<int64_t>(0, blockSize));
    return vector::ShuffleOp::create(b, loc, low, high, concat);
  }

  /// Bit j of the little-endian u32 at `offset` for every element j, as
  /// `value` or 0 in i8 (the fifth bits of q5_0/q5_1). Stays in bytes: byte
  /// j/8 is spread to element j and tested against 1 << (j % 8).
  Value highBits(int64_t offset, int64_t value) {
    Type i8 = b.getI8Type();
    auto type = VectorType::get({blockSize}, i8);
    Value raw = bytes(offset, blockSize / 8);
    SmallVector<int64_t> spread;
    SmallVector<int8_t> masks;
    for (int64_t j = 0; j < blockSize; ++j) {
      spread.push_back(j / 8);
      masks.push_back(static_cast<int8_t>(1u << (j % 8)));
    }
    Value bytesOfBits = vector::ShuffleOp::create(b, loc, raw, raw, spread);
    Value mask = arith::ConstantOp::create(
        b, loc, DenseElementsAttr::get(type, ArrayRef<int8_t>(masks)));
    Value bits = arith::AndIOp::create(b, loc, bytesOfBits, mask);
    Value zero = splatI8(0, blockSize);
    Value set =
        arith::CmpIOp::create(b, loc, arith::CmpIPredicate::ne, bits, zero);
    Value on = splatI8(value, blockSize);
    return arith::SelectOp::create(b, loc, set, on, zero);
  }

  Value splatI8(int64_t value, int64_t count) {
    auto type = VectorType::get({count}, b.getI8Type());
    return arith::ConstantOp::create(
        b, loc,
        DenseElementsAttr::get(type, b.getIntegerAttr(b.getI8Type(), value)));
  }
  Value splat(Value scalar) {
    return vector::BroadcastOp::create(
        b, loc, VectorType::get({blockSize}, scalar.getType()), scalar);
  }
  Value subi(Value v, int64_t c) {
    Value cst = splatI8(c, blockSize);
    return arith::SubIOp::create(b, loc, v, cst);
  }
  Value ori(Value x, Value y) { return arith::OrIOp::create(b, loc, x, y); }
  Value sitofp(Value v) {
    return arith::SIToFPOp::create(b, loc, floatVector(), v);
  }
  Value uitofp(Value v) {
    return arith::UIToFPOp::create(b, loc, floatVector(), v);
  }
  /// `q * d + m` for a vector `q` and scalars `d`, `m`.
  Value scaleAndShift(Value q, Value d, Value m) {
    Value ds = splat(d);
    Value ms = splat(m);
    return vector::FMAOp::create(b, loc, q, ds, ms);
  }

private:
  VectorType floatVector() {
    return VectorType::get({blockSize}, b.getF32Type());
  }

  OpBuilder &b;
  Location loc;
  Value view, row, block;
  int64_t blockSize;
};

/// A decoded block: `values`, times `scale` when it is set. Formats with a
/// scale only leave it to the dot product, which applies it once per block
/// instead of once per weight.
struct DecodedBlock {
  Value values;
  Value scale;
};

// Decoders name every operand before combining them: C++ leaves the order in
// which call arguments are evaluated open, and the IR should not depend on it.
// Each computes its block exactly as llama.cpp's dequantizer does.

/// q8_0: f16 d, int8 q[32]; w = q * d.
static DecodedBlock decodeQ8_0(BlockReader &r) {
  Value d = r.f16(0);
  Value q = r.sitofp(r.bytes(2, 32));
  return {q, d};
}

/// q4_0: f16 d, u8 qs[16]; w = (nibble - 8) * d.
static DecodedBlock decodeQ4_0(BlockReader &r) {
  Value d = r.f16(0);
  Value q = r.sitofp(r.subi(r.nibbles(2), 8));
  return {q, d};
}

/// q4_1: f16 d, f16 m, u8 qs[16]; w = nibble * d + m.
static DecodedBlock decodeQ4_1(BlockReader &r) {
  Value d = r.f16(0);
  Value m = r.f16(2);
  Value q = r.uitofp(r.nibbles(4));
  return {r.scaleAndShift(q, d, m), {}};
}

/// The 5-bit quants of q5_0/q5_1: nibbles from `qs`, bit j of the u32 at
/// `qh` as the fifth bit of element j.
static Value fiveBitQuants(BlockReader &r, int64_t qh, int64_t qs) {
  Value low = r.nibbles(qs);
  Value high = r.highBits(qh, 16);
  return r.ori(low, high);
}

/// q5_0: f16 d, u32 qh, u8 qs[16]; w = (q - 16) * d.
static DecodedBlock decodeQ5_0(BlockReader &r) {
  Value d = r.f16(0);
  Value q = r.sitofp(r.subi(fiveBitQuants(r, 2, 6), 16));
  return {q, d};
}

/// q5_1: f16 d, f16 m, u32 qh, u8 qs[16]; w = q * d + m.
static DecodedBlock decodeQ5_1(BlockReader &r) {
  Value d = r.f16(0);
  Value m = r.f16(2);
  Value q = r.uitofp(fiveBitQuants(r, 4, 8));
  return {r.scaleAndShift(q, d, m), {}};
}

/// A format's decoder, and whether it leaves the scale to the dot product.
struct BlockFormat {
  DecodedBlock (*decode)(BlockReader &);
  bool scaled;
};

/// The block decoder of `format`, if this lowering knows it. Every format
/// here has blocks of 32 elements.
static std::optional<BlockFormat> getBlockFormat(GGUFSchemeAttr scheme) {
  if (scheme.getBlockSize() != 32)
    return std::nullopt;
  switch (scheme.getFormat()) {
  case GGUFFormat::Q8_0:
    return BlockFormat{decodeQ8_0, true};
  case GGUFFormat::Q4_0:
    return BlockFormat{decodeQ4_0, true};
  case GGUFFormat::Q4_1:
    return BlockFormat{decodeQ4_1, false};
  case GGUFFormat::Q5_0:
    return BlockFormat{decodeQ5_0, true};
  case GGUFFormat::Q5_1:
    return BlockFormat{decodeQ5_1, false};
  default:
    return std::nullopt;
  }
}

//===----------------------------------------------------------------------===//
// The GEMV loop nest
//===----------------------------------------------------------------------===//

/// How the weight rows are read: `decode(b, loc, row, block)` yields the
/// `blockSize` weights of block `block` of row `row` as vector<blockSize x
/// f32>, with a scale left to apply when `scaled`.
struct RowDecoder {
  int64_t blockSize;
  int64_t blocks;
  bool scaled;
  std::function<DecodedBlock(OpBuilder &, Location, Value, Value)> decode;
};

/// f32 lanes of the accumulator of scaled blocks: one AVX2 register. Each
/// block's dot product is a chain of fmas over its slices of this width,
/// then one fma with the block's scale into the accumulator.
static constexpr int64_t kDotLanes = 8;

/// `acc + scale * dot(values, xs)` with `values`, `xs` of the block's size
/// and `acc` of `lanes`: a chain of fmas over the `lanes`-wide slices, then
/// one fma with the broadcast scale.
static Value buildScaledDot(OpBuilder &b, Location loc, const DecodedBlock &w,
                            Value xs, Value acc, int64_t lanes) {
  int64_t size = cast<VectorType>(xs.getType()).getDimSize(0);
  Value dot;
  for (int64_t offset = 0; offset < size; offset += lanes) {
    auto slice = [&](Value v) -> Value {
      if (lanes == size)
        return v;
      return vector::ExtractStridedSliceOp::create(
          b, loc, v, ArrayRef<int64_t>{offset}, ArrayRef<int64_t>{lanes},
          ArrayRef<int64_t>{1});
    };
    Value q = slice(w.values);
    Value x = slice(xs);
    dot = dot ? vector::FMAOp::create(b, loc, q, x, dot).getResult()
              : arith::MulFOp::create(b, loc, q, x).getResult();
  }
  Value scale = vector::BroadcastOp::create(b, loc, acc.getType(), w.scale);
  return vector::FMAOp::create(b, loc, scale, dot, acc);
}

/// `y[m, n] = init[m, n] + sum_k x[m, k] * w[n, k]` (without `init[m, n]`
/// unless `accumulate`), for `x` [M, K] of any float type and `init` [M, N]
/// the destination, the loops in this file's header. Accumulates in f32 and
/// converts to the destination's element type once per element.
static Value buildRowLoops(OpBuilder &b, Location loc, Value x, Value init,
                           OpFoldResult rows, const RowDecoder &decoder,
                           bool accumulate) {
  Type f32 = b.getF32Type();
  auto xType = cast<RankedTensorType>(x.getType());
  auto initType = cast<RankedTensorType>(init.getType());
  Type outElement = initType.getElementType();
  int64_t size = decoder.blockSize;
  int64_t lanes = decoder.scaled && size % kDotLanes == 0 ? kDotLanes : size;
  auto accType = VectorType::get({lanes}, f32);
  auto xVectorType = VectorType::get({size}, xType.getElementType());
  OpFoldResult m = tensor::getMixedSize(b, loc, x, 0);

  auto forall = scf::ForallOp::create(b, loc, ArrayRef<OpFoldResult>{rows},
                                      ValueRange{init}, std::nullopt);
  Value n = forall.getInductionVars()[0];
  Value out = forall.getRegionIterArgs()[0];
  OpBuilder::InsertionGuard guard(b);
  b.setInsertionPoint(forall.getTerminator());

  // Column n of the destination, [M, 1], updated in place.
  SmallVector<OpFoldResult> offsets = {b.getIndexAttr(0), n};
  SmallVector<OpFoldResult> sizes = {m, b.getIndexAttr(1)};
  SmallVector<OpFoldResult> strides(2, b.getIndexAttr(1));
  Value column =
      tensor::ExtractSliceOp::create(b, loc, out, offsets, sizes, strides);

  Value zero = arith::ConstantIndexOp::create(b, loc, 0);
  Value one = arith::ConstantIndexOp::create(b, loc, 1);
  Value mValue = getValueOrCreateConstantIndexOp(b, loc, m);
  Value blocks = arith::ConstantIndexOp::create(b, loc, decoder.blocks);
  Value blockSize = arith::ConstantIndexOp::create(b, loc, size);
  Value zeros = arith::ConstantOp::create(
      b, loc, DenseElementsAttr::get(accType, b.getF32FloatAttr(0.0)));
  Value xPad = arith::ConstantOp::create(
      b, loc, b.getFloatAttr(xType.getElementType(), 0.0));

  auto rowsLoop = scf::ForOp::create(
      b, loc, zero, mValue, one, ValueRange{column},
      [&](OpBuilder &rb, Location rloc, Value i, ValueRange iterArgs) {
        auto blockLoop = scf::ForOp::create(
            rb, rloc, zero, blocks, one, ValueRange{zeros},
            [&](OpBuilder &bb, Location bloc, Value block, ValueRange accs) {
              DecodedBlock w = decoder.decode(bb, bloc, n, block);
              Value k = arith::MulIOp::create(bb, bloc, block, blockSize);
              Value xs = vector::TransferReadOp::create(
                  bb, bloc, xVectorType, x, ValueRange{i, k}, xPad,
                  ArrayRef<bool>{true});
              if (xVectorType.getElementType() != f32)
                xs = arith::ExtFOp::create(bb, bloc,
                                           VectorType::get({size}, f32), xs);
              Value acc =
                  w.scale
                      ? buildScaledDot(bb, bloc, w, xs, accs[0], lanes)
                      : vector::FMAOp::create(bb, bloc, w.values, xs, accs[0])
                            .getResult();
              scf::YieldOp::create(bb, bloc, acc);
            });
        Value sum = vector::ReductionOp::create(
            rb, rloc, vector::CombiningKind::ADD, blockLoop.getResult(0));
        Value dest = iterArgs[0];
        if (accumulate) {
          Value prior =
              tensor::ExtractOp::create(rb, rloc, dest, ValueRange{i, zero});
          if (outElement != f32)
            prior = arith::ExtFOp::create(rb, rloc, f32, prior);
          sum = arith::AddFOp::create(rb, rloc, prior, sum);
        }
        if (outElement != f32)
          sum = arith::TruncFOp::create(rb, rloc, outElement, sum);
        Value updated =
            tensor::InsertOp::create(rb, rloc, sum, dest, ValueRange{i, zero});
        scf::YieldOp::create(rb, rloc, updated);
      });

  b.setInsertionPointToEnd(forall.getTerminator().getBody());
  tensor::ParallelInsertSliceOp::create(b, loc, rowsLoop.getResult(0), out,
                                        offsets, sizes, strides);
  return forall.getResult(0);
}

/// `x` ([lead..., K]) as a matrix [M, K].
static Value flattenToMatrix(OpBuilder &b, Location loc, Value x) {
  auto type = cast<RankedTensorType>(x.getType());
  int64_t rank = type.getRank();
  if (rank == 2)
    return x;
  if (rank == 1)
    return tensor::ExpandShapeOp::create(
        b, loc,
        RankedTensorType::get({1, type.getDimSize(0)}, type.getElementType()),
        x, {ReassociationIndices{0, 1}});
  ReassociationIndices lead = llvm::to_vector(llvm::seq<int64_t>(0, rank - 1));
  return tensor::CollapseShapeOp::create(
      b, loc, x, {lead, ReassociationIndices{rank - 1}});
}

/// The matrix `y` ([M, N]) with the leading dimensions of `like`
/// ([lead..., K]) restored: [lead..., N].
static Value unflattenMatrix(OpBuilder &b, Location loc, Value y, Value like,
                             RankedTensorType resultType) {
  auto likeType = cast<RankedTensorType>(like.getType());
  int64_t rank = likeType.getRank();
  if (rank == 2)
    return y;
  if (rank == 1)
    return tensor::CollapseShapeOp::create(b, loc, resultType, y,
                                           {ReassociationIndices{0, 1}});
  SmallVector<OpFoldResult> sizes = tensor::getMixedSizes(b, loc, like);
  sizes.back() = tensor::getMixedSize(b, loc, y, 1);
  ReassociationIndices lead = llvm::to_vector(llvm::seq<int64_t>(0, rank - 1));
  return tensor::ExpandShapeOp::create(
      b, loc, resultType, y, {lead, ReassociationIndices{rank - 1}}, sizes);
}

//===----------------------------------------------------------------------===//
// Patterns
//===----------------------------------------------------------------------===//

/// qt.matmul with a GGUF block-format weight.
struct LowerBlockMatmul : OpRewritePattern<MatmulOp> {
  using OpRewritePattern::OpRewritePattern;

  LogicalResult matchAndRewrite(MatmulOp op,
                                PatternRewriter &rewriter) const override {
    QuantizedTensorType weightType = op.getWeight().getType();
    auto scheme = dyn_cast<GGUFSchemeAttr>(weightType.getScheme());
    if (!scheme)
      return rewriter.notifyMatchFailure(op, "not a GGUF block format");
    std::optional<BlockFormat> format = getBlockFormat(scheme);
    if (!format)
      return rewriter.notifyMatchFailure(op, "no vector decoder for format");
    if (weightType.getRank() != 2 ||
        ShapedType::isDynamicShape(weightType.getShape()))
      return rewriter.notifyMatchFailure(op, "weight is not a static matrix");
    auto resultType = cast<RankedTensorType>(op.getType());
    auto xType = cast<RankedTensorType>(op.getLhs().getType());
    if (!isa<FloatType>(xType.getElementType()) ||
        !isa<FloatType>(resultType.getElementType()))
      return rewriter.notifyMatchFailure(op, "integer activations or result");

    Location loc = op.getLoc();
    int64_t rows = weightType.getShape()[0], k = weightType.getShape()[1];
    int64_t blockSize = scheme.getBlockSize();
    int64_t blockBytes = scheme.getBlockBytes();
    int64_t blocks = k / blockSize;

    // A dynamic K in x is the weight's K (the verifier leaves it open).
    Value x = op.getLhs();
    if (xType.isDynamicDim(xType.getRank() - 1)) {
      SmallVector<int64_t> shape(xType.getShape());
      shape.back() = k;
      x = tensor::CastOp::create(
          rewriter, loc, RankedTensorType::get(shape, xType.getElementType()),
          x);
    }
    Value matrix = flattenToMatrix(rewriter, loc, x);

    // The weight's bytes viewed as [N, blocks, blockBytes].
    Type i8 = rewriter.getI8Type();
    Value bytes = ToBytesOp::create(
        rewriter, loc, RankedTensorType::get({rows, blocks * blockBytes}, i8),
        op.getWeight());
    Value view = tensor::ExpandShapeOp::create(
        rewriter, loc, RankedTensorType::get({rows, blocks, blockBytes}, i8),
        bytes, {ReassociationIndices{0}, ReassociationIndices{1, 2}});

    RowDecoder decoder{
        blockSize, blocks, format->scaled,
        [&](OpBuilder &b, Location nloc, Value row, Value block) {
          BlockReader reader(b, nloc, view, row, block, blockSize);
          return format->decode(reader);
        }};
    SmallVector<OpFoldResult> sizes = {
        tensor::getMixedSize(rewriter, loc, matrix, 0),
        rewriter.getIndexAttr(rows)};
    Value init = tensor::EmptyOp::create(rewriter, loc, sizes,
                                         resultType.getElementType());
    Value y = buildRowLoops(rewriter, loc, matrix, init,
                            rewriter.getIndexAttr(rows), decoder,
                            /*accumulate=*/false);
    Value result =
        unflattenMatrix(rewriter, loc, y, x, getFlatResultType(x, resultType));
    if (result.getType() != resultType)
      result = tensor::CastOp::create(rewriter, loc, resultType, result);
    rewriter.replaceOp(op, result);
    return success();
  }

  /// The result type with the static leading sizes of `x`, which
  /// unflattening produces (the op's own type may be less static).
  static RankedTensorType getFlatResultType(Value x,
                                            RankedTensorType resultType) {
    auto xType = cast<RankedTensorType>(x.getType());
    SmallVector<int64_t> shape(xType.getShape().drop_back());
    shape.push_back(resultType.getShape().back());
    return RankedTensorType::get(shape, resultType.getElementType());
  }
};

/// linalg.matmul reading a float weight [N, K] transposed (the projections
/// convert-llm-to-linalg emits for F32/F16/BF16 weights).
struct LowerFloatMatmul : OpRewritePattern<linalg::MatmulOp> {
  using OpRewritePattern::OpRewritePattern;

  LogicalResult matchAndRewrite(linalg::MatmulOp op,
                                PatternRewriter &rewriter) const override {
    if (!linalg::MatmulTransposeBOp::classof(op))
      return rewriter.notifyMatchFailure(op, "not a transposed-B matmul");
    if (!op.hasPureTensorSemantics())
      return rewriter.notifyMatchFailure(op, "not on tensors");
    Value x = op.getDpsInputs()[0], w = op.getDpsInputs()[1];
    Value init = op.getDpsInits()[0];
    auto xType = cast<RankedTensorType>(x.getType());
    auto wType = cast<RankedTensorType>(w.getType());
    auto initType = cast<RankedTensorType>(init.getType());
    if (!isa<FloatType>(xType.getElementType()) ||
        !isa<FloatType>(wType.getElementType()) ||
        !isa<FloatType>(initType.getElementType()))
      return rewriter.notifyMatchFailure(op, "not a float matmul");
    int64_t k = wType.getDimSize(1);
    if (ShapedType::isDynamic(k))
      return rewriter.notifyMatchFailure(op, "dynamic reduction size");
    int64_t blockSize = 32;
    while (blockSize > 1 && k % blockSize != 0)
      blockSize /= 2;
    if (blockSize < 8)
      return rewriter.notifyMatchFailure(op, "K has no vector-sized blocks");

    Location loc = op.getLoc();
    if (xType.isDynamicDim(1)) {
      x = tensor::CastOp::create(rewriter, loc,
                                 RankedTensorType::get({xType.getDimSize(0), k},
                                                       xType.getElementType()),
                                 x);
    }
    Type f32 = rewriter.getF32Type();
    auto wVectorType = VectorType::get({blockSize}, wType.getElementType());
    Value pad = arith::ConstantOp::create(
        rewriter, loc, rewriter.getFloatAttr(wType.getElementType(), 0.0));
    RowDecoder decoder{
        blockSize, k / blockSize, /*scaled=*/false,
        [&](OpBuilder &b, Location nloc, Value row,
            Value block) -> DecodedBlock {
          Value size = arith::ConstantIndexOp::create(b, nloc, blockSize);
          Value col = arith::MulIOp::create(b, nloc, block, size);
          Value values = vector::TransferReadOp::create(
              b, nloc, wVectorType, w, ValueRange{row, col}, pad,
              ArrayRef<bool>{true});
          if (wType.getElementType() != f32)
            values = arith::ExtFOp::create(
                b, nloc, VectorType::get({blockSize}, f32), values);
          return {values, {}};
        }};
    Value y = buildRowLoops(rewriter, loc, x, init,
                            tensor::getMixedSize(rewriter, loc, w, 0), decoder,
                            /*accumulate=*/true);
    if (y.getType() != op.getResult(0).getType())
      y = tensor::CastOp::create(rewriter, loc, op.getResult(0).getType(), y);
    rewriter.replaceOp(op, y);
    return success();
  }
};

//===----------------------------------------------------------------------===//
// Pass
//===----------------------------------------------------------------------===//

struct LowerMatmulToVectorPass
    : public kvant::qt::impl::LowerMatmulToVectorPassBase<
          LowerMatmulToVectorPass> {
  using LowerMatmulToVectorPassBase::LowerMatmulToVectorPassBase;

  void runOnOperation() override {
    RewritePatternSet patterns(&getContext());
    patterns.add<LowerBlockMatmul>(&getContext());
    if (floatWeights)
      patterns.add<LowerFloatMatmul>(&getContext());
    if (failed(applyPatternsGreedily(getOperation(), std::move(patterns))))
      return signalPassFailure();
  }
};

} // namespace
