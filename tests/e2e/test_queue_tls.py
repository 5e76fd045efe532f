"""The queue's TLS policy end to end (docs/queue.md, "TLS policy"): a message
submitted on 587 goes through the queue role to an MX whose TLS the policy
decides. DANE with a zone signed by ldns-signzone and served by NSD (the
fixture of test_dane.py; the queue's resolver forwards to it with the zone's
DS as its trust anchor), MTA-STS with the local HTTPS policy server of
test_mta_sts.py, Debian's Postfix as a real STARTTLS peer, and a second Tern
instance that checks the first's DKIM signature."""
import os
import re
import shutil
import smtplib
import socket
import ssl
import subprocess
import tempfile
import threading
import time

import pytest

from conftest import Instance, client_tls_context
from test_dane import NSD, dane_env  # noqa: F401 (a fixture)
from test_mta_sts import ZONE as STS_ZONE
from test_mta_sts import sts_env  # noqa: F401 (a fixture)
from tls_policy_helpers import SmtpServer, make_ca, make_leaf, write_pem

PASSWORD = "correct horse battery staple"
ALICE = "alice@example.test"
POSTFIX = shutil.which("postfix") or "/usr/sbin/postfix"


class SinkServer(SmtpServer):
    """SmtpServer that also takes mail: MAIL, RCPT, DATA. Records each
    message as (tls, data) and counts MAIL commands seen in clear text."""

    def __init__(self, chain_pem=None, key_pem=None):
        self.messages = []
        self.plain_mail = 0
        super().__init__(chain_pem, key_pem)

    def _session(self, conn):
        f = conn.makefile("rwb")
        f.write(b"220 sink ESMTP test\r\n")
        f.flush()
        for _ in range(100):
            line = f.readline()
            if not line:
                return
            verb = line.strip().upper()
            tls = isinstance(conn, ssl.SSLSocket)
            if verb.startswith(b"EHLO"):
                ext = b"250-STARTTLS\r\n" if self.ctx is not None and not tls else b""
                f.write(b"250-sink\r\n" + ext + b"250-8BITMIME\r\n250 PIPELINING\r\n")
            elif verb == b"STARTTLS" and self.ctx is not None and not tls:
                f.write(b"220 go ahead\r\n")
                f.flush()
                conn = self.ctx.wrap_socket(conn, server_side=True)
                self.handshakes += 1
                f = conn.makefile("rwb")
                continue
            elif verb.startswith(b"MAIL"):
                if not tls:
                    self.plain_mail += 1
                f.write(b"250 ok\r\n")
            elif verb.startswith(b"RCPT") or verb == b"RSET" or verb == b"NOOP":
                f.write(b"250 ok\r\n")
            elif verb == b"DATA":
                f.write(b"354 go\r\n")
                f.flush()
                data = b""
                for _ in range(100000):
                    chunk = f.readline()
                    if not chunk or chunk == b".\r\n":
                        break
                    data += chunk
                self.messages.append((tls, data))
                f.write(b"250 queued\r\n")
            elif verb == b"QUIT":
                f.write(b"221 bye\r\n")
                f.flush()
                return
            else:
                f.write(b"502 no\r\n")
            f.flush()


def make_sender(base, queue_keys, dns_block=None, zone="", files=()):
    """A Tern instance on 127.0.0.1 with alice; queue_keys: lines for its
    queue { } section; dns_block replaces conftest's dns { } section. The
    paths in files (under pytest's 0700 temp dirs) are copied into the
    instance, where its roles can read them, and replaced in both."""
    inst = Instance(base)
    inst.add_user(ALICE, PASSWORD)
    for i, path in enumerate(files):
        copy = os.path.join(inst.dir, f"test-file{i}.pem")
        shutil.copy(path, copy)
        os.chmod(copy, 0o644)
        queue_keys = queue_keys.replace(path, copy)
        dns_block = dns_block.replace(path, copy) if dns_block else dns_block
    inst.write_zone(zone)
    with open(inst.config) as f:
        text = f.read()
    if dns_block is not None:
        text, n = re.subn(r"\ndns \{\n[^}]*\}\n", "\n" + dns_block, text)
        assert n == 1
    text += ("\nqueue {\n\tretry_first = 60s\n\tcommand_timeout = 10s\n"
             "\tgreeting_timeout = 10s\n\tconnect_timeout = 5s\n%s}\n" % queue_keys)
    with open(inst.config, "w") as f:
        f.write(text)
    inst.start()
    inst.wait_for_log("role=queue event=role.ready")
    return inst


