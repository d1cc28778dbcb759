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

#include "dialects/qt/IR/QtFormats.h"
#include "dialects/qt/IR/QtOps.h"
#include "dialects/qt/Transforms/Passes.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/Dialect/Vector/IR/VectorOps.h"
#include "mlir/IR/PatternMatch.h"
#include "mlir/Interfaces/SideEffectInterfaces.h"
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

/// Elements per QuantGroup, and per block of quantized activations.
static constexpr int64_t kGroupSize = 32;

/// Row `lane` of a group of interleaved rows (#qt.gguf<format, interleave =
/// rows>), whose blocks' bytes are stored field by field.
struct InterleavedLane {
  GGUFFormat format;
  int64_t rows;
  int64_t lane;
};

/// What a block decoder sees: the weight's bytes viewed with the block's
/// bytes innermost ([N, blocks, blockBytes], or [N / 8, blocks, 8 *
/// blockBytes] for interleaved rows) and the index of the block being
/// decoded in the outer dimensions (with interleaved rows, of the group's
/// blocks and the row's lane in the group). Reads are in-bounds
/// vector.transfer_reads of bytes; integer work stays in i8 vectors of
/// kGroupSize quants; scalar scales are f32.
class BlockReader {
public:
  BlockReader(OpBuilder &b, Location loc, Value view, ValueRange block,
              std::optional<InterleavedLane> interleaved = std::nullopt)
      : b(b), loc(loc), view(view), block(block), interleaved(interleaved) {}

