#!/usr/bin/env bash
# deps.sh - make sure the Debian packages bragg needs are installed.
#
#   scripts/deps.sh build   what `make` needs (compiler, libraries)
#   scripts/deps.sh test    the above plus the test framework and tools the tests drive
#   scripts/deps.sh check   the above plus clang and its libFuzzer runtime (`make check` fuzzes)
#
# Installs what is missing with apt-get when run as root (or with password-less sudo);
# otherwise prints the exact command to run and exits 1. Prints nothing when all is there.
set -euo pipefail

build_pkgs=(build-essential pkg-config libncurses-dev libpng-dev libcairo2-dev librandom123-dev libcjson-dev
            libmcpl-dev)
test_pkgs=(libcriterion-dev tmux libopenmpi-dev openmpi-bin libxml2-dev python3-numpy)
# clang's libFuzzer runtime (libclang_rt.fuzzer) is only recommended by clang, so it is named:
# Debian 12's clang is clang-14.
check_pkgs=(clang libclang-rt-14-dev)

want=("${build_pkgs[@]}")
case "${1:-build}" in
    test) want+=("${test_pkgs[@]}") ;;
    check) want+=("${test_pkgs[@]}" "${check_pkgs[@]}") ;;
esac

if ! command -v dpkg-query >/dev/null 2>&1; then
    echo "deps: not a Debian-like system; make sure these (or your distribution's equivalents)" >&2
    echo "deps: are installed: ${want[*]}" >&2
    exit 0
fi

missing=()
for p in "${want[@]}"; do
    if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
        missing+=("$p")
    fi
done
[ ${#missing[@]} -eq 0 ] && exit 0

echo "deps: installing missing Debian packages: ${missing[*]}" >&2
if [ "$(id -u)" = 0 ]; then
    sudo=()
elif command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then
    sudo=(sudo -n)
else
    echo "deps: cannot install without root. Run:" >&2
    echo "    sudo apt-get update && sudo apt-get install -y ${missing[*]}" >&2
    exit 1
fi
export DEBIAN_FRONTEND=noninteractive
"${sudo[@]}" apt-get update -qq
"${sudo[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
echo "deps: installed ${missing[*]}" >&2
