"""SMTP AUTH (RFC 4954) on the submission services: PLAIN and LOGIN with
Python's smtplib on 587 after STARTTLS and on 465, refusals before TLS,
failures (535 5.7.8, delayed, the same for an unknown user as for a wrong
password), SCRAM-SHA-256 and -PLUS with the client of scram_client.py."""
import base64
import os
import smtplib
import sqlite3
import ssl
import time

import pytest

from conftest import DOMAIN, Instance, client_tls_context
from scram_client import ScramClient, tls_server_end_point

USER = f"alice@{DOMAIN}"
PASSWORD = "correct horse battery"


@pytest.fixture
def inst(instance_dir):
    """An instance whose user exists before the server starts (so SCRAM is
    offered from the first EHLO)."""
    i = Instance(instance_dir)
    i.add_user(USER, PASSWORD)
    i.start()
    yield i
    if i.proc is not None:
        i.stop()
    i.check_sanitizers()


def submission(inst):
    c = smtplib.SMTP("127.0.0.1", inst.port("submission"), timeout=30)
    c.ehlo("client.test")
    return c


def submission_tls(inst):
    c = submission(inst)
    c.starttls(context=client_tls_context())
    c.ehlo("client.test")
    return c


def submissions(inst):
    c = smtplib.SMTP_SSL("127.0.0.1", inst.port("submissions"), timeout=30,
                         context=client_tls_context())
    c.ehlo("client.test")
    return c


def auth_mechs(c):
    return c.esmtp_features.get("auth", "").split()


def test_auth_plain_and_login_after_starttls(inst):
    for mech in ("PLAIN", "LOGIN"):
        c = submission_tls(inst)
        assert mech in auth_mechs(c)
        c.user, c.password = USER, PASSWORD
        code, text = c.auth(mech, getattr(c, "auth_" + mech.lower()),
                            initial_response_ok=(mech == "PLAIN"))
        assert code == 235 and text.startswith(b"2.7.0")
        # a second AUTH in the same session is refused
        code, _ = c.docmd("AUTH", "PLAIN " + base64.b64encode(
            f"\0{USER}\0{PASSWORD}".encode()).decode())
        assert code == 503
        # AUTH=<> on MAIL is accepted
        code, _ = c.docmd("MAIL", f"FROM:<{USER}> AUTH=<>")
        assert code == 250
        c.quit()
    inst.wait_for_log(f"event=auth.ok service=submission ip=127.0.0.1 user={USER} mech=LOGIN")


def test_auth_plain_on_465(inst):
    c = submissions(inst)
    assert {"PLAIN", "LOGIN", "SCRAM-SHA-256", "SCRAM-SHA-256-PLUS"} <= set(auth_mechs(c))
    code, _ = c.login(USER, PASSWORD)
    assert code == 235
    c.quit()


def test_auth_refused_before_tls(inst):
    c = submission(inst)
    assert "auth" not in c.esmtp_features  # not advertised in plain text
    ir = base64.b64encode(f"\0{USER}\0{PASSWORD}".encode()).decode()
    code, text = c.docmd("AUTH", "PLAIN " + ir)
    assert code == 538 and text.startswith(b"5.7.11")
    code, _ = c.docmd("AUTH", "LOGIN")
    assert code == 538
    c.quit()
    assert PASSWORD not in inst.log()


def test_auth_not_on_port_25(inst):
    c = smtplib.SMTP("127.0.0.1", inst.port("smtp"), timeout=30)
    c.ehlo("client.test")
    c.starttls(context=client_tls_context())
    c.ehlo("client.test")
    assert "auth" not in c.esmtp_features
    code, _ = c.docmd("AUTH", "PLAIN")
    assert code == 502
    c.quit()


def timed_failure(c, user, password):
    start = time.monotonic()
    c.user, c.password = user, password
    with pytest.raises(smtplib.SMTPAuthenticationError) as err:
        c.auth("PLAIN", c.auth_plain)  # login() would try LOGIN after PLAIN
    return err.value, time.monotonic() - start


def test_wrong_password_and_unknown_user_look_alike(inst):
    # one session, so one role process and its counter per IP
    c = submission_tls(inst)
    err, t_wrong = timed_failure(c, USER, "wrong password!")
    assert err.smtp_code == 535 and err.smtp_error.startswith(b"5.7.8")
    err2, t_unknown = timed_failure(c, f"nobody@{DOMAIN}", "wrong password!")
    assert (err2.smtp_code, err2.smtp_error) == (err.smtp_code, err.smtp_error)
    # the delay grows per IP: 0.5 s, then 1 s (plus one Argon2id run each,
    # the unknown user's against a dummy hash)
    assert 0.5 <= t_wrong < 0.5 + 0.8
    assert 1.0 <= t_unknown < 1.0 + 0.8
    err3, t_third = timed_failure(c, USER, "wrong again!!!")
    assert 2.0 <= t_third < 2.0 + 0.8
    c.close()
    log = inst.log()
    assert "wrong password!" not in log
    assert f"event=auth.failed service=submission ip=127.0.0.1 user={USER}" in log
    assert f"user=nobody@{DOMAIN}" in log
    assert "failures=3" in log


