"""LIST-EXTENDED (RFC 5258), CHILDREN (RFC 3348), LIST-STATUS (RFC 5819),
SPECIAL-USE and CREATE-SPECIAL-USE (RFC 6154), end to end on the tree of
RFC 5258 section 5's examples."""
import os

from imap_raw import command
from test_imap import USER, connect_starttls, setup_mail

# RFC 5258 section 5's tree; Fruit/Peach is subscribed but does not exist.
TREE = ["Fruit", "Fruit/Apple", "Fruit/Banana", "Tofu", "Vegetable", "Vegetable/Broccoli",
        "Vegetable/Corn"]
SUBSCRIBED = ["INBOX", "Fruit/Banana", "Fruit/Peach", "Tofu", "Vegetable",
              "Vegetable/Broccoli"]


def make_tree(instance):
    setup_mail(instance)
    m = connect_starttls(instance)
    for name in TREE:
        assert command(m, 'CREATE "%s"' % name)[1].split()[1] == b"OK"
    # the default folders of a new account go, for exact answers
    for name in ("Drafts", "Sent", "Trash", "Junk", "Archive"):
        assert command(m, "DELETE %s" % name)[1].split()[1] == b"OK"
    with open(os.path.join(instance.maildir(USER), "tern-subscriptions"), "w") as f:
        f.write("".join(n + "\n" for n in SUBSCRIBED))
    return m


def lst(m, args):
    untagged, tagged = command(m, "LIST " + args)
    assert tagged.split()[1] == b"OK", tagged
    return [l.decode() for l in untagged]


def test_capabilities(instance):
    setup_mail(instance)
    m = connect_starttls(instance)
    caps = command(m, "CAPABILITY")[0][0].decode().split()
    for c in ("LIST-EXTENDED", "LIST-STATUS", "CHILDREN", "SPECIAL-USE", "CREATE-SPECIAL-USE"):
        assert c in caps
    m.logout()


def test_plain_list_has_children(instance):
    m = make_tree(instance)
    assert lst(m, '"" %') == [
        '* LIST (\\HasNoChildren) "/" "INBOX"',
        '* LIST (\\HasChildren) "/" "Fruit"',
        '* LIST (\\HasNoChildren) "/" "Tofu"',
        '* LIST (\\HasChildren) "/" "Vegetable"',
    ]
    m.logout()


def test_subscribed_selection(instance):
    """RFC 5258 5.3: LIST (SUBSCRIBED) "" "*"."""
    m = make_tree(instance)
    assert lst(m, '(SUBSCRIBED) "" "*"') == [
        '* LIST (\\Subscribed \\HasNoChildren) "/" "INBOX"',
        '* LIST (\\Subscribed \\HasNoChildren) "/" "Fruit/Banana"',
        '* LIST (\\NonExistent \\Subscribed \\HasNoChildren) "/" "Fruit/Peach"',
        '* LIST (\\Subscribed \\HasNoChildren) "/" "Tofu"',
        '* LIST (\\Subscribed \\HasChildren) "/" "Vegetable"',
        '* LIST (\\Subscribed \\HasNoChildren) "/" "Vegetable/Broccoli"',
    ]
    m.logout()


def test_return_subscribed_and_children(instance):
    """RFC 5258 5.4: LIST "" "%" RETURN (SUBSCRIBED)."""
    m = make_tree(instance)
    assert lst(m, '"" "%" RETURN (SUBSCRIBED CHILDREN)') == [
        '* LIST (\\Subscribed \\HasNoChildren) "/" "INBOX"',
        '* LIST (\\HasChildren) "/" "Fruit"',
        '* LIST (\\Subscribed \\HasNoChildren) "/" "Tofu"',
        '* LIST (\\Subscribed \\HasChildren) "/" "Vegetable"',
    ]
    m.logout()


def test_recursivematch(instance):
    """RFC 5258 5.5/5.9: CHILDINFO on the parents of subscribed names."""
    m = make_tree(instance)
    assert lst(m, '(SUBSCRIBED RECURSIVEMATCH) "" "%" RETURN (CHILDREN)') == [
        '* LIST (\\Subscribed \\HasNoChildren) "/" "INBOX"',
        '* LIST (\\HasChildren) "/" "Fruit" ("CHILDINFO" ("SUBSCRIBED"))',
        '* LIST (\\Subscribed \\HasNoChildren) "/" "Tofu"',
        '* LIST (\\Subscribed \\HasChildren) "/" "Vegetable" ("CHILDINFO" ("SUBSCRIBED"))',
    ]
    # RECURSIVEMATCH alone is an error (RFC 5258 3)
    assert command(m, 'LIST (RECURSIVEMATCH) "" "%"')[1].split()[1] == b"BAD"
    assert command(m, 'LIST (NOSUCHOPT) "" "%"')[1].split()[1] == b"BAD"
    m.logout()


