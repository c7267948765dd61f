#!/usr/bin/env bash
# The converter's proof (issue 21): each procmailrc of tests/procmail is run by Debian's real
# procmail and, converted by `mdatest --from-procmail`, by mda, on the same messages (the
# test corpus, each with its own Message-ID and an X-Test-Id), as the same throw-away user in
# a scratch home; sendmail and the programs are recorders. Where each message was stored
# (folder by folder, copies included), what was forwarded to whom, and what was piped with
# which arguments must agree for every message. Prints the agreement figure.
# Usage: tests/procmail_agreement.sh PATH-TO-MDA PATH-TO-MDATEST. Exit 77 (skipped) without
# root or procmail, except under CI=true, where a missing procmail is a failure.
set -euo pipefail
mda_built=${1:?usage: procmail_agreement.sh MDA MDATEST}
mdatest_built=${2:?usage: procmail_agreement.sh MDA MDATEST}
here=$(cd "$(dirname "$0")" && pwd)
if [ "$(id -u)" != 0 ]; then echo "SKIP: needs root (a throw-away user)"; exit 77; fi
if ! command -v procmail > /dev/null || ! command -v formail > /dev/null; then
  [ "${CI:-}" = true ] && { echo "FAIL: procmail missing (scripts/setup --for-tests installs it)"; exit 1; }
  echo "SKIP: no procmail (apt-get install procmail)"; exit 77
fi

D=$(mktemp -d /tmp/mda-procmail.XXXXXX)
chmod 711 "$D"
U=mdapmagree
cleanup() { userdel "$U" 2> /dev/null || true; rm -rf "$D"; }
trap cleanup EXIT
userdel "$U" 2> /dev/null || true
useradd -M -d "$D/home" -s /usr/sbin/nologin "$U"
mkdir -p "$D/bin" "$D/messages" "$D/home"
install -m 755 "$mda_built" "$D/bin/mda"
install -m 755 "$mdatest_built" "$D/bin/mdatest"
# The recorders: one line per call, the message's X-Test-Id and what it was called with.
cat > "$D/bin/sendmail-recorder" <<'SH'
#!/bin/sh
id=$(sed -n 's/^X-Test-Id: *//p;/^$/q' | head -1)
# The addresses: what is not an option (procmail: $SENDMAIL -oi ADDR...; mda: -oi -f FROM
# -- ADDR).
addrs="" skip=no rest=no
for a; do
  if [ $rest = yes ]; then addrs="$addrs $a"; continue; fi
  if [ $skip = yes ]; then skip=no; continue; fi
  case "$a" in --) rest=yes ;; -f) skip=yes ;; -*) ;; *) addrs="$addrs $a" ;; esac
done
echo "$id forward$addrs" >> "$HOME/record"
SH
cat > "$D/bin/pipe-recorder" <<'SH'
#!/bin/sh
id=$(sed -n 's/^X-Test-Id: *//p;/^$/q' | head -1)
echo "$id pipe $*" >> "$HOME/record"
SH
chmod 755 "$D/bin/sendmail-recorder" "$D/bin/pipe-recorder"
# The messages: the corpus as Exim's pipe transport hands it over (LF line ends), each with
# an X-Test-Id and a Message-ID of its own (mda's duplicate check would otherwise rightly
# suppress the corpus's repeated ones).
n=0
for m in "$here"/corpus/messages/*.eml; do
  n=$((n + 1))
  { printf 'X-Test-Id: %s\nMessage-ID: <agreement-%s@example.org>\n' "$n" "$n"
    tr -d '\r' < "$m" | grep -a -v -i "^Message-ID:" || true; } > "$D/messages/$n"
done
chown -R "$U" "$D/home" "$D/messages"

placed() {  # placed HOME: "ID FOLDER" for every stored message, sorted
  for d in "$1"/Maildir/new "$1"/Maildir/cur "$1"/Maildir/.*/new "$1"/Maildir/.*/cur; do
    [ -d "$d" ] || continue
    f=$(basename "$(dirname "$d")"); [ "$f" = Maildir ] && f=INBOX; f=${f#.}
    for file in "$d"/*; do
      [ -f "$file" ] || continue
      echo "$(sed -n 's/^X-Test-Id: *//p;/^$/q' "$file" | head -1) $f"
    done
  done | sort
}

