#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Checks that every ```cpp block of docs/*.md is compiled code.

Each ```cpp block must be byte-identical to a region of a file under examples/docs/ (*.cpp,
*.hpp), written as

    // doc-begin(name)
    ...code...
    // doc-end(name)

and compared after dedenting (the region's common leading whitespace is removed, as the block's
fence indentation is). examples/docs/ is built as the docs_snippets library, so a block that
stops compiling breaks the build, and a block edited in the page alone fails this check.

Blocks that are not compilable C++ (synopses, pseudo-signatures) are fenced ```text instead.

Usage:
    tools/check_docs.py [ROOT]          check; exit 1 if a block matches no region
    tools/check_docs.py --sync [ROOT]   rewrite each block that matches no region from the
                                        region most like it in the page's own
                                        examples/docs/<page>_*snippets.cpp (else in a shared
                                        file such as schema.hpp), then check;
                                        a new block may hold just its region's first line

ROOT is the repository (default: the parent of this script's directory).
Python 3 standard library only.
"""

from __future__ import annotations

import argparse
import difflib
import re
import sys
from dataclasses import dataclass
from pathlib import Path

BEGIN = re.compile(r"^\s*//\s*doc-begin\(([^)\s]+)\)\s*$")
END = re.compile(r"^\s*//\s*doc-end\(([^)\s]+)\)\s*$")
FENCE = re.compile(r"^(?P<indent>[ \t]*)(?P<fence>`{3,}|~{3,})(?P<info>.*)$")
# How like a block a region must be for --sync to take it as the block's new text.
SYNC_MIN_RATIO = 0.4


@dataclass
class Region:
    path: Path
    name: str
    line: int  # 1-based line of the doc-begin marker
    text: str  # dedented, every line ending in "\n"


@dataclass
class Block:
    path: Path
    line: int  # 1-based line of the opening fence
    indent: str  # the fence's indentation, stripped from (and restored to) every line
    start: int  # 0-based index of the first content line
    end: int  # 0-based index of the closing fence (exclusive end of the content)
    text: str  # content without the fence indentation, every line ending in "\n"


def dedent(lines: list[str]) -> str:
    """Removes the common leading whitespace of the non-blank lines; blank lines become empty."""
    body = [line.rstrip("\n") for line in lines]
    widths = [len(line) - len(line.lstrip(" \t")) for line in body if line.strip()]
    cut = min(widths) if widths else 0
    return "".join((line[cut:] if line.strip() else "") + "\n" for line in body)


def read_regions(root: Path, errors: list[str]) -> list[Region]:
    regions: list[Region] = []
    base = root / "examples" / "docs"
    files = sorted(p for p in base.rglob("*") if p.suffix in (".cpp", ".hpp") and p.is_file())
    for path in files:
        rel = path.relative_to(root)
        lines = path.read_text(encoding="utf-8").splitlines(keepends=True)
        open_name: str | None = None
        open_line = 0
        seen: set[str] = set()
        for i, line in enumerate(lines):
            if m := BEGIN.match(line):
                if open_name is not None:
                    errors.append(f"{rel}:{i + 1}: doc-begin({m[1]}) inside doc-begin({open_name})")
                    continue
                if m[1] in seen:
                    errors.append(f"{rel}:{i + 1}: a second region named {m[1]} in this file")
                seen.add(m[1])
                open_name, open_line = m[1], i
            elif m := END.match(line):
                if open_name != m[1]:
                    errors.append(f"{rel}:{i + 1}: doc-end({m[1]}) without its doc-begin")
                    continue
                regions.append(Region(rel, open_name, open_line + 1,
                                      dedent(lines[open_line + 1:i])))
                open_name = None
        if open_name is not None:
            errors.append(f"{rel}:{open_line + 1}: doc-begin({open_name}) is never closed")
    return regions


def read_blocks(path: Path, rel: Path, errors: list[str]) -> tuple[list[str], list[Block]]:
    lines = path.read_text(encoding="utf-8").splitlines(keepends=True)
    blocks: list[Block] = []
    i = 0
    while i < len(lines):
        m = FENCE.match(lines[i].rstrip("\n"))
        if not m:
            i += 1
            continue
        indent, fence, info = m["indent"], m["fence"], m["info"].strip()
        if fence[0] == "`" and "`" in info:
            i += 1  # not a fence (CommonMark): inline code such as ```` ```cpp ````
            continue
        close = re.compile(r"^[ \t]*" + re.escape(fence[0]) + "{" + str(len(fence)) + r",}[ \t]*$")
        j = i + 1
        while j < len(lines) and not close.match(lines[j].rstrip("\n")):
            j += 1
        if j == len(lines):
            errors.append(f"{rel}:{i + 1}: code fence is never closed")
            break
        if info.split()[:1] == ["cpp"]:
            content = []
            for line in lines[i + 1:j]:
                if line.strip() and not line.startswith(indent):
                    errors.append(f"{rel}:{i + 1}: a line of this block is indented less than "
                                  "its fence")
                content.append(line[len(indent):] if line.startswith(indent) else line.lstrip())
            text = "".join(line.rstrip("\n") + "\n" for line in content)
            blocks.append(Block(rel, i + 1, indent, i + 1, j, text))
        i = j + 1
    return lines, blocks


def similarity(a: str, b: str) -> float:
    return difflib.SequenceMatcher(None, a, b, autojunk=False).ratio()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("root", nargs="?", type=Path,
                        default=Path(__file__).resolve().parent.parent,
                        help="the repository (default: the parent of tools/)")
    parser.add_argument("--sync", action="store_true",
                        help="rewrite blocks that match no region from the region most like them")
    parser.add_argument("-v", "--verbose", action="store_true",
                        help="also list the regions that no page shows")
    args = parser.parse_args()
    root: Path = args.root.resolve()

    errors: list[str] = []
    regions = read_regions(root, errors)
    by_text: dict[str, list[Region]] = {}
    for r in regions:
        by_text.setdefault(r.text, []).append(r)

    pages = sorted((root / "docs").glob("*.md"))
    parsed = []
    for page in pages:
        rel = page.relative_to(root)
        parsed.append((page, rel, *read_blocks(page, rel, errors)))

    # First every exact match, so that --sync never hands a matched region to another block.
    used: set[tuple[Path, str]] = set()
    checked = 0
    for _, _, _, blocks in parsed:
        for block in blocks:
            checked += 1
            for r in by_text.get(block.text, []):
                used.add((r.path, r.name))

    unmatched = 0
    for page, rel, lines, blocks in parsed:
        pending: list[tuple[Block, Region]] = []
        for block in blocks:
            if block.text in by_text:
                continue
            candidates = [r for r in regions if (r.path, r.name) not in used]
            best = None
            # Only the page's own file, then shared files (schema.hpp): never another page's.
            mine = [r for r in candidates if r.path.stem.startswith(page.stem + "_")
                    and r.path.stem.endswith("_snippets")]
            shared = [r for r in candidates if not r.path.stem.endswith("_snippets")]
            for pool in (mine, shared):
                # A new block may be written as a placeholder: the region's first line only.
                head = block.text.split("\n", 1)[0]
                first = [r for r in pool if r.text.split("\n", 1)[0] == head]
                if len(first) == 1:
                    best = (1.0, first[0])
                    break
                scored = sorted(((similarity(block.text, r.text), r) for r in pool),
                                key=lambda x: x[0], reverse=True)
                if scored and scored[0][0] >= SYNC_MIN_RATIO:
                    best = scored[0]
                    break
            if args.sync and best is not None:
                pending.append((block, best[1]))
                used.add((best[1].path, best[1].name))
                continue
            unmatched += 1
            hint = ""
            if best is not None:
                hint = f" (closest: {best[1].path}:{best[1].line} doc-begin({best[1].name}))"
            errors.append(f"{rel}:{block.line}: this ```cpp block matches no doc-begin/doc-end "
                          f"region of examples/docs{hint}")
        # Rewrite from the bottom so that earlier blocks keep their line indexes.
        for block, region in reversed(pending):
            new = [(block.indent + line if line.strip() else line)
                   for line in region.text.splitlines(keepends=True)]
            lines[block.start:block.end] = new
            print(f"{rel}:{block.line}: rewritten from {region.path}:{region.line} "
                  f"doc-begin({region.name})")
        if pending:
            page.write_text("".join(lines), encoding="utf-8")

    for r in regions if args.verbose else []:
        if (r.path, r.name) not in used:
            print(f"{r.path}:{r.line}: note: region {r.name} is not shown by any page",
                  file=sys.stderr)
    for e in errors:
        print(e, file=sys.stderr)
    if errors:
        print(f"check_docs: {len(errors)} problem(s); {unmatched} of {checked} ```cpp blocks "
              "match no region. Edit the region in examples/docs (it is compiled), then run "
              "tools/check_docs.py --sync, or fence non-C++ blocks as ```text.", file=sys.stderr)
        return 1
    print(f"check_docs: all {checked} ```cpp blocks of {len(pages)} pages match a compiled region")
    return 0


if __name__ == "__main__":
    sys.exit(main())
