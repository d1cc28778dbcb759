//===- TeamLibrary.c - a loadable library with its own thread team --------===//
//
// Stands in for an artifact in ThreadTeamTest.c's unload check: the team is
// linked in, and one exported function runs a parallel loop on it.
//
//===----------------------------------------------------------------------===//

#include "lib/Artifact/ThreadTeam.c"

struct Sum {
  long n;
  _Atomic long total;
};

static void sumLoop(int32_t *gtid, int32_t *btid, struct Sum *sum) {
  (void)btid;
  int32_t last = 0;
  uint64_t lower = 0, upper = (uint64_t)sum->n - 1;
  int64_t stride = 0;
  __kmpc_for_static_init_8u(NULL, *gtid, 34, &last, &lower, &upper, &stride, 1,
                            0);
  long partial = 0;
  for (uint64_t i = lower; i <= upper && i < (uint64_t)sum->n; ++i)
    partial += (long)i;
  atomic_fetch_add(&sum->total, partial);
  __kmpc_barrier(NULL, *gtid);
}

__attribute__((visibility("default"))) long team_sum(long n) {
  struct Sum sum = {.n = n};
  __kmpc_fork_call(NULL, 1, (microtask_t)sumLoop, &sum);
  return sum.total;
}
