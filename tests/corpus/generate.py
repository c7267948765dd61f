#!/usr/bin/env python3
"""Writes the corpus: messages/NNN-category.eml and expected.tsv (message, destination).

Each category is built for one reason to land somewhere under tests/corpus/rules; the
expected destination comes from that reason, not from running mda. Deterministic (seeded).
Run from anywhere: python3 tests/corpus/generate.py
"""
import base64
import os
import random

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.join(HERE, "messages")
rng = random.Random(20261125)
messages = []  # (name, bytes, expected)


def msg(category, headers, body="Hello,\nthis is the body.\n", expected="INBOX", crlf=False,
        from_line=False, blank=True):
    text = "\n".join(headers) + ("\n\n" + body if blank else "")
    if crlf:
        text = text.replace("\n", "\r\n")
    if from_line:
        text = "From sender@example.org Wed Nov 25 04:28:04 2026\n" + text
    name = "%03d-%s.eml" % (len(messages) + 1, category)
    messages.append((name, text.encode("latin-1"), expected))


def base(n, sender="someone@example.net", subject=None):
    return ["Received: from mx%d.example.net by mail.example.com with esmtp (Exim 4.96)" % n,
            "From: %s" % sender, "To: bob@example.com",
            "Subject: %s" % (subject or "message %d" % n),
            "Date: Wed, 25 Nov 2026 08:%02d:00 +0000" % (n % 60),
            "Message-ID: <%d.%d@example.net>" % (n, rng.randrange(10**9))]


n = 0
# 1. X-Spam-Score: negative, padded, three decimals, exactly at the threshold, no number.
for value, expected in [("-2.5", "INBOX"), ("-0.4", "INBOX"), ("0012.3", "Junk"), ("5.0", "Junk"),
                        ("5.00", "Junk"), ("5", "Junk"), ("4.999", "INBOX"), ("12.641", "Junk"),
                        ("7,3", "INBOX"), ("high", "INBOX"), ("  6.1  ", "Junk"), ("+5.5", "Junk"),
                        ("1.2.3", "INBOX"), ("4.9", "INBOX"), ("100", "Junk"), ("0", "INBOX")]:
    for variant in range(3):
        n += 1
        msg("spam-score", base(n) + ["X-Spam-Score: " + value], expected=expected,
            crlf=variant == 1, from_line=variant == 2)
# 2. SpamAssassin's X-Spam-Status, folded, Yes and No.
for i in range(12):
    n += 1
    yes = i % 2 == 0
    score = rng.choice(["7.3", "12.0", "5.1"]) if yes else rng.choice(["-1.0", "2.4", "0.0"])
    status = ["X-Spam-Status: %s, score=%s required=5.0 tests=BAYES_99," % ("Yes" if yes else "No", score),
              "\tHTML_MESSAGE,URIBL_BLACK autolearn=no", "\tautolearn_force=no version=3.4.6"]
    msg("spam-status-folded", base(n) + status, expected="Junk" if yes else "INBOX", crlf=i % 3 == 0)
# 3. X-Spam-Flag: YES, yes, NO, and duplicated headers (any occurrence counts).
for flags, expected in [(["YES"], "Junk"), (["yes"], "Junk"), (["NO"], "INBOX"), (["NO", "YES"], "Junk"),
                        (["NO", "NO"], "INBOX"), (["Yes "], "Junk"), (["YESS"], "INBOX")]:
    for variant in range(3):
        n += 1
        msg("spam-flag", base(n) + ["X-Spam-Flag: " + f for f in flags], expected=expected, crlf=variant == 1)
