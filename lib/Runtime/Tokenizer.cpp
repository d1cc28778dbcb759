//===- Tokenizer.cpp - the tokenizer stored in a GGUF file ----------------===//

#include "lib/Runtime/Tokenizer.h"

#include "lib/GGUF/GGUFFile.h"

#include <algorithm>
#include <cstring>
#include <iterator>
#include <optional>
#include <queue>

using namespace kvant::runtime;
using kvant::gguf::GGUFFile;
using kvant::gguf::Value;
using kvant::gguf::ValueType;

namespace {

//===----------------------------------------------------------------------===//
// UTF-8 and character classes
//===----------------------------------------------------------------------===//

/// Decodes the character at `text[pos]`; sets `len` to its byte length.
/// Malformed bytes decode one at a time as kInvalid.
constexpr uint32_t kInvalid = 0xFFFFFFFF;
uint32_t decodeUtf8(std::string_view text, size_t pos, size_t &len) {
  auto c = static_cast<unsigned char>(text[pos]);
  len = 1;
  if (c < 0x80)
    return c;
  size_t n;
  uint32_t cp;
  if ((c & 0xE0) == 0xC0) {
    n = 2;
    cp = c & 0x1F;
  } else if ((c & 0xF0) == 0xE0) {
    n = 3;
    cp = c & 0x0F;
  } else if ((c & 0xF8) == 0xF0) {
    n = 4;
    cp = c & 0x07;
  } else {
    return kInvalid;
  }
  if (pos + n > text.size())
    return kInvalid;
  for (size_t i = 1; i < n; ++i) {
    auto d = static_cast<unsigned char>(text[pos + i]);
    if ((d & 0xC0) != 0x80)
      return kInvalid;
    cp = (cp << 6) | (d & 0x3F);
  }
  len = n;
  return cp;
}

void appendUtf8(std::string &out, uint32_t cp) {
  if (cp < 0x80) {
    out += static_cast<char>(cp);
  } else if (cp < 0x800) {
    out += static_cast<char>(0xC0 | (cp >> 6));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  } else if (cp < 0x10000) {
    out += static_cast<char>(0xE0 | (cp >> 12));
    out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  } else {
    out += static_cast<char>(0xF0 | (cp >> 18));
    out += static_cast<char>(0x80 | ((cp >> 12) & 0x3F));
    out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  }
}

/// Character classes of the GPT-2 pre-tokenizer regex.
enum class CharClass : uint8_t { Letter, Number, Space, Other };

struct ClassRange {
  uint32_t lo, hi;
  CharClass cls;
};

// Non-ASCII code points that are not letters (\p{L}), sorted. Everything
// else above U+007F counts as a letter. This is an approximation of the
// Unicode tables: it covers White_Space, the decimal digits of the common
// scripts, superscripts, fractions and enclosed numbers (\p{N}), and
// punctuation, symbols, combining marks, format characters, emoji and private
// use of the common blocks (neither L nor N). Rare scripts' digits and marks
// are classed as letters.
constexpr CharClass S = CharClass::Space, N = CharClass::Number,
                    O = CharClass::Other;
const ClassRange kClassRanges[] = {
    {0x80, 0x84, O},        {0x85, 0x85, S},       {0x86, 0x9F, O},
    {0xA0, 0xA0, S},        {0xA1, 0xA9, O},       {0xAB, 0xB1, O},
    {0xB2, 0xB3, N},        {0xB4, 0xB4, O},       {0xB6, 0xB8, O},
    {0xB9, 0xB9, N},        {0xBB, 0xBB, O},       {0xBC, 0xBE, N},
    {0xBF, 0xBF, O},        {0xD7, 0xD7, O},       {0xF7, 0xF7, O},
    {0x2C2, 0x2C5, O},      {0x2D2, 0x2DF, O},     {0x2E5, 0x2EB, O},
    {0x2ED, 0x2ED, O},      {0x2EF, 0x36F, O},     {0x375, 0x375, O},
    {0x37E, 0x37E, O},      {0x384, 0x385, O},     {0x387, 0x387, O},
    {0x3F6, 0x3F6, O},      {0x482, 0x489, O},     {0x55A, 0x55F, O},
    {0x589, 0x58A, O},      {0x58D, 0x58F, O},     {0x591, 0x5C7, O},
    {0x5F3, 0x5F4, O},      {0x600, 0x61F, O},     {0x64B, 0x65F, O},
    {0x660, 0x669, N},      {0x66A, 0x66D, O},     {0x670, 0x670, O},
    {0x6D4, 0x6D4, O},      {0x6D6, 0x6E4, O},     {0x6E7, 0x6ED, O},
    {0x6F0, 0x6F9, N},      {0x6FD, 0x6FE, O},     {0x7C0, 0x7C9, N},
    {0x900, 0x903, O},      {0x93A, 0x93C, O},     {0x93E, 0x94F, O},
    {0x951, 0x957, O},      {0x962, 0x965, O},     {0x966, 0x96F, N},
    {0x970, 0x970, O},      {0x981, 0x983, O},     {0x9BC, 0x9BC, O},
    {0x9BE, 0x9CD, O},      {0x9D7, 0x9D7, O},     {0x9E2, 0x9E3, O},
    {0x9E6, 0x9EF, N},      {0x9F4, 0x9F9, N},     {0xA66, 0xA6F, N},
    {0xAE6, 0xAEF, N},      {0xB66, 0xB6F, N},     {0xBE6, 0xBF2, N},
    {0xC66, 0xC6F, N},      {0xCE6, 0xCEF, N},     {0xD66, 0xD6F, N},
    {0xE31, 0xE31, O},      {0xE34, 0xE3A, O},     {0xE3F, 0xE3F, O},
    {0xE47, 0xE4F, O},      {0xE50, 0xE59, N},     {0xE5A, 0xE5B, O},
    {0xED0, 0xED9, N},      {0xF20, 0xF33, N},     {0x1040, 0x1049, N},
    {0x1369, 0x137C, N},    {0x1680, 0x1680, S},   {0x16EE, 0x16F0, N},
    {0x17E0, 0x17E9, N},    {0x1810, 0x1819, N},   {0x1AB0, 0x1AFF, O},
    {0x1DC0, 0x1DFF, O},    {0x2000, 0x200A, S},   {0x200B, 0x2027, O},
    {0x2028, 0x2029, S},    {0x202A, 0x202E, O},   {0x202F, 0x202F, S},
    {0x2030, 0x205E, O},    {0x205F, 0x205F, S},   {0x2060, 0x206F, O},
    {0x2070, 0x2070, N},    {0x2074, 0x2079, N},   {0x207A, 0x207E, O},
    {0x2080, 0x2089, N},    {0x208A, 0x208E, O},   {0x20A0, 0x20FF, O},
    {0x2100, 0x2101, O},    {0x2103, 0x2106, O},   {0x2108, 0x2109, O},
    {0x2114, 0x2114, O},    {0x2116, 0x2118, O},   {0x211E, 0x2123, O},
    {0x2125, 0x2125, O},    {0x2127, 0x2127, O},   {0x2129, 0x2129, O},
    {0x212E, 0x212E, O},    {0x213A, 0x213B, O},   {0x2140, 0x2144, O},
    {0x214A, 0x214D, O},    {0x214F, 0x214F, O},   {0x2150, 0x2182, N},
    {0x2185, 0x2189, N},    {0x218A, 0x218B, O},   {0x2190, 0x245F, O},
    {0x2460, 0x249B, N},    {0x249C, 0x24E9, O},   {0x24EA, 0x24FF, N},
    {0x2500, 0x2775, O},    {0x2776, 0x2793, N},   {0x2794, 0x2BFF, O},
    {0x2CE5, 0x2CEA, O},    {0x2CF9, 0x2CFC, O},   {0x2CFD, 0x2CFD, N},
    {0x2CFE, 0x2CFF, O},    {0x2E00, 0x2FFF, O},   {0x3000, 0x3000, S},
    {0x3001, 0x3004, O},    {0x3007, 0x3007, N},   {0x3008, 0x3020, O},
    {0x3021, 0x3029, N},    {0x302A, 0x3030, O},   {0x3036, 0x3037, O},
    {0x3038, 0x303A, N},    {0x303D, 0x303F, O},   {0x3099, 0x309C, O},
    {0x30A0, 0x30A0, O},    {0x30FB, 0x30FB, O},   {0x3192, 0x3195, N},
    {0x3200, 0x321E, O},    {0x3220, 0x3229, N},   {0x322A, 0x3247, O},
    {0x3248, 0x324F, N},    {0x3250, 0x3250, O},   {0x3251, 0x325F, N},
    {0x3260, 0x327F, O},    {0x3280, 0x3289, N},   {0x328A, 0x32B0, O},
    {0x32B1, 0x32BF, N},    {0x32C0, 0x33FF, O},   {0xD800, 0xF8FF, O},
    {0xFE00, 0xFE19, O},    {0xFE20, 0xFE6B, O},   {0xFEFF, 0xFEFF, O},
    {0xFF01, 0xFF0F, O},    {0xFF10, 0xFF19, N},   {0xFF1A, 0xFF20, O},
    {0xFF3B, 0xFF40, O},    {0xFF5B, 0xFF65, O},   {0xFFE0, 0xFFEE, O},
    {0xFFF9, 0xFFFD, O},    {0x1D7CE, 0x1D7FF, N}, {0x1F000, 0x1F0FF, O},
    {0x1F100, 0x1F10C, N},  {0x1F10D, 0x1FAFF, O}, {0xE0000, 0xE01EF, O},
    {0xF0000, 0x10FFFF, O},
};

CharClass classify(uint32_t cp) {
  if (cp < 0x80) {
    if ((cp >= 'a' && cp <= 'z') || (cp >= 'A' && cp <= 'Z'))
      return CharClass::Letter;
    if (cp >= '0' && cp <= '9')
      return CharClass::Number;
    if (cp == ' ' || (cp >= 0x09 && cp <= 0x0D))
      return CharClass::Space;
    return CharClass::Other;
  }
  if (cp == kInvalid)
    return CharClass::Other;
  const ClassRange *end = std::end(kClassRanges);
  const ClassRange *it = std::upper_bound(
      std::begin(kClassRanges), end, cp,
      [](uint32_t c, const ClassRange &r) { return c < r.lo; });
  if (it != std::begin(kClassRanges) && cp <= (it - 1)->hi)
    return (it - 1)->cls;
  return CharClass::Letter;
}

/// Splits `text` into the words of the GPT-2 pre-tokenizer regex
///   's|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+
/// by hand, as llama.cpp's unicode_regex_split_custom_gpt2 does.
std::vector<std::string_view> splitGpt2(std::string_view text) {
  struct Char {
    size_t offset;
    uint32_t cp;
    CharClass cls;
  };
  std::vector<Char> chars;
  chars.reserve(text.size() + 1);
  for (size_t pos = 0; pos < text.size();) {
    size_t len;
    uint32_t cp = decodeUtf8(text, pos, len);
    chars.push_back({pos, cp, classify(cp)});
    pos += len;
  }
  size_t n = chars.size();
  chars.push_back({text.size(), 0, CharClass::Other}); // Sentinel.
  auto cpAt = [&](size_t i) { return i < n ? chars[i].cp : 0xFFFFFFFEu; };
  auto is = [&](size_t i, CharClass cls) {
    return i < n && chars[i].cls == cls;
  };

  std::vector<std::string_view> words;
  size_t start = 0;
  auto emit = [&](size_t end) {
    words.push_back(text.substr(chars[start].offset,
                                chars[end].offset - chars[start].offset));
    start = end;
  };
  while (start < n) {
    uint32_t cp = chars[start].cp;
    // 's|'t|'re|'ve|'m|'ll|'d
    if (cp == '\'' && start + 1 < n) {
      uint32_t next = cpAt(start + 1);
      if (next == 's' || next == 't' || next == 'm' || next == 'd') {
        emit(start + 2);
        continue;
      }
      uint32_t next2 = cpAt(start + 2);
      if ((next == 'r' && next2 == 'e') || (next == 'v' && next2 == 'e') ||
          (next == 'l' && next2 == 'l')) {
        emit(start + 3);
        continue;
      }
    }
    size_t first = cp == ' ' ? start + 1 : start;
    // ?\p{L}+ | ?\p{N}+ | ?[^\s\p{L}\p{N}]+
    bool matched = false;
    for (CharClass cls :
         {CharClass::Letter, CharClass::Number, CharClass::Other}) {
      if (!is(first, cls))
        continue;
      size_t end = first;
      while (is(end, cls))
        ++end;
      emit(end);
      matched = true;
      break;
    }
    if (matched)
      continue;
    size_t spaces = 0;
    while (is(start + spaces, CharClass::Space))
      ++spaces;
    // \s+(?!\S): leave the last space to the word that follows.
    if (spaces > 1 && start + spaces < n) {
      emit(start + spaces - 1);
      continue;
    }
    // \s+
    emit(start + std::max<size_t>(spaces, 1));
  }
  return words;
}

/// GPT-2's bytes_to_unicode: printable bytes map to themselves, the others
/// to U+0100 upwards in byte order.
struct ByteUnicode {
  uint32_t byteToCp[256];
  std::unordered_map<uint32_t, uint8_t> cpToByte;
  ByteUnicode() {
    uint32_t next = 256;
    for (uint32_t b = 0; b < 256; ++b) {
      bool printable = (b >= '!' && b <= '~') || (b >= 0xA1 && b <= 0xAC) ||
                       (b >= 0xAE && b <= 0xFF);
      byteToCp[b] = printable ? b : next++;
      cpToByte[byteToCp[b]] = static_cast<uint8_t>(b);
    }
  }
};
const ByteUnicode &byteUnicode() {
  static const ByteUnicode table;
  return table;
}

//===----------------------------------------------------------------------===//
// Merge loop shared by both models
//===----------------------------------------------------------------------===//

struct Symbol {
  int prev, next;
  size_t offset, len; ///< Bytes in the text being merged; len 0 = merged away.
};

/// Splits `text` into UTF-8 characters (llama.cpp's unicode_len_utf8 rule)
/// linked in a list.
std::vector<Symbol> splitSymbols(std::string_view text) {
  std::vector<Symbol> symbols;
  int index = 0;
  for (size_t offs = 0; offs < text.size();) {
    size_t len = std::min(utf8SequenceLength(text[offs]), text.size() - offs);
    symbols.push_back(
        {index - 1, offs + len == text.size() ? -1 : index + 1, offs, len});
    offs += len;
    ++index;
  }
  return symbols;
}

struct Bigram {
  int left, right;
  double priority; ///< Higher merges first: score (SPM) or -rank (BPE).
  size_t len;      ///< Bytes of the merged text, to detect stale entries.
  bool operator<(const Bigram &other) const {
    // std::priority_queue pops the largest: highest priority, then the
    // leftmost pair.
    if (priority != other.priority)
      return priority < other.priority;
    return left > other.left;
  }
};

/// Runs the merge loop over `symbols` of `text`: `priorityOf(left, right,
/// merged, priority)` says whether the pair may merge and with which priority.
template <typename PriorityFn>
void mergeSymbols(std::string_view text, std::vector<Symbol> &symbols,
                  PriorityFn priorityOf) {
  std::priority_queue<Bigram> queue;
  auto tryAdd = [&](int left, int right) {
    if (left < 0 || right < 0)
      return;
    const Symbol &l = symbols[left], &r = symbols[right];
    double priority;
    if (!priorityOf(text.substr(l.offset, l.len), text.substr(r.offset, r.len),
                    text.substr(l.offset, l.len + r.len), priority))
      return;
    queue.push({left, right, priority, l.len + r.len});
  };
  for (int i = 1; i < static_cast<int>(symbols.size()); ++i)
    tryAdd(i - 1, i);
  while (!queue.empty()) {
    Bigram bigram = queue.top();
    queue.pop();
    Symbol &left = symbols[bigram.left];
    Symbol &right = symbols[bigram.right];
    if (left.len == 0 || right.len == 0 || left.next != bigram.right ||
        left.len + right.len != bigram.len)
      continue;
    left.len += right.len;
    right.len = 0;
    left.next = right.next;
    if (right.next >= 0)
      symbols[right.next].prev = bigram.left;
    tryAdd(left.prev, bigram.left);
    tryAdd(bigram.left, left.next);
  }
}

//===----------------------------------------------------------------------===//
// Metadata helpers
//===----------------------------------------------------------------------===//

constexpr const char *kTokens = "tokenizer.ggml.tokens";
constexpr const char *kScores = "tokenizer.ggml.scores";
constexpr const char *kTypes = "tokenizer.ggml.token_type";
constexpr const char *kMerges = "tokenizer.ggml.merges";

bool isStringArray(const Value &v) {
  return v.type == ValueType::Array && v.elementType == ValueType::String &&
         v.strings.size() == v.arrayLength;
}

/// Reads an optional boolean (or integer) key.
bool readFlag(const GGUFFile &file, const std::string &key, bool &flag,
              std::string &error) {
  const Value *v = file.lookup(key);
  if (!v)
    return true;
  if (v->type != ValueType::Bool && !v->isInteger()) {
    error = key + " must be a bool, not " + kvant::gguf::valueTypeName(v->type);
    return false;
  }
  flag = v->intValue != 0 || v->uintValue != 0;
  return true;
}

/// Reads an optional token id key, which must name a token.
bool readTokenId(const GGUFFile &file, const std::string &key, int32_t &id,
                 size_t vocab, std::string &error) {
  const Value *v = file.lookup(key);
  if (!v)
    return true;
  if (!v->isInteger()) {
    error =
        key + " must be an integer, not " + kvant::gguf::valueTypeName(v->type);
    return false;
  }
  std::optional<int64_t> value = file.getInteger(key);
  if (!value || *value < -1 || *value >= static_cast<int64_t>(vocab)) {
    error = key + " " +
            (value ? std::to_string(*value) : std::to_string(v->uintValue)) +
            " is not a token id (vocabulary of " + std::to_string(vocab) +
            " tokens)";
    return false;
  }
  id = static_cast<int32_t>(*value);
  return true;
}

} // namespace

