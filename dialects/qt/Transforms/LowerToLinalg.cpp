//===- LowerToLinalg.cpp - GGUF block formats to linalg on tensors --------===//
//
// The reference lowering of qt's GGUF block formats. A block format is
// addressable with affine maps once the iteration space is split by block:
// over (..., b, s...), with b the block and s... the element's position in
// it, every byte one element needs is (row, b, offset + linear(s...)) of the
// byte tensor viewed as [rows, blocks, blockBytes], and the matching
// activation is (..., b, s...) of the activations viewed as
// [..., blocks, s...]. Each byte read goes through a slice of the view at its
// offset, reshaped so that linear(s...) becomes dimensions of their own: all
// indexing maps are then projected permutations, which the linalg vectorizer
// requires. Each lowering is one linalg.generic whose body decodes one
// element.
//
// A format is added by writing its BlockDecoder: the loops that visit one
// block, the bytes one element reads, and how they become a value.
//
//===----------------------------------------------------------------------===//

#include "dialects/qt/IR/QtOps.h"
#include "dialects/qt/Transforms/Passes.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/IR/PatternMatch.h"
#include "mlir/Transforms/GreedyPatternRewriteDriver.h"

namespace kvant::qt {
#define GEN_PASS_DEF_LOWERTOLINALGPASS
#include "dialects/qt/Transforms/Passes.h.inc"
} // namespace kvant::qt

using namespace mlir;
using namespace kvant::qt;

namespace {

//===----------------------------------------------------------------------===//
// Decoding one element
//===----------------------------------------------------------------------===//

/// What a format's decoder sees inside a generic's body: the bytes read for
/// one element (i8, in the order of `BlockDecoder::bytes`) and the element's
/// position in its block, whose loops have sizes `loopSizes`. Integer work is
/// done in i32, values come out in f32.
class ElementReader {
public:
  ElementReader(OpBuilder &b, Location loc, ValueRange bytes,
                unsigned firstBlockLoop, ArrayRef<int64_t> loopSizes)
      : b(b), loc(loc), bytes(bytes), firstBlockLoop(firstBlockLoop),
        loopSizes(loopSizes) {}

  /// Byte read `i`, zero-extended.
  Value byte(unsigned i) {
    return arith::ExtUIOp::create(b, loc, b.getI32Type(), bytes[i]);
  }

  /// Byte read `i` as a signed 8-bit integer, in f32.
  Value signedByteAsF32(unsigned i) {
    return arith::SIToFPOp::create(b, loc, b.getF32Type(), bytes[i]);
  }

  /// The little-endian f16 in byte reads `lo` and `lo + 1`, in f32.
  Value f16(unsigned lo) {
    Type i16 = b.getI16Type();
    Value low = arith::ExtUIOp::create(b, loc, i16, bytes[lo]);
    Value high = arith::ExtUIOp::create(b, loc, i16, bytes[lo + 1]);
    Value eight = constant(8, i16);
    high = arith::ShLIOp::create(b, loc, high, eight);
    Value bits = arith::OrIOp::create(b, loc, high, low);
    Value half = arith::BitcastOp::create(b, loc, b.getF16Type(), bits);
    return arith::ExtFOp::create(b, loc, b.getF32Type(), half);
  }

  /// The element's position along the block's loop `i`.
  Value position(unsigned i) {
    Value index = linalg::IndexOp::create(b, loc, firstBlockLoop + i);
    return arith::IndexCastUIOp::create(b, loc, b.getI32Type(), index);
  }

  /// The row-major linearization of the positions along the block loops
  /// `loops` over their sizes, as in `ByteRead`: with loops of sizes
  /// (2, 4, 8), linear({0, 1}) is 4 * position(0) + position(1).
  Value linear(ArrayRef<unsigned> loops) {
    Value sum;
    for (unsigned loop : loops) {
      if (sum) {
        Value size = constant(loopSizes[loop]);
        sum = arith::MulIOp::create(b, loc, sum, size);
      }
      Value p = position(loop);
      sum = sum ? arith::AddIOp::create(b, loc, sum, p) : p;
    }
    return sum;
  }

  /// Field `index` of `width` bits (bits width*index and up) of byte read `i`.
  Value bits(unsigned i, Value index, unsigned width) {
    Value value = byte(i);
    Value shift = index;
    if (width != 1) {
      Value w = constant(width);
      shift = arith::MulIOp::create(b, loc, index, w);
    }
    Value shifted = arith::ShRUIOp::create(b, loc, value, shift);
    Value mask = constant((1 << width) - 1);
    return arith::AndIOp::create(b, loc, shifted, mask);
  }

  /// Nibble `position(loop)` (0: low, 1: high) of byte read `i`.
  Value nibble(unsigned i, unsigned loop) { return bits(i, position(loop), 4); }

  /// Bit `position(loop)` of byte read `i`, as 0 or 1.
  Value bit(unsigned i, unsigned loop) { return bits(i, position(loop), 1); }

  /// Whether the element's position along block loop `loop` is 0.
  Value isFirst(unsigned loop) {
    Value p = position(loop);
    Value zero = constant(0);
    return arith::CmpIOp::create(b, loc, arith::CmpIPredicate::eq, p, zero);
  }

