//===- ThreadTeam.c - the thread team linked into every CPU artifact ------===//
//
// MLIR lowers kvant's parallel loops to OpenMP (`convert-scf-to-openmp`), and
// LLVM's OpenMP lowering emits calls into the OpenMP runtime's ABI: fork a
// region on a team (`__kmpc_fork_call`), split a work-sharing loop statically
// (`__kmpc_for_static_init_*`), and a barrier at its end. This file is that
// subset of the ABI, compiled to bitcode at build time and linked into each
// artifact by kvant-compile (lib/Compiler/Compile.cpp), so artifacts need no
// OpenMP library.
//
// Why not libomp: a decode step forks ~150 regions of tens of microseconds.
// Debian's libomp formats a debug trace string in every loop set-up and its
// fork/join path is general (nesting, tasks, affinity); with this team the
// TinyLlama-1.1B TQ2_0 decode on 2 cores measured ~6% faster (bench/README.md).
//
// The team: the thread that calls the artifact plus size-1 workers, created
// at the first region. Workers spin on a generation counter for a while
// (regions follow each other within microseconds during a forward pass), then
// sleep on it with a futex. A region that starts while the team is busy (a
// second caller thread, or a region nested in a region) runs on its caller
// alone. The team size is OMP_NUM_THREADS when set, as with OpenMP, else the
// number of CPUs the process may run on. Unloading the artifact stops and
// joins the workers before its code is unmapped.
//
// No math here: this file only decides which thread runs which iterations.
//
//===----------------------------------------------------------------------===//

#define _GNU_SOURCE
#include <linux/futex.h>
#include <pthread.h>
#include <sched.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/syscall.h>
#include <unistd.h>

// Hidden: the model's calls bind to these definitions inside the artifact,
// never to another OpenMP runtime the process has loaded (torch brings one).
#pragma GCC visibility push(hidden)

typedef struct ident ident_t;
typedef void (*microtask_t)(int32_t *globalTid, int32_t *boundTid, ...);

enum { kMaxThreads = 256, kSpinsBeforeSleep = 1 << 18 };

static struct {
  pthread_once_t once;
  int size;
  int started;
  pthread_t workers[kMaxThreads];
  // Bumped once per region (and at shutdown); workers wait for it to change.
  _Atomic uint32_t generation;
  _Atomic int sleepers;
  _Atomic int finished; // workers done with the current region
  _Atomic int busy;     // a region is running on the team
  _Atomic int stop;
  microtask_t task;
  void *arg;
  int argc;
  // Barrier inside a region: arrivals, and a generation that releases them.
  _Atomic int arrived;
  _Atomic uint32_t barrierGeneration;
} team = {.once = PTHREAD_ONCE_INIT, .size = 1};

// The calling thread's number in its region and the region's size; 0 and 1
// outside regions and in regions run by one thread.
static __thread int32_t threadNum = 0;
static __thread int32_t regionSize = 1;

static void pause_cpu(void) {
#if defined(__x86_64__) || defined(__i386__)
  __builtin_ia32_pause();
#endif
}

static void futexWait(_Atomic uint32_t *word, uint32_t value) {
  syscall(SYS_futex, (uint32_t *)word, FUTEX_WAIT_PRIVATE, value, NULL, NULL,
          0);
}

static void futexWakeAll(_Atomic uint32_t *word) {
  syscall(SYS_futex, (uint32_t *)word, FUTEX_WAKE_PRIVATE, INT32_MAX, NULL,
          NULL, 0);
}

static void runTask(int32_t num) {
  int32_t tid = num, bound = num;
  if (team.argc == 0)
    ((void (*)(int32_t *, int32_t *))team.task)(&tid, &bound);
  else
    team.task(&tid, &bound, team.arg);
}

static void *workerMain(void *numPtr) {
  int32_t num = (int32_t)(intptr_t)numPtr;
  threadNum = num;
  uint32_t seen = 0;
  for (;;) {
    uint32_t now;
    int spins = 0;
    while ((now = atomic_load_explicit(&team.generation,
                                       memory_order_acquire)) == seen) {
      if (++spins < kSpinsBeforeSleep) {
        pause_cpu();
        continue;
      }
      atomic_fetch_add(&team.sleepers, 1);
      // Re-checked by the kernel: a region forked since the load wakes us.
      futexWait(&team.generation, seen);
      atomic_fetch_sub(&team.sleepers, 1);
      spins = 0;
    }
    seen = now;
    if (atomic_load_explicit(&team.stop, memory_order_acquire))
      return NULL;
    regionSize = team.size;
    runTask(num);
    regionSize = 1;
    atomic_fetch_add_explicit(&team.finished, 1, memory_order_acq_rel);
  }
}

static int teamSizeFromEnvironment(void) {
  const char *text = getenv("OMP_NUM_THREADS");
  long size = 0;
  if (text && *text) {
    char *end;
    size = strtol(text, &end, 10);
    if (*end != '\0' && *end != ',')
      size = 0;
  }
  if (size <= 0) {
    cpu_set_t cpus;
    size =
        sched_getaffinity(0, sizeof(cpus), &cpus) == 0 ? CPU_COUNT(&cpus) : 1;
  }
  return size < 1 ? 1 : size > kMaxThreads ? kMaxThreads : (int)size;
}

static void startTeam(void) {
  team.size = teamSizeFromEnvironment();
  for (int i = 1; i < team.size; ++i) {
    if (pthread_create(&team.workers[i], NULL, workerMain,
                       (void *)(intptr_t)i) != 0) {
      // Fewer threads than asked: the team is the ones that started (the
      // static split below divides by team.size, read only after this).
      team.size = i;
      break;
    }
  }
  team.started = 1;
}

