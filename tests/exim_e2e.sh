#!/usr/bin/env bash
# End to end through Debian's real Exim 4.96 (acceptance 6 of issue 2): a message goes through
# a pipe transport to mda running as an unprivileged user and arrives; with the Maildir
# read-only Exim defers it and keeps it queued; after the fix a queue run delivers it once.
#
# Since step 12 also a filter and a pipe rule, and a program's exit 75 as a deferral.
#
# Usage: tests/exim_e2e.sh PATH-TO-MDA. Exit 77 (skipped) without root or exim4.
# No daemon is started and nothing under /etc/exim4 or /var/spool/exim4 is touched: Exim runs
# with a private config whose spool and log live in a temp dir (notes on why in INSTALL).
set -euo pipefail

mda_built=${1:?usage: exim_e2e.sh PATH-TO-MDA}
here=$(cd "$(dirname "$0")" && pwd)
USER_NAME=nobody   # exists on every Debian system; any unprivileged user will do
. "$here/exim/common.sh"

# Both Exim's user and the mda user must traverse the directory: 0711, under /tmp.
D=$(mktemp -d /tmp/mda-e2e.XXXXXX)
chmod 711 "$D"
cleanup() { rm -rf "$D"; }
trap cleanup EXIT
mkdir "$D"/spool "$D"/log "$D"/mail "$D"/bin "$D"/home
chown "$exim_user" "$D"/spool "$D"/log "$D"/mail
chown "$USER_NAME" "$D"/home
install -m 755 "$mda_built" "$D"/bin/mda
sed -e "s|@DIR@|$D|g" -e "s|@USER@|$USER_NAME|g" "$here"/exim/e2e.conf.in > "$D"/exim.conf
chmod 644 "$D"/exim.conf

new_count() { find "$D"/home/Maildir/new -type f 2>/dev/null | wc -l || true; }
tmp_count() { find "$D"/home/Maildir/tmp -type f 2>/dev/null | wc -l || true; }

exim -bV > /dev/null || { echo "FAIL: Exim rejects the test configuration"; exit 1; }

submit() {  # submit SUBJECT [MESSAGE-ID]: queue a message for e2euser, print its queue id
  local before after id_header=""
  [ -n "${2:-}" ] && id_header="Message-ID: $2\n"
  before=$(queue_ids | sort)
  printf "From: sender@example.org\nTo: e2euser@example.com\nSubject: %s\n${id_header}\nline one\nFrom the body\n" "$1" |
    exim_clean -odq -oi -f sender@example.org e2euser@example.com
  after=$(queue_ids | sort)
  comm -13 <(echo "$before") <(echo "$after")
}

