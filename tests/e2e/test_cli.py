"""The admin commands against a real instance directory (no server needed)."""
import os
import sqlite3
import stat

import pytest

from conftest import tern, free_port_offset


@pytest.fixture
def conf(instance_dir):
    d = os.path.join(instance_dir, "tern")
    tern("init", d, "--port-offset", str(free_port_offset()), "--domain", "example.test",
         "--hostname", "mail.example.test")
    return os.path.join(d, "tern.conf")


def run(conf, *args, stdin=None):
    return tern(*args, config=conf, stdin=stdin, check=False)


def test_init_creates_instance(conf):
    d = os.path.dirname(conf)
    assert os.path.isfile(os.path.join(d, "directory.db"))
    key = os.path.join(d, "tls", "key.pem")
    assert stat.S_IMODE(os.stat(key).st_mode) == 0o600
    assert os.path.isdir(os.path.join(d, "mail"))
    keys = os.listdir(os.path.join(d, "dkim", "example.test"))
    assert len(keys) == 1 and keys[0].endswith(".key")
    keyfile = os.path.join(d, "dkim", "example.test", keys[0])
    assert stat.S_IMODE(os.stat(keyfile).st_mode) == 0o600
    selector = keys[0][:-len(".key")]
    records = run(conf, "dns", "example.test").stdout
    assert f"{selector}._domainkey.example.test. IN TXT \"v=DKIM1; k=rsa; p=" in records
    out = run(conf, "config")
    assert out.returncode == 0, out.stderr
    assert "hostname = mail.example.test" in out.stdout


def test_init_refuses_existing(conf):
    r = tern("init", os.path.dirname(conf), check=False)
    assert r.returncode != 0
    assert r.stderr.startswith("tern: ") and r.stderr.count("\n") == 1


def test_init_demo_prints_account(instance_dir):
    d = os.path.join(instance_dir, "demo")
    r = tern("init", d, "--port-offset", str(free_port_offset()), "--demo")
    assert "demo@example.test" in r.stdout
    assert "password" in r.stdout


def test_config_error_has_file_and_line(instance_dir):
    path = os.path.join(instance_dir, "bad.conf")
    with open(path, "w") as f:
        f.write("hostname = x.test\n\nno_such_key = 1\n")
    r = tern("-c", path, "config", check=False)
    assert r.returncode != 0
    assert f"{path}:3:" in r.stderr


def test_domain_user_alias_lifecycle(conf):
    assert run(conf, "domain", "add", "example.org").returncode == 0
    assert "example.org" in run(conf, "domain", "list").stdout.split()
    r = run(conf, "user", "add", "alice@example.org", stdin="correct horse battery\n")
    assert r.returncode == 0, r.stderr
    r = run(conf, "user", "add", "alice@example.org", stdin="correct horse battery\n")
    assert r.returncode == 1 and "exists" in r.stderr
    r = run(conf, "user", "add", "bob@nowhere.org", stdin="correct horse battery\n")
    assert r.returncode == 1 and "domain" in r.stderr
    r = run(conf, "user", "add", "not-an-address", stdin="correct horse battery\n")
    assert r.returncode == 1
    r = run(conf, "user", "add", "carol@example.org", stdin="short\n")
    assert r.returncode == 1 and "short" in r.stderr
    assert "alice@example.org" in run(conf, "user", "list").stdout
    assert run(conf, "alias", "add", "info@example.org", "alice@example.org").returncode == 0
    assert "info@example.org" in run(conf, "alias", "list").stdout
    assert run(conf, "user", "disable", "alice@example.org").returncode == 0
    assert run(conf, "user", "del", "alice@example.org").returncode == 0
    assert "alice@example.org" not in run(conf, "user", "list").stdout


def test_password_never_on_command_line_and_hashed(conf):
    run(conf, "domain", "add", "example.org")
    r = run(conf, "user", "add", "dave@example.org", stdin="a-secret-passphrase\n")
    assert r.returncode == 0
    db = os.path.join(os.path.dirname(conf), "directory.db")
    with sqlite3.connect(db) as c:
        rows = c.execute("select password_hash from users").fetchall()
    assert rows and all("a-secret-passphrase" not in r[0] for r in rows)
    assert rows[0][0].startswith("{ARGON2ID}$argon2id$")


def test_every_command_has_help(conf):
    for cmd in ("init", "serve", "config", "domain", "user", "alias"):
        r = run(conf, cmd, "--help")
        assert r.returncode == 0, cmd
        assert r.stdout.strip(), cmd


def test_unknown_command_fails():
    r = tern("frobnicate", check=False)
    assert r.returncode == 2 and "unknown command" in r.stderr
