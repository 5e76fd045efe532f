"""Submission on 587 (STARTTLS) and 465 (implicit TLS) against a real server
(docs/submission.md): AUTH required, the sender-ownership rule at MAIL and
at From:, the RFC 6409 section 8 fixes, DKIM signing checked by dkimpy
with the key `tern dkim txt` prints, remote recipients in the spool, and
the limits."""
import glob
import os
import re
import smtplib
import ssl

import dkim
import pytest

from conftest import DOMAIN, HOSTNAME, Instance, client_tls_context

ALICE = "alice@" + DOMAIN
BOB = "bob@" + DOMAIN
PASSWORD = "correct horse battery staple"


def make_instance(base, **keys):
    """An instance with alice and bob; keys: values for the lines tern init
    wrote in its submission { } section."""
    inst = Instance(base)
    inst.add_user(ALICE, PASSWORD)
    inst.add_user(BOB, PASSWORD)
    with open(inst.config) as f:
        text = f.read()
    head, section = text.split("\nsubmission {\n", 1)
    section, tail = section.split("\n}\n", 1)
    for key, value in keys.items():
        section, n = re.subn(r"^(\s*%s = ).*$" % key, r"\g<1>%s" % value, section, flags=re.M)
        assert n == 1, key
    text = head + "\nsubmission {\n" + section + "\n}\n" + tail
    # the spool as the smtp role leaves it: the queue role delivers nothing
    text += "\nqueue {\n\tdeliver = no\n}\n"
    with open(inst.config, "w") as f:
        f.write(text)
    inst.start()
    return inst


@pytest.fixture
def sub(instance_dir):
    inst = make_instance(instance_dir)
    yield inst
    inst.stop()
    inst.check_sanitizers()


def connect_587(inst, user=ALICE):
    c = smtplib.SMTP("127.0.0.1", inst.port("submission"), timeout=10)
    c.ehlo("client.example")
    c.starttls(context=client_tls_context())
    c.ehlo("client.example")
    if user:
        c.login(user, PASSWORD)
    return c


def connect_465(inst, user=ALICE):
    c = smtplib.SMTP_SSL("127.0.0.1", inst.port("submissions"), timeout=10,
                         context=client_tls_context())
    c.ehlo("client.example")
    if user:
        c.login(user, PASSWORD)
    return c


def message(frm=ALICE, to=BOB, extra=""):
    return (f"From: Alice <{frm}>\r\nTo: {to}\r\nSubject: hello\r\n{extra}\r\n"
            "Hello Bob,\r\n\r\nsee you tomorrow.\r\n").encode()


def delivered(inst, user, count=1, timeout=5):
    import time
    new = os.path.join(inst.maildir(user), "new")
    deadline = time.time() + timeout
    files = []
    while time.time() < deadline:
        files = sorted(glob.glob(os.path.join(new, "*")))
        if len(files) >= count:
            break
        time.sleep(0.05)
    assert len(files) == count, files
    with open(files[-1], "rb") as f:
        return f.read()


def dkim_dns(inst):
    """A dnsfunc for dkimpy answering from `tern dkim txt` (the record an
    admin publishes)."""
    line = inst.tern("dkim", "txt", "--domain", DOMAIN).stdout.strip()
    name = line.split()[0]
    text = "".join(re.findall(r'"([^"]*)"', line))

    def dnsfunc(qname, timeout=5):
        q = qname.decode() if isinstance(qname, bytes) else qname
        return text.encode() if q.rstrip(".") == name.rstrip(".") else None
    return dnsfunc


def header_of(raw, name):
    """The values of every field called name, unfolded."""
    head = raw.split(b"\r\n\r\n", 1)[0].decode()
    fields = []
    for line in head.split("\r\n"):
        if line[:1] in (" ", "\t") and fields:
            fields[-1] += line
        else:
            fields.append(line)
    return [f.split(":", 1)[1] for f in fields
            if f.split(":", 1)[0].strip().lower() == name.lower()]


# --- AUTH and TLS ---------------------------------------------------------

