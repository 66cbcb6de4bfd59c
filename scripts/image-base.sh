#!/bin/sh
# The local Debian bookworm base `make image` builds the Dockerfile FROM (no container
# registry is needed):
#
#   scripts/image-base.sh TARBALL IMAGE
#
# When TARBALL is missing, mmdebstrap builds a minbase root file system with python3,
# python3-venv and ca-certificates from the Debian repositories configured in this machine's
# apt sources (read at run time with `apt-get indextargets`: bookworm, bookworm-updates and
# bookworm-security as configured), with merged /usr but without the usrmerge package (and
# the perl it pulls in), and without manuals, documentation (copyright files kept) or
# translations, as debian:bookworm-slim is cut. The tarball is kept (make image keeps it
# under the git-ignored .cache/), so later builds skip this step; without a tarball, an IMAGE
# already in podman's store is used as it is. podman imports the tarball as IMAGE when the
# store lacks IMAGE or the tarball was just built. Needs root, podman and
# mmdebstrap (apt-get install podman runc mmdebstrap uidmap).
set -eu

usage() { echo "usage: $0 TARBALL IMAGE" >&2; exit 2; }
die() { echo "image-base: error: $*" >&2; exit 2; }
[ $# -eq 2 ] || usage
tarball=$1 image=$2
suite=bookworm

[ "$(id -u)" -eq 0 ] || die "needs root (mmdebstrap and rootful podman)"
for tool in podman mmdebstrap apt-get; do
    command -v "$tool" >/dev/null \
        || die "$tool not found; install with: apt-get install podman runc mmdebstrap uidmap"
done

if [ ! -f "$tarball" ] && podman image exists "$image"; then
    # A clean clone on a machine that built the base before (CI here): the store has it
    echo "image-base: $image is in podman's image store; not rebuilding it"
    exit 0
fi
built=no
if [ ! -f "$tarball" ]; then
    # One "deb URI SUITE COMPONENT" line per configured repository of this Debian release
    sources=$(apt-get indextargets --format '$(TARGET_OF) $(REPO_URI) $(RELEASE) $(COMPONENT)' \
        'Identifier: Packages' | grep -E "^deb [^ ]+ $suite(-updates|-security)? " | sort -u)
    [ -n "$sources" ] \
        || die "no Debian $suite repository in this machine's apt sources (/etc/apt/sources.list*)"
    echo "image-base: building $tarball from:" && echo "$sources" | sed 's/^/    /'
    mkdir -p "$(dirname "$tarball")"
    part=$tarball.part.$$  # renamed when complete: an interrupted build leaves no tarball
    trap 'rm -f "$part"' EXIT
    echo "$sources" | mmdebstrap --quiet --variant=minbase --format=tar \
        --include=python3,python3-venv,ca-certificates \
        --hook-dir=/usr/share/mmdebstrap/hooks/merged-usr \
        --dpkgopt='path-exclude=/usr/share/man/*' \
        --dpkgopt='path-exclude=/usr/share/info/*' \
        --dpkgopt='path-exclude=/usr/share/locale/*' \
        --dpkgopt='path-exclude=/usr/share/doc/*' \
        --dpkgopt='path-include=/usr/share/doc/*/copyright' \
        "$suite" "$part" -
    mv "$part" "$tarball"
    built=yes
fi
if [ "$built" = yes ] || ! podman image exists "$image"; then
    podman import --quiet "$tarball" "$image" >/dev/null
    echo "image-base: imported $tarball as $image"
fi
