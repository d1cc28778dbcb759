//===- LowerInt8Ops.cpp - qt.dot_i8 to a target's instructions
//---------------===//
//
// qt.dot_i8 says what the block-quantized GEMVs need (sums of four int8
// products per i32 lane); this pass says how a target computes it. The x86
// form calls LLVM intrinsics: LLVM does not select vpmaddwd from portable IR
// once InstCombine has narrowed the widened multiplies to i16.
//
//===----------------------------------------------------------------------===//

#include "dialects/qt/IR/QtOps.h"
#include "dialects/qt/Transforms/Passes.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/LLVMIR/LLVMDialect.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/Vector/IR/VectorOps.h"
#include "mlir/IR/Matchers.h"
#include "mlir/IR/PatternMatch.h"
#include "mlir/Transforms/GreedyPatternRewriteDriver.h"
#include "llvm/ADT/DenseMap.h"
#include "llvm/ADT/MapVector.h"
#include "llvm/ADT/StringSwitch.h"

namespace kvant::qt {
#define GEN_PASS_DEF_LOWERINT8OPSPASS
#include "dialects/qt/Transforms/Passes.h.inc"
} // namespace kvant::qt

using namespace mlir;
using namespace kvant::qt;

namespace {

/// What the target computes int8 dot products with.
enum class Int8Target {
  Generic, // Portable vector arith.
  AVX2,    // vpmaddubsw, vpmaddwd.
  AVX2VNNI // AVX2 plus vpdpbusd on 256 bits (AVX-VNNI or AVX512-VNNI + VL).
};

/// The lower half of the lanes of `low` followed by the upper half of those
/// of `high` (same vector type): a scale and a high-half scale, splat, as one
/// vector of per-lane factors.
static Value joinHalves(OpBuilder &b, Location loc, Value low, Value high) {
  int64_t lanes = cast<VectorType>(low.getType()).getDimSize(0);
  SmallVector<int64_t> halves;
  for (int64_t j = 0; j < lanes; ++j)
    halves.push_back(j < lanes / 2 ? j : lanes + j);
  return vector::ShuffleOp::create(b, loc, low, high, halves);
}

/// Portable: widen, multiply, and add the four strided shuffles that pick
/// product 4j + r for every lane j.
static Value buildGenericDot(OpBuilder &b, Location loc, DotI8Op op) {
  auto resultType = op.getType();
  int64_t lanes = resultType.getDimSize(0);
  int64_t inputs = op.getLhs().getType().getDimSize(0);
  auto wide = VectorType::get({inputs}, b.getI32Type());
  Value lhs =
      op.getUnsignedLhs()
          ? arith::ExtUIOp::create(b, loc, wide, op.getLhs()).getResult()
          : arith::ExtSIOp::create(b, loc, wide, op.getLhs()).getResult();
  Value rhs = arith::ExtSIOp::create(b, loc, wide, op.getRhs());
  Value products = arith::MulIOp::create(b, loc, lhs, rhs);
  Value sum;
  for (int64_t r = 0; r < 4; ++r) {
    SmallVector<int64_t> strided;
    for (int64_t j = 0; j < lanes; ++j)
      strided.push_back(4 * j + r);
    Value part = vector::ShuffleOp::create(b, loc, products, products, strided);
    sum = sum ? arith::AddIOp::create(b, loc, sum, part).getResult() : part;
  }
  if (Value scale = op.getScale()) {
    Value splat = vector::BroadcastOp::create(b, loc, resultType, scale);
    // Lanes of the upper half take the high scale.
    if (Value high = op.getScaleHigh())
      splat = joinHalves(b, loc, splat,
                         vector::BroadcastOp::create(b, loc, resultType, high));
    sum = arith::MulIOp::create(b, loc, sum, splat);
  }
  return sum;
}

static Value callIntrinsic(OpBuilder &b, Location loc, Type type,
                           StringRef intrinsic, ValueRange args) {
  return LLVM::CallIntrinsicOp::create(b, loc, type, b.getStringAttr(intrinsic),
                                       args)
      .getResult(0);
}

/// The 16 x i16 splat of `value`: vpmaddwd's weights when it only widens
/// pair sums (value 1).
static Value splatPairWeights(OpBuilder &b, Location loc, int64_t value) {
  Type i16 = b.getI16Type();
  return arith::ConstantOp::create(
      b, loc,
      DenseElementsAttr::get(VectorType::get({16}, i16),
                             b.getIntegerAttr(i16, value)));
}

/// Lane k of a vector of bytes widened to i32 (`vector.extract (arith.extui
/// or arith.extsi %bytes)[k]`): the bytes, their widening and k.
struct ByteLane {
  Value bytes;
  bool isSigned;
  int64_t lane;
};
static std::optional<ByteLane> matchByteLane(Value scale) {
  auto extract = scale.getDefiningOp<vector::ExtractOp>();
  if (!extract || extract.hasDynamicPosition() ||
      extract.getStaticPosition().size() != 1)
    return std::nullopt;
  Operation *widen = extract.getSource().getDefiningOp();
  if (!widen || !isa<arith::ExtUIOp, arith::ExtSIOp>(widen))
    return std::nullopt;
  Value bytes = widen->getOperand(0);
  auto type = dyn_cast<VectorType>(bytes.getType());
  if (!type || type.getRank() != 1 || !type.getElementType().isInteger(8) ||
      type.getDimSize(0) > 16)
    return std::nullopt;
  return ByteLane{bytes, isa<arith::ExtSIOp>(widen),
                  extract.getStaticPosition().front()};
}

/// The vpmaddwd weights for scales that are lanes of one byte vector
/// widened to i32 (k-quant sub-block scales): `scale` in the 8 i16 lanes of
/// the low 128-bit half, `high` (or `scale`) in those of the upper half, in
/// one vpshufb. The scalar route (extract, move, broadcast) takes two or
/// three shuffle-port instructions per scale, on the port that bounds the
/// k-quant GEMVs. Null when they are not such lanes.
///
/// Unsigned bytes are shuffled as they are, repeated in both halves: control
/// byte k then -128 (which writes a zero) in each i16 lane. Signed bytes are
/// widened to i16 first, and the 8 words holding both lanes repeated in both
/// halves (Q6_K's two scales per group are neighbours). The widening and the
/// repeat are shared by all the scales of a block (CSE). LLVM rewrites a
/// shuffle of words that splats one word into two broadcasts, which is why
/// Q4_K's single scales take the byte form.
static Value splatScalesByShuffle(OpBuilder &b, Location loc, Value scale,
                                  Value high) {
  std::optional<ByteLane> low = matchByteLane(scale);
  std::optional<ByteLane> up = high ? matchByteLane(high) : low;
  if (!low || !up || low->bytes != up->bytes || low->isSigned != up->isSigned)
    return Value();
  if (low->isSigned && low->lane / 8 != up->lane / 8)
    return Value();
  auto bytesType = cast<VectorType>(low->bytes.getType());
  int64_t count = bytesType.getDimSize(0);
  Type i16 = b.getI16Type();
  auto wideBytes = VectorType::get({32}, b.getI8Type());
  Value source;
  SmallVector<int8_t> control;
  if (!low->isSigned) {
    SmallVector<int64_t> repeat;
    for (int64_t j = 0; j < 32; ++j)
      repeat.push_back(j % 16 < count ? j % 16 : 0);
    source = vector::ShuffleOp::create(b, loc, low->bytes, low->bytes, repeat);
    for (int64_t half = 0; half < 2; ++half)
      for (int64_t j = 0; j < 8; ++j) {
        control.push_back(static_cast<int8_t>(half ? up->lane : low->lane));
        control.push_back(static_cast<int8_t>(-128));
      }
  } else {
    auto wordsType = VectorType::get({count}, i16);
    Value words = arith::ExtSIOp::create(b, loc, wordsType, low->bytes);
    int64_t window = 8 * (low->lane / 8);
    SmallVector<int64_t> repeat;
    for (int64_t j = 0; j < 16; ++j)
      repeat.push_back(window + j % 8 < count ? window + j % 8 : 0);
    Value repeated = vector::ShuffleOp::create(b, loc, words, words, repeat);
    source = vector::BitCastOp::create(b, loc, wideBytes, repeated);
    for (int64_t half = 0; half < 2; ++half) {
      int64_t word = (half ? up->lane : low->lane) % 8;
      for (int64_t j = 0; j < 8; ++j) {
        control.push_back(static_cast<int8_t>(2 * word));
        control.push_back(static_cast<int8_t>(2 * word + 1));
      }
    }
  }
  Value controlVector = arith::ConstantOp::create(
      b, loc, DenseElementsAttr::get(wideBytes, ArrayRef<int8_t>(control)));
  Value spread = callIntrinsic(b, loc, wideBytes, "llvm.x86.avx2.pshuf.b",
                               ValueRange{source, controlVector});
  return vector::BitCastOp::create(b, loc, VectorType::get({16}, i16), spread);
}

/// The operands of `op` as unsigned x signed bytes: llama.cpp's sign trick,
/// |lhs| and sign(rhs, lhs) (vpsignb), for a signed lhs; as they are for an
/// unsigned one.
static std::pair<Value, Value> unsignedTimesSigned(OpBuilder &b, Location loc,
                                                   DotI8Op op) {
  if (op.getUnsignedLhs())
    return {op.getLhs(), op.getRhs()};
  Value magnitudes = math::AbsIOp::create(b, loc, op.getLhs());
  Value signedRhs =
      callIntrinsic(b, loc, op.getRhs().getType(), "llvm.x86.avx2.psign.b",
                    ValueRange{op.getRhs(), op.getLhs()});
  return {magnitudes, signedRhs};
}

/// AVX2, 32 bytes: |lhs| * sign(rhs, lhs) in unsigned x signed byte pairs
/// (vpmaddubsw; an unsigned lhs goes in as it is), then pairs of i16 summed
/// to i32 (vpmaddwd by ones, or by the scale: its 16 bits, as the op
/// requires).
static Value buildAVX2Dot(OpBuilder &b, Location loc, DotI8Op op) {
  Type i16 = b.getI16Type();
  auto pairsType = VectorType::get({16}, i16);
  auto [magnitudes, signedRhs] = unsignedTimesSigned(b, loc, op);
  Value pairs = callIntrinsic(b, loc, pairsType, "llvm.x86.avx2.pmadd.ub.sw",
                              ValueRange{magnitudes, signedRhs});
  Value weights;
  if (Value scale = op.getScale()) {
    weights = splatScalesByShuffle(b, loc, scale, op.getScaleHigh());
    if (!weights) {
      auto splat = [&](Value v) -> Value {
        Value narrow = arith::TruncIOp::create(b, loc, i16, v);
        return vector::BroadcastOp::create(b, loc, pairsType, narrow);
      };
      weights = splat(scale);
      // The high scale weighs the pairs of the upper 16 inputs: i16 lanes
      // 8..15, which vpmaddwd sums into result lanes 4..7.
      if (Value high = op.getScaleHigh())
        weights = joinHalves(b, loc, weights, splat(high));
    }
  } else {
    weights = splatPairWeights(b, loc, 1);
  }
  return callIntrinsic(b, loc, op.getType(), "llvm.x86.avx2.pmadd.wd",
                       ValueRange{pairs, weights});
}

/// VNNI: sums of four u8 x s8 products added to the i32 lanes of `acc`
/// (vpdpbusd), 32 bytes.
static Value callDotBytes(OpBuilder &b, Location loc, Value acc,
                          Value unsignedBytes, Value signedBytes) {
  return callIntrinsic(b, loc, acc.getType(), "llvm.x86.avx512.vpdpbusd.256",
                       ValueRange{acc, unsignedBytes, signedBytes});
}

static Value zeroI32x8(OpBuilder &b, Location loc) {
  auto type = VectorType::get({8}, b.getI32Type());
  return arith::ConstantOp::create(
      b, loc, DenseElementsAttr::get(type, b.getI32IntegerAttr(0)));
}

/// VNNI, 32 bytes without a scale: one vpdpbusd (|lhs| and sign(rhs, lhs)
/// for a signed lhs, as on AVX2) instead of vpmaddubsw and vpmaddwd, added
/// to `acc` (zeros when null). Scaled dots keep the AVX2 form, whose
/// vpmaddwd by the scales LLVM folds with the sum that follows into one
/// vpdpwssd.
static Value buildVNNIDot(OpBuilder &b, Location loc, DotI8Op op,
                          Value acc = Value()) {
  auto [magnitudes, signedRhs] = unsignedTimesSigned(b, loc, op);
  return callDotBytes(b, loc, acc ? acc : zeroI32x8(b, loc), magnitudes,
                      signedRhs);
}

/// Whether `op` takes buildVNNIDot's form.
static bool isVNNIDot(DotI8Op op) {
  return !op.getScale() && op.getLhs().getType().getDimSize(0) == 32;
}

/// VNNI: `dot + y` with `dot` a qt.dot_i8 used only there becomes one
/// vpdpbusd accumulating onto y, which LLVM does not fold from an add of a
/// vpdpbusd into zeros (the interleaved GEMV adds the dots of two paired
/// rows' halves).
static void foldAddsIntoVNNIDots(Operation *root) {
  SmallVector<arith::AddIOp> adds;
  root->walk([&](arith::AddIOp add) { adds.push_back(add); });
  for (arith::AddIOp add : adds) {
    for (unsigned i = 0; i < 2; ++i) {
      auto dot = add->getOperand(i).getDefiningOp<DotI8Op>();
      if (!dot || !isVNNIDot(dot) || !dot->hasOneUse())
        continue;
      OpBuilder b(add);
      Value sum = buildVNNIDot(b, add.getLoc(), dot, add->getOperand(1 - i));
      add.replaceAllUsesWith(sum);
      add.erase();
      dot.erase();
      break;
    }
  }
}

/// A table lookup: on AVX2 (32 lanes) one vpshufb of the table repeated in
/// both 128-bit halves (indices below 16 pick within their half); otherwise
/// a chain of 15 compares and selects.
struct LowerLookupI8 : OpRewritePattern<LookupI8Op> {
  LowerLookupI8(MLIRContext *context, Int8Target target)
      : OpRewritePattern(context), avx2(target != Int8Target::Generic) {}

