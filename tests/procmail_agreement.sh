#!/usr/bin/env bash
# The converter's proof (issue 21). Each procmailrc of tests/procmail (files in the styles of
# public dotfiles) and tests/procmail/man (every example of Debian's procmailex(5) and
# procmailsc(5), verbatim, and the mbox ones again with Maildir++ folders) is converted by
# `mdatest --from-procmail` as its user would.
# - A file whose report lists NOT CONVERTED parts must list exactly those its "#@ LINE: ..."
#   lines expect, and exit 1.
# - A file converted completely (exit 0, and mdatest --check passes) is run by Debian's real
#   procmail and by mda with the converted rules, as the same throw-away user in a scratch
#   home, on the same messages: the test corpus and tests/procmail/messages (each with its
#   own Message-ID and an X-Test-Id; its envelope sender from its Return-Path; for the
#   procmailex(5) files, which the generated messages aim at, every fourth corpus message
#   with them, to keep the test near a minute). sendmail and
#   the programs are recorders. Where each message was stored (folder by folder, copies
#   included), what was forwarded to whom, what was piped with which arguments and who got
#   an automatic reply must agree for every message, except where a "#@ differs MESSAGE:
#   reason" line of the file says that mda differs by design; such a difference must occur.
# Prints the agreement figure.
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
useradd -M -d "$D/home" -s /bin/sh "$U"  # procmail runs its commands with the login shell
mkdir -p "$D/bin" "$D/messages" "$D/home/bin"
install -m 755 "$mda_built" "$D/bin/mda"
install -m 755 "$mdatest_built" "$D/bin/mdatest"
# The recorders: one line per call, the message's X-Test-Id and what it was called with. A
# message without one is an automatic reply: it names the message it answers (In-Reply-To)
# and its To: says whom.
cat > "$D/bin/sendmail-recorder" <<'SH'
#!/bin/sh
t=$(mktemp) && cat > "$t"
id=$(sed -n 's/^X-Test-Id: *//p;/^$/q' "$t" | head -1)
if [ -z "$id" ]; then
  id=$(sed -n 's/^In-Reply-To: *<agreement-\(.*\)@example\.org>.*/\1/p;/^$/q' "$t" | head -1)
  to=$(sed -n 's/^To: *//p;/^$/q' "$t" | head -1 | sed 's/.*<\(.*\)>.*/\1/')
  echo "$id reply to $to" >> "$HOME/record"
  rm -f "$t"; exit 0
fi
rm -f "$t"
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
echo "$id pipe $(basename "$0") $*" >> "$HOME/record"
SH
# spamc's stand-in: SpamAssassin's verdict headers on top, Yes for a lottery.
cat > "$D/home/bin/spamc" <<'SH'
#!/bin/sh
t=$(mktemp) && cat > "$t"
if grep -qi lottery "$t"; then
  printf 'X-Spam-Status: Yes, score=9.1 required=5.0\nX-Spam-Level: *********\n'
else
  printf 'X-Spam-Status: No, score=0.1 required=5.0\nX-Spam-Level: \n'
fi
cat "$t"; rm -f "$t"
SH
cp "$D/bin/pipe-recorder" "$D/home/bin/rcvstore"
chmod 755 "$D/bin/sendmail-recorder" "$D/bin/pipe-recorder" "$D/home/bin/spamc" "$D/home/bin/rcvstore"
# sendmail is the recorder for every file, also those that do not set SENDMAIL: procmail
# gets it on its command line, mda from a site file (as an administrator would fix it).
mkdir -m 755 "$D/site"
printf 'set! sendmail = %s\n' "$D/bin/sendmail-recorder" > "$D/site/before.rules"
chmod 644 "$D/site/before.rules"
mkdir "$D/home/spamfold"  # procmailex(5)'s rcvstore example locks in it (an MH folder)
mkdir "$D/home/.procmail"  # the files switch.rc includes and switches to
for f in "$here"/procmail/include/*.rc; do
  sed "s|@BIN@|$D/bin|g" "$f" > "$D/home/.procmail/$(basename "$f")"
done
printf 'Away until Monday.\n' > "$D/home/.vacation.msg"
printf -- '-- \nMda Agree\n' > "$D/home/.signature"
printf 'The documents are at https://example.org/docs.\n' > "$D/home/info_file"
# The messages: the corpus as Exim's pipe transport hands it over (LF line ends), each with
# an X-Test-Id and a Message-ID of its own (mda's duplicate check would otherwise rightly
# suppress the corpus's repeated ones), then the generated ones, which keep a <dup-...>
# Message-ID (given only to files with formail -D).
n=0
for m in "$here"/corpus/messages/*.eml; do
  n=$((n + 1))
  { printf 'X-Test-Id: %s\nMessage-ID: <agreement-%s@example.org>\n' "$n" "$n"
    tr -d '\r' < "$m" | grep -a -v -i "^Message-ID:" || true; } > "$D/messages/$n"
done
for m in "$here"/procmail/messages/*.eml; do
  id=$(basename "$m" .eml)
  if grep -q -i '^Message-ID: <dup-' "$m"; then
    { printf 'X-Test-Id: %s\n' "$id"; cat "$m"; } > "$D/messages/$id.dup"
  else
    { printf 'X-Test-Id: %s\nMessage-ID: <agreement-%s@example.org>\n' "$id" "$id"; cat "$m"; } \
      > "$D/messages/$id"
  fi
done
chown -R "$U" "$D/home" "$D/messages"

# The messages in order: "FILE ID SENDER DUP", the envelope sender from the Return-Path.
for m in "$D"/messages/*; do
  id=$(sed -n 's/^X-Test-Id: *//p;/^$/q' "$m" | head -1)
  sender=$(sed -n 's/^Return-Path: *<\(.*\)>.*/\1/p;/^$/q' "$m" | head -1)
  case "$m" in *.dup) dup=yes ;; *) dup=no ;; esac
  # sample: every corpus message for the dotfile-style files, every fourth (and every
  # generated one) for procmailex(5)'s examples, whose recipes the generated ones aim at.
  case "$id" in *[!0-9]*) sample=yes ;; *) sample=$([ $((id % 4)) = 1 ] && echo yes || echo no) ;; esac
  echo "$m $id ${sender:-sender@example.net} $dup $sample"