def test_auth_required_on_both_ports(instance_dir):
    inst = make_instance(instance_dir)
    try:
        c = smtplib.SMTP("127.0.0.1", inst.port("submission"), timeout=10)
        c.ehlo("client.example")
        # 587: TLS first (RFC 3207 section 4)
        assert c.mail(ALICE)[0] == 530
        c.starttls(context=client_tls_context())
        c.ehlo("client.example")
        code, text = c.mail(ALICE)
        assert code == 530 and b"5.7.0" in text and b"Authentication" in text
        c.quit()
        c = connect_465(inst, user=None)
        code, text = c.mail(ALICE)
        assert code == 530 and b"5.7.0" in text
        # logged in, the same session may send (PLAIN on 465, LOGIN on 587)
        c.login(ALICE, PASSWORD)
        c.sendmail(ALICE, [BOB], message())
        c.quit()
        c = connect_587(inst, user=None)
        c.user, c.password = ALICE, PASSWORD
        code, _ = c.auth("LOGIN", c.auth_login, initial_response_ok=False)
        assert code == 235
        c.sendmail(ALICE, [BOB], message())
        c.quit()
        assert inst.log().count("event=submission.message") == 2
    finally:
        inst.stop()
        inst.check_sanitizers()


# --- sender ownership -----------------------------------------------------

def test_envelope_sender_of_someone_else_refused(sub):
    c = connect_587(sub)
    code, text = c.mail(BOB)
    assert code == 553 and b"5.7.1" in text
    # the session goes on: alice's own address is fine
    assert c.mail(ALICE)[0] == 250
    c.quit()
    # and bob may use his
    c = connect_465(sub, user=BOB)
    assert c.mail(BOB)[0] == 250
    assert c.mail(ALICE)[0] == 503  # nested MAIL: the first was taken
    c.rset()
    assert c.mail(ALICE)[0] == 553
    c.quit()


def test_from_of_someone_else_refused_after_data(sub):
    c = connect_465(sub)
    with pytest.raises(smtplib.SMTPDataError) as e:
        c.sendmail(ALICE, [BOB], message(frm=BOB))
    assert e.value.smtp_code == 550 and b"5.7.1" in e.value.smtp_error
    # one of several From: addresses not owned is enough
    with pytest.raises(smtplib.SMTPDataError) as e:
        c.sendmail(ALICE, [BOB], message(frm=f"{ALICE}>, <{BOB}"))
    assert e.value.smtp_code == 550
    c.quit()
    assert not glob.glob(os.path.join(sub.maildir(BOB), "new", "*"))


def test_allowed_sender_and_alias_accepted(sub):
    sub.tern("alias", "add", "info@" + DOMAIN, ALICE)
    sub.tern("user", "allow-sender", ALICE, "sales@" + DOMAIN)
    sub.tern("user", "allow-sender", ALICE, "@partner.example")
    show = sub.tern("user", "show", ALICE).stdout
    assert "allowed-sender: sales@example.test" in show
    assert "allowed-sender: @partner.example" in show
    c = connect_587(sub)
    for frm in ("info@" + DOMAIN, "sales@" + DOMAIN, "news@partner.example"):
        c.sendmail(frm, [BOB], message(frm=frm))
    # the null sender (MDNs) with alice's From:
    c.sendmail("", [BOB], message())
    c.quit()
    delivered(sub, BOB, count=4)
    # taken back: refused again
    sub.tern("user", "deny-sender", ALICE, "sales@" + DOMAIN)
    c = connect_587(sub)
    assert c.mail("sales@" + DOMAIN)[0] == 553
    c.quit()


# --- what arrives -----------------------------------------------------------

def test_local_message_fixed_and_signed(sub):
    c = connect_587(sub)
    c.sendmail(ALICE, [BOB], message())
    c.quit()
    raw = delivered(sub, BOB)
    msgid = header_of(raw, "Message-ID")
    assert len(msgid) == 1 and msgid[0].strip().endswith("@%s>" % HOSTNAME)
    assert len(header_of(raw, "Date")) == 1
    received = header_of(raw, "Received")[0]
    assert "with ESMTPSA" in received and "[127.0.0.1]" in received
    assert raw.startswith(b"Return-Path: <%s>\r\n" % ALICE.encode())
    assert not header_of(raw, "Authentication-Results")
    sig = header_of(raw, "DKIM-Signature")
    assert len(sig) == 1 and "d=%s" % DOMAIN in sig[0]
    assert "c=relaxed/relaxed" in sig[0]
    # From signed once more than present (oversigned), Date and Message-ID signed
    hlist = re.search(r"h=([^;]*)", sig[0]).group(1).lower()
    names = [h.strip() for h in hlist.split(":")]
    assert names.count("from") == 2 and "message-id" in names and "date" in names
    body = raw.split(b"\r\n", 1)[1]  # without Return-Path, as it would travel
    assert dkim.verify(body, dnsfunc=dkim_dns(sub))
    # a change breaks it: the check can fail
    assert not dkim.verify(body.replace(b"tomorrow", b"today"), dnsfunc=dkim_dns(sub))


