#!/bin/sh
# Runs the C example examples-c/clone on two sample devices (two apps on A, the same apps freshly
# installed on B) and checks that B's sandboxes now equal A's: content (diff -r), and each entry's
# permission bits, and each file's size and mtime.
#   sh tests/c/run_clone_example.sh <path of the built clone program>
set -eu
clone=$1
work=$(mktemp -d "${TMPDIR:-/tmp}/ohfile-clone-example-XXXXXX")
trap 'rm -rf "$work"' EXIT
a=$work/a
b=$work/b
apps="com.example.notes com.example.photos"

install() { # <root> <bundle>: an app that allows backup, with an empty sandbox
  mkdir -p "$1/apps/$2/sandbox"
  printf '{"versionCode": 1000000, "versionName": "1.0.0"}' >"$1/apps/$2/bundle.json"
  printf '{"allowToBackupRestore": true}' >"$1/apps/$2/backup_config.json"
}
for app in $apps; do
  install "$a" "$app"
  install "$b" "$app"
done

files=data/storage/el2/base/files
notes=$a/apps/com.example.notes/sandbox
mkdir -p "$notes/$files/drafts" "$notes/$files/empty" "$notes/data/storage/el2/database"
printf 'milk\neggs\n' >"$notes/$files/list.txt"
printf '# draft\n' >"$notes/$files/drafts/one.md"
chmod 600 "$notes/$files/drafts/one.md"
head -c 3145745 /dev/urandom >"$notes/data/storage/el2/database/notes.db" # > 2 MiB: its own fd
photos=$a/apps/com.example.photos/sandbox
mkdir -p "$photos/$files/album"
for i in 1 2 3; do head -c $((i * 70000)) /dev/urandom >"$photos/$files/album/photo$i.jpg"; done
chmod 640 "$photos/$files/album/photo2.jpg"
find "$a/apps" -path '*/sandbox/*' -type f -exec touch -d '2021-02-03 04:05:06' {} +

# The coreutils timeout, when there is one, turns a hang into a failure.
if command -v timeout >/dev/null 2>&1; then
  timeout 300 "$clone" "$a" "$b" $apps
else
  "$clone" "$a" "$b" $apps
fi

listing() { # <sandbox>: every entry with its mode; files with size and mtime (".backup" aside)
  (cd "$1" && find . -name .backup -prune -o -type f -printf '%p %m %s %T@\n' -o -type d -printf '%p %m\n' | LC_ALL=C sort)
}
for app in $apps; do
  diff -r -x .backup "$a/apps/$app/sandbox" "$b/apps/$app/sandbox"
  listing "$a/apps/$app/sandbox" >"$work/a.list"
  listing "$b/apps/$app/sandbox" >"$work/b.list"
  diff "$work/a.list" "$work/b.list"
done
echo "clone example: ok ($(wc -l <"$work/a.list") entries in the last app)"
