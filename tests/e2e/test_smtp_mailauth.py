"""Mail authentication on port 25 against a real server: SPF, DKIM (signed
by dkimpy), DMARC policy (reject, quarantine, DNS timeouts) and the one
Authentication-Results field the server adds. DNS comes from a zone file in
the instance directory (conftest's write_zone, docs/dns.md), so nothing
touches the network."""
import os
import smtplib

import dkim
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from conftest import HOSTNAME, Instance, client_tls_context

USER = "alice@example.test"
PASSWORD = "correct horse battery staple"
SELECTOR = b"sel"


def make_key():
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                            serialization.NoEncryption())
    der = key.public_key().public_bytes(serialization.Encoding.DER,
                                        serialization.PublicFormat.SubjectPublicKeyInfo)
    import base64
    return pem, base64.b64encode(der).decode()


def txt(name, text):
    """A zone line; TXT strings of at most 255 bytes (RFC 1035 3.3)."""
    parts = [text[i:i + 200] for i in range(0, len(text), 200)]
    return f"{name} TXT " + " ".join(f'"{p}"' for p in parts)


def zone_text(pub):
    key = f"v=DKIM1; k=rsa; p={pub}"
    return "\n".join([
        # signed mail; SPF does not authorise 127.0.0.1: DMARC rests on DKIM
        txt("signed.test", "v=spf1 -all"),
        txt("sel._domainkey.signed.test", key),
        txt("_dmarc.signed.test", "v=DMARC1; p=reject"),
        # unsigned mail from an authorised IP: DMARC passes on SPF
        txt("spfok.test", "v=spf1 ip4:127.0.0.1 -all"),
        txt("_dmarc.spfok.test", "v=DMARC1; p=reject"),
        # quarantine policy, nothing passes
        txt("quar.test", "v=spf1 -all"),
        txt("sel._domainkey.quar.test", key),
        txt("_dmarc.quar.test", "v=DMARC1; p=quarantine"),
        # every answer for the domain times out
        "slow.test TIMEOUT",
        "sel._domainkey.slow.test TIMEOUT",
        "_dmarc.slow.test TIMEOUT",
        # only the DKIM key times out; SPF fails, p=reject
        txt("keyslow.test", "v=spf1 -all"),
        "sel._domainkey.keyslow.test TIMEOUT",
        txt("_dmarc.keyslow.test", "v=DMARC1; p=reject"),
        # an ARC sealer (RFC 8617) with the same key
        txt("sel._domainkey.sealer.test", key),
        "",
    ])


def start(base, mailauth=""):
    inst = Instance(base)
    pem, pub = make_key()
    inst.write_zone(zone_text(pub))  # conftest's dns { zone_file } block
    with open(inst.config, "a") as f:
        f.write("\ndns {\n\ttimeout = 1s\n}\n")
        if mailauth:
            f.write(f"mailauth {{\n{mailauth}\n}}\n")
    inst.add_user(USER, PASSWORD)
    inst.start()
    inst.dkim_key = pem
    return inst


@pytest.fixture
def server(instance_dir):
    inst = start(instance_dir)
    yield inst
    if inst.proc is not None:
        inst.stop()
    inst.check_sanitizers()


def message(domain, body=b"Hello.\r\n", extra=b""):
    return (b"From: Bob <bob@" + domain.encode() + b">\r\n"
            b"To: Alice <alice@example.test>\r\n"
            b"Subject: mail authentication\r\n"
            b"Message-ID: <1@" + domain.encode() + b">\r\n" + extra +
            b"\r\n" + body)


def sign(inst, msg, domain):
    sig = dkim.sign(msg, SELECTOR, domain.encode(), inst.dkim_key,
                    include_headers=[b"From", b"To", b"Subject", b"Message-ID"])
    return sig + msg


def send(inst, msg, mail_from):
    with smtplib.SMTP("127.0.0.1", inst.port("smtp"), timeout=30) as s:
        s.ehlo("client.test")
        s.mail(mail_from)
        assert s.rcpt(USER)[0] == 250
        return s.data(msg)


def stored(inst, folder=""):
    d = os.path.join(inst.maildir(USER), folder, "new")
    if not os.path.isdir(d):
        return []
    out = []
    for name in sorted(os.listdir(d)):
        with open(os.path.join(d, name), "rb") as f:
            out.append(f.read())
    return out


