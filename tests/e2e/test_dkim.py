"""DKIM end to end: `tern dkim keygen|sign|verify|txt` and `tern dns`, with
Debian's dkimpy (python3-dkim) and OpenDKIM (opendkim-tools) as oracles in
both directions, and the vectors of ../shared/conformance/dkim (README.txt
there). DNS comes from zone files (docs/dns.md): no network. OpenDKIM reads
real DNS, so its checks run in a private network namespace (unshare -nm)
with a small DNS responder on 127.0.0.1:53; they are skipped where that is
not allowed.
"""
import base64
import json
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time

import pytest

from conftest import SRCDIR, TERN_BIN, Instance

SYS_PYTHON = "/usr/bin/python3"
VECTORS = os.path.join(os.path.dirname(SRCDIR), "shared", "conformance", "dkim")
MESSAGE = (b"From: Joe <joe@example.com>\r\n"
           b"To: Suzie <suzie@example.net>\r\n"
           b"Subject: Is dinner ready?\r\n"
           b"Date: Fri, 11 Jul 2003 21:00:37 -0700\r\n"
           b"Message-ID: <20030712040037.46341.5F8J@example.com>\r\n"
           b"\r\n"
           b"Hi.\r\n\r\nWe lost the game.  Are you hungry yet?\r\n\r\nJoe.\r\n")

dkim = pytest.importorskip("dkim")


def need_vectors():
    if not os.path.isdir(VECTORS):
        pytest.skip("no ../shared/conformance/dkim")


def run(args, stdin=b"", check=None):
    proc = subprocess.run([TERN_BIN] + args, input=stdin, capture_output=True, timeout=60)
    if check is not None:
        assert proc.returncode == check, proc.stderr.decode()
    return proc


def zone_records(path):
    """TXT records of a zone file: {name: text}."""
    records = {}
    with open(path) as f:
        for line in f:
            line = line.strip()
            m = re.match(r'(\S+)\s+(?:\d+\s+)?(?:IN\s+)?TXT\s+(.*)$', line)
            if m and line[0] not in ";$#":
                txt = "".join(re.findall(r'"((?:[^"\\]|\\.)*)"', m.group(2)))
                records[m.group(1).rstrip(".").lower()] = txt
    return records


def write_zone(path, records):
    with open(path, "w") as f:
        for name, txt in records.items():
            chunks = [txt[i:i + 255] for i in range(0, len(txt), 255)] or [""]
            f.write("%s. TXT %s\n" % (name, " ".join('"%s"' % c for c in chunks)))


def dnsfunc_for(records):
    def dnsfunc(name, timeout=5):
        name = name.decode() if isinstance(name, bytes) else name
        txt = records.get(name.rstrip(".").lower())
        return txt.encode() if txt is not None else None
    return dnsfunc


def tern_verify(msg, zone, now=None):
    args = ["dkim", "verify", "--zone", zone] + (["--now", str(now)] if now else [])
    proc = run(args, msg)
    lines = proc.stdout.decode().splitlines()
    assert lines and lines[0].startswith("dkim="), proc.stderr.decode()
    assert proc.returncode == (0 if lines[0] == "dkim=pass" else 1)
    return lines


def summary(lines):
    return lines[0].split()[0][len("dkim="):]


def dkimpy_verify(msg, records):
    d = dkim.DKIM(msg)
    count = len(re.findall(rb"(?im)^DKIM-Signature:", msg))
    try:
        return all(d.verify(idx=i, dnsfunc=dnsfunc_for(records)) for i in range(count))
    except dkim.DKIMException:
        return False


@pytest.fixture
def keys(instance_dir):
    """An RSA and an Ed25519 key of example.com, and a zone publishing both."""
    data = os.path.join(instance_dir, "data")
    out = run(["dkim", "keygen", "--data-dir", data, "--domain", "example.com",
               "--selector", "rsa"], check=0).stdout
    out += run(["dkim", "keygen", "--data-dir", data, "--domain", "example.com",
                "--selector", "ed", "--algorithm", "ed25519"], check=0).stdout
    zone = os.path.join(instance_dir, "keys.zone")
    with open(zone, "wb") as f:
        f.write(out)
    return {"data": data, "zone": zone, "records": zone_records(zone)}


