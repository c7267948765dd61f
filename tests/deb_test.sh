#!/usr/bin/env bash
# Builds the .deb with scripts/build-deb, checks it as Debian's tools would (lintian clean:
# no error, no warning; binaries stripped with their symbols in mda-dbgsym by build id; man
# pages and changelog.Debian.gz compressed; a DEP-5 copyright; each dependency once;
# conffiles for /etc), installs it with apt as an administrator would, checks that
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
command -v lintian > /dev/null || { echo "FAIL: lintian missing (scripts/setup --for-tests)"; exit 1; }
if dpkg-query -W -f='${Status}' mda 2>/dev/null | grep -q 'ok installed'; then
  echo "SKIP: a package named mda is installed already; not touching it"
  exit 77
fi
work=$(mktemp -d)
trap 'apt-get purge -y -qq mda > /dev/null 2>&1 || true; rm -rf "$work"' EXIT
src=$(cd "$(dirname "$0")/.." && pwd)
"$src/scripts/build-deb" "$build" "$work" > "$work/build.log" 2>&1 || { cat "$work/build.log"; echo "FAIL: scripts/build-deb (lintian?)"; exit 1; }
deb=$(ls "$work"/mda_*.deb)
ddeb=$(ls "$work"/mda-dbgsym_*.deb)
echo "packages: $(basename "$deb") $(basename "$ddeb")"
dpkg-deb -f "$deb" Package Version Architecture Depends Section
failures=0
check() { if eval "$2" > "$work/out" 2>&1; then echo "ok: $1"; else echo "FAIL: $1"; cat "$work/out"; failures=$((failures + 1)); fi; }
check "lintian (Debian 12's): no error, no warning" \
  "lintian --fail-on error,warning '$deb' '$ddeb'"
check "dependencies declared, each once" \
  "dpkg-deb -f '$deb' Depends | grep -q libc6 && [ \"\$(dpkg-deb -f '$deb' Depends | tr ',' '\n' | sed 's/^ *//' | sort | uniq -d)\" = '' ]"
mkdir "$work/x" "$work/dx"
dpkg-deb -x "$deb" "$work/x"
dpkg-deb -x "$ddeb" "$work/dx"
for b in mda mdatest; do
  check "$b stripped" "! readelf -S '$work/x/usr/bin/$b' | grep -qE '\\.debug_(info|line)|\\.symtab'"
  id=$(readelf -n "$work/x/usr/bin/$b" | sed -n 's/^ *Build ID: //p')
  check "$b's symbols in mda-dbgsym by build id" \
    "readelf -S '$work/dx/usr/lib/debug/.build-id/${id:0:2}/${id:2}.debug' | grep -q debug_info"
done
check "man pages gzipped" "[ \"\$(find '$work/x/usr/share/man' -type f ! -name '*.gz')\" = '' ] && zcat '$work/x/usr/share/man/man5/mda-rules.5.gz' | grep -q '^.TH'"
check "changelog.Debian.gz" "zcat '$work/x/usr/share/doc/mda/changelog.Debian.gz' | head -1 | grep -q '^mda ('"
check "copyright in DEP-5" "head -1 '$work/x/usr/share/doc/mda/copyright' | grep -qx 'Format: https://www.debian.org/doc/packaging-manuals/copyright-format/1.0/' && grep -q '^License: Expat' '$work/x/usr/share/doc/mda/copyright'"
check "every file under /etc is a conffile" \
  "[ \"\$(cd '$work/x' && find etc -type f 2>/dev/null | sed 's|^|/|' | sort)\" = \"\$(dpkg-deb --ctrl-tarfile '$deb' | tar -xO ./conffiles 2>/dev/null | sort)\" ]"
DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$deb" > "$work/apt.log" 2>&1 || { cat "$work/apt.log"; exit 1; }
check "mda --version" '/usr/bin/mda --version | grep -qx "mda 0.1.0"'
check "mdatest --version" '/usr/bin/mdatest --version | grep -qx "mdatest 0.1.0"'
# (man justifies lines, so look for the page headers and single words)
check "man mda-rules" 'MANWIDTH=80 man -P cat mda-rules | grep -q "^MDA-RULES(5)" && MANWIDTH=80 man -P cat mda-rules | grep -q "^ACTIONS"'
check "man mda" 'MANWIDTH=80 man -P cat 1 mda | grep -q "^MDA(1)"'
check "man mdatest" 'MANWIDTH=80 man -P cat mdatest | grep -q "^MDATEST(1)"'
check "examples installed" 'test -f /usr/share/doc/mda/examples/exim/conf.d/router/750_local_mda && test -f /usr/share/doc/mda/examples/rules/starter'
check "walkthrough installed" 'grep -q "^Installing mda on Debian 12" /usr/share/doc/mda/README.Debian'
check "licence installed" 'grep -q "Permission is hereby granted" /usr/share/doc/mda/copyright'
check "mda refuses root, installed too" '/usr/bin/mda < /dev/null; test $? -eq 75'
[ "$failures" = 0 ] && echo "deb_test: all checks passed" || exit 1