def test_multiple_patterns_and_nonexistent_parent(instance):
    m = make_tree(instance)
    assert lst(m, '"" ("Fruit/%" Tofu INBOX)') == [
        '* LIST (\\HasNoChildren) "/" "INBOX"',
        '* LIST (\\HasNoChildren) "/" "Fruit/Apple"',
        '* LIST (\\HasNoChildren) "/" "Fruit/Banana"',
        '* LIST (\\HasNoChildren) "/" "Tofu"',
    ]
    # a superior name that is not a mailbox, hidden children below
    os.rename(os.path.join(instance.maildir(USER), ".Tofu"),
              os.path.join(instance.maildir(USER), ".Soy.Tofu"))
    assert [l for l in lst(m, '"" %') if "Soy" in l] == ['* LIST (\\Noselect \\HasChildren) "/" "Soy"']
    assert [l for l in lst(m, '"" (%)') if "Soy" in l] == [
        '* LIST (\\NonExistent \\HasChildren) "/" "Soy"']
    assert [l for l in lst(m, '"" *') if "Soy" in l] == ['* LIST (\\HasNoChildren) "/" "Soy/Tofu"']
    m.logout()


def test_list_status(instance):
    m = make_tree(instance)
    assert lst(m, '"" (INBOX Tofu Fruit/Peach) RETURN (STATUS (MESSAGES UNSEEN UIDNEXT))') == [
        '* LIST (\\HasNoChildren) "/" "INBOX"',
        '* STATUS \"INBOX\" (MESSAGES 1 UNSEEN 1 UIDNEXT 2)',
        '* LIST (\\HasNoChildren) "/" "Tofu"',
        '* STATUS \"Tofu\" (MESSAGES 0 UNSEEN 0 UIDNEXT 1)',
    ]
    # with SUBSCRIBED: no STATUS for the name that does not exist
    assert lst(m, '(SUBSCRIBED) "" Fruit/* RETURN (STATUS (MESSAGES))') == [
        '* LIST (\\Subscribed \\HasNoChildren) "/" "Fruit/Banana"',
        '* STATUS \"Fruit/Banana\" (MESSAGES 0)',
        '* LIST (\\NonExistent \\Subscribed \\HasNoChildren) "/" "Fruit/Peach"',
    ]
    assert command(m, 'LIST "" % RETURN (STATUS (BOGUS))')[1].split()[1] == b"BAD"
    m.logout()


def test_special_use(instance):
    setup_mail(instance)
    m = connect_starttls(instance)
    # the folders of a new account have their attribute by name
    assert lst(m, '(SPECIAL-USE) "" *') == [
        '* LIST (\\HasNoChildren \\Archive) "/" "Archive"',
        '* LIST (\\HasNoChildren \\Drafts) "/" "Drafts"',
        '* LIST (\\HasNoChildren \\Junk) "/" "Junk"',
        '* LIST (\\HasNoChildren \\Sent) "/" "Sent"',
        '* LIST (\\HasNoChildren \\Trash) "/" "Trash"',
    ]
    # without the option in an extended LIST: no attribute
    assert lst(m, '"" (Sent)') == ['* LIST (\\HasNoChildren) "/" "Sent"']
    assert lst(m, '"" (Sent) RETURN (SPECIAL-USE)') == ['* LIST (\\HasNoChildren \\Sent) "/" "Sent"']
    m.logout()


