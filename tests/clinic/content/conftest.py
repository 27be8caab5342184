"""Shared fixtures for the content-tool tests: a throwaway copy of the project to break and edit."""

from __future__ import annotations

from pathlib import Path

import pytest

from clinic.content.project import Project
from clinic.content.workcopy import copy_project


@pytest.fixture
def work_copy(tmp_path: Path) -> Project:
    """The project's content, data and code in a temporary folder; edit freely."""
    return copy_project(tmp_path / "project")
