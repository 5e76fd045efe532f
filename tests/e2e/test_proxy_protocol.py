"""The PROXY protocol (docs/guard.md): Debian's HAProxy in front of Tern
with `send-proxy` (v1) and `send-proxy-v2`; the log, Received: and the
guard's ban show the original client's address, not the proxy's."""
import glob
import os
import re
import smtplib
import socket
import subprocess
import time

import pytest

from conftest import Instance
from test_guard import PASSWORD, USER, imaps_login

def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def add_to_listener(text, service, line):
    head = "listener %s {\n" % service
    assert head in text
    return text.replace(head, head + "\t" + line + "\n")


HAPROXY_CFG = """global
    maxconn 200
defaults
    mode tcp
    timeout connect 5s
    timeout client 30s
    timeout server 30s
frontend smtp_v1
    bind 127.0.0.1:{smtp}
    default_backend smtp_b
backend smtp_b
    server tern 127.0.0.1:{tern_smtp} send-proxy
frontend imaps_v2
    bind 127.0.0.1:{imaps}
    default_backend imaps_b
backend imaps_b
    server tern 127.0.0.1:{tern_imaps} send-proxy-v2
"""


class Proxied:
    def __init__(self, base):
        self.inst = Instance(base)
        self.inst.add_user(USER, PASSWORD)
        with open(self.inst.config) as f:
            text = f.read()
        for service in ("smtp", "imaps"):
            text = add_to_listener(text, service, "proxy_protocol = 127.0.0.1/32")
        text += ("\nguard {\n\tmax_failures = 3\n\tban_time = 1h\n"
                 "\tallow = 127.0.0.1/32\n}\n")
        with open(self.inst.config, "w") as f:
            f.write(text)
        self.inst.start()
        self.smtp, self.imaps = free_port(), free_port()
        cfg = os.path.join(base, "haproxy.cfg")
        with open(cfg, "w") as f:
            f.write(HAPROXY_CFG.format(smtp=self.smtp, imaps=self.imaps,
                                       tern_smtp=self.inst.port("smtp"),
                                       tern_imaps=self.inst.port("imaps")))
        self.haproxy = subprocess.Popen(["haproxy", "-f", cfg, "-db"],
                                        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        for port in (self.smtp, self.imaps):
            self.inst.wait_port(port)

    def stop(self):
        self.haproxy.terminate()
        self.haproxy.wait(10)
        self.inst.stop()
        self.inst.check_sanitizers()


@pytest.fixture
def proxied(instance_dir):
    p = Proxied(instance_dir)
    yield p
    p.stop()


def test_v1_client_address_in_log_and_received(proxied):
    inst = proxied.inst
    c = smtplib.SMTP("127.0.0.1", proxied.smtp, timeout=30, source_address=("127.0.0.5", 0))
    c.ehlo("client.example")
    c.sendmail("someone@remote.test", [USER],
               b"From: someone@remote.test\r\nSubject: via proxy\r\n\r\nhello\r\n")
    c.quit()
    inst.wait_for_log("event=smtp.connect ip=127.0.0.5 ")
    files = []
    deadline = time.time() + 10
    while not files and time.time() < deadline:
        files = glob.glob(os.path.join(inst.maildir(USER), "new", "*"))
        time.sleep(0.1)
    with open(files[0], "rb") as f:
        received = f.read().split(b"\r\n\r\n")[0]
    assert re.search(rb"Received: from .*\[127\.0\.0\.5\]", received.replace(b"\r\n\t", b" "))


def test_v2_ban_is_the_clients(proxied):
    inst = proxied.inst
    for _ in range(3):
        assert imaps_login(inst, "127.0.0.5", "wrong", port=proxied.imaps).startswith(b"a NO")
    inst.wait_for_log("event=guard.ban ip=127.0.0.5 ")
    # through the same proxy: the banned client is refused, another is not
    assert imaps_login(inst, "127.0.0.5", PASSWORD, port=proxied.imaps) is None
    assert imaps_login(inst, "127.0.0.6", PASSWORD, port=proxied.imaps).startswith(b"a OK")
    assert "event=guard.ban ip=127.0.0.1" not in inst.log()


def test_header_required_from_proxy_only(proxied):
    inst = proxied.inst
    # the proxy's address without a header: refused, logged
    with socket.create_connection(("127.0.0.1", inst.port("smtp")), timeout=10) as s:
        s.sendall(b"EHLO x\r\n")
        try:
            assert s.recv(100) == b""
        except ConnectionResetError:  # closed with our bytes unread
            pass
    inst.wait_for_log("event=proxy.failed ip=127.0.0.1")
    # any other address connects as it is
    c = smtplib.SMTP("127.0.0.1", inst.port("smtp"), timeout=30, source_address=("127.0.0.2", 0))
    assert c.ehlo("client.example")[0] == 250
    c.quit()
    inst.wait_for_log("event=smtp.connect ip=127.0.0.2 ")
