#!/usr/bin/env python3
"""One-off, re-runnable rewrite of comments citing the old out-of-repo spec ("spec 3.3",
"spec 1.5, 1.6 and 3.3", "spec 11 item 7", "spec section 2") into docs/protocol.md anchors, with
one mapping table so every citation of a section lands on the same anchor. Only comments are
touched: // and /* */ in Go and JS, -- in SQL, # in shell/YAML/Make, and Markdown text.
Usage: hack/spec-refs.py [--check] FILE...  (--check lists what would change)."""
import re, sys

ANCHORS = {
    "1": "connection", "1.1": "http-routes", "1.2": "upgrade-parameters", "1.3": "tenant-from-host",
    "1.4": "jwt-verification", "1.5": "connect-checks", "1.6": "token-lifecycle", "1.7": "socket-lifecycle",
    "2": "framing", "2.1": "message-model", "2.2": "v1-frames", "2.3": "v2-frames", "2.4": "v2-binary-frames",
    "2.5": "heartbeat", "2.6": "control-events",
    "3": "channel-join", "3.1": "topics", "3.2": "join-payload", "3.3": "join-pipeline", "3.4": "join-reply",
    "3.5": "post-join-pushes", "3.6": "system-messages",
    "4": "broadcast", "4.1": "client-broadcast", "4.2": "broadcast-delivery", "4.3": "rest-batch-broadcast",
    "4.4": "rest-single-broadcast", "4.5": "database-broadcast", "4.6": "replay", "4.7": "private-channels",
    "5": "presence", "5.1": "presence-enabling", "5.2": "presence-events", "5.3": "presence-diffs",
    "5.4": "presence-replication",
    "6": "postgres-changes", "6.1": "change-bindings", "6.2": "filters", "6.3": "subscriptions",
    "6.4": "change-owner", "6.5": "wal-stream", "6.6": "row-visibility", "6.7": "change-payloads",
    "7": "tenants", "7.1": "tenant-settings", "7.2": "management-api", "7.3": "limits",
    "7.5": "tenant-database", "7.6": "error-codes",
    "8": "clustering", "8.1": "discovery", "8.3": "routing", "8.4": "placement", "8.5": "node-failure",
    "9": "observability", "9.1": "health-endpoints", "9.2": "metrics",
    "10": "upstream-tests", "11": "client-contract", "12": "environment",
}

NUM = r"\d+(?:\.\d+)?"
REF = rf"{NUM}(?:-{NUM})?(?: item \d+)?"
SEP = r"(?:, | and |/)"
CITE = re.compile(rf"\bspec (?:section )?((?:{REF})(?:{SEP}(?:{REF}))*)(?![\d.]*\d)")


def anchor(n):
    if n.startswith("10."):
        return "#upstream-tests"
    if n.startswith("11."):
        return "#client-contract item " + n[3:]
    if n not in ANCHORS:
        raise KeyError(n)
    return "#" + ANCHORS[n]


def one(ref):
    m = re.fullmatch(rf"({NUM})(?:-({NUM}))?(?: item (\d+))?", ref)
    a, b, item = m.groups()
    if b and a.startswith("11.") and b.startswith("11."):
        return f"#client-contract items {a[3:]}-{b[3:]}"
    out = anchor(a) + (" to " + anchor(b) if b else "")
    return out + (f" item {item}" if item else "")


def rewrite_refs(text):
    def sub(m):
        parts = re.split(f"({SEP})", m.group(1))
        out = []
        for i, p in enumerate(parts):
            out.append(p if i % 2 else one(p))
        s = "".join(out)
        return "docs/protocol.md" + s
    return CITE.sub(sub, text)


def comment_spans(line, ext, state):
    """Yields (start, end) of comment text in line; state carries an open /* across lines."""
    if ext == ".md":
        return [(0, len(line))]
    markers = {".go": "//", ".mjs": "//", ".js": "//", ".ts": "//", ".sql": "--"}.get(ext, "#")
    spans, i, in_str = [], 0, None
    if state.get("block"):
        end = line.find("*/")
        if end < 0:
            return [(0, len(line))]
        spans.append((0, end)); i = end + 2; state["block"] = False
    while i < len(line):
        c = line[i]
        if in_str:
            if c == "\\" and in_str != "`":
                i += 2; continue
            if c == in_str:
                in_str = None
        elif c in "\"'`" and markers != "#":
            in_str = c
        elif line.startswith(markers, i):
            spans.append((i, len(line))); break
        elif markers == "//" and line.startswith("/*", i):
            end = line.find("*/", i + 2)
            if end < 0:
                spans.append((i, len(line))); state["block"] = True; break
            spans.append((i, end)); i = end + 2; continue
        i += 1
    return spans


def rewrite_file(path, check):
    ext = "." + path.rsplit(".", 1)[-1] if "." in path.rsplit("/", 1)[-1] else ""
    src = open(path, encoding="utf-8").read()
    state, out, changed = {}, [], []
    for n, line in enumerate(src.split("\n"), 1):
        spans = comment_spans(line, ext, state)
        new = line
        for s, e in reversed(spans):
            new = new[:s] + rewrite_refs(new[s:e]) + new[e:]
        if new != line:
            changed.append((n, line.strip(), new.strip()))
        out.append(new)
    if changed and not check:
        open(path, "w", encoding="utf-8").write("\n".join(out))
    for n, a, b in changed:
        print(f"{path}:{n}: {b}" if not check else f"{path}:{n}:\n  - {a}\n  + {b}")
    return len(changed)


if __name__ == "__main__":
    args = sys.argv[1:]
    check = "--check" in args
    total = sum(rewrite_file(p, check) for p in args if p != "--check")
    print(f"{total} lines", file=sys.stderr)
