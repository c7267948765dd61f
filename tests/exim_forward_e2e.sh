#!/usr/bin/env bash
# forward and vacation end to end through Debian's real Exim 4.96 (issue 18): mda hands what
# it sends to Exim's sendmail interface, and Exim delivers it. alice's `copy forward` to bob
# puts the message in both Maildirs; alice and bob forwarding to each other give each one
# copy and no loop; alice's vacation reply reaches carol's Maildir with RFC 3834's headers,
# and carol's second message within `days` gets none.
#
# Usage: tests/exim_forward_e2e.sh PATH-TO-MDA. Exit 77 (skipped) without root or exim4.
# No daemon, nothing under /etc/exim4 touched: a private config whose Exim user is the
# mailbox user (see tests/exim/forward.conf.in for why).
set -euo pipefail

mda_built=${1:?usage: exim_forward_e2e.sh PATH-TO-MDA}
here=$(cd "$(dirname "$0")" && pwd)
USER_NAME=nobody
GROUP_NAME=$(id -gn "$USER_NAME")
. "$here/exim/common.sh"

D=$(mktemp -d /tmp/mda-fwd.XXXXXX)
chmod 711 "$D"
cleanup() { rm -rf "$D"; }
trap cleanup EXIT
mkdir "$D"/spool "$D"/log "$D"/mail "$D"/bin "$D"/home
for u in alice bob carol; do mkdir -p "$D/home/$u/.mda"; chmod 700 "$D/home/$u/.mda"; done
install -m 755 "$mda_built" "$D"/bin/mda
sed -e "s|@DIR@|$D|g" -e "s|@USER@|$USER_NAME|g" -e "s|@GROUP@|$GROUP_NAME|g" \
  "$here"/exim/forward.conf.in > "$D"/exim.conf
chmod 644 "$D"/exim.conf
# mda's sendmail: this Exim with the test's config (-odq: queued; the test runs the queue).
printf '#!/bin/sh\nexec %s -C %s -odq "$@"\n' "$EXIM" "$D/exim.conf" > "$D"/bin/sendmail
chmod 755 "$D"/bin/sendmail
chown -R "$USER_NAME" "$D"/spool "$D"/log "$D"/mail "$D"/home

exim -bV > /dev/null || { echo "FAIL: Exim rejects the test configuration"; exit 1; }

rules() {  # rules USER TEXT: the user's rule file
  printf 'set sendmail = %s\n%s\n' "$D/bin/sendmail" "$2" > "$D/home/$1/.mda/rules"
  chown "$USER_NAME" "$D/home/$1/.mda/rules"; chmod 600 "$D/home/$1/.mda/rules"
}
with_subject() { grep -l "^Subject: $2\$" "$D/home/$1/Maildir/new/"* 2>/dev/null | wc -l || true; }
submit() {  # submit FROM TO SUBJECT MESSAGE-ID: queued by root, as a local submission
  printf 'From: %s\nTo: %s\nSubject: %s\nMessage-ID: %s\n\nhello\n' "$1" "$2" "$3" "$4" |
    exim_clean -odq -oi -f "$1" "$2"
}
run_queue() {  # until nothing is left (each run may queue what mda sent), at most 6 runs
  for _ in 1 2 3 4 5 6; do
    [ -z "$(queue_ids)" ] && return 0
    exim_clean -odi -qff
  done
}

# 1. alice forwards a copy to bob: both Maildirs have it, and Exim's log shows both.
rules alice 'if exists Subject: then copy forward "bob@example.com"'
submit carol@example.com alice@example.com "fwd one" "<fwd1@example.com>"
run_queue
[ "$(with_subject alice 'fwd one')" = 1 ] && pass "alice has the message" || fail "alice has $(with_subject alice 'fwd one') copies"
[ "$(with_subject bob 'fwd one')" = 1 ] && pass "bob has the forwarded copy" || fail "bob has $(with_subject bob 'fwd one') copies"
grep -q '=> alice <alice@example.com> R=mda T=mda_pipe' "$D"/log/mainlog && grep -q '=> bob <bob@example.com> R=mda T=mda_pipe' "$D"/log/mainlog \
  && pass "Exim's log shows both deliveries" || fail "mainlog lacks a delivery"
