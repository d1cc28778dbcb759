//===- ThreadTeamTest.c - checks of the artifacts' thread team ------------===//
//
// Drives lib/Artifact/ThreadTeam.c through the OpenMP entry points generated
// code calls, the way LLVM's OpenMP lowering calls them, and checks what the
// team promises: every iteration of a static loop runs exactly once, split
// into one contiguous range per thread; barriers hold; regions nested in a
// region, or started while another thread's region runs, run on one thread;
// sleeping workers wake; unloading a library holding a team joins it.
// Prints "ok <check>" per check and exits non-zero on the first failure.
//
//===----------------------------------------------------------------------===//

#define _GNU_SOURCE
#include <dlfcn.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

typedef void (*microtask_t)(int32_t *, int32_t *, ...);
void __kmpc_fork_call(void *loc, int32_t argc, microtask_t task, ...);
void __kmpc_barrier(void *loc, int32_t tid);
int32_t __kmpc_global_thread_num(void *loc);
void __kmpc_for_static_init_8u(void *loc, int32_t tid, int32_t schedule,
                               int32_t *last, uint64_t *lower, uint64_t *upper,
                               int64_t *stride, int64_t increment,
                               int64_t chunk);
void __kmpc_for_static_init_4(void *loc, int32_t tid, int32_t schedule,
                              int32_t *last, int32_t *lower, int32_t *upper,
                              int32_t *stride, int32_t increment,
                              int32_t chunk);
void __kmpc_for_static_fini(void *loc, int32_t tid);
void __kmpc_dispatch_init_8u(void *loc, int32_t tid, int32_t schedule,
                             uint64_t lower, uint64_t upper, int64_t increment,
                             int64_t chunk);
int32_t __kmpc_dispatch_next_8u(void *loc, int32_t tid, int32_t *last,
                                uint64_t *lower, uint64_t *upper,
                                int64_t *stride);

#define CHECK(cond, ...)                                                       \
  do {                                                                         \
    if (!(cond)) {                                                             \
      fprintf(stderr, "FAIL %s:%d: ", __FILE__, __LINE__);                     \
      fprintf(stderr, __VA_ARGS__);                                            \
      fprintf(stderr, "\n");                                                   \
      exit(1);                                                                 \
    }                                                                          \
  } while (0)

enum { kMaxTrips = 4096, kMaxThreads = 64 };

struct Loop {
  uint64_t trips;
  int64_t first, increment; // iteration i is first + i * increment
  _Atomic int hits[kMaxTrips];
  _Atomic int lasts;
  _Atomic int threadsSeen;
  _Atomic int maxThread;
  int64_t lower[kMaxThreads], upper[kMaxThreads];
};

static void staticLoop(int32_t *gtid, int32_t *btid, struct Loop *loop) {
  (void)btid;
  int32_t last = 0;
  uint64_t lower = (uint64_t)loop->first;
  uint64_t upper =
      (uint64_t)(loop->first + (int64_t)(loop->trips - 1) * loop->increment);
  int64_t stride = 0;
  __kmpc_for_static_init_8u(NULL, *gtid, 34, &last, &lower, &upper, &stride,
                            loop->increment, 0);
  int32_t tid = __kmpc_global_thread_num(NULL);
  CHECK(tid >= 0 && tid < kMaxThreads, "thread number %d", tid);
  loop->lower[tid] = (int64_t)lower;
  loop->upper[tid] = (int64_t)upper;
  int expected = tid;
  while (!atomic_compare_exchange_weak(&loop->maxThread, &expected,
                                       expected > tid ? expected : tid))
    if (expected >= tid)
      break;
  atomic_fetch_add(&loop->threadsSeen, 1);
  if (loop->trips != 0)
    for (uint64_t v = lower; (int64_t)v <= (int64_t)upper;
         v += (uint64_t)loop->increment) {
      int64_t i = ((int64_t)v - loop->first) / loop->increment;
      CHECK(i >= 0 && (uint64_t)i < loop->trips, "iteration %lld out of range",
            (long long)i);
      atomic_fetch_add(&loop->hits[i], 1);
    }
  if (last)
    atomic_fetch_add(&loop->lasts, 1);
  __kmpc_for_static_fini(NULL, *gtid);
  __kmpc_barrier(NULL, *gtid);
}

