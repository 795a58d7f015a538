"""The names of a project's fixed files and folders, importing nothing: the build stamp
(:mod:`.stamp`) needs them before anything else is loaded; :mod:`.layout` builds on them."""

CONFIG_NAME = "broadcast.toml"
OUT_DIR = "audio_out"                  # rendered output, bundles, report.html
CACHE_DIR = ".cache"                   # inside OUT_DIR: the render cache