def tern_sign(keys, selector, msg=MESSAGE):
    return run(["dkim", "sign", "--data-dir", keys["data"], "--domain", "example.com",
                "--selector", selector], msg, check=0).stdout


# --- keys and records -------------------------------------------------------

def test_keygen_files_and_record(keys):
    kdir = os.path.join(keys["data"], "dkim", "example.com")
    assert os.stat(kdir).st_mode & 0o777 == 0o700
    for sel in ("rsa", "ed"):
        assert os.stat(os.path.join(kdir, sel + ".key")).st_mode & 0o777 == 0o600
    rsa = keys["records"]["rsa._domainkey.example.com"]
    assert rsa.startswith("v=DKIM1; k=rsa; p=MIIBIjAN")  # 2048-bit SPKI
    assert keys["records"]["ed._domainkey.example.com"].startswith("v=DKIM1; k=ed25519; p=")
    with open(keys["zone"]) as f:
        text = f.read()
    assert all(len(s) <= 255 for s in re.findall(r'"([^"]*)"', text))


def test_keygen_refuses_bad_input(instance_dir):
    data = os.path.join(instance_dir, "data")
    for args in (["--domain", "../etc"], ["--domain", "example.com", "--algorithm", "dsa"],
                 ["--domain", "example.com", "--bits", "512"], []):
        proc = run(["dkim", "keygen", "--data-dir", data] + args)
        assert proc.returncode != 0
        assert len(proc.stderr.decode().strip().splitlines()) == 1
    run(["dkim", "keygen", "--data-dir", data, "--domain", "example.com", "--selector", "a",
         "--algorithm", "ed25519"], check=0)
    proc = run(["dkim", "keygen", "--data-dir", data, "--domain", "example.com",
                "--selector", "a"])
    assert proc.returncode == 1 and b"exists" in proc.stderr
    # the default selector: tern + year and month; RSA 2048 by default
    out = run(["dkim", "keygen", "--data-dir", data, "--domain", "example.net"],
              check=0).stdout.decode()
    assert re.match(r'tern\d{6}\._domainkey\.example\.net\. IN TXT "v=DKIM1; k=rsa; p=MIIBIjAN',
                    out)


def test_sign_refuses_bad_input(keys):
    proc = run(["dkim", "sign", "--data-dir", keys["data"], "--domain", "example.org"],
               MESSAGE)
    assert proc.returncode == 1 and len(proc.stderr.splitlines()) == 1
    proc = run(["dkim", "sign", "--data-dir", keys["data"], "--domain", "example.com",
                "--selector", "rsa"], b"Subject: no from\r\n\r\nx\r\n")
    assert proc.returncode == 1 and b"From" in proc.stderr
    assert run(["dkim", "frobnicate"]).returncode == 2


def test_dns_records(instance_dir):
    inst = Instance(instance_dir)
    # an explicit selector: `tern init` may make a default-named key itself
    inst.tern("dkim", "keygen", "--domain", "example.test", "--selector", "e2e",
              "--algorithm", "ed25519")
    out = inst.tern("dns", "example.test").stdout
    host = "mail.example.test."
    assert "example.test. IN MX 10 %s" % host in out
    assert 'example.test. IN TXT "v=spf1 mx -all"' in out
    assert 'e2e._domainkey.example.test. IN TXT "v=DKIM1; k=ed25519; p=' in out
    assert '_dmarc.example.test. IN TXT "v=DMARC1; p=quarantine' in out
    for srv, port in (("_submission", 587), ("_submissions", 465), ("_imap", 143),
                      ("_imaps", 993), ("_pop3", 110), ("_pop3s", 995)):
        assert re.search(r"%s\._tcp\.example\.test\. IN SRV \d+ 1 %d %s" %
                         (srv, port, re.escape(host)), out), srv
    assert "IN SRV 0 0 0 ." not in out  # every RFC 6186 service is offered
    assert "autoconfig.example.test. IN CNAME %s" % host in out
    assert "autodiscover.example.test. IN CNAME %s" % host in out
    proc = inst.tern("dns", "not_a/domain", check=False)
    assert proc.returncode == 1 and len(proc.stderr.splitlines()) == 1
    txt = inst.tern("dkim", "txt", "--domain", "example.test", "--selector", "e2e").stdout
    assert txt.strip() in out


