#!/usr/bin/env bash
# Install the native voices on Debian or Ubuntu: RHVoice (Russian, Ukrainian) and MBROLA
# with hn1 (Korean). They live in Debian's contrib and non-free sections (Ubuntu's
# universe and multiverse), which this enables with a sources entry of its own, saying
# so. It never fails: where it cannot install (not root, another system, no network), it
# says what it could not do, and the project speaks those locales with the fallback voice
# its configuration names (espeak-ng), and says so at the end of every build.
#   bash scripts/voices.sh           install what is missing
#   bash scripts/voices.sh --check   only say what is missing (exit 1 if something is)
set -uo pipefail

packages=(rhvoice rhvoice-russian rhvoice-ukrainian mbrola mbrola-hn1)
missing=()
command -v RHVoice-test >/dev/null 2>&1 || missing+=(rhvoice)
[ -e /usr/share/RHVoice/voices/aleksandr ] || missing+=(rhvoice-russian)
[ -e /usr/share/RHVoice/voices/anatol ] || missing+=(rhvoice-ukrainian)
command -v mbrola >/dev/null 2>&1 || missing+=(mbrola)
[ -e /usr/share/mbrola/hn1/hn1 ] || missing+=(mbrola-hn1)
if [ ${#missing[@]} -eq 0 ]; then
    echo "native voices: installed (${packages[*]})"
    exit 0
fi
say_fallback() {
    echo "native voices: not installed ($1): the locales configured with them fall back" \
         "to espeak-ng, and every build says so. To install them: sudo bash" \
         "scripts/voices.sh" >&2
}
if [ "${1:-}" = "--check" ]; then
    echo "native voices: missing ${missing[*]}" >&2
    exit 1
fi
if [ "$(id -u)" != 0 ] || ! command -v apt-get >/dev/null 2>&1; then
    say_fallback "this needs root and apt-get"
    exit 0
fi
. /etc/os-release 2>/dev/null || true
entry=/etc/apt/sources.list.d/broadcast-voices.sources
if [ ! -e "$entry" ] && ! apt-cache policy mbrola-hn1 2>/dev/null | grep -q Candidate:.[0-9]; then
    if [ "${ID:-}" = debian ]; then
        suites="${VERSION_CODENAME} ${VERSION_CODENAME}-updates"
        uri=$(grep -hoE '^(URIs:|deb) +https?://[^ ]+' /etc/apt/sources.list.d/*.sources \
              /etc/apt/sources.list 2>/dev/null | grep -v security | head -1 | awk '{print $2}')
        components="contrib non-free"
    elif [ "${ID:-}" = ubuntu ]; then
        suites="${VERSION_CODENAME} ${VERSION_CODENAME}-updates"
        uri=$(grep -hoE '^(URIs:|deb) +https?://[^ ]+' /etc/apt/sources.list.d/*.sources \
              /etc/apt/sources.list 2>/dev/null | grep -v security | head -1 | awk '{print $2}')
        components="universe multiverse"
    else
        say_fallback "not Debian or Ubuntu"
        exit 0
    fi
    echo "native voices: enabling the ${components} sections in $entry"
    {
        echo "# Added by scripts/voices.sh: the native voices (RHVoice, MBROLA hn1)"
        echo "Types: deb"
        echo "URIs: ${uri:-http://deb.debian.org/debian}"
        echo "Suites: ${suites}"
        echo "Components: ${components}"
        [ -e /usr/share/keyrings/debian-archive-keyring.gpg ] && [ "${ID}" = debian ] && \
            echo "Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg"
    } > "$entry"
fi
echo "native voices: installing ${packages[*]}"
if apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq \
        --no-install-recommends "${packages[@]}" >/dev/null; then
    echo "native voices: installed (${packages[*]})"
else
    say_fallback "apt-get could not install them"
fi
exit 0