static struct Loop *runLoop(uint64_t trips, int64_t first, int64_t increment) {
  struct Loop *loop = calloc(1, sizeof(struct Loop));
  loop->trips = trips;
  loop->first = first;
  loop->increment = increment;
  __kmpc_fork_call(NULL, 1, (microtask_t)staticLoop, loop);
  for (uint64_t i = 0; i < trips; ++i)
    CHECK(loop->hits[i] == 1, "trips %llu: iteration %llu ran %d times",
          (unsigned long long)trips, (unsigned long long)i, loop->hits[i]);
  CHECK(loop->lasts == (trips != 0), "trips %llu: %d threads ran the last",
        (unsigned long long)trips, loop->lasts);
  return loop;
}

static int teamSize(void) {
  struct Loop *loop = runLoop(1, 0, 1);
  int size = loop->threadsSeen;
  CHECK(loop->maxThread == size - 1, "threads 0..%d for a team of %d",
        loop->maxThread, size);
  free(loop);
  return size;
}

static void checkStaticLoops(int size) {
  const uint64_t trips[] = {0, 1, 2, 3, 5, 7, 64, 255, 1001, kMaxTrips};
  for (unsigned t = 0; t < sizeof(trips) / sizeof(trips[0]); ++t) {
    struct Loop *loop = runLoop(trips[t], 0, 1);
    CHECK(loop->threadsSeen == size, "%d of %d threads ran the region",
          loop->threadsSeen, size);
    // Contiguous ranges, in thread order, sizes differing by at most one.
    int64_t next = 0, smallest = INT64_MAX, largest = 0;
    for (int i = 0; i < size; ++i) {
      int64_t count = loop->upper[i] - loop->lower[i] + 1;
      if (count > 0) {
        CHECK(loop->lower[i] == next, "thread %d starts at %lld, not %lld", i,
              (long long)loop->lower[i], (long long)next);
        next = loop->upper[i] + 1;
      } else {
        count = 0;
      }
      smallest = count < smallest ? count : smallest;
      largest = count > largest ? count : largest;
    }
    CHECK(largest - smallest <= 1, "trips %llu: ranges of %lld to %lld",
          (unsigned long long)trips[t], (long long)smallest,
          (long long)largest);
    free(loop);
  }
  // A start and a step other than 0 and 1.
  free(runLoop(100, 7, 3));
  printf("ok static loops\n");
}

static void int32Loop(int32_t *gtid, int32_t *btid, _Atomic int *hits) {
  (void)btid;
  int32_t last = 0, lower = -50, upper = 49, stride = 0;
  __kmpc_for_static_init_4(NULL, *gtid, 34, &last, &lower, &upper, &stride, 1,
                           0);
  for (int32_t i = lower; i <= upper; ++i)
    atomic_fetch_add(&hits[i + 50], 1);
}

static void checkInt32Loop(void) {
  _Atomic int hits[100] = {0};
  __kmpc_fork_call(NULL, 1, (microtask_t)int32Loop, hits);
  for (int i = 0; i < 100; ++i)
    CHECK(hits[i] == 1, "int32 iteration %d ran %d times", i - 50, hits[i]);
  printf("ok int32 loops\n");
}

// The dynamic schedule as LLVM lowers it: iterations 1..trips, claimed in
// chunks until none are left. Thread 0 is slow when `slowFirst` is set, so
// the others take iterations from its share.
struct Dynamic {
  uint64_t trips;
  int slowFirst;
  int size;
  _Atomic int hits[kMaxTrips];
  _Atomic int runBy[kMaxTrips];
  _Atomic int lasts;
};

static void dynamicLoop(int32_t *gtid, int32_t *btid, struct Dynamic *loop) {
  (void)btid;
  __kmpc_dispatch_init_8u(NULL, *gtid, 1073741859, 1, loop->trips, 1, 1);
  int32_t last = 0;
  uint64_t lower = 0, upper = 0;
  int64_t stride = 0;
  int32_t tid = __kmpc_global_thread_num(NULL);
  while (__kmpc_dispatch_next_8u(NULL, *gtid, &last, &lower, &upper, &stride)) {
    CHECK(stride == 1, "stride %lld", (long long)stride);
    CHECK(lower >= 1 && upper <= loop->trips && lower <= upper,
          "chunk [%llu, %llu] of 1..%llu", (unsigned long long)lower,
          (unsigned long long)upper, (unsigned long long)loop->trips);
    for (uint64_t i = lower; i <= upper; ++i) {
      if (loop->slowFirst && tid == 0)
        usleep(200);
      atomic_fetch_add(&loop->hits[i - 1], 1);
      atomic_store(&loop->runBy[i - 1], tid);
    }
    if (last)
      atomic_fetch_add(&loop->lasts, 1);
  }
  __kmpc_barrier(NULL, *gtid);
}