  Value constant(int64_t value, Type type = {}) {
    return arith::ConstantIntOp::create(b, loc, type ? type : b.getI32Type(),
                                        value);
  }
  Value sitofp(Value v) {
    return arith::SIToFPOp::create(b, loc, b.getF32Type(), v);
  }
  Value uitofp(Value v) {
    return arith::UIToFPOp::create(b, loc, b.getF32Type(), v);
  }
  Value subi(Value v, int64_t c) {
    Value cst = constant(c);
    return arith::SubIOp::create(b, loc, v, cst);
  }
  Value subi(Value x, Value y) { return arith::SubIOp::create(b, loc, x, y); }
  Value ori(Value x, Value y) { return arith::OrIOp::create(b, loc, x, y); }
  Value andi(Value v, int64_t c) {
    Value cst = constant(c);
    return arith::AndIOp::create(b, loc, v, cst);
  }
  Value xori(Value v, int64_t c) {
    Value cst = constant(c);
    return arith::XOrIOp::create(b, loc, v, cst);
  }
  Value shli(Value v, int64_t c) {
    Value cst = constant(c);
    return arith::ShLIOp::create(b, loc, v, cst);
  }
  Value shrui(Value v, int64_t c) {
    Value cst = constant(c);
    return arith::ShRUIOp::create(b, loc, v, cst);
  }
  Value select(Value condition, Value x, Value y) {
    return arith::SelectOp::create(b, loc, condition, x, y);
  }
  Value mulf(Value x, Value y) { return arith::MulFOp::create(b, loc, x, y); }
  Value addf(Value x, Value y) { return arith::AddFOp::create(b, loc, x, y); }
  Value subf(Value x, Value y) { return arith::SubFOp::create(b, loc, x, y); }

  // Lookup tables and ternary digits (IQ4_NL, MXFP4, TQ1_0, TQ2_0).

  /// Entry `index` (i32, below table.size() <= 16) of a table of signed 8-bit
  /// values, sign-extended to i32. The table is packed into i64 constants
  /// (eight entries each) and the entry shifted out of its word: plain
  /// integer arith, so it lowers through linalg -> loops, the linalg
  /// vectorizer (to per-lane shifts and one select, where a tensor.extract
  /// from a constant table would become a gather) and GPU kernels (no global
  /// table to outline), and costs a few ops where a select chain costs 2 per
  /// entry.
  Value lookup(ArrayRef<int8_t> table, Value index) {
    assert(!table.empty() && table.size() <= 16 && "tables have 16 entries");
    Type i64 = b.getI64Type();
    auto word = [&](size_t first) {
      uint64_t bits = 0;
      for (size_t i = first; i < std::min(first + 8, table.size()); ++i)
        bits |= static_cast<uint64_t>(static_cast<uint8_t>(table[i]))
                << (8 * (i - first));
      return constant(static_cast<int64_t>(bits), i64);
    };
    Value wide = arith::ExtUIOp::create(b, loc, i64, index);
    Value inWord = arith::AndIOp::create(b, loc, wide, constant(7, i64));
    Value shift = arith::MulIOp::create(b, loc, inWord, constant(8, i64));
    Value packed = word(0);
    if (table.size() > 8) {
      Value high = word(8);
      Value isHigh = arith::CmpIOp::create(b, loc, arith::CmpIPredicate::uge,
                                           wide, constant(8, i64));
      packed = arith::SelectOp::create(b, loc, isHigh, high, packed);
    }
    Value entry = arith::ShRUIOp::create(b, loc, packed, shift);
    entry = arith::TruncIOp::create(b, loc, b.getI8Type(), entry);
    return arith::ExtSIOp::create(b, loc, b.getI32Type(), entry);
  }

  Value muli(Value x, Value y) { return arith::MulIOp::create(b, loc, x, y); }
  Value muli(Value v, int64_t c) {
    Value cst = constant(c);
    return muli(v, cst);
  }
  Value addi(Value x, Value y) { return arith::AddIOp::create(b, loc, x, y); }
  Value shli(Value v, Value amount) {
    return arith::ShLIOp::create(b, loc, v, amount);
  }
  /// `v < c` (unsigned).
  Value ult(Value v, int64_t c) {
    Value cst = constant(c);
    return arith::CmpIOp::create(b, loc, arith::CmpIPredicate::ult, v, cst);
  }
  Value eq(Value v, int64_t c) {
    Value cst = constant(c);
    return arith::CmpIOp::create(b, loc, arith::CmpIPredicate::eq, v, cst);
  }
  /// The i32 `bits` reinterpreted as an f32.
  Value bitsAsF32(Value bits) {
    return arith::BitcastOp::create(b, loc, b.getF32Type(), bits);
  }

private:
  OpBuilder &b;
  Location loc;
  ValueRange bytes;
  unsigned firstBlockLoop;
  ArrayRef<int64_t> loopSizes;
};

/// One byte an element reads: the byte at `offset` plus the row-major
/// linearization of the block loops `loops` over their sizes. With loops
/// (h, g, i) of sizes (2, 2, 8), {6, {1, 2}} is byte 6 + 8g + i and {0, {}}
/// is byte 0 of every element.
struct ByteRead {
  int64_t offset;
  SmallVector<unsigned> loops;
};

/// One GGUF block format as the lowering reads it. The elements of a block
/// are visited by a row-major nest of loops of sizes `loops` (so the
/// linearized position is the element's index in the block); `bytes` are the
/// bytes one element needs; `decode` turns them into the element's f32
/// value, computed exactly as llama.cpp's dequantizer does.
struct BlockDecoder {
  SmallVector<int64_t> loops;
  SmallVector<ByteRead> bytes;
  Value (*decode)(ElementReader &);