//===----------------------------------------------------------------------===//
// Loading
//===----------------------------------------------------------------------===//

std::unique_ptr<Tokenizer> Tokenizer::fromGGUF(const GGUFFile &file,
                                               std::string &error) {
  std::unique_ptr<Tokenizer> tokenizer(new Tokenizer());
  if (!tokenizer->init(file, error)) {
    error = file.getName() + ": " + error;
    return nullptr;
  }
  return tokenizer;
}

bool Tokenizer::init(const GGUFFile &file, std::string &error) {
  const Value *modelValue = file.lookup("tokenizer.ggml.model");
  if (!modelValue) {
    error = "no tokenizer: metadata key tokenizer.ggml.model is missing";
    return false;
  }
  if (modelValue->type != ValueType::String) {
    error = std::string("tokenizer.ggml.model must be a string, not ") +
            kvant::gguf::valueTypeName(modelValue->type);
    return false;
  }
  const std::string &modelName = modelValue->stringValue;
  if (modelName == "llama") {
    model = Model::SPM;
  } else if (modelName == "gpt2") {
    model = Model::BPE;
  } else {
    error = "unsupported tokenizer model '" + modelName +
            "' (tokenizer.ggml.model; supported: llama, gpt2)";
    return false;
  }

  const Value *tokensValue = file.lookup(kTokens);
  if (!tokensValue) {
    error =
        std::string("no tokenizer: metadata key ") + kTokens + " is missing";
    return false;
  }
  if (!isStringArray(*tokensValue)) {
    error = std::string(kTokens) + " must be an array of strings";
    return false;
  }
  if (tokensValue->strings.empty()) {
    error = std::string(kTokens) + " is empty";
    return false;
  }
  if (tokensValue->strings.size() > static_cast<size_t>(INT32_MAX)) {
    error = std::string(kTokens) + " has too many tokens";
    return false;
  }
  tokens = tokensValue->strings;
  size_t vocab = tokens.size();

  scores.assign(vocab, 0.0f);
  if (const Value *v = file.lookup(kScores)) {
    if (v->type != ValueType::Array ||
        (v->elementType != ValueType::Float32 &&
         v->elementType != ValueType::Float64) ||
        v->floats.size() != v->arrayLength) {
      error = std::string(kScores) + " must be an array of floats";
      return false;
    }
    if (v->floats.size() != vocab) {
      error = std::string(kScores) + " has " +
              std::to_string(v->floats.size()) + " entries but " + kTokens +
              " has " + std::to_string(vocab);
      return false;
    }
    for (size_t i = 0; i < vocab; ++i)
      scores[i] = static_cast<float>(v->floats[i]);
  }

  types.assign(vocab, TokenType::Normal);
  if (const Value *v = file.lookup(kTypes)) {
    if (v->type != ValueType::Array || v->ints.size() != v->arrayLength ||
        v->elementType == ValueType::Bool) {
      error = std::string(kTypes) + " must be an array of integers";
      return false;
    }
    if (v->ints.size() != vocab) {
      error = std::string(kTypes) + " has " + std::to_string(v->ints.size()) +
              " entries but " + kTokens + " has " + std::to_string(vocab);
      return false;
    }
    for (size_t i = 0; i < vocab; ++i) {
      if (v->ints[i] < 0 || v->ints[i] > 6) {
        error = std::string(kTypes) + "[" + std::to_string(i) + "] is " +
                std::to_string(v->ints[i]) + " (expected 0 to 6)";
        return false;
      }
      types[i] = static_cast<TokenType>(v->ints[i]);
    }
  }

  // `tokens` is final: views into it stay valid.
  tokenIds.reserve(vocab);
  for (size_t i = 0; i < vocab; ++i)
    tokenIds[tokens[i]] = static_cast<int32_t>(i);

  // Byte tokens: "<0xXX>" (SPM). Their byte, and each byte's token.
  tokenByte.assign(vocab, -1);
  for (size_t i = 0; i < vocab; ++i) {
    if (types[i] != TokenType::Byte)
      continue;
    const std::string &t = tokens[i];
    auto hex = [](char c) -> int {
      if (c >= '0' && c <= '9')
        return c - '0';
      if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
      if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
      return -1;
    };
    if (t.size() != 6 || t.compare(0, 3, "<0x") != 0 || t[5] != '>' ||
        hex(t[3]) < 0 || hex(t[4]) < 0) {
      error = "byte token " + std::to_string(i) + " '" + t +
              "' is not of the form <0xXX>";
      return false;
    }
    tokenByte[i] = static_cast<int16_t>(hex(t[3]) * 16 + hex(t[4]));
  }

  // Defaults as llama.cpp's for each model.
  if (model == Model::SPM) {
    bosId = vocab > 1 ? 1 : -1;
    eosId = vocab > 2 ? 2 : -1;
    unkId = 0;
    addBosToken = true;
    addSpacePrefix = true;
  } else {
    addBosToken = false;
    addSpacePrefix = false;
  }
  if (!readTokenId(file, "tokenizer.ggml.bos_token_id", bosId, vocab, error) ||
      !readTokenId(file, "tokenizer.ggml.eos_token_id", eosId, vocab, error) ||
      !readTokenId(file, "tokenizer.ggml.unknown_token_id", unkId, vocab,
                   error) ||
      !readFlag(file, "tokenizer.ggml.add_bos_token", addBosToken, error) ||
      !readFlag(file, "tokenizer.ggml.add_eos_token", addEosToken, error) ||
      !readFlag(file, "tokenizer.ggml.add_space_prefix", addSpacePrefix, error))
    return false;

  // A bad padding id does not matter for inference: ignored, as llama.cpp
  // ignores bad special ids.
  std::string ignored;
  if (!readTokenId(file, "tokenizer.ggml.padding_token_id", padId, vocab,
                   ignored))
    padId = -1;
  int32_t eotId = -1, eomId = -1;
  if (!readTokenId(file, "tokenizer.ggml.eot_token_id", eotId, vocab, error) ||
      !readTokenId(file, "tokenizer.ggml.eom_token_id", eomId, vocab, error))
    return false;
  for (int32_t id : {eosId, eotId, eomId})
    if (id >= 0)
      eogIds.push_back(id);
  for (const char *text :
       {"<|eot_id|>", "<|im_end|>", "<|end|>", "<end_of_turn>", "<|endoftext|>",
        "<|eom_id|>", "<EOT>", "<|end_of_text|>"}) {
    int32_t id = findToken(text);
    if (id >= 0 && types[id] == TokenType::Control)
      eogIds.push_back(id);
  }
  std::sort(eogIds.begin(), eogIds.end());
  eogIds.erase(std::unique(eogIds.begin(), eogIds.end()), eogIds.end());

  // Each byte's token for byte fallback (SPM) or unknown bytes (BPE).
  for (int b = 0; b < 256; ++b) {
    static const char *digits = "0123456789ABCDEF";
    char name[7] = {'<', '0', 'x', digits[b >> 4], digits[b & 15], '>', 0};
    int32_t id = findToken(name);
    if (id < 0)
      id = findToken(std::string(1, static_cast<char>(b)));
    byteTokens[b] = id;
  }

  if (model == Model::BPE) {
    if (const Value *pre = file.lookup("tokenizer.ggml.pre")) {
      if (pre->type != ValueType::String) {
        error = "tokenizer.ggml.pre must be a string";
        return false;
      }
      if (pre->stringValue != "gpt-2" && pre->stringValue != "default") {
        error = "unsupported pre-tokenizer '" + pre->stringValue +
                "' (tokenizer.ggml.pre; supported: gpt-2)";
        return false;
      }
    }
    const Value *v = file.lookup(kMerges);
    if (!v) {
      error = std::string("tokenizer model 'gpt2' needs ") + kMerges +
              ", which is missing";
      return false;
    }
    if (!isStringArray(*v)) {
      error = std::string(kMerges) + " must be an array of strings";
      return false;
    }
    merges = v->strings;
    mergeRanks.reserve(merges.size());
    for (size_t i = 0; i < merges.size(); ++i) {
      // llama.cpp splits at the first space after the first character.
      size_t space = merges[i].find(' ', 1);
      if (space == std::string::npos || space + 1 >= merges[i].size()) {
        error = std::string(kMerges) + "[" + std::to_string(i) + "] '" +
                merges[i] + "' is not of the form 'left right'";
        return false;
      }
      mergeRanks.emplace(merges[i], static_cast<int32_t>(i)); // First wins.
    }
  }

  // Tokens that split the text before merging, longest first.
  for (size_t i = 0; i < vocab; ++i) {
    TokenType t = types[i];
    if ((t == TokenType::Control || t == TokenType::UserDefined ||
         t == TokenType::Unknown) &&
        !tokens[i].empty())
      specialTokens.push_back(static_cast<int32_t>(i));
  }
  std::sort(specialTokens.begin(), specialTokens.end(),
            [&](int32_t a, int32_t b) {
              if (tokens[a].size() != tokens[b].size())
                return tokens[a].size() > tokens[b].size();
              return a < b;
            });
  return true;
}

