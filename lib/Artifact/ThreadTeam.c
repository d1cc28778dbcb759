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
// alone. The team size is the runtime's request (kvant_thread_team_size, at
// the end), else OMP_NUM_THREADS when set, as with OpenMP, else the number of
// CPUs the process may run on. Unloading the artifact stops and
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

// A pause takes ~25 ns on Zen 3: workers spin ~6 ms for the next region
// before sleeping, and a thread waiting at a barrier or join spins ~50 us
// before yielding its core at every check (more threads than cores then
// still make progress).
enum {
  kMaxThreads = 256,
  kSpinsBeforeSleep = 1 << 18,
  kSpinsBeforeYield = 2048
};

static struct {
  pthread_once_t once;
  int size;
  int started;
  _Atomic int running; // started: the size is fixed (kvant_thread_team_size)
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

// The team size the runtime asked for (kvant_thread_team_size); 0 leaves it
// to OMP_NUM_THREADS or the CPUs.
static _Atomic int requestedSize = 0;

// The calling thread's number in its region and the region's size; 0 and 1
// outside regions and in regions run by one thread.
static __thread int32_t threadNum = 0;
static __thread int32_t regionSize = 1;

static void pause_cpu(void) {
#if defined(__x86_64__) || defined(__i386__)
  __builtin_ia32_pause();
#endif
}

/// One step of a wait: pause, or yield once the wait is long.
static void backOff(int *spins) {
  if (*spins < kSpinsBeforeYield) {
    ++*spins;
    pause_cpu();
  } else {
    sched_yield();
  }
}

static void futexWait(_Atomic uint32_t *word, uint32_t value) {
  syscall(SYS_futex, (uint32_t *)word, FUTEX_WAIT_PRIVATE, value, NULL, NULL,
          0);
}

static void futexWakeAll(_Atomic uint32_t *word) {
  syscall(SYS_futex, (uint32_t *)word, FUTEX_WAKE_PRIVATE, INT32_MAX, NULL,
          NULL, 0);
}

/// Runs a region's task as thread `num` (OpenMP passes it by pointer twice).
static void callTask(microtask_t task, int32_t argc, void *arg, int32_t num) {
  int32_t tid = num, bound = num;
  if (argc == 0)
    ((void (*)(int32_t *, int32_t *))task)(&tid, &bound);
  else
    task(&tid, &bound, arg);
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
    callTask(team.task, team.argc, team.arg, num);
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

// A child of fork() has only the thread that forked: its regions run on that
// thread alone (the workers are the parent's).
static void forgetTeamInChild(void) {
  team.size = 1;
  team.started = 0;
  atomic_store(&team.busy, 0);
  threadNum = 0;
  regionSize = 1;
}

static void startTeam(void) {
  pthread_atfork(NULL, NULL, forgetTeamInChild);
  int requested = atomic_load(&requestedSize);
  team.size = requested > 0 ? requested : teamSizeFromEnvironment();
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
  atomic_store_explicit(&team.running, 1, memory_order_release);
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

// The dynamic loop a thread is running (see the dynamic schedule below).
typedef struct {
  uint64_t loop;       // loops this thread started in team regions
  uint64_t lower;      // the loop's first index
  int64_t increment;   // between indices
  uint64_t trips;      // iterations
  int victim;          // whose share this thread takes from now
  uint64_t serialNext; // regions of one thread: the next iteration
} DispatchState;

static __thread DispatchState dispatch;

/// The iterations of a loop from `lower` to `upper` inclusive by `increment`.
#define KVANT_TRIP_COUNT(lower, upper, increment)                              \
  ((increment) > 0 && (upper) >= (lower)                                       \
       ? (uint64_t)((upper) - (lower)) / (uint64_t)(increment) + 1             \
   : (increment) < 0 && (lower) >= (upper)                                     \
       ? (uint64_t)((lower) - (upper)) / (uint64_t)(-(increment)) + 1          \
       : 0)

/// This thread's share of `trips` iterations in the static split: one
/// contiguous range per thread, the first (trips % n) threads one iteration
/// more. Returns its size and sets `*first`.
static uint64_t staticShare(uint64_t trips, uint64_t *first) {
  uint64_t n = (uint64_t)regionSize, t = (uint64_t)threadNum;
  uint64_t base = trips / n, extra = trips % n;
  *first = t * base + (t < extra ? t : extra);
  return base + (t < extra ? 1 : 0);
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
    // One thread runs the region: no team, nested, or the team is busy. A
    // nested region may run loops of its own: the enclosing loop's dispatch
    // state is put back after it.
    int32_t savedNum = threadNum, savedSize = regionSize;
    DispatchState savedDispatch = dispatch;
    threadNum = 0;
    regionSize = 1;
    callTask(task, argc, arg, 0);
    threadNum = savedNum;
    regionSize = savedSize;
    dispatch = savedDispatch;
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
  callTask(task, argc, arg, 0);
  regionSize = 1;
  threadNum = savedNum;
  int spins = 0;
  while (atomic_load_explicit(&team.finished, memory_order_acquire) !=
         team.size - 1)
    backOff(&spins);
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
  int spins = 0;
  while (atomic_load_explicit(&team.barrierGeneration, memory_order_acquire) ==
         generation)
    backOff(&spins);
}

// Static schedule without a chunk: each thread runs its staticShare().
// Contiguous ranges keep each thread streaming its own part of a weight
// matrix.
#define KVANT_STATIC_INIT(SUFFIX, T, ST)                                       \
  void __kmpc_for_static_init_##SUFFIX(                                        \
      ident_t *loc, int32_t globalTid, int32_t schedule, int32_t *isLast,      \
      T *lower, T *upper, ST *stride, ST increment, ST chunk) {                \
    (void)loc;                                                                 \
    (void)globalTid;                                                           \
    (void)schedule;                                                            \
    (void)chunk;                                                               \
    T lo = *lower, hi = *upper;                                                \
    uint64_t trips = KVANT_TRIP_COUNT(lo, hi, increment);                      \
    uint64_t first;                                                            \
    uint64_t count = staticShare(trips, &first);                               \
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

// Dynamic schedule. On a shared machine one core is often slower than the
// other for a while (a neighbour on its sibling, interrupts), and a static
// split then leaves the fast thread waiting at the barrier. Here each thread
// first takes chunks from the front of its own contiguous share (the static
// split above), so weight rows are still streamed in order, and when its share
// is done takes chunks from the others' shares. A chunk is an eighth of a
// share (the chunk the loop asks for is a lower bound).
//
// A share is valid for the work-sharing loop numbered `loop`: every thread of
// a region runs the same loops in the same order, so each thread's count of
// the loops it started names the same loop, and a thread only takes from a
// share already set up for its current loop. Loops end with a barrier, so no
// share is set up again while another thread may still take from it.
typedef struct {
  _Alignas(64) _Atomic uint64_t next;
  uint64_t end;
  uint64_t chunk;
  _Atomic uint64_t loop;
} Share;

static Share shares[kMaxThreads];

static void dispatchInit(uint64_t lower, uint64_t trips, int64_t increment,
                         int64_t chunk) {
  dispatch.lower = lower;
  dispatch.increment = increment;
  dispatch.trips = trips;
  dispatch.serialNext = 0;
  if (regionSize == 1)
    return;
  uint64_t first;
  uint64_t count = staticShare(trips, &first);
  uint64_t step = count / 8;
  if (step < (uint64_t)(chunk > 0 ? chunk : 1))
    step = (uint64_t)(chunk > 0 ? chunk : 1);
  Share *own = &shares[threadNum];
  atomic_store_explicit(&own->next, first, memory_order_relaxed);
  own->end = first + count;
  own->chunk = step;
  ++dispatch.loop;
  atomic_store_explicit(&own->loop, dispatch.loop, memory_order_release);
  dispatch.victim = threadNum;
}

/// Claims iterations [*begin, *end): 0 when none are left for this thread.
static int dispatchNext(uint64_t *begin, uint64_t *end) {
  if (regionSize == 1) {
    if (dispatch.serialNext >= dispatch.trips)
      return 0;
    *begin = dispatch.serialNext;
    *end = dispatch.trips;
    dispatch.serialNext = dispatch.trips;
    return 1;
  }
  for (int tried = 0; tried < regionSize; ++tried) {
    Share *share = &shares[dispatch.victim];
    if (atomic_load_explicit(&share->loop, memory_order_acquire) ==
        dispatch.loop) {
      uint64_t first = atomic_fetch_add_explicit(&share->next, share->chunk,
                                                 memory_order_relaxed);
      if (first < share->end) {
        *begin = first;
        *end = first + share->chunk < share->end ? first + share->chunk
                                                 : share->end;
        return 1;
      }
    }
    dispatch.victim = (dispatch.victim + 1) % regionSize;
  }
  return 0;
}

#define KVANT_DISPATCH(SUFFIX, T, ST)                                          \
  void __kmpc_dispatch_init_##SUFFIX(ident_t *loc, int32_t globalTid,          \
                                     int32_t schedule, T lower, T upper,       \
                                     ST increment, ST chunk) {                 \
    (void)loc;                                                                 \
    (void)globalTid;                                                           \
    (void)schedule;                                                            \
    dispatchInit((uint64_t)lower, KVANT_TRIP_COUNT(lower, upper, increment),   \
                 increment, chunk);                                            \
  }                                                                            \
  int32_t __kmpc_dispatch_next_##SUFFIX(ident_t *loc, int32_t globalTid,       \
                                        int32_t *isLast, T *lower, T *upper,   \
                                        ST *stride) {                          \
    (void)loc;                                                                 \
    (void)globalTid;                                                           \
    uint64_t begin, end;                                                       \
    if (!dispatchNext(&begin, &end))                                           \
      return 0;                                                                \
    uint64_t increment = (uint64_t)dispatch.increment;                         \
    *lower = (T)(dispatch.lower + begin * increment);                          \
    *upper = (T)(dispatch.lower + (end - 1) * increment);                      \
    *stride = (ST)dispatch.increment;                                          \
    *isLast = end == dispatch.trips;                                           \
    return 1;                                                                  \
  }

KVANT_DISPATCH(4, int32_t, int32_t)
KVANT_DISPATCH(4u, uint32_t, int32_t)
KVANT_DISPATCH(8, int64_t, int64_t)
KVANT_DISPATCH(8u, uint64_t, int64_t)

#pragma GCC visibility pop

// The runtime's handle on the team (lib/Runtime/CompiledModel), exported.
// `threads` > 0 asks for a team of that size (capped at kMaxThreads); 0 takes
// what the team has or will have (OMP_NUM_THREADS, else the CPU count).
// Returns that size. The process has one team per loaded artifact, so the
// first request fixes it (and so does the team's start): a second model of
// the same artifact that asks for another size gets the fixed size back and
// can say so.
__attribute__((visibility("default"))) int kvant_thread_team_size(int threads) {
  if (atomic_load_explicit(&team.running, memory_order_acquire))
    return team.size;
  if (threads > 0) {
    int unset = 0;
    atomic_compare_exchange_strong(
        &requestedSize, &unset, threads > kMaxThreads ? kMaxThreads : threads);
  }
  int requested = atomic_load(&requestedSize);
  return requested > 0 ? requested : teamSizeFromEnvironment();
}
