"""Outbound delivery by the queue role (docs/queue.md, "Delivery"), with two
real Tern instances: the first on 127.0.0.1, whose zone file makes the second
(on 127.0.0.2) the MX of other.test, and whose queue.port is the second's smtp
port. A message to an alias forwarding to bob@other.test is queued by the
first and arrives at the second; with the second stopped it waits and
`tern queue show` says why; `tern queue flush` after the second is back
delivers it once; kill -9 of the first while messages wait loses and doubles
nothing."""
import os
import pwd
import re
import signal
import smtplib
import time
from email import message_from_bytes, policy

import pytest

from conftest import Instance

REMOTE = "bob@other.test"
OTHER = "carol@other.test"
PASSWORD = "correct horse battery staple"


def send(inst, rcpt, subject):
    body = (f"From: <sender@elsewhere.test>\r\nSubject: {subject}\r\n"
            f"Message-ID: <{subject}@client.test>\r\n\r\nhello\r\n")
    with smtplib.SMTP("127.0.0.1", inst.port("smtp"), timeout=30) as s:
        s.ehlo("client.test")
        s.sendmail("sender@elsewhere.test", [rcpt], body.encode())


def delivered(inst, address, subject):
    """How many messages with subject are in address's INBOX."""
    n = 0
    for sub in ("new", "cur"):
        d = os.path.join(inst.maildir(address), sub)
        if not os.path.isdir(d):
            continue
        for name in os.listdir(d):
            with open(os.path.join(d, name), "rb") as f:
                if f"Subject: {subject}\r\n".encode() in f.read():
                    n += 1
    return n


def wait_delivered(inst, address, subject, timeout=20):
    deadline = time.time() + timeout
    while time.time() < deadline:
        n = delivered(inst, address, subject)
        if n > 0:
            return n
        time.sleep(0.1)
    return 0


def queue_ids(inst):
    d = os.path.join(inst.dir, "queue")
    if not os.path.isdir(d):
        return []
    return sorted(n[:-4] for n in os.listdir(d) if n.endswith(".env"))


def wait_queue_empty(inst, timeout=20):
    deadline = time.time() + timeout
    while time.time() < deadline and queue_ids(inst):
        time.sleep(0.1)
    return queue_ids(inst)


def make_pair(instance_dir, edit_second=None, queue_extra=None, zone=None):
    second = Instance(os.path.join(instance_dir, "b"), ip="127.0.0.2",
                      hostname="mx.other.test")
    second.tern("domain", "add", "other.test")
    second.add_user(REMOTE, PASSWORD)
    second.add_user(OTHER, PASSWORD)
    if edit_second:
        with open(second.config) as f:
            text = f.read()
        with open(second.config, "w") as f:
            f.write(edit_second(text))
    second.start()
    first = Instance(os.path.join(instance_dir, "a"))
    first.write_zone(zone or ("other.test MX 10 mx.other.test\n"
                              "mx.other.test A 127.0.0.2\n"
                              "nomail.test MX 0 .\n"))
    with open(first.config, "a") as f:
        f.write("\nqueue {\n\tport = %d\n\tretry_first = 60s\n"
                "\tcommand_timeout = 10s\n\tgreeting_timeout = 10s\n"
                "\tconnect_timeout = 5s\n\tmax_per_destination = 1\n%s}\n"
                % (second.port("smtp"), queue_extra(first, second) if queue_extra else ""))
    first.tern("alias", "add", "fwd@example.test", REMOTE)
    first.tern("alias", "add", "two@example.test", REMOTE)
    first.tern("alias", "add", "two@example.test", OTHER)
    first.tern("alias", "add", "nouser@example.test", "nobody@other.test")
    first.tern("alias", "add", "nullmx@example.test", "x@nomail.test")
    first.start()
    first.wait_for_log("role=queue event=role.ready")
    return first, second


def stop_pair(first, second):
    for inst in (first, second):
        if inst.proc is not None:
            inst.stop()
        inst.check_sanitizers()


@pytest.fixture
def pair(instance_dir):
    first, second = make_pair(instance_dir)
    yield first, second
    stop_pair(first, second)


@pytest.fixture(autouse=True)
def _dirs(instance_dir):
    os.makedirs(os.path.join(instance_dir, "a"))
    os.makedirs(os.path.join(instance_dir, "b"))


def test_delivered_to_the_mx(pair):
    first, second = pair
    send(first, "fwd@example.test", "direct")
    assert wait_delivered(second, REMOTE, "direct") == 1
    assert wait_queue_empty(first) == []
    log = first.log()
    assert "event=queue.delivery" in log and "result=sent" in log
    assert "mx=mx.other.test ip=127.0.0.2" in log
    assert "tls=opportunistic" in log
    assert delivered(second, REMOTE, "direct") == 1


