#!/usr/bin/env bash
# The example Exim router and transport (examples/exim) through Debian's real Exim 4.96,
# with mda's path adjusted to a temp dir: routing only users with a rule file, rules
# filing, reject bouncing with the reason, defer keeping the message queued, duplicates,
# suffixes, bounces. Needs root (it creates two throw-away users, removed at the end).
# Usage: tests/exim_install_e2e.sh PATH-TO-MDA. Exit 77 (skipped) without root or exim4.
set -euo pipefail

mda_built=${1:?usage: exim_install_e2e.sh PATH-TO-MDA}
here=$(cd "$(dirname "$0")" && pwd)
examples=$here/../examples/exim
. "$here/exim/common.sh"

D=$(mktemp -d /tmp/mda-install.XXXXXX)
chmod 711 "$D"
U1=mdae2e1 U2=mdae2e2
cleanup() {
  for u in $U1 $U2; do userdel "$u" 2> /dev/null || true; done
  rm -rf "$D"
}
trap cleanup EXIT
mkdir "$D"/spool "$D"/log "$D"/mail "$D"/bin
chown "$exim_user" "$D"/spool "$D"/log "$D"/mail
install -m 755 "$mda_built" "$D"/bin/mda
for u in $U1 $U2; do
  userdel "$u" 2> /dev/null || true
  useradd -M -d "$D/home-$u" -s /usr/sbin/nologin "$u"
  mkdir -m 700 "$D/home-$u"
  chown "$u:" "$D/home-$u"
done
# U1 has rules; U2 has none and must keep the normal mailbox.
install -d -m 700 -o $U1 "$D/home-$U1/.mda"
cat > "$D/home-$U1/.mda/rules" <<'RULES'
if Subject: contains "sort me" then folder Sorted
if Subject: contains "reject me" then reject "550 mda-e2e: this address does not want it"
if Subject: contains "defer me" then defer "mda-e2e: mailbox being moved"
if exists Subject: and recipient ~ /\+/ then folder "Tagged/$LOCAL_PART_SUFFIX"
if sender is "" then folder Bounces
RULES
chown $U1 "$D/home-$U1/.mda/rules"
chmod 600 "$D/home-$U1/.mda/rules"

# The example stanzas, verbatim but for mda's path.
sed "s|/usr/bin/mda|$D/bin/mda|g" "$examples/conf.d/router/750_local_mda" > "$D/router"
sed "s|/usr/bin/mda|$D/bin/mda|g" "$examples/conf.d/transport/30_local_mda_pipe" > "$D/transport"
awk -v r="$D/router" -v t="$D/transport" -v d="$D" '
    /^@ROUTER@$/ { while ((getline l < r) > 0) print l; next }
    /^@TRANSPORT@$/ { while ((getline l < t) > 0) print l; next }
    { gsub(/@DIR@/, d); print }' "$here/exim/install.conf.in" > "$D/exim.conf"
chmod 644 "$D/exim.conf"
exim -bV > /dev/null || { echo "FAIL: Exim rejects the configuration built from examples/exim"; cat "$D/exim.conf"; exit 1; }

# The single-file snippet carries the same stanzas as the split files.
snippet_router=$(sed -n '/^local_mda:/,/^  no_expn/p' "$examples/exim4.conf.template.snippet")
file_router=$(sed -n '/^local_mda:/,/^  no_expn/p' "$examples/conf.d/router/750_local_mda")
snippet_transport=$(sed -n '/^local_mda_pipe:/,/^  max_output/p' "$examples/exim4.conf.template.snippet")
file_transport=$(sed -n '/^local_mda_pipe:/,/^  max_output/p' "$examples/conf.d/transport/30_local_mda_pipe")
[ "$snippet_router" = "$file_router" ] && [ "$snippet_transport" = "$file_transport" ] \
  && pass "the single-file snippet matches the split files" || fail "exim4.conf.template.snippet differs from conf.d/"

# Routing: exim -bt chooses mda only for the user with a rule file.
exim -bt $U1@example.com | grep -q 'router = local_mda, transport = local_mda_pipe' \
  && pass "-bt: $U1 (with rules) -> local_mda" || fail "-bt $U1: $(exim -bt $U1@example.com 2>&1 | tr '\n' ' ')"
exim -bt $U2@example.com | grep -q 'router = local_user, transport = mailbox' \
  && pass "-bt: $U2 (no rules) -> local_user" || fail "-bt $U2: $(exim -bt $U2@example.com 2>&1 | tr '\n' ' ')"

send() {  # send FROM TO SUBJECT [MESSAGE-ID]: queue it, deliver it, print its queue id
  local before after id hdr=""
  [ -n "${4:-}" ] && hdr="Message-ID: $4\n"
  before=$(queue_ids | sort)
  printf "From: someone@example.org\nTo: $2\nSubject: $3\n${hdr}\nbody\n" | exim_clean -odq -oi -f "$1" "$2"
  after=$(queue_ids | sort)
  id=$(comm -13 <(echo "$before") <(echo "$after"))
  exim_clean -odi -M "$id" || true
  echo "$id"
}
folder_count() { find "$D/home-$U1/Maildir/$1/new" -type f 2>/dev/null | wc -l || true; }
mainlog() { cat "$D/log/mainlog"; }

# 1. Filed where the rules say; a user without rules is not routed to mda.
id=$(send someone@example.org $U1@example.com "please sort me")
[ "$(folder_count .Sorted)" = 1 ] && pass "message filed into Sorted by the rules" || fail "Sorted has $(folder_count .Sorted)"
grep -q "$id => $U1 <$U1@example.com> R=local_mda T=local_mda_pipe" "$D/log/mainlog" && pass "Exim: R=local_mda T=local_mda_pipe" || fail "no local_mda delivery for $id"
id=$(send someone@example.org $U2@example.com "for the plain user")
grep -q "$id => $U2 <$U2@example.com> R=local_user T=mailbox" "$D/log/mainlog" && [ -s "$D/home-$U2/mailbox" ] \
  && pass "user without rules: normal mailbox, not mda" || fail "user without rules: $(grep "$id" "$D/log/mainlog")"

