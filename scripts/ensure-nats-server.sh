#!/usr/bin/env bash
# Find or install a nats-server that Troupe can use (2.10 or newer) and print
# its absolute path on stdout; everything else goes to stderr.
#
# Looks, in order, at: $NATS_SERVER_BIN, the project-local <repo>/.nats/bin/nats-server,
# nats-server on PATH. When none fits and apt-get is present, it downloads Debian's
# nats-server package from the trixie suite into a temporary apt state (the system's
# apt sources are not touched) and unpacks the binary into <repo>/.nats/bin/.
# The package comes from the Debian archive this machine's apt sources name (read
# by apt itself: sources.list one-line entries and deb822 .sources files alike),
# or from $TROUPE_NATS_DEBIAN_MIRROR when set; the script names no host of its own.
#
# Usage: bash scripts/ensure-nats-server.sh        (or: npm run nats-server)
set -euo pipefail

MIN_MAJOR=2
MIN_MINOR=10
DEBIAN_SUITE="${TROUPE_NATS_DEBIAN_SUITE:-trixie}"

repo_root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd -P)"
local_bin="$repo_root/.nats/bin/nats-server"

log() { printf '%s\n' "ensure-nats-server: $*" >&2; }

# Prints the version (e.g. 2.10.27) of the given binary, or nothing.
server_version() {
  local out
  out="$("$1" --version 2>/dev/null || true)"
  # "nats-server: v2.10.27"
  sed -n 's/.*v\([0-9][0-9]*\.[0-9][0-9]*\(\.[0-9][0-9]*\)\{0,1\}\).*/\1/p' <<<"$out" | head -n 1
}

# True when the binary runs and reports a version >= MIN_MAJOR.MIN_MINOR.
new_enough() {
  local bin="$1" version major minor
  [[ -x "$bin" ]] || return 1
  version="$(server_version "$bin")"
  [[ -n "$version" ]] || return 1
  major="${version%%.*}"
  minor="${version#*.}"
  minor="${minor%%.*}"
  if (( major > MIN_MAJOR )) || { (( major == MIN_MAJOR )) && (( minor >= MIN_MINOR )); }; then
    return 0
  fi
  return 1
}

# Prints, one per line and in apt's order, the URIs of the Debian main archives in
# this machine's apt sources: binary (deb) entries with the main component whose
# suite is a release itself, not -security, -updates, -backports or
# -proposed-updates. apt parses the sources (both formats, Enabled: no, APT_CONFIG).
debian_archive_uris() {
  apt-get indextargets --no-release-info --format '$(TARGET_OF) $(REPO_URI) $(RELEASE) $(COMPONENT)' 2>/dev/null |
    awk '$1 == "deb" && $4 == "main" && $3 !~ /-(security|updates|backports|proposed-updates)$/ && $3 !~ /\// {
      uri = $2; sub(/\/+$/, "", uri)
      if (!(uri in seen)) { seen[uri] = 1; print uri }
    }'
}

