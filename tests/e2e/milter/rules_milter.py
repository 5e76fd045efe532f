"""A milter written with Debian's python3-milter (libmilter itself) that
acts on the Subject and the recipients, for tests/e2e/test_milter.py.
Usage: rules_milter.py PORT"""
import sys

import Milter


class Rules(Milter.Base):
    def __init__(self):
        self.subject = ""
        self.rcpts = []
        self.body_bytes = 0
        self.body_chunks = 0

    def envrcpt(self, to, *params):
        if to.startswith("<blocked@"):
            self.setreply("550", "5.7.1", "Recipient blocked by rule")
            return Milter.REJECT
        self.rcpts.append(to)
        return Milter.CONTINUE

    def header(self, name, value):
        if name.lower() == "subject":
            self.subject = value
        return Milter.CONTINUE

    def body(self, chunk):
        self.body_bytes += len(chunk)
        self.body_chunks += 1
        return Milter.CONTINUE

    def eom(self):
        s = self.subject
        if "bodysize" in s:
            self.addheader("X-Body-Size", "%d bytes in %d chunks" %
                           (self.body_bytes, self.body_chunks))
        if "reject" in s:
            self.setreply("554", "5.7.1", "Spam rejected by rule")
            return Milter.REJECT
        if "tempfail" in s:
            self.setreply("451", "4.7.1", "Try again by rule")
            return Milter.TEMPFAIL
        if "discard" in s:
            return Milter.DISCARD
        if "addheader" in s:
            self.addheader("X-Milter-Rule", "added")
            self.chgheader("X-Remove-Me", 1, "")
            self.chgheader("Subject", 1, "changed addheader")
        if "replacebody" in s:
            self.replacebody(b"The body the milter wrote.\r\n")
        if "quarantine" in s:
            self.quarantine("rule")
        if "addrcpt" in s:
            self.addrcpt("<other@example.test>")
            self.delrcpt("<rcpt@example.test>")
        if "chgfrom" in s:
            self.chgfrom("<changed@example.org>")
        return Milter.CONTINUE


def main():
    Milter.factory = Rules
    Milter.set_flags(Milter.ADDHDRS | Milter.CHGHDRS | Milter.CHGBODY | Milter.ADDRCPT |
                     Milter.DELRCPT | Milter.CHGFROM | Milter.QUARANTINE)
    sys.stdout.write("ready\n")
    sys.stdout.flush()
    Milter.runmilter("rules", "inet:%s@127.0.0.1" % sys.argv[1], 30)


if __name__ == "__main__":
    main()
