"""IMAP keywords end to end: STORE/FETCH/SEARCH/APPEND/COPY/MOVE with
keywords, their Maildir form (file name letters a-z and dovecot-keywords,
as Dovecot writes them), a restart and a rebuilt index."""
import glob
import os
import re

import pytest

from test_imap import USER, connect_starttls, setup_mail


def fetch_flags(m, seq="1"):
    typ, data = m.fetch(seq, "(FLAGS)")
    assert typ == "OK"
    return re.search(rb"FLAGS \(([^)]*)\)", data[0]).group(1).split()


def cur_files(instance, folder=""):
    return sorted(glob.glob(os.path.join(instance.maildir(USER), folder, "cur", "*")))


def keywords_file(instance, folder=""):
    path = os.path.join(instance.maildir(USER), folder, "dovecot-keywords")
    with open(path) as f:
        return dict((int(l.split(" ", 1)[0]), l.split(" ", 1)[1].rstrip("\n"))
                    for l in f if l.strip())


def test_store_fetch_search_round_trip(instance):
    setup_mail(instance, 2)
    m = connect_starttls(instance)
    typ, data = m.select("INBOX")
    assert typ == "OK"
    assert b"\\*" in [r for r in m.untagged_responses.get("OK", []) if b"PERMANENTFLAGS" in r][0]
    typ, data = m.store("1", "+FLAGS", "($hello $Forwarded)")
    assert typ == "OK"
    assert set(fetch_flags(m)) >= {b"$hello", b"$Forwarded"}
    # announced with FLAGS before use
    assert any(b"$hello" in r for r in m.untagged_responses.get("FLAGS", []))
    assert m.search(None, "KEYWORD", "$hello")[1][0] == b"1"
    assert m.search(None, "UNKEYWORD", "$hello")[1][0] == b"2"
    assert m.search(None, "KEYWORD", "$nosuch")[1][0] == b""
    m.store("1", "-FLAGS", "($hello)")
    assert b"$hello" not in fetch_flags(m)
    m.store("2", "FLAGS", "(\\Seen $Junk)")
    assert fetch_flags(m, "2") == [b"\\Seen", b"$Junk"] or set(fetch_flags(m, "2")) == {
        b"\\Seen", b"$Junk", b"\\Recent"}
    # Maildir form: the letters index dovecot-keywords
    kw = keywords_file(instance)
    assert set(kw.values()) == {"$hello", "$Forwarded", "$Junk"}
    letter = {v: chr(ord("a") + k) for k, v in kw.items()}
    names = [os.path.basename(p) for p in cur_files(instance)]
    assert any(n.endswith(":2," + letter["$Forwarded"]) for n in names)
    assert any(n.endswith(":2,S" + letter["$Junk"]) for n in names)
    m.logout()


def test_invalid_keywords_refused(instance):
    setup_mail(instance)
    m = connect_starttls(instance)
    m.select("INBOX")
    for bad in ("(\\Foo)", "(\\Recent)"):
        with pytest.raises(imaplib_error()):
            m.store("1", "+FLAGS", bad)
    m.logout()


def imaplib_error():
    import imaplib
    return imaplib.IMAP4.error


def test_keyword_limit(instance):
    setup_mail(instance)
    m = connect_starttls(instance)
    m.select("INBOX")
    names = " ".join("k%d" % i for i in range(64))
    assert m.store("1", "+FLAGS", "(%s)" % names)[0] == "OK"
    typ, data = m.store("1", "+FLAGS", "(one_too_many)")
    assert typ == "NO"
    assert len(fetch_flags(m)) >= 64
    m.logout()


def test_restart_and_rebuilt_index_keep_keywords(instance):
    setup_mail(instance)
    m = connect_starttls(instance)
    m.select("INBOX")
    m.store("1", "+FLAGS", "($MDNSent $NotJunk)")
    m.logout()
    instance.restart()
    m = connect_starttls(instance)
    m.select("INBOX")
    assert {b"$MDNSent", b"$NotJunk"} <= set(fetch_flags(m))
    m.logout()
    instance.stop()
    for p in glob.glob(os.path.join(instance.maildir(USER), "tern-index.db*")):
        os.unlink(p)
    instance.start()
    m = connect_starttls(instance)
    m.select("INBOX")
    assert {b"$MDNSent", b"$NotJunk"} <= set(fetch_flags(m))
    m.logout()


def test_append_copy_move_keep_keywords(instance):
    setup_mail(instance, 0)
    m = connect_starttls(instance)
    m.create("Archive")
    m.create("Other")
    # Archive gets a keyword first so that indexes differ between folders
    m.append("Archive", "(zzz)", None, b"Subject: z\r\n\r\nz\r\n")
    typ, _ = m.append("INBOX", "(\\Seen $label1 work)", None, b"Subject: a\r\n\r\nbody\r\n")
    assert typ == "OK"
    m.select("INBOX")
    assert {b"\\Seen", b"$label1", b"work"} <= set(fetch_flags(m))
    assert m.copy("1", "Archive")[0] == "OK"
    assert m._simple_command("MOVE", "1", "Other")[0] == "OK"
    for box in ("Archive", "Other"):
        m.select(box)
        typ, data = m.search(None, "KEYWORD", "work")
        seq = data[0].split()[-1]
        assert {b"\\Seen", b"$label1", b"work"} <= set(fetch_flags(m, seq.decode()))
    kw = keywords_file(instance, ".Archive")
    assert kw[0] == "zzz"
    m.logout()


