"""ARC conformance: the ValiMail suite (../shared/conformance/arc, see its
README.txt) against src/mailauth/arc* through the arc-dump driver
(tests/unit/mailauth/arc-dump.c), one test per case.

- arc-draft-validation-tests.yml: 171 chain validation cases. The message
  (LF line ends) is given with CRLF; the scenario's txt-records become a
  zone file. An empty expected cv (the cases whose newest seal says
  cv=fail) means fail (RFC 8617 5.2 step 2).
- arc-draft-sign-tests.yml: 17 sealing cases; AAR, AMS and AS must be the
  expected ones once whitespace is removed (the suite's format rules).
"""
import os
import re
import subprocess

import pytest

from conftest import SRCDIR, TERN_BIN

yaml = pytest.importorskip("yaml")

DATA = os.path.join(os.path.dirname(SRCDIR), "shared", "conformance", "arc")


def find_dump():
    """arc-dump from the same build as the tern binary under test."""
    path = os.environ.get("TERN_ARC_DUMP")
    if path:
        return path
    return os.path.join(os.path.dirname(TERN_BIN), "tests", "unit", "mailauth", "arc-dump")


DUMP = find_dump()

pytestmark = [
    pytest.mark.skipif(not os.path.exists(DUMP), reason="arc-dump not built"),
    pytest.mark.skipif(not os.path.isdir(DATA), reason="conformance data not found"),
]


def _load(name):
    path = os.path.join(DATA, name)
    if not os.path.exists(path):
        return []
    with open(path, "rb") as f:
        return [s for s in yaml.safe_load_all(f) if s]


def _cases(scenarios):
    for sc in scenarios:
        for name, test in sc["tests"].items():
            yield pytest.param(sc, test, id=name)


VALIDATION = _load("arc-draft-validation-tests.yml")
SIGNING = _load("arc-draft-sign-tests.yml")


def _zone(tmp_path, records):
    lines = []
    for name, value in (records or {}).items():
        txt = "".join(str(value).split("\n")).strip()
        # TXT strings of at most 255 bytes (RFC 1035 3.3), joined again
        parts = [txt[i:i + 200] for i in range(0, len(txt), 200)] or [""]
        quoted = " ".join('"' + p.replace("\\", "\\\\").replace('"', '\\"') + '"'
                          for p in parts)
        lines.append("%s. IN TXT %s" % (name, quoted))
    path = tmp_path / "zone"
    path.write_text("\n".join(lines) + "\n")
    return str(path)


def _message(tmp_path, text):
    path = tmp_path / "message"
    path.write_bytes(text.replace("\n", "\r\n").encode())
    return str(path)


def _run(*args):
    out = subprocess.run([DUMP] + list(args), capture_output=True, timeout=30)
    assert out.returncode == 0, out.stderr.decode(errors="replace")
    return out.stdout.decode()


@pytest.mark.parametrize("scenario,test", list(_cases(VALIDATION)))
def test_arc_validation(tmp_path, scenario, test):
    zone = _zone(tmp_path, scenario.get("txt-records"))
    msg = _message(tmp_path, test["message"] or "")
    expected = (test["cv"] or "fail").strip().lower() or "fail"
    got = _run("verify", zone, msg).strip()
    assert got.split(":")[0] == expected, got


def _split_fields(text):
    """{name: value} of the fields arc-dump printed (unfolded)."""
    fields = {}
    for line in text.replace("\r\n", "\n").split("\n"):
        if line[:1] in (" ", "\t") and fields:
            fields[last] += " " + line.strip()
        elif ":" in line:
            last, value = line.split(":", 1)
            fields[last] = value.strip()
    return fields


def _tags(value):
    """A tag list with all whitespace removed (the suite's standard form
    has none that matters: it folds b= anywhere)."""
    return re.sub(r"\s+", "", value or "")


def _aar(value):
    return re.sub(r";\s*", ";", re.sub(r"\s+", " ", value or "")).strip()


@pytest.mark.parametrize("scenario,test", list(_cases(SIGNING)))
def test_arc_signing(tmp_path, scenario, test):
    zone = _zone(tmp_path, scenario.get("txt-records"))
    key = tmp_path / "key.pem"
    key.write_text(scenario["privatekey"])
    msg = _message(tmp_path, test["message"])
    out = _run("seal", zone, str(key), scenario["domain"], scenario["sel"], test["srv-id"],
               test["sig-headers"], str(test["t"]), msg)
    got = _split_fields(out)
    assert _aar(got.get("ARC-Authentication-Results")) == _aar(test["AAR"])
    assert _tags(got.get("ARC-Message-Signature")) == _tags(test["AMS"])
    assert _tags(got.get("ARC-Seal")) == _tags(test["AS"])