f=$(grep -l '^Subject: fwd one$' "$D"/home/bob/Maildir/new/* 2>/dev/null | head -n 1 || true)
[ -n "$f" ] && grep -q '^X-Mda-Forwarded-For: alice@example.com$' "$f" && pass "the copy carries the trace header" \
  || fail "no trace header in bob's copy"
grep -q 'folder="forward bob@example.com" file=sent' "$D"/home/alice/.mda/log && pass "alice's log names the forward" \
  || fail "alice's log: $(cat "$D"/home/alice/.mda/log)"

# 2. alice and bob forward to each other: each gets the message once, no loop.
rules alice 'if exists Subject: then copy forward "bob@example.com"'
rules bob 'if exists Subject: then copy forward "alice@example.com"'
submit carol@example.com alice@example.com "fwd two" "<fwd2@example.com>"
run_queue
[ "$(with_subject alice 'fwd two')" = 1 ] && [ "$(with_subject bob 'fwd two')" = 1 ] \
  && pass "each has the message once" || fail "alice $(with_subject alice 'fwd two'), bob $(with_subject bob 'fwd two')"
[ -z "$(queue_ids)" ] && pass "the queue is empty: no loop" || fail "still queued: $(queue_ids)"
n=$(grep -c '=> .* R=mda T=mda_pipe' "$D"/log/mainlog)
[ "$n" -le 6 ] && pass "a bounded number of deliveries ($n in all)" || fail "$n deliveries: a loop"
grep -q 'was forwarded by alice@example.com before' "$D"/home/alice/.mda/log && pass "alice's log says why she did not forward it again" \
  || grep -q 'outcome=duplicate' "$D"/home/alice/.mda/log && pass "alice's second copy was a duplicate" \
  || fail "alice's log: $(tail -n 3 "$D"/home/alice/.mda/log)"

# 3. alice is away: carol gets one reply in her Maildir, and none for her second message.
rules alice 'if not exists List-Id: then vacation days 7 subject "Away until 4 January" "I am away until 4 January."'
rules bob ''
submit carol@example.com alice@example.com "lunch" "<v1@example.com>"
run_queue
r=$(grep -l '^Subject: Away until 4 January$' "$D"/home/carol/Maildir/new/* 2>/dev/null | head -n 1 || true)
[ -n "$r" ] && pass "the vacation reply reached carol's Maildir" || fail "no reply in carol's Maildir; alice's log: $(tail -n 2 "$D"/home/alice/.mda/log)"
if [ -n "$r" ]; then
  for h in '^Auto-Submitted: auto-replied' '^Precedence: bulk$' '^In-Reply-To: <v1@example.com>$' \
           '^References: <v1@example.com>$' '^From: alice@example.com$' '^To: carol@example.com$' \
           '^MIME-Version: 1.0$' '^I am away until 4 January.$'; do
    grep -q "$h" "$r" && pass "reply: $h" || fail "reply lacks $h: $(cat "$r")"
  done
fi
grep -q 'sender="" recipient=carol@example.com subject="Away until 4 January"' "$D"/home/carol/.mda/log \
  && pass "the reply came with an empty envelope sender (carol's mda saw SENDER empty)" \
  || fail "carol's log: $(cat "$D"/home/carol/.mda/log)"
submit carol@example.com alice@example.com "lunch again" "<v2@example.com>"
run_queue
replies=$(grep -l '^Subject: Away until 4 January$' "$D"/home/carol/Maildir/new/* 2>/dev/null | wc -l)
[ "$replies" = 1 ] && pass "no second reply within 7 days" || fail "$replies replies"
grep -q 'vacation="not sent: carol@example.com got this reply on' "$D"/home/alice/.mda/log \
  && pass "alice's log says why not" || fail "alice's log: $(tail -n 1 "$D"/home/alice/.mda/log)"
[ "$(with_subject alice 'lunch again')" = 1 ] && pass "the message itself was delivered" || fail "alice lacks 'lunch again'"
[ ! -s "$D"/mail/outbox ] && pass "nothing left the local domain, no bounce" || fail "outbox: $(cat "$D"/mail/outbox)"

finish exim_forward_e2e
