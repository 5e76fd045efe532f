"""The generated message corpus shared by the MIME differential tests
(test_mime_python.py against Python's email package, test_mime_dovecot.py
against Dovecot's IMAP server).

corpus() returns the same list of raw messages (bytes) on every call: 240
generated from a fixed seed (plain, multipart/mixed, alternative, related and
digest, attachments, nested message/rfc822, groups, comments, quoted local
parts, encoded words in many charsets, RFC 2231 parameters, folded headers,
every tenth with LF-only line ends) followed by MALFORMED, hand-written
broken mail.
"""

import random

GENERATED = 240

ADDRESSES = [
    "alice@example.com",
    "Alice Example <alice@example.com>",
    '"Example, Bob" <bob@example.org>',
    "carol@example.net (Carol C)",
    '"quoted local"@example.com',
    "=?utf-8?q?J=C3=B6rg?= <joerg@example.de>",
    "<@route.example:dave@example.com>",
    "John Q. Public <jqp@example.com>",
    "eve@[192.0.2.1]",
    "=?iso-8859-2?q?Pawe=B3?= <pawel@example.pl>",
    "=?koi8-r?b?6dfBzg==?= <ivan@example.ru>",
    "=?shift_jis?b?k2qWe4zq?= <taro@example.jp>",
]
GROUPS = ["undisclosed-recipients:;", "Friends: a@example.com, B <b@example.com>;"]
SUBJECTS = [
    "hello",
    "=?iso-8859-1?q?caf=E9?= time",
    'with "quotes" and \\',
    "folded\r\n subject line",
    "  spaced  ",
    "=?utf-8?b?8J+Mjstandard?=",
    "=?windows-1252?q?=93smart=94_quotes?=",
    "=?gb2312?b?1tDOxA==?= and =?big5?b?pKSk5Q==?=",
    "=?iso-2022-jp?b?GyRCRnxLXDhsGyhC?=",
    "=?utf-8?q?multi?= =?utf-8?q?_word?=",
    "=?bogus-charset?q?x?= =?utf-8?x?bad-encoding?=",
]
RFC2231 = [
    "Content-Disposition: attachment;\r\n filename*=utf-8''%E2%82%AC%20rates.pdf",
    "Content-Disposition: attachment;\r\n filename*0*=iso-8859-1'fr'caf%E9;\r\n"
    " filename*1=\" menu.txt\"",
    "Content-Disposition: attachment; filename*0=\"long \"; filename*1=\"name\";"
    " filename*2=\".doc\"",
]


def rand_addrs(rng, allow_group=True):
    items = rng.sample(ADDRESSES, rng.randint(1, 3))
    if allow_group and rng.random() < 0.2:
        items.append(rng.choice(GROUPS))
    return ", ".join(items)


def gen_headers(rng):
    h = []
    if rng.random() < 0.9:
        h.append("From: " + rand_addrs(rng, allow_group=False))
    if rng.random() < 0.8:
        h.append("To: " + rand_addrs(rng))
    if rng.random() < 0.4:
        h.append("Cc: " + rand_addrs(rng))
    if rng.random() < 0.2:
        h.append("Reply-To: " + rand_addrs(rng, allow_group=False))
    if rng.random() < 0.8:
        h.append("Subject: " + rng.choice(SUBJECTS))
    if rng.random() < 0.8:
        h.append("Date: Mon, 7 Feb 1994 21:52:25 -0800")
    if rng.random() < 0.7:
        h.append("Message-ID: <%d@example.com>" % rng.randint(1, 10**9))
    if rng.random() < 0.3:
        h.append("In-Reply-To: <parent@example.com>")
    return h


def gen_text(rng):
    lines = [rng.choice(["Hello world.", "", "Line with trailing space ", "=3D qp", "caf\xe9"])
             for _ in range(rng.randint(0, 6))]
    return "\r\n".join(lines) + ("\r\n" if rng.random() < 0.7 else "")


def gen_leaf(rng):
    kind = rng.randint(0, 6)
    if kind == 0:
        return [], gen_text(rng)
    if kind == 1:
        return ["Content-Type: text/plain; charset=utf-8; format=flowed",
                "Content-Transfer-Encoding: quoted-printable"], gen_text(rng)
    if kind == 2:
        return ['Content-Type: text/html; charset="us-ascii"',
                "Content-Language: en, de"], "<p>hi</p>\r\n"
    if kind == 3:
        return ['Content-Type: application/octet-stream; name="a b.bin"',
                "Content-Transfer-Encoding: base64",
                'Content-Disposition: attachment;\r\n filename="a b.bin"',
                "Content-ID: <part%d@example.com>" % rng.randint(1, 999),
                "Content-Description: a (binary) file"], "AAECAwQF\r\nBgcICQ==\r\n"
    if kind == 4:
        return ["Content-Type: image/png", "Content-Transfer-Encoding: BASE64",
                "Content-Disposition: inline", "Content-Location: logo.png",
                "Content-MD5: Q2hlY2sgSW50ZWdyaXR5IQ=="], "iVBORw0KGgo=\r\n"
    if kind == 5:
        return ["Content-Type: TEXT/Plain; Charset=ISO-8859-1 (comment)"], gen_text(rng)
    # RFC 2231 parameter values: charset, language, continuations
    return ["Content-Type: application/pdf", "Content-Transfer-Encoding: base64",
            rng.choice(RFC2231)], "JVBERi0xLjQK\r\n"