# 2. reject: Exim bounces, and the bounce contains the reason.
id=$(send someone@example.org $U1@example.com "reject me please")
grep -q "$id \*\* $U1@example.com R=local_mda T=local_mda_pipe" "$D/log/mainlog" && pass "reject: Exim failed the delivery" || fail "reject: $(grep "$id" "$D/log/mainlog")"
grep "$id" "$D/log/mainlog" | grep -q "local_mda_pipe transport output: 550 mda-e2e: this address does not want it" \
  && pass "reject: the reason is in Exim's main log (log_fail_output)" || fail "reject reason not in mainlog: $(grep "$id" "$D/log/mainlog")"
exim_clean -odi -qff
grep -q "550 mda-e2e: this address does not want it" "$D/mail/outbox" 2>/dev/null \
  && pass "the bounce contains the rule's reason" || fail "bounce without the reason: $(cat "$D/mail/outbox" 2>/dev/null | head -40)"

# 3. defer: Exim defers, logs the reason in one line, keeps it queued; later delivered once.
id=$(send someone@example.org $U1@example.com "defer me for now")
grep -q "$id == $U1@example.com R=local_mda T=local_mda_pipe defer (0): Child process of local_mda_pipe transport returned 75" "$D/log/mainlog" \
  && pass "defer: Exim deferred (exit 75)" || fail "defer: $(grep "$id" "$D/log/mainlog")"
grep "$id" "$D/log/mainlog" | grep -q "local_mda_pipe transport output: mda: deferred by rule .*/.mda/rules:3: mda-e2e: mailbox being moved" \
  && pass "defer: the reason is in Exim's log" || fail "defer reason not logged"
queue_ids | grep -qx "$id" && pass "defer: still queued" || fail "defer: left the queue"
sed -i '/defer me/d' "$D/home-$U1/.mda/rules"
exim_clean -odi -qff
exim_clean -odi -qff
n=$(grep -l '^Subject: defer me for now$' "$D/home-$U1"/Maildir/new/* 2>/dev/null | wc -l || true)
[ "$n" = 1 ] && ! queue_ids | grep -qx "$id" && pass "defer: delivered exactly once after the rule was removed" || fail "defer: $n copies"

# 4. The same message twice: one copy, both deliveries complete at Exim.
a=$(send someone@example.org $U1@example.com "twice" "<twice@example.org>")
b=$(send someone@example.org $U1@example.com "twice" "<twice@example.org>")
n=$(grep -l '^Subject: twice$' "$D/home-$U1"/Maildir/new/* 2>/dev/null | wc -l || true)
grep -q "$a => $U1" "$D/log/mainlog" && grep -q "$b => $U1" "$D/log/mainlog" && [ "$n" = 1 ] \
  && pass "same message twice: one copy, both completed at Exim" || fail "twice: $n copies"

# 5. user+tag@: delivered, the suffix available to the rules.
id=$(send someone@example.org "$U1+lists@example.com" "tagged")
[ "$(find "$D/home-$U1/Maildir/.Tagged.+lists/new" -type f 2>/dev/null | wc -l)" = 1 ] \
  && pass "suffix: $U1+lists@ filed into Tagged/+lists (\$LOCAL_PART_SUFFIX)" || fail "suffix: $(grep "$id" "$D/log/mainlog")"

# 6. A bounce (null sender) is delivered like any other message.
id=$(send '<>' $U1@example.com "a bounce")
[ "$(folder_count .Bounces)" = 1 ] && grep -q "$id => $U1" "$D/log/mainlog" \
  && pass "null sender: delivered (into Bounces by the rules)" || fail "null sender: $(grep "$id" "$D/log/mainlog")"

# 7. The package removed (mda gone): mail for a user who chose mda is never silently put
# into the normal mailbox; Exim defers it, and it reaches the Maildir once mda is back.
mv "$D/bin/mda" "$D/bin/mda.removed"
exim -bt $U1@example.com | grep -q 'router = local_mda, transport = local_mda_pipe' \
  && pass "-bt: without mda, $U1 is still routed to mda" || fail "-bt $U1 without mda: $(exim -bt $U1@example.com 2>&1 | tr '\n' ' ')"
mbox_size() { stat -c %s "$D/home-$U1/mailbox" 2> /dev/null || echo 0; }
mailbox_before=$(mbox_size)
id=$(send someone@example.org $U1@example.com "while mda is gone")
grep "$id" "$D/log/mainlog" | grep -q "$id == $U1@example.com R=local_mda T=local_mda_pipe defer" \
  && pass "without mda: Exim defers ($(grep "$id ==" "$D/log/mainlog" | sed 's/.*defer/defer/' | head -1))" || fail "without mda: $(grep "$id" "$D/log/mainlog")"
queue_ids | grep -qx "$id" && pass "without mda: still queued" || fail "without mda: left the queue"
[ "$(mbox_size)" = "$mailbox_before" ] && pass "without mda: nothing in the mbox" || fail "without mda: it went to the mbox"
mv "$D/bin/mda.removed" "$D/bin/mda"
exim_clean -odi -qff
n=$(grep -l '^Subject: while mda is gone$' "$D/home-$U1"/Maildir/new/* 2>/dev/null | wc -l || true)
[ "$n" = 1 ] && ! queue_ids | grep -qx "$id" && pass "mda back: delivered once into the Maildir" || fail "mda back: $n copies"

finish exim_install_e2e
