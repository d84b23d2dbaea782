"""Loaders: one module per input format, each turning a file into one or more Documents."""
from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Iterator

from ..document import Document, LoadError
from . import text as text_loader

TEXT_SUFFIXES = {".txt", ".md", ".markdown", ".text"}
ARCHIVE_SUFFIXES = {".zip"}  # read member by member (archive.py)
Loader = Callable[[Path, bytes, str], Iterator[Document]]
LOADERS: dict[str, Loader] = {}  # suffix -> loader; format modules register here


def register(*suffixes: str):
    def deco(fn: Loader) -> Loader:
        for s in suffixes:
            LOADERS[s] = fn
        return fn
    return deco


@register(*TEXT_SUFFIXES)
def load_text(path: Path, data: bytes, sha: str) -> Iterator[Document]:
    if text_loader.looks_binary(data):
        raise LoadError("binary content, not text (an image or other file with a text name?)")
    text, encoding = text_loader.decode(data)
    if not text.strip():
        raise LoadError("empty file: no text")
    fmt = "md" if path.suffix.lower() in (".md", ".markdown") else "txt"
    yield Document(text=text, path=str(path), sha256=sha, format=fmt, encoding=encoding)


def _register_optional() -> None:
    # Format modules import their libraries lazily; importing them here only registers them.
    for name in ("html", "docx", "pdf", "exports", "doc", "ofd", "xlsx", "archive", "image"):
        try:
            __import__(f"{__name__}.{name}")
        except ImportError:
            pass


def supported_suffixes() -> set[str]:
    _register_optional()
    return set(LOADERS)


@dataclass(frozen=True)
class Input:
    """One input the batch accounts for: a file, or a member of a .zip archive.

    `problem` is set at discovery for an input that cannot be read at all (missing, a type no
    loader reads, a damaged archive): it still gets a record saying so."""
    path: Path                  # the file on disk (the archive, for a member)
    member: str | None = None   # the member's name as stored in the archive (for reading it)
    label: str | None = None    # the member's name as the user reads it (decoded)
    problem: str | None = None

    @property
    def display(self) -> str:
        """The source path written into the record: crawl.zip!/2024/report.pdf for a member."""
        return f"{self.path}!/{self.label or self.member}" if self.member is not None else str(self.path)

    @property
    def suffix(self) -> str:
        return Path(self.label or self.member or "").suffix.lower() if self.member is not None \
            else self.path.suffix.lower()


def unsupported_message(name: str) -> str:
    """Why a file is not read, and what to do: derived from the loaders registered now."""
    suffix = Path(name).suffix.lower()
    what = f"'{suffix}'" if suffix else "a file without a suffix"
    readable = ", ".join(sorted(supported_suffixes()))
    return (f"unsupported file type {what}: extractor reads {readable}; convert the file to one of "
            f"those (e.g. save it as PDF or .docx) or leave it out of the folder")


def _hidden(name: str) -> bool:
    return name.startswith(".") or name == "__MACOSX"


def discover(inputs: list[str]) -> Iterator[Input]:
    """Every input, in a stable order. Folders are recursed and every file in them is accounted
    for: a type no loader reads comes back with its `problem` (hidden dotfiles and folders are
    skipped); a .zip archive stands for its members."""
    suffixes = supported_suffixes()
    for item in inputs:
        p = Path(item)
        if p.is_dir():
            for root, dirs, files in os.walk(p):
                dirs[:] = sorted(d for d in dirs if not _hidden(d))
                for f in sorted(files):
                    if not _hidden(f):
                        yield from _expand(Path(root) / f, suffixes)
        elif p.exists():
            yield from _expand(p, suffixes)
        else:
            yield Input(p, problem="no such file or directory")


def _expand(path: Path, suffixes: set[str]) -> Iterator[Input]:
    suffix = path.suffix.lower()
    if suffix in ARCHIVE_SUFFIXES:
        from .archive import members
        yield from members(path)
    elif suffix in suffixes:
        yield Input(path)
    else:
        yield Input(path, problem=unsupported_message(path.name))


def load_path(path: Path) -> Iterator[Document]:
    """The documents in one file. Raises LoadError for a file that cannot be read at all."""
    supported_suffixes()
    loader = LOADERS.get(path.suffix.lower())
    if loader is None:
        raise LoadError(unsupported_message(path.name))
    try:
        data = path.read_bytes()
    except PermissionError:
        raise LoadError("permission denied: the file cannot be read")
    except IsADirectoryError:
        raise LoadError("is a directory")
    except OSError as exc:
        raise LoadError(f"cannot read file: {exc.strerror or exc}")
    sha = hashlib.sha256(data).hexdigest()
    yield from loader(path, data, sha)


def file_sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()