def test_waits_while_the_mx_is_down_then_flush(pair):
    first, second = pair
    second.stop()
    send(first, "fwd@example.test", "waiting")
    first.wait_for_log("result=deferred")
    ids = queue_ids(first)
    assert len(ids) == 1
    show = first.tern("queue", "show", ids[0]).stdout
    assert "delivery <bob@other.test> pending attempts=1" in show
    assert "code=451" in show and "next=" in show
    assert "Connection%20refused" in show or "connect" in show
    second.start()
    first.tern("queue", "flush", ids[0])
    assert wait_delivered(second, REMOTE, "waiting") == 1
    assert wait_queue_empty(first) == []
    time.sleep(0.5)
    assert delivered(second, REMOTE, "waiting") == 1


def test_kill9_while_waiting_then_delivered_once(pair):
    first, second = pair
    second.stop()
    for i in range(3):
        send(first, "fwd@example.test", f"killed{i}")
    deadline = time.time() + 20
    while time.time() < deadline and first.log().count("result=deferred") < 3:
        time.sleep(0.1)
    assert len(queue_ids(first)) == 3
    first.kill9()
    second.start()
    first.start()
    first.wait_for_log("role=queue event=role.ready")
    first.tern("queue", "flush")
    for i in range(3):
        assert wait_delivered(second, REMOTE, f"killed{i}") == 1
    assert wait_queue_empty(first) == []
    time.sleep(0.5)
    for i in range(3):
        assert delivered(second, REMOTE, f"killed{i}") == 1
    # one connection at a time to other.test (max_per_destination = 1), and
    # the three messages went over the same one (connection reuse)
    sids = [line.split()[0] for line in second.log().splitlines()
            if "event=smtp.message " in line]
    assert len(sids) == 3 and len(set(sids)) == 1, sids


def test_permanent_failures_bounce_at_once(pair):
    """A 5xx from the MX (unknown user) and a null MX (RFC 7505) fail at once:
    the bounce call site gets them, the entries leave the queue."""
    first, second = pair
    send(first, "nouser@example.test", "unknown")
    send(first, "nullmx@example.test", "nullmx")
    first.wait_for_log("rcpt=<nobody@other.test> result=bounced")
    first.wait_for_log("event=queue.bounce ")
    assert wait_queue_empty(first) == []
    log = first.log()
    assert "rcpt=<nobody@other.test> result=bounced" in log
    assert "rcpt=<x@nomail.test> result=bounced" in log and "status=5.1.10" in log


def test_too_many_recipients_split(instance_dir):
    """The peer takes one recipient per transaction (452 4.5.3 for the
    second): the rest goes in the next transaction on the same connection."""
    first, second = make_pair(
        instance_dir, lambda t: re.sub(r"max_recipients = \d+", "max_recipients = 1", t))
    try:
        send(first, "two@example.test", "split")
        assert wait_delivered(second, REMOTE, "split") == 1
        assert wait_delivered(second, OTHER, "split") == 1
        assert wait_queue_empty(first) == []
        assert "result=deferred" not in first.log()
        assert "code=452" not in first.log()
        # two transactions, one connection
        sids = [line.split()[0] for line in second.log().splitlines()
                if "event=smtp.message " in line]
        assert len(sids) == 2 and sids[0] == sids[1], sids
    finally:
        stop_pair(first, second)


def test_local_recipient_delivered_into_the_maildir(pair):
    """An entry whose recipient is in a domain the first hosts (as a bounce
    to a local sender will be) goes into that user's Maildir, not over SMTP.
    The entry is written by hand, as the spool would, and the flush makes
    the role load it."""
    first, second = pair
    first.add_user("alice@example.test", PASSWORD)
    qdir = os.path.join(first.dir, "queue")
    qid = "%014x%s" % (int(time.time() * 1e6), "abcdef0123")
    body = b"Subject: local\r\n\r\nfor a local user\r\n"
    prefix = b"Return-Path: <>\r\n"
    with open(os.path.join(qdir, qid + ".msg"), "wb") as f:
        f.write(prefix + body)
    env = (f"tern-envelope 1\nid {qid}\narrival {int(time.time())}\nsize {len(body)}\n"
           f"data-skip {len(prefix)}\nfrom <>\nclient 127.0.0.1\n"
           "rcpt <alice@example.test> index=0\nrcpt <nobody@example.test> index=1\nend\n")
    with open(os.path.join(qdir, qid + ".tmp"), "w") as f:
        f.write(env)
    os.rename(os.path.join(qdir, qid + ".tmp"), os.path.join(qdir, qid + ".env"))
    first.tern("queue", "flush", qid)
    assert wait_delivered(first, "alice@example.test", "local") == 1
    assert wait_queue_empty(first) == []
    log = first.log()
    assert "rcpt=<alice@example.test> result=sent mx=local" in log
    assert "rcpt=<nobody@example.test> result=bounced" in log
    d = os.path.join(first.maildir("alice@example.test"), "new")
    with open(os.path.join(d, os.listdir(d)[0]), "rb") as f:
        assert f.read().startswith(b"Return-Path: <>\r\nSubject: local\r\n")