  /// How many bytes `read` spans in one block.
  int64_t getExtent(const ByteRead &read) const {
    int64_t extent = 1;
    for (unsigned loop : read.loops)
      extent *= loops[loop];
    return extent;
  }
};

// Decoders name every operand before combining them: C++ leaves the order in
// which call arguments are evaluated open, and the IR should not depend on it.

/// q8_0: f16 d, int8 q[32]; x = q * d.
static Value decodeQ8_0(ElementReader &r) {
  Value d = r.f16(0);
  Value q = r.signedByteAsF32(2);
  return r.mulf(d, q);
}

/// q4_0: f16 d, u8 qs[16]; element h*16 + j is nibble h of qs[j];
/// x = (nibble - 8) * d.
static Value decodeQ4_0(ElementReader &r) {
  Value d = r.f16(0);
  Value q = r.sitofp(r.subi(r.nibble(2, 0), 8));
  return r.mulf(d, q);
}

/// q4_1: f16 d, f16 m, u8 qs[16]; x = nibble * d + m.
static Value decodeQ4_1(ElementReader &r) {
  Value d = r.f16(0);
  Value m = r.f16(2);
  Value q = r.uitofp(r.nibble(4, 0));
  return r.addf(r.mulf(d, q), m);
}

/// The 5-bit quant of q5_0/q5_1: nibble h of byte read `qs` with bit i of
/// byte read `qh` on top (loops (h, g, i)).
static Value fiveBitQuant(ElementReader &r, unsigned qh, unsigned qs) {
  Value low = r.nibble(qs, 0);
  Value high = r.shli(r.bit(qh, 2), 4);
  return r.ori(low, high);
}

/// q5_0: f16 d, u32 qh, u8 qs[16]; element e's fifth bit is bit e of qh;
/// x = (q - 16) * d.
static Value decodeQ5_0(ElementReader &r) {
  Value d = r.f16(0);
  Value q = r.sitofp(r.subi(fiveBitQuant(r, 2, 3), 16));
  return r.mulf(d, q);
}

/// q5_1: f16 d, f16 m, u32 qh, u8 qs[16]; x = q * d + m.
static Value decodeQ5_1(ElementReader &r) {
  Value d = r.f16(0);
  Value m = r.f16(2);
  Value q = r.uitofp(fiveBitQuant(r, 4, 5));
  return r.addf(r.mulf(d, q), m);
}

// The k-quants (llama.cpp's ggml-quants.c, dequantize_row_q*_K) pack 256
// elements into a super-block with one or two f16 factors and a quantized
// scale (and min) per sub-block of 16 or 32 elements. Their loops split the
// element index so that every byte an element needs is offset +
// linear(loops); values are computed in llama.cpp's order: the sub-block's
// factors d * sc and dmin * m first, then d * sc * q - dmin * m. (With an f16
// d and at most 8-bit sc, d * sc is exact in f32, so each product rounds at
// most once and the results equal llama.cpp's and gguf's bit for bit.)

/// The 6-bit scale and min of sub-block j = 4 * jh + jl of q4_k/q5_k
/// (llama.cpp's get_scale_min_k4), from byte reads `a`, `b`, `c` of
/// scales[jl], scales[4 + jl], scales[8 + jl], with jh the position along
/// block loop `jhLoop`: for jh = 0 the low 6 bits of a (scale) and b (min),
/// for jh = 1 the nibbles of c with the top 2 bits of a and b above them.
static std::pair<Value, Value> getScaleMinK4(ElementReader &r, unsigned a,
                                             unsigned b, unsigned c,
                                             unsigned jhLoop) {
  Value scalesA = r.byte(a), scalesB = r.byte(b), scalesC = r.byte(c);
  Value lowScale = r.andi(scalesA, 63);
  Value lowMin = r.andi(scalesB, 63);
  Value highScaleLow = r.andi(scalesC, 0xF);
  Value highScaleTop = r.shli(r.shrui(scalesA, 6), 4);
  Value highScale = r.ori(highScaleLow, highScaleTop);
  Value highMinLow = r.shrui(scalesC, 4);
  Value highMinTop = r.shli(r.shrui(scalesB, 6), 4);
  Value highMin = r.ori(highMinLow, highMinTop);
  Value low = r.isFirst(jhLoop);
  Value scale = r.select(low, lowScale, highScale);
  Value min = r.select(low, lowMin, highMin);
  return {scale, min};
}

/// d * sc * q - dmin * m for q4_k/q5_k: f16 d and dmin at byte reads 0..3,
/// the 6-bit scale and min from reads 4..6, `q` the unsigned quant.
static Value decodeScaleMinK4(ElementReader &r, Value q) {
  Value d = r.f16(0);
  Value dmin = r.f16(2);
  auto [scale, min] = getScaleMinK4(r, 4, 5, 6, 0);
  Value scaleF = r.uitofp(scale);
  Value minF = r.uitofp(min);
  Value dl = r.mulf(d, scaleF);
  Value ml = r.mulf(dmin, minF);
  Value qf = r.uitofp(q);
  return r.subf(r.mulf(dl, qf), ml);
}

/// q4_k: f16 d, f16 dmin, u8 scales[12], u8 qs[128]. Loops (ch, cl, h, l)
/// of sizes (2, 2, 2, 32): element 128ch + 64cl + 32h + l is nibble h of
/// qs[64ch + 32cl + l] in sub-block j = 4ch + 2cl + h.
static Value decodeQ4_K(ElementReader &r) {
  Value q = r.nibble(7, 2);
  return decodeScaleMinK4(r, q);
}

/// q5_k: q4_k's layout with u8 qh[32] before qs; the element's fifth bit is
/// bit j of qh[l].
static Value decodeQ5_K(ElementReader &r) {
  Value low = r.nibble(8, 2);
  Value j = r.linear({0, 1, 2});
  Value high = r.shli(r.bits(7, j, 1), 4);
  return decodeScaleMinK4(r, r.ori(low, high));
}

/// q6_k: u8 ql[128], u8 qh[64], i8 scales[16], f16 d. Loops (n, kh, kl, lh,
/// ll) of sizes (2, 2, 2, 2, 16): element 128n + 32k + l (k = 2kh + kl,
/// l = 16lh + ll) is nibble kh of ql[64n + 32kl + l] with bits 2k, 2k + 1 of
/// qh[32n + l] above it, minus 32, scaled by scales[8n + 2k + lh]:
/// x = d * scale * q.
static Value decodeQ6_K(ElementReader &r) {
  Value d = r.f16(3);
  Value scale = r.signedByteAsF32(2);
  Value low = r.nibble(0, 1);
  Value k = r.linear({1, 2});
  Value high = r.shli(r.bits(1, k, 2), 4);
  Value q = r.sitofp(r.subi(r.ori(low, high), 32));
  return r.mulf(r.mulf(d, scale), q);
}

/// q2_k: u8 scales[16], u8 qs[64], f16 d, f16 dmin. Loops (n, j, lh, ll) of
/// sizes (2, 4, 2, 16): element 128n + 32j + 16lh + ll is bits 2j, 2j + 1 of
/// qs[32n + 16lh + ll]; sub-block 8n + 2j + lh has the scale in the low and
/// the min in the high nibble of its byte: x = d * sc * q - dmin * m.
static Value decodeQ2_K(ElementReader &r) {
  Value d = r.f16(2);
  Value dmin = r.f16(4);
  Value packed = r.byte(0);
  Value scale = r.uitofp(r.andi(packed, 0xF));
  Value min = r.uitofp(r.shrui(packed, 4));
  Value dl = r.mulf(d, scale);
  Value ml = r.mulf(dmin, min);
  Value q = r.uitofp(r.bits(1, r.position(1), 2));
  return r.subf(r.mulf(dl, q), ml);
}

/// q3_k: u8 hmask[32], u8 qs[64], u8 scales[12], f16 d. Loops (n, jh, jl,
/// lh, ll) of sizes (2, 2, 2, 2, 16): element 128n + 32j + 16lh + ll
/// (j = 2jh + jl) is bits 2j, 2j + 1 of qs[32n + 16lh + ll], minus 4 unless
/// bit 4n + j of hmask[16lh + ll] is set. Sub-block s = 8n + 2j + lh has the
/// 6-bit scale nibble n of scales[2j + lh] | bits 2(2n + jh), +1 of
/// scales[8 + 2jl + lh] << 4, minus 32: x = d * (scale - 32) * q.
static Value decodeQ3_K(ElementReader &r) {
  Value d = r.f16(4);
  Value scaleLow = r.nibble(2, 0);
  Value scaleHigh = r.shli(r.bits(3, r.linear({0, 1}), 2), 4);
  Value scale = r.sitofp(r.subi(r.ori(scaleLow, scaleHigh), 32));
  Value dl = r.mulf(d, scale);
  Value low = r.bits(1, r.linear({1, 2}), 2);
  Value highBit = r.bits(0, r.linear({0, 1, 2}), 1);
  Value offset = r.shli(r.xori(highBit, 1), 2);
  Value q = r.sitofp(r.subi(low, offset));
  return r.mulf(dl, q);
}

//===----------------------------------------------------------------------===//
// Lookup-table and ternary formats: IQ4_NL, MXFP4, TQ1_0, TQ2_0
//===----------------------------------------------------------------------===//

/// llama.cpp's kvalues_iq4nl: the 16 non-uniform levels of IQ4_NL/IQ4_XS.
static constexpr int8_t kIQ4NLValues[16] = {
    -127, -104, -83, -65, -49, -35, -22, -10, 1, 13, 25, 38, 53, 69, 89, 113};

/// llama.cpp's kvalues_mxfp4: the e2m1 values doubled (so that they are
/// integers; ggml_e8m0_to_fp32_half halves the scale to compensate).
static constexpr int8_t kMXFP4Values[16] = {0, 1,  2,  3,  4,  6,  8,  12,
                                            0, -1, -2, -3, -4, -6, -8, -12};

/// 3^k for the base-3 digits of TQ1_0.
static constexpr int8_t kPowersOf3[5] = {1, 3, 9, 27, 81};

/// iq4_nl: f16 d, u8 qs[16] in q4_0's order (element h*16 + j is nibble h of
/// qs[j]); x = d * kvalues_iq4nl[nibble].
static Value decodeIQ4_NL(ElementReader &r) {
  Value d = r.f16(0);
  Value level = r.lookup(kIQ4NLValues, r.nibble(2, 0));
  Value q = r.sitofp(level);
  return r.mulf(d, q);
}

/// mxfp4: u8 e (e8m0), u8 qs[16] in q4_0's order; x = kvalues_mxfp4[nibble] *
/// 2^(e - 128), the scale built as ggml_e8m0_to_fp32_half builds it (a
/// subnormal for e < 2, which (e - 1) << 23 cannot express; the subnormal
/// shifts by e & 1 so that no lane shifts by 32 or more, which is poison).
static Value decodeMXFP4(ElementReader &r) {
  Value e = r.byte(0);
  Value smallest = r.constant(0x00200000);
  Value subnormal = r.shli(smallest, r.andi(e, 1));
  Value normal = r.shli(r.subi(e, 1), 23);
  Value isSubnormal = r.ult(e, 2);
  Value d = r.bitsAsF32(r.select(isSubnormal, subnormal, normal));
  Value level = r.lookup(kMXFP4Values, r.nibble(1, 0));
  Value q = r.sitofp(level);
  return r.mulf(d, q);
}

/// tq2_0: u8 qs[64], f16 d; element 128c + 32s + j is bits 2s..2s+1 of
/// qs[32c + j] (loops (c, s, j)); x = (q - 1) * d.
static Value decodeTQ2_0(ElementReader &r) {
  Value d = r.f16(1);
  Value q = r.sitofp(r.subi(r.bits(0, r.position(1), 2), 1));
  return r.mulf(d, q);
}

/// tq1_0: u8 qs[48], u8 qh[4], f16 d. Each byte holds 5 (qh: 4) base-3
/// digits, stored as ceil(n * 256 / 243) of their value n read most
/// significant digit first, so digit k of byte q is ((q * 3^k mod 256) * 3)
/// >> 8. Digit k of byte j is element
///   32k + j          of qs[0..32)  (elements   0..159),
///   160 + 16k + j    of qs[32..48) (elements 160..239),
///   240 + 4k + j     of qh[0..4)   (elements 240..255).
/// With loops (a1, a0, j1, j0) of sizes (8, 2, 4, 4), element
/// e = 32a1 + 16a0 + 4j1 + j0 lies in 16-element group g = 2a1 + a0, and
/// its byte is qs[16a0 + 4j1 + j0] (g < 10, k = a1), qs[32 + 4j1 + j0]
/// (10 <= g < 15, k = g - 10) or qh[j0] (g = 15, k = j1): every element reads
/// the three candidates (affine in the loops) and selects by g. x = (digit -
/// 1) * d.
static Value decodeTQ1_0(ElementReader &r) {
  Value d = r.f16(3);
  Value a1 = r.position(0), a0 = r.position(1), j1 = r.position(2);
  Value group = r.addi(r.muli(a1, 2), a0);
  Value inFirst = r.ult(group, 10), inHigh = r.eq(group, 15);
  Value second = r.subi(group, 10);
  Value digit = r.select(inFirst, a1, r.select(inHigh, j1, second));
  Value first = r.byte(0), middle = r.byte(1), high = r.byte(2);
  Value byte = r.select(inFirst, first, r.select(inHigh, high, middle));
  Value power = r.lookup(kPowersOf3, digit);
  Value shifted = r.andi(r.muli(byte, power), 0xFF);
  Value q = r.shrui(r.muli(shifted, 3), 8);
  return r.mulf(d, r.sitofp(r.subi(q, 1)));
}

/// The decoder of the lookup-table and ternary formats, if `scheme` is one.
static std::optional<BlockDecoder>
getLookupOrTernaryDecoder(GGUFSchemeAttr scheme) {
  int64_t size = scheme.getBlockSize(), blockBytes = scheme.getBlockBytes();
  switch (scheme.getFormat()) {
  case GGUFFormat::IQ4_NL:
    // (h, j): nibble h of quant byte j, after the f16 d.
    return BlockDecoder{
        {2, size / 2}, {{0, {}}, {1, {}}, {2, {1}}}, decodeIQ4_NL};
  case GGUFFormat::MXFP4:
    // (h, j): nibble h of quant byte j, after the exponent byte.
    return BlockDecoder{{2, size / 2}, {{0, {}}, {1, {1}}}, decodeMXFP4};
  case GGUFFormat::TQ2_0:
    // (c, s, j): crumb s of quant byte 32c + j; d trails the block.
    return BlockDecoder{
        {2, 4, size / 8},
        {{0, {0, 2}}, {blockBytes - 2, {}}, {blockBytes - 1, {}}},
        decodeTQ2_0};
  case GGUFFormat::TQ1_0:
    // (a1, a0, j1, j0): qs[16a0 + 4j1 + j0], qs[32 + 4j1 + j0], qh[j0], d.
    return BlockDecoder{{8, 2, 4, 4},
                        {{0, {1, 2, 3}},
                         {32, {2, 3}},
                         {48, {3}},
                         {blockBytes - 2, {}},
                         {blockBytes - 1, {}}},
                        decodeTQ1_0};
  default:
    return std::nullopt;
  }
}

/// The decoder of `scheme`, if this lowering knows its format. The geometry
/// of the 32-element formats comes from the scheme (their quants trail the
/// block); the k-quants' layouts are fixed.
static std::optional<BlockDecoder> getBlockDecoder(GGUFSchemeAttr scheme) {
  int64_t size = scheme.getBlockSize(), blockBytes = scheme.getBlockBytes();
  // The formats of 32-element blocks start with an f16 scale d (then an f16
  // min m for the _1 variants) and end with their packed quants.
  SmallVector<ByteRead> header = {{0, {}}, {1, {}}};
  bool hasMin = false;
  std::optional<BlockDecoder> decoder;
  switch (scheme.getFormat()) {
  case GGUFFormat::Q8_0:
    // (j): quant byte j.
    header.push_back({blockBytes - size, {0}});
    decoder = BlockDecoder{{size}, header, decodeQ8_0};
    break;
  case GGUFFormat::Q4_1:
    hasMin = true;
    [[fallthrough]];
  case GGUFFormat::Q4_0:
    // (h, j): nibble h of quant byte j.
    if (hasMin)
      header.append({{2, {}}, {3, {}}});
    header.push_back({blockBytes - size / 2, {1}});
    decoder =
        BlockDecoder{{2, size / 2}, header, hasMin ? decodeQ4_1 : decodeQ4_0};
    break;
  case GGUFFormat::Q5_1:
    hasMin = true;
    [[fallthrough]];
  case GGUFFormat::Q5_0:
    // (h, g, i): nibble h of quant byte 8g + i, and bit i of high-bit byte
    // (size/16)h + g, i.e. bit h*size/2 + 8g + i of the high bits.
    if (hasMin)
      header.append({{2, {}}, {3, {}}});
    header.push_back({static_cast<int64_t>(header.size()), {0, 1}});
    header.push_back({blockBytes - size / 2, {1, 2}});
    decoder = BlockDecoder{
        {2, size / 16, 8}, header, hasMin ? decodeQ5_1 : decodeQ5_0};
    break;
  // k-quants: the whole block is listed, scale bytes first.
  case GGUFFormat::Q4_K:
  case GGUFFormat::Q5_K: {
    bool q5 = scheme.getFormat() == GGUFFormat::Q5_K;
    // d, dmin, scales[jl], scales[4 + jl], scales[8 + jl] (jl = 2cl + h),
    // [qh[l],] qs[64ch + 32cl + l].
    SmallVector<ByteRead> bytes = {{0, {}},     {1, {}},     {2, {}},
                                   {3, {}},     {4, {1, 2}}, {8, {1, 2}},
                                   {12, {1, 2}}};
    if (q5)
      bytes.push_back({16, {3}});
    bytes.push_back({q5 ? 48 : 16, {0, 1, 3}});
    decoder = BlockDecoder{{2, 2, 2, 32}, bytes, q5 ? decodeQ5_K : decodeQ4_K};
    break;
  }
  case GGUFFormat::Q6_K:
    // ql[64n + 32kl + l], qh[32n + l], scales[8n + 4kh + 2kl + lh], d.
    decoder = BlockDecoder{{2, 2, 2, 2, 16},
                           {{0, {0, 2, 3, 4}},
                            {128, {0, 3, 4}},
                            {192, {0, 1, 2, 3}},
                            {208, {}},
                            {209, {}}},
                           decodeQ6_K};
    break;
  case GGUFFormat::Q2_K:
    // scales[8n + 2j + lh], qs[32n + 16lh + ll], d, dmin.
    decoder = BlockDecoder{{2, 4, 2, 16},
                           {{0, {0, 1, 2}},
                            {16, {0, 2, 3}},
                            {80, {}},
                            {81, {}},
                            {82, {}},
                            {83, {}}},
                           decodeQ2_K};
    break;
  case GGUFFormat::Q3_K:
    // hmask[16lh + ll], qs[32n + 16lh + ll], scales[4jh + 2jl + lh],
    // scales[8 + 2jl + lh], d.
    decoder = BlockDecoder{{2, 2, 2, 2, 16},
                           {{0, {3, 4}},
                            {32, {0, 3, 4}},
                            {96, {1, 2, 3}},
                            {104, {2, 3}},
                            {108, {}},
                            {109, {}}},
                           decodeQ3_K};
    break;
  case GGUFFormat::IQ4_NL:
  case GGUFFormat::MXFP4:
  case GGUFFormat::TQ1_0:
  case GGUFFormat::TQ2_0:
    decoder = getLookupOrTernaryDecoder(scheme);
    break;
  default:
    return std::nullopt;
  }

  // The decoder must cover exactly one block of the scheme's geometry.
  int64_t elements = 1;
  for (int64_t n : decoder->loops)
    elements *= n;
  assert(elements == size && "the block loops miss elements");
  assert(llvm::all_of(decoder->bytes,
                      [&](const ByteRead &read) {
                        return read.offset + decoder->getExtent(read) <=
                               blockBytes;
                      }) &&
         "byte read past the block");
  (void)elements;
  return decoder;
}

//===----------------------------------------------------------------------===//
// Shared pieces
//===----------------------------------------------------------------------===//

/// `v` converted to the float type `type`.
static Value convertFloat(OpBuilder &b, Location loc, Value v, Type type) {
  unsigned from = v.getType().getIntOrFloatBitWidth();
  unsigned to = type.getIntOrFloatBitWidth();
  if (v.getType() == type)
    return v;
  if (from < to)
    return arith::ExtFOp::create(b, loc, type, v);
  return arith::TruncFOp::create(b, loc, type, v);
}

/// The sizes of `v`'s dimensions with the innermost one replaced by `inner`.
static SmallVector<OpFoldResult> getSizesWithInner(OpBuilder &b, Location loc,
                                                   Value v,
                                                   ArrayRef<int64_t> inner) {
  SmallVector<OpFoldResult> sizes = tensor::getMixedSizes(b, loc, v);
  sizes.pop_back();
  for (int64_t n : inner)
    sizes.push_back(b.getIndexAttr(n));
  return sizes;
}

/// Splits the innermost dimension of `v` into `inner` (row-major).
static Value expandInner(OpBuilder &b, Location loc, Value v,
                         ArrayRef<int64_t> inner) {
  auto type = cast<RankedTensorType>(v.getType());
  int64_t rank = type.getRank();
  SmallVector<ReassociationIndices> groups;
  for (int64_t i = 0; i < rank - 1; ++i)
    groups.push_back({i});
  groups.emplace_back();
  for (size_t i = 0; i < inner.size(); ++i)
    groups.back().push_back(rank - 1 + i);
  SmallVector<int64_t> shape(type.getShape().drop_back());
  shape.append(inner.begin(), inner.end());
  return tensor::ExpandShapeOp::create(
      b, loc, RankedTensorType::get(shape, type.getElementType()), v, groups,
      getSizesWithInner(b, loc, v, inner));
}

/// The raw bytes of `weight`, viewed as [outer..., blocks, blockBytes].
static Value getBlockView(OpBuilder &b, Location loc, Value weight,
                          GGUFSchemeAttr scheme) {
  auto type = cast<QuantizedTensorType>(weight.getType());
  int64_t blocks = type.getShape().back() / scheme.getBlockSize();
  Value bytes = ToBytesOp::create(b, loc, type.getBytesType(), weight);
  return expandInner(b, loc, bytes, {blocks, scheme.getBlockBytes()});
}

/// The operands and indexing maps through which a generic reads `decoder`'s
/// bytes from `blocks` ([rows..., blocks, blockBytes]). Each read becomes a
/// slice of `blocks` starting at its offset, with the bytes it spans split
/// into its loops, so that every map is a projected permutation
/// (rows..., b, loops of the read...) and the generic stays vectorizable. The
/// iteration space has `numLoops` loops: `rowLoops` address the rows,
/// `blockLoop` the block, and the block's own loops follow it.
static void getByteOperands(OpBuilder &b, Location loc,
                            const BlockDecoder &decoder, Value blocks,
                            unsigned numLoops, ArrayRef<unsigned> rowLoops,
                            unsigned blockLoop,
                            SmallVectorImpl<Value> &operands,
                            SmallVectorImpl<AffineMap> &maps) {
  auto type = cast<RankedTensorType>(blocks.getType());
  int64_t rank = type.getRank();
  SmallVector<OpFoldResult> sizes = tensor::getMixedSizes(b, loc, blocks);
  SmallVector<OpFoldResult> strides(rank, b.getIndexAttr(1));
  MLIRContext *ctx = b.getContext();
  for (const ByteRead &read : decoder.bytes) {
    SmallVector<OpFoldResult> offsets(rank, b.getIndexAttr(0));
    offsets.back() = b.getIndexAttr(read.offset);
    int64_t extent = decoder.getExtent(read);
    sizes.back() = b.getIndexAttr(extent);
    SmallVector<int64_t> shape(type.getShape());
    shape.back() = extent;
    // A byte every element of the block shares drops the innermost dimension.
    if (read.loops.empty())
      shape.pop_back();
    auto sliceType = RankedTensorType::get(shape, type.getElementType());
    Value slice = tensor::ExtractSliceOp::create(b, loc, sliceType, blocks,
                                                 offsets, sizes, strides);
    if (read.loops.size() > 1) {
      SmallVector<int64_t> split;
      for (unsigned loop : read.loops)
        split.push_back(decoder.loops[loop]);
      slice = expandInner(b, loc, slice, split);
    }
    operands.push_back(slice);

    SmallVector<AffineExpr> results;
    for (unsigned loop : rowLoops)
      results.push_back(getAffineDimExpr(loop, ctx));
    results.push_back(getAffineDimExpr(blockLoop, ctx));
    for (unsigned loop : read.loops)
      results.push_back(getAffineDimExpr(blockLoop + 1 + loop, ctx));
    maps.push_back(AffineMap::get(numLoops, 0, results, ctx));
  }
}

/// The decoder of `weight`'s scheme, or failure with the reason.
static FailureOr<std::pair<GGUFSchemeAttr, BlockDecoder>>
matchBlockFormat(PatternRewriter &rewriter, Operation *op, Value weight) {
  auto scheme = dyn_cast<GGUFSchemeAttr>(
      cast<QuantizedTensorType>(weight.getType()).getScheme());
  if (!scheme)
    return rewriter.notifyMatchFailure(op, "not a GGUF block format");
  // Interleaved rows are a layout for qt-lower-matmul-to-vector's GEMVs.
  if (scheme.isInterleaved())
    return rewriter.notifyMatchFailure(op, "rows are interleaved");
  std::optional<BlockDecoder> decoder = getBlockDecoder(scheme);
  if (!decoder)
    return rewriter.notifyMatchFailure(op, "no decoder for this format");
  return std::make_pair(scheme, std::move(*decoder));
}

//===----------------------------------------------------------------------===//
// Patterns
//===----------------------------------------------------------------------===//

/// qt.dequantize -> one parallel generic over (outer..., b, block loops...)
/// writing [outer..., blocks, block loops...], collapsed to [outer..., K].
struct LowerDequantize : OpRewritePattern<DequantizeOp> {
  using OpRewritePattern::OpRewritePattern;