def test_create_special_use_persists(instance):
    setup_mail(instance)
    m = connect_starttls(instance)
    assert command(m, 'CREATE "Old mail" (USE (\\Archive \\Junk))')[1].split()[1] == b"OK"
    untagged, tagged = command(m, "CREATE Everything (USE (\\All))")
    assert b"NO [USEATTR]" in tagged
    untagged, tagged = command(m, "CREATE Odd (USE (\\Bogus))")
    assert b"NO [USEATTR]" in tagged
    assert command(m, "CREATE Bad (USE \\Archive)")[1].split()[1] == b"BAD"
    names = [l for l in lst(m, '"" *')]
    assert not any("Everything" in l or "Odd" in l or "Bad" in l for l in names)
    m.logout()
    instance.restart()
    m = connect_starttls(instance)
    assert lst(m, '"" "Old mail" RETURN (SPECIAL-USE)') == [
        '* LIST (\\HasNoChildren \\Archive \\Junk) "/" "Old mail"']
    # RENAME takes the attributes along, DELETE drops them
    assert command(m, 'RENAME "Old mail" Older')[1].split()[1] == b"OK"
    assert lst(m, '(SPECIAL-USE) "" Older') == [
        '* LIST (\\HasNoChildren \\Archive \\Junk) "/" "Older"']
    assert command(m, "DELETE Older")[1].split()[1] == b"OK"
    assert command(m, "CREATE Older")[1].split()[1] == b"OK"
    assert lst(m, '(SPECIAL-USE) "" Older') == []
    m.logout()


# ---------------------------------------------------------------- Dovecot
# The same tree on Dovecot (its Maildir with "/" as separator), the same
# LIST commands, the answers compared once normalised: Dovecot sends
# \HasChildren/\HasNoChildren only when asked (Tern always, RFC 3348),
# lists in its own order, and writes the CHILDINFO tag as an atom (an
# astring either way, RFC 5258 section 6).
DOVECOT_COMMANDS = [
    'LIST "" %',
    'LIST "" *',
    'LIST (SUBSCRIBED) "" *',
    'LIST (SUBSCRIBED) "" %',
    'LIST "" % RETURN (SUBSCRIBED)',
    'LIST "" * RETURN (SUBSCRIBED CHILDREN)',
    'LIST (SUBSCRIBED RECURSIVEMATCH) "" %',
    'LIST (SUBSCRIBED RECURSIVEMATCH) "" *',
    'LIST (SUBSCRIBED RECURSIVEMATCH) "" Fruit',
    'LIST (SUBSCRIBED REMOTE) "" (Fruit/% Vegetable/%) RETURN (CHILDREN)',
    'LIST "" (INBOX Tofu Fruit/Peach) RETURN (STATUS (MESSAGES UNSEEN UIDNEXT))',
    'LIST (SUBSCRIBED) "" Fruit/* RETURN (STATUS (MESSAGES UIDNEXT))',
    'LIST "Fruit/" %',
    'LIST (RECURSIVEMATCH) "" %',
    'LIST (RECURSIVEMATCH REMOTE) "" %',
    'LIST (SPECIAL-USE RECURSIVEMATCH) "" *',
    'LIST "" "" RETURN (CHILDREN)',
    'LIST (SUBSCRIBED) "" ""',
    'LIST "" % RETURN (BOGUS)',
    'LIST (SUBSCRIBED) "" inbox',
]


def normalise(untagged, tagged):
    import re
    entries, current = [], None
    for l in untagged:
        l = l.decode()
        mo = re.match(r'\* LIST \(([^)]*)\) "/" ("?)([^"]*?)\2( \(.*\))?$', l)
        if mo:
            attrs = frozenset(a.lower() for a in mo.group(1).split()
                              if a.lower() not in ("\\haschildren", "\\hasnochildren"))
            ext = (mo.group(4) or "").replace('"CHILDINFO"', "CHILDINFO")
            current = [mo.group(3), attrs, ext, None]
            entries.append(current)
            continue
        mo = re.match(r'\* STATUS "?([^"]*?)"? \((.*)\)$', l)
        assert mo and current is not None and current[0] == mo.group(1), l
        items = mo.group(2).split()
        current[3] = tuple(sorted(zip(items[::2], items[1::2])))
    return tagged.split()[1], sorted((n, tuple(sorted(a)), e, s) for n, a, e, s in entries)


def test_same_answers_as_dovecot(instance):
    from dovecot_server import dovecot_session

    with dovecot_session() as m:
        for name in TREE + ["Fruit/Peach"]:
            assert command(m, 'CREATE "%s"' % name)[1].split()[1] == b"OK"
        for name in SUBSCRIBED:
            assert command(m, 'SUBSCRIBE "%s"' % name)[1].split()[1] == b"OK"
        assert command(m, "DELETE Fruit/Peach")[1].split()[1] == b"OK"
        m.append("INBOX", None, None, b"Subject: x\r\n\r\nbody\r\n")
        expected = [normalise(*command(m, c)) for c in DOVECOT_COMMANDS]
    m = make_tree(instance)
    for c, want in zip(DOVECOT_COMMANDS, expected):
        assert normalise(*command(m, c)) == want, c
    m.logout()
