//===- membw.c - Memory read bandwidth for the decode roofline ------------===//
//
// The decode roofline divides weight bytes per token by the machine's read
// bandwidth, so that number must be the best rate a core team can stream
// memory at, not the rate of one particular reader. NumPy's reductions are
// such a reader: on a Zen 5 machine np.sum read 32 GB/s on two threads while
// kvant's Q8_0 decode streamed 66 GB/s of weights. What limits a core there is
// how many cache-line misses it keeps in flight, which software prefetching
// raises, as the decode GEMVs do. So this reads the buffer with plain vector
// loads, with and without prefetching at several distances ahead, and reports
// the best rate over them.
//
//   kvant-membw [--threads N] [--mib M] [--passes P] [--json]
//
//===----------------------------------------------------------------------===//

#include <errno.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

typedef uint64_t Lanes __attribute__((vector_size(32)));

typedef struct {
  const Lanes *begin;
  size_t count; // Lanes to read, a multiple of 4.
  size_t prefetchBytes;
  uint64_t checksum; // Keeps the reads alive.
} Slice;

// Four independent accumulators so that the loads, not one xor chain, bound
// the loop.
static void *readSlice(void *arg) {
  Slice *slice = arg;
  const Lanes *p = slice->begin;
  Lanes a0 = {0}, a1 = {0}, a2 = {0}, a3 = {0};
  if (slice->prefetchBytes) {
    for (size_t i = 0; i < slice->count; i += 4) {
      // Both 64-byte lines of the 128 read here.
      __builtin_prefetch((const char *)(p + i) + slice->prefetchBytes);
      __builtin_prefetch((const char *)(p + i + 2) + slice->prefetchBytes);
      a0 ^= p[i];
      a1 ^= p[i + 1];
      a2 ^= p[i + 2];
      a3 ^= p[i + 3];
    }
  } else {
    for (size_t i = 0; i < slice->count; i += 4) {
      a0 ^= p[i];
      a1 ^= p[i + 1];
      a2 ^= p[i + 2];
      a3 ^= p[i + 3];
    }
  }
  Lanes s = a0 ^ a1 ^ a2 ^ a3;
  slice->checksum = s[0] ^ s[1] ^ s[2] ^ s[3];
  return NULL;
}

static double now(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

static int parseCount(const char *flag, const char *text, long min, long max,
                      long *out) {
  char *end = NULL;
  errno = 0;
  long value = text ? strtol(text, &end, 10) : 0;
  if (!text || errno || end == text || *end || value < min || value > max) {
    fprintf(stderr,
            "kvant-membw: %s expects an integer in [%ld, %ld], got '%s'\n",
            flag, min, max, text ? text : "");
    return 0;
  }
  *out = value;
  return 1;
}

enum { kMaxThreads = 256 };

int main(int argc, char **argv) {
  long threads = 1, mib = 1024, passes = 3;
  int json = 0;
  for (int i = 1; i < argc; ++i) {
    const char *arg = argv[i];
    const char *next = i + 1 < argc ? argv[i + 1] : NULL;
    if (!strcmp(arg, "--threads")) {
      if (!parseCount(arg, next, 1, kMaxThreads, &threads))
        return 2;
      ++i;
    } else if (!strcmp(arg, "--mib")) {
      if (!parseCount(arg, next, 64, 1 << 20, &mib))
        return 2;
      ++i;
    } else if (!strcmp(arg, "--passes")) {
      if (!parseCount(arg, next, 1, 1000, &passes))
        return 2;
      ++i;
    } else if (!strcmp(arg, "--json")) {
      json = 1;
    } else if (!strcmp(arg, "--help") || !strcmp(arg, "-h")) {
      printf("usage: kvant-membw [--threads N] [--mib M] [--passes P] "
             "[--json]\n"
             "Best read bandwidth (GB/s) of N threads streaming M MiB "
             "(default 1024), best of P passes (default 3) per prefetch "
             "distance.\n");
      return 0;
    } else {
      fprintf(stderr, "kvant-membw: unknown argument '%s' (see --help)\n", arg);
      return 2;
    }
  }

  size_t bytes = (size_t)mib << 20;
  // Slices are whole multiples of 4 lanes (128 bytes).
  size_t perThread = bytes / (size_t)threads / 128 * 128;
  if (!perThread) {
    fprintf(stderr, "kvant-membw: %ld MiB is too small for %ld threads\n", mib,
            threads);
    return 2;
  }
  Lanes *buffer = NULL;
  if (posix_memalign((void **)&buffer, 1 << 21, bytes)) {
    fprintf(stderr, "kvant-membw: cannot allocate %ld MiB\n", mib);
    return 1;
  }
  // Touched, so that the passes read resident pages, not zero-page faults.
  memset(buffer, 1, bytes);

  static const size_t kDistances[] = {0, 1024, 2048, 4096, 8192};
  enum { kCount = sizeof(kDistances) / sizeof(kDistances[0]) };
  double best[kCount] = {0};
  uint64_t checksum = 0;
  pthread_t ids[kMaxThreads];
  Slice slices[kMaxThreads];
  for (long pass = 0; pass < passes; ++pass) {
    for (int d = 0; d < kCount; ++d) {
      double start = now();
      for (long t = 0; t < threads; ++t) {
        slices[t] = (Slice){buffer + perThread / sizeof(Lanes) * (size_t)t,
                            perThread / sizeof(Lanes), kDistances[d], 0};
        if (pthread_create(&ids[t], NULL, readSlice, &slices[t])) {
          fprintf(stderr, "kvant-membw: cannot start thread %ld\n", t);
          return 1;
        }
      }
      for (long t = 0; t < threads; ++t) {
        pthread_join(ids[t], NULL);
        checksum ^= slices[t].checksum;
      }
      double rate =
          (double)(perThread * (size_t)threads) / (now() - start) / 1e9;
      if (rate > best[d])
        best[d] = rate;
    }
  }
  free(buffer);

  int top = 0;
  for (int d = 1; d < kCount; ++d)
    if (best[d] > best[top])
      top = d;
  if (json) {
    printf("{\"gb_per_s\": %.3f, \"threads\": %ld, \"mib\": %ld, "
           "\"passes\": %ld, \"prefetch_bytes\": %zu, \"by_prefetch\": {",
           best[top], threads, mib, passes, kDistances[top]);
    for (int d = 0; d < kCount; ++d)
      printf("%s\"%zu\": %.3f", d ? ", " : "", kDistances[d], best[d]);
    printf("}, \"checksum\": %llu}\n", (unsigned long long)(checksum & 1));
  } else {
    printf("%.3f GB/s read by %ld thread(s) over %ld MiB (prefetch %zu bytes "
           "ahead; without: %.3f)\n",
           best[top], threads, mib, kDistances[top], best[0]);
  }
  return 0;
}
