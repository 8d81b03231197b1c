#!/usr/bin/env bash
# The differential oracle: QEMU 11.x from Debian trixie-backports, run on this Debian bookworm machine.
#   qemu11.sh ARGS...     behaves as `qemu-system-x86_64 ARGS...`
#   qemu11.sh --version   prints the version (installing first if needed)
# Bookworm's own QEMU 7.2 has no qtest accelerator (no clock_step, and firmware reprograms the NIC beside the
# script), so the tests use 11.x: a minimal trixie tree made by debootstrap under $EMU_QEMU_PREFIX (default
# /opt/emu-qemu), with qemu-system-x86 from trixie-backports, run through that tree's own loader and libraries.
# The first call installs it (about 30 s; needs root and the Debian package registry) under a lock, so parallel
# test processes wait for one install.
set -euo pipefail
prefix=${EMU_QEMU_PREFIX:-/opt/emu-qemu}

install_qemu() {
  if ! command -v debootstrap >/dev/null; then
    (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq debootstrap) >&2 \
      || { echo "qemu11.sh: cannot install debootstrap (needs root and the Debian registry)" >&2; exit 1; }
  fi
  mirror=$(sed -n 's/^URIs: *//p' /etc/apt/sources.list.d/debian.sources 2>/dev/null | head -n1)
  [ -n "$mirror" ] || mirror=$(awk '/^deb /{print $2; exit}' /etc/apt/sources.list 2>/dev/null)
  [ -n "$mirror" ] || { echo "qemu11.sh: no Debian mirror configured in /etc/apt" >&2; exit 1; }
  tmp="$prefix.partial"; rm -rf "$tmp"
  echo "qemu11.sh: installing QEMU from Debian trixie-backports into $prefix (once, about 30 s)" >&2
  if ! debootstrap --variant=minbase trixie "$tmp" "$mirror" >"$prefix.install.log" 2>&1; then
    echo "qemu11.sh: debootstrap failed; see $prefix.install.log" >&2; exit 1
  fi
  printf 'deb %s trixie main\ndeb %s trixie-backports main\n' "$mirror" "$mirror" > "$tmp/etc/apt/sources.list"
  if ! chroot "$tmp" sh -c 'apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq \
      --no-install-recommends -t trixie-backports qemu-system-x86' >>"$prefix.install.log" 2>&1; then
    echo "qemu11.sh: installing qemu-system-x86 failed; see $prefix.install.log" >&2; exit 1
  fi
  mv "$tmp" "$prefix"
}

if [ ! -x "$prefix/usr/bin/qemu-system-x86_64" ]; then
  mkdir -p "$(dirname "$prefix")"
  exec 9>"$prefix.lock"; flock 9
  [ -x "$prefix/usr/bin/qemu-system-x86_64" ] || install_qemu
  flock -u 9
fi

# Modules (accel-qtest among them) from this tree only.
export QEMU_MODULE_DIR="$prefix/usr/lib/x86_64-linux-gnu/qemu"
exec "$prefix/lib64/ld-linux-x86-64.so.2" \
  --library-path "$prefix/lib/x86_64-linux-gnu:$prefix/usr/lib/x86_64-linux-gnu" \
  "$prefix/usr/bin/qemu-system-x86_64" -L "$prefix/usr/share/qemu" -L "$prefix/usr/share/seabios" \
  -L "$prefix/usr/lib/ipxe/qemu" "$@"