  LogicalResult matchAndRewrite(LookupI8Op op,
                                PatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    auto type = op.getType();
    int64_t lanes = type.getDimSize(0);
    ArrayRef<int8_t> table = op.getTable();
    Type i8 = rewriter.getI8Type();
    if (avx2 && lanes == 32) {
      SmallVector<int8_t> repeated(table.begin(), table.end());
      repeated.append(table.begin(), table.end());
      Value tableVector = arith::ConstantOp::create(
          rewriter, loc, DenseElementsAttr::get(type, ArrayRef(repeated)));
      rewriter.replaceOp(
          op, callIntrinsic(rewriter, loc, type, "llvm.x86.avx2.pshuf.b",
                            ValueRange{tableVector, op.getIndices()}));
      return success();
    }
    auto splat = [&](int64_t value) -> Value {
      return arith::ConstantOp::create(
          rewriter, loc,
          DenseElementsAttr::get(type, rewriter.getIntegerAttr(i8, value)));
    };
    Value result = splat(table[0]);
    for (int64_t j = 1; j < 16; ++j) {
      Value index = splat(j);
      Value hit = arith::CmpIOp::create(rewriter, loc, arith::CmpIPredicate::eq,
                                        op.getIndices(), index);
      Value entry = splat(table[j]);
      result = arith::SelectOp::create(rewriter, loc, hit, entry, result);
    }
    rewriter.replaceOp(op, result);
    return success();
  }