static void checkDynamicLoops(int size) {
  const uint64_t trips[] = {0, 1, 2, 3, 5, 17, 64, 255, 1001, kMaxTrips};
  for (int round = 0; round < 20; ++round)
    for (unsigned t = 0; t < sizeof(trips) / sizeof(trips[0]); ++t) {
      struct Dynamic *loop = calloc(1, sizeof(struct Dynamic));
      loop->trips = trips[t];
      __kmpc_fork_call(NULL, 1, (microtask_t)dynamicLoop, loop);
      for (uint64_t i = 0; i < trips[t]; ++i)
        CHECK(loop->hits[i] == 1,
              "dynamic, trips %llu: iteration %llu ran %d "
              "times",
              (unsigned long long)trips[t], (unsigned long long)i,
              loop->hits[i]);
      CHECK(loop->lasts == (trips[t] != 0), "dynamic: %d lasts", loop->lasts);
      free(loop);
    }
  // A slow thread 0: the others finish its share.
  struct Dynamic *loop = calloc(1, sizeof(struct Dynamic));
  loop->trips = 256;
  loop->slowFirst = 1;
  __kmpc_fork_call(NULL, 1, (microtask_t)dynamicLoop, loop);
  int helped = 0;
  uint64_t share = 256 / (uint64_t)size;
  for (uint64_t i = 0; i < 256; ++i) {
    CHECK(loop->hits[i] == 1, "slow thread: iteration %llu ran %d times",
          (unsigned long long)i, loop->hits[i]);
    helped += i < share && loop->runBy[i] != 0;
  }
  CHECK(size == 1 || helped > 0,
        "no thread took iterations from the slow thread's share");
  CHECK(size > 1 || helped == 0, "a team of one was helped");
  free(loop);
  printf("ok dynamic loops\n");
}

// A dynamic loop whose every iteration runs a region of its own (on one
// thread, nested) with a dynamic loop over other indices: the outer loop
// still runs each of its iterations once.
static void innerDynamic(int32_t *gtid, int32_t *btid, _Atomic int *bad) {
  (void)btid;
  __kmpc_dispatch_init_8u(NULL, *gtid, 1073741859, 5, 11, 1, 1);
  int32_t last = 0;
  uint64_t lower = 0, upper = 0, seen = 0;
  int64_t stride = 0;
  while (__kmpc_dispatch_next_8u(NULL, *gtid, &last, &lower, &upper, &stride))
    for (uint64_t i = lower; i <= upper; ++i)
      seen += 1u << (i - 5);
  if (seen != 0x7f)
    atomic_fetch_add(bad, 1);
}

static void outerDynamic(int32_t *gtid, int32_t *btid, struct Dynamic *loop) {
  (void)btid;
  __kmpc_dispatch_init_8u(NULL, *gtid, 1073741859, 1, loop->trips, 1, 1);
  int32_t last = 0;
  uint64_t lower = 0, upper = 0;
  int64_t stride = 0;
  while (__kmpc_dispatch_next_8u(NULL, *gtid, &last, &lower, &upper, &stride)) {
    for (uint64_t i = lower; i <= upper; ++i) {
      __kmpc_fork_call(NULL, 1, (microtask_t)innerDynamic, &loop->lasts);
      atomic_fetch_add(&loop->hits[i - 1], 1);
    }
  }
  __kmpc_barrier(NULL, *gtid);
}

static void checkNestedDynamic(void) {
  struct Dynamic *loop = calloc(1, sizeof(struct Dynamic));
  loop->trips = 100;
  __kmpc_fork_call(NULL, 1, (microtask_t)outerDynamic, loop);
  CHECK(loop->lasts == 0, "%d nested dynamic loops missed iterations",
        loop->lasts);
  for (uint64_t i = 0; i < loop->trips; ++i)
    CHECK(loop->hits[i] == 1, "outer dynamic iteration %llu ran %d times",
          (unsigned long long)i, loop->hits[i]);
  printf("ok nested dynamic loops\n");
}

