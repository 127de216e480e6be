"""The moodboost program for the Python tests: MOODBOOST_CLI (scripts/test.sh sets it), else the
default build tree's."""

import os
import subprocess

CLI = os.environ.get("MOODBOOST_CLI", os.path.join(os.path.dirname(__file__), "../../build/bin/moodboost"))


def cli(*args):
    """Runs `moodboost ARGS...` without progress output; asserts it exits 0 and returns the result."""
    result = subprocess.run([CLI, *map(str, args)], capture_output=True, text=True,
                            env=dict(os.environ, MOODBOOST_NO_PROGRESS="1"))
    assert result.returncode == 0, result.stderr
    return result