# --- Tern signs, others verify -----------------------------------------------

@pytest.mark.parametrize("selector", ["rsa", "ed"])
def test_tern_signs_dkimpy_verifies(keys, selector):
    signed = tern_sign(keys, selector)
    assert b"c=relaxed/relaxed" in signed and b"h=from:from:" in signed
    assert dkimpy_verify(signed, keys["records"])
    assert summary(tern_verify(signed, keys["zone"])) == "pass"
    body = signed.replace(b"We lost", b"We won")
    assert not dkimpy_verify(body, keys["records"])
    assert summary(tern_verify(body, keys["zone"])) == "fail"
    header = signed.replace(b"Subject: Is dinner", b"Subject: Is lunch")
    assert not dkimpy_verify(header, keys["records"])
    assert summary(tern_verify(header, keys["zone"])) == "fail"
    # oversigned From: a second From added on the way breaks it
    added = signed.replace(b"To: Suzie", b"From: mallory@example.org\r\nTo: Suzie")
    assert not dkimpy_verify(added, keys["records"])
    assert summary(tern_verify(added, keys["zone"])) != "pass"


def test_tern_signs_lf_input(keys):
    signed = tern_sign(keys, "ed", MESSAGE.replace(b"\r\n", b"\n"))
    assert b"\r" not in signed
    assert dkimpy_verify(signed.replace(b"\n", b"\r\n"), keys["records"])
    assert summary(tern_verify(signed, keys["zone"])) == "pass"


DNS_STUB = r'''
import socket, sys, dns.message, dns.rrset, dns.rcode, dns.rdatatype
records = {}
for line in open(sys.argv[1]):
    name, txt = line.rstrip("\n").split(" ", 1)
    records[name] = txt
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind(("127.0.0.1", 53))
open(sys.argv[2], "w").close()
while True:
    data, addr = s.recvfrom(4096)
    q = dns.message.from_wire(data)
    r = dns.message.make_response(q)
    name = q.question[0].name.to_text().rstrip(".").lower()
    if name not in records:
        r.set_rcode(dns.rcode.NXDOMAIN)
    elif q.question[0].rdtype == dns.rdatatype.TXT:
        t = records[name]
        chunks = [t[i:i + 255] for i in range(0, len(t), 255)] or [""]
        r.answer.append(dns.rrset.from_text(q.question[0].name, 300, "IN", "TXT",
                        " ".join('"%s"' % c for c in chunks)))
    s.sendto(r.to_wire(), addr)
'''

NETNS_SCRIPT = r'''
ip link set lo up 2>/dev/null
echo "nameserver 127.0.0.1" > "$1/resolv.conf"
mount --bind "$1/resolv.conf" /etc/resolv.conf || exit 99
/usr/bin/python3 "$1/stub.py" "$1/records" "$1/ready" >/dev/null 2>&1 &
stub=$!
for i in 1 2 3 4 5 6 7 8 9 10; do [ -e "$1/ready" ] && break; sleep 0.2; done
[ -e "$1/ready" ] || exit 99
opendkim-testmsg < "$2"
rc=$?
kill $stub
exit $rc
'''


def opendkim_verify(msg, records):
    """opendkim-testmsg's exit status (0: verified) on msg (CRLF)."""
    if shutil.which("opendkim-testmsg") is None or shutil.which("unshare") is None:
        pytest.skip("opendkim-tools or unshare missing")
    pytest.importorskip("dns.message")
    work = tempfile.mkdtemp(prefix="tern-odk-")
    try:
        with open(os.path.join(work, "stub.py"), "w") as f:
            f.write(DNS_STUB)
        with open(os.path.join(work, "records"), "w") as f:
            for name, txt in records.items():
                f.write("%s %s\n" % (name, txt))
        with open(os.path.join(work, "msg"), "wb") as f:
            f.write(msg)
        proc = subprocess.run(["unshare", "-nm", "sh", "-c", NETNS_SCRIPT, "sh", work,
                               os.path.join(work, "msg")], capture_output=True, timeout=60)
        if proc.returncode == 99 or b"unshare failed" in proc.stderr or \
                b"Operation not permitted" in proc.stderr:
            pytest.skip("no private network namespace with a loopback DNS here")
        return proc.returncode
    finally:
        shutil.rmtree(work, ignore_errors=True)