//===----------------------------------------------------------------------===//
// Queries
//===----------------------------------------------------------------------===//

const std::string &Tokenizer::tokenText(int32_t id) const {
  static const std::string empty;
  return id >= 0 && id < vocabSize() ? tokens[id] : empty;
}

TokenType Tokenizer::tokenType(int32_t id) const {
  return id >= 0 && id < vocabSize() ? types[id] : TokenType::Undefined;
}

float Tokenizer::tokenScore(int32_t id) const {
  return id >= 0 && id < vocabSize() ? scores[id] : 0.0f;
}

int32_t Tokenizer::findToken(std::string_view text) const {
  auto it = tokenIds.find(text);
  return it == tokenIds.end() ? -1 : it->second;
}

bool Tokenizer::isEog(int32_t id) const {
  return std::binary_search(eogIds.begin(), eogIds.end(), id);
}

int32_t Tokenizer::bpeRank(std::string_view left,
                           std::string_view right) const {
  std::string key;
  key.reserve(left.size() + right.size() + 1);
  key.append(left).append(1, ' ').append(right);
  auto it = mergeRanks.find(key);
  return it == mergeRanks.end() ? -1 : it->second;
}

//===----------------------------------------------------------------------===//
// Encoding
//===----------------------------------------------------------------------===//