done > "$D/list"
# Each side's deliveries in one process as the user, a message at a time (bounded as a
# whole: a timeout(1) for each would double the test's time).
cat > "$D/bin/deliver-all" <<'SH'
#!/bin/sh
side=$1 rc=$2 dups=$3 bin=$4 list=$5 all=$6
while read -r m id sender dup sample; do
  [ "$dup" = yes ] && [ "$dups" != yes ] && continue
  [ "$sample" = yes ] || [ "$all" = yes ] || continue
  if [ "$side" = procmail ]; then
    # DEFAULT: the user's Maildir, where this server delivers (Debian's procmail would use
    # /var/mail), as mda's INBOX is; a file may set its own.
    procmail -f "$sender" -m DEFAULT="$HOME/Maildir/" SENDMAIL="$bin/sendmail-recorder" "$rc" \
      < "$m" \
      || echo "FAIL: procmail exited $? on $m"
  else
    env -i HOME="$HOME" RECIPIENT=mdapmagree@example.org LOCAL_PART=mdapmagree \
      DOMAIN=example.org SENDER="$sender" "$bin/mda" --site-dir "$bin/../site" < "$m" \
      || echo "FAIL: mda exited $? on $m"
  fi
done < "$list"
SH
chmod 755 "$D/bin/deliver-all"

