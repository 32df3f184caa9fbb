"""The files folder's refusals word for word (files.py): the model reads the whole line and acts on it,
so each one must name the problem, the folder and the way out exactly."""

from __future__ import annotations

import os
import stat
from pathlib import Path
from types import SimpleNamespace

import pytest

from runtype_mcp import files
from runtype_mcp.errors import ArgumentError
from runtype_mcp.files import FilesFolder

pytestmark = pytest.mark.skipif(os.name == "nt", reason="symlinks and FIFOs as on POSIX")


@pytest.fixture
def folder(tmp_path: Path) -> FilesFolder:
    """Configured through a symbolic link (`files` -> `real files`): a refusal names the real folder."""
    (tmp_path / "real files").mkdir()
    (tmp_path / "files").symlink_to(tmp_path / "real files", target_is_directory=True)
    return FilesFolder(str(tmp_path / "files"))


def refused(exc: pytest.ExceptionInfo[ArgumentError]) -> str:
    (detail,) = exc.value.details
    return detail.line()


def way_out(root: str) -> str:
    return (
        f' → use a file name inside the files folder {root!r}, e.g. path="records.csv" '
        "(the user can change that folder with --files-dir or RUNTYPE_FILES_DIR)"
    )


@pytest.mark.parametrize(
    ("raw", "problem"),
    [
        ("x\x00.csv", "must not contain NUL characters"),
        ("../x.csv", "is outside the files folder"),
        ("/etc/x.csv", "is outside the files folder"),
        (".", "names the files folder itself; add a file name"),
        ("", "names the files folder itself; add a file name"),
        ("  ", "names the files folder itself; add a file name"),
        ("sub/.git/x.csv", "names a hidden file or folder (a part starts with '.')"),
        ("notes.txt", "must be a .csv file name"),
        ("sub/.csv", "names a hidden file or folder (a part starts with '.')"),
        ("missing/x.csv", "folder 'missing' does not exist in the files folder"),
    ],
)
def test_each_write_refusal_is_one_whole_line(folder: FilesFolder, raw: str, problem: str) -> None:
    with pytest.raises(ArgumentError) as exc:
        folder.resolve_for_write(raw, overwrite=True)
    root = os.path.realpath(folder.root)
    assert refused(exc) == f"- path: {problem}{way_out(root)}"


@pytest.fixture
def outside(tmp_path: Path) -> Path:
    out = tmp_path / "outside"
    out.mkdir()
    (out / "secret.csv").write_text("k\nv\n", encoding="utf-8")
    return out


def write_refusal(folder: FilesFolder, raw: str, *, overwrite: bool = True) -> str:
    with pytest.raises(ArgumentError) as exc:
        folder.resolve_for_write(raw, overwrite=overwrite)
    return refused(exc)


def read_refusal(folder: FilesFolder, raw: str) -> str:
    with pytest.raises(ArgumentError) as exc:
        folder.read(raw, 1000)
    return refused(exc)


def test_targets_that_are_not_plain_files_are_refused_in_full(folder: FilesFolder, outside: Path) -> None:
    root = folder.ensure()
    (folder.root / "dir.csv").mkdir()
    os.mkfifo(folder.root / "pipe.csv")
    (folder.root / "link.csv").symlink_to(outside / "secret.csv")
    (folder.root / "old.csv").write_text("a\n", encoding="utf-8")
    assert (
        write_refusal(folder, "dir.csv")
        == f"- path: is a folder; add a file name, e.g. records.csv{way_out(root)}"
    )
    assert write_refusal(folder, "pipe.csv") == f"- path: is not a regular file{way_out(root)}"
    assert write_refusal(folder, "link.csv") == (
        f"- path: is a symbolic link; exports never write through one{way_out(root)}"
    )
    assert write_refusal(folder, "old.csv", overwrite=False) == (
        "- path: file already exists → pass overwrite=true or another path"
    )