def header_fields(raw):
    """(name, unfolded value) of each field of the header section."""
    head = raw.split(b"\r\n\r\n", 1)[0].decode()
    fields = []
    for line in head.split("\r\n"):
        if line[:1] in (" ", "\t") and fields:
            fields[-1][1] += " " + line.strip()
        else:
            name, _, value = line.partition(":")
            fields.append([name, value.strip()])
    return fields


def our_results(raw):
    ours = [v for n, v in header_fields(raw)
            if n.lower() == "authentication-results" and v.split(";")[0].strip() == HOSTNAME]
    assert len(ours) == 1, ours
    return ours[0]


def test_valid_signature_passes_and_forged_results_go(server):
    extra = (b"Authentication-Results: " + HOSTNAME.encode() + b"; dkim=pass header.d=evil\r\n"
             b"Authentication-Results: other.example; spf=pass smtp.mailfrom=x@y\r\n")
    msg = sign(server, message("signed.test", extra=extra), "signed.test")
    code, text = send(server, msg, "bob@signed.test")
    assert code == 250, text
    [raw] = stored(server)
    ar = our_results(raw)
    assert "dkim=pass" in ar and "header.d=signed.test" in ar and "header.s=sel" in ar
    assert "dmarc=pass" in ar and "header.from=signed.test" in ar
    assert "spf=fail" in ar and "smtp.mailfrom=bob@signed.test" in ar
    assert "arc=none" in ar
    assert b"dkim=pass header.d=evil" not in raw
    assert b"Authentication-Results: other.example; spf=pass" in raw
    # trace fields, then ours, then the message as sent minus the forgery
    names = [n.lower() for n, _ in header_fields(raw)]
    assert names[:3] == ["return-path", "received", "authentication-results"]
    assert raw.endswith(b"\r\n\r\nHello.\r\n")
    assert server.log().count("event=smtp.mailauth ") == 1
    assert "event=smtp.auth_results_removed" in server.log()


def arc_seal(inst, msg):
    """One ARC set by sealer.test (dkimpy's arc_sign) over its own A-R."""
    msg = b"Authentication-Results: sealer.test; dkim=pass header.d=signed.test\r\n" + msg
    fields = dkim.arc_sign(msg, SELECTOR, b"sealer.test", inst.dkim_key, b"sealer.test")
    return b"".join(fields) + msg


def test_arc_chain_is_validated(server):
    msg = arc_seal(server, sign(server, message("signed.test"), "signed.test"))
    code, text = send(server, msg, "bob@signed.test")
    assert code == 250, text
    ar = our_results(stored(server)[0])
    assert "arc=pass" in ar and "smtp.remote-ip=127.0.0.1" in ar and "dkim=pass" in ar
    assert "arc=pass" in server.log()
    # a sealed header changed in transit: the chain fails; ARC only informs
    # (DMARC still passes on SPF, so the message is delivered)
    broken = arc_seal(server, sign(server, message("spfok.test"), "spfok.test"))
    code, text = send(server, broken.replace(b"Subject: mail", b"Subject: Mail"),
                      "bob@spfok.test")
    assert code == 250, text
    [ar] = [v for v in map(our_results, stored(server)) if "spfok.test" in v]
    assert "arc=fail" in ar and "spf=pass" in ar and "dmarc=pass" in ar


def test_body_changed_is_rejected(server):
    msg = sign(server, message("signed.test"), "signed.test").replace(b"Hello.", b"Hallo!")
    code, text = send(server, msg, "bob@signed.test")
    assert code == 550 and text.startswith(b"5.7.1"), text
    assert stored(server) == [] and stored(server, ".Junk") == []
    assert "action=reject" in server.log()


def test_spf_pass_aligned_without_signature(server):
    code, text = send(server, message("spfok.test"), "bob@spfok.test")
    assert code == 250, text
    ar = our_results(stored(server)[0])
    assert "spf=pass" in ar and "dmarc=pass" in ar and "dkim=none" in ar


