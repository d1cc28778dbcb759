//===- Descriptor.cpp - what a compiled model artifact contains -----------===//

#include "lib/Artifact/Descriptor.h"

#include <cstdlib>
#include <sstream>

using namespace kvant::artifact;

std::string kvant::artifact::formatDims(const std::vector<int64_t> &dims) {
  std::string s;
  for (size_t i = 0; i < dims.size(); ++i)
    s += (i ? "x" : "") + std::to_string(dims[i]);
  return s;
}

static bool parseDims(const std::string &text, std::vector<int64_t> &dims) {
  dims.clear();
  std::stringstream in(text);
  std::string part;
  while (std::getline(in, part, 'x')) {
    // Digits only and at most 18 of them: the value fits an int64_t.
    if (part.empty() || part.size() > 18 ||
        part.find_first_not_of("0123456789") != std::string::npos)
      return false;
    dims.push_back(std::strtoll(part.c_str(), nullptr, 10));
  }
  return !dims.empty();
}

std::string Descriptor::serialize() const {
  std::ostringstream out;
  out << "kvant-artifact " << abiVersion << "\n";
  out << "entry " << entry << "\n";
  out << "target " << target << "\n";
  out << "architecture " << architecture << "\n";
  for (const auto &[key, value] : hparams)
    out << "hparam " << key << " " << value << "\n";
  out << "vocab " << vocabSize << "\n";
  out << "cache " << cacheElement << " " << formatDims(cacheShape) << "\n";
  if (!repack.empty())
    out << "repack " << repack << "\n";
  for (const WeightDesc &w : weights)
    out << "weight " << w.type << " " << formatDims(w.dims) << " "
        << (w.interleave == 1 ? std::string("file")
                              : "interleave" + std::to_string(w.interleave))
        << " " << w.name << "\n";
  return out.str();
}

bool Descriptor::parse(const std::string &text, Descriptor &out,
                       std::string &error) {
  out = Descriptor();
  std::istringstream in(text);
  std::string line;
  int lineNo = 0;
  bool sawHeader = false;
  auto fail = [&](const std::string &message) {
    error =
        "artifact descriptor line " + std::to_string(lineNo) + ": " + message;
    return false;
  };
  while (std::getline(in, line)) {
    ++lineNo;
    if (line.empty())
      continue;
    std::istringstream fields(line);
    std::string key;
    fields >> key;
    if (!sawHeader) {
      if (key != "kvant-artifact" || !(fields >> out.abiVersion))
        return fail("not a kvant artifact descriptor");
      if (out.abiVersion != kABIVersion)
        return fail("ABI version " + std::to_string(out.abiVersion) +
                    " is not the runtime's " + std::to_string(kABIVersion) +
                    "; recompile the model with this kvant");
      sawHeader = true;
      continue;
    }
    if (key == "entry") {
      fields >> out.entry;
    } else if (key == "target") {
      fields >> out.target;
    } else if (key == "architecture") {
      fields >> out.architecture;
    } else if (key == "hparam") {
      std::string name;
      int64_t value;
      if (!(fields >> name >> value))
        return fail("malformed hparam");
      out.hparams[name] = value;
    } else if (key == "vocab") {
      if (!(fields >> out.vocabSize) || out.vocabSize <= 0)
        return fail("malformed vocab size");
    } else if (key == "cache") {
      std::string dims;
      if (!(fields >> out.cacheElement >> dims) ||
          !parseDims(dims, out.cacheShape) || out.cacheShape.size() != 5)
        return fail("malformed cache geometry");
    } else if (key == "repack") {
      if (!(fields >> out.repack))
        return fail("malformed repack entry");
    } else if (key == "weight") {
      WeightDesc w;
      std::string dims, layout;
      if (!(fields >> w.type >> dims >> layout) || !parseDims(dims, w.dims))
        return fail("malformed weight");
      if (layout != "file") {
        std::vector<int64_t> rows;
        if (layout.rfind("interleave", 0) != 0 ||
            !parseDims(layout.substr(10), rows) || rows.size() != 1 ||
            rows[0] < 2 || w.dims.size() != 2 || w.dims[1] % rows[0] != 0)
          return fail("weight layout '" + layout +
                      "' is not 'file' or 'interleave<R>' with R dividing "
                      "the rows");
        w.interleave = rows[0];
      }
      std::getline(fields >> std::ws, w.name);
      if (w.name.empty())
        return fail("weight without a name");
      out.weights.push_back(std::move(w));
    } else {
      return fail("unknown key '" + key + "'");
    }
  }
  if (!sawHeader)
    return fail("empty descriptor");
  if (out.entry.empty() || out.cacheShape.empty() || out.vocabSize == 0)
    return fail("descriptor lacks the entry, cache or vocab line");
  bool interleaved = false;
  for (const WeightDesc &w : out.weights)
    interleaved |= w.interleave != 1;
  if (interleaved && out.repack.empty())
    return fail("interleaved weights without a repack entry point");
  return true;
}