def submit(inst, rcpt, subject, mail_options=()):
    body = (f"From: <{ALICE}>\r\nTo: <{rcpt}>\r\nSubject: {subject}\r\n"
            f"Message-ID: <{subject}@example.test>\r\n\r\nhello over TLS\r\n")
    with smtplib.SMTP("127.0.0.1", inst.port("submission"), timeout=30) as c:
        c.ehlo("client.example")
        c.starttls(context=client_tls_context())
        c.ehlo("client.example")
        c.login(ALICE, PASSWORD)
        c.sendmail(ALICE, [rcpt], body.encode(), mail_options=list(mail_options))


def delivery_lines(inst, rcpt):
    return [line for line in inst.log().splitlines()
            if "event=queue.delivery " in line and f"rcpt=<{rcpt}>" in line]


def wait_delivery_line(inst, rcpt, timeout=30):
    deadline = time.time() + timeout
    while time.time() < deadline:
        lines = delivery_lines(inst, rcpt)
        if lines:
            return lines[-1]
        time.sleep(0.1)
    raise AssertionError(f"no delivery line for {rcpt}; log:\n{inst.log()}")


def queue_ids(inst):
    d = os.path.join(inst.dir, "queue")
    return sorted(n[:-4] for n in os.listdir(d) if n.endswith(".env"))


def stop(inst):
    if inst.proc is not None:
        inst.stop()
    inst.check_sanitizers()


# ---- DANE ----

@pytest.fixture
def dane_sender(dane_env, instance_dir):  # noqa: F811
    d = os.path.dirname(dane_env["ds"])
    sink = SinkServer(os.path.join(d, "chain.pem"), os.path.join(d, "key.pem"))
    dns = ("dns {\n\tforwarders = %s\n\ttrust_anchor_file = %s\n\ttimeout = 5s\n}\n"
           % (dane_env["dns"], dane_env["ds"]))
    inst = make_sender(instance_dir, f"\tport = {sink.port}\n", dns_block=dns,
                       files=[dane_env["ds"]])
    yield inst, sink
    stop(inst)
    sink.close()


def test_dane_tlsa_match_delivers_with_tls_dane(dane_sender):
    inst, sink = dane_sender
    submit(inst, "bob@signed.lab", "dane-ok")
    line = wait_delivery_line(inst, "bob@signed.lab")
    assert "result=sent" in line, inst.log()
    assert "mx=mx.signed.lab" in line and "tls=dane" in line
    assert len(sink.messages) == 1 and sink.messages[0][0] is True
    assert b"Subject: dane-ok" in sink.messages[0][1]
    assert sink.plain_mail == 0
    assert "event=tls.policy domain=signed.lab mx=mx.signed.lab mx_secure=yes tls=dane" \
        in inst.log()


def test_dane_tlsa_mismatch_is_held_never_plaintext(dane_sender):
    inst, sink = dane_sender
    submit(inst, "bob@wrong.signed.lab", "dane-wrong")
    line = wait_delivery_line(inst, "bob@wrong.signed.lab")
    assert "result=deferred" in line, inst.log()
    assert "reply=\"TLSA mismatch" in line, line
    assert "tls=dane" in line and "status=4.7.5" in line
    assert sink.messages == [] and sink.plain_mail == 0
    ids = queue_ids(inst)
    assert len(ids) == 1
    show = inst.tern("queue", "show", ids[0]).stdout
    assert "delivery <bob@wrong.signed.lab> pending attempts=1" in show, show
    assert "tls=dane tls_verified=no" in show and "TLSA%20mismatch" in show, show


