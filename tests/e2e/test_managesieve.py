"""ManageSieve end to end (RFC 5804; docs/managesieve.md): a raw client over
STARTTLS through every command and response code, PUTSCRIPT of a broken
script answered with its line:column, the per-user quotas, plaintext
refused before TLS, Debian's sieve-connect uploading, activating, listing,
downloading and deleting, and `tern sieve` on the same store."""
import base64
import os
import re
import shutil
import socket
import ssl
import subprocess

import pytest

from conftest import client_tls_context
from scram_client import ScramClient

USER = "alice@example.test"
PASSWORD = "correct horse battery"
SCRIPT = b'require "fileinto";\r\nif header :contains "subject" "x" { fileinto "X"; }\r\n'
BROKEN = b'require "fileinto";\r\nif header :contains "subject" "x" {\r\n  bogus "X";\r\n}\r\n'


class Client:
    """A ManageSieve client on raw sockets, one response at a time."""

    def __init__(self, port):
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=10)
        self.buf = b""
        self.greeting = self.response()

    def _fill(self):
        data = self.sock.recv(65536)
        if not data:
            raise EOFError("connection closed")
        self.buf += data

    def _line(self):
        while b"\r\n" not in self.buf:
            self._fill()
        line, self.buf = self.buf.split(b"\r\n", 1)
        return line

    def _exact(self, n):
        while len(self.buf) < n:
            self._fill()
        data, self.buf = self.buf[:n], self.buf[n:]
        return data

    def response(self):
        """(status line, [data lines / literal contents]) up to OK/NO/BYE."""
        items = []
        for _ in range(10000):
            line = self._line()
            m = re.search(rb"\{(\d+)\+?\}$", line)
            if m and not re.match(rb"^(OK|NO|BYE)\b", line):
                items.append(self._exact(int(m.group(1))))
                rest = self._line()  # what follows the literal on its line
                if rest:
                    items.append(rest)
                continue
            if re.match(rb"^(OK|NO|BYE)\b", line):
                if m:  # a literal text in the status
                    line = line[:m.start()] + self._exact(int(m.group(1)))
                    self._line()
                return line, items
            items.append(line)
        raise AssertionError("endless response")

    def cmd(self, data):
        self.sock.sendall(data + b"\r\n")
        return self.response()

    def starttls(self):
        status, _ = self.cmd(b"STARTTLS")
        assert status.startswith(b"OK")
        assert self.buf == b""
        self.sock = client_tls_context().wrap_socket(self.sock)
        return self.response()  # the capabilities again (RFC 5804 2.2)

    def login(self, user=USER, password=PASSWORD):
        ir = base64.b64encode(b"\0" + user.encode() + b"\0" + password.encode())
        return self.cmd(b'AUTHENTICATE "PLAIN" "' + ir + b'"')

    def challenge(self):
        """A server challenge: a quoted string or literal on its own line,
        decoded; or the OK/NO status line as bytes when the exchange ended."""
        line = self._line()
        m = re.fullmatch(rb'"([^"]*)"', line)
        if m:
            return base64.b64decode(m.group(1))
        m = re.fullmatch(rb"\{(\d+)\+?\}", line)
        if m:
            data = self._exact(int(m.group(1)))
            self._line()
            return base64.b64decode(data)
        return line

    def send_string(self, data):
        self.sock.sendall(b'"' + base64.b64encode(data) + b'"\r\n')

    def put(self, name, script):
        return self.cmd(b'PUTSCRIPT "%s" {%d+}\r\n%s' % (name.encode(), len(script), script))


def caps(lines):
    out = {}
    for line in lines:
        parts = re.findall(rb'"((?:[^"\\]|\\.)*)"', line)
        out[parts[0].decode().upper()] = parts[1].decode() if len(parts) > 1 else ""
    return out


@pytest.fixture
def inst(instance):
    instance.add_user(USER, PASSWORD)
    return instance


def session(inst):
    c = Client(inst.port("sieve"))
    c.starttls()
    status, _ = c.login()
    assert status.startswith(b"OK"), status
    return c


def test_capability_and_starttls(inst):
    c = Client(inst.port("sieve"))
    status, lines = c.greeting
    assert status.startswith(b"OK")
    cap = caps(lines)
    assert cap["IMPLEMENTATION"] == "Tern"
    assert "STARTTLS" in cap and cap["VERSION"] == "1.0"
    assert "fileinto" in cap["SIEVE"].split() and "vacation" in cap["SIEVE"].split()
    assert "PLAIN" not in cap["SASL"].split()  # no plaintext before TLS
    assert int(cap["MAXREDIRECTS"]) > 0 and "UNAUTHENTICATE" in cap
    # plaintext login before TLS is refused, also on loopback by default
    status, _ = c.login()
    assert status.startswith(b"NO (ENCRYPT-NEEDED)")
    status, lines = c.starttls()
    cap = caps(lines)
    assert "STARTTLS" not in cap and "PLAIN" in cap["SASL"].split()
    status, _ = c.login(password="wrong")
    assert status.startswith(b"NO")
    status, _ = c.login()
    assert status.startswith(b"OK")
    status, _ = c.cmd(b"LOGOUT")
    assert status.startswith(b"OK")