  bool avx2;
};

struct LowerDotI8 : OpRewritePattern<DotI8Op> {
  LowerDotI8(MLIRContext *context, Int8Target target)
      : OpRewritePattern(context), target(target) {}

  LogicalResult matchAndRewrite(DotI8Op op,
                                PatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    bool fits = op.getLhs().getType().getDimSize(0) == 32;
    Value dot;
    if (!fits || target == Int8Target::Generic)
      dot = buildGenericDot(rewriter, loc, op);
    else if (target == Int8Target::AVX2VNNI && isVNNIDot(op))
      dot = buildVNNIDot(rewriter, loc, op);
    else
      dot = buildAVX2Dot(rewriter, loc, op);
    rewriter.replaceOp(op, dot);
    return success();
  }

  Int8Target target;
};

/// A bit field of bytes, `(bytes >> shift) & mask` with splat constants
/// (`bytes & mask` when shift is 0): a ternary format's 2-bit quants.
struct BitField {
  Value bytes;
  int64_t shift;
  int64_t mask;
};
static std::optional<int64_t> matchSplatInt(Value v) {
  DenseIntElementsAttr attr;
  if (!matchPattern(v, m_Constant(&attr)) || !attr.isSplat())
    return std::nullopt;
  return attr.getSplatValue<APInt>().getZExtValue();
}
static std::optional<BitField> matchBitField(Value lhs) {
  auto andOp = lhs.getDefiningOp<arith::AndIOp>();
  if (!andOp)
    return std::nullopt;
  Value field = andOp.getLhs();
  std::optional<int64_t> mask = matchSplatInt(andOp.getRhs());
  if (!mask) {
    field = andOp.getRhs();
    mask = matchSplatInt(andOp.getLhs());
  }
  if (!mask)
    return std::nullopt;
  if (auto shift = field.getDefiningOp<arith::ShRUIOp>())
    if (std::optional<int64_t> amount = matchSplatInt(shift.getRhs()))
      if (*amount < 8)
        return BitField{shift.getLhs(), *amount, *mask};
  return BitField{field, 0, *mask};
}

/// qt.dot_i8_sum: on AVX2, the 16-bit pair sums (vpmaddubsw) of as many
/// products as cannot overflow 16 bits are added (vpaddw) before one
/// vpmaddwd; elsewhere, and for other widths, a sum of qt.dot_i8.
///
/// Bit fields `(v >> c) & m` (TQ2_0's four 2-bit planes) are read as
/// `(v >> (c - s)) & (m << s)` with s = c % 4: the field times 2^s, which
/// saves the shift of every other plane (x86 has no byte shift: each is a
/// vpsrlw and a vpand, and the shifts share two ports). The pair sums of the
/// fields scaled alike add up as i16, and one arithmetic shift right by s,
/// exact since every product is a multiple of 2^s, brings them back before
/// they join the others.
struct LowerDotI8Sum : OpRewritePattern<DotI8SumOp> {
  LowerDotI8Sum(MLIRContext *context, Int8Target target)
      : OpRewritePattern(context), target(target) {}

