"""DANE (RFC 7672) through src/queue/tls-policy.h, with real DNSSEC: a test
zone signed with ldns-signzone, served by NSD on loopback, the resolver
(libunbound) forwarding to it with the zone's DS as its only trust anchor;
the MX is a small SMTP server with STARTTLS on loopback. The probe program
(tests/probe/tls-policy-probe.c) does what the queue will do for one MX."""
import os
import shutil
import signal
import subprocess
import time

import pytest

from tls_policy_helpers import (SmtpServer, cert_sha256, free_port, make_ca, make_leaf,
                                run_probe, spki_sha256, write_pem)

NSD = shutil.which("nsd") or "/usr/sbin/nsd"
pytestmark = pytest.mark.skipif(not (os.path.exists(NSD) and shutil.which("ldns-signzone")),
                                reason="nsd and ldnsutils are needed (scripts/install-deps.sh)")

WRONG = "ab" * 32


def signed_zone(d, leaf, ca):
    good = spki_sha256(leaf)
    ta = cert_sha256(ca)
    text = f"""$ORIGIN signed.lab.
$TTL 300
@ IN SOA ns.signed.lab. admin.signed.lab. 1 3600 600 86400 300
@ IN NS ns.signed.lab.
ns IN A 127.0.0.1
@ IN MX 10 mx.signed.lab.
mx IN A 127.0.0.1
_25._tcp.mx IN TLSA 3 1 1 {good}
wrong IN MX 10 mxwrong.signed.lab.
mxwrong IN A 127.0.0.1
_25._tcp.mxwrong IN TLSA 3 1 1 {WRONG}
ta IN MX 10 mxta.signed.lab.
mxta IN A 127.0.0.1
_25._tcp.mxta IN TLSA 2 0 1 {ta}
pkix IN MX 10 mxpkix.signed.lab.
mxpkix IN A 127.0.0.1
_25._tcp.mxpkix IN TLSA 1 1 1 {good}
bogus IN MX 10 mxbogus.signed.lab.
mxbogus IN A 127.0.0.1
_25._tcp.mxbogus IN TLSA 3 1 1 {good}
none IN MX 10 mxnone.signed.lab.
mxnone IN A 127.0.0.1
"""
    path = os.path.join(d, "signed.lab.zone")
    with open(path, "w") as f:
        f.write(text)
    ksk = subprocess.run(["ldns-keygen", "-a", "ECDSAP256SHA256", "-k", "signed.lab"], cwd=d,
                         check=True, capture_output=True, text=True).stdout.strip()
    zsk = subprocess.run(["ldns-keygen", "-a", "ECDSAP256SHA256", "signed.lab"], cwd=d,
                         check=True, capture_output=True, text=True).stdout.strip()
    subprocess.run(["ldns-signzone", "-n", path, ksk, zsk], cwd=d, check=True,
                   capture_output=True)
    # Break the signature of one TLSA RRset: change its data after signing.
    signed = path + ".signed"
    with open(signed) as f:
        lines = f.readlines()
    with open(signed, "w") as f:
        for line in lines:
            if line.startswith("_25._tcp.mxbogus.") and "\tTLSA\t" in line:
                line = line.replace(good, WRONG)
            f.write(line)
    return os.path.join(d, ksk + ".ds")


def plain_zone(d, leaf):
    path = os.path.join(d, "plain.lab.zone")
    with open(path, "w") as f:
        f.write(f"""$ORIGIN plain.lab.
$TTL 300
@ IN SOA ns.plain.lab. admin.plain.lab. 1 3600 600 86400 300
@ IN NS ns.plain.lab.
ns IN A 127.0.0.1
@ IN MX 10 mx.plain.lab.
mx IN A 127.0.0.1
_25._tcp.mx IN TLSA 3 1 1 {WRONG}
""")


@pytest.fixture(scope="module")
def dane_env(tmp_path_factory):
    d = str(tmp_path_factory.mktemp("dane"))
    ca_key, ca = make_ca()
    leaf_key, leaf = make_leaf(ca_key, ca, ["mx.signed.lab", "mxta.signed.lab",
                                            "mxwrong.signed.lab", "mx.plain.lab"])
    ds = signed_zone(d, leaf, ca)
    plain_zone(d, leaf)
    port = free_port()
    conf = os.path.join(d, "nsd.conf")
    with open(conf, "w") as f:
        f.write(f"""server:
  ip-address: 127.0.0.1
  port: {port}
  username: ""
  chroot: ""
  zonesdir: "{d}"
  pidfile: "{d}/nsd.pid"
  xfrdfile: "{d}/xfrd.state"
  zonelistfile: "{d}/zone.list"
  database: ""
  logfile: "{d}/nsd.log"
  server-count: 1
remote-control:
  control-enable: no
zone:
  name: signed.lab
  zonefile: signed.lab.zone.signed
zone:
  name: plain.lab
  zonefile: plain.lab.zone
""")
    nsd = subprocess.Popen([NSD, "-d", "-c", conf], stdout=subprocess.DEVNULL,
                           stderr=subprocess.DEVNULL)
    deadline = time.time() + 10
    while time.time() < deadline:
        if os.path.exists(os.path.join(d, "nsd.log")) and \
                "nsd started" in open(os.path.join(d, "nsd.log")).read():
            break
        time.sleep(0.1)
    else:
        nsd.kill()
        pytest.fail("nsd did not start")
    chain = os.path.join(d, "chain.pem")
    key = os.path.join(d, "key.pem")
    write_pem(chain, certs=[leaf, ca])
    write_pem(key, key=leaf_key)
    tls_server = SmtpServer(chain, key)
    plain_server = SmtpServer()
    yield {"ds": ds, "dns": f"127.0.0.1@{port}", "tls": tls_server, "plain": plain_server}
    tls_server.close()
    plain_server.close()
    nsd.send_signal(signal.SIGTERM)
    nsd.wait(10)