def test_the_way_to_a_target_must_be_real_folders(folder: FilesFolder, outside: Path) -> None:
    root = folder.ensure()
    (folder.root / "sub").mkdir()
    (folder.root / "sub" / "deeper").mkdir()
    (folder.root / "sub" / "link").symlink_to(outside, target_is_directory=True)
    (folder.root / "plain.csv").write_text("a\n", encoding="utf-8")
    assert (
        write_refusal(folder, "sub/link/x.csv")
        == f"- path: goes through the symbolic link 'link'{way_out(root)}"
    )
    assert write_refusal(folder, "plain.csv/x.csv") == f"- path: 'plain.csv' is not a folder{way_out(root)}"
    assert write_refusal(folder, "sub/nope/x.csv") == (
        f"- path: folder 'nope' does not exist in the files folder{way_out(root)}"
    )
    assert (
        folder.resolve_for_write("sub/deeper/x.csv", overwrite=False)
        == Path(root) / "sub" / "deeper" / "x.csv"
    )


def test_a_folder_reached_through_a_symlinked_root_is_still_the_folder(tmp_path: Path) -> None:
    real = tmp_path / "real"
    (real / "sub").mkdir(parents=True)
    (tmp_path / "alias").symlink_to(real, target_is_directory=True)
    folder = FilesFolder(str(tmp_path / "alias"))
    assert folder.resolve_for_write("sub/x.csv", overwrite=False) == real / "sub" / "x.csv"
    assert folder.resolve_for_write(str(tmp_path / "alias" / "y.csv"), overwrite=False) == real / "y.csv"
    assert folder.resolve_for_write(str(real / "sub" / "z.csv"), overwrite=False) == real / "sub" / "z.csv"
    with pytest.raises(ArgumentError):
        folder.resolve_for_write(str(tmp_path / "aliasx" / "y.csv"), overwrite=False)


@pytest.mark.parametrize("raw", ["x.csv", "a.CSV", "dir/b.Csv"])
def test_csv_names_in_any_case_are_accepted(folder: FilesFolder, raw: str) -> None:
    folder.ensure()
    (folder.root / "dir").mkdir()
    assert folder.resolve_for_write(raw, overwrite=False).name == os.path.basename(raw)


def test_a_name_that_is_only_the_extension_is_not_a_csv_name(folder: FilesFolder) -> None:
    root = folder.ensure()
    (folder.root / "d").mkdir()
    assert write_refusal(folder, "d/x.csvx") == f"- path: must be a .csv file name{way_out(root)}"
    assert folder.resolve_for_write("d/a.csv", overwrite=False).name == "a.csv"


def test_an_absolute_path_naming_the_folder_itself_is_refused(folder: FilesFolder) -> None:
    root = folder.ensure()
    assert (
        write_refusal(folder, root)
        == f"- path: names the files folder itself; add a file name{way_out(root)}"
    )
    assert write_refusal(folder, root + os.sep) == (
        f"- path: names the files folder itself; add a file name{way_out(root)}"
    )


def test_read_refusals_in_full(folder: FilesFolder, outside: Path) -> None:
    root = folder.ensure()
    (folder.root / "escape.csv").symlink_to(outside / "secret.csv")
    (folder.root / ".env").write_text("KEY=1\n", encoding="utf-8")
    (folder.root / "shown.csv").symlink_to(folder.root / ".env")
    (folder.root / "sub").mkdir()
    os.mkfifo(folder.root / "pipe.csv")
    assert read_refusal(folder, "escape.csv") == f"- path: resolves outside the files folder{way_out(root)}"
    assert read_refusal(folder, "shown.csv") == f"- path: resolves to a hidden file{way_out(root)}"
    assert read_refusal(folder, "nothing.csv") == f"- path: no such file in the files folder{way_out(root)}"
    assert read_refusal(folder, "pipe.csv") == f"- path: is not a regular file{way_out(root)}"
    assert read_refusal(folder, "sub") == f"- path: is not a regular file{way_out(root)}"


