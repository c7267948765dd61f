/* Runs a command N times, one process per run, stdin from a file (as Exim runs an MDA),
 * and prints the median, 10th and 90th percentile and mean wall time per run in ms.
 * Usage: spawn_timer N INPUT-FILE COMMAND [ARGS...] */
#define _GNU_SOURCE
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static int cmp(const void* a, const void* b) {
  double x = *(const double*)a, y = *(const double*)b;
  return (x > y) - (x < y);
}

int main(int argc, char** argv) {
  if (argc < 4) return 64;
  int n = atoi(argv[1]);
  double* t = calloc((size_t)n, sizeof *t);
  for (int i = 0; i < n; ++i) {
    struct timespec a, b;
    clock_gettime(CLOCK_MONOTONIC, &a);
    pid_t pid = fork();
    if (pid == 0) {
      int fd = open(argv[2], O_RDONLY);
      dup2(fd, 0);
      int null = open("/dev/null", O_WRONLY);
      dup2(null, 1);
      execv(argv[3], argv + 3);
      _exit(127);
    }
    int status;
    waitpid(pid, &status, 0);
    clock_gettime(CLOCK_MONOTONIC, &b);
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
      fprintf(stderr, "run %d: %s failed (status %d)\n", i, argv[3], status);
      return 1;
    }
    t[i] = (double)(b.tv_sec - a.tv_sec) * 1e3 + (double)(b.tv_nsec - a.tv_nsec) / 1e6;
  }
  double sum = 0;
  for (int i = 0; i < n; ++i) sum += t[i];
  qsort(t, (size_t)n, sizeof *t, cmp);
  printf("runs %5d  median %.3f ms  p10 %.3f  p90 %.3f  mean %.3f\n", n, t[n / 2], t[n / 10], t[n * 9 / 10], sum / n);
  return 0;
}
