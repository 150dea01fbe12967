#!/bin/sh
# Install uv-drive-guard for the current user (no root): the program with `uv tool install`
# (or `pipx install` where there is no uv), its menu entry and icon under ~/.local/share, and
# start at login with `uv-drive-guard autostart enable` (--systemd: a systemd user unit).
#
#   sh installers/linux/install.sh                       # the checkout this script sits in
#   sh installers/linux/install.sh --from ~/src/uv-drive-guard        # another checkout
#   sh installers/linux/install.sh --from ./uv_drive_guard-0.1.0-py3-none-any.whl
#   sh installers/linux/install.sh --gtk                 # also PyGObject, for XEmbed-only trays
#
# The tray menu needs nothing more on desktops whose tray shows StatusNotifierItems (KDE, XFCE,
# GNOME with the AppIndicator extension, Cinnamon, MATE, Budgie, LXQt). --gtk adds the `gtk`
# extra, PyGObject, for trays that only dock XEmbed icons (trayer, stalonetray); it compiles
# against the system's GLib and cairo headers, so it is never installed unasked.
#
# Offline: put the wheel next to the wheels it depends on (`pip wheel -w wheels .`) and
# pass the wheel with --from: that folder is searched for the dependencies too.
#
# Like the program itself, this script never runs anything from a drive: uv and pipx are used
# only from a fixed disk, and the installed program is called by its absolute path.
set -eu

NAME="uv-drive-guard"
SIZES="16 24 32 48 64 128 256 512"

say() { printf '%s\n' "$*"; }
die() { printf 'install.sh: %s\n' "$*" >&2; exit 1; }

usage() {
    cat <<EOF
usage: install.sh [--from PATH] [--gtk] [--systemd | --no-autostart]

  --from PATH      install this checkout or wheel instead of the checkout the script sits in
  --gtk            also install PyGObject (the gtk extra) for trays that only show XEmbed
                   icons, such as trayer; it builds from source (C compiler, GLib and cairo headers)
  --systemd        start at login through a systemd user unit (graphical-session.target)
                   instead of an XDG autostart entry
  --no-autostart   do not start uv-drive-guard at login
EOF
}

from=""
extras=""
autostart=yes
while [ "$#" -gt 0 ]; do
    case "$1" in
        --from) [ "$#" -ge 2 ] || die "--from needs a path"; from="$2"; shift 2 ;;
        --from=*) from="${1#--from=}"; shift ;;
        --gtk) extras="[gtk]"; shift ;;
        --systemd) autostart=systemd; shift ;;
        --no-autostart) autostart=no; shift ;;
        -h | --help) usage; exit 0 ;;
        *) usage >&2; die "unknown argument: $1" ;;
    esac
done

here=$(CDPATH='' cd -- "$(dirname -- "$0")" && pwd -P)
template="$here/$NAME.desktop"
[ -f "$template" ] || die "$template is missing: run this script from installers/linux/ of a checkout"

# Without --from, the checkout the script sits in (uv-drive-guard is not on PyPI yet).
if [ -z "$from" ]; then
    checkout=$(CDPATH='' cd -- "$here/../.." && pwd -P)
    grep -q '^name = "uv-drive-guard"$' "$checkout/pyproject.toml" 2>/dev/null ||
        die "$checkout is not a checkout of $NAME: pass --from PATH (a checkout or a wheel)"
    from="$checkout"
fi

