//===- kvant-tokenize.cpp - run the runtime's tokenizer and sampler -------===//
//
// Encodes text or decodes ids with the tokenizer stored in a GGUF file, using
// the runtime's plain C++ tokenizer (no LLVM/MLIR), and exposes the sampler
// for tests. Bad input prints "kvant-tokenize: error: ..." and exits with 1.
//
//===----------------------------------------------------------------------===//

#include "lib/GGUF/GGUFFile.h"
#include "lib/Runtime/Sampler.h"
#include "lib/Runtime/Tokenizer.h"

#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

using namespace kvant;
using namespace kvant::runtime;

static const char *kUsage =
    "usage:\n"
    "  kvant-tokenize MODEL.gguf [--no-bos] [--parse-special] [--ids] TEXT\n"
    "  kvant-tokenize MODEL.gguf [options] --file PATH   (text from a file)\n"
    "  kvant-tokenize MODEL.gguf --decode IDS            (IDS: 1,2,3)\n"
    "  kvant-tokenize MODEL.gguf --stream IDS   (streamed chunks, hex, one a "
    "line)\n"
    "  kvant-tokenize MODEL.gguf [options] --batch PATH  (NUL-separated "
    "texts;\n"
    "                                       one line of ids per text)\n"
    "  kvant-tokenize MODEL.gguf --decode-batch PATH     (a line of ids per "
    "text;\n"
    "                                       texts out, each ended by NUL)\n"
    "  kvant-tokenize MODEL.gguf --info\n"
    "  kvant-tokenize --sample LOGITS [--temperature T] [--top-k K] "
    "[--top-p P]\n"
    "                 [--seed S] [--count N]   (sampled ids, one a line)\n"
    "  kvant-tokenize --nll LOGITS --target ID (-log softmax(LOGITS)[ID])\n";

static int fail(const std::string &message) {
  std::fprintf(stderr, "kvant-tokenize: error: %s\n", message.c_str());
  return 1;
}

static bool readFile(const std::string &path, std::string &out,
                     std::string &error) {
  FILE *f = std::fopen(path.c_str(), "rb");
  if (!f) {
    error = path + ": cannot open: " + std::strerror(errno);
    return false;
  }
  char buf[65536];
  size_t n;
  while ((n = std::fread(buf, 1, sizeof(buf), f)) > 0)
    out.append(buf, n);
  bool bad = std::ferror(f);
  std::fclose(f);
  if (bad) {
    error = path + ": read error";
    return false;
  }
  return true;
}

/// Parses "1,2,3", "1 2 3" or "[1, 2, 3]".
static bool parseIds(const std::string &text, std::vector<int32_t> &ids,
                     std::string &error) {
  const char *p = text.c_str();
  while (*p) {
    if (*p == ',' || *p == ' ' || *p == '[' || *p == ']' || *p == '\t' ||
        *p == '\n' || *p == '\r') {
      ++p;
      continue;
    }
    char *end;
    errno = 0;
    long long v = std::strtoll(p, &end, 10);
    if (end == p || errno || v < INT32_MIN || v > INT32_MAX) {
      error = "invalid token id list '" + text + "'";
      return false;
    }
    ids.push_back(static_cast<int32_t>(v));
    p = end;
  }
  return true;
}

static bool parseFloats(const std::string &text, std::vector<float> &values,
                        std::string &error) {
  const char *p = text.c_str();
  while (*p) {
    if (*p == ',' || *p == ' ' || *p == '[' || *p == ']') {
      ++p;
      continue;
    }
    char *end;
    float v = std::strtof(p, &end);
    if (end == p) {
      error = "invalid number list '" + text + "'";
      return false;
    }
    values.push_back(v);
    p = end;
  }
  return true;
}

static bool parseNumber(const char *flag, const char *text, double &value,
                        std::string &error) {
  char *end;
  value = std::strtod(text, &end);
  if (end == text || *end) {
    error = std::string(flag) + " expects a number, not '" + text + "'";
    return false;
  }
  return true;
}

/// Prints a piece in quotes with control bytes escaped.
static void printPiece(const std::string &piece) {
  std::putchar('\'');
  for (unsigned char c : piece) {
    if (c == '\n')
      std::fputs("\\n", stdout);
    else if (c == '\t')
      std::fputs("\\t", stdout);
    else if (c == '\'' || c == '\\')
      std::printf("\\%c", c);
    else if (c < 0x20 || c == 0x7F)
      std::printf("\\x%02x", c);
    else
      std::putchar(c);
  }
  std::putchar('\'');
}

