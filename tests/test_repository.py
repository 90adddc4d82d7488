"""Repository hygiene: checkpoints never tracked; paused states survive a new work tree."""

import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
needs_checkout = pytest.mark.skipif(
    shutil.which("git") is None or not (ROOT / ".git").exists(), reason="needs a git checkout")


def _git(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(["git", *args], cwd=ROOT, capture_output=True, text=True)


@needs_checkout
def test_no_checkpoint_is_tracked():
    # .paused-states/ is deliberately not git-ignored (benchmarks/cpu_queue.sh), so this is
    # what stops its training states from being committed by a careless `git add`.
    tracked = _git("ls-files", "--", "*.pt", "*.pth", "*.ckpt").stdout.split()
    assert tracked == []


@needs_checkout
def test_paused_states_are_not_ignored_but_other_checkpoints_are():
    def ignored(path: str) -> bool:
        return _git("check-ignore", "-q", "--no-index", path).returncode == 0

    assert not ignored(".paused-states/main/beauty/bsarec/abc123/train.pt")
    assert ignored("results/.resume/main/beauty/bsarec/abc123/train.pt")
    assert ignored("model.pt")
