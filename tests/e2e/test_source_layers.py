"""The folders of src/ are layered: the graph of #include "folder/..." edges
between folders has no cycle (docs/layout.md). A cycle means two folders
that can no longer be understood, tested or replaced one at a time."""
import os
import re

SRC = os.path.join(os.path.dirname(__file__), "..", "..", "src")
INCLUDE = re.compile(r'^\s*#\s*include\s+"([a-z0-9_-]+)/', re.M)


def folder_graph():
    graph = {}
    for folder in sorted(os.listdir(SRC)):
        path = os.path.join(SRC, folder)
        if not os.path.isdir(path):
            continue
        edges = graph.setdefault(folder, set())
        for name in os.listdir(path):
            if name.endswith((".c", ".h")):
                with open(os.path.join(path, name), encoding="utf-8") as f:
                    edges.update(INCLUDE.findall(f.read()))
        edges.discard(folder)
    return graph


def find_cycle(graph):
    """A list of folders forming a cycle, or None."""
    state = {}

    def visit(node, stack):
        state[node] = "open"
        stack.append(node)
        for nxt in sorted(graph.get(node, ())):
            if state.get(nxt) == "open":
                return stack[stack.index(nxt):] + [nxt]
            if nxt not in state:
                found = visit(nxt, stack)
                if found:
                    return found
        stack.pop()
        state[node] = "done"
        return None

    for node in sorted(graph):
        if node not in state:
            found = visit(node, [])
            if found:
                return found
    return None


def test_find_cycle_sees_a_cycle():
    assert find_cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]
    assert find_cycle({"a": {"b"}, "b": set()}) is None


def test_src_folders_have_no_include_cycle():
    graph = folder_graph()
    assert "lib" in graph and "smtp" in graph
    assert find_cycle(graph) is None, " -> ".join(find_cycle(graph))


def test_lib_includes_no_other_folder():
    graph = folder_graph()
    assert graph["lib"] == set(), graph["lib"]


def test_net_names_no_protocol():
    """Listeners, connections and TLS know nothing of the roles above them
    (src/master declares the roles, each role its services)."""
    graph = folder_graph()
    assert graph["net"] <= {"lib"}, graph["net"]


# Words that name a service or a protocol's section.
SERVICE_WORDS = re.compile(
    r"(?<![a-z0-9])(smtp|submissions?|imaps?|pop3s?|lmtp|sieve|managesieve|http|mailauth|dkim"
    r"|dmarc|spf|dns)(?![a-z0-9])", re.I)
C_COMMENT = re.compile(r"/\*.*?\*/|//[^\n]*", re.S)


def test_service_words_seen():
    assert SERVICE_WORDS.search("enum service { SERVICE_SMTP }")
    assert SERVICE_WORDS.search("struct imap_settings imap;")
    assert not SERVICE_WORDS.search("struct listener_settings *listeners;")


def test_lib_settings_names_no_service():
    """Sections and services are declared by their subsystems and roles and
    assembled above lib (docs/config.md, "Sections"): lib's settings header
    names none of them, and its code (comments aside) neither."""
    with open(os.path.join(SRC, "lib", "settings.h"), encoding="utf-8") as f:
        header = f.read()
    assert SERVICE_WORDS.findall(header) == []
    with open(os.path.join(SRC, "lib", "settings.c"), encoding="utf-8") as f:
        code = C_COMMENT.sub("", f.read())
    assert SERVICE_WORDS.findall(code) == []