static void printIdList(const std::vector<int32_t> &ids, bool brackets) {
  if (brackets)
    std::putchar('[');
  for (size_t i = 0; i < ids.size(); ++i)
    std::printf("%s%d", i ? (brackets ? ", " : ",") : "", ids[i]);
  if (brackets)
    std::putchar(']');
  std::putchar('\n');
}

static int runSampler(const std::string &logitsText, const SamplingParams &p,
                      long count) {
  std::string error;
  std::vector<float> logits;
  if (!parseFloats(logitsText, logits, error))
    return fail(error);
  if (logits.empty())
    return fail("--sample needs at least one logit");
  if (!Sampler::validate(p, error))
    return fail(error);
  Sampler sampler(p);
  std::string out;
  for (long i = 0; i < count; ++i) {
    out += std::to_string(
        sampler.sample(logits.data(), static_cast<int>(logits.size())));
    out += '\n';
  }
  std::fputs(out.c_str(), stdout);
  return 0;
}

int main(int argc, char **argv) {
  bool addBos = true, parseSpecial = false, idsOnly = false, info = false;
  const char *path = nullptr, *text = nullptr, *file = nullptr;
  const char *decodeIds = nullptr, *streamIds = nullptr, *batch = nullptr,
             *decodeBatch = nullptr, *sampleLogits = nullptr,
             *nllLogits = nullptr;
  SamplingParams params;
  params.temperature = 1.0f;
  long count = 1, target = -1;
  std::string error;

  for (int i = 1; i < argc; ++i) {
    const char *arg = argv[i];
    auto value = [&](const char *&slot) {
      if (i + 1 >= argc) {
        fail(std::string(arg) + " expects a value");
        return false;
      }
      slot = argv[++i];
      return true;
    };
    auto number = [&](double &out) {
      const char *v;
      return value(v) && (parseNumber(arg, v, out, error) || (fail(error), 0));
    };
    double d;
    if (!std::strcmp(arg, "-h") || !std::strcmp(arg, "--help")) {
      std::fputs(kUsage, stdout);
      return 0;
    } else if (!std::strcmp(arg, "--no-bos")) {
      addBos = false;
    } else if (!std::strcmp(arg, "--parse-special")) {
      parseSpecial = true;
    } else if (!std::strcmp(arg, "--ids")) {
      idsOnly = true;
    } else if (!std::strcmp(arg, "--info")) {
      info = true;
    } else if (!std::strcmp(arg, "--file")) {
      if (!value(file))
        return 1;
    } else if (!std::strcmp(arg, "--decode")) {
      if (!value(decodeIds))
        return 1;
    } else if (!std::strcmp(arg, "--stream")) {
      if (!value(streamIds))
        return 1;
    } else if (!std::strcmp(arg, "--batch")) {
      if (!value(batch))
        return 1;
    } else if (!std::strcmp(arg, "--decode-batch")) {
      if (!value(decodeBatch))
        return 1;
    } else if (!std::strcmp(arg, "--sample")) {
      if (!value(sampleLogits))
        return 1;
    } else if (!std::strcmp(arg, "--nll")) {
      if (!value(nllLogits))
        return 1;
    } else if (!std::strcmp(arg, "--temperature")) {
      if (!number(d))
        return 1;
      params.temperature = static_cast<float>(d);
    } else if (!std::strcmp(arg, "--top-k")) {
      if (!number(d))
        return 1;
      if (d != std::floor(d) || std::fabs(d) > 1e9)
        return fail("--top-k expects an integer");
      params.topK = static_cast<int>(d);
    } else if (!std::strcmp(arg, "--top-p")) {
      if (!number(d))
        return 1;
      params.topP = static_cast<float>(d);
    } else if (!std::strcmp(arg, "--seed")) {
      const char *v;
      if (!value(v))
        return 1;
      char *end;
      errno = 0;
      params.seed = std::strtoull(v, &end, 10);
      if (end == v || *end || errno)
        return fail(std::string("--seed expects an unsigned integer, not '") +
                    v + "'");
    } else if (!std::strcmp(arg, "--count") || !std::strcmp(arg, "--target")) {
      if (!number(d))
        return 1;
      if (d != std::floor(d) || d < 0 || d > 1e9)
        return fail(std::string(arg) + " expects a non-negative integer");
      (!std::strcmp(arg, "--count") ? count : target) = static_cast<long>(d);
    } else if (arg[0] == '-' && arg[1] == '-') {
      return fail(std::string("unknown option '") + arg + "'");
    } else if (!path && !sampleLogits && !nllLogits) {
      path = arg;
    } else if (!text) {
      text = arg;
    } else {
      return fail("too many arguments");
    }
  }

  if (sampleLogits) {
    if (path || text)
      return fail("--sample takes no model or text");
    return runSampler(sampleLogits, params, count);
  }
  if (nllLogits) {
    std::vector<float> logits;
    if (!parseFloats(nllLogits, logits, error))
      return fail(error);
    double nll = tokenNll(logits.data(), static_cast<int>(logits.size()),
                          static_cast<int32_t>(target));
    if (std::isnan(nll))
      return fail("--target must name one of the " +
                  std::to_string(logits.size()) + " logits");
    std::printf("%.17g\n", nll);
    return 0;
  }

  if (!path) {
    std::fputs(kUsage, stderr);
    return 1;
  }
  std::unique_ptr<gguf::GGUFFile> gguf = gguf::GGUFFile::open(path, error);
  if (!gguf)
    return fail(error);
  std::unique_ptr<Tokenizer> tokenizer = Tokenizer::fromGGUF(*gguf, error);
  if (!tokenizer)
    return fail(error);

  if (info) {
    std::printf("model %s, %d tokens, bos %d, eos %d, unk %d\n",
                tokenizer->getModel() == Tokenizer::Model::SPM ? "llama"
                                                               : "gpt2",
                tokenizer->vocabSize(), tokenizer->bos(), tokenizer->eos(),
                tokenizer->unk());
    return 0;
  }

  if (decodeIds || streamIds) {
    std::vector<int32_t> ids;
    if (!parseIds(decodeIds ? decodeIds : streamIds, ids, error))
      return fail(error);
    for (int32_t id : ids)
      if (id < 0 || id >= tokenizer->vocabSize())
        return fail("token id " + std::to_string(id) +
                    " is out of range (vocabulary of " +
                    std::to_string(tokenizer->vocabSize()) + " tokens)");
    if (decodeIds) {
      std::string out = tokenizer->decode(ids);
      std::fwrite(out.data(), 1, out.size(), stdout);
      std::putchar('\n');
      return 0;
    }
    StreamDecoder decoder(*tokenizer, /*atStartOfText=*/true);
    auto printHex = [](const std::string &chunk) {
      if (chunk.empty())
        return;
      for (unsigned char c : chunk)
        std::printf("%02x", c);
      std::putchar('\n');
    };
    for (int32_t id : ids)
      printHex(decoder.push(id));
    printHex(decoder.finish());
    return 0;
  }

  if (batch) {
    std::string all;
    if (!readFile(batch, all, error))
      return fail(error);
    std::string out;
    size_t start = 0;
    while (start <= all.size()) {
      size_t end = all.find('\0', start);
      if (end == std::string::npos)
        end = all.size();
      if (end == all.size() && start == end && start != 0)
        break; // A final NUL ends the last text.
      std::vector<int32_t> ids =
          tokenizer->encode(std::string_view(all).substr(start, end - start),
                            addBos, parseSpecial);
      for (size_t i = 0; i < ids.size(); ++i)
        out += (i ? "," : "") + std::to_string(ids[i]);
      out += '\n';
      start = end + 1;
    }
    std::fwrite(out.data(), 1, out.size(), stdout);
    return 0;
  }

  if (decodeBatch) {
    std::string all;
    if (!readFile(decodeBatch, all, error))
      return fail(error);
    std::string out;
    size_t start = 0;
    while (start < all.size()) {
      size_t end = all.find('\n', start);
      if (end == std::string::npos)
        end = all.size();
      std::vector<int32_t> ids;
      if (!parseIds(all.substr(start, end - start), ids, error))
        return fail(error);
      out += tokenizer->decode(ids);
      out += '\0';
      start = end + 1;
    }
    std::fwrite(out.data(), 1, out.size(), stdout);
    return 0;
  }

  std::string input;
  if (file) {
    if (text)
      return fail("give either TEXT or --file, not both");
    if (!readFile(file, input, error))
      return fail(error);
  } else if (text) {
    input = text;
  } else {
    return fail("no text to tokenize (give TEXT, --file, --decode or --batch)");
  }
  std::vector<int32_t> ids = tokenizer->encode(input, addBos, parseSpecial);
  if (idsOnly) {
    printIdList(ids, /*brackets=*/true);
    return 0;
  }
  for (int32_t id : ids) {
    std::printf("%6d -> ", id);
    printPiece(tokenizer->tokenToPiece(id, /*special=*/true));
    std::putchar('\n');
  }
  return 0;
}
