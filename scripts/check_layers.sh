#!/usr/bin/env bash
# check_layers.sh - no source file includes a header of a layer above its own.
#
# Layers, from the bottom (README, Layout): physics <- engine <- output <- figures <- cli <- mpi.
# ui/ sits beside cli: it may use engine, output and figures, and nothing uses it but cli's
# main.c (the workbench is the program's front door). cuda/ uses physics only; the engine's
# CUDA backend calls it. Prints every upward include and exits 1 if there is one.
set -euo pipefail
cd "$(dirname "$0")/.."

# Folder of each project header, by file name (header names are unique across folders).
declare -A home
for f in physics/*.h src/*/*.h ui/*.h cuda/*.h; do home[$(basename "$f")]=$(dirname "$f"); done

# What each folder may include, besides itself.
declare -A allowed=(
    [physics]=""
    [cuda]="physics"
    [src/engine]="physics cuda"
    [src/output]="physics src/engine"
    [src/figures]="physics src/engine src/output"
    [ui]="physics src/engine src/output src/figures"
    [src/cli]="physics src/engine src/output src/figures ui"
    [src/mpi]="physics src/engine src/output src/figures src/cli"
)

bad=0
for f in physics/*.[ch] cuda/*.cu cuda/*.h src/*/*.[ch] ui/*.[ch]; do
    dir=$(dirname "$f")
    while read -r h; do
        to=${home[$h]:-}
        [ -z "$to" ] || [ "$to" = "$dir" ] && continue
        case " ${allowed[$dir]} " in
            *" $to "*) ;;
            *) echo "check_layers: $f includes $to/$h, a layer above $dir" >&2; bad=1 ;;
        esac
    done < <(sed -n 's/^#include "\([^"]*\)".*/\1/p' "$f")
done
# The workbench is reached only from the program's entry point.
for f in src/cli/*.c; do
    [ "$f" = src/cli/main.c ] && continue
    if grep -q '^#include "tui' "$f"; then echo "check_layers: $f includes the workbench" >&2; bad=1; fi
done
exit $bad