# Mount points of external drives (as the program's own scan counts them).
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
        /*) ;;
        *) return 0 ;;
    esac
    if on_drive "$found"; then
        say "not using $found: it is on an external drive" >&2
        return 0
    fi
    printf '%s\n' "$found"
}

# A file:// URL for an absolute path (PEP 508 direct reference; % and space escaped).
file_url() {
    printf 'file://%s\n' "$1" | sed -e 's/%/%25/g' -e 's/ /%20/g'
}

# --- the package to install -------------------------------------------------
links=""
[ -e "$from" ] || die "no such file or directory: $from"
case "$from" in
    *\'* | *\"*) die "a path with quotes is not supported: $from" ;;
esac
if [ -d "$from" ]; then
    from=$(CDPATH='' cd -- "$from" && pwd -P)
    [ -f "$from/pyproject.toml" ] || die "$from is not a checkout of $NAME (no pyproject.toml)"
else
    case "$from" in
        *.whl) ;;
        *) die "--from takes a checkout directory or a .whl file: $from" ;;
    esac
    from="$(CDPATH='' cd -- "$(dirname -- "$from")" && pwd -P)/$(basename -- "$from")"
    links=$(dirname -- "$from")
fi
spec="${NAME}${extras} @ $(file_url "$from")"

# --- install the program ----------------------------------------------------
uv=$(find_tool uv)
pipx=""
[ -n "$uv" ] || pipx=$(find_tool pipx)
if [ -n "$uv" ]; then
    say "Installing $spec with $uv"
    if [ -n "$links" ]; then
        "$uv" tool install --reinstall-package "$NAME" --find-links "$links" "$spec"
    else
        "$uv" tool install --reinstall-package "$NAME" "$spec"
    fi
    bin_dir=$("$uv" tool dir --bin)
    python="$("$uv" tool dir)/$NAME/bin/python"
elif [ -n "$pipx" ]; then
    say "Installing $spec with $pipx"
    if [ -n "$links" ]; then
        "$pipx" install --force --pip-args="--find-links='$links'" "$spec"
    else
        "$pipx" install --force "$spec"
    fi
    bin_dir=$("$pipx" environment --value PIPX_BIN_DIR 2>/dev/null || printf '%s\n' "$HOME/.local/bin")
    venvs=$("$pipx" environment --value PIPX_LOCAL_VENVS 2>/dev/null ||
        printf '%s\n' "${PIPX_HOME:-$HOME/.local/share/pipx}/venvs")
    python="$venvs/$NAME/bin/python"
else
    die "neither uv nor pipx was found: install uv (https://docs.astral.sh/uv/) or pipx, then run this again"
fi

exe="$bin_dir/$NAME"
[ -x "$exe" ] || die "the installation did not produce $exe"
[ -x "$python" ] || die "the installation's Python is not where expected: $python"
icons=$("$python" -c 'from uv_drive_guard.app.icons import icon_dir; print(icon_dir())')

# --- menu entry and icons ---------------------------------------------------
data="${XDG_DATA_HOME:-$HOME/.local/share}"
apps="$data/applications"
hicolor="$data/icons/hicolor"

for size in $SIZES; do
    source="$icons/app-$size.png"
    [ -f "$source" ] || continue
    target="$hicolor/${size}x$size/apps"
    mkdir -p "$target"
    cp "$source" "$target/$NAME.png.tmp"
    mv -f "$target/$NAME.png.tmp" "$target/$NAME.png"
done

# The entry runs the installed program by absolute path: a login session's PATH may lack
# ~/.local/bin. Exec is quoted as the Desktop Entry spec says (reserved characters inside double
# quotes, with " ` $ \ escaped), then \ doubled and % written %% like every string value.
mkdir -p "$apps"
EXE="$exe" awk '
    # Character by character: awk dialects disagree on backslashes in gsub replacements.
    function esc(s, set, out,   i, c) {
        out = ""
        for (i = 1; i <= length(s); i++) {
            c = substr(s, i, 1)
            out = out (index(set, c) ? "\\" : "") c
        }
        return out
    }
    function exec_arg(s,   q) {
        q = s
        if (s ~ /[ \t"\047\\><~|&;$*?#()`]/) q = "\"" esc(s, "\"`$\\") "\""
        q = esc(q, "\\")
        gsub(/%/, "%%", q)
        return q
    }
    /^Exec=/    { print "Exec=" exec_arg(ENVIRON["EXE"]) " run"; next }
    /^TryExec=/ { print "TryExec=" esc(ENVIRON["EXE"], "\\"); next }
    { print }
' "$template" >"$apps/$NAME.desktop.tmp"
mv -f "$apps/$NAME.desktop.tmp" "$apps/$NAME.desktop"

if command -v update-desktop-database >/dev/null 2>&1; then
    update-desktop-database "$apps" >/dev/null 2>&1 || true
fi
if command -v gtk-update-icon-cache >/dev/null 2>&1 && [ -f "$hicolor/index.theme" ]; then
    gtk-update-icon-cache -f -t "$hicolor" >/dev/null 2>&1 || true
fi
say "Menu entry: $apps/$NAME.desktop"
say "Icons:      $hicolor/<size>/apps/$NAME.png"

# --- start at login ---------------------------------------------------------
if [ "$autostart" = yes ]; then
    "$exe" autostart enable || die "could not enable start at login; run '$exe autostart enable' to see why"
elif [ "$autostart" = systemd ]; then
    # Writes ~/.config/systemd/user/uv-drive-guard.service (as installers/linux/ has it, with
    # this program's path) and enables it; see that file about DISPLAY and the session bus.
    "$exe" autostart enable --systemd ||
        die "could not enable start at login; run '$exe autostart enable --systemd' to see why"
else
    say "Start at login not enabled; '$exe autostart enable' turns it on."
fi

say ""
say "Installed: $exe"
case ":$PATH:" in
    *":$bin_dir:"*) ;;
    *) say "Note: $bin_dir is not on your PATH; add it to run '$NAME scan' from a terminal." ;;
esac
say "Start it now from your application menu or with: $exe run &"