// Unloading the artifact (dlclose) must not leave workers running its code.
__attribute__((destructor)) static void stopTeam(void) {
  if (!team.started)
    return;
  atomic_store_explicit(&team.stop, 1, memory_order_release);
  atomic_fetch_add_explicit(&team.generation, 1, memory_order_acq_rel);
  futexWakeAll(&team.generation);
  for (int i = 1; i < team.size; ++i)
    pthread_join(team.workers[i], NULL);
}

int32_t __kmpc_global_thread_num(ident_t *loc) {
  (void)loc;
  return threadNum;
}

void __kmpc_fork_call(ident_t *loc, int32_t argc, microtask_t task, ...) {
  (void)loc;
  if (argc > 1) {
    // LLVM's OpenMP lowering passes the captured values as one struct.
    fprintf(stderr,
            "kvant thread team: a parallel region with %d arguments "
            "(expected at most 1)\n",
            argc);
    abort();
  }
  void *arg = NULL;
  if (argc == 1) {
    va_list args;
    va_start(args, task);
    arg = va_arg(args, void *);
    va_end(args);
  }
  pthread_once(&team.once, startTeam);
  int idle = 0;
  if (team.size == 1 || regionSize != 1 ||
      !atomic_compare_exchange_strong(&team.busy, &idle, 1)) {
    // One thread runs the region: no team, nested, or the team is busy.
    int32_t savedNum = threadNum, savedSize = regionSize;
    threadNum = 0;
    regionSize = 1;
    int32_t tid = 0, bound = 0;
    if (argc == 0)
      ((void (*)(int32_t *, int32_t *))task)(&tid, &bound);
    else
      task(&tid, &bound, arg);
    threadNum = savedNum;
    regionSize = savedSize;
    return;
  }
  team.task = task;
  team.arg = arg;
  team.argc = argc;
  atomic_store_explicit(&team.finished, 0, memory_order_relaxed);
  // Sequentially consistent with the sleepers count: a worker either sees
  // the new generation or is counted, and then woken.
  atomic_fetch_add(&team.generation, 1);
  if (atomic_load(&team.sleepers) > 0)
    futexWakeAll(&team.generation);
  int32_t savedNum = threadNum;
  threadNum = 0;
  regionSize = team.size;
  runTask(0);
  regionSize = 1;
  threadNum = savedNum;
  while (atomic_load_explicit(&team.finished, memory_order_acquire) !=
         team.size - 1)
    pause_cpu();
  atomic_store_explicit(&team.busy, 0, memory_order_release);
}

void __kmpc_barrier(ident_t *loc, int32_t globalTid) {
  (void)loc;
  (void)globalTid;
  if (regionSize == 1)
    return;
  uint32_t generation =
      atomic_load_explicit(&team.barrierGeneration, memory_order_acquire);
  if (atomic_fetch_add_explicit(&team.arrived, 1, memory_order_acq_rel) ==
      regionSize - 1) {
    atomic_store_explicit(&team.arrived, 0, memory_order_relaxed);
    atomic_fetch_add_explicit(&team.barrierGeneration, 1, memory_order_acq_rel);
    return;
  }
  while (atomic_load_explicit(&team.barrierGeneration, memory_order_acquire) ==
         generation)
    pause_cpu();
}

// Static schedule without a chunk: thread t of n runs one contiguous range,
// the first (trips % n) threads one iteration more. Contiguous ranges keep
// each thread streaming its own part of a weight matrix.
#define KVANT_STATIC_INIT(SUFFIX, T, ST)                                       \
  void __kmpc_for_static_init_##SUFFIX(                                        \
      ident_t *loc, int32_t globalTid, int32_t schedule, int32_t *isLast,      \
      T *lower, T *upper, ST *stride, ST increment, ST chunk) {                \
    (void)loc;                                                                 \
    (void)globalTid;                                                           \
    (void)schedule;                                                            \
    (void)chunk;                                                               \
    T lo = *lower, hi = *upper;                                                \
    uint64_t trips = 0;                                                        \
    if (increment > 0 && hi >= lo)                                             \
      trips = (uint64_t)(hi - lo) / (uint64_t)increment + 1;                   \
    else if (increment < 0 && lo >= hi)                                        \
      trips = (uint64_t)(lo - hi) / (uint64_t)(-increment) + 1;                \
    uint64_t n = (uint64_t)regionSize, t = (uint64_t)threadNum;                \
    uint64_t base = trips / n, extra = trips % n;                              \
    uint64_t first = t * base + (t < extra ? t : extra);                       \
    uint64_t count = base + (t < extra ? 1 : 0);                               \
    *isLast = count != 0 && first + count == trips;                            \
    *stride = (ST)(trips * (uint64_t)increment);                               \
    if (count == 0) {                                                          \
      /* An empty range: upper below lower in the loop's direction. */         \
      *lower = (T)(hi + increment);                                            \
      *upper = hi;                                                             \
      return;                                                                  \
    }                                                                          \
    *lower = (T)(lo + (T)(first * (uint64_t)increment));                       \
    *upper = (T)(*lower + (T)((count - 1) * (uint64_t)increment));             \
  }

KVANT_STATIC_INIT(4, int32_t, int32_t)
KVANT_STATIC_INIT(4u, uint32_t, int32_t)
KVANT_STATIC_INIT(8, int64_t, int64_t)
KVANT_STATIC_INIT(8u, uint64_t, int64_t)

void __kmpc_for_static_fini(ident_t *loc, int32_t globalTid) {
  (void)loc;
  (void)globalTid;
}

#pragma GCC visibility pop
