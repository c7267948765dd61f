#!/usr/bin/env bash
# What an IMAP client sees of what mda stored (issue 19), through Debian's real Dovecot 2.3:
# its imap binary run directly in preauth mode with a private configuration, no daemon.
# mda creates Lists/dev, Junk and a folder with a non-ASCII name: LSUB and LIST (SUBSCRIBED)
# show them; a message stored with `flag seen` is \Seen (with all four flags: all four);
# a message in new/ is \Recent and unseen; an edited Subject is what FETCH returns.
#
# Usage: tests/dovecot_imap_e2e.sh PATH-TO-MDA. Exit 77 (skipped) without root or Dovecot's
# imap, except under CI=true, where a missing Dovecot is a failure.
set -euo pipefail

mda_built=${1:?usage: dovecot_imap_e2e.sh PATH-TO-MDA}
IMAP=/usr/lib/dovecot/imap
if [ "$(id -u)" != 0 ]; then echo "SKIP: needs root (runs mda and imap as nobody)"; exit 77; fi
if [ ! -x "$IMAP" ]; then
  [ "${CI:-}" = true ] && { echo "FAIL: $IMAP missing (scripts/setup --for-tests installs dovecot-imapd)"; exit 1; }
  echo "SKIP: no $IMAP (apt-get install dovecot-imapd)"; exit 77
fi

D=$(mktemp -d /tmp/mda-imap.XXXXXX)
chmod 711 "$D"
trap 'rm -rf "$D"' EXIT
mkdir -p "$D/home/.mda" "$D/bin"
install -m 755 "$mda_built" "$D/bin/mda"
cat > "$D/home/.mda/rules" <<'RULES'
if List-Id: ~ /<([a-z0-9-]+)\.lists\.example\.org>/ then folder Lists/$1
if X-Spam-Flag: is "YES" then folder Junk flag seen
if exists X-All-Flags: then folder "Listes/Café" flag seen flagged answered draft
if Subject: ~ /^\[EXTERNAL\] (.*)$/ then set-header "Subject: $1"
RULES
chmod 700 "$D/home/.mda"; chmod 600 "$D/home/.mda/rules"
chown -R nobody "$D/home"
cat > "$D/dovecot.conf" <<CONF
mail_location = maildir:$D/home/Maildir
log_path = $D/dovecot.log
ssl = no
protocols = imap
CONF
chmod 644 "$D/dovecot.conf"

failures=0
pass() { echo "PASS: $1"; }
fail() { echo "FAIL: $1"; failures=$((failures + 1)); }

deliver() {  # deliver MESSAGE (printf format)
  printf "$1" | timeout 20 runuser -u nobody -- env -i HOME="$D/home" RECIPIENT=bob@example.org \
    LOCAL_PART=bob DOMAIN=example.org SENDER=alice@example.org "$D/bin/mda" \
    || fail "mda exited $? for: $1"
}
deliver 'List-Id: <dev.lists.example.org>\nSubject: list mail\nMessage-ID: <1@x>\n\nb\n'
deliver 'X-Spam-Flag: YES\nSubject: spam\nMessage-ID: <2@x>\n\nb\n'
deliver 'X-All-Flags: 1\nSubject: all\nMessage-ID: <3@x>\n\nb\n'
deliver 'Subject: [EXTERNAL] plain\nMessage-ID: <4@x>\n\nb\n'

imap() {  # imap COMMANDS...: one preauth session, one command a line; its output
  printf '%s\r\n' "$@" 'z LOGOUT' | timeout 20 runuser -u nobody -- env -i HOME="$D/home" USER=nobody \
    "$IMAP" -c "$D/dovecot.conf" 2>> "$D/dovecot.log" | tr -d '\r'
}
out=$(imap 'a LSUB "" "*"')
for box in Lists.dev Junk 'Listes.Caf&AOk-'; do
  grep -qF "* LSUB () \".\" $box" <<< "$out" && pass "LSUB shows $box" || fail "LSUB lacks $box: $out"
done
out=$(imap 'a LIST (SUBSCRIBED) "" "*"')
for box in Lists.dev Junk 'Listes.Caf&AOk-'; do
  grep -qF "\\Subscribed) \".\" $box" <<< "$out" && pass "LIST (SUBSCRIBED) shows $box" || fail "LIST (SUBSCRIBED) lacks $box: $out"
done
grep -q 'INBOX' <<< "$out" && fail "INBOX listed as subscribed: mda subscribes only what it creates" || pass "nothing else subscribed"

out=$(imap 'a SELECT Junk' 'b FETCH 1 FLAGS')
grep -q '^\* 1 FETCH (FLAGS (\\Seen' <<< "$out" && pass "flag seen: \\Seen in Junk" || fail "Junk's flags: $out"
out=$(imap 'a SELECT "Listes.Caf&AOk-"' 'b FETCH 1 FLAGS')
for f in Seen Flagged Answered Draft; do
  grep -q "^\* 1 FETCH (FLAGS (.*\\\\$f" <<< "$out" && pass "all four flags: \\$f" || fail "no \\$f: $out"
done
out=$(imap 'a SELECT Lists.dev' 'b FETCH 1 FLAGS')
grep -q '^\* 1 FETCH (FLAGS (\\Recent))' <<< "$out" && pass "a message in new/ is \\Recent and unseen" || fail "Lists.dev's flags: $out"
grep -q 'OK \[UNSEEN 1\]' <<< "$out" && pass "Dovecot counts it unseen" || fail "no UNSEEN: $out"
out=$(imap 'a SELECT INBOX' 'b FETCH 1 (FLAGS BODY.PEEK[HEADER.FIELDS (SUBJECT)])')
grep -q '^Subject: plain$' <<< "$out" && pass "the edited Subject is what IMAP returns" || fail "INBOX: $out"
grep -q 'Error\|Panic\|Fatal' "$D/dovecot.log" 2>/dev/null && fail "Dovecot complained: $(cat "$D/dovecot.log")" || pass "Dovecot logged no error"

echo "dovecot_imap_e2e: $failures failure(s)"
[ "$failures" = 0 ]
