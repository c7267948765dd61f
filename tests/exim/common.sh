# Shared by the tests that run real Exim (tests/exim_e2e.sh, tests/exim_install_e2e.sh):
# the skip checks, pass/fail counting, and running Exim with the test's private config
# ($D/exim.conf) and no inherited descriptors (notes on why in INSTALL).
EXIM=/usr/sbin/exim4
if [ "$(id -u)" != 0 ]; then echo "SKIP: needs root (Exim with a private -C config)"; exit 77; fi
if [ ! -x "$EXIM" ]; then echo "SKIP: $EXIM not installed (scripts/setup --for-tests)"; exit 77; fi
exim_user=$("$EXIM" -bP exim_user 2>/dev/null | sed 's/.*= *//') || true
[ -n "$exim_user" ] || exim_user=Debian-exim

failures=0
fail() { echo "FAIL: $*"; failures=$((failures + 1)); }
pass() { echo "ok: $*"; }

exim() { "$EXIM" -C "$D/exim.conf" "$@"; }
# Exim passes inherited descriptors on to the MDA: start it with none.
exim_clean() { ( for fd in $(ls /proc/$BASHPID/fd); do [ "$fd" -gt 2 ] && eval "exec $fd>&-"; done 2>/dev/null; exim "$@" ); }
queue_ids() { exim -bp | awk '$1 ~ /^[0-9]+[smhdw]$/ {print $3}'; }

# Prints the logs and fails if any check failed.
finish() {
  if [ "$failures" -gt 0 ]; then
    echo "--- mainlog"; cat "$D/log/mainlog" 2>/dev/null || true
    echo "--- paniclog"; cat "$D/log/paniclog" 2>/dev/null || true
    echo "$failures check(s) failed"
    exit 1
  fi
  echo "$1: all checks passed"
}