def test_dane_mx_without_starttls_is_held(dane_env, instance_dir):  # noqa: F811
    """The same secure TLSA records, but the MX offers no STARTTLS: the
    queue QUITs before MAIL (no downgrade) and keeps the message."""
    sink = SinkServer()
    dns = ("dns {\n\tforwarders = %s\n\ttrust_anchor_file = %s\n}\n"
           % (dane_env["dns"], dane_env["ds"]))
    inst = make_sender(instance_dir, f"\tport = {sink.port}\n", dns_block=dns,
                       files=[dane_env["ds"]])
    try:
        submit(inst, "bob@signed.lab", "dane-plain")
        line = wait_delivery_line(inst, "bob@signed.lab")
        assert "result=deferred" in line and "status=4.7.5" in line, inst.log()
        assert "tls=none" in line and "STARTTLS" in line, line
        assert sink.plain_mail == 0 and sink.messages == []
        assert len(queue_ids(inst)) == 1
    finally:
        stop(inst)
        sink.close()


def test_requiretls_bounces_without_a_verified_requiretls_peer(dane_sender):
    """RFC 8689: none.signed.lab's MX has no TLSA (opportunistic: refused
    before connecting); signed.lab's is DANE-verified but does not offer
    REQUIRETLS. Both bounce with 5.7.30 and nothing is sent."""
    inst, sink = dane_sender
    for rcpt in ("bob@none.signed.lab", "bob@signed.lab"):
        submit(inst, rcpt, "requiretls", mail_options=["REQUIRETLS"])
        line = wait_delivery_line(inst, rcpt)
        assert "result=bounced" in line and "status=5.7.30" in line, inst.log()
    assert sink.messages == [] and sink.plain_mail == 0
    assert sink.handshakes == 1  # only signed.lab's MX was connected to


# ---- MTA-STS ----

def sts_sender(env, base, server_port):
    zone = STS_ZONE + "mx.enforce.lab A 127.0.0.1\nmx.testing.lab A 127.0.0.1\n"
    keys = (f"\tport = {server_port}\n\tmta_sts_ca_file = {env['ca']}\n"
            f"\tmta_sts_fetch_ca_file = {env['ca']}\n\tmta_sts_fetch_port = {env['port']}\n"
            f"\tmta_sts_fetch_resolve = mta-sts.enforce.lab:{env['port']}:127.0.0.1\n")
    return make_sender(base, keys, zone=zone, files=[env["ca"]])


def test_mta_sts_enforce_wrong_certificate_is_held(sts_env, instance_dir):  # noqa: F811
    inst = sts_sender(sts_env, instance_dir, sts_env["wrong"].port)
    try:
        submit(inst, "bob@enforce.lab", "sts-wrong")
        line = wait_delivery_line(inst, "bob@enforce.lab")
        assert "result=deferred" in line, inst.log()
        assert "tls=mta-sts" in line and "reply=\"MTA-STS certificate:" in line, line
        assert 'mta_sts=enforce sts_info="fetched"' in inst.log()
        assert os.path.exists(os.path.join(inst.dir, "queue", "mta-sts", "enforce.lab"))
        ids = queue_ids(inst)
        assert len(ids) == 1
        show = inst.tern("queue", "show", ids[0]).stdout
        assert "pending attempts=1" in show and "tls=mta-sts" in show, show
    finally:
        stop(inst)


def test_mta_sts_enforce_matching_certificate_delivers(sts_env, instance_dir):  # noqa: F811
    d = sts_env["dir"]
    sink = SinkServer(os.path.join(d, "mx.pem"), os.path.join(d, "mx.key"))
    inst = sts_sender(sts_env, instance_dir, sink.port)
    try:
        submit(inst, "bob@enforce.lab", "sts-ok")
        line = wait_delivery_line(inst, "bob@enforce.lab")
        assert "result=sent" in line and "tls=mta-sts" in line, inst.log()
        assert len(sink.messages) == 1 and sink.messages[0][0] is True
        assert sink.plain_mail == 0
    finally:
        stop(inst)
        sink.close()


# ---- Postfix as the remote MX ----

