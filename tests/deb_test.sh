#!/usr/bin/env bash
# Builds the .deb with CPack, installs it with apt as an administrator would, checks that
# mda --version, mdatest --version and man mda-rules work, then removes it again.
# Usage: tests/deb_test.sh BUILD-DIR. Installs system-wide: runs only as root with CI=true
# or MDA_TEST_DEB=1; exit 77 (skipped) otherwise.
set -euo pipefail
build=$(cd "${1:?usage: deb_test.sh BUILD-DIR}" && pwd)
if [ "$(id -u)" != 0 ] || { [ "${CI:-}" != true ] && [ "${MDA_TEST_DEB:-}" != 1 ]; }; then
  echo "SKIP: installs a package system-wide; runs as root with CI=true or MDA_TEST_DEB=1"
  exit 77
fi
command -v dpkg-shlibdeps > /dev/null || { echo "SKIP: dpkg-dev missing (scripts/setup --for-tests)"; exit 77; }
if dpkg-query -W -f='${Status}' mda 2>/dev/null | grep -q 'ok installed'; then
  echo "SKIP: a package named mda is installed already; not touching it"
  exit 77
fi
work=$(mktemp -d)
trap 'apt-get purge -y -qq mda > /dev/null 2>&1 || true; rm -rf "$work"' EXIT
(cd "$build" && cpack -G DEB -B "$work" > "$work/cpack.log") || { cat "$work/cpack.log"; exit 1; }
deb=$(ls "$work"/mda_*.deb)
echo "package: $(basename "$deb")"
dpkg-deb -f "$deb" Package Version Architecture Depends Section
dpkg-deb -f "$deb" Depends | grep -q libc6 || { echo "FAIL: no dependencies declared"; exit 1; }
DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$deb" > "$work/apt.log" 2>&1 || { cat "$work/apt.log"; exit 1; }
failures=0
check() { if eval "$2" > "$work/out" 2>&1; then echo "ok: $1"; else echo "FAIL: $1"; cat "$work/out"; failures=$((failures + 1)); fi; }
check "mda --version" '/usr/bin/mda --version | grep -qx "mda 0.1.0"'
check "mdatest --version" '/usr/bin/mdatest --version | grep -qx "mdatest 0.1.0"'
# (man justifies lines, so look for the page headers and single words)
check "man mda-rules" 'MANWIDTH=80 man -P cat mda-rules | grep -q "^MDA-RULES(5)" && MANWIDTH=80 man -P cat mda-rules | grep -q "^ACTIONS"'
check "man mda" 'MANWIDTH=80 man -P cat 1 mda | grep -q "^MDA(1)"'
check "man mdatest" 'MANWIDTH=80 man -P cat mdatest | grep -q "^MDATEST(1)"'
check "examples installed" 'test -f /usr/share/doc/mda/examples/exim/conf.d/router/750_local_mda && test -f /usr/share/doc/mda/examples/rules/starter'
check "licence installed" 'grep -q "MIT License" /usr/share/doc/mda/copyright && grep -q "MIT License" /usr/share/doc/mda/LICENSE'
check "mda refuses root, installed too" '/usr/bin/mda < /dev/null; test $? -eq 75'
[ "$failures" = 0 ] && echo "deb_test: all checks passed" || exit 1