total_messages=0 total_agree=0 failures=0
for rc in "$here"/procmail/*.rc; do
  name=$(basename "$rc" .rc)
  sed "s|@BIN@|$D/bin|g" "$rc" > "$D/home/procmailrc"
  chown "$U" "$D/home/procmailrc"; chmod 644 "$D/home/procmailrc"
  # Converted as the user would: the rules on stdout, the report on stderr.
  mkdir -p "$D/home/.mda"; chown "$U" "$D/home/.mda"; chmod 700 "$D/home/.mda"
  if ! runuser -u "$U" -- env -i HOME="$D/home" "$D/bin/mdatest" --from-procmail "$D/home/procmailrc" \
      > "$D/home/.mda/rules" 2> "$D/report.$name"; then
    echo "FAIL: $name: not converted completely:"; cat "$D/report.$name"; failures=$((failures + 1)); continue
  fi
  chown "$U" "$D/home/.mda/rules"; chmod 600 "$D/home/.mda/rules"
  runuser -u "$U" -- env -i HOME="$D/home" "$D/bin/mdatest" --check > "$D/check.$name" 2>&1 \
    || { echo "FAIL: $name: the converted rules do not pass --check:"; cat "$D/check.$name"; failures=$((failures + 1)); continue; }
  for side in procmail mda; do
    rm -rf "$D/home/Maildir" "$D/home/record" "$D/home/.msgid.cache" "$D/home/.mda/dedup.store" "$D/home/.mda/log"
    # The Maildir as the user has it (procmail does not make its MAILDIR).
    mkdir -p "$D/home/Maildir/new" "$D/home/Maildir/cur" "$D/home/Maildir/tmp"
    chown -R "$U" "$D/home/Maildir"
    for m in "$D"/messages/*; do
      if [ $side = procmail ]; then
        runuser -u "$U" -- timeout 20 procmail -f sender@example.net -m "$D/home/procmailrc" < "$m" \
          || { echo "FAIL: procmail exited $? on $m"; failures=$((failures + 1)); }
      else
        runuser -u "$U" -- env -i HOME="$D/home" RECIPIENT=$U@example.org LOCAL_PART=$U \
          DOMAIN=example.org SENDER=sender@example.net timeout 20 "$D/bin/mda" < "$m" \
          || { echo "FAIL: mda exited $? on $m"; failures=$((failures + 1)); }
      fi
    done
    placed "$D/home" > "$D/placed.$name.$side"
    sort "$D/home/record" 2> /dev/null > "$D/record.$name.$side" || true
  done
  agree=0 count=0
  for m in "$D"/messages/*; do
    id=$(basename "$m")
    count=$((count + 1))
    a=$(grep "^$id " "$D/placed.$name.procmail" "$D/record.$name.procmail" -h || true)
    b=$(grep "^$id " "$D/placed.$name.mda" "$D/record.$name.mda" -h || true)
    if [ "$a" = "$b" ]; then
      agree=$((agree + 1))
    else
      echo "  $name: message $id ($(sed -n 's/^Subject: //p' "$m" | head -1)): procmail [$(echo $a)] mda [$(echo $b)]"
    fi
  done
  total_messages=$((total_messages + count)) total_agree=$((total_agree + agree))
  echo "$name: procmail and mda agree on $agree of $count messages ($(grep -c . "$D/placed.$name.procmail") copies stored, $(grep -c . "$D/record.$name.procmail" || true) forwards and pipes)"
  [ "$agree" = "$count" ] || failures=$((failures + 1))
done
echo "procmail_agreement: $total_agree of $total_messages message deliveries agree; $failures failure(s)"
[ "$failures" = 0 ]
