"""The credential cache seen from outside (docs/auth.md): a repeated login
is answered without a new hash run, and `tern user passwd` and `tern user
disable`, run in another process, take effect on the very next login."""
import imaplib
import time

from conftest import client_tls_context

USER = "cache@example.test"
PASSWORD = "correct horse battery"
NEW_PASSWORD = "battery staple horse"


def login(instance, password):
    """(ok, seconds) of one LOGIN over implicit TLS."""
    m = imaplib.IMAP4_SSL("127.0.0.1", instance.port("imaps"), ssl_context=client_tls_context())
    t0 = time.monotonic()
    try:
        m.login(USER, password)
        ok = True
    except imaplib.IMAP4.error as e:
        assert "AUTHENTICATIONFAILED" in str(e)
        ok = False
    dt = time.monotonic() - t0
    try:
        m.logout()
    except (imaplib.IMAP4.error, OSError):
        pass
    return ok, dt


def test_password_change_and_disable_miss_the_cache(instance):
    instance.add_user(USER, PASSWORD)
    assert login(instance, PASSWORD)[0]
    assert login(instance, PASSWORD)[0]  # now from the cache
    instance.tern("user", "passwd", USER, stdin=NEW_PASSWORD + "\n")
    assert not login(instance, PASSWORD)[0], "old password still accepted"
    assert login(instance, NEW_PASSWORD)[0]
    assert login(instance, NEW_PASSWORD)[0]
    instance.tern("user", "disable", USER)
    assert not login(instance, NEW_PASSWORD)[0], "disabled user logged in"
    instance.tern("user", "enable", USER)
    assert login(instance, NEW_PASSWORD)[0]


def slow_hashes(instance, ops):
    """New hashes of this instance take ops Argon2id passes (the server reads
    a hash's cost from the hash, so it needs no restart)."""
    with open(instance.config) as f:
        text = f.read()
    text = text.replace("plaintext_on_loopback = no",
                        "plaintext_on_loopback = no\n\targon2_ops = %d" % ops)
    with open(instance.config, "w") as f:
        f.write(text)


def test_cached_logins_skip_the_hash(instance):
    """With a deliberately slow hash (16 passes over 64 MiB), the first
    login pays for it and the repeated ones do not: their median is far
    below the first. Without the cache every login would cost the same."""
    slow_hashes(instance, 16)
    instance.add_user(USER, PASSWORD)
    ok, first = login(instance, PASSWORD)
    assert ok
    times = [login(instance, PASSWORD) for _ in range(9)]
    assert all(ok for ok, _ in times)
    median = sorted(dt for _, dt in times)[4]
    assert median * 4 < first, (first, median)
