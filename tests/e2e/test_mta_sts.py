"""MTA-STS (RFC 8461) through src/queue/tls-policy.h: policies served by a
local HTTPS server (a CA made in the test, curl pointed at 127.0.0.1 with
CURLOPT_RESOLVE/CURLOPT_CAINFO), TXT records from a zone file, the MX a
small SMTP server with STARTTLS on loopback. The probe program
(tests/probe/tls-policy-probe.c) does what the queue will do for one MX."""
import http.server
import os
import ssl
import threading

import pytest

from tls_policy_helpers import SmtpServer, free_port, make_ca, make_leaf, run_probe, write_pem

POLICIES = {
    "enforce.lab": "version: STSv1\r\nmode: enforce\r\nmx: mx.enforce.lab\r\nmax_age: 86400\r\n",
    "listed.lab": "version: STSv1\nmode: enforce\nmx: *.elsewhere.lab\nmax_age: 86400\n",
    "testing.lab": "version: STSv1\nmode: testing\nmx: mx.testing.lab\nmax_age: 86400\n",
    "none.lab": "version: STSv1\nmode: none\nmax_age: 86400\n",
    "cache.lab": "version: STSv1\nmode: enforce\nmx: mx.cache.lab\nmax_age: 86400\n",
}
ZONE = """
enforce.lab MX 10 mx.enforce.lab
_mta-sts.enforce.lab TXT "v=STSv1; id=20261203;"
listed.lab MX 10 mx.listed.lab
_mta-sts.listed.lab TXT "v=STSv1; id=1;"
testing.lab MX 10 mx.testing.lab
_mta-sts.testing.lab TXT "v=STSv1; id=1;"
none.lab MX 10 mx.none.lab
_mta-sts.none.lab TXT "v=STSv1; id=1;"
redirect.lab MX 10 mx.redirect.lab
_mta-sts.redirect.lab TXT "v=STSv1; id=1;"
cache.lab MX 10 mx.cache.lab
_mta-sts.cache.lab TXT "v=STSv1; id=1;"
nosts.lab MX 10 mx.nosts.lab
"""


class PolicyHandler(http.server.BaseHTTPRequestHandler):
    served = []
    down = set()

    def do_GET(self):
        host = self.headers.get("Host", "").split(":")[0]
        domain = host[len("mta-sts."):] if host.startswith("mta-sts.") else ""
        PolicyHandler.served.append(domain)
        if domain == "redirect.lab":
            self.send_response(301)
            self.send_header("Location", "https://mta-sts.enforce.lab/.well-known/mta-sts.txt")
            self.end_headers()
            return
        if self.path != "/.well-known/mta-sts.txt" or domain not in POLICIES or \
                domain in PolicyHandler.down:
            self.send_error(404)
            return
        body = POLICIES[domain].encode()
        self.send_response(200)
        self.send_header("Content-Type", "text/plain")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


@pytest.fixture(scope="module")
def sts_env(tmp_path_factory):
    d = str(tmp_path_factory.mktemp("sts"))
    ca_key, ca = make_ca()
    web_key, web = make_leaf(ca_key, ca, ["mta-sts." + dom for dom in
                                          list(POLICIES) + ["redirect.lab"]])
    mx_key, mx = make_leaf(ca_key, ca, ["mx.enforce.lab", "mx.testing.lab", "mx.cache.lab"])
    bad_key, bad = make_leaf(ca_key, ca, ["mx.somewhere-else.lab"])
    ca_pem = os.path.join(d, "ca.pem")
    write_pem(ca_pem, certs=[ca])
    files = {}
    for name, key, cert in (("web", web_key, web), ("mx", mx_key, mx), ("bad", bad_key, bad)):
        files[name] = (os.path.join(d, name + ".pem"), os.path.join(d, name + ".key"))
        write_pem(files[name][0], certs=[cert, ca])
        write_pem(files[name][1], key=key)
    zone = os.path.join(d, "zone")
    with open(zone, "w") as f:
        f.write(ZONE)
    port = free_port()
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", port), PolicyHandler)
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(*files["web"])
    httpd.socket = ctx.wrap_socket(httpd.socket, server_side=True)
    t = threading.Thread(target=httpd.serve_forever, daemon=True)
    t.start()
    good = SmtpServer(*files["mx"])
    wrong = SmtpServer(*files["bad"])
    yield {"dir": d, "ca": ca_pem, "zone": zone, "port": port, "good": good, "wrong": wrong}
    httpd.shutdown()
    good.close()
    wrong.close()


