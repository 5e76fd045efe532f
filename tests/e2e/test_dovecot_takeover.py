"""Taking over a Maildir Dovecot served (docs/store.md "Taking over a
Dovecot Maildir"): Tern's first sync of each folder reads its
dovecot-uidlist, so UIDVALIDITY, every UID and the POP3 UIDLs stay what
Dovecot gave (clients keep their caches, POP3 clients download nothing
twice); new mail continues above Dovecot's next UID."""
import imaplib
import os
import re
import shutil
import tempfile

import pytest

from conftest import client_tls_context
from test_imap import PASSWORD, USER, connect_starttls, deliver
from test_imap_keywords import _dovecot_serve

import test_mime_dovecot as dv

MSG = b"From: bob@remote.test\r\nSubject: %d\r\n\r\nbody %d\r\n"


def dovecot_folder_state(dm, folder):
    typ, data = dm.select(folder)
    assert typ == "OK"
    uidvalidity = int(dm.untagged_responses["UIDVALIDITY"][0])
    typ, data = dm.fetch("1:*", "(UID BODY.PEEK[HEADER.FIELDS (SUBJECT)])")
    uids = {}
    for item in data:
        if isinstance(item, tuple):
            uid = int(re.search(rb"UID (\d+)", item[0]).group(1))
            subject = re.search(rb"Subject: (\d+)", item[1]).group(1)
            uids[subject] = uid
    return uidvalidity, uids


def build_with_dovecot(d):
    """A Maildir made by Dovecot: INBOX with a gap in its UIDs, a folder;
    returns {folder: (uidvalidity, {subject: uid})} and the Maildir."""
    uid, gid, internal, group, login = dv.mail_account()
    src = os.path.join(d, "empty")
    os.makedirs(src)
    proc, port = _dovecot_serve(d, src, uid, gid, internal, group, login)
    try:
        dm = imaplib.IMAP4("127.0.0.1", port)
        dm.login("kw", "kw-pass")
        dm.create("Archive")
        for i in range(1, 7):
            assert dm.append("INBOX", None, None, MSG % (i, i))[0] == "OK"
        for i in range(10, 13):
            assert dm.append("Archive", None, None, MSG % (i, i))[0] == "OK"
        dm.select("INBOX")
        dm.store("2", "+FLAGS", "(\\Deleted)")
        dm.store("5", "+FLAGS", "(\\Deleted)")
        dm.expunge()
        dm.store("1", "+FLAGS", "(\\Flagged)")
        state = {f: dovecot_folder_state(dm, f) for f in ("INBOX", "Archive")}
        dm.logout()
    except (OSError, imaplib.IMAP4.error) as e:
        raise RuntimeError("dovecot failed (%s); its log:\n%s" % (e, dv.dovecot_log(d)))
    finally:
        proc.terminate()
        proc.wait(timeout=10)
    return state, os.path.join(d, "mail")


def tern_folder_state(m, folder):
    typ, _ = m.select(folder)
    assert typ == "OK"
    uidvalidity = int(m.untagged_responses["UIDVALIDITY"][0])
    return uidvalidity, dovecot_folder_state(m, folder)[1]


def test_uids_and_uidls_survive_the_move(instance):
    if not os.path.exists(dv.DOVECOT):
        pytest.fail("dovecot is not installed (Debian package dovecot-imapd)")
    d = tempfile.mkdtemp(prefix="tern-tko-")
    os.chmod(d, 0o755)
    try:
        state, maildir = build_with_dovecot(d)
        assert state["INBOX"][1] == {b"1": 1, b"3": 3, b"4": 4, b"6": 6}
        instance.add_user(USER, PASSWORD)
        md = instance.maildir(USER)
        if os.path.exists(md):
            shutil.rmtree(md)
        os.makedirs(os.path.dirname(md), exist_ok=True)
        shutil.copytree(maildir, md, symlinks=True)
        # the mail directory's owner (the account the roles run as)
        owner = os.stat(os.path.join(instance.dir, "mail"))
        for root, dirs, files in os.walk(os.path.dirname(md)):
            for n in [root] + [os.path.join(root, x) for x in files]:
                os.chown(n, owner.st_uid, owner.st_gid)
        try:
            m = connect_starttls(instance)
        except imaplib.IMAP4.error:
            raise AssertionError(instance.log())
        for folder in ("INBOX", "Archive"):
            assert tern_folder_state(m, folder) == state[folder], folder
        m.select("INBOX")
        assert b"\\Flagged" in m.fetch("1", "(FLAGS)")[1][0]
        m.logout()
        # POP3 UIDLs as Dovecot's default pop3_uidl_format %08Xu%08Xv
        import poplib
        p = poplib.POP3("127.0.0.1", instance.port("pop3"), timeout=10)
        p.stls(client_tls_context())
        p.user(USER)
        p.pass_(PASSWORD)
        uidls = sorted(line.split()[1] for line in p.uidl()[1])
        p.quit()
        v = state["INBOX"][0]
        assert uidls == sorted(b"%08X%08X" % (u, v) for u in (1, 3, 4, 6))
        # new mail goes above Dovecot's UIDs; a later sync imports nothing
        deliver(instance)
        m = connect_starttls(instance)
        m.select("INBOX")
        uids = [int(x) for x in m.uid("SEARCH", None, "ALL")[1][0].split()]
        assert uids[:4] == [1, 3, 4, 6] and len(uids) == 5 and uids[4] >= 7
        assert m.untagged_responses.get("UIDVALIDITY", [str(v).encode()])[0] == str(v).encode()
        m.logout()
        assert os.path.exists(os.path.join(md, "tern-uidlist-imported"))
        assert instance.log().count("event=store.uidlist_imported") == 2
    finally:
        shutil.rmtree(d, ignore_errors=True)
