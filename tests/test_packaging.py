"""Packaging: a built wheel carries the shipped study specs, and an installed (not editable) autotune loads them."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow

REPO = Path(__file__).resolve().parent.parent
#: What a build reads besides the package itself (pyproject's readme; the rest where present).
BUILD_FILES = ("pyproject.toml", "README.md", "setup.py", "setup.cfg", "MANIFEST.in", "LICENSE")

# Runs with -I (no PYTHONPATH, no cwd, no user site) and the install folder first on sys.path, so the
# repository and the editable install in the interpreter's site-packages cannot stand in for the wheel.
PROBE = """
import json, sys
sys.path.insert(0, sys.argv[1])
import autotune
from autotune.spec.study import shipped_specs
shipped = shipped_specs()
names = {name: autotune.load_spec(name).name for name in shipped}
autotune.load_spec("mlp-mnist")
print(json.dumps({"file": autotune.__file__, "shipped": {n: str(p) for n, p in shipped.items()}, "names": names}))
"""


def _run(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    result = subprocess.run(args, cwd=cwd, capture_output=True, text=True, timeout=180)
    assert result.returncode == 0, f"{' '.join(args)} failed:\n{result.stdout}\n{result.stderr}"
    return result


def test_wheel_ships_the_study_specs_and_installed_autotune_loads_them(tmp_path):
    repo_specs = sorted(p.name for p in (REPO / "studies").glob("*.yaml"))
    assert "mlp-mnist.yaml" in repo_specs

    # Build from a clean copy, so a stale build/ or *.egg-info in the checkout cannot leak into the wheel
    # and the build writes nothing into the checkout.
    src = tmp_path / "src"
    for folder in ("autotune", "studies"):  # studies/: the shipped specs, installed as autotune/studies
        shutil.copytree(REPO / folder, src / folder, ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
    for name in BUILD_FILES:
        if (REPO / name).is_file():
            shutil.copy2(REPO / name, src / name)
    wheels = tmp_path / "wheels"
    _run(
        sys.executable,
        "-m",
        "pip",
        "wheel",
        "--no-deps",
        "--disable-pip-version-check",
        "-q",
        "-w",
        str(wheels),
        str(src),
        cwd=tmp_path,
    )
    (wheel,) = wheels.glob("autotune-*.whl")

    with zipfile.ZipFile(wheel) as archive:
        in_wheel = sorted(
            n.rsplit("/", 1)[1] for n in archive.namelist() if n.startswith("autotune/studies/") and n.endswith(".yaml")
        )
        templates = sorted(n for n in archive.namelist() if n.startswith("autotune/templates/"))
    assert in_wheel == repo_specs
    # the report page's template (report_page.py renders it from the installed package)
    assert templates == [f"autotune/templates/{p.name}" for p in sorted((REPO / "autotune" / "templates").glob("*.j2"))]
    assert templates, "no report template in the wheel"

    target = tmp_path / "site"
    _run(
        sys.executable,
        "-m",
        "pip",
        "install",
        "--no-deps",
        "--no-index",
        "--disable-pip-version-check",
        "-q",
        "--target",
        str(target),
        str(wheel),
        cwd=tmp_path,
    )

    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    probe = _run(sys.executable, "-I", "-c", PROBE, str(target), cwd=elsewhere)
    found = json.loads(probe.stdout.strip().splitlines()[-1])
    assert Path(found["file"]).resolve().is_relative_to(target.resolve()), found["file"]
    assert sorted(f"{name}.yaml" for name in found["shipped"]) == repo_specs
    for name, path in found["shipped"].items():
        assert Path(path).resolve().is_relative_to(target.resolve()), path
        assert found["names"][name] == name
