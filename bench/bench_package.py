"""Linux package figures: installed bundle size, .deb size, and the frozen app's start-up against the
start from source, measured in the same run (median of N, interleaved so machine noise hits both alike).

Budgets (reported, not judged): installed bundle <= 150 MB, .deb <= 60 MB, frozen start <= 1.5x source.

    python bench/bench_package.py [--runs 5] [--deb dist/assistant-app_X_amd64.deb]

Without ``--deb`` it builds the package into a temporary folder with packaging/build-linux.sh. "Start" is
process start to ``SHOWN`` (ASSISTANT_APP_EXIT_AFTER_SHOWN=1: the main window is shown and the event queue
has run once), offscreen, and under Xvfb with the xcb platform when Xvfb is installed. Prints one JSON object.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

BUDGET_INSTALLED_MB = 150
BUDGET_DEB_MB = 60
BUDGET_RATIO = 1.5


def build(out: Path) -> tuple[Path, Path | None, float]:
    t0 = time.perf_counter()
    subprocess.run(
        [str(REPO / "packaging" / "build-linux.sh"), "--out", str(out)],
        check=True, cwd=REPO, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, timeout=1500,
    )  # fmt: skip
    return next(out.glob("*.deb")), next(iter(out.glob("*.tar.gz")), None), time.perf_counter() - t0


def tree_size(root: Path) -> tuple[int, int, int]:
    """(apparent bytes, bytes allocated on disk, file count) of a folder, symlinks counted as links."""
    apparent = allocated = files = 0
    for p in root.rglob("*"):
        st = p.lstat()
        apparent += st.st_size
        allocated += st.st_blocks * 512
        files += not p.is_dir()
    return apparent, allocated, files


def time_to_shown(cmd: list[str], env: dict[str, str]) -> tuple[float, float]:
    """(wall seconds from spawn to the SHOWN line, the app's own figure since its process started)."""
    t0 = time.perf_counter()
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    assert proc.stdout is not None
    for line in proc.stdout:
        if line.startswith("SHOWN"):
            wall = time.perf_counter() - t0
            reported = float(line.split()[1])
            break
    else:
        proc.wait(30)
        raise RuntimeError(f"{cmd[0]} exited {proc.returncode} without reporting SHOWN")
    proc.wait(30)
    return wall, reported


def compare_startup(frozen: Path, env: dict[str, str], runs: int) -> dict:
    source_cmd = [sys.executable, "-m", "assistant_app"]
    frozen_cmd = [str(frozen)]
    time_to_shown(frozen_cmd, env)  # warm-up: first start creates the database and fills the page cache
    time_to_shown(source_cmd, env)
    frozen_runs, source_runs, frozen_self, source_self = [], [], [], []
    for _ in range(runs):
        wall, own = time_to_shown(frozen_cmd, env)
        frozen_runs.append(wall)
        frozen_self.append(own)
        wall, own = time_to_shown(source_cmd, env)
        source_runs.append(wall)
        source_self.append(own)
    f_med, s_med = statistics.median(frozen_runs), statistics.median(source_runs)
    return {
        "frozen_s_median": round(f_med, 3),
        "source_s_median": round(s_med, 3),
        "ratio": round(f_med / s_med, 2),
        "budget_ratio": BUDGET_RATIO,
        "frozen_reported_s_median": round(statistics.median(frozen_self), 3),
        "source_reported_s_median": round(statistics.median(source_self), 3),
        "frozen_s": [round(x, 3) for x in frozen_runs],
        "source_s": [round(x, 3) for x in source_runs],
        "runs": runs,
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--deb", type=Path, help="measure this .deb instead of building one")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="aa-bench-package-") as tmp_name:
        tmp = Path(tmp_name)
        build_s = None
        if args.deb:
            deb = args.deb.resolve()
            tgz = next(iter(sorted(deb.parent.glob("assistant-app-*-linux-*.tar.gz"))), None)
        else:
            deb, tgz, build_s = build(tmp / "dist")
        root = tmp / "root"
        subprocess.run(["dpkg-deb", "-x", str(deb), str(root)], check=True)  # exactly the files dpkg installs
        apparent, allocated, files = tree_size(root / "opt" / "assistant-app")
        frozen = root / "opt" / "assistant-app" / "assistant-app"

        env = {k: v for k, v in os.environ.items() if not k.startswith(("OPENAI_", "PYTHONPATH"))}
        env.update(
            ASSISTANT_APP_HOME=str(tmp / "home"),
            ASSISTANT_APP_EXIT_AFTER_SHOWN="1",
            QT_QPA_PLATFORM="offscreen",
            OPENAI_API_KEY="sk-bench",
            OPENAI_BASE_URL="http://127.0.0.1:9/v1",
            PYTHON_KEYRING_BACKEND="keyring.backends.null.Keyring",
        )
        result = {
            "installed_bundle": {
                "mb": round(apparent / 1e6, 1),
                "mib": round(apparent / 2**20, 1),
                "on_disk_mb": round(allocated / 1e6, 1),
                "files": files,
                "budget_mb": BUDGET_INSTALLED_MB,
            },
            "deb": {"mb": round(deb.stat().st_size / 1e6, 1), "budget_mb": BUDGET_DEB_MB, "file": deb.name},
            "tar_gz_mb": round(tgz.stat().st_size / 1e6, 1) if tgz else None,
            "build_s": round(build_s, 1) if build_s is not None else None,
            "startup_offscreen": compare_startup(frozen, env, args.runs),
        }
        if shutil.which("Xvfb"):
            from tests.e2e.harness import xvfb

            with xvfb() as display:
                result["startup_xcb"] = compare_startup(frozen, {**env, "DISPLAY": display, "QT_QPA_PLATFORM": "xcb"},
                                                        args.runs)  # fmt: skip
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
