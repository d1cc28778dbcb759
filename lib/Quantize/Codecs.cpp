//===- Codecs.cpp - the table of quantizers and dequantizers --------------===//

#include "lib/Quantize/Codecs.h"

using namespace kvant::quantize;

#define KVANT_CODEC(ID, NAME)                                                  \
  { ID, quantize##NAME, dequantize##NAME }
// GGML type ids as in lib/Formats/GGMLTypes.cpp.
static const Codec kCodecs[] = {
    KVANT_CODEC(0, F32),    KVANT_CODEC(1, F16),     KVANT_CODEC(30, BF16),
    KVANT_CODEC(8, Q8_0),   KVANT_CODEC(2, Q4_0),    KVANT_CODEC(3, Q4_1),
    KVANT_CODEC(6, Q5_0),   KVANT_CODEC(7, Q5_1),    KVANT_CODEC(10, Q2_K),
    KVANT_CODEC(11, Q3_K),  KVANT_CODEC(12, Q4_K),   KVANT_CODEC(13, Q5_K),
    KVANT_CODEC(14, Q6_K),  KVANT_CODEC(20, IQ4_NL), KVANT_CODEC(34, TQ1_0),
    KVANT_CODEC(35, TQ2_0), KVANT_CODEC(39, MXFP4),
};
#undef KVANT_CODEC

const Codec *kvant::quantize::lookupCodec(uint32_t typeId) {
  for (const Codec &codec : kCodecs)
    if (codec.typeId == typeId)
      return &codec;
  return nullptr;
}

std::vector<const kvant::formats::GGMLTypeInfo *>
kvant::quantize::quantizableTypes() {
  std::vector<const formats::GGMLTypeInfo *> types;
  for (const Codec &codec : kCodecs)
    if (codec.quantize)
      if (const formats::GGMLTypeInfo *type =
              formats::lookupGGMLType(codec.typeId))
        types.push_back(type);
  return types;
}
