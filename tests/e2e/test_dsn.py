"""Bounces, delay warnings and SRS (docs/queue.md "Bounces" and "SRS").

The reports bounce_write() puts into the spool, made by the bounce-dump
driver (tests/unit/queue/bounce-dump.c, built beside the unit tests) from
envelope and data files written here, are parsed with Python's email
package: multipart/report with the RFC 3464 fields (Status 5.1.1,
Final-Recipient, Original-Recipient from ORCPT, Original-Envelope-Id from
ENVID), the original's header section or the whole message (RET=FULL), the
RFC 6533 types for SMTPUTF8, a DKIM signature dkimpy verifies; NOTIFY=NEVER
and a null sender give no report. Through a running server: mail an alias
forwards leaves with an SRS0 sender, and mail to that SRS address is
accepted and spooled back to the original sender.

Run: /usr/bin/python3 -m pytest tests/e2e/test_dsn.py
(TERN_BOUNCE_DUMP=path/to/bounce-dump, else the one beside $TERN_BIN)
"""
import email
import email.utils
import os
import re
import smtplib
import subprocess

import pytest

from conftest import TERN_BIN

HOSTNAME = "mail.example.test"
ORIGINAL = (b"Return-Path: <alice@a.test>\r\n"
            b"Received: from client.a.test by mail.example.test\r\n"
            b"From: Alice <alice@a.test>\r\nTo: bob@remote.test\r\n"
            b"Subject: the original subject\r\nMessage-ID: <orig.1@a.test>\r\n\r\n"
            b"the original body, line one\r\n")
SKIP = len(b"Return-Path: <alice@a.test>\r\n")


def find_dump():
    path = os.environ.get("TERN_BOUNCE_DUMP")
    if path:
        return path
    return os.path.join(os.path.dirname(TERN_BIN), "tests", "unit", "queue", "bounce-dump")


DUMP = find_dump()


def xtext(s):
    return "".join("%%%02X" % b if b <= 0x20 or b in (0x25, 0x7F) else chr(b)
                   for b in s.encode())


def envelope(sender="alice@a.test", rcpts=None, **fields):
    """A spool envelope (docs/queue.md, version 1)."""
    rcpts = rcpts or [("bob@remote.test", "")]
    lines = ["tern-envelope 1", "id 0661ba2fed5bf4f1dab2cf1f", "arrival 1764766000",
             "size %d" % (len(ORIGINAL) - SKIP), "data-skip %d" % SKIP, "from <%s>" % sender]
    lines += ["%s %s" % (k, xtext(v)) for k, v in fields.items()]
    lines.append("client 192.0.2.7")
    lines += ["rcpt <%s>%s" % (addr, params) for addr, params in rcpts]
    return "\n".join(lines + ["end", ""])


def bounce(tmp_path, env_text, action="failed", status="5.1.1",
           diag="550 5.1.1 <bob@remote.test>: Recipient address rejected: User unknown",
           remote="mx.remote.test", data_dir=None, original=ORIGINAL):
    """Run bounce-dump; the new entry as (envelope text, message bytes), or
    None when it wrote nothing."""
    data_dir = data_dir or str(tmp_path / "data")
    os.makedirs(data_dir, exist_ok=True)
    (tmp_path / "in.env").write_text(env_text)
    (tmp_path / "in.msg").write_bytes(original)
    proc = subprocess.run([DUMP, data_dir, HOSTNAME, str(tmp_path / "in.env"),
                           str(tmp_path / "in.msg"), action, status, diag, remote],
                          capture_output=True, timeout=30)
    assert proc.returncode == 0, proc.stderr.decode()
    out = proc.stdout.decode().strip()
    qdir = os.path.join(data_dir, "queue")
    if out == "none":
        assert not any(n.endswith(".env") for n in os.listdir(qdir))
        return None
    assert re.fullmatch(r"[0-9a-f]{24}", out), out
    with open(os.path.join(qdir, out + ".env")) as f:
        env = f.read()
    with open(os.path.join(qdir, out + ".msg"), "rb") as f:
        return env, f.read()