def probe(env, domain, server="tls"):
    return run_probe("--domain", domain, "--port", str(env[server].port), "--forwarder",
                     env["dns"], "--trust-anchor", env["ds"])


def test_secure_tlsa_match_is_dane_and_verified(dane_env):
    rc, out, err = probe(dane_env, "signed.lab")
    assert out["decision"]["tls"] == "dane", (out, err)
    assert out["decision"]["mx_secure"] == "yes"
    assert out["decision"]["required"] == "yes"
    assert out["check"]["result"] == "ok", (out, err)
    assert out["check"]["verified"] == "yes"
    assert out["check"]["tls"] == "dane"
    assert out["requiretls"]["allowed"] == "yes"
    assert rc == 0
    assert "event=tls.policy domain=signed.lab mx=mx.signed.lab mx_secure=yes tls=dane" in err


def test_dane_ta_with_chain_and_name(dane_env):
    rc, out, err = probe(dane_env, "ta.signed.lab")
    assert out["decision"]["tls"] == "dane"
    assert out["check"]["result"] == "ok", (out, err)
    assert out["check"]["verified"] == "yes"
    assert rc == 0


def test_wrong_tlsa_is_temporary_failure(dane_env):
    rc, out, err = probe(dane_env, "wrong.signed.lab")
    assert out["decision"]["tls"] == "dane"
    assert out["check"]["result"] == "tempfail"
    assert "TLSA mismatch" in out["check"]["why"]
    assert out["requiretls"]["allowed"] == "no"
    assert rc == 75


def test_dane_without_starttls_is_temporary_failure(dane_env):
    # The same secure TLSA records, but the server does not offer STARTTLS:
    # never a silent downgrade.
    rc, out, err = probe(dane_env, "signed.lab", server="plain")
    assert out["decision"]["tls"] == "dane"
    assert out["check"]["result"] == "tempfail"
    assert "STARTTLS" in out["check"]["why"]
    assert rc == 75


def test_bogus_tlsa_is_temporary_failure(dane_env):
    rc, out, err = probe(dane_env, "bogus.signed.lab")
    assert out["decision"]["tempfail"] == "yes", (out, err)
    assert "check" not in out
    assert rc == 75


def test_pkix_usages_are_unusable_but_tls_mandatory(dane_env):
    rc, out, err = probe(dane_env, "pkix.signed.lab")
    assert out["decision"]["tls"] == "dane"
    assert out["decision"]["required"] == "yes"
    assert out["check"]["result"] == "ok"
    assert out["check"]["verified"] == "no"
    assert out["requiretls"]["allowed"] == "no"
    rc, out, err = probe(dane_env, "pkix.signed.lab", server="plain")
    assert out["check"]["result"] == "tempfail"


def test_secure_no_tlsa_is_opportunistic(dane_env):
    rc, out, err = probe(dane_env, "none.signed.lab")
    assert out["decision"]["tls"] == "opportunistic", (out, err)
    assert out["decision"]["mx_secure"] == "yes"
    assert out["check"]["result"] == "ok"
    assert out["check"]["verified"] == "no"
    assert rc == 0


def test_insecure_zone_is_opportunistic(dane_env):
    # plain.lab is unsigned: its (wrong) TLSA record must be ignored.
    rc, out, err = probe(dane_env, "plain.lab")
    assert out["decision"]["tls"] == "opportunistic", (out, err)
    assert out["decision"]["mx_secure"] == "no"
    assert out["check"]["result"] == "ok"
    assert out["check"]["tls"] == "opportunistic"
    assert out["requiretls"]["allowed"] == "no"
    assert rc == 0
    # Without STARTTLS at all: delivery goes on in clear text.
    rc, out, err = probe(dane_env, "plain.lab", server="plain")
    assert out["check"]["result"] == "ok"
    assert out["check"]["tls"] == "none"
