// What the processing log costs a delivery: the record formatted (logfmt and JSON) and
// written as mda writes it (open O_APPEND, one write, close), timed over many records.
// Built by CMake as mda_log_bench; run by bench/log.
#include <stdio.h>
#include <time.h>
#include <unistd.h>

#include <string>

#include "mda/log.h"

namespace {

double Now() {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<double>(ts.tv_sec) * 1e6 + static_cast<double>(ts.tv_nsec) / 1e3;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 3) {
    fprintf(stderr, "usage: mda_log_bench LOG-PATH COUNT\n");
    return 64;
  }
  std::string path = argv[1];
  int count = atoi(argv[2]);
  mda::LogRecord r;
  r.time = mda::Rfc3339Now();
  r.level = "info";
  r.outcome = "delivered";
  r.queue_id = "1xW4c0-0004pL-0k";
  r.message_id = "<20261125081455.GA1234@mail.example.org>";
  r.sender = "alice@example.org";
  r.recipient = "bob@example.com";
  r.subject = "Re: [dev] Release 2.4 branch is open";
  r.size = 4711;
  r.rule = "/home/bob/.mda/rules:12";
  r.destinations = {
      {"Lists/dev",
       "/home/bob/Maildir/.Lists.dev/new/1795586652.M011124P4469Q1R47a15c0216f79d09.mx1,S=4711"}};
  r.duration_ms = 1.234;
  for (bool json : {false, true}) {
    double t0 = Now();
    size_t bytes = 0;
    for (int i = 0; i < count; ++i)
      bytes += (json ? mda::FormatJson(r) : mda::FormatLogfmt(r)).size();
    double t1 = Now();
    for (int i = 0; i < count; ++i) {
      r.time = mda::Rfc3339Now();
      mda::Status s = mda::WriteLog(mda::PosixFs(), mda::LogConfig{path, json, ""}, {r});
      if (!s.ok()) {
        fprintf(stderr, "%s\n", s.message().c_str());
        return 1;
      }
    }
    double t2 = Now();
    printf("%-6s  format %.2f us/line (%zu bytes)   format+open+write+close %.2f us/line\n",
           json ? "json" : "logfmt", (t1 - t0) / count, bytes / static_cast<size_t>(count),
           (t2 - t1) / count);
  }
  return 0;
}
