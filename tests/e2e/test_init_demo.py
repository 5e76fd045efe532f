"""`tern init --demo`: the demo account is added through the directory's
admin operation (its password policy and hash costs) and logs in with the
password init prints."""
import imaplib
import re
import sqlite3

import conftest
from conftest import Instance, client_tls_context


def test_init_demo_account_logs_in(instance_dir, monkeypatch):
    printed = []
    real_tern = conftest.tern

    def tern_with_demo(*args, **kwargs):
        if args and args[0] == "init":
            args = args + ("--demo",)
        proc = real_tern(*args, **kwargs)
        printed.append(proc.stdout)
        return proc

    monkeypatch.setattr(conftest, "tern", tern_with_demo)
    inst = Instance(instance_dir)
    monkeypatch.undo()
    m = re.search(r"demo account: (demo@example\.test) password: ([A-Za-z0-9]{16})\n",
                  "".join(printed))
    assert m, printed
    user, password = m.group(1), m.group(2)
    with sqlite3.connect(inst.dir + "/directory.db") as c:
        (stored,) = c.execute("select password_hash from users where address = ?",
                              (user,)).fetchone()
    assert password not in stored
    # the policy's costs (those of the config init wrote: the defaults)
    assert stored.startswith("{ARGON2ID}$argon2id$v=19$m=65536,t=2,")
    inst.start()
    try:
        conn = imaplib.IMAP4_SSL("127.0.0.1", inst.port("imaps"),
                                 ssl_context=client_tls_context())
        assert conn.login(user, password)[0] == "OK"
        conn.logout()
        conn = imaplib.IMAP4_SSL("127.0.0.1", inst.port("imaps"),
                                 ssl_context=client_tls_context())
        try:
            conn.login(user, password + "x")
            raise AssertionError("a wrong password logged in")
        except imaplib.IMAP4.error as e:
            assert "AUTHENTICATIONFAILED" in str(e)
        conn.logout()
    finally:
        inst.stop()
    inst.check_sanitizers()
