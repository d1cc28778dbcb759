// Dump llama.cpp logits for every position of a token list: dump_logits model.gguf 1,2,3 out.f32 [threads]
// Output: raw little-endian float32 [T, V]. KV cache is F32 and flash attention off unless
// argv[5] == "f16kv" (llama.cpp's defaults: f16 KV, flash-attn auto), so that an F32-weight
// model is computed entirely in f32.
#include "llama.h"
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>
int main(int argc, char **argv) {
  if (argc < 4) { fprintf(stderr, "usage\n"); return 2; }
  std::vector<llama_token> toks;
  for (std::string s = argv[2]; !s.empty();) {
    size_t c = s.find(',');
    toks.push_back(std::atoi(s.substr(0, c).c_str()));
    s = c == std::string::npos ? "" : s.substr(c + 1);
  }
  int threads = argc > 4 ? std::atoi(argv[4]) : 1;
  llama_backend_init();
  auto mp = llama_model_default_params();
  mp.n_gpu_layers = 0;
  llama_model *model = llama_model_load_from_file(argv[1], mp);
  if (!model) { fprintf(stderr, "load failed\n"); return 1; }
  auto cp = llama_context_default_params();
  cp.n_ctx = toks.size() < 16 ? 16 : toks.size();
  cp.n_batch = cp.n_ctx; cp.n_ubatch = cp.n_ctx;
  cp.n_threads = threads; cp.n_threads_batch = threads;
  if (!(argc > 5 && std::string(argv[5]) == "f16kv")) {
    cp.type_k = GGML_TYPE_F32; cp.type_v = GGML_TYPE_F32;
    cp.flash_attn_type = LLAMA_FLASH_ATTN_TYPE_DISABLED;  // CPU flash-attn computes in f16
  }
  llama_context *ctx = llama_init_from_model(model, cp);
  if (!ctx) { fprintf(stderr, "ctx failed\n"); return 1; }
  int T = toks.size();
  llama_batch b = llama_batch_init(T, 0, 1);
  for (int i = 0; i < T; ++i) {
    b.token[i] = toks[i]; b.pos[i] = i; b.n_seq_id[i] = 1; b.seq_id[i][0] = 0; b.logits[i] = 1;
  }
  b.n_tokens = T;
  if (llama_decode(ctx, b) != 0) { fprintf(stderr, "decode failed\n"); return 1; }
  int V = llama_vocab_n_tokens(llama_model_get_vocab(model));
  FILE *f = fopen(argv[3], "wb");
  for (int i = 0; i < T; ++i) fwrite(llama_get_logits_ith(ctx, i), sizeof(float), V, f);
  fclose(f);
  printf("wrote %d x %d logits\n", T, V);
  llama_batch_free(b); llama_free(ctx); llama_model_free(model);
  return 0;
}
