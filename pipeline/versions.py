"""Installed packages' versions, for cache keys, without ``importlib.metadata`` where the
package's own install says it.

``importlib.metadata`` costs a process about 30 ms to import and then searches every
folder of ``sys.path`` for the package. Every build reads two versions (the voice's and
the MP3 encoder's) for its cache keys, so that cost was about a tenth of a rebuild
after a one-paragraph edit. pip installs a module's ``NAME-VERSION.dist-info`` folder
beside it (the wheel format's rule); that folder's name is read here, and
``importlib.metadata`` is asked only where there is not exactly one.
"""

from __future__ import annotations

import functools
import os
import re

__all__ = ["installed_version"]


@functools.lru_cache(maxsize=None)
def installed_version(dist: str, module_file: str | None = None) -> str:
    """The version of the installed distribution ``dist``, found beside ``module_file`` (a
    module of it, as ``module.__file__``); importlib.metadata's answer otherwise
    (PackageNotFoundError if it is not installed)."""
    if module_file:
        folder = os.path.dirname(os.path.abspath(module_file))
        # A package's module lies one folder deeper than its dist-info.
        for where in (folder, os.path.dirname(folder)):
            found = _dist_info_versions(where, dist)
            if len(found) == 1:
                return found[0]
    import importlib.metadata
    return importlib.metadata.version(dist)


def _dist_info_versions(folder: str, dist: str) -> list[str]:
    """The versions of ``dist`` whose dist-info folders ``folder`` holds (the name
    normalized as the wheel format writes it: runs of ``-_.`` as one ``_``, any case)."""
    name = re.sub(r"[-_.]+", "_", dist).lower()
    try:
        entries = os.listdir(folder)
    except OSError:
        return []
    found = []
    for entry in entries:
        if entry.endswith(".dist-info"):
            stem = entry[: -len(".dist-info")]
            head, sep, version = stem.partition("-")
            if sep and re.sub(r"[-_.]+", "_", head).lower() == name and version:
                found.append(version)
    return found