POSTFIX_MASTER = """\
127.0.0.1:{port} inet n - n - - smtpd
pickup    unix  n       -       n       60      1       pickup
cleanup   unix  n       -       n       -       0       cleanup
qmgr      unix  n       -       n       300     1       qmgr
tlsmgr    unix  -       -       n       1000?   1       tlsmgr
rewrite   unix  -       -       n       -       -       trivial-rewrite
bounce    unix  -       -       n       -       0       bounce
defer     unix  -       -       n       -       0       bounce
trace     unix  -       -       n       -       0       bounce
verify    unix  -       -       n       -       1       verify
flush     unix  n       -       n       1000?   0       flush
proxymap  unix  -       -       n       -       -       proxymap
smtp      unix  -       -       n       -       -       smtp
relay     unix  -       -       n       -       -       smtp
showq     unix  n       -       n       -       -       showq
error     unix  -       -       n       -       -       error
retry     unix  -       -       n       -       -       error
discard   unix  -       -       n       -       -       discard
anvil     unix  -       -       n       -       1       anvil
scache    unix  -       -       n       -       1       scache
postlog   unix-dgram n  -       n       -       1       postlogd
"""

POSTFIX_MAIN = """\
compatibility_level = 3.6
queue_directory = {dir}/queue
data_directory = {dir}/data
maillog_file = {dir}/maillog
maillog_file_prefixes = {dir}
mail_owner = postfix
setgid_group = postdrop
myhostname = mx.remote.test
mydomain = remote.test
myorigin = $myhostname
mydestination =
inet_interfaces = 127.0.0.1
inet_protocols = ipv4
mynetworks = 127.0.0.0/8
alias_maps =
alias_database =
local_recipient_maps =
relayhost =
smtp_dns_support_level = disabled
smtp_host_lookup = native
default_transport = error:no remote delivery in this test
relay_transport = error:no remote delivery in this test
virtual_mailbox_domains = remote.test
virtual_mailbox_maps =
smtpd_reject_unlisted_recipient = no
virtual_transport = discard:taken by the test MX
smtputf8_enable = no
biff = no
smtpd_tls_security_level = may
smtpd_tls_cert_file = {dir}/cert.pem
smtpd_tls_key_file = {dir}/key.pem
smtpd_tls_loglevel = 1
smtpd_tls_received_header = yes
# logs the EHLO name the client gave (helo=<...>)
smtpd_helo_restrictions = check_helo_access static:WARN
"""


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def run_postfix(confdir, *args):
    return subprocess.run([POSTFIX, "-c", confdir] + list(args), capture_output=True,
                          text=True, timeout=60)


@pytest.fixture
def postfix_mx():
    if not os.path.exists(POSTFIX) or os.geteuid() != 0:
        pytest.skip("needs Debian's postfix (scripts/install-deps.sh --test) and root")
    import pwd
    d = tempfile.mkdtemp(prefix="tern-postfix-mx-")
    os.chmod(d, 0o755)
    for sub in ("queue", "data"):
        os.mkdir(os.path.join(d, sub))
    pw = pwd.getpwnam("postfix")
    os.chown(os.path.join(d, "data"), pw.pw_uid, pw.pw_gid)
    ca_key, ca = make_ca()
    key, cert = make_leaf(ca_key, ca, ["mx.remote.test"])
    write_pem(os.path.join(d, "cert.pem"), certs=[cert, ca])
    write_pem(os.path.join(d, "key.pem"), key=key)
    port = free_port()
    with open(os.path.join(d, "main.cf"), "w") as f:
        f.write(POSTFIX_MAIN.format(dir=d))
    with open(os.path.join(d, "master.cf"), "w") as f:
        f.write(POSTFIX_MASTER.format(port=port))
    proc = run_postfix(d, "check")
    assert proc.returncode == 0, proc.stderr
    proc = run_postfix(d, "start")
    assert proc.returncode == 0, proc.stderr
    deadline = time.time() + 60
    while time.time() < deadline:
        with socket.socket() as s:
            if s.connect_ex(("127.0.0.1", port)) == 0:
                break
        time.sleep(0.1)
    else:
        pytest.fail("postfix smtpd never listened")

    def log():
        try:
            with open(os.path.join(d, "maillog"), errors="replace") as f:
                return f.read()
        except OSError:
            return ""
    yield {"port": port, "log": log}
    if run_postfix(d, "stop").returncode != 0:
        run_postfix(d, "abort")
    pidfile = os.path.join(d, "queue", "pid", "master.pid")
    try:
        with open(pidfile) as f:
            pid = int(f.read().split()[0])
        for _ in range(100):
            os.kill(pid, 0)
            time.sleep(0.1)
        os.kill(pid, 9)
    except (OSError, ValueError, IndexError):
        pass
    shutil.rmtree(d, ignore_errors=True)