def test_existing_message_id_and_date_kept(sub):
    extra = "Message-ID: <own@client.example>\r\nDate: Thu, 3 Dec 2026 10:00:00 +0000\r\n"
    c = connect_465(sub)
    c.sendmail(ALICE, [BOB], message(extra=extra))
    c.quit()
    raw = delivered(sub, BOB)
    assert [m.strip() for m in header_of(raw, "Message-ID")] == ["<own@client.example>"]
    assert [d.strip() for d in header_of(raw, "Date")] == ["Thu, 3 Dec 2026 10:00:00 +0000"]
    assert dkim.verify(raw.split(b"\r\n", 1)[1], dnsfunc=dkim_dns(sub))


def test_ed25519_key_signs(instance_dir):
    inst = Instance(instance_dir)
    inst.add_user(ALICE, PASSWORD)
    inst.add_user(BOB, PASSWORD)
    # the default-named RSA key of tern init is replaced by an Ed25519 one
    for path in glob.glob(os.path.join(inst.dir, "dkim", DOMAIN, "*.key")):
        os.unlink(path)
    inst.tern("dkim", "keygen", "--domain", DOMAIN, "--selector", "ed", "--algorithm",
              "ed25519")
    inst.start()
    try:
        c = connect_587(inst)
        c.sendmail(ALICE, [BOB], message())
        c.quit()
        raw = delivered(inst, BOB)
        sig = header_of(raw, "DKIM-Signature")[0]
        assert "a=ed25519-sha256" in sig and "s=ed" in sig
        assert dkim.verify(raw.split(b"\r\n", 1)[1], dnsfunc=dkim_dns(inst))
    finally:
        inst.stop()
        inst.check_sanitizers()


def test_hidden_client_ip(instance_dir):
    inst = make_instance(instance_dir, hide_client_ip="yes")
    try:
        c = connect_587(inst)
        c.sendmail(ALICE, [BOB], message())
        c.quit()
        raw = delivered(inst, BOB)
        received = header_of(raw, "Received")[0]
        assert "with ESMTPSA" in received and "127.0.0.1" not in received
    finally:
        inst.stop()
        inst.check_sanitizers()


def test_remote_recipient_spooled(sub):
    c = connect_587(sub)
    c.sendmail(ALICE, ["carol@remote.example", BOB], message(to="carol@remote.example"))
    c.quit()
    delivered(sub, BOB)
    out = sub.tern("queue", "list").stdout
    assert "carol@remote.example" in out
    msgs = glob.glob(os.path.join(sub.dir, "queue", "*.msg"))
    assert len(msgs) == 1
    with open(msgs[0], "rb") as f:
        data = f.read()
    assert b"DKIM-Signature:" in data


# --- limits -------------------------------------------------------------------

def test_limits(instance_dir):
    inst = make_instance(instance_dir, max_recipients=2, max_messages_per_user=2)
    try:
        c = connect_587(inst)
        assert c.mail(ALICE)[0] == 250
        assert c.rcpt(BOB)[0] == 250
        assert c.rcpt(ALICE)[0] == 250
        code, text = c.rcpt("x@remote.example")
        assert code == 452 and b"4.5.3" in text
        c.rset()
        c.sendmail(ALICE, [BOB], message())
        c.sendmail(ALICE, [BOB], message())
        code, text = c.mail(ALICE)
        assert code == 451 and b"4.7.1" in text
        c.quit()
        log = inst.log()
        assert "limit=max_recipients" in log and "limit=messages_per_user" in log
        delivered(inst, BOB, count=2)
    finally:
        inst.stop()
        inst.check_sanitizers()


