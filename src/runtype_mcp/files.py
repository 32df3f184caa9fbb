"""The files folder: the only place a tool may read or write a local file (stdio transport only).

A model's `path` argument may have been steered by text it read in a record, so the server, not
the model, draws the line. Every path is taken inside the folder (relative paths are the normal
form), must resolve there with symlinks followed, and no component may start with a dot. Writes
go to `*.csv` regular files only, never through or onto a symlink or special file: the bytes go to
an O_EXCL temp file beside the target and are renamed onto nothing or onto a regular CSV file.
Reads open regular files only (no FIFO, device or folder), without following a final symlink.
"""

from __future__ import annotations

import os
import stat
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import IO

from runtype_mcp.errors import ArgumentError, Detail

NOFOLLOW = getattr(os, "O_NOFOLLOW", 0)
NONBLOCK = getattr(os, "O_NONBLOCK", 0)  # a FIFO swapped in after the check must not block the open
CLOEXEC = getattr(os, "O_CLOEXEC", 0)
BINARY = getattr(os, "O_BINARY", 0)


def default_folder() -> Path:
    import platformdirs  # lazy: only a file tool pays for it

    return Path(platformdirs.user_documents_dir()) / "runtype-mcp"


@dataclass(frozen=True)
class FilesFolder:
    """`configured` is RUNTYPE_FILES_DIR / --files-dir (None: `runtype-mcp` in the documents folder)."""

    configured: str | None = None

    @property
    def root(self) -> Path:
        if self.configured:
            return Path(os.path.abspath(os.path.expanduser(self.configured)))
        return default_folder()

    def ensure(self) -> str:
        """The folder's real path, created on first use (not at start-up)."""
        root = self.root
        try:
            root.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise self._refuse(f"the files folder {str(root)!r} cannot be created ({exc.strerror})") from None
        real = os.path.realpath(root)
        if not os.path.isdir(real):
            raise self._refuse(f"the files folder {str(root)!r} is not a folder")
        return real

    def _refuse(self, problem: str, folder: str | None = None) -> ArgumentError:
        where = folder or str(self.root)
        return ArgumentError(
            [
                Detail(
                    "path",
                    problem,
                    f'use a file name inside the files folder {where!r}, e.g. path="records.csv" '
                    "(the user can change that folder with --files-dir or RUNTYPE_FILES_DIR)",
                )
            ]
        )

    def _relative(self, raw: str) -> tuple[str, str]:
        """(real folder, normalised path relative to it); refuses what cannot be inside it."""
        root = self.ensure()
        if "\x00" in raw:
            raise self._refuse("must not contain NUL characters", root)
        expanded = os.path.expanduser(raw.strip())
        if os.path.isabs(expanded):
            norm = os.path.normpath(expanded)
            rel = None
            for base in dict.fromkeys((root, str(self.root))):
                if norm == base or norm.startswith(base.rstrip(os.sep) + os.sep):
                    rel = os.path.relpath(norm, base)
                    break
            if rel is None:
                raise self._refuse("is outside the files folder", root)
        else:
            rel = os.path.normpath(expanded)
        parts = rel.split(os.sep)
        if rel == "." or not rel:
            raise self._refuse("names the files folder itself; add a file name", root)
        if parts[0] == ".." or os.path.isabs(rel):
            raise self._refuse("is outside the files folder", root)
        if any(p.startswith(".") for p in parts):
            raise self._refuse("names a hidden file or folder (a part starts with '.')", root)
        return root, rel

    def _walk_parent(self, root: str, rel: str) -> Path:
        """The target's parent, checked to be real folders all the way down (no symlink on the way)."""
        parent = Path(root)
        for part in rel.split(os.sep)[:-1]:
            parent = parent / part
            try:
                mode = os.lstat(parent).st_mode
            except FileNotFoundError:
                raise self._refuse(f"folder {part!r} does not exist in the files folder", root) from None
            if stat.S_ISLNK(mode):
                raise self._refuse(f"goes through the symbolic link {part!r}", root)
            if not stat.S_ISDIR(mode):
                raise self._refuse(f"{part!r} is not a folder", root)
        if os.path.realpath(parent) != str(parent):  # belt and braces against a swapped component
            raise self._refuse("goes through a symbolic link", root)
        return parent

    def resolve_for_write(self, raw: str, *, overwrite: bool) -> Path:
        """Where an export may land: a `*.csv` name inside the folder, absent or a regular file."""
        root, rel = self._relative(raw)
        if not rel.lower().endswith(".csv") or len(os.path.basename(rel)) <= len(".csv"):
            raise self._refuse("must be a .csv file name", root)
        target = self._walk_parent(root, rel) / os.path.basename(rel)
        self._check_target(target, root, overwrite)
        return target

    def _check_target(self, target: Path, root: str, overwrite: bool) -> None:
        try:
            mode = os.lstat(target).st_mode
        except FileNotFoundError:
            return
        if stat.S_ISLNK(mode):
            raise self._refuse("is a symbolic link; exports never write through one", root)
        if stat.S_ISDIR(mode):
            raise self._refuse("is a folder; add a file name, e.g. records.csv", root)
        if not stat.S_ISREG(mode):
            raise self._refuse("is not a regular file", root)
        if not overwrite:
            raise ArgumentError(
                [Detail("path", "file already exists", "pass overwrite=true or another path")]
            )

    def open_temp(self, target: Path) -> tuple[Path, IO[bytes]]:
        """A new temp file beside `target` (created exclusively, never through a symlink)."""
        temp = target.with_name(f".{target.name}.{uuid.uuid4().hex[:8]}.part")
        flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | NOFOLLOW | CLOEXEC | BINARY
        fd = os.open(temp, flags, 0o600)
        return temp, os.fdopen(fd, "wb")

    def commit(self, temp: Path, target: Path, *, overwrite: bool) -> None:
        """Move a finished temp file onto `target`: onto nothing, or (overwrite) onto a regular file."""
        root = self.ensure()
        self._check_target(target, root, overwrite)
        if not overwrite:
            try:
                os.link(temp, target)  # fails if the name appeared meanwhile: never clobbers
            except FileExistsError:
                raise ArgumentError(
                    [Detail("path", "file already exists", "pass overwrite=true or another path")]
                ) from None
            except OSError:
                pass  # a file system without hard links: the check above has to do
            else:
                os.unlink(temp)
                return
        # rename replaces a directory entry; it never writes through a symlink placed at the target
        os.replace(temp, target)

    def resolve_for_read(self, raw: str) -> Path:
        """A regular file inside the folder (symlinks followed must stay inside)."""
        root, rel = self._relative(raw)
        real = os.path.realpath(os.path.join(root, rel))
        if not real.startswith(root.rstrip(os.sep) + os.sep):
            raise self._refuse("resolves outside the files folder", root)
        if any(p.startswith(".") for p in os.path.relpath(real, root).split(os.sep)):
            raise self._refuse("resolves to a hidden file", root)
        try:
            mode = os.stat(real).st_mode
        except FileNotFoundError:
            raise self._refuse("no such file in the files folder", root) from None
        if not stat.S_ISREG(mode):
            raise self._refuse("is not a regular file", root)
        return Path(real)

    def read(self, raw: str, max_bytes: int) -> bytes | None:
        """The file's bytes, or None when it is larger than `max_bytes`."""
        real = self.resolve_for_read(raw)
        fd = os.open(real, os.O_RDONLY | NOFOLLOW | NONBLOCK | CLOEXEC | BINARY)
        with os.fdopen(fd, "rb") as fh:
            info = os.fstat(fh.fileno())
            if not stat.S_ISREG(info.st_mode):
                raise self._refuse("is not a regular file", self.ensure())
            if info.st_size > max_bytes:
                return None
            data = fh.read(max_bytes + 1)
        return None if len(data) > max_bytes else data