# 4. List-Id: plain, folded, upper case, and look-alikes that must not match.
lists = ["dev", "announce", "ops-team", "users"]
for i in range(16):  # every list in every form
    n += 1
    name = lists[i // 4]
    form = i % 4
    if form == 0:
        lid = ["List-Id: <%s.lists.example.org>" % name]
        exp = "Lists/" + name
    elif form == 1:
        lid = ["List-Id: The %s list" % name, " <%s.lists.example.org>" % name]
        exp = "Lists/" + name
    elif form == 2:
        lid = ["LIST-ID: <%s.LISTS.EXAMPLE.ORG>" % name.upper()]
        exp = "Lists/" + name.upper()
    else:
        lid = ["List-Id: =?UTF-8?Q?Liste_f=C3=BCr_" + name + "?= <" + name + ".lists.example.org>"]
        exp = "Lists/" + name
    msg("list-id", base(n) + lid + ["Precedence: list"], expected=exp, from_line=i % 5 == 0)
for lookalike in ["<dev.lists.example.org.evil.com>", "<dev.lists-example.org>", "<dev.lists.example.organic>",
                  "<dev.lists.examplexorg>", "dev.lists.example.org", "<dev..lists.example.org>",
                  "<d_v.lists.example.org>", "<dev.lists.example.org"]:
    n += 1
    msg("list-id-lookalike", base(n) + ["List-Id: " + lookalike], expected="INBOX")
# 5. [ALERT]: plain, split over two encoded words, in ISO-8859-1 Q words, and not quite.
alert_subjects = [
    ("[ALERT] disk full on db1", True),
    ("=?UTF-8?Q?=5BAL?= =?UTF-8?Q?ERT=5D_disk_full?=", True),
    ("=?UTF-8?B?W0FM?=\n =?UTF-8?B?RVJUXSBsb2FkIGhpZ2g=?=", True),
    ("=?ISO-8859-1?Q?=5BALERT=5D_Temp=E9rature_=E9lev=E9e?=", True),
    ("=?iso-8859-1?q?caf=E9?= [ALERT] coffee machine", True),
    ("[alert] lower case is not an alert", False),
    ("[ALER T] broken", False),
    ("=?UTF-8?Q?=5BALERT?= no closing bracket", False),
]
for i in range(3):
    for subject, is_alert in alert_subjects:
        n += 1
        headers = base(n, subject=subject)
        msg("alert", headers, expected="Alerts,INBOX" if is_alert else "INBOX", crlf=i == 1)
# 6. Work mail by address, and phishing display names that must not pass as Work.
for i in range(12):
    n += 1
    sender = rng.choice(["Boss <boss@example.com>", "carol@example.com", "\"Dave (IT)\" <dave@EXAMPLE.COM>",
                         "eve@example.com (Eve)"])
    msg("work", base(n, sender=sender), expected="Work")
for sender in ["\"boss@example.com\" <ceo@evil.net>", "boss@example.com <phish@evil.net>",
               "\"IT support <it@example.com>\" <it@evil.net>", "Boss <boss@example.com.evil.net>",
               "boss@example.company.net", "undisclosed-recipients:;", "team: <a@evil.net>;",
               "=?UTF-8?Q?boss=40example=2Ecom?= <x@evil.net>"]:
    n += 1
    msg("phishing-display-name", base(n, sender=sender), expected="INBOX")
# 7. A forwarded message whose inner header carries every trigger: the outer header decides.
for i in range(8):
    n += 1
    inner = ("From: boss@example.com\nSubject: [ALERT] inner\nX-Spam-Flag: YES\nX-Spam-Score: 99\n"
             "List-Id: <dev.lists.example.org>\n\ninner body\n")
    body = ("--b%d\nContent-Type: text/plain\n\nSee the forwarded message.\n--b%d\n"
            "Content-Type: message/rfc822\n\n%s--b%d--\n" % (i, i, inner, i))
    msg("forwarded-rfc822", base(n) + ["MIME-Version: 1.0",
                                       "Content-Type: multipart/mixed; boundary=\"b%d\"" % i],
        body=body, expected="INBOX", crlf=i % 2 == 1)
# 8. Headers only: no blank line, the last header decides.
for i, (last, expected) in enumerate([("X-Spam-Flag: YES", "Junk"), ("X-Spam-Score: 9", "Junk"),
                                      ("List-Id: <dev.lists.example.org>", "Lists/dev"),
                                      ("Subject: [ALERT] headers only", "Alerts,INBOX"),
                                      ("X-Other: 1", "INBOX")] * 2):
    n += 1
    msg("headers-only", base(n)[:4] + [last], expected=expected, blank=False, crlf=i >= 5)
# 9. Malformed lines inside the header do not end it; a body line that looks like a header is body.
for i in range(6):
    n += 1
    headers = base(n) + ["this line has no colon", ">From quoted line", "X-Spam-Score: 8.5"]
    msg("malformed-header-line", headers, expected="Junk", crlf=i % 2 == 0)
for i in range(6):
    n += 1
    msg("header-in-body", base(n), body="X-Spam-Flag: YES\nList-Id: <dev.lists.example.org>\n",
        expected="INBOX")
# 10. Newsletters by body text, quoted-printable and base64 encoded.
for i in range(8):
    n += 1
    text = "Our news.\nTo stop these mails, UNSUBSCRIBE HERE: https://news.example.net/u\n"
    if i % 2 == 0:
        body, cte = base64.encodebytes(text.encode()).decode(), "base64"
    else:
        body, cte = text.replace("UNSUBSCRIBE HERE", "UNSUBSCRIBE=20HERE"), "quoted-printable"
    msg("newsletter-body", base(n) + ["MIME-Version: 1.0", "Content-Type: text/plain; charset=utf-8",
                                      "Content-Transfer-Encoding: " + cte], body=body, expected="Newsletters")
for i in range(4):
    n += 1
    att = base64.encodebytes(b"unsubscribe here " * 10).decode()
    body = ("--z\nContent-Type: text/plain\n\nno link in the text\n--z\nContent-Type: application/octet-stream\n"
            "Content-Transfer-Encoding: base64\n\n%s--z--\n" % att)
    msg("newsletter-only-in-attachment", base(n) + ["Content-Type: multipart/mixed; boundary=z"], body=body,
        expected="INBOX")
# 11. Large messages.
for i in range(4):
    n += 1
    payload = "".join(rng.choice("abcdefghijklmnopqrstuvwxyz ") for _ in range(76)) + "\n"
    msg("large", base(n), body=payload * (1500 + 300 * i), expected="Large")
# 12. 8-bit and invalid UTF-8 headers, NUL bytes: no trigger, INBOX; with a trigger, sorted.
for i in range(4):
    n += 1
    msg("eight-bit", base(n, subject="caf\xe9 \xff\xfe") + ["X-Note: \x80\x81"], body="a\x00b\n", expected="INBOX")
    n += 1
    msg("eight-bit-spam", base(n, subject="\xff [ALERT] \xfe") + ["X-Spam-Flag: YES"], expected="Junk")

# 13. Attachment names (issue 19): RFC 2231 sections with a charset, RFC 2047 inside the
# quotes, a zip named only in Content-Type, an .exe inside a forwarded message; near misses.
def with_parts(n, parts, crlf=False, expected="INBOX", category="attachment"):
    body = "--p\nContent-Type: text/plain\n\nSee attached.\n"
    for headers, payload in parts:
        body += "--p\n" + "\n".join(headers) + "\n\n" + payload + "\n"
    body += "--p--\n"
    msg(category, base(n) + ["MIME-Version: 1.0", "Content-Type: multipart/mixed; boundary=p"],
        body=body, expected=expected, crlf=crlf)
for i, (headers, expected) in enumerate([
        (["Content-Type: application/octet-stream",
          "Content-Disposition: attachment;",
          " filename*0*=utf-8''%E2%82%AC%20invoice;", " filename*1=\".pdf\";", " filename*2*=%2Eexe"],
         "Quarantine"),
        (["Content-Type: application/octet-stream; name=\"=?UTF-8?B?UmVjaG51bmcuc2Ny?=\""], "Quarantine"),
        (["Content-Type: application/octet-stream; name=invoice.ZIP"], "Quarantine"),
        (["Content-Type: application/pdf", "Content-Disposition: attachment; filename*=iso-8859-1''R%E9sum%E9.js"],
         "Quarantine"),
        (["Content-Type: text/plain; name=\"setup.exe.txt\""], "INBOX"),
        (["Content-Type: application/pdf", "Content-Disposition: attachment; filename=\"report.exe.pdf\""], "INBOX"),
        (["Content-Type: application/pdf", "Content-Disposition: inline"], "INBOX"),
]):
    for crlf in (False, True):
        n += 1
        with_parts(n, [(headers, "QUFBQQ==")], crlf=crlf, expected=expected)
for i in range(2):
    n += 1
    inner = ("Subject: inner\nContent-Type: multipart/mixed; boundary=q\n\n--q\nContent-Type: text/plain\n\n"
             "x\n--q\nContent-Type: application/x-msdownload\n"
             "Content-Disposition: attachment; filename=\"setup.exe\"\n\nMZ\n--q--")
    with_parts(n, [(["Content-Type: message/rfc822"], inner)], crlf=i == 1, expected="Quarantine",
               category="attachment-forwarded")
    n += 1
    msg("attachment-name-in-body", base(n), body="Please run setup.exe from the share.\n", expected="INBOX")
# 14. A list's announcements apart from its talk: a block with an else, the outer $1 inside.
for i, (subject, expected) in enumerate([("[ANNOUNCE] 2.0 released", "Lists/dev/announce"),
                                         ("question about [ANNOUNCE]", "Lists/dev/announce"),
                                         ("an announcement", "Lists/dev"), ("[ANNOUNCE ] typo", "Lists/dev")]):
    n += 1
    msg("list-announce", base(n, subject=subject) + ["List-Id: <dev.lists.example.org>"], expected=expected,
        crlf=i % 2 == 1)
# 15. The gateway's tag edited off the subject: never Unedited; the edited subject is tested.
for i, (subject, expected) in enumerate([("[EXTERNAL] lunch?", "INBOX"),
                                         ("[EXTERNAL] [ALERT] disk full", "Alerts,INBOX"),
                                         ("=?UTF-8?Q?=5BEXTERNAL=5D_caf=C3=A9?=", "INBOX"),
                                         ("Re: [EXTERNAL] lunch?", "INBOX")]):
    n += 1
    msg("external-tag", base(n, subject=subject), expected=expected, crlf=i % 2 == 1)
# 16. Flags: urgent mail is flagged wherever it goes, copies included.
for i, (extra, expected) in enumerate([(["X-Priority: 1 (Highest)"], "INBOX:F"),
                                       (["X-Priority: 1", "X-Spam-Flag: YES"], "Junk:F"),
                                       (["X-Priority: 1"], "Alerts,INBOX:F"),
                                       (["X-Priority: 10"], "INBOX"), (["X-Priority: 3"], "INBOX")]):
    n += 1
    msg("priority-flag", base(n, subject="[ALERT] x" if i == 2 else None) + extra, expected=expected)

os.makedirs(OUT, exist_ok=True)
for f in os.listdir(OUT):
    os.remove(os.path.join(OUT, f))
with open(os.path.join(HERE, "expected.tsv"), "w") as tsv:
    tsv.write("# message\tdestination(s) under tests/corpus/rules; written by generate.py\n")
    for name, data, expected in messages:
        with open(os.path.join(OUT, name), "wb") as f:
            f.write(data)
        tsv.write("%s\t%s\n" % (name, expected))
print("%d messages" % len(messages))
