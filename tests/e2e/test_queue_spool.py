"""The outbound spool (docs/queue.md) seen from outside: port 25 mail for
aliases that forward to remote addresses is accepted with 250 into
<data_dir>/queue/, `tern queue list/show` show it, a mixed local/remote alias
delivers locally and spools the remote part, all or nothing, and what got a
250 survives kill -9, once. The fsync order of the spool files before the 250
is checked with the shim of test_fsync_order.py."""
import os
import re
import smtplib

import pytest

from conftest import Instance
from test_fsync_order import SHIM, Trace, inode

USER = "alice@example.test"
REMOTE = "friend@remote.test"
PASSWORD = "correct horse battery staple"
BODY = b"Subject: forwarded\r\n\r\nhello from the spool test\r\n"


def queue_dir(inst):
    return os.path.join(inst.dir, "queue")


def entries(inst):
    """{id: set of extensions} of the files in queue/."""
    found = {}
    d = queue_dir(inst)
    if not os.path.isdir(d):
        return found
    for name in os.listdir(d):
        if os.path.isdir(os.path.join(d, name)) or name == "role.lock":
            continue  # flush/, answers/, rules/ and the lock of the queue role
        qid, _, ext = name.rpartition(".")
        found.setdefault(qid, set()).add(ext)
    return found


def committed(inst):
    return sorted(q for q, exts in entries(inst).items() if "env" in exts)


def maildir_new(inst, address):
    d = os.path.join(inst.maildir(address), "new")
    return sorted(os.listdir(d)) if os.path.isdir(d) else []


def envelope(inst, qid):
    fields = {}
    rcpts = []
    with open(os.path.join(queue_dir(inst), qid + ".env"), encoding="utf-8") as f:
        lines = f.read().split("\n")
    assert lines[0] == "tern-envelope 1" and lines[-2:] == ["end", ""], lines
    for line in lines[1:-2]:
        key, _, value = line.partition(" ")
        if key == "rcpt":
            rcpts.append(value)
        else:
            assert key not in fields, line
            fields[key] = value
    return fields, rcpts


def send(inst, rcpts, sender="sender@elsewhere.test", body=BODY):
    with smtplib.SMTP("127.0.0.1", inst.port("smtp"), timeout=30) as s:
        s.ehlo("client.test")
        s.mail(sender)
        for r in rcpts:
            code, text = s.rcpt(r)
            assert code == 250, (r, code, text)
        return s.data(body)


@pytest.fixture
def server(instance):
    # the spool as the smtp role leaves it: the queue role delivers nothing
    instance.stop()
    with open(instance.config, "a") as f:
        f.write("\nqueue {\n\tdeliver = no\n}\n")
    instance.start()
    instance.add_user(USER, PASSWORD)
    instance.tern("alias", "add", "fwd@example.test", REMOTE)
    instance.tern("alias", "add", "both@example.test", USER)
    instance.tern("alias", "add", "both@example.test", REMOTE)
    return instance


def test_remote_alias_is_spooled_and_listed(server):
    code, text = send(server, ["fwd@example.test"])
    assert code == 250, text
    ids = committed(server)
    assert len(ids) == 1, entries(server)
    qid = ids[0]
    assert entries(server)[qid] == {"env", "msg"}
    fields, rcpts = envelope(server, qid)
    assert fields["id"] == qid
    # forwarded: an SRS0 sender of the alias's domain (docs/queue.md "SRS")
    assert re.fullmatch(r"<SRS0=.{4}=[A-Z2-7]{2}=elsewhere\.test=sender@example\.test>",
                        fields["from"]), fields["from"]
    assert fields["client"] == "127.0.0.1"
    assert fields["helo"] == "client.test"
    # the reply's id is kept, to find the message from the client's side
    assert text.decode().endswith("queued as " + fields["smtp-id"])
    assert rcpts == [f"<{REMOTE}> index=0 alias=<fwd@example.test>"]
    # the data: local delivery's Return-Path first (skipped when relayed),
    # then the message with our trace fields
    with open(os.path.join(queue_dir(server), qid + ".msg"), "rb") as f:
        data = f.read()
    skip = int(fields["data-skip"])
    assert data[:skip] == b"Return-Path: <sender@elsewhere.test>\r\n"
    assert data[skip:].startswith(b"Received: ")
    assert data.endswith(BODY[BODY.index(b"\r\n\r\n") + 2:])
    assert int(fields["size"]) == len(data) - skip
    # nothing went to a Maildir
    assert maildir_new(server, USER) == []
    # what an admin sees
    out = server.tern("queue", "list").stdout
    lines = out.splitlines()
    assert lines[0].split() == ["ID", "Size", "Arrival", "Sender/Recipients"]
    assert lines[1].split()[0] == qid
    assert lines[1].split()[1] == fields["size"]
    assert lines[1].split()[-1] == fields["from"]
    assert lines[2].strip() == f"<{REMOTE}>"
    assert lines[-1] == f"-- {fields['size']} bytes in 1 message."
    shown = server.tern("queue", "show", qid).stdout
    with open(os.path.join(queue_dir(server), qid + ".env"), encoding="utf-8") as f:
        assert shown.startswith(f.read())
    assert shown.endswith(f"delivery <{REMOTE}> pending attempts=0 next=now\n")