def status_blocks(part):
    """The per-message block, then one per recipient, of a
    message/delivery-status part."""
    blocks = part.get_payload()
    assert isinstance(blocks, list) and len(blocks) >= 2, blocks
    return blocks[0], blocks[1:]


def test_bounce_is_rfc3464(tmp_path):
    env_text = envelope(envid="QQ314159", ret="HDRS",
                        rcpts=[("bob@remote.test", " index=0 orcpt=rfc822;Bob@Remote.test")])
    env, raw = bounce(tmp_path, env_text)
    assert "\nfrom <>\n" in env and "\nrcpt <alice@a.test> index=0 notify=NEVER\n" in env
    assert b"\n" not in raw.replace(b"\r\n", b"")
    msg = email.message_from_bytes(raw)
    assert msg.get_content_type() == "multipart/report"
    assert msg.get_param("report-type") == "delivery-status"
    assert email.utils.parseaddr(msg["From"])[1] == "MAILER-DAEMON@" + HOSTNAME
    assert email.utils.parseaddr(msg["To"])[1] == "alice@a.test"
    assert msg["Subject"] == "Undelivered Mail Returned to Sender"
    assert msg["Auto-Submitted"] == "auto-replied"
    assert email.utils.parsedate_to_datetime(msg["Date"]).year >= 2026
    assert msg["Message-ID"].endswith("@" + HOSTNAME + ">")
    parts = msg.get_payload()
    assert [p.get_content_type() for p in parts] == [
        "text/plain", "message/delivery-status", "text/rfc822-headers"]
    text = parts[0].get_payload()
    assert "<bob@remote.test>" in text and "User unknown" in text
    per_msg, per_rcpt = status_blocks(parts[1])
    assert per_msg["Reporting-MTA"] == "dns; " + HOSTNAME
    assert per_msg["Original-Envelope-Id"] == "QQ314159"
    assert email.utils.parsedate_to_datetime(per_msg["Arrival-Date"]).timestamp() == 1764766000
    assert len(per_rcpt) == 1
    r = per_rcpt[0]
    assert r["Original-Recipient"] == "rfc822;Bob@Remote.test"
    assert r["Final-Recipient"] == "rfc822; bob@remote.test"
    assert r["Action"] == "failed"
    assert r["Status"] == "5.1.1"
    assert r["Remote-MTA"] == "dns; mx.remote.test"
    assert r["Diagnostic-Code"].startswith("smtp; 550 5.1.1 <bob@remote.test>")
    assert r["Last-Attempt-Date"] is not None and r["Will-Retry-Until"] is None
    # the original's header section, without the Return-Path and the body
    headers = email.message_from_string(parts[2].get_payload())
    assert headers["Subject"] == "the original subject"
    assert headers["Message-ID"] == "<orig.1@a.test>"
    assert "Return-Path" not in parts[2].get_payload()
    assert b"the original body" not in raw


def test_ret_full_returns_the_message(tmp_path):
    _, raw = bounce(tmp_path, envelope(ret="FULL"))
    parts = email.message_from_bytes(raw).get_payload()
    assert parts[2].get_content_type() == "message/rfc822"
    inner = parts[2].get_payload()[0]
    assert inner["Subject"] == "the original subject"
    assert inner.get_payload() == "the original body, line one\r\n"