def test_dovecot_form_maildir_read(instance):
    """A Maildir prepared as Dovecot leaves it: dovecot-keywords and letters."""
    instance.add_user(USER, "correct horse battery")
    m = connect_starttls(instance)  # creates the Maildir
    m.logout()
    md = instance.maildir(USER)
    with open(os.path.join(md, "dovecot-keywords"), "w") as f:
        f.write("0 $Forwarded\n1 Junk\n3 project-x\n")
    with open(os.path.join(md, "cur", "1700000000.M1P1.dove,S=20:2,Sad"), "wb") as f:
        f.write(b"Subject: d\r\n\r\nbody\r\n")
    m = connect_starttls(instance)
    m.select("INBOX")
    assert set(fetch_flags(m)) >= {b"\\Seen", b"$Forwarded", b"project-x"}
    assert b"Junk" not in fetch_flags(m)
    m.store("1", "+FLAGS", "(Junk)")
    assert os.path.exists(os.path.join(md, "cur", "1700000000.M1P1.dove,S=20:2,Sabd"))
    m.logout()


def _dovecot_serve(d, maildir_src, uid, gid, internal, group, login):
    """Copy maildir_src to d/mail for Dovecot and start it; (proc, port)."""
    import shutil
    import subprocess
    import test_mime_dovecot as dv

    port = dv.free_port()
    for sub in ("run", "state"):
        os.makedirs(os.path.join(d, sub), exist_ok=True)
    with open(os.path.join(d, "dovecot.conf"), "w") as f:
        f.write(dv.CONF.format(d=d, port=port, internal=internal, group=group, login=login))
    with open(os.path.join(d, "passwd"), "w") as f:
        f.write("kw:{PLAIN}kw-pass:%d:%d::%s/mail::\n" % (uid, gid, d))
    shutil.copytree(maildir_src, os.path.join(d, "mail"), symlinks=True)
    for root, dirs, files in os.walk(os.path.join(d, "mail")):
        for n in [root] + [os.path.join(root, x) for x in files]:
            os.chown(n, uid, gid)
    proc = subprocess.Popen([dv.DOVECOT, "-F", "-c", os.path.join(d, "dovecot.conf")],
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    dv.wait_port(port, proc)
    return proc, port


def test_dovecot_reads_tern_keywords_and_back(instance):
    """Dovecot serves a Maildir Tern wrote and sees its keywords; a keyword
    Dovecot adds is seen by Tern once the Maildir comes back."""
    import imaplib
    import shutil
    import test_mime_dovecot as dv

    if not os.path.exists(dv.DOVECOT):
        pytest.skip("dovecot is not installed (Debian package dovecot-imapd)")
    uid, gid, internal, group, login = dv.mail_account()
    setup_mail(instance, 2)
    m = connect_starttls(instance)
    m.create("Archive")
    m.select("INBOX")
    assert m.store("1", "+FLAGS", "(\\Flagged $Forwarded work)")[0] == "OK"
    assert m.store("2", "+FLAGS", "($Junk)")[0] == "OK"
    assert m.copy("1", "Archive")[0] == "OK"
    m.logout()
    instance.stop()

    import tempfile
    # short: Dovecot's unix sockets live under it (108-byte path limit)
    d = tempfile.mkdtemp(prefix="tern-kwdv-")
    os.chmod(d, 0o755)
    try:
        check_with_dovecot(instance, d, uid, gid, internal, group, login)
    finally:
        shutil.rmtree(d, ignore_errors=True)


def check_with_dovecot(instance, d, uid, gid, internal, group, login):
    import imaplib
    import shutil
    import test_mime_dovecot as dv

    proc, port = _dovecot_serve(d, instance.maildir(USER), uid, gid, internal, group, login)
    try:
        dm = imaplib.IMAP4("127.0.0.1", port)
        dm.login("kw", "kw-pass")
        dm.select("INBOX")
        assert {b"\\Flagged", b"$Forwarded", b"work"} <= set(fetch_flags(dm, "1"))
        assert b"$Junk" in fetch_flags(dm, "2")
        assert dm.search(None, "KEYWORD", "work")[1][0] == b"1"
        assert dm.store("2", "+FLAGS", "(fromdovecot)")[0] == "OK"
        dm.select("Archive")
        assert {b"\\Flagged", b"$Forwarded", b"work"} <= set(fetch_flags(dm, "1"))
        dm.logout()
    except (OSError, imaplib.IMAP4.error) as e:
        raise RuntimeError("dovecot failed (%s); its log:\n%s" % (e, dv.dovecot_log(d)))
    finally:
        proc.terminate()
        proc.wait(timeout=10)

    # back to Tern: Dovecot's renamed file and its dovecot-keywords line
    md = instance.maildir(USER)
    for sub in ("cur",):
        shutil.rmtree(os.path.join(md, sub))
        shutil.copytree(os.path.join(d, "mail", sub), os.path.join(md, sub))
    shutil.copy(os.path.join(d, "mail", "dovecot-keywords"), os.path.join(md, "dovecot-keywords"))
    owner = os.stat(md)
    for root, dirs, files in os.walk(md):
        for n in [root] + [os.path.join(root, x) for x in files]:
            os.chown(n, owner.st_uid, owner.st_gid)
    instance.start()
    m = connect_starttls(instance)
    assert m.select("INBOX")[0] == "OK"
    assert {b"$Junk", b"fromdovecot"} <= set(fetch_flags(m, "2"))
    assert {b"$Forwarded", b"work"} <= set(fetch_flags(m, "1"))
    m.logout()
