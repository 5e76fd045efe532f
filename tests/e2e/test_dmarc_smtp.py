"""DMARC and Authentication-Results on port 25, end to end: a real server
answering DNS from a zone file (docs/dns.md), Python's smtplib as the
client. Checks the policy outcome (reject, quarantine into .Junk, deliver),
that each delivered message has exactly one Authentication-Results field
naming this host with spf, dkim, dmarc and arc results, and that such
fields from outside claiming this host's name are removed (RFC 8601 5)
while other hosts' fields are kept.
"""
import email
import email.policy
import os
import re
import smtplib
import time

import pytest

from conftest import DOMAIN, HOSTNAME, Instance

RCPT = "rcpt@" + DOMAIN
ZONE = """
_dmarc.reject.example   TXT "v=DMARC1; p=reject"
_dmarc.quar.example     TXT "v=DMARC1; p=quarantine"
_dmarc.none.example     TXT "v=DMARC1; p=none"
_dmarc.pct0.example     TXT "v=DMARC1; p=reject; pct=0"
aligned.example         TXT "v=spf1 ip4:127.0.0.1 -all"
_dmarc.aligned.example  TXT "v=DMARC1; p=reject; aspf=r"
sub.aligned.example     TXT "v=spf1 ip4:127.0.0.1 -all"
"""


@pytest.fixture
def server(instance_dir):
    inst = Instance(instance_dir)
    inst.write_zone(ZONE)
    inst.add_user(RCPT, "password1234")
    inst.start()
    yield inst
    if inst.proc is not None:
        inst.stop()
    inst.check_sanitizers()


def message(from_addr, extra_headers=""):
    return ("From: Sender <%s>\r\nTo: %s\r\nSubject: dmarc test\r\n"
            "Message-ID: <%f@test>\r\n%s\r\nHello.\r\n"
            % (from_addr, RCPT, time.time(), extra_headers)).encode()


def send(server, mail_from, data):
    """Send one message on port 25; returns (code, text) of the DATA reply."""
    with smtplib.SMTP("127.0.0.1", server.port("smtp"), timeout=30) as smtp:
        smtp.ehlo("client.example")
        smtp.mail(mail_from)
        smtp.rcpt(RCPT)
        code, text = smtp.data(data)
        return code, text.decode(errors="replace")


def delivered(server, folder="", timeout=10):
    """Messages in the recipient's folder ("" is INBOX, ".Junk"), parsed."""
    path = os.path.join(server.maildir(RCPT), folder, "new")
    deadline = time.time() + timeout
    while time.time() < deadline:
        names = os.listdir(path) if os.path.isdir(path) else []
        if names:
            out = []
            for name in names:
                with open(os.path.join(path, name), "rb") as f:
                    out.append(email.message_from_bytes(f.read(), policy=email.policy.compat32))
            return out
        time.sleep(0.05)
    return []


def our_results(msg):
    fields = [str(v) for v in msg.get_all("Authentication-Results", [])]
    ours = [re.sub(r"\s+", " ", v) for v in fields if v.strip().startswith(HOSTNAME)]
    return ours, fields


def test_reject(server):
    code, text = send(server, "bounce@other.example", message("x@reject.example"))
    assert code == 550, text


def test_pct0_downgrades_reject_to_quarantine(server):
    code, text = send(server, "bounce@other.example", message("x@pct0.example"))
    assert code == 250, text
    assert delivered(server, ".Junk")


def test_quarantine_goes_to_junk(server):
    code, text = send(server, "bounce@other.example", message("x@quar.example"))
    assert code == 250, text
    msgs = delivered(server, ".Junk")
    assert len(msgs) == 1
    ours, _ = our_results(msgs[0])
    assert "dmarc=fail" in ours[0] and "header.from=quar.example" in ours[0]


def test_none_policy_delivered_with_one_header(server):
    forged = ("Authentication-Results: %s; dmarc=pass header.from=none.example\r\n"
              "Authentication-Results: (c) \"%s\"; spf=pass\r\n"
              "Authentication-Results: other.example; spf=pass smtp.mailfrom=a@b.example\r\n"
              % (HOSTNAME, HOSTNAME.upper()))
    code, text = send(server, "bounce@other.example", message("x@none.example", forged))
    assert code == 250, text
    msgs = delivered(server)
    assert len(msgs) == 1
    ours, fields = our_results(msgs[0])
    assert len(ours) == 1, fields
    value = ours[0]
    for method in ("spf=", "dkim=", "dmarc=fail", "arc="):
        assert method in value, value
    assert "header.from=none.example" in value
    assert any(v.strip().startswith("other.example") for v in fields), fields
    assert not any("dmarc=pass" in v for v in fields), fields


def test_spf_aligned_pass(server):
    code, text = send(server, "bounce@sub.aligned.example", message("x@aligned.example"))
    assert code == 250, text
    msgs = delivered(server)
    ours, fields = our_results(msgs[0])
    assert len(ours) == 1, fields
    assert "spf=pass" in ours[0] and "dmarc=pass" in ours[0], ours[0]
