"""`tern verify`: the Authentication-Results value Tern would add to a
message read from standard input (src/mailauth/mailauth.h, the same
pipeline as port 25), with DNS from a zone file. Messages are signed by
dkimpy (DKIM) and sealed by dkimpy's arc_sign (ARC)."""
import base64
import subprocess

import dkim
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from conftest import TERN_BIN

SELECTOR = b"sel"
HOST = "mx.verify.test"


def make_key():
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                            serialization.NoEncryption())
    der = key.public_key().public_bytes(serialization.Encoding.DER,
                                        serialization.PublicFormat.SubjectPublicKeyInfo)
    return pem, base64.b64encode(der).decode()


def txt(name, text):
    parts = [text[i:i + 200] for i in range(0, len(text), 200)]
    return f"{name} TXT " + " ".join(f'"{p}"' for p in parts)


@pytest.fixture(scope="module")
def keys(tmp_path_factory):
    pem, pub = make_key()
    zone = tmp_path_factory.mktemp("verify") / "zone"
    zone.write_text("\n".join([
        txt("signed.test", "v=spf1 -all"),
        txt("sel._domainkey.signed.test", f"v=DKIM1; k=rsa; p={pub}"),
        txt("_dmarc.signed.test", "v=DMARC1; p=reject"),
        txt("spfok.test", "v=spf1 ip4:192.0.2.1 -all"),
        txt("_dmarc.spfok.test", "v=DMARC1; p=reject"),
        txt("sel._domainkey.sealer.test", f"v=DKIM1; k=rsa; p={pub}"),
        "",
    ]))
    return {"pem": pem, "zone": str(zone)}


def message(domain, body=b"Hello.\r\n", extra=b""):
    return (b"From: Bob <bob@" + domain.encode() + b">\r\n"
            b"To: Alice <alice@example.test>\r\n"
            b"Subject: verify\r\n"
            b"Message-ID: <1@" + domain.encode() + b">\r\n" + extra +
            b"\r\n" + body)


def sign(keys, msg, domain="signed.test"):
    return dkim.sign(msg, SELECTOR, domain.encode(), keys["pem"],
                     include_headers=[b"From", b"To", b"Subject", b"Message-ID"]) + msg


def verify(args, stdin=b""):
    return subprocess.run([TERN_BIN, "verify"] + args, input=stdin, capture_output=True,
                          timeout=60)


def ar_of(keys, msg, *extra):
    proc = verify(["--ip", "192.0.2.9", "--helo", "client.test", "--mail-from",
                   "bob@signed.test", "--zone", keys["zone"], "--hostname", HOST] +
                  list(extra), msg)
    assert proc.returncode == 0, proc.stderr
    out = proc.stdout.decode()
    assert out.count("\n") == 1 and out.endswith("\n"), out
    return out.strip()


def test_signed_message_from_reject_domain_passes(keys):
    ar = ar_of(keys, sign(keys, message("signed.test")))
    assert ar.startswith(HOST + ";"), ar
    assert "spf=fail" in ar and "smtp.mailfrom=bob@signed.test" in ar
    assert "dkim=pass" in ar and "header.d=signed.test" in ar and "header.s=sel" in ar
    assert "dmarc=pass" in ar and "header.from=signed.test" in ar
    assert "arc=none" in ar
    # the order of the value is the server's: spf, dkim, dmarc, arc
    assert ar.index("spf=") < ar.index("dkim=") < ar.index("dmarc=") < ar.index("arc=")


def test_body_changed_fails_dkim_and_dmarc(keys):
    msg = sign(keys, message("signed.test")).replace(b"Hello.", b"Hallo!")
    ar = ar_of(keys, msg)
    assert "dkim=fail" in ar and "dmarc=fail" in ar and "p=reject" in ar


def test_lf_line_ends_are_read(keys):
    msg = sign(keys, message("signed.test")).replace(b"\r\n", b"\n")
    ar = ar_of(keys, msg)
    assert "dkim=pass" in ar and "dmarc=pass" in ar


def test_spf_alone_passes_dmarc(keys):
    proc = verify(["--ip", "192.0.2.1", "--mail-from", "bob@spfok.test", "--zone",
                   keys["zone"], "--hostname", HOST], message("spfok.test"))
    assert proc.returncode == 0, proc.stderr
    ar = proc.stdout.decode()
    assert "spf=pass" in ar and "dkim=none" in ar and "dmarc=pass" in ar


def test_no_ip_no_spf(keys):
    proc = verify(["--zone", keys["zone"], "--hostname", HOST], sign(keys, message("signed.test")))
    assert proc.returncode == 0, proc.stderr
    ar = proc.stdout.decode()
    assert "spf=none" in ar and "dkim=pass" in ar and "dmarc=pass" in ar


def arc_sealed(keys):
    """A message with one ARC set by sealer.test, over our own A-R."""
    msg = sign(keys, message("signed.test"))
    msg = (b"Authentication-Results: sealer.test; dkim=pass header.d=signed.test\r\n" + msg)
    fields = dkim.arc_sign(msg, SELECTOR, b"sealer.test", keys["pem"], b"sealer.test",
                           timestamp=1700000000)
    return b"".join(fields) + msg


def test_arc_chain_passes(keys):
    ar = ar_of(keys, arc_sealed(keys))
    assert "arc=pass" in ar and "dkim=pass" in ar, ar


def test_arc_chain_broken_fails(keys):
    msg = arc_sealed(keys).replace(b"Subject: verify", b"Subject: changed")
    ar = ar_of(keys, msg)
    assert "arc=fail" in ar and "dkim=fail" in ar, ar


def test_spf_only_is_unchanged(keys):
    proc = verify(["--spf-only", "--ip", "192.0.2.1", "--mail-from", "bob@spfok.test",
                   "--zone", keys["zone"]])
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.decode().startswith("pass smtp.mailfrom=spfok.test ")


@pytest.mark.parametrize("args", [
    ["--bogus"],
    ["--ip"],
    ["--ip", "not-an-ip"],
    ["--zone", "/nonexistent/zone"],
    ["--dns-timeout", "x"],
    ["--mail-from", "no-at-sign"],
])
def test_bad_options_exit_nonzero_with_one_line(keys, args):
    proc = verify(args + ["--hostname", HOST], message("signed.test"))
    assert proc.returncode != 0
    err = proc.stderr.decode()
    assert err.count("\n") == 1 and err.startswith("tern: verify"), err
    assert proc.stdout == b""


def test_config_gives_hostname_and_zone(keys, instance_dir):
    """With -c: the config's hostname is the authserv-id, its dns zone
    file answers, as on the server's port 25."""
    from conftest import HOSTNAME, Instance
    inst = Instance(instance_dir)
    with open(keys["zone"]) as f:
        inst.write_zone(f.read())
    proc = subprocess.run([TERN_BIN, "-c", inst.config, "verify", "--ip", "192.0.2.9",
                           "--mail-from", "bob@signed.test"],
                          input=sign(keys, message("signed.test")), capture_output=True,
                          timeout=60)
    assert proc.returncode == 0, proc.stderr
    ar = proc.stdout.decode()
    assert ar.startswith(HOSTNAME + ";") and "dkim=pass" in ar and "dmarc=pass" in ar, ar