@pytest.mark.parametrize("selector", ["rsa", "ed"])
def test_tern_signs_opendkim_verifies(keys, selector):
    signed = tern_sign(keys, selector)
    assert opendkim_verify(signed, keys["records"]) == 0
    assert opendkim_verify(signed.replace(b"We lost", b"We won"), keys["records"]) != 0


# --- others sign, Tern verifies --------------------------------------------

def dkimpy_sign(keys, selector, canon, msg=MESSAGE, length=False, headers=None):
    with open(os.path.join(keys["data"], "dkim", "example.com", selector + ".key"), "rb") as f:
        key = f.read()
    alg = b"rsa-sha256"
    if selector == "ed":
        from cryptography.hazmat.primitives import serialization
        k = serialization.load_pem_private_key(key, None)
        key = base64.b64encode(k.private_bytes(serialization.Encoding.Raw,
                                               serialization.PrivateFormat.Raw,
                                               serialization.NoEncryption()))
        alg = b"ed25519-sha256"
    h, b = canon.split("/")
    sig = dkim.sign(msg, selector.encode(), b"example.com", key, signature_algorithm=alg,
                    canonicalize=(h.encode(), b.encode()), length=length,
                    include_headers=headers)
    return sig + msg


@pytest.mark.parametrize("canon", ["simple/simple", "simple/relaxed", "relaxed/simple",
                                   "relaxed/relaxed"])
@pytest.mark.parametrize("selector", ["rsa", "ed"])
def test_dkimpy_signs_tern_verifies(keys, selector, canon):
    pytest.importorskip("cryptography")
    signed = dkimpy_sign(keys, selector, canon)
    assert summary(tern_verify(signed, keys["zone"])) == "pass"
    assert summary(tern_verify(signed.replace(b"hungry", b"thirsty"), keys["zone"])) == "fail"


def test_length_tag_is_reported(keys):
    signed = dkimpy_sign(keys, "rsa", "relaxed/relaxed", length=True)
    lines = tern_verify(signed, keys["zone"])
    assert summary(lines) == "pass" and "l=yes unsigned-bytes=0" in lines[1]
    lines = tern_verify(signed + b"Click here: http://evil.example/\r\n", keys["zone"])
    assert summary(lines) == "policy"
    assert "body partially signed" in lines[0]


def test_canonicalization_vectors(keys):
    """canonicalization.json body cases: dkimpy signs each in both modes,
    Tern verifies; Tern's relaxed body hash equals the vector's bh=."""
    need_vectors()
    pytest.importorskip("cryptography")
    with open(os.path.join(VECTORS, "canonicalization.json")) as f:
        vectors = json.load(f)
    head = b"From: a@example.com\r\nDate: Fri, 11 Jul 2003 21:00:37 -0700\r\n"
    for case in vectors["body"]:
        msg = head + b"\r\n" + case["input"].encode("latin-1")
        for canon in ("simple/simple", "relaxed/relaxed"):
            signed = dkimpy_sign(keys, "ed", canon, msg)
            assert summary(tern_verify(signed, keys["zone"])) == "pass", (case["name"], canon)
        signed = tern_sign(keys, "ed", msg)
        bh = re.search(rb"bh=([^;]+);", signed).group(1).decode()
        assert bh == case["relaxed_bh_sha256"], case["name"]
    # The header cases (names with trailing WSP, which dkimpy refuses to
    # sign) are in tests/unit/mailauth/test-canon.c.


# --- the vectors of ../shared/conformance/dkim ---------------------------------

