/* Runs a command N times, one process per run, stdin from a file (as Exim runs an MDA),
 * and prints the median, 10th and 90th percentile and mean wall time per run in ms, and
 * the largest peak RSS of any run. The children's output is discarded; a failure is its exit
 * status. Each run gets its own MESSAGE_ID (an Exim queue id) in its environment. Usage:
 * spawn_timer N INPUT COMMAND [ARGS...] INPUT is a file fed to every run, or @LIST: a file of
 * paths, run i reads line i. */
#define _GNU_SOURCE
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
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
  char** inputs = NULL;
  int ninputs = 0;
  if (argv[2][0] == '@') {
    FILE* list = fopen(argv[2] + 1, "r");
    if (!list) return 66;
    char line[4096];
    while (fgets(line, sizeof line, list)) {
      line[strcspn(line, "\n")] = 0;
      inputs = realloc(inputs, sizeof *inputs * (size_t)(ninputs + 1));
      inputs[ninputs++] = strdup(line);
    }
    fclose(list);
    if (ninputs == 0) return 66;
  }
  double* t = calloc((size_t)n, sizeof *t);
  long max_rss_kb = 0;
  for (int i = 0; i < n; ++i) {
    const char* input = ninputs ? inputs[i % ninputs] : argv[2];
    struct timespec a, b;
    clock_gettime(CLOCK_MONOTONIC, &a);
    pid_t pid = fork();
    if (pid == 0) {
      /* Each message its own Exim queue id, as Exim gives them (mda keys its retry marks on it). */
      char queue_id[32];
      snprintf(queue_id, sizeof queue_id, "1bench-%06d-00", i);
      setenv("MESSAGE_ID", queue_id, 1);
      int fd = open(input, O_RDONLY);
      dup2(fd, 0);
      int null = open("/dev/null", O_WRONLY);
      dup2(null, 1);
      dup2(null, 2); /* procmail, for one, complains about a passwd home on every run */
      execv(argv[3], argv + 3);
      _exit(127);
    }
    int status;
    struct rusage ru;
    wait4(pid, &status, 0, &ru);
    clock_gettime(CLOCK_MONOTONIC, &b);
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
      fprintf(stderr, "run %d: %s failed (status %d) on %s\n", i, argv[3], status, input);
      return 1;
    }
    if (ru.ru_maxrss > max_rss_kb) max_rss_kb = ru.ru_maxrss;
    t[i] = (double)(b.tv_sec - a.tv_sec) * 1e3 + (double)(b.tv_nsec - a.tv_nsec) / 1e6;
  }
  double sum = 0;
  for (int i = 0; i < n; ++i) sum += t[i];
  qsort(t, (size_t)n, sizeof *t, cmp);
  printf("runs %5d  median %.3f ms  p10 %.3f  p90 %.3f  mean %.3f  maxrss %ld KB\n", n, t[n / 2],
         t[n / 10], t[n * 9 / 10], sum / n, max_rss_kb);
  return 0;
}