def test_a_read_returns_the_bytes_up_to_the_limit_and_nothing_over_it(folder: FilesFolder) -> None:
    folder.ensure()
    (folder.root / "five.csv").write_bytes(b"a,b\r\n")
    (folder.root / "sub").mkdir()
    (folder.root / "sub" / "in.csv").write_bytes(b"x\n")
    assert folder.read("five.csv", 5) == b"a,b\r\n"
    assert folder.read("five.csv", 4) is None
    assert folder.read(str(folder.root / "five.csv"), 5) == b"a,b\r\n"
    assert folder.read("sub/in.csv", 5) == b"x\n"
    assert folder.resolve_for_read("sub/in.csv") == Path(root_of(folder)) / "sub" / "in.csv"


def root_of(folder: FilesFolder) -> str:
    return os.path.realpath(folder.root)


def test_a_folder_that_cannot_be_made_says_so(tmp_path: Path) -> None:
    (tmp_path / "file").write_text("x", encoding="utf-8")
    folder = FilesFolder(str(tmp_path / "file" / "files"))
    with pytest.raises(ArgumentError) as exc:
        folder.ensure()
    where = str(tmp_path / "file" / "files")
    assert (
        refused(exc)
        == f"- path: the files folder {where!r} cannot be created (Not a directory){way_out(where)}"
    )


