#!/usr/bin/env bash
# Build the local images the docker and vagrant backends run hosts (and the
# machine's apt cache) from:
#
#   argos-base:bookworm  Debian 12 minbase made with debootstrap and imported
#                        with `docker import` (no registry is reachable, so no
#                        image can be pulled).
#   argos-host:bookworm  FROM the base: systemd as PID 1, sshd (key-only login
#                        for `admin`, passwordless sudo), the machine's CA
#                        bundle, python3. One container = one host.
#   argos-vagrant:bookworm  FROM argos-host: adds the `vagrant` user for
#                        Vagrant's docker provider (docker/vagrant-image/).
#   argos-apt-cache:bookworm  FROM the base: Debian's apt-cacher-ng, the
#                        machine's package cache (docker/apt-cache/). Not
#                        built with ARGOS_APT_CACHE=off; a failure to build it
#                        is a warning (a cache must never stop a run).
#
# Idempotent: each image carries a label `argos.inputs` (a hash of what made
# it); an image whose label matches is kept. --force rebuilds them all.
#
# Usage: docker/host-image/build.sh [--force] [--base-only]
# Environment: MIRROR (Debian mirror, default http://deb.debian.org/debian),
#              HOST_CA_BUNDLE (default /etc/ssl/certs/ca-certificates.crt),
#              BASE_IMAGE / HOST_IMAGE / VAGRANT_IMAGE / APT_CACHE_IMAGE (image
#              names, defaults above).
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
SUITE=bookworm
MIRROR="${MIRROR:-http://deb.debian.org/debian}"
SECURITY_MIRROR="${SECURITY_MIRROR:-http://deb.debian.org/debian-security}"
HOST_CA_BUNDLE="${HOST_CA_BUNDLE:-/etc/ssl/certs/ca-certificates.crt}"
BASE_IMAGE="${BASE_IMAGE:-argos-base:bookworm}"
HOST_IMAGE="${HOST_IMAGE:-argos-host:bookworm}"
VAGRANT_IMAGE="${VAGRANT_IMAGE:-argos-vagrant:bookworm}"
APT_CACHE_IMAGE="${APT_CACHE_IMAGE:-argos-apt-cache:bookworm}"
INCLUDE=python3,openssh-server,sudo,iproute2,ca-certificates,curl,procps
# Bump when the trimming below changes: it is part of the base image's inputs.
BASE_RECIPE=4

force=0
base_only=0
for arg in "$@"; do
  case "$arg" in
    --force) force=1 ;;
    --base-only) base_only=1 ;;
    -h|--help) sed -n '2,25p' "$0"; exit 0 ;;
    *) echo "build.sh: unknown argument '$arg' (try --help)" >&2; exit 2 ;;
  esac
done

say() { printf '[build.sh] %s\n' "$*"; }
die() { printf '[build.sh] error: %s\n' "$*" >&2; exit 1; }

command -v docker >/dev/null || die "docker is not installed"

# One build at a time on this machine: parallel tests may all ask for the image.
exec 9>"${TMPDIR:-/tmp}/argos-host-image.lock"
flock 9
docker info >/dev/null 2>&1 || die "cannot reach the Docker engine"

# The label of an existing image, or nothing.
image_inputs() {
  docker image inspect --format '{{ index .Config.Labels "argos.inputs" }}' "$1" 2>/dev/null || true
}

# ---------------------------------------------------------------------------
# 1. argos-base:bookworm (debootstrap + docker import)
# ---------------------------------------------------------------------------
base_inputs="$(printf '%s\n' "$SUITE" "$MIRROR" "$SECURITY_MIRROR" "$INCLUDE" "$BASE_RECIPE" \
  | sha256sum | cut -c1-16)"

if [ "$force" = 0 ] && [ "$(image_inputs "$BASE_IMAGE")" = "$base_inputs" ]; then
  say "$BASE_IMAGE is up to date (inputs $base_inputs): kept"
else
  [ "$(id -u)" = 0 ] || die "debootstrap needs root (run with sudo)"
  if ! command -v debootstrap >/dev/null; then
    say "installing debootstrap (apt-get)"
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq debootstrap >/dev/null
  fi
  rootfs="$(mktemp -d /tmp/argos-rootfs.XXXXXX)"
  trap 'say "removing $rootfs"; rm -rf --one-file-system "$rootfs"' EXIT
  started=$SECONDS
  say "debootstrap --variant=minbase $SUITE into $rootfs (from $MIRROR)"
  debootstrap --variant=minbase --include="$INCLUDE" "$SUITE" "$rootfs" "$MIRROR" \
    > "$rootfs.log" 2>&1 || { tail -20 "$rootfs.log" >&2; die "debootstrap failed (log: $rootfs.log)"; }
  rm -f "$rootfs.log"
  say "debootstrap done in $((SECONDS - started)) s"

  say "configuring apt sources, dpkg/apt trimming rules"
  cat > "$rootfs/etc/apt/sources.list" <<EOF
