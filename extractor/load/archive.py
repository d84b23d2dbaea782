""".zip archives: every member is an input of its own, read by the loader its name calls for.

Crawls arrive zipped. `members` lists an archive's files (nested folders included, directories
and hidden files such as __MACOSX/ left out) as `Input`s whose source path names archive and
member: `crawl.zip!/2024/report.pdf`. A member is read into a temporary file of the same name
and handed to the ordinary loaders, so a loader that needs a real file (a converter run on it)
works on members too. A member that fails is one error record; the others go on.

Member names: zip files written on Chinese Windows store names in GBK without the UTF-8 flag,
which Python's zipfile decodes as cp437 (mojibake). Such a name is re-encoded to its raw bytes
and decoded as UTF-8, else GB18030.
"""
from __future__ import annotations

import tempfile
import zipfile
from pathlib import Path
from typing import Iterator

from ..document import Document, LoadError
from . import ARCHIVE_SUFFIXES, Input, _hidden, load_path, register, supported_suffixes, unsupported_message

_UTF8_FLAG = 0x800


def member_label(info: zipfile.ZipInfo) -> str:
    """The member's name as its author wrote it."""
    if info.flag_bits & _UTF8_FLAG:
        return info.filename
    try:
        raw = info.filename.encode("cp437")
    except UnicodeEncodeError:
        return info.filename
    for enc in ("utf-8", "gb18030"):
        try:
            return raw.decode(enc)
        except UnicodeDecodeError:
            continue
    return info.filename


def _open(path: Path) -> zipfile.ZipFile:
    try:
        return zipfile.ZipFile(path)
    except zipfile.BadZipFile as exc:
        raise LoadError(f"damaged zip archive: {exc} (download it again, or unzip what can be read)") from None
    except OSError as exc:
        raise LoadError(f"cannot read file: {exc.strerror or exc}") from None


def members(path: Path) -> Iterator[Input]:
    """The archive's files as inputs, in name order; a damaged archive is one input with its problem."""
    try:
        zf = _open(path)
    except LoadError as exc:
        yield Input(path, problem=str(exc))
        return
    suffixes = supported_suffixes()
    with zf:
        infos = [i for i in zf.infolist() if not i.is_dir()]
        found = False
        for info in sorted(infos, key=member_label):
            label = member_label(info)
            if any(_hidden(part) for part in label.split("/")):
                continue
            found = True
            suffix = Path(label).suffix.lower()
            if suffix in ARCHIVE_SUFFIXES:
                problem = "a zip inside a zip is not opened: unzip the outer archive and run on the folder"
            elif suffix not in suffixes:
                problem = unsupported_message(label)
            else:
                problem = None
            yield Input(path, member=info.filename, label=label, problem=problem)
        if not found:
            yield Input(path, problem="empty zip archive: it holds no files")


def member_size(inp: Input) -> int:
    with _open(inp.path) as zf:
        return zf.getinfo(inp.member).file_size


def read_member(inp: Input) -> bytes:
    """The member's bytes; LoadError for a member that cannot be extracted."""
    with _open(inp.path) as zf:
        try:
            return zf.read(inp.member)
        except RuntimeError as exc:  # zipfile's way of saying "encrypted"
            if "password" in str(exc).lower() or "encrypted" in str(exc).lower():
                raise LoadError("password-protected zip member: extract it with its password first") from None
            raise LoadError(f"cannot extract from the archive: {exc}") from None
        except (zipfile.BadZipFile, EOFError, OSError, NotImplementedError) as exc:
            raise LoadError(f"cannot extract from the archive (damaged or incomplete zip): {exc}") from None


def load_member(inp: Input, data: bytes | None = None) -> Iterator[Document]:
    """The documents of one member, their paths naming archive and member."""
    if data is None:
        data = read_member(inp)
    name = Path(inp.label or inp.member).name
    with tempfile.TemporaryDirectory(prefix="extractor-zip-") as tmp:
        member_file = Path(tmp) / name
        member_file.write_bytes(data)
        for doc in load_path(member_file):
            doc.path = inp.display
            yield doc


@register(*ARCHIVE_SUFFIXES)
def load_zip(path: Path, data: bytes, sha: str) -> Iterator[Document]:
    """All readable members of an archive, for callers of `load_path` (the batch expands an
    archive into its members instead, so that each failing member gets its own record)."""
    for inp in members(path):
        if inp.problem is None:
            try:
                yield from load_member(inp)
            except LoadError:
                continue