# 1. A message arrives, byte for byte as Exim hands it, minus the From_ line.
id1=$(submit "e2e one")
[ -n "$id1" ] || { echo "FAIL: submission queued nothing"; cat "$D"/log/* 2>/dev/null; exit 1; }
exim_clean -odi -M "$id1"
if [ "$(new_count)" = 1 ]; then pass "delivered through Exim into new/"; else fail "new/ has $(new_count) files, want 1"; fi
f1=$(find "$D"/home/Maildir/new -type f 2>/dev/null | head -n 1 || true)
if [ -n "$f1" ]; then
  head -n 1 "$f1" | grep -q '^Received: ' && pass "stored file starts with Exim's Received: (no From_ line)" \
    || fail "stored file starts with: $(head -n 1 "$f1")"
  grep -q '^Subject: e2e one$' "$f1" && grep -q '^From the body$' "$f1" && pass "headers and body intact" \
    || fail "content differs: $(cat "$f1")"
  [ "$(stat -c %U "$f1")" = "$USER_NAME" ] && pass "file owned by $USER_NAME" || fail "owner $(stat -c %U "$f1")"
fi
grep -q "$id1 => e2euser <e2euser@example.com> R=mda T=mda_pipe" "$D"/log/mainlog && pass "Exim logged the delivery" \
  || fail "no delivery line in mainlog"
[ -z "$(queue_ids)" ] && pass "queue empty" || fail "queue not empty: $(queue_ids)"

# 2. Read-only Maildir: exit 75, Exim defers and keeps the message.
chmod 500 "$D"/home/Maildir "$D"/home/Maildir/new "$D"/home/Maildir/tmp "$D"/home/Maildir/cur
id2=$(submit "e2e two")
exim_clean -odi -M "$id2"
grep -q "$id2 == e2euser@example.com R=mda T=mda_pipe defer (0): Child process of mda_pipe transport returned 75" "$D"/log/mainlog \
  && pass "Exim deferred on exit 75" || fail "no defer line for $id2: $(grep "$id2" "$D"/log/mainlog)"
grep -q "mda_pipe transport output: mda: cannot create $D/home/Maildir/tmp/.*: Permission denied" "$D"/log/mainlog \
  && pass "Exim logged mda's reason (log_defer_output)" || fail "reason not in mainlog"
queue_ids | grep -qx "$id2" && pass "message still queued" || fail "message $id2 left the queue"
[ "$(new_count)" = 1 ] && [ "$(tmp_count)" = 0 ] && pass "nothing half-delivered" \
  || fail "new/ $(new_count) files, tmp/ $(tmp_count)"
[ ! -s "$D"/mail/outbox ] && pass "no bounce" || fail "a bounce was sent: $(cat "$D"/mail/outbox)"

# 3. Fixed: a forced queue run delivers it exactly once, and a second run adds nothing.
chmod 700 "$D"/home/Maildir "$D"/home/Maildir/new "$D"/home/Maildir/tmp "$D"/home/Maildir/cur
exim_clean -odi -qff
exim_clean -odi -qff
[ "$(new_count)" = 2 ] && pass "delivered after the fix" || fail "new/ has $(new_count) files, want 2"
n2=$(grep -l '^Subject: e2e two$' "$D"/home/Maildir/new/* 2>/dev/null | wc -l)
[ "$n2" = 1 ] && pass "exactly one copy of the deferred message" || fail "$n2 copies of the deferred message"
[ -z "$(queue_ids)" ] && pass "queue empty" || fail "queue not empty: $(queue_ids)"
[ "$(tmp_count)" = 0 ] && pass "tmp/ empty" || fail "tmp/ has $(tmp_count) files"

# 4. The same message again (same Message-ID): Exim delivers, mda suppresses the duplicate.
id3=$(submit "e2e three" "<e2e-dup@example.org>")
exim_clean -odi -M "$id3"
id4=$(submit "e2e three" "<e2e-dup@example.org>")
exim_clean -odi -M "$id4"
n3=$(grep -l '^Subject: e2e three$' "$D"/home/Maildir/new/* 2>/dev/null | wc -l || true)
[ "$n3" = 1 ] && pass "a resubmitted message is delivered once" || fail "$n3 copies of the resubmitted message"
grep -q "$id4 => e2euser <e2euser@example.com> R=mda T=mda_pipe" "$D"/log/mainlog \
  && pass "Exim counts the duplicate as delivered (exit 0)" || fail "no delivery line for the duplicate"
grep -q "outcome=duplicate queue_id=$id4 .*message_id=<e2e-dup@example.org>" "$D"/home/.mda/log 2>/dev/null \
  && pass "mda logged the duplicate with Exim's queue id" || fail "no duplicate line in ~/.mda/log"

# 5. Programs: a filter and a pipe work as they do from the shell; a program's temporary
#    failure (exit 75) is Exim's deferral, and the queue run after it delivers once.
mkdir -p "$D"/home/bin "$D"/home/piped
cat > "$D"/home/bin/record <<'SCRIPT'
#!/bin/sh
# Stores what it reads, complete or not at all; exits 75 while ~/down exists.
[ -e "$HOME/down" ] && { echo "backend down" >&2; exit 75; }
cat > "$HOME/piped/.tmp.$$" && mv "$HOME/piped/.tmp.$$" "$HOME/piped/msg.$$"
SCRIPT
chmod 755 "$D"/home/bin/record
cat > "$D"/home/.mda/rules <<'RULES'
if Subject: contains "e2e program" then filter "/usr/bin/sed" "1i X-Filtered: yes"
if X-Filtered: is "yes" then pipe "~/bin/record"
RULES
chown -R "$USER_NAME" "$D"/home/bin "$D"/home/piped "$D"/home/.mda
chmod 600 "$D"/home/.mda/rules
piped_count() { find "$D"/home/piped -name 'msg.*' | wc -l; }
id5=$(submit "e2e program five")
exim_clean -odi -M "$id5"
[ "$(piped_count)" = 1 ] && pass "a filter then a pipe, through Exim" || fail "piped/ has $(piped_count) messages, want 1"
p5=$(find "$D"/home/piped -name 'msg.*' | head -n 1)
[ -n "$p5" ] && head -n 1 "$p5" | grep -q '^X-Filtered: yes$' && grep -q '^Subject: e2e program five$' "$p5" \
  && grep -q '^From the body$' "$p5" && pass "the program got the filtered message" \
  || fail "the program got: $(cat "$p5" 2>/dev/null)"
grep -q "$id5 => e2euser <e2euser@example.com> R=mda T=mda_pipe" "$D"/log/mainlog \
  && pass "Exim logged the program delivery as delivered" || fail "no delivery line for $id5"
touch "$D"/home/down && chown "$USER_NAME" "$D"/home/down
id6=$(submit "e2e program six")
exim_clean -odi -M "$id6"
grep -q "$id6 == e2euser@example.com R=mda T=mda_pipe defer (0): Child process of mda_pipe transport returned 75" "$D"/log/mainlog \
  && pass "a program's exit 75 is Exim's deferral" || fail "no defer line for $id6: $(grep "$id6" "$D"/log/mainlog)"
grep -q "mda_pipe transport output: mda: rule .*: program .*/bin/record exited 75 (temporary failure) (it said: backend down)" "$D"/log/mainlog \
  && pass "Exim logged the program's reason" || fail "the program's reason is not in mainlog"
queue_ids | grep -qx "$id6" && pass "the deferred message is still queued" || fail "message $id6 left the queue"
rm -f "$D"/home/down
exim_clean -odi -qff
exim_clean -odi -qff
[ "$(piped_count)" = 2 ] && pass "delivered once to the program after the retry" || fail "piped/ has $(piped_count) messages, want 2"
[ -z "$(queue_ids)" ] && pass "queue empty" || fail "queue not empty: $(queue_ids)"
[ ! -s "$D"/mail/outbox ] && pass "no bounce" || fail "a bounce was sent: $(cat "$D"/mail/outbox)"
[ "$(new_count)" = 3 ] && pass "nothing went to INBOX" || fail "new/ has $(new_count) files, want 3"

finish exim_e2e