def test_quarantine_lands_in_junk(server):
    code, text = send(server, message("quar.test"), "bob@quar.test")
    assert code == 250, text
    assert stored(server) == []
    [raw] = stored(server, ".Junk")
    assert "dmarc=fail" in our_results(raw)


def test_dns_timeout_gets_451(server):
    msg = sign(server, message("slow.test"), "slow.test")
    code, text = send(server, msg, "bob@slow.test")
    assert code == 451 and text.startswith(b"4.7.1"), text
    assert stored(server) == []


def test_dkim_key_timeout_with_reject_policy_gets_451(server):
    msg = sign(server, message("keyslow.test"), "keyslow.test")
    code, text = send(server, msg, "bob@keyslow.test")
    assert code == 451 and text.startswith(b"4.7.1"), text
    assert stored(server) == []


def test_null_sender_and_session_goes_on(server):
    """MAIL FROM:<> checks the HELO identity; a refusal leaves the session
    usable for the next message."""
    with smtplib.SMTP("127.0.0.1", server.port("smtp"), timeout=30) as s:
        s.ehlo("client.test")
        s.mail("<>")
        s.rcpt(USER)
        bad = sign(server, message("signed.test"), "signed.test").replace(b"Hello", b"Bye")
        code, text = s.data(bad)
        assert code == 550 and text.startswith(b"5.7.1"), text
        s.mail("bob@spfok.test")
        s.rcpt(USER)
        assert s.data(message("spfok.test"))[0] == 250
    assert len(stored(server)) == 1


def test_policy_reject_configured_as_quarantine(instance_dir):
    inst = start(instance_dir, "\tdmarc_reject = quarantine")
    try:
        msg = sign(inst, message("signed.test"), "signed.test").replace(b"Hello", b"Bye")
        code, text = send(inst, msg, "bob@signed.test")
        assert code == 250, text
        assert stored(inst) == [] and len(stored(inst, ".Junk")) == 1
    finally:
        inst.stop()


def test_large_header_section_refused(server):
    big = b"".join(b"X-Filler-%d: %s\r\n" % (i, b"x" * 900) for i in range(400))
    code, text = send(server, message("spfok.test", extra=big), "bob@spfok.test")
    assert code == 552 and text.startswith(b"5.3.4"), text
    assert stored(server) == []


def test_large_body_streams(server):
    body = b"".join(b"line %06d of a long body\r\n" % i for i in range(20000))
    msg = sign(server, message("signed.test", body=body), "signed.test")
    code, text = send(server, msg, "bob@signed.test")
    assert code == 250, text
    [raw] = stored(server)
    assert "dkim=pass" in our_results(raw)
    assert raw.endswith(body)


def test_submission_port_is_not_checked(server):
    """Only port 25 gets the checks and the header (submission senders are
    to be authenticated by AUTH); forged claims of our name still go."""
    extra = b"Authentication-Results: " + HOSTNAME.encode() + b"; dmarc=pass\r\n"
    server.tern("user", "allow-sender", USER, "@quar.test")
    with smtplib.SMTP("127.0.0.1", server.port("submission"), timeout=30) as s:
        s.ehlo("client.test")
        s.starttls(context=client_tls_context())
        s.ehlo("client.test")
        s.login(USER, PASSWORD)
        s.mail("bob@quar.test")
        assert s.rcpt(USER)[0] == 250
        assert s.data(message("quar.test", extra=extra))[0] == 250
    [raw] = stored(server)
    assert b"Authentication-Results" not in raw
    assert "event=smtp.mailauth " not in server.log()


def test_one_dkim_entry_per_signature(server):
    msg = sign(server, message("signed.test"), "signed.test")
    msg = sign(server, msg, "quar.test")  # a second, outer signature
    code, text = send(server, msg, "bob@signed.test")
    assert code == 250, text
    ar = our_results(stored(server)[0])
    entries = [e.strip() for e in ar.split(";")[1:]]
    dkims = [e for e in entries if e.startswith("dkim=")]
    assert len(dkims) == 2, ar
    assert any("header.d=quar.test" in e for e in dkims)
    assert any("header.d=signed.test" in e for e in dkims)
    assert all(e.startswith("dkim=pass") for e in dkims)
    assert [e.split("=")[0] for e in entries] == ["spf", "dkim", "dkim", "dmarc", "arc"]