def test_cancel_and_garbage(inst):
    c = submission_tls(inst)
    code, text = c.docmd("AUTH", "LOGIN")
    assert code == 334 and base64.b64decode(text) == b"Username:"
    code, _ = c.docmd("*")
    assert code == 501
    code, _ = c.docmd("AUTH", "PLAIN !!notbase64")
    assert code == 501
    code, _ = c.docmd("AUTH", "CRAM-MD5")
    assert code == 504
    # the session goes on
    code, _ = c.login(USER, PASSWORD)
    assert code == 235
    c.quit()


def scram_exchange(c, mech, client, wrong_password=False):
    code, text = c.docmd("AUTH", f"{mech} " + base64.b64encode(client.first()).decode())
    assert code == 334, text
    final = client.final(base64.b64decode(text), wrong_password=wrong_password)
    code, text = c.docmd(base64.b64encode(final).decode())
    if code != 334:
        return code, text
    assert client.verify(base64.b64decode(text)), "server signature"
    return c.docmd("")


def test_scram_sha_256(inst):
    c = submission_tls(inst)
    assert "SCRAM-SHA-256" in auth_mechs(c)
    code, text = scram_exchange(c, "SCRAM-SHA-256", ScramClient(USER, PASSWORD))
    assert code == 235, text
    c.quit()
    c = submission_tls(inst)
    code, text = scram_exchange(c, "SCRAM-SHA-256", ScramClient(USER, PASSWORD),
                                wrong_password=True)
    assert code == 535 and text.startswith(b"5.7.8")
    c.close()


def test_scram_sha_256_plus_tls_server_end_point(inst):
    for tls_max in (ssl.TLSVersion.TLSv1_2, ssl.TLSVersion.TLSv1_3):
        ctx = client_tls_context()
        ctx.maximum_version = tls_max
        c = smtplib.SMTP_SSL("127.0.0.1", inst.port("submissions"), timeout=30, context=ctx)
        c.ehlo("client.test")
        cb = tls_server_end_point(c.sock)
        code, text = scram_exchange(c, "SCRAM-SHA-256-PLUS",
                                    ScramClient(USER, PASSWORD, "tls-server-end-point", cb))
        assert code == 235, text
        c.quit()
    # other binding data (a man in the middle's connection) fails
    c = submissions(inst)
    code, _ = scram_exchange(c, "SCRAM-SHA-256-PLUS",
                             ScramClient(USER, PASSWORD, "tls-server-end-point", b"x" * 32))
    assert code == 535
    c.close()


def test_scram_user_without_keys_fails_like_wrong_password(inst):
    # a user whose hash was imported has no SCRAM keys (made here by
    # dropping them in the database): SCRAM fails as a wrong password
    # does, PLAIN still works
    other = f"imported@{DOMAIN}"
    inst.add_user(other, PASSWORD)
    db = sqlite3.connect(os.path.join(inst.dir, "directory.db"))
    row = db.execute("SELECT scram FROM users WHERE address = ?", (other,)).fetchone()
    assert row[0].startswith("SCRAM-SHA-256$4096:") and PASSWORD not in row[0]
    db.execute("UPDATE users SET scram = NULL WHERE address = ?", (other,))
    db.commit()
    db.close()
    c = submission_tls(inst)
    code, text = scram_exchange(c, "SCRAM-SHA-256", ScramClient(other, PASSWORD))
    assert code == 535 and text.startswith(b"5.7.8")
    c.close()
    c = submission_tls(inst)
    code, text = scram_exchange(c, "SCRAM-SHA-256", ScramClient(f"ghost@{DOMAIN}", PASSWORD))
    assert code == 535 and text.startswith(b"5.7.8")
    c.close()
    c = submission_tls(inst)
    assert c.login(other, PASSWORD)[0] == 235
    c.quit()
    inst.wait_for_log("reason=\"no SCRAM keys for the user\"")


def test_plaintext_on_loopback_setting(inst):
    """auth { plaintext_on_loopback = yes }: AUTH is offered before TLS to a
    loopback client; -PLUS is not (no channel binding without TLS), and
    STARTTLS forgets an AUTH made before it (RFC 3207 section 4.2)."""
    with open(inst.config) as f:
        text = f.read()
    with open(inst.config, "w") as f:
        f.write(text.replace("plaintext_on_loopback = no", "plaintext_on_loopback = yes"))
    inst.restart()
    # whether any user has SCRAM keys is asked on the worker pool at start:
    # a client in the first milliseconds (an ASan build is slow) may see
    # PLAIN only; give it up to 2 s
    deadline = time.monotonic() + 2
    while True:
        c = submission(inst)
        mechs = auth_mechs(c)
        if "SCRAM-SHA-256" in mechs or time.monotonic() > deadline:
            break
        c.close()
        time.sleep(0.05)
    assert "PLAIN" in mechs and "SCRAM-SHA-256" in mechs
    assert "SCRAM-SHA-256-PLUS" not in mechs
    code, _ = c.docmd("AUTH", "SCRAM-SHA-256-PLUS")
    assert code == 504
    assert c.login(USER, PASSWORD)[0] == 235
    c.starttls(context=client_tls_context())
    c.ehlo("client.test")
    assert c.login(USER, PASSWORD)[0] == 235  # not "503 already authenticated"
    c.quit()


def test_overlong_response_ends_the_exchange(inst):
    c = submission_tls(inst)
    code, _ = c.docmd("AUTH", "LOGIN")
    assert code == 334
    code, _ = c.docmd("A" * 20000)
    assert code == 501
    assert c.login(USER, PASSWORD)[0] == 235
    c.quit()