def test_large_original_returns_headers_only(tmp_path):
    big = ORIGINAL + b"x" * 78 + b"\r\n" * 1
    big += (b"y" * 78 + b"\r\n") * (1024 * 1024 // 80 + 10)
    env_text = envelope(ret="FULL").replace(
        "size %d" % (len(ORIGINAL) - SKIP), "size %d" % (len(big) - SKIP))
    _, raw = bounce(tmp_path, env_text, original=big)
    parts = email.message_from_bytes(raw).get_payload()
    assert parts[2].get_content_type() == "text/rfc822-headers"
    assert len(raw) < 64 * 1024


def test_delay_warning(tmp_path):
    _, raw = bounce(tmp_path, envelope(), action="delayed", status="4.4.1",
                    diag="421 4.4.1 try later")
    msg = email.message_from_bytes(raw)
    assert msg["Subject"] == "Delayed Mail (still being retried)"
    _, per_rcpt = status_blocks(msg.get_payload()[1])
    assert per_rcpt[0]["Action"] == "delayed"
    assert per_rcpt[0]["Status"] == "4.4.1"
    until = email.utils.parsedate_to_datetime(per_rcpt[0]["Will-Retry-Until"])
    last = email.utils.parsedate_to_datetime(per_rcpt[0]["Last-Attempt-Date"])
    assert (until - last).days == 5


def test_notify_never_writes_nothing(tmp_path):
    env_text = envelope(rcpts=[("bob@remote.test", " index=0 notify=NEVER")])
    assert bounce(tmp_path, env_text) is None


def test_notify_success_only_is_not_bounced(tmp_path):
    env_text = envelope(rcpts=[("bob@remote.test", " index=0 notify=SUCCESS")])
    assert bounce(tmp_path, env_text) is None
    _, raw = bounce(tmp_path, env_text, action="delivered", status="2.0.0", diag="250 ok")
    assert email.message_from_bytes(raw)["Subject"] == "Successful Mail Delivery Report"


def test_null_sender_writes_nothing(tmp_path):
    assert bounce(tmp_path, envelope(sender="")) is None


def test_smtputf8_is_global(tmp_path):
    env_text = envelope(sender="jörg@a.test", smtputf8="yes",
                        rcpts=[("bäcker@remote.test", " index=0")])
    env, raw = bounce(tmp_path, env_text, diag="550 5.1.1 <bäcker@remote.test> unknown")
    assert "\nsmtputf8 yes\n" in env and "\nbody 8BITMIME\n" in env
    msg = email.message_from_bytes(raw)
    assert msg.get_param("report-type") == "global-delivery-status"
    parts = msg.get_payload()
    assert [p.get_content_type() for p in parts] == [
        "text/plain", "message/global-delivery-status", "message/global-headers"]
    # email parses message/global-* as a message; read the blocks ourselves
    report = raw.split(b"Content-Type: message/global-delivery-status\r\n")[1]
    report = report.split(b"\r\n--=_tern-dsn-")[0].decode("utf-8")
    blocks = [b for b in report.split("\r\n\r\n") if b.strip()]
    assert blocks[0].startswith("Content-Transfer-Encoding: 8bit")
    fields = email.message_from_string(blocks[2])
    assert fields["Final-Recipient"] == "utf-8; bäcker@remote.test"
    assert fields["Status"] == "5.1.1"


def test_bounce_is_dkim_signed(tmp_path):
    dkim = pytest.importorskip("dkim")
    data_dir = str(tmp_path / "data")
    out = subprocess.run([TERN_BIN, "dkim", "keygen", "--data-dir", data_dir, "--domain",
                          "example.test", "--selector", "dsn"],
                         capture_output=True, check=True, timeout=60).stdout.decode()
    txt = "".join(re.findall(r'"([^"]*)"', out))

    def dnsfunc(name, timeout=5):
        name = name.decode() if isinstance(name, bytes) else name
        return txt.encode() if name.rstrip(".") == "dsn._domainkey.example.test" else None

    def verify(msg):
        try:
            return dkim.DKIM(msg).verify(dnsfunc=dnsfunc)
        except dkim.DKIMException:
            return False

    _, raw = bounce(tmp_path, envelope(), data_dir=data_dir)
    assert raw.startswith(b"DKIM-Signature:")
    assert b" d=example.test;" in raw.split(b"\r\nFrom:")[0]
    assert verify(raw)
    # a changed report no longer verifies: the check can fail
    assert not verify(raw.replace(b"Status: 5.1.1", b"Status: 5.1.2"))


# ---- SRS through a running server ----

FORWARD_TO = "friend@remote.test"


def queue_envelopes(inst):
    qdir = os.path.join(inst.dir, "queue")
    found = []
    for name in sorted(os.listdir(qdir)) if os.path.isdir(qdir) else []:
        if name.endswith(".env"):
            with open(os.path.join(qdir, name)) as f:
                found.append(f.read())
    return found


def field(env_text, key):
    return [line.split(" ", 1)[1] for line in env_text.split("\n")
            if line.startswith(key + " ")]


def send(inst, sender, rcpt, body=b"Subject: fwd\r\n\r\nhello\r\n"):
    with smtplib.SMTP("127.0.0.1", inst.port("smtp"), timeout=30) as s:
        s.ehlo("client.test")
        s.mail(sender)
        code, text = s.rcpt(rcpt)
        if code != 250:
            return code, text
        return s.data(body)


@pytest.fixture
def forwarder(instance):
    # the spool as the smtp role leaves it: the queue role delivers nothing
    instance.stop()
    with open(instance.config, "a") as f:
        f.write("\nqueue {\n\tdeliver = no\n}\n")
    instance.start()
    instance.add_user("local@example.test", "correct horse battery staple")
    instance.tern("alias", "add", "fwd@example.test", FORWARD_TO)
    return instance


def test_srs_forward_and_back(forwarder, tmp_path):
    code, text = send(forwarder, "sender@elsewhere.test", "fwd@example.test")
    assert code == 250, text
    (env_text,) = queue_envelopes(forwarder)
    (sender,) = field(env_text, "from")
    m = re.fullmatch(r"<(SRS0=[^=]{4}=[A-Z2-7]{2}=elsewhere\.test=sender@example\.test)>", sender)
    assert m, sender
    srs_address = m.group(1)
    assert field(env_text, "rcpt") == ["<%s> index=0 alias=<fwd@example.test>" % FORWARD_TO]
    secret = os.path.join(forwarder.dir, "srs.secret")
    assert os.stat(secret).st_mode & 0o777 == 0o600

    # a bounce from the final destination to the SRS address comes back
    code, text = send(forwarder, "", srs_address,
                      b"Subject: Undelivered Mail\r\n\r\nsorry\r\n")
    assert code == 250, text
    envs = queue_envelopes(forwarder)
    assert len(envs) == 2
    back = [e for e in envs if e != env_text][0]
    assert field(back, "from") == ["<>"]
    assert field(back, "rcpt") == ["<sender@elsewhere.test> index=0 alias=<%s>" % srs_address]
    # folded to lower case by some MTA on the way: still ours
    code, text = send(forwarder, "", srs_address.lower())
    assert code == 250, text

    # an SRS address we did not make is no address of ours
    forged = srs_address[:5] + ("AAAA" if srs_address[5:9] != "AAAA" else "BBBB") + \
        srs_address[9:]
    code, text = send(forwarder, "", forged)
    assert code == 550, text

    # our own bounce for the forwarded message goes to the original sender
    _, raw = bounce(tmp_path, env_text, data_dir=forwarder.dir)
    msg = email.message_from_bytes(raw)
    assert email.utils.parseaddr(msg["To"])[1] == "sender@elsewhere.test"


def test_local_and_null_senders_are_not_rewritten(forwarder):
    assert send(forwarder, "local@example.test", "fwd@example.test")[0] == 250
    assert send(forwarder, "", "fwd@example.test")[0] == 250
    senders = sorted(field(e, "from")[0] for e in queue_envelopes(forwarder))
    assert senders == ["<>", "<local@example.test>"]
    # nor a local sender writing to an SRS address (routed back as well)
    assert send(forwarder, "other@elsewhere.test", "fwd@example.test")[0] == 250
    srs = [f[1:-1] for e in queue_envelopes(forwarder) for f in field(e, "from")
           if f.startswith("<SRS0=")]
    assert len(srs) == 1, srs
    assert send(forwarder, "local@example.test", srs[0])[0] == 250
    back = [e for e in queue_envelopes(forwarder) if "alias=<%s>" % srs[0] in e]
    assert len(back) == 1
    assert field(back[0], "from") == ["<local@example.test>"]
    assert field(back[0], "rcpt") == ["<other@elsewhere.test> index=0 alias=<%s>" % srs[0]]