  LogicalResult matchAndRewrite(DequantizeOp op,
                                PatternRewriter &rewriter) const override {
    auto format = matchBlockFormat(rewriter, op, op.getInput());
    if (failed(format))
      return failure();
    GGUFSchemeAttr scheme = format->first;
    const BlockDecoder &decoder = format->second;
    Location loc = op.getLoc();
    QuantizedTensorType inputType = op.getInput().getType();
    RankedTensorType resultType = op.getType();
    Type elementType = resultType.getElementType();

    Value bytes = getBlockView(rewriter, loc, op.getInput(), scheme);
    unsigned outer = inputType.getRank() - 1;
    // [outer..., blocks, block loops...]: every dimension is one loop.
    Value init = tensor::EmptyOp::create(
        rewriter, loc, getSizesWithInner(rewriter, loc, bytes, decoder.loops),
        elementType);
    auto initType = cast<RankedTensorType>(init.getType());
    unsigned numLoops = initType.getRank();

    SmallVector<unsigned> rowLoops =
        llvm::to_vector(llvm::seq<unsigned>(0, outer));
    SmallVector<Value> inputs;
    SmallVector<AffineMap> maps;
    getByteOperands(rewriter, loc, decoder, bytes, numLoops, rowLoops, outer,
                    inputs, maps);
    maps.push_back(rewriter.getMultiDimIdentityMap(numLoops));
    SmallVector<utils::IteratorType> iterators(numLoops,
                                               utils::IteratorType::parallel);
    auto generic = linalg::GenericOp::create(
        rewriter, loc, initType, inputs, init, maps, iterators,
        [&](OpBuilder &b, Location loc, ValueRange args) {
          ElementReader reader(b, loc, args.drop_back(), outer + 1,
                               decoder.loops);
          Value value = decoder.decode(reader);
          linalg::YieldOp::create(b, loc,
                                  convertFloat(b, loc, value, elementType));
        });

    SmallVector<ReassociationIndices> groups;
    for (unsigned i = 0; i < outer; ++i)
      groups.push_back({i});
    groups.push_back(llvm::to_vector<2>(llvm::seq<int64_t>(outer, numLoops)));
    Value result = tensor::CollapseShapeOp::create(
        rewriter, loc, generic.getResult(0), groups);
    if (result.getType() != resultType)
      result = tensor::CastOp::create(rewriter, loc, resultType, result);
    rewriter.replaceOp(op, result);
    return success();
  }
};

/// qt.matmul -> one generic over (lead..., n, b, block loops...) that decodes
/// each weight element inside the reduction over (b, block loops...) and
/// accumulates in f32; x is viewed as [lead..., blocks, block loops...].
struct LowerMatmul : OpRewritePattern<MatmulOp> {
  using OpRewritePattern::OpRewritePattern;