@pytest.mark.timeout(180)
def test_postfix_mx_over_starttls(postfix_mx, instance_dir):
    zone = "remote.test MX 10 mx.remote.test\nmx.remote.test A 127.0.0.1\n"
    inst = make_sender(instance_dir, f"\tport = {postfix_mx['port']}\n", zone=zone)
    try:
        submit(inst, "bob@remote.test", "to-postfix")
        line = wait_delivery_line(inst, "bob@remote.test", timeout=60)
        assert "result=sent" in line, inst.log() + postfix_mx["log"]()
        assert "tls=opportunistic" in line and "mx=mx.remote.test" in line
        deadline = time.time() + 60
        log = ""
        while time.time() < deadline:
            log = postfix_mx["log"]()
            if "to=<bob@remote.test>" in log and "status=sent" in log:
                break
            time.sleep(0.2)
        assert re.search(r"TLS connection established from \S+\[127\.0\.0\.1\]", log), log
        assert "to=<bob@remote.test>" in log and "status=sent" in log, log
        # the EHLO name is the queue's (queue.helo_name unset: the hostname)
        assert "helo=<mail.example.test>" in log, log
    finally:
        stop(inst)


# ---- a second Tern: DKIM passes ----

def dns_zone_lines(records):
    """`tern dns` output -> zone file lines (TXT strings of 255 bytes)."""
    out = []
    for line in records.splitlines():
        m = re.match(r'^(\S+)\.\s+IN\s+TXT\s+(.*)$', line)
        if not m or "_domainkey" not in m.group(1):
            continue
        text = "".join(re.findall(r'"([^"]*)"', m.group(2)))
        parts = [text[i:i + 255] for i in range(0, len(text), 255)]
        out.append(f"{m.group(1)} TXT " + " ".join(f'"{p}"' for p in parts))
    return out


@pytest.mark.timeout(120)
def test_submitted_message_arrives_dkim_pass_at_second_tern(instance_dir):
    os.makedirs(os.path.join(instance_dir, "a"))
    os.makedirs(os.path.join(instance_dir, "b"))
    first = Instance(os.path.join(instance_dir, "a"))
    first.add_user(ALICE, PASSWORD)
    keys = dns_zone_lines(first.tern("dns", "example.test").stdout)
    assert keys, "no DKIM record from tern dns"
    second = Instance(os.path.join(instance_dir, "b"), ip="127.0.0.2", hostname="mx.other.test")
    second.tern("domain", "add", "other.test")
    second.add_user("bob@other.test", PASSWORD)
    second.write_zone("\n".join(keys) + "\n")
    second.start()
    first.write_zone("other.test MX 10 mx.other.test\nmx.other.test A 127.0.0.2\n")
    with open(first.config, "a") as f:
        f.write("\nqueue {\n\tport = %d\n\thelo_name = out.example.test\n}\n"
                % second.port("smtp"))
    first.start()
    try:
        first.wait_for_log("role=queue event=role.ready")
        submit(first, "bob@other.test", "signed-out")
        line = wait_delivery_line(first, "bob@other.test")
        assert "result=sent" in line and "tls=opportunistic" in line, first.log()
        new = os.path.join(second.maildir("bob@other.test"), "new")
        deadline = time.time() + 20
        while time.time() < deadline and not (os.path.isdir(new) and os.listdir(new)):
            time.sleep(0.1)
        names = os.listdir(new)
        assert len(names) == 1
        with open(os.path.join(new, names[0]), "rb") as f:
            msg = f.read()
        head = msg.split(b"\r\n\r\n", 1)[0].replace(b"\r\n\t", b" ").replace(b"\r\n ", b" ")
        ar = [h for h in head.split(b"\r\n") if h.lower().startswith(b"authentication-results:")]
        assert ar and b"dkim=pass" in ar[0] and b"header.d=example.test" in ar[0], head
        assert b"DKIM-Signature:" in msg
        # the queue.helo_name the second saw
        assert "out.example.test" in second.log(), second.log()
    finally:
        for inst in (first, second):
            stop(inst)
