#!/usr/bin/env bash
# What an IMAP client sees of what mda stored (issue 19), through Debian's real Dovecot 2.3:
# its imap binary run directly in preauth mode with a private configuration, no daemon.
# mda creates Lists/dev, Junk and a folder with a non-ASCII name: LSUB and LIST (SUBSCRIBED)
# show them; a message stored with `flag seen` is \Seen (with all four flags: all four);
# a message in new/ is \Recent and unseen; an edited Subject is what FETCH returns.
# Maildir++ quota (issue 20): Dovecot's quota plugin reads the maildirsize that mda keeps
# (GETQUOTAROOT), and mda's recalculation writes the very file Dovecot's own does.
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

# --- Maildir++ quota: a Maildir of its own, limits in maildirsize's header.
Q="$D/quota"
mkdir -p "$Q/.mda" "$Q/Maildir/new" "$Q/Maildir/cur" "$Q/Maildir/tmp"
cat > "$Q/.mda/rules" <<'RULES'
if X-Spam-Flag: is "YES" then folder Junk flag seen
if List-Id: ~ /<dev\./ then copy Lists/dev
RULES
printf '1000000S,100C\n' > "$Q/Maildir/maildirsize"
chmod 700 "$Q/.mda"; chmod 600 "$Q/.mda/rules"; chown -R nobody "$Q"
quota_conf() {  # quota_conf FILE [QUOTA_RULE]: Dovecot with the quota plugins
  cat > "$1" <<CONF
mail_location = maildir:$Q/Maildir
log_path = $D/dovecot.log
ssl = no
protocols = imap
mail_plugins = quota
protocol imap {
  mail_plugins = \$mail_plugins imap_quota
}
plugin {
  quota = maildir:User quota
  ${2:+quota_rule = $2}
}
CONF
  chmod 644 "$1"
}
quota_conf "$D/quota-header.conf"
quota_conf "$D/quota-rule.conf" '*:storage=1000000B:messages=100'
qdeliver() {
  printf "$1" | timeout 20 runuser -u nobody -- env -i HOME="$Q" RECIPIENT=bob@example.org \
    LOCAL_PART=bob DOMAIN=example.org SENDER=alice@example.org "$D/bin/mda"
}
qimap() {  # qimap CONF: Dovecot's GETQUOTAROOT INBOX
  printf 'a GETQUOTAROOT INBOX\r\nz LOGOUT\r\n' | timeout 20 runuser -u nobody -- env -i HOME="$Q" \
    USER=nobody "$IMAP" -c "$1" 2>> "$D/dovecot.log" | tr -d '\r' | grep '^\* QUOTA '
}
actual() {  # bytes and messages really in the Maildir: every file of new/ and cur/
  find "$Q/Maildir" -path '*/new/*' -type f -o -path '*/cur/*' -type f | {
    bytes=0 n=0; while read -r f; do bytes=$((bytes + $(stat -c %s "$f"))); n=$((n + 1)); done
    echo "$bytes $n"; }
}
for i in 1 2 3; do
  qdeliver "Subject: plain $i\nMessage-ID: <q$i@x>\n\n$(printf '%*s' $((i * 700)) '' | tr ' ' b)\n" || fail "quota delivery $i"
done
qdeliver 'X-Spam-Flag: YES\nSubject: spam\nMessage-ID: <q4@x>\n\nb\n' || fail "quota delivery 4"
qdeliver 'List-Id: <dev.lists.example.org>\nSubject: list\nMessage-ID: <q5@x>\n\nb\n' || fail "quota delivery 5"
read -r bytes n <<< "$(actual)"
[ "$n" = 6 ] && pass "six messages stored (a copy counts)" || fail "stored: $n"
sum=$(awk 'NR > 1 { b += $1; c += $2 } END { print b " " c }' "$Q/Maildir/maildirsize")
[ "$sum" = "$bytes $n" ] && pass "maildirsize lines add up to what is stored ($sum)" || fail "maildirsize says $sum, the Maildir has $bytes $n"
want="* QUOTA \"User quota\" (STORAGE $(( (bytes + 1023) / 1024 )) 977 MESSAGE $n 100)"
out=$(qimap "$D/quota-header.conf")
[ "$out" = "$want" ] && pass "Dovecot reads mda's maildirsize: $out" || fail "Dovecot: '$out', want '$want'"
# mda's recalculation (the file grown past 5120 bytes) and Dovecot's (maildirsize removed,
# limits configured: Dovecot rebuilds it) write the same file.
cp "$Q/Maildir/maildirsize" "$D/maildirsize.kept"
{ cat "$D/maildirsize.kept"; for i in $(seq 1400); do echo '0 0'; done; } > "$Q/Maildir/maildirsize"
chown nobody "$Q/Maildir/maildirsize"
qdeliver 'Subject: after\nMessage-ID: <q6@x>\n\nb\n' || fail "quota delivery 6"
read -r bytes n <<< "$(actual)"
mda_file=$(cat "$Q/Maildir/maildirsize")
rm "$Q/Maildir/maildirsize"
out=$(qimap "$D/quota-rule.conf")
dovecot_file=$(cat "$Q/Maildir/maildirsize" 2>/dev/null || echo missing)
[ "$dovecot_file" = "$(printf '1000000S,100C\n%s %s' "$bytes" "$n")" ] && pass "Dovecot's recalculation: $bytes bytes, $n messages" || fail "Dovecot wrote: $dovecot_file (the Maildir: $bytes $n)"
mda_sum=$(awk 'NR > 1 { b += $1; c += $2 } END { print b " " c }' <<< "$mda_file")
[ "$(wc -l <<< "$mda_file")" = 3 ] && [ "$mda_sum" = "$bytes $n" ] && pass "mda's recalculation agrees: $(tr '\n' '|' <<< "$mda_file")" || fail "mda recalculated: $mda_file"
# Over the limit: Dovecot's view and mda's agree that the next message does not fit.
printf '1000000S,%sC\n%s %s\n' "$n" "$bytes" "$n" > "$Q/Maildir/maildirsize"; chown nobody "$Q/Maildir/maildirsize"
out=$(qimap "$D/quota-header.conf")
grep -q "MESSAGE $n $n)" <<< "$out" && pass "Dovecot sees the quota full: $out" || fail "Dovecot: $out"
rc=0; qdeliver 'Subject: one too many\nMessage-ID: <q7@x>\n\nb\n' > "$D/over.out" 2>&1 || rc=$?
[ "$rc" = 75 ] && grep -q "mailbox full: $n of $n messages in use" "$D/over.out" && pass "mda defers the next one (exit 75): $(cat "$D/over.out")" || fail "over quota: exit $rc: $(cat "$D/over.out")"
[ "$(actual)" = "$bytes $n" ] && pass "nothing stored over quota" || fail "stored over quota: $(actual)"

grep -q 'Error\|Panic\|Fatal' "$D/dovecot.log" 2>/dev/null && fail "Dovecot complained: $(cat "$D/dovecot.log")" || pass "Dovecot logged no error"

echo "dovecot_imap_e2e: $failures failure(s)"
[ "$failures" = 0 ]
