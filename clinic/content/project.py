"""Where the content tools find things: every path derives from one project root.

The commands default to this repository; tests and the edit-to-live benchmark pass the root of a
temporary working copy instead, so they never touch the editors' files.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[2]


@dataclass(frozen=True)
class Project:
    root: Path = REPO_ROOT

    @classmethod
    def at(cls, root: Path | str | None = None) -> Project:
        return cls(Path(root).resolve() if root else REPO_ROOT)

    @property
    def topics_dir(self) -> Path:
        return self.root / "content" / "topics"

    @property
    def article(self) -> Path:
        return self.root / "content" / "article.txt"

    @property
    def data_dir(self) -> Path:
        return self.root / "data"

    @property
    def terms(self) -> Path:
        return self.root / "content" / "terms.yml"

    @property
    def nlu_dir(self) -> Path:
        return self.data_dir / "nlu"

    @property
    def faq_data(self) -> Path:
        """Generated from the topic files by clinic.content.build (never hand-edited)."""
        return self.nlu_dir / "faq.yml"

    @property
    def domain(self) -> Path:
        return self.root / "domain.yml"

    @property
    def actions_dir(self) -> Path:
        return self.root / "actions"

    @property
    def models_dir(self) -> Path:
        return self.root / "models"

    @property
    def live_model(self) -> Path:
        """The model `make run` starts with; publish keeps it a copy of the newest model."""
        return self.models_dir / "clinic.tar.gz"

    @property
    def spacy_dir(self) -> Path:
        return self.root / "build" / "spacy_en_clinic"

    @property
    def preview_dir(self) -> Path:
        return self.root / "build" / "preview"

    @property
    def tracker_db(self) -> Path:
        return self.root / "var" / "tracker.db"

    def topic_files(self) -> list[Path]:
        return sorted(self.topics_dir.glob("*.yml"))

    def hand_written_nlu_files(self) -> list[Path]:
        return sorted(p for p in self.nlu_dir.glob("*.yml") if p.name != self.faq_data.name)

    def relative(self, path: Path) -> str:
        """`content/topics/x.yml` rather than an absolute path: what editors see in their editor."""
        try:
            return str(Path(path).resolve().relative_to(self.root))
        except ValueError:
            return str(path)