def test_message_size_limit(instance_dir):
    inst = Instance(instance_dir)
    inst.add_user(ALICE, PASSWORD)
    inst.add_user(BOB, PASSWORD)
    with open(inst.config) as f:
        text = f.read()
    with open(inst.config, "w") as f:
        f.write(text.replace("max_message_size = 25M", "max_message_size = 16K"))
    inst.start()
    try:
        c = connect_587(inst)
        big = message(extra="X-Pad: " + "a" * 40000 + "\r\n")
        # SIZE= at MAIL (RFC 1870), and without it after the data
        with pytest.raises(smtplib.SMTPSenderRefused) as e:
            c.sendmail(ALICE, [BOB], big)
        assert e.value.smtp_code == 552
        assert c.mail(ALICE)[0] == 250 and c.rcpt(BOB)[0] == 250
        code, text = c.data(big)
        assert code == 552 and b"5.3.4" in text
        c.quit()
        assert not glob.glob(os.path.join(inst.maildir(BOB), "new", "*"))
    finally:
        inst.stop()
        inst.check_sanitizers()


# --- postmaster (RFC 5321 section 4.5.1) ----------------------------------------

def test_postmaster_without_alias_on_port_25(sub):
    """No alias: postmaster@ goes to the domain's first user (alice)."""
    c = smtplib.SMTP("127.0.0.1", sub.port("smtp"), timeout=10)
    c.ehlo("client.example")
    c.sendmail("someone@remote.example", ["PostMaster@" + DOMAIN], message(frm="x@remote.example"))
    c.quit()
    delivered(sub, ALICE)


def test_bare_postmaster_on_every_service(sub):
    """RFC 5321 4.5.1: a bare <Postmaster> (no domain, any case) is the
    server's postmaster. The hostname (mail.example.test) is no local
    domain, so it is the postmaster of example.test, its parent: with no
    alias the domain's first user (alice), on port 25, submission and
    LMTP alike."""
    assert HOSTNAME == "mail." + DOMAIN
    assert "mail." + DOMAIN not in sub.tern("domain", "list").stdout
    c = smtplib.SMTP("127.0.0.1", sub.port("smtp"), timeout=10)
    c.ehlo("client.example")
    c.sendmail("someone@remote.example", ["Postmaster"], message(frm="x@remote.example"))
    c.quit()
    delivered(sub, ALICE, count=1)
    c = connect_587(sub, BOB)
    c.sendmail(BOB, ["postmaster"], message(frm=BOB, to="postmaster"))
    c.quit()
    delivered(sub, ALICE, count=2)
    c = smtplib.LMTP("127.0.0.1", sub.port("lmtp"), timeout=10)
    c.sendmail("someone@remote.example", ["POSTMASTER"], message(frm="x@remote.example"))
    c.quit()
    delivered(sub, ALICE, count=3)
    assert not glob.glob(os.path.join(sub.maildir(BOB), "new", "*"))
    # nothing went to the spool as a remote postmaster@mail.example.test
    assert sub.tern("queue", "list").stdout.strip() == "Mail queue is empty"


def test_postmaster_setting(instance_dir):
    inst = Instance(instance_dir)
    inst.add_user(ALICE, PASSWORD)
    inst.add_user(BOB, PASSWORD)
    with open(inst.config) as f:
        text = f.read()
    with open(inst.config, "w") as f:
        f.write(text.replace("smtp {\n", "smtp {\n\tpostmaster = %s\n" % BOB, 1))
    assert "postmaster = %s" % BOB in inst.tern("config").stdout
    inst.start()
    try:
        c = smtplib.SMTP("127.0.0.1", inst.port("smtp"), timeout=10)
        c.ehlo("client.example")
        c.sendmail("someone@remote.example", ["postmaster@" + DOMAIN],
                   message(frm="x@remote.example"))
        # other unknown addresses are still unknown
        assert c.mail("someone@remote.example")[0] == 250
        assert c.rcpt("nobody@" + DOMAIN)[0] == 550
        c.quit()
        delivered(inst, BOB)
        # LMTP follows the setting too, for a bare <Postmaster> as well
        c = smtplib.LMTP("127.0.0.1", inst.port("lmtp"), timeout=10)
        c.sendmail("someone@remote.example", ["Postmaster"], message(frm="x@remote.example"))
        c.quit()
        delivered(inst, BOB, count=2)
        assert not glob.glob(os.path.join(inst.maildir(ALICE), "new", "*"))
    finally:
        inst.stop()
        inst.check_sanitizers()
