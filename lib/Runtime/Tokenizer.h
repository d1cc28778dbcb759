//===- Tokenizer.h - the tokenizer stored in a GGUF file --------*- C++ -*-===//
//
// Encodes text to token ids and back with the vocabulary a GGUF file carries
// under `tokenizer.ggml.*`, following llama.cpp's behaviour for its two most
// common models:
//
//  * "llama": SentencePiece-style BPE by score (llama.cpp's
//    `llm_tokenizer_spm`). The text gets a leading space
//    (`tokenizer.ggml.add_space_prefix`, default true), spaces become U+2581
//    '▁', and starting from single UTF-8 characters the adjacent pair whose
//    concatenation is a token with the highest score is merged (leftmost on
//    ties) until none is left. A symbol that is not a token falls back to
//    the byte tokens `<0xXX>`.
//  * "gpt2": byte-level BPE. The GPT-2 pre-tokenizer splits the text into
//    words, each word's bytes are mapped to printable code points (GPT-2's
//    bytes_to_unicode), and the pair with the lowest rank in
//    `tokenizer.ggml.merges` is merged (leftmost on ties) until none is left.
//    The regex is implemented by hand (as llama.cpp does); ASCII is exact,
//    and non-ASCII code points are classed by a small table of the common
//    Unicode blocks (anything not listed counts as a letter), an
//    approximation of \p{L}/\p{N}/\s that errs only for rare scripts'
//    digits, marks and punctuation. Only `tokenizer.ggml.pre` "gpt-2" (or
//    absent/"default", read as gpt-2) is accepted.
//
// Both merge loops use a priority queue of candidate pairs over a linked list
// of symbols: O(n log n) in the length of the text.
//
// Control, user-defined and unknown tokens split the text before the merge
// loop as llama.cpp does: user-defined tokens always, control and unknown
// tokens only when `parseSpecial` is set (so "<s>" typed by a user is text).
//
// Plain C++ with no LLVM/MLIR dependency and no exceptions: the runtime links
// it. Errors come back as messages.
//
//===----------------------------------------------------------------------===//

#ifndef KVANT_LIB_RUNTIME_TOKENIZER_H
#define KVANT_LIB_RUNTIME_TOKENIZER_H

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace kvant::gguf {
class GGUFFile;
} // namespace kvant::gguf

namespace kvant::runtime {

/// Token types as `tokenizer.ggml.token_type` numbers them (llama.cpp's
/// llama_token_type).
enum class TokenType : int32_t {
  Undefined = 0,
  Normal = 1,
  Unknown = 2,
  Control = 3,
  UserDefined = 4,
  Unused = 5,
  Byte = 6,
};

class Tokenizer {
public:
  enum class Model { SPM, BPE };

  /// Reads the tokenizer from `file`'s metadata. On a missing or malformed
  /// tokenizer returns null and sets `error` (prefixed with the file name).
  static std::unique_ptr<Tokenizer> fromGGUF(const gguf::GGUFFile &file,
                                             std::string &error);

  /// Token ids of `text`. With `addBos`, adds the BOS token (and EOS) when
  /// the model's metadata asks for them (`tokenizer.ggml.add_bos_token`,
  /// default true for "llama" and false for "gpt2"; `add_eos_token`, default
  /// false), like llama.cpp's `add_special`. With `parseSpecial`, the text of
  /// control tokens ("<s>", "<|endoftext|>") becomes those tokens.
  std::vector<int32_t> encode(std::string_view text, bool addBos,
                              bool parseSpecial = false) const;

  /// Text of `ids`: control and unknown tokens print nothing, byte tokens
  /// their byte, '▁' becomes ' ' ("llama") and byte-level code points become
  /// their bytes ("gpt2"). A leading BOS is skipped and, with
  /// add_space_prefix, the space the encoder added before the first word is
  /// dropped, so that decode(encode(s, true)) == s. (llama.cpp's
  /// llama_detokenize keeps that space when a BOS leads; sentencepiece drops
  /// it, as this does.)
  std::string decode(const std::vector<int32_t> &ids) const;

