"""YAML loading that remembers where each value came from, and refuses what is not a sane
configuration file before building it.

pydantic reports a field path (`workloads.2.keys`); an SRE wants `quickstart.yaml:14`. PyYAML's
composer keeps line marks on nodes, so one pass over the node tree maps every path to its line.

Campaign and budgets files may come from anyone: the text is first read as a stream of events
(PyYAML's parser keeps its own stack, so this never recurses), bounding nesting depth and the
size the document has once every alias is expanded (a 13-line "billion laughs" file is 10^9
nodes); then the node tree is walked, refusing a key given twice in one mapping (YAML keeps
the last one silently).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

PathKey = tuple[str | int, ...]

#: a campaign or budgets file is a page or two; anything this large is a wrong path
MAX_FILE_BYTES = 1024 * 1024
#: nesting levels (a campaign nests five or six)
MAX_DEPTH = 64
#: values once aliases are expanded (a 1,000-fault chaos list is ~10,000)
MAX_NODES = 200_000


class YamlError(ValueError):
    """The file is unusable as YAML; one line per problem, each naming file and line."""

    def __init__(self, *problems: str) -> None:
        super().__init__("\n".join(problems))
        self.problems = list(problems)


def _walk(node: yaml.Node, path: PathKey, lines: dict[PathKey, int], duplicates: list[str]) -> None:
    """Record each path's line; note keys given twice in one mapping. Depth is bounded by
    `_check_shape`, and so is the work (aliases are walked once per use)."""
    lines[path] = node.start_mark.line + 1
    if isinstance(node, yaml.MappingNode):
        seen: dict[tuple[str, str], int] = {}
        for key_node, value_node in node.value:
            key = key_node.value
            line = key_node.start_mark.line + 1
            if isinstance(key_node, yaml.ScalarNode) and key != "<<":
                ident = (key_node.tag, key)
                if ident in seen:
                    duplicates.append(
                        f"{line}: {loc_text((*path, key))}: key {key!r} is given twice in one "
                        f"mapping (first at line {seen[ident]}); YAML would keep only the last"
                    )
                else:
                    seen[ident] = line
            lines[(*path, key)] = line
            _walk(value_node, (*path, key), lines, duplicates)
            lines[(*path, key)] = line
    elif isinstance(node, yaml.SequenceNode):
        for i, item in enumerate(node.value):
            _walk(item, (*path, i), lines, duplicates)


def _check_shape(events: Any) -> None:
    """Refuse nesting deeper than MAX_DEPTH, more than MAX_NODES values with aliases expanded,
    and an alias inside its own anchor, from the parser's events alone."""
    expanded = 0
    sizes: dict[str, int] = {}  # anchor -> values it stands for
    open_frames: list[list[Any]] = []  # [values so far, anchor] per open collection
    for event in events:
        line = event.start_mark.line + 1
        if isinstance(event, yaml.CollectionEndEvent):
            size, anchor = open_frames.pop()
            if anchor is not None:
                sizes[anchor] = size
            if open_frames:
                open_frames[-1][0] += size
            continue
        if isinstance(event, yaml.AliasEvent):
            if any(frame[1] == event.anchor for frame in open_frames):
                raise _ShapeError(line, f"alias *{event.anchor} is inside its own anchor")
            size = sizes.get(event.anchor, 1)  # an unknown alias: the composer names it
        elif isinstance(event, yaml.NodeEvent):
            size = 1
        else:
            continue
        expanded += size
        if expanded > MAX_NODES:
            raise _ShapeError(
                line,
                f"more than {MAX_NODES:,} values once aliases are expanded (aliases nested "
                "to multiply the document, as in a 'billion laughs' file)",
            )
        if isinstance(event, yaml.CollectionStartEvent):
            if len(open_frames) >= MAX_DEPTH:
                raise _ShapeError(line, f"nested deeper than {MAX_DEPTH} levels")
            open_frames.append([size, event.anchor])
        else:
            if open_frames:
                open_frames[-1][0] += size
            if isinstance(event, yaml.ScalarEvent) and event.anchor is not None:
                sizes[event.anchor] = 1


class _ShapeError(Exception):
    def __init__(self, line: int, message: str) -> None:
        super().__init__(message)
        self.line = line


def _read_text(path: Path) -> str:
    """The file's text: a regular-sized file of UTF-8, else YamlError saying what it is."""
    try:
        with path.open("rb") as stream:
            raw = stream.read(MAX_FILE_BYTES + 1)
    except OSError as exc:
        raise YamlError(f"{path}: cannot read: {exc.strerror or exc}") from None
    if len(raw) > MAX_FILE_BYTES:
        raise YamlError(f"{path}: larger than {MAX_FILE_BYTES:,} bytes: not a campaign file")
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = raw.count(b"\n", 0, exc.start) + 1
        raise YamlError(
            f"{path}:{line}: not UTF-8 text (byte 0x{raw[exc.start]:02x} at offset "
            f"{exc.start}): a binary file, or another encoding"
        ) from None


def load_text(text: str, source: str) -> tuple[Any, dict[PathKey, int]]:
    """Parse YAML `text` (named `source` in messages); return the data and a map from field
    path to 1-based line number. Raises YamlError, one line per problem."""
    try:
        _check_shape(yaml.parse(text, Loader=yaml.SafeLoader))
        node = yaml.compose(text, Loader=yaml.SafeLoader)
        data = yaml.safe_load(text)
    except _ShapeError as exc:
        raise YamlError(f"{source}:{exc.line}: refused: {exc}") from None
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = f":{mark.line + 1}" if mark else ""
        problem = " ".join(str(exc.problem or exc).split())
        raise YamlError(f"{source}{line}: not valid YAML: {problem}") from None
    except yaml.reader.ReaderError as exc:
        line = text.count("\n", 0, exc.position) + 1
        char = exc.character if isinstance(exc.character, int) else ord(exc.character)
        raise YamlError(
            f"{source}:{line}: not a text file: character #x{char:04x} is not allowed in YAML"
        ) from None
    except (yaml.YAMLError, RecursionError) as exc:  # nothing known reaches this: one line
        raise YamlError(f"{source}: not valid YAML: {' '.join(str(exc).split())}") from None
    lines: dict[PathKey, int] = {}
    duplicates: list[str] = []
    if node is not None:
        _walk(node, (), lines, duplicates)
    if duplicates:  # a mapping reached through several aliases reports once
        raise YamlError(*(f"{source}:{d}" for d in dict.fromkeys(duplicates)))
    return data, lines


def load_with_lines(path: Path) -> tuple[Any, dict[PathKey, int]]:
    """Read and parse `path` (see `load_text`)."""
    return load_text(_read_text(path), str(path))


def line_of(lines: dict[PathKey, int], loc: PathKey) -> int | None:
    """The line of the deepest prefix of `loc` that the file spells out."""
    for n in range(len(loc), -1, -1):
        if loc[:n] in lines:
            return lines[loc[:n]]
    return None


def loc_text(loc: PathKey) -> str:
    """A field path as messages print it: `budgets[0].max`, `(top level)` for the root."""
    out = ""
    for part in loc:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out or "(top level)"