def test_authenticate_with_challenges(inst):
    c = Client(inst.port("sieve"))
    c.starttls()
    # PLAIN without an initial response: an empty challenge first
    c.sock.sendall(b'AUTHENTICATE "PLAIN"\r\n')
    assert c.challenge() == b""
    c.send_string(b"\0" + USER.encode() + b"\0" + PASSWORD.encode())
    assert c.response()[0].startswith(b"OK")
    assert c.cmd(b"UNAUTHENTICATE")[0].startswith(b"OK")
    # "*" aborts an exchange
    c.sock.sendall(b'AUTHENTICATE "PLAIN"\r\n')
    assert c.challenge() == b""
    c.sock.sendall(b'"*"\r\n')
    assert c.response()[0].startswith(b"NO")
    # SCRAM-SHA-256: the server's proof checked here
    scram = ScramClient(USER, PASSWORD)
    c.sock.sendall(b'AUTHENTICATE "SCRAM-SHA-256" "' + base64.b64encode(scram.first()) +
                   b'"\r\n')
    server_first = c.challenge()
    c.send_string(scram.final(server_first))
    server_final = c.challenge()
    if isinstance(server_final, bytes) and server_final.startswith(b"OK"):
        pytest.fail("no server-final: " + repr(server_final))
    assert scram.verify(server_final)
    c.sock.sendall(b'""\r\n')
    assert c.response()[0].startswith(b"OK")
    assert c.cmd(b"LISTSCRIPTS")[0].startswith(b"OK")


def test_scripts_lifecycle(inst):
    c = session(inst)
    assert c.cmd(b"LISTSCRIPTS") == (b'OK "Listscripts completed."', [])
    status, _ = c.put("main", SCRIPT)
    assert status.startswith(b"OK"), status
    # a broken script: the parser's error with its line and column, nothing stored
    status, _ = c.put("broken", BROKEN)
    assert re.match(rb'^NO "3:3: .*bogus', status), status
    status, _ = c.cmd(b"CHECKSCRIPT {%d+}\r\n%s" % (len(BROKEN), BROKEN))
    assert re.match(rb'^NO "3:3: ', status), status
    assert c.cmd(b'CHECKSCRIPT "keep;"')[0].startswith(b"OK")
    status, items = c.cmd(b"LISTSCRIPTS")
    assert items == [b'"main"']
    assert c.cmd(b'SETACTIVE "main"')[0].startswith(b"OK")
    assert c.cmd(b"LISTSCRIPTS")[1] == [b'"main" ACTIVE']
    sieve_dir = os.path.join(inst.maildir(USER), "sieve")
    assert open(os.path.join(sieve_dir, "active")).read() == "main"
    assert open(os.path.join(sieve_dir, "main.sieve"), "rb").read() == SCRIPT
    status, items = c.cmd(b'GETSCRIPT "main"')
    assert status.startswith(b"OK") and items == [SCRIPT]
    assert c.cmd(b'GETSCRIPT "nope"')[0].startswith(b"NO (NONEXISTENT)")
    assert c.cmd(b'DELETESCRIPT "main"')[0].startswith(b"NO (ACTIVE)")
    assert c.put("other", b"keep;\r\n")[0].startswith(b"OK")
    assert c.cmd(b'RENAMESCRIPT "other" "main"')[0].startswith(b"NO (ALREADYEXISTS)")
    assert c.cmd(b'RENAMESCRIPT "main" "renamed"')[0].startswith(b"OK")
    assert c.cmd(b"LISTSCRIPTS")[1] == [b'"other"', b'"renamed" ACTIVE']
    assert c.cmd(b'SETACTIVE ""')[0].startswith(b"OK")
    assert not os.path.exists(os.path.join(sieve_dir, "active"))
    assert c.cmd(b'DELETESCRIPT "renamed"')[0].startswith(b"OK")
    assert c.cmd(b'DELETESCRIPT "renamed"')[0].startswith(b"NO (NONEXISTENT)")
    assert c.cmd(b'PUTSCRIPT "a/b" "keep;"')[0].startswith(b"NO")
    assert c.cmd(b'NOOP "t1"')[0] == b'OK (TAG "t1") "Done."'
    assert c.cmd(b"UNAUTHENTICATE")[0].startswith(b"OK")
    assert c.cmd(b"LISTSCRIPTS")[0].startswith(b"NO")
    assert c.login()[0].startswith(b"OK")
    assert c.cmd(b"LISTSCRIPTS")[1] == [b'"other"']


def test_big_script_streams(inst):
    c = session(inst)
    script = b"keep;\r\n" + b"".join(b"# comment line %06d\r\n" % i for i in range(5000))
    assert len(script) > 100000
    assert c.put("big", script)[0].startswith(b"OK")
    assert c.cmd(b'GETSCRIPT "big"')[1] == [script]
    assert not [n for n in os.listdir(os.path.join(inst.maildir(USER), "sieve"))
                if n.startswith(".")]