def test_queue_cli_errors(server):
    assert server.tern("queue", "list").stdout == "Mail queue is empty\n"
    r = server.tern("queue", "show", "0123abc", check=False)
    assert r.returncode == 1 and "no such queue entry" in r.stderr
    r = server.tern("queue", "show", "../directory", check=False)
    assert r.returncode == 1 and "not a queue id" in r.stderr
    assert server.tern("queue", "frobnicate", check=False).returncode == 2


def test_mixed_alias_delivers_locally_and_spools_remote(server):
    code, text = send(server, ["both@example.test"])
    assert code == 250, text
    local = maildir_new(server, USER)
    assert len(local) == 1
    ids = committed(server)
    assert len(ids) == 1
    fields, rcpts = envelope(server, ids[0])
    assert rcpts == [f"<{REMOTE}> index=0 alias=<both@example.test>"]
    # the message is the same bytes in both places (one file, hard-linked)
    with open(os.path.join(server.maildir(USER), "new", local[0]), "rb") as f:
        stored = f.read()
    with open(os.path.join(queue_dir(server), ids[0] + ".msg"), "rb") as f:
        assert f.read() == stored


def test_recipients_of_one_message_share_one_entry(server):
    # a direct local user, a remote-only alias and a mixed one: one entry,
    # the remote address once, each with the index of its RCPT
    code, _ = send(server, [USER, "fwd@example.test", "both@example.test"])
    assert code == 250
    assert len(maildir_new(server, USER)) == 1
    ids = committed(server)
    assert len(ids) == 1
    _, rcpts = envelope(server, ids[0])
    assert rcpts == [f"<{REMOTE}> index=1 alias=<fwd@example.test>"]


def test_spool_failure_is_451_and_nothing_delivered(server):
    # the queue directory cannot take the message (a file stands in its
    # place, which also stops a server running as root): the whole message
    # gets 451, and the local part is not delivered either (all or nothing)
    moved = queue_dir(server) + ".away"
    os.rename(queue_dir(server), moved)
    with open(queue_dir(server), "w"):
        pass
    try:
        code, text = send(server, ["both@example.test"])
        assert code == 451 and text.startswith(b"4.3.0"), text
    finally:
        os.unlink(queue_dir(server))
        os.rename(moved, queue_dir(server))
    assert maildir_new(server, USER) == []
    assert entries(server) == {}
    # and once it can, the same message goes through
    assert send(server, ["both@example.test"])[0] == 250
    assert len(maildir_new(server, USER)) == 1 and len(committed(server)) == 1


def test_spooled_message_survives_kill9_once(server):
    code, _ = send(server, ["fwd@example.test"])
    assert code == 250
    before = committed(server)
    assert len(before) == 1
    server.kill9()
    server.start()
    assert committed(server) == before
    assert entries(server)[before[0]] == {"env", "msg"}
    out = server.tern("queue", "list").stdout
    assert out.count(before[0]) == 1
    assert out.splitlines()[-1].endswith("in 1 message.")
    # the restarted server keeps spooling beside it
    assert send(server, ["fwd@example.test"])[0] == 250
    assert len(committed(server)) == 2


def test_trusted_network_relays_into_spool(server):
    with open(server.config) as f:
        text = f.read()
    assert "\ttrusted_networks =\n" in text
    with open(server.config, "w") as f:
        f.write(text.replace("\ttrusted_networks =\n", "\ttrusted_networks = 127.0.0.0/8\n"))
    server.restart()
    assert send(server, ["x@elsewhere.test", "Y@Elsewhere.test"])[0] == 250
    ids = committed(server)
    assert len(ids) == 1
    _, rcpts = envelope(server, ids[0])
    assert rcpts == ["<x@elsewhere.test> index=0", "<Y@elsewhere.test> index=1"]


