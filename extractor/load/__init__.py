"""Loaders: one module per input format, each turning a file into one or more Documents."""
from __future__ import annotations

import hashlib
import os
from pathlib import Path
from typing import Callable, Iterator

from ..document import Document, LoadError
from . import text as text_loader

TEXT_SUFFIXES = {".txt", ".md", ".markdown", ".text"}
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
    for name in ("html", "docx", "pdf", "exports", "image"):
        try:
            __import__(f"{__name__}.{name}")
        except ImportError:
            pass


def supported_suffixes() -> set[str]:
    _register_optional()
    return set(LOADERS)


def discover(inputs: list[str]) -> Iterator[tuple[Path, str | None]]:
    """Files to process, in a stable order: (path, None), or (path, error) for an input that
    does not exist. Folders are recursed for supported suffixes."""
    suffixes = supported_suffixes()
    for item in inputs:
        p = Path(item)
        if p.is_dir():
            for root, dirs, files in os.walk(p):
                dirs.sort()
                for f in sorted(files):
                    fp = Path(root) / f
                    if fp.suffix.lower() in suffixes and not f.startswith("."):
                        yield fp, None
        elif p.exists():
            yield p, None
        else:
            yield p, "no such file or directory"


def load_path(path: Path) -> Iterator[Document]:
    """The documents in one file. Raises LoadError for a file that cannot be read at all."""
    suffixes = supported_suffixes()
    loader = LOADERS.get(path.suffix.lower())
    if loader is None:
        raise LoadError(f"unsupported file type '{path.suffix or '(none)'}'; supported: {', '.join(sorted(suffixes))}")
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
