"""Just enough of a Dockerfile reader to check the images without a container engine.

It reads the instructions the tests rely on (FROM, COPY/ADD, RUN, EXPOSE, CMD/ENTRYPOINT),
joins backslash continuations and drops comments; anything else is kept but not interpreted.
"""

from __future__ import annotations

import fnmatch
import json
import shlex
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath


@dataclass
class Dockerfile:
    base: str = ""
    sources: list[str] = field(default_factory=list)  # what COPY/ADD take from the context
    runs: list[str] = field(default_factory=list)
    exposed: list[int] = field(default_factory=list)
    command: list[str] = field(default_factory=list)  # ENTRYPOINT then CMD, in exec form

    @classmethod
    def read(cls, path: Path) -> Dockerfile:
        parsed = cls()
        entrypoint: list[str] = []
        cmd: list[str] = []
        for instruction, argument in _instructions(path.read_text()):
            if instruction == "FROM":
                parsed.base = argument.split()[0]
            elif instruction in {"COPY", "ADD"}:
                words = [w for w in shlex.split(argument) if not w.startswith("--")]
                if len(words) < 2:
                    raise ValueError(f"{path}: {instruction} {argument!r} has no destination")
                parsed.sources += words[:-1]
            elif instruction == "RUN":
                parsed.runs.append(argument)
            elif instruction == "EXPOSE":
                parsed.exposed += [int(port.split("/")[0]) for port in argument.split()]
            elif instruction in {"CMD", "ENTRYPOINT"}:
                words = _exec_form(path, instruction, argument)
                entrypoint, cmd = (words, cmd) if instruction == "ENTRYPOINT" else (entrypoint,
                                                                                     words)
        parsed.command = entrypoint + cmd
        return parsed

    def option(self, flag: str) -> str | None:
        """The value after `flag` in the command, or None."""
        words = self.command
        return next((words[i + 1] for i, word in enumerate(words[:-1]) if word == flag), None)


def _instructions(text: str) -> list[tuple[str, str]]:
    found, pending = [], ""
    for raw in text.splitlines():
        line = raw.strip()
        if not pending and (not line or line.startswith("#")):
            continue
        if line.startswith("#"):  # a comment inside a continued instruction
            continue
        if line.endswith("\\"):
            pending += line[:-1].strip() + " "
            continue
        instruction, _, argument = (pending + line).partition(" ")
        found.append((instruction.upper(), " ".join(argument.split())))
        pending = ""
    if pending:
        raise ValueError(f"the Dockerfile ends inside a continued line: {pending!r}")
    return found


def _exec_form(path: Path, instruction: str, argument: str) -> list[str]:
    """CMD and ENTRYPOINT must be JSON arrays: the shell form would run under `sh -c` and
    keep the server from receiving the container's stop signal."""
    try:
        words = json.loads(argument)
    except json.JSONDecodeError:
        raise ValueError(f"{path}: {instruction} is not in exec form: {argument}") from None
    if not (isinstance(words, list) and all(isinstance(w, str) for w in words)):
        raise ValueError(f"{path}: {instruction} must be a list of strings: {argument}")
    return words


def ignored(source: str, patterns: list[str]) -> bool:
    """Whether a .dockerignore's patterns leave `source` (or a folder holding it) out of the
    build context: the last pattern that matches wins, and `!` re-includes."""
    path = PurePosixPath(source.rstrip("/"))
    candidates = [str(path), *(str(parent) for parent in path.parents if str(parent) != ".")]
    excluded = False
    for pattern in patterns:
        negated = pattern.startswith("!")
        glob = pattern.lstrip("!").strip("/")
        globs = {glob, glob.removeprefix("**/")}
        if any(fnmatch.fnmatchcase(c, g) for c in candidates for g in globs):
            excluded = not negated
    return excluded