  /// `count` bytes of the block from byte `offset`.
  Value bytes(int64_t offset, int64_t count) {
    auto type = VectorType::get({count}, b.getI8Type());
    SmallVector<Value> at(block);
    if (interleaved) {
      // Decoders read within one field of the block (the format table's).
      std::optional<int64_t> place =
          getInterleavedByteOffset(interleaved->format, interleaved->rows,
                                   interleaved->lane, offset, count);
      if (!place)
        llvm::report_fatal_error("a block decoder's read crosses a field of "
                                 "the format's block");
      offset = *place;
    }
    at.push_back(arith::ConstantIndexOp::create(b, loc, offset));
    Value pad = arith::ConstantIntOp::create(b, loc, b.getI8Type(), 0);
    return vector::TransferReadOp::create(b, loc, type, view, at, pad,
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

  /// Byte `i` of the byte vector `v`, zero-extended to i32.
  Value byteAt(Value v, int64_t i) {
    Value byte = vector::ExtractOp::create(b, loc, v, ArrayRef<int64_t>{i});
    return arith::ExtUIOp::create(b, loc, b.getI32Type(), byte);
  }
  /// Byte `i` of the byte vector `v`, sign-extended to i32.
  Value signedByteAt(Value v, int64_t i) {
    Value byte = vector::ExtractOp::create(b, loc, v, ArrayRef<int64_t>{i});
    return arith::ExtSIOp::create(b, loc, b.getI32Type(), byte);
  }

  /// The block's 32 4-bit quants from the 16 bytes at `offset`: element
  /// j < 16 is the low nibble of byte j, element 16 + j its high nibble
  /// (llama.cpp's order), as unsigned i8.
  Value nibbles(int64_t offset) {
    Value packed = bytes(offset, kGroupSize / 2);
    Value low = andv(packed, 0xF);
    Value high = shruv(packed, 4);
    SmallVector<int64_t> concat =
        llvm::to_vector(llvm::seq<int64_t>(0, kGroupSize));
    return vector::ShuffleOp::create(b, loc, low, high, concat);
  }

  /// Bit j of the little-endian u32 at `offset` for every element j, as
  /// `value` or 0 in i8 (the fifth bits of q5_0/q5_1). Stays in bytes: byte
  /// j/8 is spread to element j and tested against 1 << (j % 8).
  Value highBits(int64_t offset, int64_t value) {
    Type i8 = b.getI8Type();
    auto type = VectorType::get({kGroupSize}, i8);
    Value raw = bytes(offset, kGroupSize / 8);
    SmallVector<int64_t> spread;
    SmallVector<int8_t> masks;
    for (int64_t j = 0; j < kGroupSize; ++j) {
      spread.push_back(j / 8);
      masks.push_back(static_cast<int8_t>(1u << (j % 8)));
    }
    Value bytesOfBits = vector::ShuffleOp::create(b, loc, raw, raw, spread);
    Value mask = arith::ConstantOp::create(
        b, loc, DenseElementsAttr::get(type, ArrayRef<int8_t>(masks)));
    Value bits = arith::AndIOp::create(b, loc, bytesOfBits, mask);
    Value zero = splatLike(bits, 0);
    Value set =
        arith::CmpIOp::create(b, loc, arith::CmpIPredicate::ne, bits, zero);
    Value on = splatLike(bits, value);
    return arith::SelectOp::create(b, loc, set, on, zero);
  }

  /// The constant `value` with the type of `like` (a scalar or a vector).
  Value splatLike(Value like, int64_t value) {
    Type type = like.getType();
    Type element = getElementTypeOrSelf(type);
    TypedAttr attr = b.getIntegerAttr(element, value);
    if (auto vector = dyn_cast<VectorType>(type))
      attr = DenseElementsAttr::get(vector, attr);
    return arith::ConstantOp::create(b, loc, attr);
  }

  // Integer ops with a constant right-hand side, on scalars or vectors.
  Value andv(Value v, int64_t c) {
    Value cst = splatLike(v, c);
    return arith::AndIOp::create(b, loc, v, cst);
  }
  Value andi(Value v, int64_t c) { return andv(v, c); }
  Value shruv(Value v, int64_t c) {
    Value cst = splatLike(v, c);
    return arith::ShRUIOp::create(b, loc, v, cst);
  }
  Value shrui(Value v, int64_t c) { return shruv(v, c); }
  Value shlv(Value v, int64_t c) {
    Value cst = splatLike(v, c);
    return arith::ShLIOp::create(b, loc, v, cst);
  }
  Value shli(Value v, int64_t c) { return shlv(v, c); }
  Value subi(Value v, int64_t c) {
    Value cst = splatLike(v, c);
    return arith::SubIOp::create(b, loc, v, cst);
  }
  Value ori(Value x, Value y) { return arith::OrIOp::create(b, loc, x, y); }

  // Scalar float ops.
  Value itofp(Value v) {
    return arith::SIToFPOp::create(b, loc, b.getF32Type(), v);
  }
  Value mulf(Value x, Value y) { return arith::MulFOp::create(b, loc, x, y); }
  Value negf(Value v) { return arith::NegFOp::create(b, loc, v); }

  OpBuilder &getBuilder() { return b; }
  Location getLoc() { return loc; }

private:
  OpBuilder &b;
  Location loc;
  Value view;
  SmallVector<Value> block;
  std::optional<InterleavedLane> interleaved;
};

/// 32 consecutive weights of a block in integer form: weight i is
/// `scale * quants[i] + min`, with `scaleHigh` (when set) instead of `scale`
/// for i >= 16 (formats with 16-element sub-blocks). `quants` is a
/// vector<32xi8> of small signed values, or of values in [0, 127] when
/// `isUnsigned` (the dot product then skips llama.cpp's sign trick); `min` is
/// optional. Every GGUF block format decodes to groups: the integer dot
/// product uses the quants as they are, the f32 path converts them.
struct QuantGroup {
  Value quants;
  Value scale;
  Value scaleHigh;
  Value min;
  bool isUnsigned = false;
  /// When non-zero, `quants` are unsigned and weight i is
  /// `scale * (quants[i] + offset)`: q4_0's nibbles with offset -8. The
  /// interleaved GEMV keeps them unsigned (no sign trick) and adds the
  /// offset times the activations' sum; the others add it to the quants
  /// first (withOffsetApplied).
  int64_t offset = 0;
  /// Set when `quants` are the low nibbles of 16 consecutive bytes followed
  /// by their high nibbles (q4_0, q4_1). The interleaved GEMV then pairs the
  /// halves of two rows in one vector: one and/shift unpacks both rows, and
  /// the dot products land in half as many lanes to add up.
  bool nibblePacked = false;
  /// When non-zero, `quants` are unsigned and at most this (ternary digits:
  /// 3 or 2): the integer dots of a block's groups that share one scale
  /// then go into one qt.dot_i8_sum, which sums their 16-bit pair sums
  /// before widening them.
  int64_t maxQuant = 0;
};

/// `group` with its offset added to the quants (signed small integers).
static QuantGroup withOffsetApplied(OpBuilder &b, Location loc,
                                    QuantGroup group) {
  if (!group.offset)
    return group;
  auto type = cast<VectorType>(group.quants.getType());
  Value offset = arith::ConstantOp::create(
      b, loc,
      DenseElementsAttr::get(
          type, b.getIntegerAttr(type.getElementType(), group.offset)));
  group.quants = arith::AddIOp::create(b, loc, group.quants, offset);
  group.isUnsigned = false;
  group.offset = 0;
  return group;
}

/// A decoded block: its groups in element order, and for blocks of
/// kDotLanes groups whose mins are known together, `mins` (vector<8xf32>,
/// lane g the min of group g) instead of each group's `min`: one fma with
/// the activations' 8 block sums adds them all.
struct BlockGroups {
  SmallVector<QuantGroup> groups;
  Value mins;
  /// Set when group g's scale is `superScale` (f32) times lane g of
  /// `intScales` (vector<8xi32>; all ones when unset), with no scaleHigh:
  /// with activations quantized per block (q8_K), the groups' integer dots,
  /// weighted by their integer scales, add up before one conversion.
  Value superScale;
  Value intScales;
  /// When non-zero, every weight is `superScale * (q + intOffset)` with the
  /// quants unsigned (the ternary formats' -1). With int8 activations that
  /// share the block's scale, the offset times the activations' integer
  /// group sums joins the block's integer sum (one vector add); otherwise
  /// it becomes every group's offset (blockOffsetToGroups).
  int64_t intOffset = 0;
};

// Decoders name every operand before combining them: C++ leaves the order in
// which call arguments are evaluated open, and the IR should not depend on it.
// Each computes its groups exactly as llama.cpp's dequantizer does.

/// q8_0: f16 d, int8 q[32]; w = q * d.
static void decodeQ8_0(BlockReader &r, BlockGroups &out) {
  Value d = r.f16(0);
  Value q = r.bytes(2, 32);
  out.groups.push_back({q, d, {}, {}});
}

/// q4_0: f16 d, u8 qs[16]; w = (nibble - 8) * d.
static void decodeQ4_0(BlockReader &r, BlockGroups &out) {
  Value d = r.f16(0);
  QuantGroup group{r.nibbles(2), d, {}, {}};
  group.isUnsigned = true;
  group.offset = -8;
  group.nibblePacked = true;
  out.groups.push_back(group);
}

/// q4_1: f16 d, f16 m, u8 qs[16]; w = nibble * d + m.
static void decodeQ4_1(BlockReader &r, BlockGroups &out) {
  Value d = r.f16(0);
  Value m = r.f16(2);
  QuantGroup group{r.nibbles(4), d, {}, m};
  group.isUnsigned = true;
  group.nibblePacked = true;
  out.groups.push_back(group);
}

/// The 5-bit quants of q5_0/q5_1: nibbles from `qs`, bit j of the u32 at
/// `qh` as the fifth bit of element j.
static Value fiveBitQuants(BlockReader &r, int64_t qh, int64_t qs) {
  Value low = r.nibbles(qs);
  Value high = r.highBits(qh, 16);
  return r.ori(low, high);
}

/// q5_0: f16 d, u32 qh, u8 qs[16]; w = (q - 16) * d.
static void decodeQ5_0(BlockReader &r, BlockGroups &out) {
  Value d = r.f16(0);
  QuantGroup group{fiveBitQuants(r, 2, 6), d, {}, {}};
  group.isUnsigned = true;
  group.offset = -16;
  out.groups.push_back(group);
}

/// q5_1: f16 d, f16 m, u32 qh, u8 qs[16]; w = q * d + m.
static void decodeQ5_1(BlockReader &r, BlockGroups &out) {
  Value d = r.f16(0);
  Value m = r.f16(2);
  QuantGroup group{fiveBitQuants(r, 4, 8), d, {}, m};
  group.isUnsigned = true;
  out.groups.push_back(group);
}

/// The 6-bit scales and mins of the 8 sub-blocks of q4_k/q5_k from the 12
/// bytes at `offset` (llama.cpp's get_scale_min_k4), as vector<8xi8>s, lane
/// j for sub-block j: for j < 4 the low 6 bits of scales[j] (scale) and
/// scales[j + 4] (min); for j >= 4 the nibbles of scales[j + 4] with the top
/// two bits of scales[j - 4] (scale) and scales[j] (min) above them.
///
/// Computed on the three little-endian u32 words of the bytes, four bytes at
/// a time, as llama.cpp does: the work then runs on the scalar integer units.
/// The vector units are the GEMV's bottleneck (their shuffle and shift ports
/// above all), and a byte-vector form of this step kept two of them busy for
/// about a fifth of every Q4_K block.
static std::pair<Value, Value>
kQuantScalesMins(OpBuilder &b, Location loc, BlockReader &r, int64_t offset) {
  Type i32 = b.getI32Type();
  auto word = [&](int64_t at) -> Value {
    Value raw = r.bytes(offset + at, 4);
    Value asWord =
        vector::BitCastOp::create(b, loc, VectorType::get({1}, i32), raw);
    return vector::ExtractOp::create(b, loc, asWord, ArrayRef<int64_t>{0});
  };
  Value w0 = word(0), w1 = word(4), w2 = word(8);
  // Four bytes per word: scales 0..3 and 4..7, mins 0..3 and 4..7.
  Value sc03 = r.andi(w0, 0x3f3f3f3f);
  Value m03 = r.andi(w1, 0x3f3f3f3f);
  Value sc47 = r.ori(r.andi(w2, 0x0f0f0f0f),
                     r.shli(r.andi(r.shrui(w0, 6), 0x03030303), 4));
  Value m47 = r.ori(r.andi(r.shrui(w2, 4), 0x0f0f0f0f),
                    r.shli(r.andi(r.shrui(w1, 6), 0x03030303), 4));
  // Two words as the 8 bytes of one i64 (one move into a vector register).
  auto bytes8 = [&](Value low, Value high) -> Value {
    Type i64 = b.getI64Type();
    Value lo = arith::ExtUIOp::create(b, loc, i64, low);
    Value hi = arith::ExtUIOp::create(b, loc, i64, high);
    Value both = r.ori(lo, r.shli(hi, 32));
    Value asVector = vector::FromElementsOp::create(
        b, loc, VectorType::get({1}, i64), ValueRange{both});
    return vector::BitCastOp::create(
        b, loc, VectorType::get({8}, b.getI8Type()), asVector);
  };
  return {bytes8(sc03, sc47), bytes8(m03, m47)};
}

/// q4_k (256 elements): f16 d, f16 dmin, u8 scales[12], u8 qs[128]. Sub-block
/// j = 2c + h is nibble h of qs[32c .. 32c + 32]; w = d*sc_j*q - dmin*m_j.
/// q5_k adds qh[32] before qs: bit j of qh[l] is the fifth bit of element l
/// of sub-block j. The 8 scales and mins are decoded as vectors; the mins
/// stay one vector for the block.
static void decodeKQuant(OpBuilder &b, Location loc, BlockReader &r,
                         BlockGroups &out, bool fiveBits) {
  Value d = r.f16(0);
  Value dmin = r.f16(2);
  auto [scBytes, mBytes] = kQuantScalesMins(b, loc, r, /*offset=*/4);
  auto i32s = VectorType::get({8}, b.getI32Type());
  // The integer scales stay an extension of bytes: qt-lower-int8-ops then
  // spreads each one over a vpmaddwd operand with a single byte shuffle.
  Value scI = arith::ExtUIOp::create(b, loc, i32s, scBytes);
  Value mI = arith::ExtUIOp::create(b, loc, i32s, mBytes);
  auto f32s = VectorType::get({8}, b.getF32Type());
  Value sc = arith::UIToFPOp::create(b, loc, f32s, scI);
  Value m = arith::UIToFPOp::create(b, loc, f32s, mI);
  out.superScale = d;
  out.intScales = scI;
  Value dSplat = vector::BroadcastOp::create(b, loc, f32s, d);
  Value dminSplat = vector::BroadcastOp::create(b, loc, f32s, dmin);
  Value scales = arith::MulFOp::create(b, loc, dSplat, sc);
  Value mins = arith::MulFOp::create(b, loc, dminSplat, m);
  out.mins = arith::NegFOp::create(b, loc, mins);
  int64_t qsOffset = fiveBits ? 48 : 16;
  Value qh = fiveBits ? r.bytes(16, 32) : Value();
  for (int64_t c = 0; c < 4; ++c) {
    Value packed = r.bytes(qsOffset + 32 * c, 32);
    for (int64_t h = 0; h < 2; ++h) {
      int64_t j = 2 * c + h;
      Value q = h == 0 ? r.andv(packed, 0xF) : r.shruv(packed, 4);
      if (fiveBits) {
        Value bit = r.andv(r.shruv(qh, j), 1);
        q = r.ori(q, r.shlv(bit, 4));
      }
      Value scale =
          vector::ExtractOp::create(b, loc, scales, ArrayRef<int64_t>{j});
      QuantGroup group{q, scale, {}, {}};
      group.isUnsigned = true;
      out.groups.push_back(group);
    }
  }
}

static void decodeQ4_K(BlockReader &r, BlockGroups &out) {
  decodeKQuant(r.getBuilder(), r.getLoc(), r, out, /*fiveBits=*/false);
}
static void decodeQ5_K(BlockReader &r, BlockGroups &out) {
  decodeKQuant(r.getBuilder(), r.getLoc(), r, out, /*fiveBits=*/true);
}

/// q6_k (256 elements): u8 ql[128], u8 qh[64], i8 scales[16], f16 d. In half
/// n, group k (elements 128n + 32k + l) takes nibble k/2 of
/// ql[64n + 32(k%2) + l] and bits 2k..2k+1 of qh[32n + l] as its high bits;
/// w = d * scales[8n + 2k + l/16] * (q - 32).
static void decodeQ6_K(BlockReader &r, BlockGroups &out) {
  OpBuilder &b = r.getBuilder();
  Value d = r.f16(208);
  Value scales = r.bytes(192, 16);
  // Lane 2g (2g + 1) scales the low (high) 16 elements of group g.
  out.superScale = d;
  out.intScales = arith::ExtSIOp::create(
      b, r.getLoc(), VectorType::get({16}, b.getI32Type()), scales);
  for (int64_t n = 0; n < 2; ++n) {
    Value qh = r.bytes(128 + 32 * n, 32);
    for (int64_t k = 0; k < 4; ++k) {
      Value ql = r.bytes(64 * n + 32 * (k % 2), 32);
      Value low = k < 2 ? r.andv(ql, 0xF) : r.shruv(ql, 4);
      Value high = r.shlv(r.andv(r.shruv(qh, 2 * k), 3), 4);
      Value scLow = r.signedByteAt(scales, 8 * n + 2 * k);
      Value scHigh = r.signedByteAt(scales, 8 * n + 2 * k + 1);
      Value scale = r.mulf(d, r.itofp(scLow));
      Value scaleHigh = r.mulf(d, r.itofp(scHigh));
      QuantGroup group{r.ori(low, high), scale, scaleHigh, {}};
      group.isUnsigned = true;
      group.offset = -32;
      out.groups.push_back(group);
    }
  }
}

/// q2_k (256 elements): u8 scales[16], u8 qs[64], f16 d, f16 dmin. In half
/// n, group j (elements 128n + 32j + l) is bits 2j..2j+1 of qs[32n + l];
/// its 16-element halves k = 8n + 2j, 8n + 2j + 1 have the scale in the low
/// and the min in the high nibble of scales[k]: w = d * sc_k * q - dmin *
/// m_k. The 16 mins stay one vector (one per 16 activations' sum).
static void decodeQ2_K(BlockReader &r, BlockGroups &out) {
  OpBuilder &b = r.getBuilder();
  Location loc = r.getLoc();
  Value d = r.f16(80);
  Value dmin = r.f16(82);
  Value packed = r.bytes(0, 16);
  Value scaleNibbles = r.andv(packed, 0xF);
  // Lane 2g (2g + 1) scales the low (high) 16 elements of group g.
  out.superScale = d;
  out.intScales = arith::ExtUIOp::create(
      b, loc, VectorType::get({16}, b.getI32Type()), scaleNibbles);
  auto f32x16 = VectorType::get({16}, b.getF32Type());
  Value sc = arith::UIToFPOp::create(b, loc, f32x16, scaleNibbles);
  Value m = arith::UIToFPOp::create(b, loc, f32x16, r.shruv(packed, 4));
  Value dSplat = vector::BroadcastOp::create(b, loc, f32x16, d);
  Value dminSplat = vector::BroadcastOp::create(b, loc, f32x16, dmin);
  Value scales = arith::MulFOp::create(b, loc, dSplat, sc);
  Value mins = arith::MulFOp::create(b, loc, dminSplat, m);
  out.mins = arith::NegFOp::create(b, loc, mins);
  for (int64_t n = 0; n < 2; ++n) {
    Value qs = r.bytes(16 + 32 * n, 32);
    for (int64_t j = 0; j < 4; ++j) {
      Value q = r.andv(r.shruv(qs, 2 * j), 3);
      Value scaleLow = vector::ExtractOp::create(
          b, loc, scales, ArrayRef<int64_t>{8 * n + 2 * j});
      Value scaleHigh = vector::ExtractOp::create(
          b, loc, scales, ArrayRef<int64_t>{8 * n + 2 * j + 1});
      QuantGroup group{q, scaleLow, scaleHigh, {}};
      group.isUnsigned = true;
      out.groups.push_back(group);
    }
  }
}

/// q3_k (256 elements): u8 hmask[32], u8 qs[64], u8 scales[12], f16 d. In
/// half n, group j (elements 128n + 32j + l) is bits 2j..2j+1 of qs[32n + l]
/// minus 4 unless bit 4n + j of hmask[l] is set (unsigned q in [0, 7] with
/// offset -4); its halves (16 elements) have the 6-bit scales 8n + 2j and
/// 8n + 2j + 1, minus 32:
/// w = d * (scale - 32) * q. Scale k is nibble k / 8 of scales[k % 8] with
/// bits 2(k / 4)..+1 of scales[8 + k % 4] above it (llama.cpp's kmask
/// shuffle), decoded for all 16 at once.
static void decodeQ3_K(BlockReader &r, BlockGroups &out) {
  OpBuilder &b = r.getBuilder();
  Location loc = r.getLoc();
  Value d = r.f16(108);
  Value scaleBytes = r.bytes(96, 12);
  SmallVector<int64_t> lowLanes, highLanes;
  SmallVector<int8_t> lowShifts, highShifts;
  for (int64_t k = 0; k < 16; ++k) {
    lowLanes.push_back(k % 8);
    lowShifts.push_back(k < 8 ? 0 : 4);
    highLanes.push_back(8 + k % 4);
    highShifts.push_back(2 * (k / 4));
  }
  auto i8x16 = VectorType::get({16}, b.getI8Type());
  auto constant = [&](ArrayRef<int8_t> values) -> Value {
    return arith::ConstantOp::create(b, loc,
                                     DenseElementsAttr::get(i8x16, values));
  };
  Value lowSource =
      vector::ShuffleOp::create(b, loc, scaleBytes, scaleBytes, lowLanes);
  Value highSource =
      vector::ShuffleOp::create(b, loc, scaleBytes, scaleBytes, highLanes);
  Value low = r.andv(
      arith::ShRUIOp::create(b, loc, lowSource, constant(lowShifts)), 0xF);
  Value high = r.shlv(
      r.andv(arith::ShRUIOp::create(b, loc, highSource, constant(highShifts)),
             3),
      4);
  Value scales6 = r.subi(r.ori(low, high), 32);
  // Lane 2g (2g + 1) scales the low (high) 16 elements of group g.
  out.superScale = d;
  out.intScales = arith::ExtSIOp::create(
      b, loc, VectorType::get({16}, b.getI32Type()), scales6);
  auto f32x16 = VectorType::get({16}, b.getF32Type());
  Value scalesF = arith::SIToFPOp::create(b, loc, f32x16, scales6);
  Value dSplat = vector::BroadcastOp::create(b, loc, f32x16, d);
  Value scales = arith::MulFOp::create(b, loc, dSplat, scalesF);
  Value hmask = r.bytes(0, 32);
  for (int64_t n = 0; n < 2; ++n) {
    Value qs = r.bytes(32 + 32 * n, 32);
    for (int64_t j = 0; j < 4; ++j) {
      Value low2 = r.andv(r.shruv(qs, 2 * j), 3);
      Value bit = r.andv(r.shruv(hmask, 4 * n + j), 1);
      Value q = r.ori(low2, r.shlv(bit, 2));
      Value scaleLow = vector::ExtractOp::create(
          b, loc, scales, ArrayRef<int64_t>{8 * n + 2 * j});
      Value scaleHigh = vector::ExtractOp::create(
          b, loc, scales, ArrayRef<int64_t>{8 * n + 2 * j + 1});
      QuantGroup group{q, scaleLow, scaleHigh, {}};
      group.isUnsigned = true;
      group.offset = -4;
      out.groups.push_back(group);
    }
  }
}

/// tq2_0 (256 elements, ternary): u8 qs[64], f16 d. Element 128c + 32l + m
/// is bits 2l..2l+1 of qs[32c + m]; w = d * (q - 1), with the unsigned q in
/// [0, 3] and -1 as the block's offset.
static void decodeTQ2_0(BlockReader &r, BlockGroups &out) {
  Value d = r.f16(64);
  out.superScale = d;
  out.intOffset = -1;
  for (int64_t c = 0; c < 2; ++c) {
    Value qs = r.bytes(32 * c, 32);
    for (int64_t l = 0; l < 4; ++l) {
      Value q = r.andv(r.shruv(qs, 2 * l), 3);
      QuantGroup group{q, d, {}, {}};
      group.isUnsigned = true;
      group.maxQuant = 3;
      out.groups.push_back(group);
    }
  }
}

/// llama.cpp's kvalues_iq4nl: the 16 non-uniform levels of IQ4_NL.
static constexpr int8_t kIQ4NLLevels[16] = {
    -127, -104, -83, -65, -49, -35, -22, -10, 1, 13, 25, 38, 53, 69, 89, 113};

/// llama.cpp's kvalues_mxfp4: the e2m1 values doubled (integers; the scale
/// is halved to match).
static constexpr int8_t kMXFP4Levels[16] = {0, 1,  2,  3,  4,  6,  8,  12,
                                            0, -1, -2, -3, -4, -6, -8, -12};

/// iq4_nl: f16 d, u8 qs[16] in q4_0's order; w = d * kvalues_iq4nl[nibble].
static void decodeIQ4_NL(BlockReader &r, BlockGroups &out) {
  Value d = r.f16(0);
  Value nibbles = r.nibbles(2);
  OpBuilder &b = r.getBuilder();
  Value q = LookupI8Op::create(b, r.getLoc(), nibbles.getType(), nibbles,
                               b.getDenseI8ArrayAttr(kIQ4NLLevels));
  out.groups.push_back({q, d, {}, {}});
}

/// mxfp4: u8 e (e8m0), u8 qs[16] in q4_0's order; w = kvalues_mxfp4[nibble]
/// * 2^(e - 128), the scale built as llama.cpp's ggml_e8m0_to_fp32_half:
/// (e - 1) << 23 as f32 bits, or the subnormal 0x00200000 << e for e < 2.
static void decodeMXFP4(BlockReader &r, BlockGroups &out) {
  OpBuilder &b = r.getBuilder();
  Location loc = r.getLoc();
  Value e = r.byteAt(r.bytes(0, 1), 0);
  Value normal = r.shli(r.subi(e, 1), 23);
  Value smallest =
      arith::ConstantIntOp::create(b, loc, b.getI32Type(), 0x00200000);
  Value one = arith::ConstantIntOp::create(b, loc, b.getI32Type(), 1);
  Value subnormal = arith::ShLIOp::create(
      b, loc, smallest, arith::AndIOp::create(b, loc, e, one));
  Value two = arith::ConstantIntOp::create(b, loc, b.getI32Type(), 2);
  Value isSubnormal =
      arith::CmpIOp::create(b, loc, arith::CmpIPredicate::ult, e, two);
  Value bits = arith::SelectOp::create(b, loc, isSubnormal, subnormal, normal);
  Value d = arith::BitcastOp::create(b, loc, b.getF32Type(), bits);
  Value nibbles = r.nibbles(1);
  Value q = LookupI8Op::create(b, loc, nibbles.getType(), nibbles,
                               b.getDenseI8ArrayAttr(kMXFP4Levels));
  out.groups.push_back({q, d, {}, {}});
}

/// Base-3 digit of the bytes `v` (vector<N x i8>) for the powers of 3 `powers`
/// (one per lane): ((v * 3^k mod 256) * 3) >> 8, as TQ1_0 stores its
/// ternary digits (the byte holds ceil(n * 256 / 243) of their value n).
static Value ternaryDigits(OpBuilder &b, Location loc, Value v,
                           ArrayRef<int8_t> powers) {
  auto bytesType = cast<VectorType>(v.getType());
  auto wideType = VectorType::get(bytesType.getShape(), b.getI16Type());
  Value powerVector = arith::ConstantOp::create(
      b, loc, DenseElementsAttr::get(bytesType, powers));
  Value shifted = arith::MulIOp::create(b, loc, v, powerVector);
  Value wide = arith::ExtUIOp::create(b, loc, wideType, shifted);
  Value three = arith::ConstantOp::create(
      b, loc, DenseElementsAttr::get(wideType, b.getI16IntegerAttr(3)));
  Value eight = arith::ConstantOp::create(
      b, loc, DenseElementsAttr::get(wideType, b.getI16IntegerAttr(8)));
  Value times3 = arith::MulIOp::create(b, loc, wide, three);
  Value digit = arith::ShRUIOp::create(b, loc, times3, eight);
  return arith::TruncIOp::create(b, loc, bytesType, digit);
}

/// tq1_0 (256 elements, ternary): u8 qs[48], u8 qh[4], f16 d. Digit k of
/// qs[j] is element 32k + j for j < 32 (k < 5), 160 + 16k + (j - 32) for
/// 32 <= j < 48; digit k of qh[j] is element 240 + 4k + j (k < 4). The digit
/// q is in [0, 2]; w = d * (q - 1), as tq2_0.
static void decodeTQ1_0(BlockReader &r, BlockGroups &out) {
  OpBuilder &b = r.getBuilder();
  Location loc = r.getLoc();
  Value d = r.f16(52);
  out.superScale = d;
  out.intOffset = -1;
  auto push = [&](Value q) {
    QuantGroup group{q, d, {}, {}};
    group.isUnsigned = true;
    group.maxQuant = 2;
    out.groups.push_back(group);
  };
  auto splatPowers = [](int64_t count, int8_t power) {
    return SmallVector<int8_t>(count, power);
  };
  const int8_t pow3[5] = {1, 3, 9, 27, 81};
  // Elements 0..159: digit k of qs[0..32).
  Value first = r.bytes(0, 32);
  for (int64_t k = 0; k < 5; ++k)
    push(ternaryDigits(b, loc, first, splatPowers(32, pow3[k])));
  // Elements 160..239: digit k of qs[32..48), 16 per digit; 240..255: digit k
  // of qh[0..4), 4 per digit.
  Value second = r.bytes(32, 16);
  Value qh = r.bytes(48, 4);
  SmallVector<Value> halves;
  for (int64_t k = 0; k < 5; ++k)
    halves.push_back(ternaryDigits(b, loc, second, splatPowers(16, pow3[k])));
  SmallVector<int64_t> spread;
  SmallVector<int8_t> qhPowers;
  for (int64_t k = 0; k < 4; ++k)
    for (int64_t j = 0; j < 4; ++j) {
      spread.push_back(j);
      qhPowers.push_back(pow3[k]);
    }
  Value qhSpread = vector::ShuffleOp::create(b, loc, qh, qh, spread);
  halves.push_back(ternaryDigits(b, loc, qhSpread, qhPowers));
  SmallVector<int64_t> concat = llvm::to_vector(llvm::seq<int64_t>(0, 32));
  for (int64_t h = 0; h < 6; h += 2)
    push(vector::ShuffleOp::create(b, loc, halves[h], halves[h + 1], concat));
}

/// A format's group decoder: appends the block's blockSize / 32 groups in
/// element order (and may set the block's mins).
using GroupDecoder = void (*)(BlockReader &, BlockGroups &);

/// How this lowering handles one GGUF format: its decoder and what its int8
/// path needs from the quantized activations.
struct VectorFormat {
  GroupDecoder decode;
  /// Weights have a min term (w = d * q + m): the activations' sums are
  /// needed, per `sumWidth` elements (16 for Q2_K's sub-blocks).
  bool hasMin = false;
  int64_t sumWidth = kGroupSize;
  /// Groups of 32 per activation scale: 8 (llama.cpp's q8_K, one scale per
  /// 256) for formats whose 256-element blocks have one f32 scale (times
  /// small integer scales per group), so that their groups' integer dots
  /// add up; 1 (q8_0) otherwise.
  int64_t activationGroups = 1;
  /// Only with int8 activations (Q2_K: its mins per 16 elements need the
  /// activations' sums per 16); float activations go element-wise.
  bool needsInt8 = false;
  /// Readable with interleaved rows: every group has one scale (no
  /// scaleHigh), so that a group's dots of 8 rows sum to one lane each.
  bool interleavable = true;
  /// The decoder sets a block offset (BlockGroups::intOffset): the int8
  /// path needs the activations' integer sums per group.
  bool intSums = false;
};

/// The vector description of `scheme`'s format, if this lowering knows it.
static std::optional<VectorFormat> getVectorFormat(GGUFFormat format) {
  switch (format) {
  case GGUFFormat::Q8_0:
    return VectorFormat{decodeQ8_0};
  case GGUFFormat::Q4_0:
    return VectorFormat{decodeQ4_0};
  case GGUFFormat::Q4_1:
    return VectorFormat{decodeQ4_1, /*hasMin=*/true};
  case GGUFFormat::Q5_0:
    return VectorFormat{decodeQ5_0};
  case GGUFFormat::Q5_1:
    return VectorFormat{decodeQ5_1, /*hasMin=*/true};
  // Q2_K, Q3_K and Q6_K: activations per 256 (q8_K) with sums per 16; the
  // integer scales per 16 elements ride in the dots (scale and high scale),
  // and Q3_K's -4 and Q6_K's -32 meet the sums as mins (offsetsToMins).
  case GGUFFormat::Q2_K:
    return VectorFormat{decodeQ2_K,
                        /*hasMin=*/true,
                        /*sumWidth=*/16,
                        /*activationGroups=*/8,
                        /*needsInt8=*/true,
                        /*interleavable=*/false};
  case GGUFFormat::Q3_K:
    return VectorFormat{decodeQ3_K,
                        /*hasMin=*/true,
                        /*sumWidth=*/16,
                        /*activationGroups=*/8,
                        /*needsInt8=*/false,
                        /*interleavable=*/false};
  case GGUFFormat::Q4_K:
    return VectorFormat{decodeQ4_K, /*hasMin=*/true, kGroupSize,
                        /*activationGroups=*/8};
  case GGUFFormat::Q5_K:
    return VectorFormat{decodeQ5_K, /*hasMin=*/true, kGroupSize,
                        /*activationGroups=*/8};
  case GGUFFormat::Q6_K:
    return VectorFormat{decodeQ6_K,
                        /*hasMin=*/true,
                        /*sumWidth=*/16,
                        /*activationGroups=*/8,
                        /*needsInt8=*/false,
                        /*interleavable=*/false};
  case GGUFFormat::TQ1_0:
    return VectorFormat{decodeTQ1_0,
                        /*hasMin=*/false,
                        kGroupSize,
                        /*activationGroups=*/8,
                        /*needsInt8=*/false,
                        /*interleavable=*/true,
                        /*intSums=*/true};
  case GGUFFormat::TQ2_0:
    return VectorFormat{decodeTQ2_0,
                        /*hasMin=*/false,
                        kGroupSize,
                        /*activationGroups=*/8,
                        /*needsInt8=*/false,
                        /*interleavable=*/true,
                        /*intSums=*/true};
  case GGUFFormat::IQ4_NL:
    return VectorFormat{decodeIQ4_NL};
  case GGUFFormat::MXFP4:
    return VectorFormat{decodeMXFP4};
  default:
    return std::nullopt;
  }
}

//===----------------------------------------------------------------------===//
// Quantized activations
//===----------------------------------------------------------------------===//

/// Activations [M, K] quantized as llama.cpp's q8_0/q8_1 (per block of 32)
/// or q8_K (per block of 256): `quants` [M, K] i8, `scales` [M, K / block]
/// f32 (d = amax / 127) and, for formats with a min, `sums` [M, K / sumWidth]
/// f32 (d * the sum of each run of sumWidth quants: 32, or 16 for Q2_K's
/// 16-element sub-blocks). `intSums` [M, K / 32] i32, when asked for, holds
/// the plain sums of each group's quants (for block offsets).
struct QuantizedActivations {
  Value quants;
  Value scales;
  Value sums;
  Value intSums;
  /// Groups of 32 per scale: 1, or 8 for 256-element blocks.
  int64_t groupsPerScale = 1;
  int64_t sumWidth = kGroupSize;
};

/// Quantizes the float matrix `x` [M, K] in blocks of `groupsPerScale`
/// groups of 32: per block, d = amax / 127 and q = roundeven(x * (127 /
/// amax)) (0 where the block is all zero).
static QuantizedActivations quantizeActivations(OpBuilder &b, Location loc,
                                                Value x, bool withSums,
                                                int64_t groupsPerScale,
                                                int64_t sumWidth,
                                                bool withIntSums) {
  auto xType = cast<RankedTensorType>(x.getType());
  int64_t k = xType.getDimSize(1);
  int64_t blockSize = kGroupSize * groupsPerScale;
  int64_t blocks = k / blockSize;
  Type f32 = b.getF32Type(), i8 = b.getI8Type(), i32 = b.getI32Type();
  OpFoldResult m = tensor::getMixedSize(b, loc, x, 0);
  auto empty = [&](int64_t cols, Type element) -> Value {
    return tensor::EmptyOp::create(
        b, loc, SmallVector<OpFoldResult>{m, b.getIndexAttr(cols)}, element);
  };
  SmallVector<Value> inits = {empty(k, i8), empty(blocks, f32)};
  if (withSums)
    inits.push_back(empty(k / sumWidth, f32));
  if (withIntSums)
    inits.push_back(empty(k / kGroupSize, i32));

  auto vf32 = VectorType::get({kGroupSize}, f32);
  Value zero = arith::ConstantIndexOp::create(b, loc, 0);
  Value one = arith::ConstantIndexOp::create(b, loc, 1);
  Value mValue = getValueOrCreateConstantIndexOp(b, loc, m);
  Value blockCount = arith::ConstantIndexOp::create(b, loc, blocks);
  Value xPad = arith::ConstantOp::create(
      b, loc, b.getFloatAttr(xType.getElementType(), 0.0));
  auto rows = scf::ForOp::create(
      b, loc, zero, mValue, one, inits,
      [&](OpBuilder &rb, Location rloc, Value row, ValueRange rowArgs) {
        auto cols = scf::ForOp::create(
            rb, rloc, zero, blockCount, one, rowArgs,
            [&](OpBuilder &bb, Location bloc, Value block, ValueRange args) {
              // The block's groups, their largest magnitude, then each group
              // quantized with the block's scale.
              SmallVector<Value> xs, groupIndex, cols;
              Value amax;
              for (int64_t g = 0; g < groupsPerScale; ++g) {
                Value blockGroups =
                    arith::ConstantIndexOp::create(bb, bloc, groupsPerScale);
                Value offset = arith::ConstantIndexOp::create(bb, bloc, g);
                Value first =
                    arith::MulIOp::create(bb, bloc, block, blockGroups);
                groupIndex.push_back(
                    arith::AddIOp::create(bb, bloc, first, offset));
                Value width =
                    arith::ConstantIndexOp::create(bb, bloc, kGroupSize);
                cols.push_back(
                    arith::MulIOp::create(bb, bloc, groupIndex.back(), width));
                Value v = vector::TransferReadOp::create(
                    bb, bloc,
                    VectorType::get({kGroupSize}, xType.getElementType()), x,
                    ValueRange{row, cols.back()}, xPad, ArrayRef<bool>{true});
                if (xType.getElementType() != f32)
                  v = arith::ExtFOp::create(bb, bloc, vf32, v);
                xs.push_back(v);
                Value abs = math::AbsFOp::create(bb, bloc, v);
                Value groupMax = vector::ReductionOp::create(
                    bb, bloc, vector::CombiningKind::MAXNUMF, abs);
                amax = amax ? arith::MaxNumFOp::create(bb, bloc, amax, groupMax)
                                  .getResult()
                            : groupMax;
              }
              Value c127 =
                  arith::ConstantOp::create(bb, bloc, bb.getF32FloatAttr(127));
              Value c0 =
                  arith::ConstantOp::create(bb, bloc, bb.getF32FloatAttr(0));
              Value d = arith::DivFOp::create(bb, bloc, amax, c127);
              Value nonZero = arith::CmpFOp::create(
                  bb, bloc, arith::CmpFPredicate::ONE, amax, c0);
              Value inverse = arith::DivFOp::create(bb, bloc, c127, amax);
              inverse = arith::SelectOp::create(bb, bloc, nonZero, inverse, c0);
              Value inverseSplat =
                  vector::BroadcastOp::create(bb, bloc, vf32, inverse);
              Value quants = args[0];
              Value sums = withSums ? args[2] : Value();
              Value intSums = withIntSums ? args.back() : Value();
              for (int64_t g = 0; g < groupsPerScale; ++g) {
                Value scaled =
                    arith::MulFOp::create(bb, bloc, xs[g], inverseSplat);
                Value rounded = math::RoundEvenOp::create(bb, bloc, scaled);
                Value q = arith::FPToSIOp::create(
                    bb, bloc, VectorType::get({kGroupSize}, i8), rounded);
                quants = vector::TransferWriteOp::create(
                             bb, bloc, q, quants, ValueRange{row, cols[g]},
                             ArrayRef<bool>{true})
                             .getResult();
                for (int64_t part = 0; withSums && part < kGroupSize / sumWidth;
                     ++part) {
                  Value slice = q;
                  if (sumWidth != kGroupSize)
                    slice = vector::ExtractStridedSliceOp::create(
                        bb, bloc, q, ArrayRef<int64_t>{part * sumWidth},
                        ArrayRef<int64_t>{sumWidth}, ArrayRef<int64_t>{1});
                  Value wide = arith::ExtSIOp::create(
                      bb, bloc, VectorType::get({sumWidth}, i32), slice);
                  Value sum = vector::ReductionOp::create(
                      bb, bloc, vector::CombiningKind::ADD, wide);
                  Value sumF = arith::SIToFPOp::create(bb, bloc, f32, sum);
                  Value scaledSum = arith::MulFOp::create(bb, bloc, d, sumF);
                  Value parts = arith::ConstantIndexOp::create(
                      bb, bloc, kGroupSize / sumWidth);
                  Value offset = arith::ConstantIndexOp::create(bb, bloc, part);
                  Value index = arith::AddIOp::create(
                      bb, bloc,
                      arith::MulIOp::create(bb, bloc, groupIndex[g], parts),
                      offset);
                  sums = tensor::InsertOp::create(bb, bloc, scaledSum, sums,
                                                  ValueRange{row, index});
                }
                if (withIntSums) {
                  Value wide = arith::ExtSIOp::create(
                      bb, bloc, VectorType::get({kGroupSize}, i32), q);
                  Value sum = vector::ReductionOp::create(
                      bb, bloc, vector::CombiningKind::ADD, wide);
                  intSums = tensor::InsertOp::create(
                      bb, bloc, sum, intSums, ValueRange{row, groupIndex[g]});
                }
              }
              SmallVector<Value> next = {quants};
              next.push_back(tensor::InsertOp::create(bb, bloc, d, args[1],
                                                      ValueRange{row, block}));
              if (withSums)
                next.push_back(sums);
              if (withIntSums)
                next.push_back(intSums);
              scf::YieldOp::create(bb, bloc, next);
            });
        scf::YieldOp::create(rb, rloc, cols.getResults());
      });
  QuantizedActivations result;
  result.quants = rows.getResult(0);
  result.scales = rows.getResult(1);
  if (withSums)
    result.sums = rows.getResult(2);
  if (withIntSums)
    result.intSums = rows.getResults().back();
  result.groupsPerScale = groupsPerScale;
  result.sumWidth = sumWidth;
  return result;
}

//===----------------------------------------------------------------------===//
// Dot products of one group with one activation row
//===----------------------------------------------------------------------===//

/// f32 lanes of an accumulator: one AVX2 register.
static constexpr int64_t kDotLanes = 8;

/// `scale` for lanes 0-3 and `scaleHigh` (or `scale`) for lanes 4-7 of an
/// 8-lane vector, each times `factor`.
static Value buildLaneScales(OpBuilder &b, Location loc, const QuantGroup &g,
                             Value factor) {
  auto type = VectorType::get({kDotLanes}, b.getF32Type());
  Value low = arith::MulFOp::create(b, loc, g.scale, factor);
  Value lowSplat = vector::BroadcastOp::create(b, loc, type, low);
  if (!g.scaleHigh)
    return lowSplat;
  Value high = arith::MulFOp::create(b, loc, g.scaleHigh, factor);
  Value highSplat = vector::BroadcastOp::create(b, loc, type, high);
  return vector::ShuffleOp::create(
      b, loc, lowSplat, highSplat,
      ArrayRef<int64_t>{0, 1, 2, 3, 12, 13, 14, 15});
}

/// `acc + sum_i w_i * x_i` over one group in f32, `xs` its activations as
/// vector<32xf32>: each 8-wide slice of quants times x is chained with fmas,
/// then scaled once (per 16-element half when the group has two scales);
/// a min adds `min * x` directly.
static Value buildFloatGroupDot(OpBuilder &b, Location loc, const QuantGroup &g,
                                Value xs, Value acc) {
  Type f32 = b.getF32Type();
  auto lanes = VectorType::get({kDotLanes}, f32);
  Value q = arith::SIToFPOp::create(b, loc, VectorType::get({kGroupSize}, f32),
                                    g.quants);
  auto slice = [&](Value v, int64_t offset) -> Value {
    return vector::ExtractStridedSliceOp::create(
        b, loc, v, ArrayRef<int64_t>{offset}, ArrayRef<int64_t>{kDotLanes},
        ArrayRef<int64_t>{1});
  };
  auto chain = [&](int64_t from, int64_t to) {
    Value dot;
    for (int64_t offset = from; offset < to; offset += kDotLanes) {
      Value qs = slice(q, offset);
      Value x = slice(xs, offset);
      dot = dot ? vector::FMAOp::create(b, loc, qs, x, dot).getResult()
                : arith::MulFOp::create(b, loc, qs, x).getResult();
    }
    return dot;
  };
  auto scaleInto = [&](Value scale, Value dot, Value into) -> Value {
    Value splat = vector::BroadcastOp::create(b, loc, lanes, scale);
    return vector::FMAOp::create(b, loc, splat, dot, into);
  };
  if (g.scaleHigh) {
    acc = scaleInto(g.scale, chain(0, kGroupSize / 2), acc);
    acc = scaleInto(g.scaleHigh, chain(kGroupSize / 2, kGroupSize), acc);
  } else {
    acc = scaleInto(g.scale, chain(0, kGroupSize), acc);
  }
  if (g.min) {
    Value xsum;
    for (int64_t offset = 0; offset < kGroupSize; offset += kDotLanes) {
      Value x = slice(xs, offset);
      xsum = xsum ? arith::AddFOp::create(b, loc, xsum, x).getResult() : x;
    }
    acc = scaleInto(g.min, xsum, acc);
  }
  return acc;
}

//===----------------------------------------------------------------------===//
// The GEMV loop nest
//===----------------------------------------------------------------------===//

/// How the weight rows are read. Quantized formats decode each block of
/// `blockSize` weights to QuantGroups (`decodeGroups`); float weights read a
/// block as vector<blockSize x f32> (`decodeFloat`).
struct RowDecoder {
  int64_t blockSize;
  int64_t blocks;
  /// Decodes the block at an index of the outer dimensions of the weight's
  /// byte view: (row, block), or (row / 8, block, row % 8) for interleaved
  /// rows.
  std::function<void(OpBuilder &, Location, ValueRange, BlockGroups &)>
      decodeGroups;
  std::function<Value(OpBuilder &, Location, Value, Value)> decodeFloat;
  /// When set, emits the qt.prefetch ops for block `block` of the weight
  /// row (or group of interleaved rows) `row` that a single activation row's
  /// block loop reads: see buildPrefetch.
  std::function<void(OpBuilder &, Location, Value, Value)> prefetch;
};

/// Rows of activations that share one decode of each weight block (prefill
/// re-reads the weights once per tile instead of once per row): tiles of
/// kRowTile, then one of kSmallRowTile, then single rows. Measured on the
/// TinyLlama-1.1B shape, 64-token prompt, Zen 5 with AVX512-VL (32 vector
/// registers), 2 threads: 8 rows against 4 prefill Q4_0 +14-17 %, Q4_K
/// +4-5 %, Q8_0 between -11 % and +15 % (noise), decode unchanged.
static constexpr int64_t kRowTile = 8;
static constexpr int64_t kSmallRowTile = 4;

/// What the loops read the activations from: `x` [M, K] as floats, or its
/// quantized form.
struct Activations {
  Value x;
  std::optional<QuantizedActivations> quantized;
};

/// The integer scales of group `index` of `block` for its qt.dot_i8: lane
/// `index` of `intScales` (one per group), or lanes 2 * index and
/// 2 * index + 1 (one per 16-element half: the scale and the high-half
/// scale). Null when the block has no integer scales.
static std::pair<Value, Value> groupIntScales(OpBuilder &b, Location loc,
                                              const BlockGroups &block,
                                              int64_t index) {
  if (!block.intScales)
    return {};
  auto type = cast<VectorType>(block.intScales.getType());
  int64_t perGroup =
      type.getDimSize(0) / static_cast<int64_t>(block.groups.size());
  assert((perGroup == 1 || perGroup == 2) && "one or two scales per group");
  auto lane = [&](int64_t i) -> Value {
    return vector::ExtractOp::create(b, loc, block.intScales,
                                     ArrayRef<int64_t>{i});
  };
  if (perGroup == 1)
    return {lane(index), Value()};
  return {lane(2 * index), lane(2 * index + 1)};
}

/// With int8 activations, a block whose groups share one offset (q6_k's
/// -32) and whose weights are `superScale * intScale * (q + offset)` keeps
/// its quants unsigned: the offset becomes block mins, lane j
/// `offset * superScale * intScales[j]`, which meet the activations' sums
/// per run of `sumWidth` elements (one run per integer scale). That costs
/// one fma per 8 runs instead of the sign trick on every group. Returns
/// whether it did.
static bool offsetsToMins(OpBuilder &b, Location loc, const Activations &acts,
                          BlockGroups &block) {
  if (!acts.quantized || !block.superScale || !block.intScales || block.mins ||
      block.groups.empty())
    return false;
  int64_t offset = block.groups.front().offset;
  if (!offset || llvm::any_of(block.groups, [&](const QuantGroup &g) {
        return g.offset != offset || g.min;
      }))
    return false;
  auto scalesType = cast<VectorType>(block.intScales.getType());
  int64_t runs = scalesType.getDimSize(0);
  int64_t groups = static_cast<int64_t>(block.groups.size());
  if (acts.quantized->groupsPerScale != groups ||
      runs * acts.quantized->sumWidth != groups * kGroupSize)
    return false;
  auto f32s = VectorType::get({runs}, b.getF32Type());
  Value scales = arith::SIToFPOp::create(b, loc, f32s, block.intScales);
  Value factor = arith::MulFOp::create(
      b, loc, block.superScale,
      arith::ConstantOp::create(b, loc,
                                b.getF32FloatAttr(static_cast<float>(offset))));
  Value splat = vector::BroadcastOp::create(b, loc, f32s, factor);
  block.mins = arith::MulFOp::create(b, loc, splat, scales);
  for (QuantGroup &group : block.groups)
    group.offset = 0;
  return true;
}

/// Whether `block`'s offset (BlockGroups::intOffset) can meet the
/// activations' integer group sums: int8 activations (`q`) with one scale per
/// block, and a group per i32 lane.
static bool keepsBlockOffset(const QuantizedActivations *q,
                             const BlockGroups &block) {
  int64_t groups = static_cast<int64_t>(block.groups.size());
  return block.intOffset && q && q->intSums && block.superScale &&
         q->groupsPerScale == groups && groups == kDotLanes;
}

/// Makes `block`'s offset every group's (see QuantGroup::offset), for the
/// paths that apply offsets per group.
static void blockOffsetToGroups(BlockGroups &block) {
  if (!block.intOffset)
    return;
  for (QuantGroup &group : block.groups)
    group.offset = block.intOffset;
  block.intOffset = 0;
}

/// `sum` plus `offset` times the activations' integer sums of the kDotLanes
/// groups from `firstGroup` in row `row` (one per lane: every lane of a
/// block's sum has the same scale, so which lane takes which group does not
/// matter).
static Value addOffsetTimesSums(OpBuilder &b, Location loc,
                                const QuantizedActivations &q, Value row,
                                Value firstGroup, int64_t offset, Value sum) {
  auto type = VectorType::get({kDotLanes}, b.getI32Type());
  Value pad = arith::ConstantIntOp::create(b, loc, b.getI32Type(), 0);
  Value sums = vector::TransferReadOp::create(b, loc, type, q.intSums,
                                              ValueRange{row, firstGroup}, pad,
                                              ArrayRef<bool>{true});
  if (offset == -1)
    return arith::SubIOp::create(b, loc, sum, sums);
  Value factor = arith::ConstantOp::create(
      b, loc, DenseElementsAttr::get(type, b.getI32IntegerAttr(offset)));
  Value term = arith::MulIOp::create(b, loc, sums, factor);
  return arith::AddIOp::create(b, loc, sum, term);
}

/// Accumulates rows `first .. first + count` of the output for the weight
/// rows `weightRows` over all their blocks; returns one f32 sum per (weight
/// row, activation row), weight row major.
static SmallVector<Value> buildBlockLoop(OpBuilder &b, Location loc,
                                         const Activations &acts,
                                         ArrayRef<Value> weightRows,
                                         Value first, int64_t count,
                                         const RowDecoder &decoder) {
  Type f32 = b.getF32Type();
  auto xType = cast<RankedTensorType>(acts.x.getType());
  auto accType = VectorType::get({kDotLanes}, f32);
  int64_t size = decoder.blockSize;
  int64_t numWeightRows = weightRows.size();
  bool floatBlocks = static_cast<bool>(decoder.decodeFloat);
  // Float weights with blocks narrower than the lanes accumulate in
  // vector<blockSize x f32>.
  auto floatAccType = VectorType::get({floatBlocks ? size : kDotLanes}, f32);
  Value zero = arith::ConstantIndexOp::create(b, loc, 0);
  Value one = arith::ConstantIndexOp::create(b, loc, 1);
  Value blocks = arith::ConstantIndexOp::create(b, loc, decoder.blocks);
  Value zeros = arith::ConstantOp::create(
      b, loc,
      DenseElementsAttr::get(floatBlocks ? floatAccType : accType,
                             b.getF32FloatAttr(0.0)));
  Value xPad = arith::ConstantOp::create(
      b, loc, b.getFloatAttr(xType.getElementType(), 0.0));
  Value i8Pad = arith::ConstantIntOp::create(b, loc, b.getI8Type(), 0);

  SmallVector<Value> rows;
  for (int64_t t = 0; t < count; ++t) {
    Value offset = arith::ConstantIndexOp::create(b, loc, t);
    rows.push_back(arith::AddIOp::create(b, loc, first, offset));
  }
  auto readX = [&](OpBuilder &bb, Location bloc, Value row, Value col,
                   int64_t width) -> Value {
    Value xs = vector::TransferReadOp::create(
        bb, bloc, VectorType::get({width}, xType.getElementType()), acts.x,
        ValueRange{row, col}, xPad, ArrayRef<bool>{true});
    if (xType.getElementType() != f32)
      xs = arith::ExtFOp::create(bb, bloc, VectorType::get({width}, f32), xs);
    return xs;
  };

  // Accumulator (r, t) is at r * count + t. Each weight block is decoded
  // once and meets every activation row of the tile; each activation block
  // is read once and meets every weight row.
  SmallVector<Value> inits(numWeightRows * count, zeros);
  auto loop = scf::ForOp::create(
      b, loc, zero, blocks, one, inits,
      [&](OpBuilder &bb, Location bloc, Value block, ValueRange accs) {
        SmallVector<Value> next(accs.begin(), accs.end());
        Value blockSize = arith::ConstantIndexOp::create(bb, bloc, size);
        Value k = arith::MulIOp::create(bb, bloc, block, blockSize);
        if (floatBlocks) {
          SmallVector<Value> ws;
          for (Value n : weightRows)
            ws.push_back(decoder.decodeFloat(bb, bloc, n, block));
          for (int64_t t = 0; t < count; ++t) {
            Value xs = readX(bb, bloc, rows[t], k, size);
            for (int64_t r = 0; r < numWeightRows; ++r)
              next[r * count + t] = vector::FMAOp::create(bb, bloc, ws[r], xs,
                                                          next[r * count + t]);
          }
          scf::YieldOp::create(bb, bloc, next);
          return;
        }
        SmallVector<BlockGroups> decoded(numWeightRows);
        if (decoder.prefetch && count == 1)
          for (Value n : weightRows)
            decoder.prefetch(bb, bloc, n, block);
        for (int64_t r = 0; r < numWeightRows; ++r) {
          decoder.decodeGroups(bb, bloc, ValueRange{weightRows[r], block},
                               decoded[r]);
          if (!keepsBlockOffset(acts.quantized ? &*acts.quantized : nullptr,
                                decoded[r]))
            blockOffsetToGroups(decoded[r]);
          if (!offsetsToMins(bb, bloc, acts, decoded[r]))
            for (QuantGroup &group : decoded[r].groups)
              group = withOffsetApplied(bb, bloc, group);
          // The f32 path takes block mins one group at a time.
          if (decoded[r].mins && !acts.quantized)
            for (auto [g, group] : llvm::enumerate(decoded[r].groups))
              group.min = vector::ExtractOp::create(
                  bb, bloc, decoded[r].mins,
                  ArrayRef<int64_t>{static_cast<int64_t>(g)});
        }
        Value groupsPerBlock =
            arith::ConstantIndexOp::create(bb, bloc, size / kGroupSize);
        Value firstGroup =
            arith::MulIOp::create(bb, bloc, block, groupsPerBlock);
        auto dotType = VectorType::get({kDotLanes}, bb.getI32Type());
        // Blocks whose groups share one scale, quantized activations with one
        // scale per block too (q8_K), and no min per group.
        auto sharesScale = [&](const BlockGroups &groups) {
          return acts.quantized && groups.superScale &&
                 acts.quantized->groupsPerScale ==
                     static_cast<int64_t>(groups.groups.size());
        };
        SmallVector<Value> intSums(numWeightRows * count);
        // Groups with small quants that share the block's scale: their
        // (quants, activations) pairs, summed by one qt.dot_i8_sum.
        SmallVector<SmallVector<std::pair<Value, Value>>> smallDots(
            numWeightRows * count);
        int64_t smallMax = 0;
        for (int64_t index = 0; index < size / kGroupSize; ++index) {
          Value gOffset = arith::ConstantIndexOp::create(bb, bloc, index);
          Value g = arith::AddIOp::create(bb, bloc, firstGroup, gOffset);
          Value width = arith::ConstantIndexOp::create(bb, bloc, kGroupSize);
          Value col = arith::MulIOp::create(bb, bloc, g, width);
          for (int64_t t = 0; t < count; ++t) {
            if (!acts.quantized) {
              Value xs = readX(bb, bloc, rows[t], col, kGroupSize);
              for (int64_t r = 0; r < numWeightRows; ++r)
                next[r * count + t] =
                    buildFloatGroupDot(bb, bloc, decoded[r].groups[index], xs,
                                       next[r * count + t]);
              continue;
            }
            Value xq = vector::TransferReadOp::create(
                bb, bloc, VectorType::get({kGroupSize}, bb.getI8Type()),
                acts.quantized->quants, ValueRange{rows[t], col}, i8Pad,
                ArrayRef<bool>{true});
            Value scaleIndex = g;
            if (acts.quantized->groupsPerScale != 1) {
              Value per = arith::ConstantIndexOp::create(
                  bb, bloc, acts.quantized->groupsPerScale);
              scaleIndex = arith::DivUIOp::create(bb, bloc, g, per);
            }
            Value xd =
                tensor::ExtractOp::create(bb, bloc, acts.quantized->scales,
                                          ValueRange{rows[t], scaleIndex});
            Value share;
            bool groupMins = llvm::any_of(decoded, [&](const BlockGroups &d) {
              return static_cast<bool>(d.groups[index].min);
            });
            if (groupMins) {
              // min * sum(x) = min * d_x * sum(q_x), spread over the lanes.
              Value xsum = tensor::ExtractOp::create(
                  bb, bloc, acts.quantized->sums, ValueRange{rows[t], g});
              Value lanes = arith::ConstantOp::create(
                  bb, bloc, bb.getF32FloatAttr(1.0 / kDotLanes));
              share = arith::MulFOp::create(bb, bloc, xsum, lanes);
            }
            for (int64_t r = 0; r < numWeightRows; ++r) {
              const QuantGroup &group = decoded[r].groups[index];
              Value &acc = next[r * count + t];
              // One scale for the whole block on both sides (times small
              // integer scales per group, which the dot applies): the
              // groups' integer dots add up, converted and scaled once.
              bool shared = sharesScale(decoded[r]);
              auto [intScale, intScaleHigh] =
                  shared ? groupIntScales(bb, bloc, decoded[r], index)
                         : std::pair<Value, Value>();
              bool last = index + 1 == size / kGroupSize;
              bool collected =
                  shared && !intScale && group.maxQuant && group.isUnsigned;
              if (collected) {
                smallDots[r * count + t].push_back({group.quants, xq});
                smallMax = std::max(smallMax, group.maxQuant);
                if (!last)
                  continue;
              }
              Value dot;
              if (!collected) {
                auto single = DotI8Op::create(bb, bloc, dotType, group.quants,
                                              xq, intScale, intScaleHigh);
                single.setUnsignedLhs(group.isUnsigned);
                dot = single;
              }
              if (shared) {
                Value &sum = intSums[r * count + t];
                if (dot)
                  sum = sum ? arith::AddIOp::create(bb, bloc, sum, dot)
                                  .getResult()
                            : dot;
                if (last && !smallDots[r * count + t].empty()) {
                  SmallVector<Value> lhs, rhs;
                  for (auto [q, x] : smallDots[r * count + t]) {
                    lhs.push_back(q);
                    rhs.push_back(x);
                  }
                  Value small =
                      DotI8SumOp::create(bb, bloc, dotType, lhs, rhs,
                                         bb.getI64IntegerAttr(smallMax));
                  sum = sum ? arith::AddIOp::create(bb, bloc, sum, small)
                                  .getResult()
                            : small;
                }
                if (last) {
                  if (int64_t offset = decoded[r].intOffset)
                    sum = addOffsetTimesSums(bb, bloc, *acts.quantized, rows[t],
                                             firstGroup, offset, sum);
                  Value sumF = arith::SIToFPOp::create(bb, bloc, accType, sum);
                  Value scale = arith::MulFOp::create(
                      bb, bloc, decoded[r].superScale, xd);
                  Value splat =
                      vector::BroadcastOp::create(bb, bloc, accType, scale);
                  acc = vector::FMAOp::create(bb, bloc, splat, sumF, acc);
                }
                continue;
              }
              Value dotF = arith::SIToFPOp::create(bb, bloc, accType, dot);
              Value scales = buildLaneScales(bb, bloc, group, xd);
              acc = vector::FMAOp::create(bb, bloc, scales, dotF, acc);
              if (group.min) {
                Value term = arith::MulFOp::create(bb, bloc, group.min, share);
                Value splat =
                    vector::BroadcastOp::create(bb, bloc, accType, term);
                acc = arith::AddFOp::create(bb, bloc, acc, splat);
              }
            }
          }
        }
        // Block mins: lane g of the block's mins times the activations' sum
        // over group g, 8 groups in one fma.
        if (acts.quantized) {
          Value sumPad =
              arith::ConstantOp::create(bb, bloc, bb.getF32FloatAttr(0.0));
          for (int64_t r = 0; r < numWeightRows; ++r) {
            if (!decoded[r].mins)
              continue;
            // One min per run of sumWidth elements: 8 or 16 per block.
            auto minsType = cast<VectorType>(decoded[r].mins.getType());
            int64_t parts = kGroupSize / acts.quantized->sumWidth;
            assert(minsType.getDimSize(0) ==
                       static_cast<int64_t>(decoded[r].groups.size()) * parts &&
                   "block mins need one lane per run of sums");
            Value partsValue = arith::ConstantIndexOp::create(bb, bloc, parts);
            Value firstSum =
                arith::MulIOp::create(bb, bloc, firstGroup, partsValue);
            for (int64_t t = 0; t < count; ++t) {
              Value xsums = vector::TransferReadOp::create(
                  bb, bloc, minsType, acts.quantized->sums,
                  ValueRange{rows[t], firstSum}, sumPad, ArrayRef<bool>{true});
              Value &acc = next[r * count + t];
              for (int64_t lane = 0; lane < minsType.getDimSize(0);
                   lane += kDotLanes) {
                auto slice = [&](Value v) -> Value {
                  if (minsType.getDimSize(0) == kDotLanes)
                    return v;
                  return vector::ExtractStridedSliceOp::create(
                      bb, bloc, v, ArrayRef<int64_t>{lane},
                      ArrayRef<int64_t>{kDotLanes}, ArrayRef<int64_t>{1});
                };
                Value mins = slice(decoded[r].mins);
                Value sums = slice(xsums);
                acc = vector::FMAOp::create(bb, bloc, mins, sums, acc);
              }
            }
          }
        }
        scf::YieldOp::create(bb, bloc, next);
      });
  SmallVector<Value> sums;
  for (Value acc : loop.getResults())
    sums.push_back(
        vector::ReductionOp::create(b, loc, vector::CombiningKind::ADD, acc));
  return sums;
}

/// A vector whose lane r is the sum of the lanes of `vectors[r]`, for
/// kDotLanes vectors of kDotLanes i32 or f32 lanes: a transposing tree that
/// adds pairs of 32-bit, then of 64-bit lanes within each 128-bit half
/// (AVX2's unpck{l,h}dq and unpck{l,h}qdq), then the two halves. Lane r of
/// each level holds a partial sum of vectors[r % (2, 4, 8)].
/// One level of a transposing sum tree: for each pair of `in`, the lanes
/// `low` of the two vectors (shuffled together) plus their lanes `high`.
static SmallVector<Value> addShuffledPairs(OpBuilder &b, Location loc,
                                           ArrayRef<Value> in,
                                           ArrayRef<int64_t> low,
                                           ArrayRef<int64_t> high) {
  bool isFloat = isa<FloatType>(getElementTypeOrSelf(in[0].getType()));
  SmallVector<Value> out;
  for (size_t i = 0; i < in.size(); i += 2) {
    Value l = vector::ShuffleOp::create(b, loc, in[i], in[i + 1], low);
    Value h = vector::ShuffleOp::create(b, loc, in[i], in[i + 1], high);
    out.push_back(isFloat ? arith::AddFOp::create(b, loc, l, h).getResult()
                          : arith::AddIOp::create(b, loc, l, h).getResult());
  }
  return out;
}

static Value sumEachVector(OpBuilder &b, Location loc,
                           ArrayRef<Value> vectors) {
  assert(vectors.size() == kDotLanes && "one vector per lane");
  auto level = [&](ArrayRef<Value> in, ArrayRef<int64_t> low,
                   ArrayRef<int64_t> high) {
    return addShuffledPairs(b, loc, in, low, high);
  };
  SmallVector<Value> pairs =
      level(vectors, {0, 8, 1, 9, 4, 12, 5, 13}, {2, 10, 3, 11, 6, 14, 7, 15});
  SmallVector<Value> quads =
      level(pairs, {0, 1, 8, 9, 4, 5, 12, 13}, {2, 3, 10, 11, 6, 7, 14, 15});
  return level(quads, {0, 1, 2, 3, 8, 9, 10, 11},
               {4, 5, 6, 7, 12, 13, 14, 15})[0];
}

/// A vector whose lane r is the sum of row r's partial sums, for the four
/// dot products of paired rows (pairRowHalves): vector p holds row p's four
/// partial sums in lanes 0-3 and row p + 4's in lanes 4-7. Two levels of
/// in-lane shuffles (AVX2's unpck{l,h}qdq, then shufps) instead of
/// sumEachVector's three.
static Value sumPairedRows(OpBuilder &b, Location loc, ArrayRef<Value> pairs) {
  assert(pairs.size() == kDotLanes / 2 && "one vector per pair of rows");
  // [r0 r0 r1 r1 | r4 r4 r5 r5] and [r2 r2 r3 r3 | r6 r6 r7 r7]
  SmallVector<Value> halves = addShuffledPairs(
      b, loc, pairs, {0, 1, 8, 9, 4, 5, 12, 13}, {2, 3, 10, 11, 6, 7, 14, 15});
  // [r0 r1 r2 r3 | r4 r5 r6 r7]
  return addShuffledPairs(b, loc, halves, {0, 2, 8, 10, 4, 6, 12, 14},
                          {1, 3, 9, 11, 5, 7, 13, 15})[0];
}

/// The quants of rows p and p + 4 (p < 4) as two vectors, the first 16 of
/// each row's group in one and the last 16 in the other, for nibble-packed
/// formats: once unpacked, both are one and/shift of two rows' 16 bytes.
/// Their dot products with the activations' first (last) 16 quants repeated
/// twice give row p's partial sums in lanes 0-3 and row p + 4's in 4-7.
static SmallVector<std::pair<Value, Value>>
pairRowHalves(OpBuilder &b, Location loc, ArrayRef<BlockGroups> rows,
              int64_t group) {
  SmallVector<int64_t> low, high;
  for (int64_t i = 0; i < kGroupSize; ++i) {
    int64_t row = i / (kGroupSize / 2), lane = i % (kGroupSize / 2);
    low.push_back(row * kGroupSize + lane);
    high.push_back(row * kGroupSize + kGroupSize / 2 + lane);
  }
  SmallVector<std::pair<Value, Value>> pairs;
  for (int64_t p = 0; p < kDotLanes / 2; ++p) {
    Value first = rows[p].groups[group].quants;
    Value second = rows[p + kDotLanes / 2].groups[group].quants;
    pairs.push_back({vector::ShuffleOp::create(b, loc, first, second, low),
                     vector::ShuffleOp::create(b, loc, first, second, high)});
  }
  return pairs;
}

/// The transpose of kDotLanes vectors of kDotLanes 32-bit words: vector j
/// holds word j of every input, word r from input r. Three levels of
/// two-input shuffles, 24 in all.
static SmallVector<Value> transposeWords(OpBuilder &b, Location loc,
                                         ArrayRef<Value> vectors) {
  assert(vectors.size() == kDotLanes && "one vector of words per lane");
  SmallVector<Value> level(vectors.begin(), vectors.end());
  // Each step shuffles pairs (i, i + stride) of `in` with masks `low` and
  // `high` into out[i], out[i + stride].
  auto step = [&](ArrayRef<Value> in, int64_t stride, ArrayRef<int64_t> low,
                  ArrayRef<int64_t> high) {
    SmallVector<Value> out(in.size());
    for (int64_t i = 0; i < static_cast<int64_t>(in.size()); ++i) {
      if ((i / stride) % 2)
        continue;
      out[i] = vector::ShuffleOp::create(b, loc, in[i], in[i + stride], low);
      out[i + stride] =
          vector::ShuffleOp::create(b, loc, in[i], in[i + stride], high);
    }
    return out;
  };
  // Words of vectors (2p, 2p + 1) interleaved, within each 128-bit half:
  // out[2p] = [v0w0 v1w0 v0w1 v1w1 | v0w4 v1w4 v0w5 v1w5], out[2p + 1] the
  // words 2, 3 and 6, 7.
  level =
      step(level, 1, {0, 8, 1, 9, 4, 12, 5, 13}, {2, 10, 3, 11, 6, 14, 7, 15});
  // Pairs of words of vectors 4q .. 4q + 3: out[i] = word i % 4 (low half)
  // and word i % 4 + 4 (high half) of those four vectors.
  level =
      step(level, 2, {0, 1, 8, 9, 4, 5, 12, 13}, {2, 3, 10, 11, 6, 7, 14, 15});
  // The low halves of vectors 0-3 and 4-7 join (words 0-3), the high halves
  // too (words 4-7).
  level =
      step(level, 4, {0, 1, 2, 3, 8, 9, 10, 11}, {4, 5, 6, 7, 12, 13, 14, 15});
  // The levels leave the words in the order w0, w2, w1, w3, w4, w6, w5, w7.
  static constexpr int64_t kWordOf[kDotLanes] = {0, 2, 1, 3, 4, 6, 5, 7};
  SmallVector<Value> words(kDotLanes);
  for (int64_t i = 0; i < kDotLanes; ++i)
    words[kWordOf[i]] = level[i];
  return words;
}

/// The kDotLanes rows' quants of one group transposed by 4-byte words:
/// vector j holds, in word r, row r's quants 4j .. 4j + 3. Its dot product
/// with the activations' word j repeated in every lane adds to lane r of
/// the result row r's products, so the group's dot of all rows is the sum of
/// kDotLanes such dots, already one lane per row (no sumEachVector). A tile
/// of activation rows shares the 24 shuffles.
static SmallVector<Value> transposeRowWords(OpBuilder &b, Location loc,
                                            ArrayRef<BlockGroups> rows,
                                            int64_t group) {
  auto wordsType = VectorType::get({kDotLanes}, b.getI32Type());
  auto bytesType = VectorType::get({kGroupSize}, b.getI8Type());
  SmallVector<Value> vectors;
  for (const BlockGroups &row : rows)
    vectors.push_back(
        vector::BitCastOp::create(b, loc, wordsType, row.groups[group].quants));
  SmallVector<Value> words = transposeWords(b, loc, vectors);
  for (Value &word : words)
    word = vector::BitCastOp::create(b, loc, bytesType, word);
  return words;
}

/// The dot of transposeRowWords' `words` with activation row `row`'s group
/// at column `col`: word j of the activations repeated in every lane meets
/// words[j], all in one qt.dot_i8_sum (the quants are unsigned: nibbles at
/// most 15, others at most 127).
static Value dotWords(OpBuilder &b, Location loc, const QuantizedActivations &q,
                      Value row, Value col, ArrayRef<Value> words,
                      const QuantGroup &shape) {
  auto dotType = VectorType::get({kDotLanes}, b.getI32Type());
  auto bytesType = VectorType::get({kGroupSize}, b.getI8Type());
  auto wordType = VectorType::get({1}, b.getI32Type());
  Value i8Pad = arith::ConstantIntOp::create(b, loc, b.getI8Type(), 0);
  SmallVector<Value> xs;
  for (int64_t j = 0; j < kDotLanes; ++j) {
    Value offset = arith::ConstantIndexOp::create(b, loc, 4 * j);
    Value at = arith::AddIOp::create(b, loc, col, offset);
    Value bytes = vector::TransferReadOp::create(
        b, loc, VectorType::get({4}, b.getI8Type()), q.quants,
        ValueRange{row, at}, i8Pad, ArrayRef<bool>{true});
    Value word = vector::BitCastOp::create(b, loc, wordType, bytes);
    Value splat = vector::BroadcastOp::create(b, loc, dotType, word);
    xs.push_back(vector::BitCastOp::create(b, loc, bytesType, splat));
  }
  assert(shape.isUnsigned && "qt.dot_i8_sum takes unsigned quants");
  int64_t bound = shape.maxQuant       ? shape.maxQuant
                  : shape.nibblePacked ? 15
                                       : 127;
  return DotI8SumOp::create(b, loc, dotType, words, xs,
                            b.getI64IntegerAttr(bound));
}

/// The f32 `scalars` (one per lane) as a vector<kDotLanes x f32>. Scales
/// that the decoders read as f16 and extended are gathered as f16 and
/// converted together (one vcvtph2ps instead of one per row).
static Value buildLaneVector(OpBuilder &b, Location loc,
                             ArrayRef<Value> scalars) {
  auto type = VectorType::get({kDotLanes}, b.getF32Type());
  SmallVector<Value> halves;
  for (Value v : scalars)
    if (auto ext = v.getDefiningOp<arith::ExtFOp>();
        ext && ext.getIn().getType().isF16())
      halves.push_back(ext.getIn());
  if (halves.size() == scalars.size()) {
    auto halfType = VectorType::get({kDotLanes}, b.getF16Type());
    Value packed = vector::FromElementsOp::create(b, loc, halfType, halves);
    return arith::ExtFOp::create(b, loc, type, packed);
  }
  return vector::FromElementsOp::create(b, loc, type, scalars);
}

/// Decodes block `block` of each of the kDotLanes interleaved rows of
/// `rowGroup` into `rows`, keeping of the quants only group `group`'s: the
/// other groups' ops are erased at once, so that each group is decoded next
/// to its dot products (a 256-element block of 8 rows decoded up front is 64
/// live vectors, which spill). Scales and mins decoded again per group are
/// merged by CSE.
static void decodeGroupOfRows(OpBuilder &b, Location loc,
                              const RowDecoder &decoder, Value rowGroup,
                              Value block, int64_t group, bool flatRows,
                              SmallVector<BlockGroups> &rows) {
  rows.assign(kDotLanes, BlockGroups());
  Block *body = b.getInsertionBlock();
  assert(b.getInsertionPoint() == body->end() && "decodes at the block's end");
  Operation *last = body->empty() ? nullptr : &body->back();
  // With `flatRows`, rows 8 * rowGroup + r of the file's layout.
  Value firstRow;
  if (flatRows) {
    Value eight = arith::ConstantIndexOp::create(b, loc, kDotLanes);
    firstRow = arith::MulIOp::create(b, loc, rowGroup, eight);
  }
  for (int64_t r = 0; r < kDotLanes; ++r) {
    Value lane = arith::ConstantIndexOp::create(b, loc, r);
    if (flatRows) {
      Value row = arith::AddIOp::create(b, loc, firstRow, lane);
      decoder.decodeGroups(b, loc, ValueRange{row, block}, rows[r]);
    } else {
      decoder.decodeGroups(b, loc, ValueRange{rowGroup, block, lane}, rows[r]);
    }
  }
  llvm::SmallPtrSet<Operation *, 32> keep;
  auto keepValue = [&](Value v) {
    if (Operation *op = v ? v.getDefiningOp() : nullptr)
      keep.insert(op);
  };
  for (const BlockGroups &d : rows) {
    const QuantGroup &g = d.groups[group];
    for (Value v : {g.quants, g.scale, g.scaleHigh, g.min, d.superScale,
                    d.intScales, d.mins})
      keepValue(v);
  }
  SmallVector<Operation *> created;
  for (Operation *op = last ? last->getNextNode() : &body->front(); op;
       op = op->getNextNode())
    created.push_back(op);
  for (Operation *op : llvm::reverse(created))
    if (!keep.contains(op) && isOpTriviallyDead(op))
      op->erase();
}

/// The GEMV of kDotLanes interleaved weight rows (group `rowGroup` of the
/// byte view [N / 8, blocks, 8 * blockBytes]) with the int8 activation rows
/// `first .. first + count`. Per block, the rows' groups meet the
/// activations with qt.dot_i8 and the rows' dots sum to the lanes of one
/// vector (sumEachVector), scaled by the rows' scales (a lane vector) in
/// one fma: one weight stream and one accumulator per activation row,
/// lane r for weight row 8 * rowGroup + r. Blocks whose groups share the
/// activations' scale (q8_K) add their groups' weighted dots as integers
/// first, as buildBlockLoop does.
static SmallVector<Value>
buildInterleavedBlockLoop(OpBuilder &b, Location loc,
                          const QuantizedActivations &q, Value rowGroup,
                          Value first, int64_t count, const RowDecoder &decoder,
                          bool flatRows = false) {
  Type f32 = b.getF32Type();
  auto accType = VectorType::get({kDotLanes}, f32);
  auto dotType = VectorType::get({kDotLanes}, b.getI32Type());
  int64_t size = decoder.blockSize;
  int64_t groupsPerBlock = size / kGroupSize;
  Value zero = arith::ConstantIndexOp::create(b, loc, 0);
  Value one = arith::ConstantIndexOp::create(b, loc, 1);
  Value blocks = arith::ConstantIndexOp::create(b, loc, decoder.blocks);
  Value zeros = arith::ConstantOp::create(
      b, loc, DenseElementsAttr::get(accType, b.getF32FloatAttr(0.0)));
  Value i8Pad = arith::ConstantIntOp::create(b, loc, b.getI8Type(), 0);
  Value f32Pad = arith::ConstantOp::create(b, loc, b.getF32FloatAttr(0.0));

  SmallVector<Value> rows;
  for (int64_t t = 0; t < count; ++t) {
    Value offset = arith::ConstantIndexOp::create(b, loc, t);
    rows.push_back(arith::AddIOp::create(b, loc, first, offset));
  }
  SmallVector<Value> inits(count, zeros);
  auto loop = scf::ForOp::create(
      b, loc, zero, blocks, one, inits,
      [&](OpBuilder &bb, Location bloc, Value block, ValueRange accs) {
        SmallVector<Value> next(accs.begin(), accs.end());
        // The rows' decoded groups for the group being multiplied; `first`
        // (group 0) also holds the block-level values used after the groups.
        SmallVector<BlockGroups> decoded, first;
        if (decoder.prefetch && count == 1 && !flatRows)
          decoder.prefetch(bb, bloc, rowGroup, block);
        decodeGroupOfRows(bb, bloc, decoder, rowGroup, block, 0, flatRows,
                          decoded);
        // Every row of a format decodes to the same structure.
        bool sharesScale =
            decoded.front().superScale && q.groupsPerScale == groupsPerBlock;
        // A block offset meets the integer sums when the groups' dots add up
        // as integers; otherwise each group takes it.
        auto normalizeOffsets = [&]() {
          for (BlockGroups &d : decoded)
            if (!keepsBlockOffset(&q, d))
              blockOffsetToGroups(d);
        };
        normalizeOffsets();
        first = decoded;
        const BlockGroups shape = first.front();
        // The shared-scale path adds integer dots only: an offset must have
        // stayed the block's (keepsBlockOffset) rather than the groups'.
        assert((!sharesScale ||
                llvm::none_of(shape.groups,
                              [](const QuantGroup &g) { return g.offset; })) &&
               "group offsets on the shared-scale interleaved path");
        // One value of each row's decode, as a lane vector.
        auto lanes = [&](ArrayRef<BlockGroups> rows, auto getter) {
          SmallVector<Value> scalars;
          for (const BlockGroups &d : rows)
            scalars.push_back(getter(d));
          return buildLaneVector(bb, bloc, scalars);
        };
        auto scaleAt = [&](int64_t t, Value g) -> Value {
          Value index = g;
          if (q.groupsPerScale != 1) {
            Value per =
                arith::ConstantIndexOp::create(bb, bloc, q.groupsPerScale);
            index = arith::DivUIOp::create(bb, bloc, g, per);
          }
          return tensor::ExtractOp::create(bb, bloc, q.scales,
                                           ValueRange{rows[t], index});
        };
        auto scaledFma = [&](Value &acc, Value laneScales, Value factor,
                             Value sum) {
          Value splat = vector::BroadcastOp::create(bb, bloc, accType, factor);
          Value scales = arith::MulFOp::create(bb, bloc, laneScales, splat);
          Value sumF = arith::SIToFPOp::create(bb, bloc, accType, sum);
          acc = vector::FMAOp::create(bb, bloc, scales, sumF, acc);
        };

        Value groupsValue =
            arith::ConstantIndexOp::create(bb, bloc, groupsPerBlock);
        Value firstGroup = arith::MulIOp::create(bb, bloc, block, groupsValue);
        SmallVector<SmallVector<Value>> intSums(count,
                                                SmallVector<Value>(kDotLanes));
        // A tile of activation rows against shared-scale blocks of unsigned
        // quants with one integer scale per group (q4_k, q5_k) takes the
        // transposed words too: the group's dot of every row in one vector,
        // times the rows' integer scales of the group (the rows' scale
        // vectors transposed once per block), summed per activation row
        // into one vector, lane r for row r.
        bool sharedWords =
            sharesScale && count >= kSmallRowTile && !shape.intOffset &&
            (!shape.intScales ||
             cast<VectorType>(shape.intScales.getType()).getDimSize(0) ==
                 groupsPerBlock) &&
            llvm::all_of(shape.groups,
                         [](const QuantGroup &g) { return g.isUnsigned; });
        SmallVector<Value> groupScales;
        if (sharedWords && shape.intScales) {
          SmallVector<Value> rowScales;
          for (const BlockGroups &d : first)
            rowScales.push_back(d.intScales);
          groupScales = transposeWords(bb, bloc, rowScales);
        }
        SmallVector<Value> rowIntSums(count);
        for (int64_t index = 0; index < groupsPerBlock; ++index) {
          if (index > 0) {
            decodeGroupOfRows(bb, bloc, decoder, rowGroup, block, index,
                              flatRows, decoded);
            normalizeOffsets();
          }
          Value gOffset = arith::ConstantIndexOp::create(bb, bloc, index);
          Value g = arith::AddIOp::create(bb, bloc, firstGroup, gOffset);
          Value width = arith::ConstantIndexOp::create(bb, bloc, kGroupSize);
          Value col = arith::MulIOp::create(bb, bloc, g, width);
          const QuantGroup &groupShape = shape.groups[index];
          Value laneScales, laneMins;
          if (!sharesScale)
            laneScales = lanes(decoded, [&](const BlockGroups &d) {
              return d.groups[index].scale;
            });
          if (groupShape.min)
            laneMins = lanes(decoded, [&](const BlockGroups &d) {
              return d.groups[index].min;
            });
          // A tile of activation rows shares unsigned quants transposed by
          // words; a single row meets nibble-packed quants as paired rows.
          // Signed quants (q8_0) keep the per-row dots: each word's dot
          // would take the sign trick on the repeated activations per row
          // of the tile, and measured slower (prefill Q8_0 -12 %, Zen 5).
          SmallVector<Value> words;
          SmallVector<std::pair<Value, Value>> pairs;
          if ((!sharesScale && groupShape.isUnsigned &&
               count >= kSmallRowTile) ||
              sharedWords)
            words = transposeRowWords(bb, bloc, decoded, index);
          else if (!sharesScale && groupShape.nibblePacked)
            pairs = pairRowHalves(bb, bloc, decoded, index);
          for (int64_t t = 0; t < count; ++t) {
            Value rowSums;
            if (!words.empty())
              rowSums = dotWords(bb, bloc, q, rows[t], col, words, groupShape);
            if (sharedWords) {
              Value weighted = groupScales.empty()
                                   ? rowSums
                                   : arith::MulIOp::create(bb, bloc, rowSums,
                                                           groupScales[index])
                                         .getResult();
              Value &sum = rowIntSums[t];
              sum = sum ? arith::AddIOp::create(bb, bloc, sum, weighted)
                              .getResult()
                        : weighted;
              continue;
            }
            // The other forms read the activation row's group as one vector
            // (the words read theirs word by word).
            Value xq;
            if (!rowSums)
              xq = vector::TransferReadOp::create(
                  bb, bloc, VectorType::get({kGroupSize}, bb.getI8Type()),
                  q.quants, ValueRange{rows[t], col}, i8Pad,
                  ArrayRef<bool>{true});
            if (!pairs.empty()) {
              SmallVector<int64_t> lowTwice, highTwice;
              for (int64_t i = 0; i < kGroupSize; ++i) {
                lowTwice.push_back(i % (kGroupSize / 2));
                highTwice.push_back(kGroupSize / 2 + i % (kGroupSize / 2));
              }
              Value xLow =
                  vector::ShuffleOp::create(bb, bloc, xq, xq, lowTwice);
              Value xHigh =
                  vector::ShuffleOp::create(bb, bloc, xq, xq, highTwice);
              SmallVector<Value> pairSums;
              for (auto [low, high] : pairs) {
                auto lowDot = DotI8Op::create(bb, bloc, dotType, low, xLow,
                                              Value(), Value());
                auto highDot = DotI8Op::create(bb, bloc, dotType, high, xHigh,
                                               Value(), Value());
                lowDot.setUnsignedLhs(groupShape.isUnsigned);
                highDot.setUnsignedLhs(groupShape.isUnsigned);
                pairSums.push_back(
                    arith::AddIOp::create(bb, bloc, lowDot, highDot));
              }
              rowSums = sumPairedRows(bb, bloc, pairSums);
            }
            SmallVector<Value> dots;
            for (const BlockGroups &d :
                 rowSums ? ArrayRef<BlockGroups>() : ArrayRef(decoded)) {
              // With a shared scale, weighted by the row's integer scale of
              // this group (applied by the dot).
              auto [intScale, intScaleHigh] =
                  sharesScale ? groupIntScales(bb, bloc, d, index)
                              : std::pair<Value, Value>();
              auto dot =
                  DotI8Op::create(bb, bloc, dotType, d.groups[index].quants, xq,
                                  intScale, intScaleHigh);
              dot.setUnsignedLhs(d.groups[index].isUnsigned);
              dots.push_back(dot);
            }
            if (sharesScale) {
              // Summed over the block's groups before one conversion.
              for (auto [r, d] : llvm::enumerate(decoded)) {
                Value weighted = dots[r];
                Value &sum = intSums[t][r];
                sum = sum ? arith::AddIOp::create(bb, bloc, sum, weighted)
                                .getResult()
                          : weighted;
              }
              continue;
            }
            if (!rowSums)
              rowSums = sumEachVector(bb, bloc, dots);
            scaledFma(next[t], laneScales, scaleAt(t, g), rowSums);
            // The activations' group sum (d_x times the sum of the quants).
            Value xsum;
            if (groupShape.offset || laneMins)
              xsum = tensor::ExtractOp::create(bb, bloc, q.sums,
                                               ValueRange{rows[t], g});
            if (groupShape.offset) {
              // scale * offset * sum(x): the dots took the quants unsigned.
              Value offset = arith::ConstantOp::create(
                  bb, bloc,
                  bb.getF32FloatAttr(static_cast<float>(groupShape.offset)));
              Value term = arith::MulFOp::create(bb, bloc, xsum, offset);
              Value splat =
                  vector::BroadcastOp::create(bb, bloc, accType, term);
              next[t] =
                  vector::FMAOp::create(bb, bloc, laneScales, splat, next[t]);
            }
            if (laneMins) {
              // min * sum(x): each row's min times the group sum.
              Value splat =
                  vector::BroadcastOp::create(bb, bloc, accType, xsum);
              next[t] =
                  vector::FMAOp::create(bb, bloc, laneMins, splat, next[t]);
            }
          }
        }
        if (sharesScale) {
          Value superScales =
              lanes(first, [](const BlockGroups &d) { return d.superScale; });
          for (int64_t t = 0; t < count; ++t) {
            if (int64_t offset = shape.intOffset)
              for (Value &sum : intSums[t])
                sum = addOffsetTimesSums(bb, bloc, q, rows[t], firstGroup,
                                         offset, sum);
            scaledFma(next[t], superScales, scaleAt(t, firstGroup),
                      sharedWords ? rowIntSums[t]
                                  : sumEachVector(bb, bloc, intSums[t]));
          }
        }
        // Block mins: each row's mins (lane g for group g) times the
        // activations' group sums, summed per row into its lane.
        if (shape.mins) {
          auto minsType = cast<VectorType>(shape.mins.getType());
          assert(minsType.getDimSize(0) == kDotLanes &&
                 q.sumWidth == kGroupSize && "one min per group of 32");
          for (int64_t t = 0; t < count; ++t) {
            Value xsums = vector::TransferReadOp::create(
                bb, bloc, minsType, q.sums, ValueRange{rows[t], firstGroup},
                f32Pad, ArrayRef<bool>{true});
            SmallVector<Value> products;
            for (const BlockGroups &d : first)
              products.push_back(
                  arith::MulFOp::create(bb, bloc, d.mins, xsums));
            next[t] = arith::AddFOp::create(bb, bloc, next[t],
                                            sumEachVector(bb, bloc, products));
          }
        }
        scf::YieldOp::create(bb, bloc, next);
      });
  return SmallVector<Value>(loop.getResults());
}

/// Weight rows of the file's layout that one parallel iteration handles
/// together, each activation block read once for all of them. 1: measured on
/// the TinyLlama-1.1B shape (Q4_0, AVX2, 2 threads), 2 rows per iteration
/// decoded at 16 tok/s and 8 at 19 against 25 for one (more streams per
/// thread, and spills at 8). Interleaved rows (one stream, one accumulator)
/// are what serves 8 rows at once: buildInterleavedBlockLoop.
static constexpr int64_t kWeightRowTile = 1;

/// `y[m, n] = init[m, n] + sum_k x[m, k] * w[n, k]` (without `init[m, n]`
/// unless `accumulate`), for `x` [M, K] and `init` [M, N] the destination,
/// the loops in this file's header: weight rows in pairs (when N is even),
/// rows of x in tiles of kRowTile, then kSmallRowTile, that share each decoded
/// weight block, then the remaining rows one at a time. Accumulates in f32 and
/// converts to the destination's element type once per element. With
/// `interleaved`, the weight's rows are interleaved by kDotLanes (and the
/// activations quantized): each parallel iteration is one group of rows.
static Value buildRowLoops(OpBuilder &b, Location loc, const Activations &acts,
                           Value init, OpFoldResult rows,
                           const RowDecoder &decoder, bool accumulate,
                           bool interleaved = false, bool tileWords = false) {
  Type f32 = b.getF32Type();
  auto initType = cast<RankedTensorType>(init.getType());
  Type outElement = initType.getElementType();
  OpFoldResult m = tensor::getMixedSize(b, loc, acts.x, 0);
  std::optional<int64_t> staticRows = getConstantIntValue(rows);
  int64_t rowTile =
      staticRows && *staticRows % kWeightRowTile == 0 ? kWeightRowTile : 1;
  if (interleaved || tileWords)
    rowTile = kDotLanes;
  OpFoldResult iterations =
      rowTile == 1 ? rows : b.getIndexAttr(*staticRows / rowTile);

  auto forall =
      scf::ForallOp::create(b, loc, ArrayRef<OpFoldResult>{iterations},
                            ValueRange{init}, std::nullopt);
  Value iv = forall.getInductionVars()[0];
  Value out = forall.getRegionIterArgs()[0];
  OpBuilder::InsertionGuard guard(b);
  b.setInsertionPoint(forall.getTerminator());

  Value firstRow = iv;
  if (rowTile != 1) {
    Value tile = arith::ConstantIndexOp::create(b, loc, rowTile);
    firstRow = arith::MulIOp::create(b, loc, iv, tile);
  }
  SmallVector<Value> weightRows = {firstRow};
  for (int64_t r = 1; r < rowTile; ++r) {
    Value offset = arith::ConstantIndexOp::create(b, loc, r);
    weightRows.push_back(arith::AddIOp::create(b, loc, firstRow, offset));
  }

  // Columns firstRow .. firstRow + rowTile of the destination, [M, rowTile],
  // updated in place.
  SmallVector<OpFoldResult> offsets = {b.getIndexAttr(0), firstRow};
  SmallVector<OpFoldResult> sizes = {m, b.getIndexAttr(rowTile)};
  SmallVector<OpFoldResult> strides(2, b.getIndexAttr(1));
  Value columns =
      tensor::ExtractSliceOp::create(b, loc, out, offsets, sizes, strides);

  Value mValue = getValueOrCreateConstantIndexOp(b, loc, m);
  // The rows that fill whole tiles of `size`: m - m % size.
  auto tiledRows = [&](int64_t size) -> Value {
    Value tile = arith::ConstantIndexOp::create(b, loc, size);
    Value rest = arith::RemUIOp::create(b, loc, mValue, tile);
    return arith::SubIOp::create(b, loc, mValue, rest);
  };
  Value tiled = tiledRows(kRowTile);
  Value smallTiled = tiledRows(kSmallRowTile);
  Value zero = arith::ConstantIndexOp::create(b, loc, 0);

  auto rowLoop = [&](Value from, Value to, int64_t count, Value dest) {
    Value step = arith::ConstantIndexOp::create(b, loc, count);
    auto loop = scf::ForOp::create(
        b, loc, from, to, step, ValueRange{dest},
        [&](OpBuilder &rb, Location rloc, Value first, ValueRange iterArgs) {
          // Output element (i, column) of the slice: `sum` stored, or added
          // to what it holds.
          auto store = [&](OpBuilder &sb, Location sloc, Value updated,
                           Value sum, Value i, Value column) -> Value {
            if (accumulate) {
              Value prior = tensor::ExtractOp::create(sb, sloc, updated,
                                                      ValueRange{i, column});
              if (outElement != f32)
                prior = arith::ExtFOp::create(sb, sloc, f32, prior);
              sum = arith::AddFOp::create(sb, sloc, prior, sum);
            }
            if (outElement != f32)
              sum = arith::TruncFOp::create(sb, sloc, outElement, sum);
            return tensor::InsertOp::create(sb, sloc, sum, updated,
                                            ValueRange{i, column});
          };
          if (tileWords && count < kRowTile) {
            // Smaller tiles and single activation rows (decode) read the
            // weight rows one at a time, in a loop: the same code as without
            // the words (8 unrolled copies of the row's block loop decoded
            // 11 % slower, and the words of a tile of 4 too cost compile
            // time for a few prompt rows).
            Value lanes = arith::ConstantIndexOp::create(rb, rloc, rowTile);
            Value zeroIndex = arith::ConstantIndexOp::create(rb, rloc, 0);
            Value oneIndex = arith::ConstantIndexOp::create(rb, rloc, 1);
            auto rows = scf::ForOp::create(
                rb, rloc, zeroIndex, lanes, oneIndex, iterArgs,
                [&](OpBuilder &nb, Location nloc, Value r, ValueRange args) {
                  Value n = arith::AddIOp::create(nb, nloc, firstRow, r);
                  SmallVector<Value> sums = buildBlockLoop(
                      nb, nloc, acts, {n}, first, count, decoder);
                  Value updated = args[0];
                  for (int64_t t = 0; t < count; ++t) {
                    Value offset = arith::ConstantIndexOp::create(nb, nloc, t);
                    Value i = arith::AddIOp::create(nb, nloc, first, offset);
                    updated = store(nb, nloc, updated, sums[t], i, r);
                  }
                  scf::YieldOp::create(nb, nloc, updated);
                });
            scf::YieldOp::create(rb, rloc, rows.getResult(0));
            return;
          }
          SmallVector<Value> sums;
          if (interleaved || tileWords) {
            // Lane r of activation row t's vector is weight row r.
            SmallVector<Value> perRow =
                buildInterleavedBlockLoop(rb, rloc, *acts.quantized, iv, first,
                                          count, decoder, tileWords);
            for (int64_t r = 0; r < rowTile; ++r)
              for (Value vec : perRow)
                sums.push_back(vector::ExtractOp::create(rb, rloc, vec,
                                                         ArrayRef<int64_t>{r}));
          } else {
            sums = buildBlockLoop(rb, rloc, acts, weightRows, first, count,
                                  decoder);
          }
          Value updated = iterArgs[0];
          for (int64_t r = 0; r < rowTile; ++r) {
            Value column = arith::ConstantIndexOp::create(rb, rloc, r);
            for (int64_t t = 0; t < count; ++t) {
              Value offset = arith::ConstantIndexOp::create(rb, rloc, t);
              Value i = arith::AddIOp::create(rb, rloc, first, offset);
              updated =
                  store(rb, rloc, updated, sums[r * count + t], i, column);
            }
          }
          scf::YieldOp::create(rb, rloc, updated);
        });
    return loop.getResult(0);
  };
  // kSmallRowTile divides kRowTile: at most one small tile follows.
  static_assert(kRowTile % kSmallRowTile == 0);
  Value result = rowLoop(zero, tiled, kRowTile, columns);
  result = rowLoop(tiled, smallTiled, kSmallRowTile, result);
  result = rowLoop(smallTiled, mValue, 1, result);

  b.setInsertionPointToEnd(forall.getTerminator().getBody());
  tensor::ParallelInsertSliceOp::create(b, loc, result, out, offsets, sizes,
                                        strides);
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

/// Prefetches block `block` of the row (or interleaved row group) that lies
/// `ceil(distance / bytes per row)` rows after `row` in `view` ([rows,
/// blocks, blockBytes] or [rows / 8, blocks, 8 * blockBytes]), clamped to the
/// last row: one qt.prefetch per 64-byte line of the block's bytes. Rows are
/// contiguous, so this is the byte about `distance` ahead of the block being
/// read, with the clamp once per row (loop-invariant in the block loop)
/// instead of per block.
static void buildPrefetch(OpBuilder &b, Location loc, Value view, Value row,
                          Value block, int64_t distance) {
  constexpr int64_t kLineBytes = 64;
  ArrayRef<int64_t> shape = cast<RankedTensorType>(view.getType()).getShape();
  // Bytes of one block of the outermost index: blockBytes, or 8 blocks.
  int64_t blockBytes = 1;
  for (int64_t d : shape.drop_front(2))
    blockBytes *= d;
  int64_t rowBytes = shape[1] * blockBytes;
  int64_t ahead = llvm::divideCeil(distance, rowBytes);
  Value next = arith::AddIOp::create(
      b, loc, row, arith::ConstantIndexOp::create(b, loc, ahead));
  Value last = arith::ConstantIndexOp::create(b, loc, shape[0] - 1);
  Value target = arith::MinUIOp::create(b, loc, next, last);
  for (int64_t offset = 0; offset < blockBytes; offset += kLineBytes) {
    SmallVector<Value> indices = {target, block};
    // The offset within the block in the inner dimensions (row of the
    // interleaved group, byte).
    int64_t rest = offset;
    for (int64_t d = 2, e = shape.size(); d < e; ++d) {
      int64_t inner = 1;
      for (int64_t k = d + 1; k < e; ++k)
        inner *= shape[k];
      indices.push_back(arith::ConstantIndexOp::create(b, loc, rest / inner));
      rest %= inner;
    }
    PrefetchOp::create(b, loc, view, indices);
  }
}

/// qt.matmul with a GGUF block-format weight.
struct LowerBlockMatmul : OpRewritePattern<MatmulOp> {
  LowerBlockMatmul(MLIRContext *context, bool int8Activations,
                   int64_t prefetchDistance)
      : OpRewritePattern(context), int8Activations(int8Activations),
        prefetchDistance(prefetchDistance) {}

  LogicalResult matchAndRewrite(MatmulOp op,
                                PatternRewriter &rewriter) const override {
    QuantizedTensorType weightType = op.getWeight().getType();
    auto scheme = dyn_cast<GGUFSchemeAttr>(weightType.getScheme());
    if (!scheme)
      return rewriter.notifyMatchFailure(op, "not a GGUF block format");
    std::optional<VectorFormat> format = getVectorFormat(scheme.getFormat());
    if (!format)
      return rewriter.notifyMatchFailure(op, "no vector decoder for format");
    if (format->needsInt8 && !int8Activations)
      return rewriter.notifyMatchFailure(op, "format needs int8 activations");
    // Interleaved rows (qt-interleave-weights) are read 8 to a register,
    // with quantized activations.
    bool interleaved = scheme.isInterleaved();
    if (interleaved && (scheme.getInterleave() != kInterleavedRows ||
                        !int8Activations || !format->interleavable))
      return rewriter.notifyMatchFailure(
          op, "interleaved rows need int8 activations, a format with one "
              "scale per group and 8 rows");
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

    // The weight's bytes viewed as [N, blocks, blockBytes], or with
    // interleaved rows as [N / 8, blocks, 8 * blockBytes].
    Type i8 = rewriter.getI8Type();
    Value bytes = ToBytesOp::create(rewriter, loc, weightType.getBytesType(),
                                    op.getWeight());
    Value view;
    if (interleaved) {
      int64_t total = rows * blocks * blockBytes;
      Value flat = tensor::CollapseShapeOp::create(
          rewriter, loc, RankedTensorType::get({total}, i8), bytes,
          {ReassociationIndices{0, 1}});
      view = tensor::ExpandShapeOp::create(
          rewriter, loc,
          RankedTensorType::get(
              {rows / kInterleavedRows, blocks, kInterleavedRows * blockBytes},
              i8),
          flat, {ReassociationIndices{0, 1, 2}});
    } else {
      view = tensor::ExpandShapeOp::create(
          rewriter, loc, RankedTensorType::get({rows, blocks, blockBytes}, i8),
          bytes, {ReassociationIndices{0}, ReassociationIndices{1, 2}});
    }

    RowDecoder decoder{
        blockSize,
        blocks,
        [&](OpBuilder &b, Location nloc, ValueRange index, BlockGroups &out) {
          // Interleaved rows: (group of rows, block, lane of the row).
          std::optional<InterleavedLane> lane;
          if (interleaved) {
            lane = InterleavedLane{scheme.getFormat(), kInterleavedRows,
                                   *getConstantIntValue(index[2])};
            index = index.take_front(2);
          }
          BlockReader reader(b, nloc, view, index, lane);
          format->decode(reader, out);
        },
        {},
        {}};
    if (prefetchDistance > 0)
      decoder.prefetch = [&, view](OpBuilder &b, Location nloc, Value row,
                                   Value block) {
        buildPrefetch(b, nloc, view, row, block, prefetchDistance);
      };
    Activations acts{matrix, std::nullopt};
    if (int8Activations) {
      // Interleaved rows also need the sums for quants with an offset.
      acts.quantized = quantizeActivations(
          rewriter, loc, matrix, /*withSums=*/format->hasMin || interleaved,
          format->activationGroups, format->sumWidth, format->intSums);
    }
    SmallVector<OpFoldResult> sizes = {
        tensor::getMixedSize(rewriter, loc, matrix, 0),
        rewriter.getIndexAttr(rows)};
    Value init = tensor::EmptyOp::create(rewriter, loc, sizes,
                                         resultType.getElementType());
    // Shared-scale super-blocks of unsigned quants with one integer scale
    // per group (Q4_K, Q5_K) stay in the file's layout (decode is faster
    // there), but their prompt tiles take 8 weight rows at once to meet
    // their quants transposed by words.
    bool tileWords = !interleaved && int8Activations && format->interleavable &&
                     format->activationGroups > 1 && !format->intSums &&
                     rows % kDotLanes == 0;
    Value y = buildRowLoops(rewriter, loc, acts, init,
                            rewriter.getIndexAttr(rows), decoder,
                            /*accumulate=*/false, interleaved, tileWords);
    Value result =
        unflattenMatrix(rewriter, loc, y, x, getFlatResultType(x, resultType));
    if (result.getType() != resultType)
      result = tensor::CastOp::create(rewriter, loc, resultType, result);
    rewriter.replaceOp(op, result);
    return success();
  }

  bool int8Activations;
  int64_t prefetchDistance;

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
        blockSize,
        k / blockSize,
        {},
        [&](OpBuilder &b, Location nloc, Value row, Value block) -> Value {
          Value size = arith::ConstantIndexOp::create(b, nloc, blockSize);
          Value col = arith::MulIOp::create(b, nloc, block, size);
          Value values = vector::TransferReadOp::create(
              b, nloc, wVectorType, w, ValueRange{row, col}, pad,
              ArrayRef<bool>{true});
          if (wType.getElementType() != f32)
            values = arith::ExtFOp::create(
                b, nloc, VectorType::get({blockSize}, f32), values);
          return values;
        },
        {}};
    Activations acts{x, std::nullopt};
    Value y = buildRowLoops(rewriter, loc, acts, init,
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
    patterns.add<LowerBlockMatmul>(&getContext(), int8Activations,
                                   prefetchDistance);
    if (floatWeights)
      patterns.add<LowerFloatMatmul>(&getContext());
    if (failed(applyPatternsGreedily(getOperation(), std::move(patterns))))
      return signalPassFailure();
  }
};

} // namespace

bool kvant::qt::shouldInterleaveRows(GGUFFormat format) {
  // Blocks of one group, and TQ2_0. The other super-block formats (Q4_K,
  // Q5_K, TQ1_0) are read interleaved too, but decode slower so: Zen 5 with
  // VNNI, TinyLlama-1.1B, 2 threads, A/B: Q4_K interleaved (the 8 rows'
  // fields together) prefill +13 %, decode -8 % (-17 % when each row's block
  // was stored whole); words transposed at repack time could serve both.
  // TQ2_0 interleaved: prefill 193 -> 221 tok/s, decode 169 -> 171 (DRAM
  // bound; the GEMV alone from L3, 5632x2048: 68 -> 80 GB/s). On Zen 3
  // (AVX2, one thread) neither format gained.
  std::optional<VectorFormat> vector = getVectorFormat(format);
  return vector && vector->interleavable &&
         (vector->activationGroups == 1 || format == GGUFFormat::TQ2_0);
}
