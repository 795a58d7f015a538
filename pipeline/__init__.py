"""Broadcast content pipeline: YAML messages → gettext catalogs → broadcast-ready audio."""

__version__ = "0.1.0"