def vector_zone(tmpdir, source, extra=None):
    records = zone_records(source)
    records.update(extra or {})
    path = os.path.join(tmpdir, "vectors.zone")
    write_zone(path, records)
    return path, records


def test_rfc8463_both_signatures(instance_dir):
    need_vectors()
    zone, records = vector_zone(instance_dir, os.path.join(VECTORS, "rfc8463", "zone.txt"))
    for name in ("rfc8463-A.3.signed.eml", "rfc6376.signed.msg"):
        with open(os.path.join(VECTORS, "rfc8463", name), "rb") as f:
            msg = f.read()
        lines = tern_verify(msg, zone)
        assert summary(lines) == "pass"
        assert len(lines) == 3 and all(" pass " in l for l in lines[1:]), lines
        assert "header.a=ed25519-sha256" in lines[1] and "header.a=rsa-sha256" in lines[2]
        assert summary(tern_verify(msg.replace(b"hungry", b"angry"), zone)) == "fail"


def _opendkim_cases():
    path = os.path.join(VECTORS, "opendkim", "expected.tsv")
    if not os.path.exists(path):
        return []
    with open(path) as f:
        return [l.split("\t")[:2] for l in f if l.strip() and not l.startswith("#")]


@pytest.mark.parametrize("name,expected", _opendkim_cases())
def test_opendkim_vectors(instance_dir, name, expected):
    zone, _ = vector_zone(instance_dir, os.path.join(VECTORS, "opendkim", "pubkeys.zone"))
    with open(os.path.join(VECTORS, "opendkim", name), "rb") as f:
        assert summary(tern_verify(f.read(), zone)) == expected


def dkimpy_data(name):
    with open(os.path.join(VECTORS, "dkimpy-data", name), "rb") as f:
        return f.read()


def test_dkimpy_signed_vectors(instance_dir):
    need_vectors()
    exim = dkimpy_data("eximtest.dns").decode().strip()
    zone, _ = vector_zone(instance_dir, os.path.join(VECTORS, "dkimpy-data", "zone.txt"),
                          {"sed._domainkey.test.ex": exim})
    for name in ("ed25519test2.msg", "rfc6376.signed.msg", "rfc6376.signed.rsa.msg"):
        assert summary(tern_verify(dkimpy_data(name), zone)) == "pass", name
    assert summary(tern_verify(dkimpy_data("test.message.baddomain"), zone)) == "permerror"


KEY_FORMS = [
    ("1024_testkey.key", "1024_testkey_wo_markers.pub.txt", "pass"),
    ("1024_testkey.key", "1024_testkey_wo_markers.pub.rsa.txt", "pass"),
    ("2048_testkey.key", "2048_testkey_wo_markers.pub.txt", "pass"),
    ("2048_testkey.key", "2048_testkey_wo_markers.pub.rsa.txt", "pass"),
    ("2048_testkey_PKCS8.key", "2048_testkey_PKCS8.key.pub.txt", "pass"),
    ("test.private", "test.txt", "pass"),
    ("test.private", "test2.txt", "pass"),
    ("test.private", "badk.txt", "permerror"),
    ("test.private", "badversion.txt", "permerror"),
    ("test.private", "test_bad.txt", "permerror"),  # p= does not decode to a key
    ("test.private", "test_tlsrpt.txt", "permerror"),
    ("ed25519test.key", "ed25519test.dns", "pass"),
]


@pytest.mark.parametrize("key,record,expected", KEY_FORMS)
def test_dkimpy_key_forms(instance_dir, key, record, expected):
    """dkimpy signs with each key of its test data; the record is published
    in each form dkimpy's tests use."""
    need_vectors()
    alg = b"ed25519-sha256" if key.startswith("ed25519") else b"rsa-sha256"
    msg = dkimpy_data("test.message")
    signed = dkim.sign(msg, b"test", b"example.com", dkimpy_data(key).strip(),
                       signature_algorithm=alg) + msg
    zone = os.path.join(instance_dir, "k.zone")
    write_zone(zone, {"test._domainkey.example.com": dkimpy_data(record).decode().strip()})
    assert summary(tern_verify(signed, zone)) == expected
