// RUN: kvant-opt %s --load-pass-plugin=%kvant_lib_dir/KvantExamplePassPlugin%shlibext --pass-pipeline="builtin.module(example-weight-budget)" 2>&1 | FileCheck %s
// RUN: not kvant-opt %s --load-pass-plugin=%kvant_lib_dir/KvantExamplePassPlugin%shlibext --pass-pipeline="builtin.module(example-weight-budget{max-mib=1.5})" 2>&1 | FileCheck %s --check-prefix=OVER

// 4096x4096 Q8_0: 131072 blocks of 34 bytes; 4096 f32: 16384 bytes.
// CHECK: remark: 2 weights, 17842176 bytes (17.016 MiB)
// OVER: error: weights take 17.016 MiB, over the budget of 1.50 MiB
func.func @f() {
  %w = qt.weight "blk.0.attn_q.weight" : !qt.tensor<4096x4096, #qt.gguf<q8_0>>
  %n = qt.weight "blk.0.attn_norm.weight" : tensor<4096xf32>
  return
}
