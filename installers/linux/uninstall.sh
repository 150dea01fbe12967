#!/bin/sh
# Remove what install.sh put in place: start at login, the menu entry and icons, and the
# program (`uv tool uninstall` or `pipx uninstall`). Your settings, the fix journal and the log
# stay; the last lines say where they are.
#
# Fixes you applied stay applied: run `uv-drive-guard undo` (see `uv-drive-guard history`)
# before this script if you want them undone; the journal they are undone from is kept.
set -eu

NAME="uv-drive-guard"
SIZES="16 24 32 48 64 128 256 512"

say() { printf '%s\n' "$*"; }

case "${1:-}" in
    "") ;;
    -h | --help) say "usage: uninstall.sh"; exit 0 ;;
    *) say "uninstall.sh: unknown argument: $1" >&2; exit 1 ;;
esac

on_drive() {
    case "$1" in
        /media/* | /run/media/* | /mnt/* | /Volumes/*) return 0 ;;
        *) return 1 ;;
    esac
}

# An installer tool found on PATH, absolute and not on a drive; empty if none fits.
find_tool() {
    found=$(command -v "$1" 2>/dev/null || true)
    case "$found" in
        /*) on_drive "$found" || printf '%s\n' "$found" ;;
    esac
}

uv=$(find_tool uv)
pipx=$(find_tool pipx)
config="${XDG_CONFIG_HOME:-$HOME/.config}"
data="${XDG_DATA_HOME:-$HOME/.local/share}"
state="${XDG_STATE_HOME:-$HOME/.local/state}"

# --- start at login: asked of the program while it is still installed ---------
uv_bin=""
[ -z "$uv" ] || uv_bin=$("$uv" tool dir --bin 2>/dev/null || true)
pipx_bin=""
[ -z "$pipx" ] || pipx_bin=$("$pipx" environment --value PIPX_BIN_DIR 2>/dev/null || true)
exe=""
for dir in "$uv_bin" "$pipx_bin" "$HOME/.local/bin"; do
    if [ -n "$dir" ] && [ -x "$dir/$NAME" ]; then
        exe="$dir/$NAME"
        break
    fi
done
if [ -n "$exe" ] && "$exe" autostart disable; then
    :
else
    # No program left to ask: remove the autostart entry and unit it writes, if they are ours.
    entry="$config/autostart/$NAME.desktop"
    if [ -f "$entry" ] && grep -q "^Name=$NAME\$" "$entry"; then
        rm -f "$entry"
        say "Removed $entry"
    fi
    unit="$config/systemd/user/$NAME.service"
    if [ -f "$unit" ]; then
        if command -v systemctl >/dev/null 2>&1; then
            systemctl --user disable "$NAME.service" >/dev/null 2>&1 || true
        fi
        rm -f "$unit"
        say "Removed $unit"
    fi
fi

# --- menu entry and icons ---------------------------------------------------
apps="$data/applications"
hicolor="$data/icons/hicolor"
rm -f "$apps/$NAME.desktop"
for size in $SIZES; do
    rm -f "$hicolor/${size}x$size/apps/$NAME.png"
done
if command -v update-desktop-database >/dev/null 2>&1 && [ -d "$apps" ]; then
    update-desktop-database "$apps" >/dev/null 2>&1 || true
fi
if command -v gtk-update-icon-cache >/dev/null 2>&1 && [ -f "$hicolor/index.theme" ]; then
    gtk-update-icon-cache -f -t "$hicolor" >/dev/null 2>&1 || true
fi
say "Removed the menu entry and icons"

# --- the program ------------------------------------------------------------
removed=no
if [ -n "$uv" ] && "$uv" tool list 2>/dev/null | grep -q "^$NAME "; then
    "$uv" tool uninstall "$NAME"
    removed=yes
fi
if [ -n "$pipx" ] && "$pipx" list --short 2>/dev/null | grep -q "^$NAME "; then
    "$pipx" uninstall "$NAME"
    removed=yes
fi
[ "$removed" = yes ] || say "$NAME was not installed with uv or pipx; nothing to uninstall there."

say ""
say "Kept (delete them yourself if you no longer want them):"
say "  settings: $config/$NAME/config.toml"
say "  journal of applied fixes (what 'undo' restores from): $state/$NAME/journal"
say "  remembered drives: $state/$NAME/drives.json"
say "  log: $state/$NAME/log/$NAME.log"
