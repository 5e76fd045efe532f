"""Tern with Debian's rspamd as a milter (its proxy worker in milter mode,
self-scanning, no Redis, DNS pointed at a closed loopback port): GTUBE is
rejected with rspamd's text, a clean message is delivered with rspamd's
header (docs/filter.md). Skipped without /usr/bin/rspamd."""
import glob
import os
import signal
import smtplib
import socket
import subprocess
import time

import pytest

from conftest import Instance

RSPAMD = "/usr/bin/rspamd"
USER = "rcpt@example.test"
GTUBE = "XJS*C4JDBQADN1.NSBN3*2IDNEN*GTUBE-STANDARD-ANTI-UBE-TEST-EMAIL*C.34X"

pytestmark = pytest.mark.skipif(not os.path.exists(RSPAMD), reason="rspamd not installed")


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def write(path, text):
    with open(path, "w") as f:
        f.write(text)


@pytest.fixture
def rspamd(instance_dir):
    base = os.path.join(instance_dir, "rspamd")
    local = os.path.join(base, "local", "override.d")
    for d in (local, os.path.join(base, "db"), os.path.join(base, "run")):
        os.makedirs(d)
    port = free_port()
    write(os.path.join(local, "worker-proxy.inc"),
          'bind_socket = "127.0.0.1:%d";\nmilter = yes;\ntimeout = 30s;\ncount = 1;\n'
          'upstream "local" {\n  default = yes;\n  self_scan = yes;\n}\n' % port)
    for w in ("worker-normal.inc", "worker-controller.inc", "worker-fuzzy.inc"):
        write(os.path.join(local, w), "enabled = false;\n")
    # every DNS query goes to a closed loopback port: nothing leaves the host
    write(os.path.join(local, "options.inc"),
          'dns {\n  nameserver = ["127.0.0.1:1"];\n  timeout = 1s;\n  retransmits = 1;\n}\n')
    write(os.path.join(local, "logging.inc"),
          'type = "file";\nfilename = "%s/rspamd.log";\nlevel = "info";\n' % base)
    # the client is on loopback: rspamd skips local senders by default
    write(os.path.join(local, "milter_headers.conf"),
          "use = [\"x-spamd-result\"];\nskip_local = false;\nskip_authenticated = false;\n")
    write(os.path.join(local, "redis.conf"), "enabled = false;\n")
    proc = subprocess.Popen(
        [RSPAMD, "-f", "-i", "-u", "root", "-g", "root", "-c", "/etc/rspamd/rspamd.conf",
         "--var", "LOCAL_CONFDIR=" + os.path.join(base, "local"),
         "--var", "DBDIR=" + os.path.join(base, "db"),
         "--var", "RUNDIR=" + os.path.join(base, "run"), "--var", "LOGDIR=" + base],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    deadline = time.time() + 90
    while time.time() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            break
        except OSError:
            time.sleep(0.5)
    else:
        os.killpg(proc.pid, signal.SIGKILL)
        pytest.fail("rspamd did not start")
    yield port
    os.killpg(proc.pid, signal.SIGTERM)
    try:
        proc.wait(timeout=20)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(timeout=10)


@pytest.fixture
def inst(instance_dir, rspamd):
    i = Instance(instance_dir)
    with open(i.config, "a") as f:
        f.write("\nmilter rspamd {\n\taddress = 127.0.0.1:%d\n\tdefault_action = tempfail\n"
                "\ttimeout = 60s\n\tlisteners = smtp\n}\n" % rspamd)
    i.start()
    i.add_user(USER, "password1234")
    yield i
    i.stop()
    i.check_sanitizers()


def send(inst, subject, body):
    msg = ("From: sender@example.org\r\nTo: %s\r\nSubject: %s\r\n"
           "Message-ID: <t1@example.org>\r\nDate: Fri, 04 Dec 2026 20:00:00 +0000\r\n\r\n%s"
           % (USER, subject, body))
    with smtplib.SMTP("127.0.0.1", inst.port("smtp"), timeout=90) as c:
        c.ehlo("client.example")
        c.sendmail("sender@example.org", [USER], msg)


def test_gtube_rejected_clean_delivered(inst):
    with pytest.raises(smtplib.SMTPDataError) as e:
        send(inst, "test", "This is spam.\r\n" + GTUBE + "\r\n")
    assert e.value.smtp_code == 554, e.value
    assert b"5.7.1 Gtube pattern" in e.value.smtp_error
    send(inst, "hello", "A clean message about the weather.\r\n")
    files = glob.glob(os.path.join(inst.maildir(USER), "new", "*"))
    assert len(files) == 1
    msg = open(files[0], "rb").read()
    assert b"X-Spamd-Result:" in msg
    assert b"Subject: hello" in msg