def test_quotas(inst):
    with open(inst.config, "a") as f:
        f.write("\nmanagesieve {\n\tmax_scripts = 2\n\tmax_script_size = 1K\n}\n")
    inst.restart()
    c = session(inst)
    assert c.cmd(b'HAVESPACE "a" 1024')[0].startswith(b"OK")
    assert c.cmd(b'HAVESPACE "a" 1025')[0].startswith(b"NO (QUOTA/MAXSIZE)")
    assert c.put("a", b"keep;")[0].startswith(b"OK")
    assert c.put("b", b"keep;")[0].startswith(b"OK")
    assert c.cmd(b'HAVESPACE "c" 10')[0].startswith(b"NO (QUOTA/MAXSCRIPTS)")
    assert c.put("c", b"keep;")[0].startswith(b"NO (QUOTA/MAXSCRIPTS)")
    assert c.put("a", b"stop;")[0].startswith(b"OK")  # replacing is no new script
    big = b"keep;" + b"#" * 2000
    assert c.put("a", big)[0].startswith(b"NO (QUOTA/MAXSIZE)")
    # a literal over the quota is skipped and the session goes on
    big = b"keep;" + b"#" * 5000
    assert c.put("a", big)[0].startswith(b"NO (QUOTA/MAXSIZE)")
    assert c.cmd(b'GETSCRIPT "a"')[1] == [b"stop;"]


def sieve_connect(inst, *args):
    return subprocess.run(
        ["sieve-connect", "--server", "127.0.0.1", "--port", str(inst.port("sieve")),
         "--user", USER, "--passwordfd", "0", "--notlsverify", *args],
        input=PASSWORD + "\n", capture_output=True, text=True, timeout=60)


@pytest.mark.skipif(shutil.which("sieve-connect") is None, reason="sieve-connect not installed")
def test_sieve_connect(inst, tmp_path):
    local = tmp_path / "filter.siv"
    local.write_bytes(SCRIPT)
    r = sieve_connect(inst, "--localsieve", str(local), "--remotesieve", "filter", "--upload")
    assert r.returncode == 0, r.stderr
    r = sieve_connect(inst, "--remotesieve", "filter", "--activate")
    assert r.returncode == 0, r.stderr
    r = sieve_connect(inst, "--list")
    assert r.returncode == 0, r.stderr
    assert r.stdout.splitlines() == ['"filter" ACTIVE'], r.stdout
    out = tmp_path / "down.siv"
    r = sieve_connect(inst, "--remotesieve", "filter", "--localsieve", str(out), "--download")
    assert r.returncode == 0, r.stderr
    assert out.read_bytes().replace(b"\r\n", b"\n") == SCRIPT.replace(b"\r\n", b"\n")
    assert inst.tern("sieve", "list", USER).stdout == "filter ACTIVE\n"
    broken = tmp_path / "broken.siv"
    broken.write_bytes(BROKEN)
    r = sieve_connect(inst, "--localsieve", str(broken), "--remotesieve", "b", "--upload")
    assert r.returncode != 0 and "3:3" in r.stdout + r.stderr
    r = sieve_connect(inst, "--deactivate")
    assert r.returncode == 0, r.stderr
    r = sieve_connect(inst, "--remotesieve", "filter", "--delete")
    assert r.returncode == 0, r.stderr
    assert inst.tern("sieve", "list", USER).stdout == ""


def test_tern_sieve_cli(inst, tmp_path):
    script = tmp_path / "s.sieve"
    script.write_bytes(SCRIPT)
    inst.tern("sieve", "put", USER, "main", str(script))
    inst.tern("sieve", "put", USER, "second", stdin="keep;\n")
    inst.tern("sieve", "activate", USER, "main")
    assert inst.tern("sieve", "list", USER).stdout == "main ACTIVE\nsecond\n"
    # (text mode: the CRLFs read as LFs)
    assert inst.tern("sieve", "get", USER, "main").stdout == SCRIPT.decode().replace("\r\n", "\n")
    r = inst.tern("sieve", "put", USER, "bad", stdin=BROKEN.decode(), check=False)
    assert r.returncode == 1
    assert re.fullmatch(r"tern: 3:3: .*\n", r.stderr), r.stderr
    assert inst.tern("sieve", "check", USER, stdin=BROKEN.decode(), check=False).returncode == 1
    assert inst.tern("sieve", "check", USER, str(script)).returncode == 0
    assert inst.tern("sieve", "activate", USER, "nope", check=False).returncode == 1
    # the server sees what the CLI stored
    c = session(inst)
    assert c.cmd(b"LISTSCRIPTS")[1] == [b'"main" ACTIVE', b'"second"']
    inst.tern("sieve", "deactivate", USER)
    assert c.cmd(b"LISTSCRIPTS")[1] == [b'"main"', b'"second"']


def test_bad_commands_close_the_session(inst):
    c = Client(inst.port("sieve"))
    for i in range(100):
        status, _ = c.cmd(b"BOGUS %d" % i)
        if status.startswith(b"BYE"):
            break
        assert status.startswith(b"NO")
    assert status.startswith(b"BYE") and i < 50
    with pytest.raises((EOFError, ConnectionError)):
        c.cmd(b"NOOP")