  LogicalResult matchAndRewrite(DotI8SumOp op,
                                PatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    bool fits =
        cast<VectorType>(op.getLhs().front().getType()).getDimSize(0) == 32;
    Value sum;
    auto add = [&](Value v) {
      sum = sum ? arith::AddIOp::create(rewriter, loc, sum, v).getResult() : v;
    };
    if (target == Int8Target::Generic || !fits) {
      for (auto [lhs, rhs] : llvm::zip(op.getLhs(), op.getRhs())) {
        auto dot = DotI8Op::create(rewriter, loc, op.getType(), lhs, rhs,
                                   Value(), Value());
        dot.setUnsignedLhs(true);
        add(dot);
      }
      rewriter.replaceOp(op, sum);
      return success();
    }
    constexpr int64_t kI16Max = 32767;
    // Products are at most 127 in magnitude on the rhs side; a pair sum of
    // lhs values up to `bound` is at most 2 * 127 * bound.
    auto pairBound = [](int64_t bound) { return 2 * 127 * bound; };
    auto pairsType = VectorType::get({16}, rewriter.getI16Type());
    auto bytesType = VectorType::get({32}, rewriter.getI8Type());
    auto splat = [&](VectorType type, int64_t value) -> Value {
      return arith::ConstantOp::create(
          rewriter, loc,
          DenseElementsAttr::get(
              type, rewriter.getIntegerAttr(type.getElementType(), value)));
    };
    bool vnni = target == Int8Target::AVX2VNNI;
    // An lhs operand as the bytes multiplied, their scale 2^s and a bound on
    // them: a bit field (v >> c) & m is read as (v >> (c - s)) & (m << s)
    // with s = c % 4, unless the scaled field could overflow what its
    // products are summed in (bytes for vpdpbusd, i16 pair sums otherwise).
    llvm::DenseMap<std::pair<Value, int64_t>, Value> shifted;
    auto readOperand = [&](Value lhs) -> std::tuple<Value, int64_t, int64_t> {
      int64_t bound = std::max<int64_t>(op.getLhsMax(), 1);
      std::optional<BitField> field = matchBitField(lhs);
      if (!field)
        return {lhs, 0, bound};
      bound = std::min(bound, field->mask);
      int64_t s = field->shift % 4;
      int64_t scaledMask = field->mask << s;
      if (!s || scaledMask > 255 || (!vnni && pairBound(scaledMask) > kI16Max))
        return {lhs, 0, bound};
      int64_t base = field->shift - s;
      Value &source = shifted[{field->bytes, base}];
      if (!source)
        source = base ? arith::ShRUIOp::create(rewriter, loc, field->bytes,
                                               splat(bytesType, base))
                            .getResult()
                      : field->bytes;
      Value scaled = arith::AndIOp::create(rewriter, loc, source,
                                           splat(bytesType, scaledMask));
      return {scaled, s, bound << s};
    };

    if (vnni) {
      // One i32 accumulator per scale 2^s, chained through vpdpbusd (no i16
      // stage to overflow), shifted back once (exact) and added.
      llvm::SmallMapVector<int64_t, Value, 4> accumulators;
      for (auto [lhs, rhs] : llvm::zip(op.getLhs(), op.getRhs())) {
        auto [scaled, s, bound] = readOperand(lhs);
        Value &acc = accumulators[s];
        acc = callDotBytes(rewriter, loc, acc ? acc : zeroI32x8(rewriter, loc),
                           scaled, rhs);
      }
      for (auto [s, acc] : accumulators)
        add(s ? arith::ShRSIOp::create(rewriter, loc, acc,
                                       splat(op.getType(), s))
                    .getResult()
              : acc);
      rewriter.replaceOp(op, sum);
      return success();
    }
    Value ones = splatPairWeights(rewriter, loc, 1);

    auto widen = [&](Value pairs) {
      add(callIntrinsic(rewriter, loc, op.getType(), "llvm.x86.avx2.pmadd.wd",
                        ValueRange{pairs, ones}));
    };
    // i16 partial sums in true units, added while their bound allows, then
    // widened by one vpmaddwd each.
    Value pending;
    int64_t pendingBound = 0;
    auto addPartial = [&](Value partial, int64_t bound) {
      if (pending && pendingBound + bound <= kI16Max) {
        pending = arith::AddIOp::create(rewriter, loc, pending, partial);
        pendingBound += bound;
        return;
      }
      if (pending)
        widen(pending);
      pending = partial;
      pendingBound = bound;
    };
    // One run of pair sums per scale 2^s, closed when the next pair could
    // overflow 16 bits.
    struct Run {
      Value pairs;
      int64_t bound = 0;
    };
    llvm::SmallMapVector<int64_t, Run, 4> runs;
    auto closeRun = [&](int64_t s) {
      Run &run = runs[s];
      if (!run.pairs)
        return;
      Value partial = run.pairs;
      if (s)
        partial =
            arith::ShRSIOp::create(rewriter, loc, partial, splat(pairsType, s));
      addPartial(partial, run.bound >> s);
      run = Run();
    };
    for (auto [lhs, rhs] : llvm::zip(op.getLhs(), op.getRhs())) {
      auto [scaled, s, bound] = readOperand(lhs);
      // closeRun looks `s` up again without inserting: `run` stays valid.
      Run &run = runs[s];
      if (run.pairs && run.bound + pairBound(bound) > kI16Max)
        closeRun(s);
      Value p =
          callIntrinsic(rewriter, loc, pairsType, "llvm.x86.avx2.pmadd.ub.sw",
                        ValueRange{scaled, rhs});
      run.pairs =
          run.pairs
              ? arith::AddIOp::create(rewriter, loc, run.pairs, p).getResult()
              : p;
      run.bound += pairBound(bound);
    }
    for (auto &entry : runs)
      closeRun(entry.first);
    if (pending)
      widen(pending);
    rewriter.replaceOp(op, sum);
    return success();
  }

  Int8Target target;
};

struct LowerInt8OpsPass
    : public kvant::qt::impl::LowerInt8OpsPassBase<LowerInt8OpsPass> {
  using LowerInt8OpsPassBase::LowerInt8OpsPassBase;

  void runOnOperation() override {
    std::optional<Int8Target> kind =
        llvm::StringSwitch<std::optional<Int8Target>>(target)
            .Case("generic", Int8Target::Generic)
            .Case("avx2", Int8Target::AVX2)
            .Case("avx2-vnni", Int8Target::AVX2VNNI)
            .Default(std::nullopt);
    if (!kind) {
      getOperation()->emitError()
          << "qt-lower-int8-ops: unknown target '" << target
          << "' (expected generic, avx2 or avx2-vnni)";
      return signalPassFailure();
    }
    if (*kind == Int8Target::AVX2VNNI)
      foldAddsIntoVNNIDots(getOperation());
    RewritePatternSet patterns(&getContext());
    patterns.add<LowerDotI8, LowerDotI8Sum, LowerLookupI8>(&getContext(),
                                                           *kind);
    if (failed(applyPatternsGreedily(getOperation(), std::move(patterns))))
      return signalPassFailure();
  }
};

} // namespace