  LogicalResult matchAndRewrite(MatmulOp op,
                                PatternRewriter &rewriter) const override {
    auto format = matchBlockFormat(rewriter, op, op.getWeight());
    if (failed(format))
      return failure();
    GGUFSchemeAttr scheme = format->first;
    const BlockDecoder &decoder = format->second;
    MLIRContext *ctx = getContext();
    Location loc = op.getLoc();
    QuantizedTensorType weightType = op.getWeight().getType();
    RankedTensorType resultType = op.getType();
    Type f32 = rewriter.getF32Type();
    int64_t k = weightType.getShape()[1];
    int64_t blocks = k / scheme.getBlockSize();

    // A dynamic K in x is the weight's K (the verifier leaves it open).
    Value x = op.getLhs();
    auto xType = cast<RankedTensorType>(x.getType());
    if (xType.isDynamicDim(xType.getRank() - 1)) {
      SmallVector<int64_t> shape(xType.getShape());
      shape.back() = k;
      x = tensor::CastOp::create(
          rewriter, loc, RankedTensorType::get(shape, xType.getElementType()),
          x);
    }
    SmallVector<int64_t> inner = {blocks};
    inner.append(decoder.loops);
    Value xBlocks = expandInner(rewriter, loc, x, inner);
    Value bytes = getBlockView(rewriter, loc, op.getWeight(), scheme);

    // The accumulator: [lead..., N] zeros in f32.
    unsigned lead = xType.getRank() - 1;
    SmallVector<OpFoldResult> accSizes =
        tensor::getMixedSizes(rewriter, loc, x);
    accSizes.back() = tensor::getMixedSize(rewriter, loc, bytes, 0);
    Value acc = tensor::EmptyOp::create(rewriter, loc, accSizes, f32);
    Value zero = arith::ConstantOp::create(rewriter, loc, f32,
                                           rewriter.getF32FloatAttr(0.0));
    acc = linalg::FillOp::create(rewriter, loc, zero, acc).getResult(0);

    // Loops: lead..., n, b, block loops...
    unsigned n = lead, b = lead + 1;
    unsigned numLoops = b + 1 + decoder.loops.size();
    SmallVector<AffineExpr> xResults, accResults;
    for (unsigned i = 0; i < numLoops; ++i) {
      if (i != n)
        xResults.push_back(getAffineDimExpr(i, ctx));
      if (i <= n)
        accResults.push_back(getAffineDimExpr(i, ctx));
    }
    SmallVector<Value> inputs = {xBlocks};
    SmallVector<AffineMap> maps = {AffineMap::get(numLoops, 0, xResults, ctx)};
    getByteOperands(rewriter, loc, decoder, bytes, numLoops, {n}, b, inputs,
                    maps);
    maps.push_back(AffineMap::get(numLoops, 0, accResults, ctx));
    SmallVector<utils::IteratorType> iterators(numLoops,
                                               utils::IteratorType::reduction);
    for (unsigned i = 0; i <= n; ++i)
      iterators[i] = utils::IteratorType::parallel;

    auto generic = linalg::GenericOp::create(
        rewriter, loc, acc.getType(), inputs, acc, maps, iterators,
        [&](OpBuilder &bb, Location loc, ValueRange args) {
          ElementReader reader(bb, loc, args.drop_front().drop_back(), b + 1,
                               decoder.loops);
          Value w = decoder.decode(reader);
          Value xf = convertFloat(bb, loc, args.front(), f32);
          Value product = arith::MulFOp::create(bb, loc, xf, w);
          Value sum = arith::AddFOp::create(bb, loc, args.back(), product);
          linalg::YieldOp::create(bb, loc, sum);
        });

    Value result = generic.getResult(0);
    Type elementType = resultType.getElementType();
    if (elementType != f32)
      result = castElements(rewriter, loc, result, elementType);
    if (result.getType() != resultType)
      result = tensor::CastOp::create(rewriter, loc, resultType, result);
    rewriter.replaceOp(op, result);
    return success();
  }

