"""A run record names the code that produced it: the commit and the code files that differ."""

import shutil
import subprocess

import pytest

from lares_bench.runs import environment, git_dirty


def _git(root, *args):
    subprocess.run(["git", "-c", "user.email=t@t", "-c", "user.name=t", *args], cwd=root,
                   check=True, capture_output=True)


@pytest.mark.skipif(shutil.which("git") is None, reason="needs git")
def test_git_dirty_lists_changed_and_new_code_files_only(tmp_path):
    for name in ("lares_bench/a.py", "baselines/b.py", "results/r.json", "pyproject.toml"):
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text("x = 1\n")
    _git(tmp_path, "init", "-q")
    _git(tmp_path, "add", ".")
    _git(tmp_path, "commit", "-q", "-m", "c")
    assert git_dirty(tmp_path) == []
    (tmp_path / "lares_bench/a.py").write_text("x = 2\n")  # modified
    (tmp_path / "baselines/new.py").write_text("y = 1\n")  # untracked
    (tmp_path / "results/r.json").write_text("{}\n")  # not code: not listed
    assert git_dirty(tmp_path) == ["baselines/new.py", "lares_bench/a.py"]


def test_git_dirty_is_none_outside_a_checkout(tmp_path):
    assert git_dirty(tmp_path) is None


def test_environment_records_the_commit_and_the_dirty_files():
    import torch

    env = environment(torch.device("cpu"))
    assert "git_sha" in env and "git_dirty" in env
    assert env["git_dirty"] is None or all(isinstance(p, str) for p in env["git_dirty"])