def test_smarthost_with_auth_over_starttls(instance_dir):
    """The transport map's "*" route is a smarthost: every domain goes to the
    second's submission port, STARTTLS first, then AUTH PLAIN with the
    credentials of queue.auth_file for that host."""
    def smarthost(first, second):
        transport = os.path.join(first.dir, "transport")
        auth = os.path.join(first.dir, "auth")
        with open(transport, "w") as f:
            f.write(f"* 127.0.0.2:{second.port('submission')}\n")
        with open(auth, "w") as f:
            f.write(f"127.0.0.2 {REMOTE} {PASSWORD}\n")
        os.chmod(auth, 0o600)
        if os.geteuid() == 0:  # the roles run as the tern account
            pw = pwd.getpwnam("tern")
            os.chown(auth, pw.pw_uid, pw.pw_gid)
        return f"\ttransport_file = {transport}\n\tauth_file = {auth}\n"

    first, second = make_pair(instance_dir, queue_extra=smarthost)
    try:
        # a provider's submission port lets the account send only as its
        # own addresses: allow the first's domain (the SRS0 sender) and the
        # From: of the forwarded message
        second.tern("user", "allow-sender", REMOTE, "@example.test")
        second.tern("user", "allow-sender", REMOTE, "@elsewhere.test")
        send(first, "fwd@example.test", "smarthost")
        assert wait_delivered(second, REMOTE, "smarthost") == 1, first.log()
        assert wait_queue_empty(first) == []
        log = first.log()
        assert "mx=127.0.0.2 ip=127.0.0.2" in log and "tls=opportunistic" in log
        assert "result=sent" in log
        assert "service=submission" in second.log()
        assert "event=auth.ok" in second.log() and f"user={REMOTE}" in second.log()
    finally:
        stop_pair(first, second)


def test_next_mx_and_next_address_when_one_is_down(instance_dir):
    """RFC 5321 5.1: the preferred MX refuses connections (nothing listens on
    127.0.0.3), so the next MX is tried; its first address is down too, its
    second one takes the message. One attempt, no deferral."""
    zone = ("other.test MX 10 down.other.test\n"
            "other.test MX 20 mx.other.test\n"
            "down.other.test A 127.0.0.3\n"
            "mx.other.test A 127.0.0.4\n"
            "mx.other.test A 127.0.0.2\n")
    first, second = make_pair(instance_dir, zone=zone)
    try:
        send(first, "fwd@example.test", "fallback")
        assert wait_delivered(second, REMOTE, "fallback") == 1
        assert wait_queue_empty(first) == []
        log = first.log()
        assert "result=sent mx=mx.other.test ip=127.0.0.2" in log
        assert "result=deferred" not in log
    finally:
        stop_pair(first, second)


def test_dsn_parameters_passed_on(instance_dir):
    """RET, ENVID, NOTIFY and ORCPT given to the first reach the second,
    which offers DSN: the second forwards to a third domain and holds its
    queue (deliver = no), so its envelope shows what our client sent."""
    def second_conf(text):
        return text + "\nqueue {\n\tdeliver = no\n}\n"

    first, second = make_pair(instance_dir, edit_second=second_conf)
    try:
        second.tern("alias", "add", "relay@other.test", "far@third.test")
        first.tern("alias", "add", "dsn@example.test", "relay@other.test")
        body = b"Subject: dsn\r\n\r\nwith DSN parameters\r\n"
        with smtplib.SMTP("127.0.0.1", first.port("smtp"), timeout=30) as s:
            s.ehlo("client.test")
            s.sendmail("sender@elsewhere.test", ["dsn@example.test"], body,
                       mail_options=["RET=HDRS", "ENVID=QQ+2B314"],
                       rcpt_options=["NOTIFY=FAILURE,DELAY",
                                     "ORCPT=rfc822;dsn+40example.test"])
        assert wait_queue_empty(first) == []
        deadline = time.time() + 20
        while time.time() < deadline and not queue_ids(second):
            time.sleep(0.05)
        ids = queue_ids(second)
        assert len(ids) == 1
        with open(os.path.join(second.dir, "queue", ids[0] + ".env")) as f:
            env = f.read()
        assert "\nret HDRS\n" in env
        assert "\nenvid QQ+314\n" in env
        assert "notify=FAILURE,DELAY" in env, env
        assert "orcpt=rfc822;dsn@example.test" in env, env
    finally:
        stop_pair(first, second)


