#!/bin/sh
# Build dist/uv-drive-guard.app on macOS: a menu-bar app (no Dock icon) that runs the daemon.
#
#   sh installers/macos/build.sh            # from the repository root, or from anywhere
#   cp -R dist/uv-drive-guard.app /Applications/
#   /Applications/uv-drive-guard.app/Contents/MacOS/uv-drive-guard autostart enable
#
# Why a bundle: macOS shows notifications with buttons (the fix button) only for an app bundle
# with a bundle identifier; desktop-notifier uses the UserNotifications framework in any bundle
# and, for one whose signature it cannot verify, only warns "notifications may fail"
# (desktop_notifier/main.py get_backend_class). Started from a plain Python, the daemon still
# runs, but notifications fall back to none (the tray menu still has everything). The build signs
# ad hoc (`--sign -`) so that the bundle's signature verifies on the machine that built it; to
# hand the app to others, sign with a Developer ID and notarize it (not done here), or
# Gatekeeper will refuse it.
#
# The build uses a virtual environment in build/macos-venv with the package and PyInstaller;
# PYTHON picks the interpreter (default python3; it decides the architecture of the app).
set -eu

here=$(CDPATH='' cd -- "$(dirname -- "$0")" && pwd -P)
root=$(CDPATH='' cd -- "$here/../.." && pwd -P)
cd "$root"

python="${PYTHON:-python3}"
venv="$root/build/macos-venv"
"$python" -m venv "$venv"
"$venv/bin/python" -m pip install -q --upgrade pip
"$venv/bin/python" -m pip install -q "$root" pyinstaller

"$venv/bin/pyinstaller" --noconfirm --clean \
    --distpath "$root/dist" --workpath "$root/build/macos" \
    "$here/uv-drive-guard.spec"

app="$root/dist/uv-drive-guard.app"
codesign --force --deep --sign - "$app"
codesign --verify --deep --strict "$app"
/usr/libexec/PlistBuddy -c 'Print :LSUIElement' "$app/Contents/Info.plist" >/dev/null

"$app/Contents/MacOS/uv-drive-guard" --version
printf '%s\n' "Built and signed (ad hoc): $app" \
    "Install: cp -R '$app' /Applications/ && /Applications/uv-drive-guard.app/Contents/MacOS/uv-drive-guard autostart enable"