std::vector<int32_t> Tokenizer::encode(std::string_view text, bool addBos,
                                       bool parseSpecial) const {
  // Fragments: raw text, or a special token (id >= 0).
  struct Fragment {
    int32_t id;
    std::string_view text;
  };
  std::vector<Fragment> fragments;
  if (!text.empty())
    fragments.push_back({-1, text});
  for (int32_t special : specialTokens) {
    TokenType type = types[special];
    if (!parseSpecial &&
        (type == TokenType::Control || type == TokenType::Unknown))
      continue;
    const std::string &needle = tokens[special];
    std::vector<Fragment> next;
    next.reserve(fragments.size());
    for (const Fragment &f : fragments) {
      if (f.id >= 0 || f.text.find(needle) == std::string_view::npos) {
        next.push_back(f);
        continue;
      }
      std::string_view rest = f.text;
      for (size_t at; (at = rest.find(needle)) != std::string_view::npos;) {
        if (at > 0)
          next.push_back({-1, rest.substr(0, at)});
        next.push_back({special, {}});
        rest = rest.substr(at + needle.size());
      }
      if (!rest.empty())
        next.push_back({-1, rest});
    }
    fragments = std::move(next);
  }

  std::vector<int32_t> out;
  if (addBos && addBosToken && bosId >= 0)
    out.push_back(bosId);
  bool prevSpecial = true; // The first fragment gets the space prefix.
  for (const Fragment &f : fragments) {
    if (f.id >= 0) {
      out.push_back(f.id);
      prevSpecial = true;
      continue;
    }
    if (model == Model::SPM) {
      std::string escaped;
      escaped.reserve(f.text.size() + 8);
      if (addSpacePrefix && prevSpecial)
        escaped += "\xE2\x96\x81";
      for (char c : f.text) {
        if (c == ' ')
          escaped += "\xE2\x96\x81";
        else
          escaped += c;
      }
      encodeSpm(escaped, out);
    } else {
      encodeBpe(f.text, out);
    }
    prevSpecial = false;
  }
  if (addBos && addEosToken && eosId >= 0)
    out.push_back(eosId);
  return out;
}

