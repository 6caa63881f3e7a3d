#!/usr/bin/env bash
# prev-images.sh REV DIR: build `make images` of commit REV (the upgrade drill's "previous
# release") into DIR, from a temporary detached worktree; skipped when DIR already holds REV's
# images. The tag is REV's short hash, so it never equals the working tree's.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
rev=$(git -C "$ROOT" rev-parse --short "$1"); dir=$2
if grep -qx "IMAGE_VERSION=$rev" "$dir/images.env" 2>/dev/null; then exit 0; fi
wt=$(mktemp -d "${TMPDIR:-/tmp}/realtime-prev.XXXXXX")
trap 'git -C "$ROOT" worktree remove --force "$wt" >/dev/null 2>&1 || rm -rf "$wt"' EXIT
git -C "$ROOT" worktree add --detach "$wt" "$rev" >/dev/null
rm -rf "$dir"
make -C "$wt" --no-print-directory images IMAGES_DIR="$dir" IMAGE_VERSION="$rev" >/dev/null
grep -q "IMAGE_VERSION=$rev" "$dir/images.env"
echo "previous images ($rev) in $dir"
