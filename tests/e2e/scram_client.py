"""A SCRAM-SHA-256(-PLUS) client for the e2e tests (RFC 5802, RFC 7677),
written with hashlib/hmac so it checks the server's proof independently of
Tern's code. Drive it with first(), final(server_first) and
verify(server_final)."""
import base64
import hashlib
import hmac
import os


def _b64(data):
    return base64.b64encode(data).decode()


class ScramClient:
    def __init__(self, user, password, cb_name=None, cb_data=b"", authzid=None):
        self.user = user
        self.password = password.encode()
        self.cb_name = cb_name
        self.cb_data = cb_data
        self.nonce = _b64(os.urandom(18))
        flag = f"p={cb_name}" if cb_name else "n"
        self.gs2 = f"{flag},{'a=' + authzid if authzid else ''},"
        name = user.replace("=", "=3D").replace(",", "=2C")
        self.first_bare = f"n={name},r={self.nonce}"
        self.server_signature = None

    def first(self):
        return (self.gs2 + self.first_bare).encode()

    def final(self, server_first, wrong_password=False):
        server_first = server_first.decode()
        attrs = dict(kv.split("=", 1) for kv in server_first.split(","))
        assert attrs["r"].startswith(self.nonce), "server nonce must extend ours"
        salt = base64.b64decode(attrs["s"])
        iterations = int(attrs["i"])
        password = self.password + (b"x" if wrong_password else b"")
        salted = hashlib.pbkdf2_hmac("sha256", password, salt, iterations)
        client_key = hmac.new(salted, b"Client Key", hashlib.sha256).digest()
        stored_key = hashlib.sha256(client_key).digest()
        server_key = hmac.new(salted, b"Server Key", hashlib.sha256).digest()
        cbind = _b64(self.gs2.encode() + (self.cb_data if self.cb_name else b""))
        without_proof = f"c={cbind},r={attrs['r']}"
        auth_message = f"{self.first_bare},{server_first},{without_proof}".encode()
        client_sig = hmac.new(stored_key, auth_message, hashlib.sha256).digest()
        proof = bytes(a ^ b for a, b in zip(client_key, client_sig))
        self.server_signature = hmac.new(server_key, auth_message, hashlib.sha256).digest()
        return f"{without_proof},p={_b64(proof)}".encode()

    def verify(self, server_final):
        """True if server-final proves the server knows our keys."""
        text = server_final.decode()
        return text.startswith("v=") and base64.b64decode(text[2:]) == self.server_signature


def tls_server_end_point(sock):
    """RFC 5929 tls-server-end-point data of an ssl socket: SHA-256 of the
    server's certificate (right for SHA-256 and ECDSA-SHA256 certificates)."""
    return hashlib.sha256(sock.getpeercert(binary_form=True)).digest()