deb $MIRROR $SUITE main
deb $MIRROR $SUITE-updates main
deb $SECURITY_MIRROR $SUITE-security main
EOF
  # Packages installed later (by the Dockerfile or by Ansible) skip docs too.
  cat > "$rootfs/etc/dpkg/dpkg.cfg.d/argos-minimal" <<'EOF'
# argos-base: keep images small (same idea as Debian's slim images)
path-exclude=/usr/share/doc/*
path-include=/usr/share/doc/*/copyright
path-exclude=/usr/share/man/*
path-exclude=/usr/share/info/*
path-exclude=/usr/share/locale/*
path-include=/usr/share/locale/locale.alias
EOF
  cat > "$rootfs/etc/apt/apt.conf.d/docker-clean" <<'EOF'
// argos-base: drop downloaded .debs after every install
DPkg::Post-Invoke { "rm -f /var/cache/apt/archives/*.deb /var/cache/apt/archives/partial/*.deb /var/cache/apt/*.bin || true"; };
APT::Update::Post-Invoke { "rm -f /var/cache/apt/archives/*.deb /var/cache/apt/archives/partial/*.deb /var/cache/apt/*.bin || true"; };
Dir::Cache::pkgcache "";
Dir::Cache::srcpkgcache "";
EOF

  say "trimming: .debs, apt lists, docs, man pages, locales, logs, SSH host keys, machine-id"
  rm -rf "$rootfs"/var/cache/apt/archives/*.deb "$rootfs"/var/cache/apt/*.bin \
         "$rootfs"/var/lib/apt/lists/* \
         "$rootfs"/usr/share/man/* "$rootfs"/usr/share/info/* \
         "$rootfs"/var/cache/debconf/*-old "$rootfs"/var/lib/dpkg/*-old \
         "$rootfs"/etc/ssh/ssh_host_*
  find "$rootfs/usr/share/doc" -mindepth 1 -not -name copyright -not -type d -delete
  find "$rootfs/usr/share/doc" -mindepth 1 -type d -empty -delete
  find "$rootfs/usr/share/locale" -mindepth 1 -maxdepth 1 -not -name locale.alias -exec rm -rf {} +
  find "$rootfs/var/log" -type f -exec truncate -s 0 {} +
  # Keep the man page directories: postinst scripts (openjdk's
  # update-alternatives) make links in them and fail when they are missing.
  mkdir -p "$rootfs"/usr/share/man/man{1..8}
  # Empty package lists must not look fresh: Ansible's apt cache_valid_time
  # trusts the directory's mtime, and would skip the first `apt-get update`.
  touch -d 2000-01-01 "$rootfs/var/lib/apt/lists"
  : > "$rootfs/etc/machine-id"
  rm -f "$rootfs/var/lib/dbus/machine-id"

  say "docker import -> $BASE_IMAGE (inputs $base_inputs)"
  started=$SECONDS
  tar -C "$rootfs" --numeric-owner -c . \
    | docker import \
        --change 'CMD ["/bin/bash"]' \
        --change "LABEL argos.inputs=$base_inputs" \
        --change 'LABEL org.opencontainers.image.title=argos-base' \
        --change "LABEL org.opencontainers.image.description=\"Debian $SUITE minbase (debootstrap) for argos-cloud local backends\"" \
        - "$BASE_IMAGE" >/dev/null
  say "imported in $((SECONDS - started)) s"
  rm -rf --one-file-system "$rootfs"
  trap - EXIT
fi
say "$BASE_IMAGE: $(docker image inspect --format '{{.Size}}' "$BASE_IMAGE" | awk '{printf "%.0f MB", $1/1e6}')"

[ "$base_only" = 1 ] && exit 0

# ---------------------------------------------------------------------------
# 2. argos-host:bookworm (Dockerfile FROM the base; classic builder)
# ---------------------------------------------------------------------------
[ -r "$HOST_CA_BUNDLE" ] || die "CA bundle $HOST_CA_BUNDLE is not readable (set HOST_CA_BUNDLE)"
base_id="$(docker image inspect --format '{{.Id}}' "$BASE_IMAGE")"
host_inputs="$( { echo "$base_id"; cat "$here/Dockerfile"; find "$here/files" -type f | sort | xargs cat;
                  cat "$HOST_CA_BUNDLE"; } | sha256sum | cut -c1-16)"

if [ "$force" = 0 ] && [ "$(image_inputs "$HOST_IMAGE")" = "$host_inputs" ]; then
  say "$HOST_IMAGE is up to date (inputs $host_inputs): kept"
else
  ctx="$(mktemp -d /tmp/argos-host-ctx.XXXXXX)"
  trap 'rm -rf "$ctx"' EXIT
  cp "$here/Dockerfile" "$ctx/"
  cp -r "$here/files" "$ctx/files"
  cp "$HOST_CA_BUNDLE" "$ctx/files/host-ca-bundle.crt"
  say "docker build (classic builder) -> $HOST_IMAGE (inputs $host_inputs)"
  started=$SECONDS
  DOCKER_BUILDKIT=0 docker build --quiet \
    --build-arg "BASE_IMAGE=$BASE_IMAGE" \
    --label "argos.inputs=$host_inputs" \
    -t "$HOST_IMAGE" "$ctx" >/dev/null
  say "built in $((SECONDS - started)) s"
  rm -rf "$ctx"
  trap - EXIT
fi
say "$HOST_IMAGE: $(docker image inspect --format '{{.Size}}' "$HOST_IMAGE" | awk '{printf "%.0f MB", $1/1e6}')"

# ---------------------------------------------------------------------------
# 3. argos-vagrant:bookworm (FROM the host image: the `vagrant` user)
# ---------------------------------------------------------------------------
vagrant_dir="$here/../vagrant-image"
host_id="$(docker image inspect --format '{{.Id}}' "$HOST_IMAGE")"
vagrant_inputs="$( { echo "$host_id"; cat "$vagrant_dir/Dockerfile"; } | sha256sum | cut -c1-16)"
if [ "$force" = 0 ] && [ "$(image_inputs "$VAGRANT_IMAGE")" = "$vagrant_inputs" ]; then
  say "$VAGRANT_IMAGE is up to date (inputs $vagrant_inputs): kept"
else
  say "docker build (classic builder) -> $VAGRANT_IMAGE (inputs $vagrant_inputs)"
  started=$SECONDS
  DOCKER_BUILDKIT=0 docker build --quiet \
    --build-arg "HOST_IMAGE=$HOST_IMAGE" \
    --label "argos.inputs=$vagrant_inputs" \
    -t "$VAGRANT_IMAGE" "$vagrant_dir" >/dev/null
  say "built in $((SECONDS - started)) s"
fi

# ---------------------------------------------------------------------------
# 4. argos-apt-cache:bookworm (FROM the base: apt-cacher-ng)
# ---------------------------------------------------------------------------
cache_dir="$here/../apt-cache"
case "${ARGOS_APT_CACHE:-on}" in
  off|OFF|Off|0|false|no) apt_cache=off ;;
  *) apt_cache=on ;;
esac
if [ "$apt_cache" = off ]; then
  say "$APT_CACHE_IMAGE: not built (ARGOS_APT_CACHE=$ARGOS_APT_CACHE)"
else
  cache_inputs="$( { echo "$base_id"; cat "$cache_dir/Dockerfile" "$cache_dir/zzz-argos.conf"; } \
    | sha256sum | cut -c1-16)"
  if [ "$force" = 0 ] && [ "$(image_inputs "$APT_CACHE_IMAGE")" = "$cache_inputs" ]; then
    say "$APT_CACHE_IMAGE is up to date (inputs $cache_inputs): kept"
  else
    say "docker build (classic builder) -> $APT_CACHE_IMAGE (inputs $cache_inputs)"
    started=$SECONDS
    if DOCKER_BUILDKIT=0 docker build --quiet \
        --build-arg "BASE_IMAGE=$BASE_IMAGE" \
        --label "argos.inputs=$cache_inputs" \
        -t "$APT_CACHE_IMAGE" "$cache_dir" >/dev/null; then
      say "built in $((SECONDS - started)) s"
    else
      say "warning: $APT_CACHE_IMAGE could not be built: hosts download their packages themselves"
    fi
  fi
fi
say "run a host: see $here/README.md"
