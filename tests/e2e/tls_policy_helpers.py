"""Helpers for test_dane.py and test_mta_sts.py: certificates made in the
test, a tiny SMTP server with STARTTLS on loopback, and the probe program
(tests/probe/tls-policy-probe.c) that drives src/queue/tls-policy.h."""
import datetime
import hashlib
import os
import socket
import ssl
import subprocess
import threading

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from conftest import TERN_BIN

PROBE = os.path.join(os.path.dirname(TERN_BIN), "tests", "probe", "tls-policy-probe")


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _name(cn):
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, cn)])


def make_ca(cn="Tern Test CA"):
    key = ec.generate_private_key(ec.SECP256R1())
    now = datetime.datetime.now(datetime.timezone.utc)
    cert = (x509.CertificateBuilder().subject_name(_name(cn)).issuer_name(_name(cn))
            .public_key(key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(minutes=5))
            .not_valid_after(now + datetime.timedelta(days=1))
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
            .add_extension(x509.KeyUsage(digital_signature=False, content_commitment=False,
                                         key_encipherment=False, data_encipherment=False,
                                         key_agreement=False, key_cert_sign=True,
                                         crl_sign=True, encipher_only=False,
                                         decipher_only=False), critical=True)
            .sign(key, hashes.SHA256()))
    return key, cert


def make_leaf(ca_key, ca_cert, names):
    key = ec.generate_private_key(ec.SECP256R1())
    now = datetime.datetime.now(datetime.timezone.utc)
    cert = (x509.CertificateBuilder().subject_name(_name(names[0]))
            .issuer_name(ca_cert.subject).public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(minutes=5))
            .not_valid_after(now + datetime.timedelta(days=1))
            .add_extension(x509.SubjectAlternativeName([x509.DNSName(n) for n in names]),
                           critical=False)
            .sign(ca_key, hashes.SHA256()))
    return key, cert


def write_pem(path, key=None, certs=()):
    with open(path, "wb") as f:
        if key is not None:
            f.write(key.private_bytes(serialization.Encoding.PEM,
                                      serialization.PrivateFormat.PKCS8,
                                      serialization.NoEncryption()))
        for c in certs:
            f.write(c.public_bytes(serialization.Encoding.PEM))


def spki_sha256(cert):
    der = cert.public_key().public_bytes(serialization.Encoding.DER,
                                         serialization.PublicFormat.SubjectPublicKeyInfo)
    return hashlib.sha256(der).hexdigest()


def cert_sha256(cert):
    return hashlib.sha256(cert.public_bytes(serialization.Encoding.DER)).hexdigest()


class SmtpServer:
    """A minimal SMTP server on 127.0.0.1: 220, EHLO (with STARTTLS when a
    certificate is given), STARTTLS, QUIT. Enough for a TLS policy check;
    counts the TLS handshakes that completed."""

    def __init__(self, chain_pem=None, key_pem=None):
        self.ctx = None
        if chain_pem is not None:
            self.ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
            self.ctx.load_cert_chain(chain_pem, key_pem)
        self.sock = socket.socket()
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(8)
        self.sock.settimeout(30)
        self.port = self.sock.getsockname()[1]
        self.handshakes = 0
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def _serve(self):
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            conn.settimeout(10)
            try:
                self._session(conn)
            except (OSError, ssl.SSLError):
                pass
            finally:
                conn.close()

    def _session(self, conn):
        f = conn.makefile("rwb")
        f.write(b"220 mx ESMTP test\r\n")
        f.flush()
        for _ in range(20):
            line = f.readline()
            if not line:
                return
            verb = line.strip().upper()
            if verb.startswith(b"EHLO"):
                ext = b"250-STARTTLS\r\n" if self.ctx is not None and \
                    not isinstance(conn, ssl.SSLSocket) else b""
                f.write(b"250-mx\r\n" + ext + b"250 8BITMIME\r\n")
            elif verb == b"STARTTLS" and self.ctx is not None:
                f.write(b"220 go ahead\r\n")
                f.flush()
                conn = self.ctx.wrap_socket(conn, server_side=True)
                self.handshakes += 1
                f = conn.makefile("rwb")
                continue
            elif verb == b"QUIT":
                f.write(b"221 bye\r\n")
                f.flush()
                return
            else:
                f.write(b"502 no\r\n")
            f.flush()

    def close(self):
        self.sock.close()


def run_probe(*args, timeout=40):
    """Run the probe; returns (exit status, stdout lines as dicts by first
    word, stderr)."""
    r = subprocess.run([PROBE] + list(args), capture_output=True, text=True,
                       timeout=timeout)
    lines = {}
    for line in r.stdout.splitlines():
        word, _, rest = line.partition(" ")
        fields = {}
        for item in _split_fields(rest):
            k, _, v = item.partition("=")
            fields[k] = v.strip('"')
        lines[word] = fields
    return r.returncode, lines, r.stderr


def _split_fields(text):
    out, cur, quoted = [], "", False
    for ch in text:
        if ch == '"':
            quoted = not quoted
        if ch == " " and not quoted:
            if cur:
                out.append(cur)
            cur = ""
        else:
            cur += ch
    if cur:
        out.append(cur)
    return out
