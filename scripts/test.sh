#!/usr/bin/env bash
# Install everything the tests need, then run them: the README's test command.
#
# The tests judge the project with real tools: GNU gettext (msgfmt), ffmpeg/ffprobe (an
# independent loudness meter and format probe), minisign, mtools, dosfstools and fdisk (FAT
# images), Chromium (the review pages; a Korean font so that screenshots are legible),
# Festival with its Russian voice (the festival engine), and the native voices.
# They come from the system's packages; on Debian and Ubuntu, as root, this script
# installs the missing ones. Before the tests: ruff, mypy, and import-linter's contract
# that the stages import one way only.
set -euo pipefail
cd "$(dirname "$0")/.."

missing=()
command -v msgfmt >/dev/null 2>&1 || missing+=(gettext)
command -v ffprobe >/dev/null 2>&1 || missing+=(ffmpeg)
command -v minisign >/dev/null 2>&1 || missing+=(minisign)
command -v mdir >/dev/null 2>&1 || missing+=(mtools)
{ command -v fsck.fat || [ -x /usr/sbin/fsck.fat ]; } >/dev/null 2>&1 || missing+=(dosfstools)
{ command -v sfdisk || [ -x /usr/sbin/sfdisk ]; } >/dev/null 2>&1 || missing+=(fdisk)
command -v chromium >/dev/null 2>&1 || missing+=(chromium)
[ -e /usr/share/fonts/truetype/nanum ] || missing+=(fonts-nanum)
command -v text2wave >/dev/null 2>&1 || missing+=(festival)
[ -e /usr/share/festival/voices/russian ] || missing+=(festvox-ru)
if [ ${#missing[@]} -gt 0 ]; then
    if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
        echo "installing system packages: ${missing[*]}"
        apt-get update -qq
        DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
            "${missing[@]}" >/dev/null
    else
        echo "please install: ${missing[*]} (the tests use them as independent judges)" >&2
        exit 2
    fi
fi

# The native voices (RHVoice, MBROLA hn1; Debian's contrib and non-free sections), which
# the tests use for real: installed here, and required.
bash scripts/voices.sh
bash scripts/voices.sh --check || exit 2

# The optional engines and the speech judge are installed too: the tests use them for real.
python3 -m pip install --quiet --disable-pip-version-check -e '.[test,kokoro,asr,cluster]'
python3 -m ruff check pipeline tests scripts
python3 -m mypy
lint-imports
exec python3 -m pytest "$@"