def test_expiry_gives_up_with_4_4_7(instance_dir):
    """queue.give_up after arrival, a recipient still failing expires: the
    last try comes at the limit (not after retry_first), then the bounce
    call site gets it with 4.4.7 and the entry leaves the queue."""
    first, second = make_pair(instance_dir, queue_extra=lambda a, b: "\tgive_up = 2s\n")
    try:
        second.stop()
        t0 = time.time()
        send(first, "fwd@example.test", "expires")
        first.wait_for_log("result=expired", timeout=15)
        assert time.time() - t0 < 10  # not the 60 s retry_first
        assert wait_queue_empty(first) == []
        log = first.log()
        assert log.count("result=deferred") >= 1
        assert "event=queue.bounce " in log and "status=4.4.7" in log
    finally:
        stop_pair(first, second)


def test_reload_while_messages_wait_then_delivered_once(pair):
    """SIGHUP starts a new queue role while the old one drains; both see the
    same spool, and an entry's lock (flock on its envelope) keeps them from
    sending the same message: after the flush each arrives once."""
    first, second = pair
    second.stop()
    for i in range(3):
        send(first, "fwd@example.test", f"reload{i}")
    deadline = time.time() + 20
    while time.time() < deadline and first.log().count("result=deferred") < 3:
        time.sleep(0.1)
    since = os.path.getsize(first.log_path)
    first.proc.send_signal(signal.SIGHUP)
    first.wait_for_log("event=config.reloaded", since=since)
    first.wait_for_log("role=queue event=role.ready", since=since)
    second.start()
    first.tern("queue", "flush")
    for i in range(3):
        assert wait_delivered(second, REMOTE, f"reload{i}") == 1
    assert wait_queue_empty(first) == []
    time.sleep(0.5)
    for i in range(3):
        assert delivered(second, REMOTE, f"reload{i}") == 1


def dsn_reports(inst, address):
    """The delivery-status reports in address's INBOX, parsed by Python's
    email package: [(per-message fields, [per-recipient fields])]."""
    out = []
    for sub in ("new", "cur"):
        d = os.path.join(inst.maildir(address), sub)
        for name in sorted(os.listdir(d)) if os.path.isdir(d) else []:
            with open(os.path.join(d, name), "rb") as f:
                msg = message_from_bytes(f.read(), policy=policy.compat32)
            if msg.get_content_type() != "multipart/report":
                continue
            assert msg.get_param("report-type") == "delivery-status"
            for part in msg.walk():
                if part.get_content_type() == "message/delivery-status":
                    blocks = part.get_payload()
                    out.append((blocks[0], blocks[1:]))
    return out


def wait_reports(inst, address, count, timeout=20):
    deadline = time.time() + timeout
    while time.time() < deadline:
        got = dsn_reports(inst, address)
        if len(got) >= count:
            return got
        time.sleep(0.1)
    return dsn_reports(inst, address)


def send_from(inst, sender, rcpt, subject, rcpt_options=()):
    body = (f"From: <{sender}>\r\nSubject: {subject}\r\n"
            f"Message-ID: <{subject}@client.test>\r\n\r\nhello\r\n")
    with smtplib.SMTP("127.0.0.1", inst.port("smtp"), timeout=30) as s:
        s.ehlo("client.test")
        s.sendmail(sender, [rcpt], body.encode(), rcpt_options=list(rcpt_options))


def test_unknown_user_at_the_peer_gives_a_dsn_in_the_senders_inbox(pair):
    """The second answers 550 5.1.1 for an unknown user: the first writes an
    RFC 3464 report into the spool and delivers it to its local sender, whose
    INBOX then holds a multipart/report that Python's email package parses
    with Status 5.1.1; NOTIFY=NEVER gives no report."""
    first, second = pair
    sender = "local@example.test"
    first.add_user(sender, PASSWORD)
    send_from(first, sender, "nouser@example.test", "unknown-user")
    reports = wait_reports(first, sender, 1)
    assert len(reports) == 1, first.log()
    per_message, per_rcpt = reports[0]
    assert per_message["Reporting-MTA"].startswith("dns;")
    assert len(per_rcpt) == 1
    assert per_rcpt[0]["Final-Recipient"].lower() == "rfc822; nobody@other.test"
    assert per_rcpt[0]["Action"] == "failed"
    assert per_rcpt[0]["Status"] == "5.1.1"
    assert "550" in per_rcpt[0]["Diagnostic-Code"]
    assert wait_queue_empty(first) == []

    since = os.path.getsize(first.log_path)
    send_from(first, sender, "nouser@example.test", "never", ["NOTIFY=NEVER"])
    first.wait_for_log("rcpt=<nobody@other.test> result=bounced", since=since)
    assert wait_queue_empty(first) == []
    assert "event=queue.bounce " not in first.log()[since:]
    assert len(dsn_reports(first, sender)) == 1
