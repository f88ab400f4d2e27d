"""The storefront and webhook benchmarks start (``--help``) without a database or a server: they are run on demand."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

BENCH = Path(__file__).resolve().parents[2] / "bench"


@pytest.mark.parametrize("name", ["storefront.py", "webhooks.py", "baselines.py"])
def test_benchmark_explains_itself(name):
    result = subprocess.run(
        [sys.executable, str(BENCH / name), "--help"], capture_output=True, text=True, timeout=60, check=False
    )
    assert result.returncode == 0, result.stderr
    assert "ratio" in result.stdout or "hello" in result.stdout