void Tokenizer::encodeSpm(std::string_view text,
                          std::vector<int32_t> &out) const {
  std::vector<Symbol> symbols = splitSymbols(text);
  mergeSymbols(text, symbols,
               [&](std::string_view, std::string_view, std::string_view merged,
                   double &priority) {
                 int32_t id = findToken(merged);
                 if (id < 0)
                   return false;
                 priority = scores[id];
                 return true;
               });
  for (int i = symbols.empty() ? -1 : 0; i != -1; i = symbols[i].next) {
    std::string_view piece = text.substr(symbols[i].offset, symbols[i].len);
    int32_t id = findToken(piece);
    if (id >= 0) {
      out.push_back(id);
      continue;
    }
    // Byte fallback; without byte tokens, the unknown token per byte.
    for (char c : piece) {
      int32_t byteId = byteTokens[static_cast<unsigned char>(c)];
      if (byteId < 0)
        byteId = unkId;
      if (byteId >= 0)
        out.push_back(byteId);
    }
  }
}

void Tokenizer::encodeBpe(std::string_view text,
                          std::vector<int32_t> &out) const {
  for (std::string_view word : splitGpt2(text))
    encodeBpeWord(word, out);
}

void Tokenizer::encodeBpeWord(std::string_view word,
                              std::vector<int32_t> &out) const {
  const ByteUnicode &bu = byteUnicode();
  std::string mapped;
  mapped.reserve(word.size() * 2);
  for (char c : word)
    appendUtf8(mapped, bu.byteToCp[static_cast<unsigned char>(c)]);
  std::vector<Symbol> symbols = splitSymbols(mapped);
  mergeSymbols(mapped, symbols,
               [&](std::string_view left, std::string_view right,
                   std::string_view, double &priority) {
                 int32_t rank = bpeRank(left, right);
                 if (rank < 0)
                   return false;
                 priority = -static_cast<double>(rank);
                 return true;
               });
  for (int i = symbols.empty() ? -1 : 0; i != -1; i = symbols[i].next) {
    std::string_view piece =
        std::string_view(mapped).substr(symbols[i].offset, symbols[i].len);
    int32_t id = findToken(piece);
    if (id >= 0) {
      out.push_back(id);
      continue;
    }
    // As llama.cpp: each byte of the piece that is a token on its own.
    for (char c : piece) {
      int32_t byteId = findToken(std::string_view(&c, 1));
      if (byteId >= 0)
        out.push_back(byteId);
    }
  }
}