def probe(env, domain, server="good", cache="cache"):
    cache_dir = os.path.join(env["dir"], cache)
    resolve = f"mta-sts.{domain}:{env['port']}:127.0.0.1"
    return run_probe("--domain", domain, "--port", str(env[server].port), "--zone",
                     env["zone"], "--cache", cache_dir, "--sts-ca", env["ca"], "--sts-resolve",
                     resolve, "--sts-port", str(env["port"]), "--mx-ca", env["ca"])


def test_enforce_with_matching_certificate(sts_env):
    rc, out, err = probe(sts_env, "enforce.lab")
    assert out["decision"]["tls"] == "mta-sts", (out, err)
    assert out["decision"]["required"] == "yes"
    assert out["check"]["result"] == "ok", (out, err)
    assert out["check"]["verified"] == "yes"
    assert out["requiretls"]["allowed"] == "yes"
    assert rc == 0
    assert 'mta_sts=enforce sts_info="fetched"' in err


def test_enforce_with_mismatching_certificate_is_temporary_failure(sts_env):
    rc, out, err = probe(sts_env, "enforce.lab", server="wrong")
    assert out["decision"]["tls"] == "mta-sts"
    assert out["check"]["result"] == "tempfail"
    assert "MTA-STS certificate" in out["check"]["why"]
    assert rc == 75


def test_enforce_without_starttls_is_temporary_failure(sts_env):
    plain = SmtpServer()
    try:
        sts_env["plain"] = plain
        rc, out, err = probe(sts_env, "enforce.lab", server="plain")
    finally:
        plain.close()
    assert out["check"]["result"] == "tempfail"
    assert "STARTTLS" in out["check"]["why"]
    assert rc == 75


def test_enforce_mx_not_in_policy_is_held(sts_env):
    rc, out, err = probe(sts_env, "listed.lab")
    assert out["decision"]["tempfail"] == "yes", (out, err)
    assert "not in the domain's MTA-STS policy" in out["decision"]["why"]
    assert rc == 75


def test_testing_mode_logs_and_delivers(sts_env):
    rc, out, err = probe(sts_env, "testing.lab", server="wrong")
    assert out["decision"]["tls"] == "mta-sts"
    assert out["decision"]["required"] == "no"
    assert out["check"]["result"] == "ok", (out, err)
    assert out["check"]["verified"] == "no"
    assert out["requiretls"]["allowed"] == "no"
    assert rc == 0
    assert "event=tls.check domain=testing.lab" in err and "testing=fail" in err


def test_mode_none_and_no_record_are_opportunistic(sts_env):
    for domain in ("none.lab", "nosts.lab"):
        rc, out, err = probe(sts_env, domain)
        assert out["decision"]["tls"] == "opportunistic", (domain, out, err)
        assert out["check"]["result"] == "ok"
        assert rc == 0


def test_redirect_is_not_followed(sts_env):
    rc, out, err = probe(sts_env, "redirect.lab")
    assert "redirect.lab" in PolicyHandler.served
    assert out["decision"]["tls"] == "opportunistic", (out, err)
    assert rc == 0


def test_cache_survives_and_keeps_policy_when_fetch_fails(sts_env):
    rc, out, err = probe(sts_env, "cache.lab", cache="c2")
    assert 'sts_info="fetched"' in err
    assert os.path.exists(os.path.join(sts_env["dir"], "c2", "cache.lab"))
    # A new process, the same TXT id: the cached policy, no fetch.
    count = PolicyHandler.served.count("cache.lab")
    rc, out, err = probe(sts_env, "cache.lab", cache="c2", server="wrong")
    assert 'sts_info="cached"' in err
    assert PolicyHandler.served.count("cache.lab") == count
    assert out["check"]["result"] == "tempfail"  # still enforced
    # The policy server goes away, the cached policy stays in force.
    PolicyHandler.down.add("cache.lab")
    try:
        with open(os.path.join(sts_env["dir"], "c2", "cache.lab")) as f:
            text = f.read()
        with open(os.path.join(sts_env["dir"], "c2", "cache.lab"), "w") as f:
            f.write(text.replace("id 1\n", "id 0\n", 1))  # as if the TXT id changed
        rc, out, err = probe(sts_env, "cache.lab", cache="c2")
        assert 'sts_info="fetch failed, cached policy kept"' in err, err
        assert out["decision"]["tls"] == "mta-sts"
        assert rc == 0
    finally:
        PolicyHandler.down.discard("cache.lab")