struct Phases {
  int size;
  _Atomic int arrived[8];
  _Atomic int early;
};

static void barrierPhases(int32_t *gtid, int32_t *btid, struct Phases *p) {
  (void)btid;
  for (int phase = 0; phase < 8; ++phase) {
    atomic_fetch_add(&p->arrived[phase], 1);
    __kmpc_barrier(NULL, *gtid);
    // Everyone has arrived at this phase before anyone goes on.
    if (p->arrived[phase] != p->size)
      atomic_fetch_add(&p->early, 1);
  }
}

static void checkBarrier(int size) {
  for (int round = 0; round < 100; ++round) {
    struct Phases phases = {.size = size};
    __kmpc_fork_call(NULL, 1, (microtask_t)barrierPhases, &phases);
    CHECK(phases.early == 0, "%d threads passed a barrier early", phases.early);
  }
  printf("ok barrier\n");
}

static void nestedRegion(int32_t *gtid, int32_t *btid, _Atomic int *inner) {
  (void)gtid;
  (void)btid;
  struct Loop *loop = runLoop(64, 0, 1);
  // A region inside a region runs on the thread that reached it.
  if (loop->threadsSeen != 1)
    atomic_fetch_add(inner, 1000);
  atomic_fetch_add(inner, 1);
  free(loop);
}

static void checkNested(int size) {
  _Atomic int inner = 0;
  __kmpc_fork_call(NULL, 1, (microtask_t)nestedRegion, &inner);
  CHECK(inner == size, "nested regions: %d (expected %d, one per thread)",
        inner, size);
  printf("ok nested regions\n");
}

static void *caller(void *unused) {
  (void)unused;
  for (int i = 0; i < 300; ++i)
    free(runLoop(257, 0, 1));
  return NULL;
}

static void checkConcurrentCallers(void) {
  pthread_t other[3];
  for (int i = 0; i < 3; ++i)
    CHECK(pthread_create(&other[i], NULL, caller, NULL) == 0, "pthread_create");
  caller(NULL);
  for (int i = 0; i < 3; ++i)
    pthread_join(other[i], NULL);
  printf("ok concurrent callers\n");
}

static void checkWakeUp(int size) {
  // Long enough for spinning workers to go to sleep on the futex.
  usleep(200 * 1000);
  struct Loop *loop = runLoop(1001, 0, 1);
  CHECK(loop->threadsSeen == size, "after sleeping: %d of %d threads",
        loop->threadsSeen, size);
  free(loop);
  printf("ok wake up\n");
}

static void checkFork(void) {
  pid_t child = fork();
  CHECK(child >= 0, "fork");
  if (child == 0) {
    // The parent's workers are not here: the child's regions run on it alone
    // (waiting for them would hang: the alarm turns that into a failure).
    alarm(20);
    struct Loop *loop = runLoop(1001, 0, 1);
    _exit(loop->threadsSeen == 1 ? 0 : 1);
  }
  int status = 0;
  CHECK(waitpid(child, &status, 0) == child, "waitpid");
  CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0,
        "a region in a forked child failed (status %d)", status);
  printf("ok fork\n");
}

static void checkUnload(const char *library) {
  for (int i = 0; i < 3; ++i) {
    void *handle = dlopen(library, RTLD_NOW | RTLD_LOCAL);
    CHECK(handle, "dlopen: %s", dlerror());
    long (*sum)(long) = (long (*)(long))dlsym(handle, "team_sum");
    CHECK(sum, "dlsym: %s", dlerror());
    CHECK(sum(1000) == 1000 * 999 / 2, "team_sum(1000) = %ld", sum(1000));
    CHECK(dlclose(handle) == 0, "dlclose: %s", dlerror());
  }
  printf("ok unload\n");
}

int main(int argc, char **argv) {
  int size = teamSize();
  const char *expected = argc > 1 ? argv[1] : NULL;
  if (expected)
    CHECK(size == atoi(expected), "team of %d threads, expected %s", size,
          expected);
  printf("team size %d\n", size);
  checkStaticLoops(size);
  checkInt32Loop();
  checkDynamicLoops(size);
  checkBarrier(size);
  checkNested(size);
  checkNestedDynamic();
  checkConcurrentCallers();
  checkWakeUp(size);
  checkFork();
  if (argc > 2)
    checkUnload(argv[2]);
  return 0;
}