//===----------------------------------------------------------------------===//
// Decoding
//===----------------------------------------------------------------------===//

std::string Tokenizer::tokenToPiece(int32_t id, bool special) const {
  if (id < 0 || id >= vocabSize())
    return {};
  TokenType type = types[id];
  const std::string &text = tokens[id];
  if (type == TokenType::Control || type == TokenType::Unknown)
    return special ? text : std::string();
  if (type == TokenType::UserDefined)
    return text;
  if (model == Model::SPM) {
    if (type == TokenType::Byte)
      return std::string(1, static_cast<char>(tokenByte[id]));
    if (type != TokenType::Normal)
      return {};
    std::string piece;
    piece.reserve(text.size());
    for (size_t i = 0; i < text.size(); ++i) {
      if (text.compare(i, 3, "\xE2\x96\x81") == 0) {
        piece += ' ';
        i += 2;
      } else {
        piece += text[i];
      }
    }
    return piece;
  }
  if (type != TokenType::Normal)
    return {};
  // Byte-level: each code point back to its byte.
  const ByteUnicode &bu = byteUnicode();
  std::string piece;
  for (size_t pos = 0; pos < text.size();) {
    size_t len;
    uint32_t cp = decodeUtf8(text, pos, len);
    auto it = bu.cpToByte.find(cp);
    if (it != bu.cpToByte.end())
      piece += static_cast<char>(it->second);
    else
      piece.append(text, pos, len);
    pos += len;
  }
  return piece;
}