  /// The bytes token `id` stands for, as llama.cpp's token_to_piece: no
  /// space is stripped; control and unknown tokens give "" unless `special`.
  /// A byte token gives one byte, which may be part of a UTF-8 character:
  /// StreamDecoder reassembles those.
  std::string tokenToPiece(int32_t id, bool special = false) const;

  int32_t bos() const { return bosId; }
  int32_t eos() const { return eosId; }
  int32_t unk() const { return unkId; }
  int32_t vocabSize() const { return static_cast<int32_t>(tokens.size()); }
  /// True for tokens that end generation: EOS, EOT, EOM and control tokens
  /// with a well-known end-of-turn text ("<|eot_id|>", "<|im_end|>", ...).
  bool isEog(int32_t id) const;

  Model getModel() const { return model; }
  bool addsSpacePrefix() const { return addSpacePrefix; }
  /// The stored text of token `id` (empty when out of range).
  const std::string &tokenText(int32_t id) const;
  TokenType tokenType(int32_t id) const;
  float tokenScore(int32_t id) const;
  /// Id of the token whose text is `text`, or -1.
  int32_t findToken(std::string_view text) const;

private:
  Tokenizer() = default;
  Tokenizer(const Tokenizer &) = delete;
  Tokenizer &operator=(const Tokenizer &) = delete;
  bool init(const gguf::GGUFFile &file, std::string &error);
  void encodeSpm(std::string_view text, std::vector<int32_t> &out) const;
  void encodeBpe(std::string_view text, std::vector<int32_t> &out) const;
  void encodeBpeWord(std::string_view word, std::vector<int32_t> &out) const;
  int32_t bpeRank(std::string_view left, std::string_view right) const;

  Model model = Model::SPM;
  std::vector<std::string> tokens;
  std::vector<float> scores;
  std::vector<TokenType> types;
  /// Text → id; the last of duplicate texts wins, as in llama.cpp. The views
  /// point into `tokens`.
  std::unordered_map<std::string_view, int32_t> tokenIds;
  /// "left right" → rank, from tokenizer.ggml.merges (views into `merges`).
  std::vector<std::string> merges;
  std::unordered_map<std::string_view, int32_t> mergeRanks;
  /// Control/user-defined/unknown tokens that split text, longest first.
  std::vector<int32_t> specialTokens;
  int32_t byteTokens[256];
  std::vector<int16_t> tokenByte; ///< Byte of a byte token, else -1.
  std::vector<int32_t> eogIds;
  int32_t bosId = -1, eosId = -1, unkId = -1, padId = -1;
  bool addBosToken = false, addEosToken = false, addSpacePrefix = false;
};

/// Turns a stream of generated tokens into text that is safe to print
/// piecewise: bytes of a UTF-8 character split over several byte tokens are
/// held until the character is complete. The concatenated output of push()
/// and finish() equals Tokenizer::decode of the same ids when
/// `atStartOfText` is set (the first piece loses the space prefix).
class StreamDecoder {
public:
  explicit StreamDecoder(const Tokenizer &tokenizer, bool atStartOfText = false)
      : tokenizer(tokenizer),
        stripSpace(atStartOfText && tokenizer.addsSpacePrefix()),
        atStart(atStartOfText) {}
  /// Adds token `id`; returns the text that is now complete.
  std::string push(int32_t id);
  /// Returns what is still held (an incomplete UTF-8 sequence) and resets.
  std::string finish();

private:
  const Tokenizer &tokenizer;
  std::string pending;
  bool stripSpace;
  bool atStart;
};

/// Length of the UTF-8 sequence that starts with byte `c`, as llama.cpp's
/// unicode_len_utf8: 1 for ASCII and for stray continuation bytes.
inline size_t utf8SequenceLength(unsigned char c) {
  static const uint8_t lengths[16] = {1, 1, 1, 1, 1, 1, 1, 1,
                                      1, 1, 1, 1, 2, 2, 3, 4};
  return lengths[c >> 4];
}

} // namespace kvant::runtime

#endif // KVANT_LIB_RUNTIME_TOKENIZER_H
