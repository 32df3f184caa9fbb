"""The files folder on its own: what a path argument may reach, whatever tricks it carries."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from runtype_mcp.errors import ArgumentError
from runtype_mcp.files import FilesFolder

pytestmark = pytest.mark.skipif(os.name == "nt", reason="symlinks and FIFOs as on POSIX")


@pytest.fixture
def folder(tmp_path: Path) -> FilesFolder:
    return FilesFolder(str(tmp_path / "files"))


@pytest.fixture
def outside(tmp_path: Path) -> Path:
    out = tmp_path / "outside"
    out.mkdir()
    (out / "secret.csv").write_text("k\nv\n", encoding="utf-8")
    return out


def refusal(exc: pytest.ExceptionInfo[ArgumentError]) -> str:
    (detail,) = exc.value.details
    assert detail.path == "path"
    return f"{detail.message} → {detail.hint}"


def test_a_relative_name_lands_in_the_folder_which_is_created_on_first_use(folder: FilesFolder) -> None:
    assert not folder.root.exists(), "nothing is created before a tool needs it"
    target = folder.resolve_for_write("leads.csv", overwrite=False)
    assert folder.root.is_dir()
    assert target == Path(os.path.realpath(folder.root)) / "leads.csv"


def test_the_default_folder_is_runtype_mcp_in_the_documents_folder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import platformdirs

    monkeypatch.setattr(platformdirs, "user_documents_dir", lambda: str(tmp_path / "Docs"))
    target = FilesFolder(None).resolve_for_write("out.csv", overwrite=False)
    assert target == tmp_path / "Docs" / "runtype-mcp" / "out.csv"
    assert (tmp_path / "Docs" / "runtype-mcp").is_dir()


def test_an_absolute_path_inside_the_folder_and_a_subfolder_are_fine(folder: FilesFolder) -> None:
    folder.ensure()
    (folder.root / "2026").mkdir()
    assert (
        folder.resolve_for_write(str(folder.root / "2026" / "a.csv"), overwrite=False).parent.name == "2026"
    )
    assert folder.resolve_for_write("2026/b.CSV", overwrite=False).name == "b.CSV"


@pytest.mark.parametrize(
    ("raw", "problem"),
    [
        ("../../x.pth", "is outside the files folder"),
        ("../x.csv", "is outside the files folder"),
        ("a/../../x.csv", "is outside the files folder"),
        ("/etc/cron.d/x.csv", "is outside the files folder"),
        (".bashrc", "hidden file"),
        (".x.csv", "hidden file"),
        ("sub/.hidden/x.csv", "hidden file"),
        ("zz.pth", "must be a .csv file name"),
        ("notes.txt", "must be a .csv file name"),
        (".csv", "hidden file"),
        ("x\x00.csv", "NUL"),
        (".", "names the files folder itself"),
        ("missing/x.csv", "folder 'missing' does not exist"),
    ],
)
def test_write_paths_that_leave_the_folder_or_are_not_plain_csv_names_are_refused(
    folder: FilesFolder, raw: str, problem: str
) -> None:
    with pytest.raises(ArgumentError) as exc:
        folder.resolve_for_write(raw, overwrite=True)
    assert problem in refusal(exc)


def test_a_refusal_names_the_allowed_folder_and_how_the_user_changes_it(folder: FilesFolder) -> None:
    with pytest.raises(ArgumentError) as exc:
        folder.resolve_for_write("/tmp/elsewhere.csv", overwrite=False)
    text = refusal(exc)
    assert os.path.realpath(folder.root) in text
    assert "--files-dir" in text and "RUNTYPE_FILES_DIR" in text


def test_tilde_is_the_home_folder_and_home_is_outside(
    folder: FilesFolder, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    home = tmp_path / "home"
    home.mkdir()
    monkeypatch.setenv("HOME", str(home))
    with pytest.raises(ArgumentError) as exc:
        folder.resolve_for_write("~/.bashrc", overwrite=True)
    assert "outside" in refusal(exc)
    with pytest.raises(ArgumentError):
        folder.resolve_for_write("~/exports.csv", overwrite=True)


def test_a_symlinked_subfolder_pointing_outside_is_refused(folder: FilesFolder, outside: Path) -> None:
    folder.ensure()
    (folder.root / "link").symlink_to(outside, target_is_directory=True)
    with pytest.raises(ArgumentError) as exc:
        folder.resolve_for_write("link/new.csv", overwrite=False)
    assert "symbolic link" in refusal(exc)
    with pytest.raises(ArgumentError) as exc:
        folder.resolve_for_read("link/secret.csv")
    assert "outside" in refusal(exc)


def test_a_symlink_at_the_target_name_is_never_written_through(folder: FilesFolder, outside: Path) -> None:
    folder.ensure()
    (folder.root / "out.csv").symlink_to(outside / "secret.csv")
    for overwrite in (False, True):
        with pytest.raises(ArgumentError) as exc:
            folder.resolve_for_write("out.csv", overwrite=overwrite)
        assert "symbolic link" in refusal(exc)
    assert (outside / "secret.csv").read_text(encoding="utf-8") == "k\nv\n"


def test_a_folder_a_fifo_and_an_existing_file_are_refused_as_targets(folder: FilesFolder) -> None:
    folder.ensure()
    (folder.root / "dir.csv").mkdir()
    os.mkfifo(folder.root / "pipe.csv")
    (folder.root / "old.csv").write_text("a\n", encoding="utf-8")
    with pytest.raises(ArgumentError, match="is a folder"):
        folder.resolve_for_write("dir.csv", overwrite=True)
    with pytest.raises(ArgumentError, match="not a regular file"):
        folder.resolve_for_write("pipe.csv", overwrite=True)
    with pytest.raises(ArgumentError, match="already exists"):
        folder.resolve_for_write("old.csv", overwrite=False)
    assert folder.resolve_for_write("old.csv", overwrite=True).name == "old.csv"


def test_a_write_goes_through_an_exclusive_temp_file_and_never_clobbers_a_newcomer(
    folder: FilesFolder,
) -> None:
    target = folder.resolve_for_write("race.csv", overwrite=False)
    temp, fh = folder.open_temp(target)
    with fh:
        fh.write(b"id\n1\n")
    assert temp.parent == target.parent and temp.name.startswith(".")
    target.write_text("someone else's\n", encoding="utf-8")  # appeared after the check
    with pytest.raises(ArgumentError, match="already exists"):
        folder.commit(temp, target, overwrite=False)
    assert target.read_text(encoding="utf-8") == "someone else's\n"
    folder.commit(temp, target, overwrite=True)
    assert target.read_text(encoding="utf-8") == "id\n1\n" and not temp.exists()


def test_a_symlink_placed_at_the_target_before_the_rename_is_refused(
    folder: FilesFolder, outside: Path
) -> None:
    target = folder.resolve_for_write("late.csv", overwrite=True)
    temp, fh = folder.open_temp(target)
    with fh:
        fh.write(b"x\n")
    target.symlink_to(outside / "secret.csv")
    with pytest.raises(ArgumentError, match="symbolic link"):
        folder.commit(temp, target, overwrite=True)
    assert (outside / "secret.csv").read_text(encoding="utf-8") == "k\nv\n"


def test_reads_accept_regular_files_inside_only(folder: FilesFolder, outside: Path) -> None:
    folder.ensure()
    (folder.root / "people.csv").write_text("name\nann\n", encoding="utf-8")
    (folder.root / "escape.csv").symlink_to(outside / "secret.csv")
    (folder.root / ".env").write_text("KEY=1\n", encoding="utf-8")
    (folder.root / "shown.csv").symlink_to(folder.root / ".env")
    (folder.root / "inner.csv").symlink_to(folder.root / "people.csv")
    os.mkfifo(folder.root / "pipe.csv")
    assert folder.read("people.csv", 1000) == b"name\nann\n"
    assert folder.read("inner.csv", 1000) == b"name\nann\n", "a symlink that stays inside is followed"
    assert folder.read("people.csv", 4) is None, "over the size limit"
    for raw, problem in [
        ("/etc/passwd", "outside"),
        (str(outside / "secret.csv"), "outside"),
        ("escape.csv", "resolves outside"),
        (".env", "hidden"),
        ("shown.csv", "hidden"),
        ("pipe.csv", "not a regular file"),
        ("nothing.csv", "no such file"),
        ("../outside/secret.csv", "outside"),
    ]:
        with pytest.raises(ArgumentError) as exc:
            folder.read(raw, 1000)
        assert problem in refusal(exc), raw
