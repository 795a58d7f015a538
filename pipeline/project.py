"""A content project on disk: its configuration, campaigns and locales."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from .catalogs import catalog_locales, load_po, parse_locale, po_path
from .config import Config, load_config
from .sources import Campaign, load_campaigns


@dataclass
class Project:
    config: Config
    campaigns: list[Campaign]
    locales: list[str]

    @property
    def root(self) -> Path:
        return self.config.root

    def validate_catalogs(self) -> None:
        """Read every catalog strictly before any is written: one bad file, no writes."""
        for c in self.campaigns:
            for locale in self.locales:
                path = po_path(self.config.locales_dir, locale, c.name)
                if path.exists():
                    load_po(path)


def open_project(root: Path, campaign: str | None = None,
                 locales: list[str] | None = None) -> Project:
    """Load configuration and campaigns, validated; ``locales`` narrows the locales."""
    config = load_config(Path(root))
    campaigns = load_campaigns(config.messages_dir, config.root, campaign)
    known = list(config.locales)
    for code in catalog_locales(config.locales_dir):
        if code not in known:
            known.append(code)
    if locales:
        for code in locales:
            parse_locale(code)
        known = list(dict.fromkeys(locales))
    return Project(config, campaigns, known)
