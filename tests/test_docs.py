"""The repository stands on its own: no file points outside it, and the docs' links resolve.

Every file git tracks is read: none may name a directory beside the repository or a design file
that is not in it. Relative links in ``README.md`` and ``docs/**/*.md`` must name a file or a
directory that exists (anchors are not checked).
"""

from __future__ import annotations

import re
import subprocess
from pathlib import Path, PurePosixPath

import pytest

ROOT = Path(__file__).resolve().parents[1]

# Built from pieces, so that this file does not contain them itself.
OUTSIDE_DIRECTORY = "../" + "shared"
OUTSIDE_FILES = tuple(name + ".md" for name in ("DESIGN", "RULES", "STYLE"))

INLINE_LINK = re.compile(r"!?\[[^\]]*\]\(\s*<?([^)\s>]+)>?(?:\s+\"[^\"]*\")?\s*\)")
REFERENCE_LINK = re.compile(r"^\s*\[[^\]]+\]:\s*<?(\S+?)>?(?:\s+\"[^\"]*\")?\s*$", re.MULTILINE)
FENCED_BLOCK = re.compile(r"^(```|~~~).*?^\1[^\n]*$", re.MULTILINE | re.DOTALL)
CODE_SPAN = re.compile(r"`[^`\n]*`")
SCHEME = re.compile(r"^[a-zA-Z][a-zA-Z0-9+.-]*:")


def tracked_files() -> list[str]:
    listed = subprocess.run(
        ["git", "ls-files", "-z"], cwd=ROOT, capture_output=True, check=True
    ).stdout
    return [name for name in listed.decode().split("\0") if name]


TRACKED = tracked_files()


def markdown_files() -> list[str]:
    return [
        name
        for name in TRACKED
        if name == "README.md" or (name.startswith("docs/") and name.endswith(".md"))
    ]


def forbidden_names() -> list[str]:
    """The outside names, less any that is a file under ``docs/`` (none today)."""
    in_docs = {PurePosixPath(name).name for name in TRACKED if name.startswith("docs/")}
    return [OUTSIDE_DIRECTORY, *(name for name in OUTSIDE_FILES if name not in in_docs)]


def test_no_tracked_file_points_outside_the_repository() -> None:
    assert len(TRACKED) > 100, "git ls-files listed too little: not run in the repository?"
    found = []
    for name in TRACKED:
        path = ROOT / name
        if not path.is_file():  # deleted in the working tree, not yet committed
            continue
        text = path.read_bytes().decode("utf-8", errors="replace")
        for line_number, line in enumerate(text.splitlines(), 1):
            found += [f"{name}:{line_number}: {f}" for f in forbidden_names() if f in line]
    assert not found, "\n".join(found)


def relative_links(markdown: str) -> list[str]:
    """The link targets of a markdown text that are paths in the repository: code blocks and
    code spans left out, as are URLs with a scheme and links to an anchor of the same page."""
    text = CODE_SPAN.sub("", FENCED_BLOCK.sub("", markdown))
    targets = INLINE_LINK.findall(text) + REFERENCE_LINK.findall(text)
    return [t for t in targets if not SCHEME.match(t) and not t.startswith("#")]


@pytest.mark.parametrize("name", markdown_files())
def test_relative_links_in_the_docs_resolve(name: str) -> None:
    source = ROOT / name
    broken = []
    for target in relative_links(source.read_text(encoding="utf-8")):
        path = target.split("#", 1)[0].split("?", 1)[0]
        resolved = (ROOT / path.lstrip("/")) if path.startswith("/") else source.parent / path
        if not resolved.exists():
            broken.append(target)
    assert not broken, f"{name} links to what does not exist: {broken}"


def test_the_docs_are_checked() -> None:
    assert {"README.md", "docs/rules.md"} <= set(markdown_files())


def test_the_link_reader_finds_relative_links_only() -> None:
    markdown = "\n".join(
        [
            'See [rules](rules.md#penalty), [ADR](adr/0003-x.md "title") and ![a plot](<p.png>).',
            "Not [the web](https://example.org/x.md), [a mail](mailto:a@b.c) or [here](#top).",
            "Nor `[code](span.md)`, nor:",
            "```",
            "[in a block](block.md)",
            "```",
            "[ref]: ../README.md",
        ]
    )
    assert relative_links(markdown) == [
        "rules.md#penalty",
        "adr/0003-x.md",
        "p.png",
        "../README.md",
    ]