absolute() {
  local p="$1"
  if [[ "$p" != /* ]]; then p="$(cd "$(dirname "$p")" && pwd -P)/$(basename "$p")"; fi
  printf '%s\n' "$p"
}

how_to_install() {
  cat >&2 <<EOF
ensure-nats-server: no usable nats-server (>= ${MIN_MAJOR}.${MIN_MINOR}) was found.
Install one of these ways, then run this script again:
  - Debian 13 (trixie) or newer / Ubuntu 24.04 or newer:  apt-get install nats-server
  - the official release:  https://github.com/nats-io/nats-server/releases
    (unpack it and put nats-server on PATH, or copy it to $local_bin)
  - or point NATS_SERVER_BIN at an existing binary:  export NATS_SERVER_BIN=/path/to/nats-server
EOF
}

# 1. An explicit choice wins; a bad one is an error, not something to silently replace.
if [[ -n "${NATS_SERVER_BIN:-}" ]]; then
  if new_enough "$NATS_SERVER_BIN"; then
    absolute "$NATS_SERVER_BIN"
    exit 0
  fi
  log "NATS_SERVER_BIN=$NATS_SERVER_BIN is not an executable nats-server >= ${MIN_MAJOR}.${MIN_MINOR}"
  [[ -x "$NATS_SERVER_BIN" ]] && log "it reports: $("$NATS_SERVER_BIN" --version 2>&1 | head -n 1 || true)"
  exit 1
fi

# 2. The project-local copy.
if new_enough "$local_bin"; then
  printf '%s\n' "$local_bin"
  exit 0
fi

# 3. PATH.
if path_bin="$(command -v nats-server 2>/dev/null)"; then
  if new_enough "$path_bin"; then
    absolute "$path_bin"
    exit 0
  fi
  log "$path_bin is version $(server_version "$path_bin" || true); ${MIN_MAJOR}.${MIN_MINOR} or newer is needed"
fi

# 4. Debian's package from $DEBIAN_SUITE, fetched with a private apt state.
if ! command -v apt-get >/dev/null 2>&1 || ! command -v dpkg-deb >/dev/null 2>&1; then
  how_to_install
  exit 1
fi

keyring=/usr/share/keyrings/debian-archive-keyring.gpg
if [[ ! -r "$keyring" ]]; then
  log "the Debian archive keyring ($keyring) is missing; install the debian-archive-keyring package"
  how_to_install
  exit 1
fi

if [[ -n "${TROUPE_NATS_DEBIAN_MIRROR:-}" ]]; then
  archives=("$TROUPE_NATS_DEBIAN_MIRROR")
else
  mapfile -t archives < <(debian_archive_uris)
fi
if (( ${#archives[@]} == 0 )); then
  log "this machine's apt sources name no Debian archive (a deb entry with the main component"
  log "and a release suite, e.g. bookworm; see apt-get indextargets), so there is nowhere to"
  log "download nats-server from. Add one to /etc/apt/sources.list(.d), or set"
  log "TROUPE_NATS_DEBIAN_MIRROR to the URI of a Debian archive that has the $DEBIAN_SUITE suite."
  how_to_install
  exit 1
fi

work="$(mktemp -d "${TMPDIR:-/tmp}/troupe-nats.XXXXXX")"
trap 'rm -rf "$work"' EXIT
apt_opts=(
  -o "Dir::Etc::SourceList=$work/sources.list"
  -o "Dir::Etc::SourceParts=-"
  -o "Dir::State::Lists=$work/lists"
  -o "Dir::Cache=$work/cache"
)
if [[ "$(id -u)" == 0 ]]; then
  # The private directories are root's; apt's _apt download user could not write them.
  apt_opts+=(-o "APT::Sandbox::User=root")
else
  # Without root apt cannot take its usual locks; the state here is private anyway.
  apt_opts+=(-o "Debug::NoLocking=1")
fi
# Try each archive in turn (one named in the sources may not carry $DEBIAN_SUITE).
# apt's output is noise on success; keep it for the failure message.
fetched=""
for archive in "${archives[@]}"; do
  log "downloading nats-server from Debian $DEBIAN_SUITE at $archive into $repo_root/.nats/bin (system apt sources are not changed)"
  rm -rf "$work/lists" "$work/cache" && mkdir -p "$work/lists/partial" "$work/cache/archives/partial"
  echo "deb [signed-by=$keyring] $archive $DEBIAN_SUITE main" >"$work/sources.list"
  if ! apt-get "${apt_opts[@]}" update >"$work/apt.log" 2>&1; then
    log "apt-get update for $DEBIAN_SUITE at $archive failed:"
    tail -n 20 "$work/apt.log" >&2
    continue
  fi
  if ! (cd "$work" && apt-get "${apt_opts[@]}" download nats-server) >>"$work/apt.log" 2>&1; then
    log "apt-get download nats-server from $archive failed:"
    tail -n 20 "$work/apt.log" >&2
    continue
  fi
  fetched="$archive"
  break
done
if [[ -z "$fetched" ]]; then
  log "none of the Debian archives tried (${archives[*]}) served nats-server from $DEBIAN_SUITE;"
  log "set TROUPE_NATS_DEBIAN_MIRROR to the URI of a Debian archive that has the $DEBIAN_SUITE suite."
  how_to_install
  exit 1
fi
deb="$(ls "$work"/nats-server_*.deb 2>/dev/null | head -n 1 || true)"
if [[ -z "$deb" ]]; then
  log "apt-get download produced no nats-server package"
  how_to_install
  exit 1
fi
dpkg-deb -x "$deb" "$work/x"
# Debian ships it in usr/sbin; accept usr/bin too.
unpacked=""
for candidate in "$work/x/usr/sbin/nats-server" "$work/x/usr/bin/nats-server"; do
  if [[ -x "$candidate" ]]; then unpacked="$candidate"; break; fi
done
if [[ -z "$unpacked" ]]; then
  log "$(basename "$deb") contains no nats-server binary"
  how_to_install
  exit 1
fi

mkdir -p "$repo_root/.nats/bin"
# Copy then rename, so a concurrent reader never sees a half-written binary.
cp "$unpacked" "$local_bin.tmp.$$"
chmod 755 "$local_bin.tmp.$$"
mv -f "$local_bin.tmp.$$" "$local_bin"

if ! new_enough "$local_bin"; then
  log "the downloaded $(basename "$deb") is not usable here ($("$local_bin" --version 2>&1 | head -n 1 || true))"
  how_to_install
  exit 1
fi
log "installed $("$local_bin" --version 2>&1 | head -n 1) at $local_bin"
printf '%s\n' "$local_bin"