def gen_part(rng, depth):
    """Returns (header lines, body text) of one MIME entity."""
    choice = rng.random()
    if depth < 4 and choice < 0.3:
        sub = rng.choice(["mixed", "alternative", "related", "digest"])
        b = "=_b%d_%d" % (depth, rng.randint(0, 10**6))
        quote = rng.random() < 0.5
        hdr = ["Content-Type: multipart/%s; boundary=%s" % (sub, '"%s"' % b if quote else b)]
        if not quote:
            hdr = ["Content-Type: multipart/%s;\r\n\tboundary=%s" % (sub, b)]
        body = "This is a MIME preamble.\r\n" if rng.random() < 0.5 else ""
        for _ in range(rng.randint(1, 3)):
            if sub == "digest":
                ch, cb = [], gen_message(rng, depth + 1)
            else:
                ch, cb = gen_part(rng, depth + 1)
            body += "--%s\r\n%s\r\n%s\r\n" % (b, "".join(x + "\r\n" for x in ch), cb)
        body += "--%s--\r\n" % b
        if rng.random() < 0.3:
            body += "epilogue text\r\n"
        return hdr, body
    if depth < 4 and choice < 0.4:
        return ["Content-Type: message/rfc822"], gen_message(rng, depth + 1)
    return gen_leaf(rng)


def gen_message(rng, depth=0):
    hdr, body = gen_part(rng, depth)
    while hdr == ["Content-Type: message/rfc822"]:
        # a message whose own type is message/rfc822 nests without a part
        # number of its own; kept out of the corpus for the path bookkeeping
        hdr, body = gen_part(rng, depth)
    top = gen_headers(rng) + ["MIME-Version: 1.0"] + hdr
    return "".join(x + "\r\n" for x in top) + "\r\n" + body


HDR = "From: a@example.com\r\nTo: b@example.com\r\nSubject: broken\r\nMIME-Version: 1.0\r\n"

# Broken mail, each one case from docs/mime.md "Broken mail".
MALFORMED = [
    # missing close delimiter
    HDR + "Content-Type: multipart/mixed; boundary=X\r\n\r\n--X\r\n\r\none\r\n--X\r\n\r\ntwo\r\n",
    # boundary never appears
    HDR + "Content-Type: multipart/mixed; boundary=X\r\n\r\njust text\r\n",
    # multipart without a boundary parameter
    HDR + "Content-Type: multipart/alternative\r\n\r\n--X\r\n\r\ntext\r\n--X--\r\n",
    # delimiter with trailing junk
    HDR + "Content-Type: multipart/mixed; boundary=X\r\n\r\n--X junk\r\n\r\none\r\n"
    "--X--junk\r\n",
    # part header without an empty line
    HDR + "Content-Type: multipart/mixed; boundary=X\r\n\r\n--X\r\nContent-Type: text/plain\r\n"
    "--X--\r\n",
    # header line without a colon
    HDR + "this is not a header\r\nX-After: y\r\n\r\nbody\r\n",
    # obsolete "Name : value"
    "From : a@example.com\r\nSubject : spaced colon\r\n\r\nbody\r\n",
    # 8-bit header values
    "From: J\xf6rg <j@example.com>\r\nSubject: caf\xe9 cr\xe8me\r\n\r\nbody\r\n",
    # unquoted tspecials in a boundary
    HDR + "Content-Type: multipart/mixed; boundary==_x?y\r\n\r\n--=_x?y\r\n\r\nx\r\n--=_x?y--\r\n",
    # encoded message/rfc822 (RFC 2046 5.2.1 forbids it)
    HDR + "Content-Type: message/rfc822\r\nContent-Transfer-Encoding: base64\r\n\r\n"
    "U3ViamVjdDogeA0KDQp5DQo=\r\n",
    # no header at all
    "\r\njust a body\r\n",
    # empty message
    "",
    # header only, no body and no empty line
    "Subject: only a header\r\n",
    # no final newline
    "Subject: x\r\n\r\nno newline at end",
    # unbalanced address syntax
    "From: <broken@example.com\r\nTo: \"unterminated <x@example.com>\r\nCc: @,@@,;\r\n\r\nb\r\n",
    # address without domain / local part
    "From: nodomain, @example.com\r\nTo: group: ;\r\n\r\nb\r\n",
    # Content-Type without subtype, and garbage
    "Content-Type: text\r\n\r\nbody\r\n",
    "Content-Type: ;;;=\r\nContent-Transfer-Encoding: \r\n\r\nbody\r\n",
    # duplicate Content-Type fields
    "Content-Type: text/html\r\nContent-Type: image/gif\r\n\r\nbody\r\n",
    # nested multiparts, inner one never closed
    HDR + "Content-Type: multipart/mixed; boundary=A\r\n\r\n--A\r\n"
    "Content-Type: multipart/alternative; boundary=B\r\n\r\n--B\r\n\r\nin\r\n--A\r\n\r\n"
    "second\r\n--A--\r\n",
    # bad encoded words
    "Subject: =?utf-8?q?unterminated\r\nFrom: =?x?y?z?= <a@example.com>\r\n\r\nb\r\n",
    # very long header line
    "Subject: " + "x" * 3000 + "\r\n\r\nb\r\n",
    # parameter with empty and duplicate values
    'Content-Type: text/plain; charset=""; charset=utf-8; name=\r\n\r\nb\r\n',
    # message/rfc822 body that is empty
    HDR + "Content-Type: message/rfc822\r\n\r\n",
]


def corpus():
    """The raw messages, always the same list."""
    rng = random.Random(20261122)
    out = []
    for i in range(GENERATED):
        raw = gen_message(rng).encode("latin-1")
        if i % 10 == 9:
            raw = raw.replace(b"\r\n", b"\n")  # LF-only mail
        out.append(raw)
    return out + [m.encode("latin-1") for m in MALFORMED]
