#!/usr/bin/env python3
"""Check that every relative link in the documentation resolves, without the network.

Usage: python3 .ci/check_links.py [FILE.md ...]
       (default: README.md, CONTRIBUTING.md and docs/*.md, from the repository root)

A link `[text](target)`, `![alt](target)` or `[label]: target` outside code is checked when
its target is relative: the file or directory must exist (relative to the Markdown file that
links to it, or to the repository root for a target starting with `/`), and an `#anchor` into
a Markdown file (or into the same file) must name one of its headings, as GitHub spells them:
lower-case, spaces to `-`, punctuation dropped, and `-1`, `-2`, … for repeated headings.
Links with a scheme (`https:`, `mailto:`, …) are not checked. Prints one line per broken link,
`FILE:LINE: broken link TARGET: WHY`, and exits 1 if there is any.
"""

import re
import sys
import unicodedata
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

FENCE = re.compile(r"^ {0,3}(`{3,}|~{3,})")
HEADING = re.compile(r"^ {0,3}(#{1,6})[ \t]+(.*?)[ \t]*#*[ \t]*$")
SETEXT = re.compile(r"^ {0,3}(=+|-+)[ \t]*$")
INLINE = re.compile(r"!?\[(?:[^\[\]]|\[[^\[\]]*\])*\]\(\s*(<[^>]*>|[^\s()]*(?:\([^\s()]*\)[^\s()]*)*)(?:\s+[\"'(][^)]*)?\s*\)")
REFERENCE = re.compile(r"^ {0,3}\[[^\]]+\]:\s*(<[^>]*>|\S+)")
CODE_SPAN = re.compile(r"(`+)(.+?)\1")
HTML_ANCHOR = re.compile(r"<a\s+[^>]*(?:name|id)\s*=\s*[\"']([^\"']+)[\"']", re.I)
SCHEME = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*:")


def lines_outside_code(text):
    """(line number, line) for the lines that are not in a fenced code block."""
    fence = None
    for number, line in enumerate(text.split("\n"), 1):
        match = FENCE.match(line)
        if fence is None:
            if match:
                fence = match.group(1)
                continue
            yield number, line
        elif match and match.group(1)[0] == fence[0] and len(match.group(1)) >= len(fence) \
                and line.strip() == match.group(1):
            fence = None


def slug(heading):
    """GitHub's anchor for a heading's text."""
    text = CODE_SPAN.sub(lambda m: m.group(2), heading)
    text = re.sub(r"!?\[([^\]]*)\]\([^)]*\)", r"\1", text)  # links and images: their text
    text = re.sub(r"<[^>]+>", "", text)  # inline HTML
    text = text.replace("*", "")  # emphasis markers
    text = text.strip().lower()
    kept = []
    for char in text:
        if char in (" ", "-", "_") or char.isalnum() \
                or unicodedata.category(char).startswith(("L", "N", "M")):
            kept.append("-" if char == " " else char)
    return "".join(kept)


def anchors(path, cache={}):
    """The anchors GitHub gives the headings of a Markdown file."""
    if path not in cache:
        seen = {}
        found = set()
        previous = None
        for _, line in lines_outside_code(path.read_text(encoding="utf-8")):
            found.update(HTML_ANCHOR.findall(line))
            heading = HEADING.match(line)
            text = heading.group(2) if heading else None
            if text is None and previous and previous.strip() and SETEXT.match(line) \
                    and not previous.lstrip().startswith(("-", "*", "+", ">", "|")):
                text = previous.strip()
            previous = line
            if text is None:
                continue
            base = slug(text)
            count = seen.get(base, 0)
            seen[base] = count + 1
            found.add(base if count == 0 else f"{base}-{count}")
        cache[path] = found
    return cache[path]


def links(line):
    """The link targets on one line outside code spans."""
    bare = CODE_SPAN.sub(lambda m: " " * len(m.group(0)), line)
    for match in INLINE.finditer(bare):
        yield match.group(1).strip("<>")
    match = REFERENCE.match(bare)
    if match:
        yield match.group(1).strip("<>")


def display(path):
    """A path as the messages show it: relative to the repository root when inside it."""
    return path.relative_to(ROOT) if path.is_relative_to(ROOT) else path


def check(path):
    """One message per broken relative link in the Markdown file at path."""
    problems = []
    shown = display(path)
    for number, line in lines_outside_code(path.read_text(encoding="utf-8")):
        for target in links(line):
            if not target or SCHEME.match(target) or target.startswith("//"):
                continue
            file_part, _, anchor = target.partition("#")
            file_part = file_part.split("?", 1)[0]
            if file_part.startswith("/"):
                resolved = ROOT / file_part.lstrip("/")
            elif file_part:
                resolved = path.parent / file_part
            else:
                resolved = path
            where = f"{shown}:{number}: broken link {target}"
            if not resolved.exists():
                problems.append(f"{where}: {file_part} does not exist")
                continue
            if anchor and resolved.is_file() and resolved.suffix.lower() == ".md":
                if anchor not in anchors(resolved.resolve()):
                    problems.append(f"{where}: no heading with anchor #{anchor} in "
                                    f"{display(resolved.resolve())}")
    return problems


def main(argv):
    if argv:
        files = [Path(a).resolve() for a in argv]
    else:
        files = [ROOT / "README.md", ROOT / "CONTRIBUTING.md", *sorted((ROOT / "docs").glob("*.md"))]
    problems = []
    for path in files:
        if not path.is_file():
            problems.append(f"{path}: no such file to check")
            continue
        problems += check(path)
    for problem in problems:
        print(problem, file=sys.stderr)
    if problems:
        print(f"{len(problems)} broken link{'s' if len(problems) != 1 else ''}", file=sys.stderr)
        return 1
    print(f"links: {len(files)} files checked, every relative link resolves")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