placed() {  # placed HOME: "ID FOLDER" for every stored message, sorted
  for d in "$1"/Maildir/new "$1"/Maildir/cur "$1"/Maildir/.*/new "$1"/Maildir/.*/cur; do
    [ -d "$d" ] || continue
    f=$(basename "$(dirname "$d")"); [ "$f" = Maildir ] && f=INBOX; f=${f#.}
    # The first X-Test-Id of each file is its header's (the test puts it on top).
    find "$d" -maxdepth 1 -type f -exec grep -a -m1 -h '^X-Test-Id:' {} + \
      | sed "s/^X-Test-Id: *\(.*\)/\1 $f/"
  done | sort
}

files=0 complete=0 reported=0 total_messages=0 total_agree=0 total_differ=0 failures=0
for rc in "$here"/procmail/*.rc "$here"/procmail/man/*.rc; do
  files=$((files + 1))
  name=$(basename "$rc" .rc)
  sed "s|@BIN@|$D/bin|g" "$rc" > "$D/home/procmailrc"
  chown "$U" "$D/home/procmailrc"; chmod 644 "$D/home/procmailrc"
  # Converted as the user would: the rules on stdout, the report on stderr.
  mkdir -p "$D/home/.mda"; chown "$U" "$D/home/.mda"; chmod 700 "$D/home/.mda"
  status=0
  runuser -u "$U" -- env -i HOME="$D/home" "$D/bin/mdatest" --from-procmail "$D/home/procmailrc" \
    > "$D/home/.mda/rules" 2> "$D/report.$name" || status=$?
  expected=$(sed -n 's/^#@ \([0-9]\)/\1/p' "$rc")
  got=$(sed -n "s|^$D/home/procmailrc:\([0-9]*: NOT CONVERTED: \)|\1|p" "$D/report.$name")
  if [ -n "$expected" ] || [ "$status" != 0 ]; then
    if [ "$got" != "$expected" ] || [ "$status" != 1 ]; then
      echo "FAIL: $name: the report (exit $status) is not what the file expects:"
      diff <(echo "$expected") <(echo "$got") || true
      failures=$((failures + 1))
    else
      reported=$((reported + 1))
    fi
    continue
  fi
  complete=$((complete + 1))
  chown "$U" "$D/home/.mda/rules"; chmod 600 "$D/home/.mda/rules"
  runuser -u "$U" -- env -i HOME="$D/home" "$D/bin/mdatest" --check > "$D/check.$name" 2>&1 \
    || { echo "FAIL: $name: the converted rules do not pass --check:"; cat "$D/check.$name"; failures=$((failures + 1)); continue; }
  dups=no; grep -q 'formail -D' "$rc" && dups=yes
  all=yes; case "$rc" in */man/*) all=no ;; esac
  for side in procmail mda; do
    rm -rf "$D/home/Maildir" "$D/home/record" "$D/home"/*.cache "$D/home"/.*.cache \
      "$D/home/.mda/dedup.store" "$D/home/.mda/vacation.store" "$D/home/.mda/log"
    # The Maildir as the user has it (procmail does not make its MAILDIR).
    mkdir -p "$D/home/Maildir/new" "$D/home/Maildir/cur" "$D/home/Maildir/tmp"
    chown -R "$U" "$D/home/Maildir"
    out=$(runuser -u "$U" -- env -i HOME="$D/home" PATH=/usr/bin:/bin timeout 300 \
      "$D/bin/deliver-all" $side "$D/home/procmailrc" $dups "$D/bin" "$D/list" $all \
      || echo "FAIL: $side on $name did not finish in 300 s ($?)")
    if [ -n "$out" ]; then echo "$out"; failures=$((failures + 1)); fi
    placed "$D/home" > "$D/placed.$name.$side"
    sort "$D/home/record" 2> /dev/null > "$D/record.$name.$side" || true
  done
  # Per message, what each side did (its stored copies, forwards, pipes and replies, sorted),
  # compared in one pass.
  result=$(awk -v dups=$dups -v all=$all '
    FILENAME == ARGV[1] { if (($4 == "no" || dups == "yes") && ($5 == "yes" || all == "yes")) ids[++n] = $2; next }
    FILENAME == ARGV[2] { a[$1] = a[$1] " " $0; next }
    { b[$1] = b[$1] " " $0 }
    END {
      for (i = 1; i <= n; i++) {
        id = ids[i]
        if (a[id] == b[id]) agree++
        else print "DIFF " id "\tprocmail [" substr(a[id], 2) "] mda [" substr(b[id], 2) "]"
      }
      print "COUNT " agree + 0 " " n
    }' "$D/list" <(cat "$D/placed.$name.procmail" "$D/record.$name.procmail" | sort) \
       <(cat "$D/placed.$name.mda" "$D/record.$name.mda" | sort))
  read -r _ agree count <<< "$(echo "$result" | grep '^COUNT ')"
  differ=0
  while IFS=$'\t' read -r id sides; do
    [ -n "$id" ] || continue
    id=${id#DIFF }
    declared=$(sed -n "s/^#@ differs $id: //p" "$rc")
    if [ -n "$declared" ]; then
      differ=$((differ + 1))
      echo "  $name: message $id differs by design ($declared): $sides"
    else
      echo "  $name: message $id: $sides"
      failures=$((failures + 1))
    fi
  done <<< "$(echo "$result" | grep '^DIFF ' || true)"
  for id in $(sed -n 's/^#@ differs \([^:]*\):.*/\1/p' "$rc"); do
    if ! echo "$result" | grep -q "^DIFF $id	"; then
      echo "FAIL: $name: message $id was declared to differ but did not"
      failures=$((failures + 1))
    fi
  done
  total_messages=$((total_messages + count)) total_agree=$((total_agree + agree)) total_differ=$((total_differ + differ))
  echo "$name: procmail and mda agree on $agree of $count messages$([ $differ = 0 ] || echo ", $differ differ by design") ($(grep -c . "$D/placed.$name.procmail" || true) copies stored, $(grep -c . "$D/record.$name.procmail" || true) forwards, pipes and replies)"
done
echo "procmail_agreement: $files procmailrc files: $complete converted completely, where $total_agree of $total_messages message deliveries agree$([ $total_differ = 0 ] || echo " and $total_differ differ by design"); $reported with their NOT CONVERTED parts reported exactly as expected; $failures failure(s)"
[ "$failures" = 0 ]