  /// `v` with its f32 elements converted to `elementType`.
  static Value castElements(OpBuilder &b, Location loc, Value v,
                            Type elementType) {
    auto type = cast<RankedTensorType>(v.getType());
    Value init = tensor::EmptyOp::create(
        b, loc, tensor::getMixedSizes(b, loc, v), elementType);
    AffineMap id = b.getMultiDimIdentityMap(type.getRank());
    SmallVector<utils::IteratorType> iterators(type.getRank(),
                                               utils::IteratorType::parallel);
    return linalg::GenericOp::create(
               b, loc, init.getType(), v, init, ArrayRef<AffineMap>{id, id},
               iterators,
               [&](OpBuilder &bb, Location loc, ValueRange args) {
                 linalg::YieldOp::create(
                     bb, loc, convertFloat(bb, loc, args[0], elementType));
               })
        .getResult(0);
  }
};

//===----------------------------------------------------------------------===//
// Pass
//===----------------------------------------------------------------------===//

struct LowerToLinalgPass
    : public kvant::qt::impl::LowerToLinalgPassBase<LowerToLinalgPass> {
  void runOnOperation() override {
    RewritePatternSet patterns(&getContext());
    patterns.add<LowerDequantize, LowerMatmul>(&getContext());
    if (failed(applyPatternsGreedily(getOperation(), std::move(patterns))))
      return signalPassFailure();

    // What is left has a format without a lowering: never leave it behind.
    bool unsupported = false;
    getOperation()->walk([&](Operation *op) {
      Value quantized;
      if (auto dequant = dyn_cast<DequantizeOp>(op))
        quantized = dequant.getInput();
      else if (auto matmul = dyn_cast<MatmulOp>(op))
        quantized = matmul.getWeight();
      else
        return;
      auto type = cast<QuantizedTensorType>(quantized.getType());
      op->emitOpError("lowering of ") << type.getScheme().getFormatName()
                                      << " to linalg is not implemented yet";
      unsupported = true;
    });
    if (unsupported)
      signalPassFailure();
  }
};

} // namespace
