"""What makes a build reproducible: every dependency pinned in the lock files, and a Dockerfile
that installs them before the source, from a base image pinned by digest, with a health check."""

from __future__ import annotations

import re
import tomllib

import pytest
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

from tests.utils.environment import ROOT

PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
_PIN = re.compile(r"^([A-Za-z0-9._-]+)==([^\s\\;]+)", re.MULTILINE)


def pins(lock_file: str) -> dict[str, str]:
    text = (ROOT / lock_file).read_text(encoding="utf-8")
    return {canonicalize_name(name): version for name, version in _PIN.findall(text)}


def requirements(*extras: str) -> list[Requirement]:
    listed = PYPROJECT["dependencies"] + [
        line for extra in extras for line in PYPROJECT["optional-dependencies"][extra]
    ]
    return [Requirement(line) for line in listed]


@pytest.mark.parametrize(
    ("lock_file", "extras"),
    [("requirements.lock", ("postgres",)), ("requirements-dev.lock", ("postgres", "test"))],
)
def test_the_lock_files_pin_every_dependency_within_its_range(lock_file, extras):
    pinned = pins(lock_file)
    for requirement in requirements(*extras):
        version = pinned.get(canonicalize_name(requirement.name))
        assert version is not None, f"{requirement.name} is not in {lock_file}: run make lock"
        assert requirement.specifier.contains(version), f"{requirement} but {lock_file}: {version}"


def test_the_container_gets_the_versions_ci_tests():
    tested = pins("requirements-dev.lock")
    assert {name: tested.get(name) for name in pins("requirements.lock")} == pins(
        "requirements.lock"
    )


def test_every_lock_line_carries_hashes():
    for lock_file in ("requirements.lock", "requirements-dev.lock"):
        text = (ROOT / lock_file).read_text(encoding="utf-8")
        assert text.count("==") == len(re.findall(r"==[^\n]*\\\n\s+--hash=sha256:", text))


def test_the_dockerfile_installs_locked_dependencies_before_the_source():
    lines = [line.strip() for line in (ROOT / "Dockerfile").read_text().splitlines()]
    [base] = [line for line in lines if line.startswith("FROM ")]
    [digest] = [line for line in lines if line.startswith("ARG PYTHON_DIGEST=")]
    assert base.endswith("@${PYTHON_DIGEST}")
    assert re.fullmatch(r"ARG PYTHON_DIGEST=sha256:[0-9a-f]{64}", digest)
    order = [
        next(i for i, line in enumerate(lines) if line.startswith(s))
        for s in (
            "COPY requirements.lock",
            "RUN pip install --require-hashes --no-deps -r requirements.lock",
            "COPY bot",
        )
    ]
    assert order == sorted(order)
    healthcheck = next(i for i, line in enumerate(lines) if line.startswith("HEALTHCHECK "))
    assert lines[healthcheck + 1] == 'CMD ["python", "-m", "bot", "health"]'


def test_compose_pins_every_image_by_digest():
    compose = (ROOT / "compose.yaml").read_text()
    images = re.findall(r"^\s+image: (\S+)$", compose, flags=re.MULTILINE)
    assert images
    assert all(re.search(r"@sha256:[0-9a-f]{64}$", image) for image in images)
    assert re.search(r"^\s+build: \.$", compose, flags=re.MULTILINE)  # built from the Dockerfile