def test_a_configured_folder_is_taken_as_given_with_the_home_folder_expanded(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HOME", str(tmp_path))
    assert FilesFolder("~/exports").root == tmp_path / "exports"
    monkeypatch.chdir(tmp_path)
    assert FilesFolder("rel").root == tmp_path / "rel"


def test_a_temp_file_is_new_private_and_hidden_beside_the_target(folder: FilesFolder) -> None:
    target = folder.resolve_for_write("t.csv", overwrite=False)
    temp, fh = folder.open_temp(target)
    with fh:
        fh.write(b"a\n")
    assert temp.parent == target.parent
    assert temp.name.startswith(".t.csv.") and temp.name.endswith(".part")
    assert len(temp.name) == len(".t.csv.") + 8 + len(".part")
    assert os.stat(temp).st_mode & 0o777 == 0o600
    other, fh2 = folder.open_temp(target)
    fh2.close()
    assert other != temp
    folder.commit(temp, target, overwrite=False)
    assert target.read_bytes() == b"a\n" and not temp.exists()


def test_refusals_name_the_folder_as_it_really_is(folder: FilesFolder, tmp_path: Path) -> None:
    assert folder.ensure() == str(tmp_path / "real files")
    assert write_refusal(folder, "../x.csv").endswith(way_out(str(tmp_path / "real files")))


def test_a_folder_whose_name_ends_in_a_space_holds_its_files(tmp_path: Path) -> None:
    folder = FilesFolder(str(tmp_path / "files "))
    root = folder.ensure()
    (Path(root) / "in.csv").write_bytes(b"a\n")
    assert folder.resolve_for_write(os.path.join(root, "x.csv"), overwrite=False) == Path(root) / "x.csv"
    assert folder.read(os.path.join(root, "in.csv"), 10) == b"a\n"


def test_a_symlink_to_a_hidden_file_in_a_subfolder_is_refused(folder: FilesFolder) -> None:
    root = folder.ensure()
    (folder.root / "sub").mkdir()
    (folder.root / "sub" / ".env").write_text("KEY=1\n", encoding="utf-8")
    (folder.root / "shown.csv").symlink_to(folder.root / "sub" / ".env")
    assert read_refusal(folder, "shown.csv") == f"- path: resolves to a hidden file{way_out(root)}"


def test_a_file_that_appears_between_the_check_and_the_move_is_never_clobbered(
    folder: FilesFolder, monkeypatch: pytest.MonkeyPatch
) -> None:
    target = folder.resolve_for_write("race.csv", overwrite=False)
    temp, fh = folder.open_temp(target)
    with fh:
        fh.write(b"ours\n")
    target.write_text("theirs\n", encoding="utf-8")
    monkeypatch.setattr(FilesFolder, "_check_target", lambda self, target, root, overwrite: None)
    with pytest.raises(ArgumentError) as exc:
        folder.commit(temp, target, overwrite=False)
    assert refused(exc) == "- path: file already exists → pass overwrite=true or another path"
    assert target.read_text(encoding="utf-8") == "theirs\n"


def test_a_symlink_at_the_target_before_the_move_is_refused_naming_the_folder(
    folder: FilesFolder, tmp_path: Path
) -> None:
    target = folder.resolve_for_write("late.csv", overwrite=True)
    temp, fh = folder.open_temp(target)
    fh.close()
    (tmp_path / "elsewhere.csv").write_text("keep\n", encoding="utf-8")
    target.symlink_to(tmp_path / "elsewhere.csv")
    with pytest.raises(ArgumentError) as exc:
        folder.commit(temp, target, overwrite=True)
    assert refused(exc) == (
        f"- path: is a symbolic link; exports never write through one{way_out(folder.ensure())}"
    )
    assert (tmp_path / "elsewhere.csv").read_text(encoding="utf-8") == "keep\n"


def test_a_folder_swapped_for_a_symlink_after_its_check_is_still_refused(
    folder: FilesFolder, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    root = folder.ensure()
    (tmp_path / "away").mkdir()
    (folder.root / "sub").symlink_to(tmp_path / "away", target_is_directory=True)
    # the component checks see a real folder (as they would just before a swap) ...
    checks = SimpleNamespace(S_ISLNK=lambda mode: False, S_ISDIR=lambda mode: True, S_ISREG=stat.S_ISREG)
    monkeypatch.setattr(files, "stat", checks)
    # ... and the final real-path comparison still catches the link
    assert write_refusal(folder, "sub/x.csv", overwrite=False) == (
        f"- path: goes through a symbolic link{way_out(root)}"
    )


def test_a_folder_gone_after_it_was_made_is_refused(
    folder: FilesFolder, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(files.os.path, "isdir", lambda path: False)
    with pytest.raises(ArgumentError) as exc:
        folder.ensure()
    where = str(folder.root)
    assert refused(exc) == f"- path: the files folder {where!r} is not a folder{way_out(where)}"


def test_a_temp_name_taken_by_a_planted_symlink_is_never_written_through(
    folder: FilesFolder, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    target = folder.resolve_for_write("t.csv", overwrite=False)
    monkeypatch.setattr(files.uuid, "uuid4", lambda: SimpleNamespace(hex="0123456789abcdef"))
    (tmp_path / "victim").write_bytes(b"safe")
    (target.parent / ".t.csv.01234567.part").symlink_to(tmp_path / "victim")
    with pytest.raises(FileExistsError):
        folder.open_temp(target)
    assert (tmp_path / "victim").read_bytes() == b"safe"


def test_a_fifo_swapped_in_after_the_check_is_refused_without_blocking(
    folder: FilesFolder, monkeypatch: pytest.MonkeyPatch
) -> None:
    root = folder.ensure()
    fifo = Path(root) / "swapped.csv"
    os.mkfifo(fifo)
    monkeypatch.setattr(FilesFolder, "resolve_for_read", lambda self, raw: fifo)
    assert read_refusal(folder, "swapped.csv") == f"- path: is not a regular file{way_out(root)}"


def test_a_symlink_swapped_in_after_the_check_is_not_followed(
    folder: FilesFolder, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    root = folder.ensure()
    (tmp_path / "secret.txt").write_bytes(b"secret")
    link = Path(root) / "swapped.csv"
    link.symlink_to(tmp_path / "secret.txt")
    monkeypatch.setattr(FilesFolder, "resolve_for_read", lambda self, raw: link)
    with pytest.raises(OSError, match="symbolic links"):
        folder.read("swapped.csv", 100)


def test_a_file_that_grew_after_its_size_was_checked_is_still_over_the_limit(
    folder: FilesFolder, monkeypatch: pytest.MonkeyPatch
) -> None:
    root = folder.ensure()
    (Path(root) / "grows.csv").write_bytes(b"0123456789")
    real_fstat = os.fstat

    def stale_fstat(fd: int) -> os.stat_result:
        info = real_fstat(fd)
        return SimpleNamespace(st_mode=info.st_mode, st_size=3)  # type: ignore[return-value]

    monkeypatch.setattr(files.os, "fstat", stale_fstat)
    assert folder.read("grows.csv", 5) is None
    assert folder.read("grows.csv", 10) == b"0123456789"