std::string Tokenizer::decode(const std::vector<int32_t> &ids) const {
  StreamDecoder decoder(*this, /*atStartOfText=*/true);
  std::string text;
  for (int32_t id : ids)
    text += decoder.push(id);
  text += decoder.finish();
  return text;
}

std::string StreamDecoder::push(int32_t id) {
  if (atStart && id == tokenizer.bos()) {
    atStart = false;
    return {};
  }
  atStart = false;
  std::string piece = tokenizer.tokenToPiece(id);
  if (stripSpace) {
    // Only the first token after the start loses its space, as llama.cpp's
    // lstrip of the first piece.
    stripSpace = false;
    if (!piece.empty() && piece[0] == ' ')
      piece.erase(0, 1);
  }
  pending += piece;
  // Hold back a trailing incomplete UTF-8 sequence.
  size_t keep = 0;
  for (size_t back = 1; back <= 4 && back <= pending.size(); ++back) {
    auto c = static_cast<unsigned char>(pending[pending.size() - back]);
    if ((c & 0xC0) == 0x80)
      continue; // Continuation byte: look further back.
    size_t need = c >= 0xC0 ? utf8SequenceLength(c) : 1;
    if (need > back)
      keep = back;
    break;
  }
  std::string ready = pending.substr(0, pending.size() - keep);
  pending.erase(0, pending.size() - keep);
  return ready;
}

std::string StreamDecoder::finish() {
  std::string rest;
  rest.swap(pending);
  return rest;
}