@pytest.fixture
def traced(instance_dir):
    assert os.path.exists(SHIM), f"the shim is not built: {SHIM}"
    trace = os.path.join(instance_dir, "fsync.trace")
    with open(trace, "w"):
        pass
    os.chmod(trace, 0o666)  # the roles may run as the tern account
    inst = Instance(instance_dir)
    inst.add_user(USER, PASSWORD)
    inst.tern("alias", "add", "fwd@example.test", REMOTE)
    inst.tern("alias", "add", "both@example.test", USER)
    inst.tern("alias", "add", "both@example.test", REMOTE)
    with open(inst.config, "a") as f:
        f.write("\nqueue {\n\tdeliver = no\n}\n")
    env = dict(os.environ)
    env["LD_PRELOAD"] = " ".join(filter(None, [env.get("LD_PRELOAD"), SHIM]))
    env["TERN_FSYNC_TRACE"] = trace
    env["ASAN_OPTIONS"] = ":".join(filter(None, [env.get("ASAN_OPTIONS"),
                                                 "verify_asan_link_order=0"]))
    inst.env = env
    inst.start()
    yield inst, Trace(trace)
    inst.stop()
    inst.check_sanitizers()


def check_spool_order(inst, events, reply_text, qid):
    """Before the 250: the data and the envelope fsynced before the
    envelope's name is made (its rename, the commit point), the data's name
    made before it, and the queue directory fsynced after both names."""
    replies = [seq for seq, kind, rest in events if kind == "reply" and reply_text in rest]
    assert len(replies) == 1, f"the 250 {reply_text!r} is not in the trace: {events}"
    reply = replies[0]
    syncs = [(seq, rest.split(" ", 1)[0]) for seq, kind, rest in events if kind == "sync"]
    names = [(seq, os.path.realpath(rest)) for seq, kind, rest in events if kind == "name"]
    qdir = os.path.realpath(queue_dir(inst))
    data = os.path.join(qdir, qid + ".msg")
    env = os.path.join(qdir, qid + ".env")
    dkey, ekey, qkey = inode(data), inode(env), inode(qdir)
    data_made = [seq for seq, p in names if p == data]
    env_made = [seq for seq, p in names if p == env]
    assert data_made and env_made, f"names not made: {events}"
    assert env_made[0] < reply
    data_synced = [seq for seq, k in syncs if k == dkey and seq < env_made[0]]
    assert data_synced, f"the data was not fsynced before the envelope appeared: {events}"
    assert data_made[0] < env_made[0], f"the envelope appeared before the data: {events}"
    assert any(seq < env_made[0] and k == ekey for seq, k in syncs), \
        f"the envelope was not fsynced before its rename: {events}"
    assert any(env_made[0] < seq < reply and k == qkey for seq, k in syncs), \
        f"queue/ not fsynced between the envelope's rename and the 250: {events}"


def test_spool_fsyncs_come_before_250(traced):
    inst, trace = traced
    for rcpt in ("fwd@example.test", "both@example.test"):
        before = set(committed(inst))
        trace.mark()
        code, text = send(inst, [rcpt], body=BODY + (b"x" * 70 + b"\r\n") * 1500)
        assert code == 250
        new = set(committed(inst)) - before
        assert len(new) == 1
        check_spool_order(inst, trace.events(), text.decode(), new.pop())


def test_dsn_parameters_reach_the_envelope(server):
    """RET, ENVID (xtext decoded), BODY and each recipient's NOTIFY and
    ORCPT given on port 25 are stored for the queue (RFC 3461)."""
    with smtplib.SMTP("127.0.0.1", server.port("smtp"), timeout=30) as s:
        s.ehlo("client.test")
        code, text = s.mail("sender@elsewhere.test",
                            ["RET=HDRS", "ENVID=QQ+2B314", "BODY=8BITMIME"])
        assert code == 250, text
        code, text = s.rcpt("fwd@example.test",
                            ["NOTIFY=SUCCESS,DELAY", "ORCPT=rfc822;fwd+2Bx@example.test"])
        assert code == 250, text
        code, text = s.data(BODY)
        assert code == 250, text
    (qid,) = committed(server)
    fields, rcpts = envelope(server, qid)
    assert fields["ret"] == "HDRS"
    assert fields["envid"] == "QQ+314", fields
    assert fields["body"] == "8BITMIME", fields
    assert len(rcpts) == 1
    assert rcpts[0].startswith("<%s>" % REMOTE), rcpts
    assert "notify=SUCCESS,DELAY" in rcpts[0], rcpts
    assert "orcpt=rfc822;fwd+x@example.test" in rcpts[0], rcpts
    assert "alias=<fwd@example.test>" in rcpts[0], rcpts
