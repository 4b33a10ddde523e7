#!/bin/sh
# Runs the C example examples-c/sync on two devices sharing one cloud: A syncs a new file up; B
# syncs (the file arrives cloud-only) and downloads it through the example; B's copy must equal A's.
#   sh tests/c/run_sync_example.sh <path of the built sync program>
set -eu
sync=$1
work=$(mktemp -d "${TMPDIR:-/tmp}/ohfile-sync-example-XXXXXX")
trap 'rm -rf "$work"' EXIT
bundle=com.example.notes
folder=apps/$bundle/sandbox/data/storage/el2/cloud

for dev in a b; do
  mkdir -p "$work/$dev/$folder"
  printf '{"cloud": "%s/cloud"}' "$work" >"$work/$dev/device.json"
  printf '{}' >"$work/$dev/apps/$bundle/bundle.json"
done
mkdir -p "$work/a/$folder/notes"
head -c 300000 /dev/urandom >"$work/a/$folder/notes/day one.bin"

run() { # the coreutils timeout, when there is one, turns a hang into a failure
  if command -v timeout >/dev/null 2>&1; then timeout 120 "$sync" "$@"; else "$sync" "$@"; fi
}
run "$work/a" "$bundle" >"$work/a.out"
grep -q '^sync: completed$' "$work/a.out"
if [ -e "$work/b/$folder/notes/day one.bin" ]; then echo "B has the file before syncing" >&2; exit 1; fi
run "$work/b" "$bundle" >"$work/b-sync.out"
grep -q '^sync: completed$' "$work/b-sync.out"
if [ -e "$work/b/$folder/notes/day one.bin" ]; then echo "the sync wrote a local file for a cloud-only entry" >&2; exit 1; fi
run "$work/b" "$bundle" "file://$bundle/data/storage/el2/cloud/notes/day%20one.bin" >"$work/b.out"
grep -q 'day%20one.bin: done, 300000 bytes$' "$work/b.out"
cmp "$work/a/$folder/notes/day one.bin" "$work/b/$folder/notes/day one.bin"
echo "sync example: ok"
