#!/usr/bin/env bash
# Boots a real Linux guest (Debian bookworm's kernel with its own e1000 driver, busybox userland) under QEMU, with
# its NIC on a QEMU netdev, runs the given shell commands inside it and exits with their status.
# The guest's IPv6 address is the EUI-64 link-local of --mac (default 52:54:00:12:34:56 -> fe80::5054:ff:fe12:3456).
#
#   linux-guest.sh --connect 127.0.0.1:5555 -- 'ping6 -c 3 fe80::5054:ff:fe12:3457%eth0'
#   linux-guest.sh --listen 127.0.0.1:5555 --pcap /tmp/wire.pcap -- 'nc -ll -p 7 -e cat & sleep 30'
#   linux-guest.sh --unix /tmp/emu.sock -- '...'        (-netdev stream over a Unix socket; QEMU connects)
#   linux-guest.sh --dgram 127.0.0.1:6001,127.0.0.1:6000 -- '...'   (-netdev dgram: local,remote UDP)
#   linux-guest.sh --vfio-user /tmp/emu-e1000.sock -- 'ethtool -t eth0 offline'
#       (no QEMU e1000 at all: the guest's NIC is the PCI device served on that Unix socket by a vfio-user server,
#        e.g. `emu device --vfio-user`; runs qemu11.sh's QEMU 11 from this folder, guest RAM shared through a memfd)
#   linux-guest.sh --connect 127.0.0.1:5555 --tool ethtool -- 'ethtool -S eth0'
#   linux-guest.sh --connect 127.0.0.1:5555 --tool tc --module sch_netem -- '/sbin/tc qdisc add dev eth0 root netem loss 5%; ...'
#   linux-guest.sh --install [--tool ethtool]   installs what the guest needs (below) and exits
#
# Output, for people and for programs (Tests/Interop/LinuxGuest.cs):
#   stdout: exactly the lines
#             === EMU-GUEST-BEGIN ===
#             ...the commands' stdout and stderr...
#             === EMU-GUEST-END rc=N ===
#           The commands write to the guest's second serial port (ttyS1), so no kernel message lands among them.
#   stderr: the guest's console (ttyS0: kernel log at the `quiet` level, init's progress lines EMU-GUEST: ...) and
#           this script's own messages, which all start "linux-guest.sh:".
#   exit:   the commands' status N; 124 when the guest did not finish (timeout, panic, crash); 2 for a usage or setup
#           error (missing package, unknown option, tool not found).
#
# --tool NAME copies a host program (from PATH; installed from its Debian package when missing: ethtool, tc/ip from
# iproute2, tcpdump, ...) with the shared libraries it needs into the guest's /sbin; call it as /sbin/NAME where
# busybox has an applet of the same name (tc, ip), since busybox's shell prefers its applets. --module NAME loads that
# module of the guest kernel (e.g. sch_netem), after the modules it depends on, before your commands run.
# --file PATH copies a host file (a static binary, say) into the guest's /bin.
# --timeout S bounds the run, QEMU included (default 180 s; then exit 124; package installs do not count). --mem MB is the guest's RAM (default 256).
# --accel NAME is QEMU's accelerator (default tcg: plain emulation, one vCPU; the guest runs its commands about 6 s
# after QEMU starts, 10 s for a whole run. The CI machine has a /dev/kvm that does not work: with kvm the guest
# never gets past its firmware).
# --no-shared-ram (with --vfio-user): plain guest RAM, so the device's every DMA goes through vfio-user DMA_READ and
# DMA_WRITE messages. --monitor PATH: QEMU's human monitor on that Unix socket (e.g. `system_reset`). --allow-reboot:
# without -no-reboot, a reset reboots the guest, which runs the commands again (and prints the markers again).
# --connect to a loopback address, --unix and --vfio-user first wait (up to 30 s, without connecting) for the peer to
# listen, since QEMU tries only once: a peer may be started at the same time as this script.
# The NIC is QEMU's e1000 at PCI 00:03.0 (no option ROM, so no firmware touches it before the driver); with
# --vfio-user it is the served device at 00:03.0 and --mac/--pcap do nothing (the MAC is the device's EEPROM's).
#
# Needs Debian packages qemu-system-x86, linux-image-amd64, busybox-static; installs them when missing (as root,
# with apt-get; a clear error otherwise). QEMU runs with -no-reboot: a guest reboot ends the run.
# Inside the guest: busybox applets (ping6, nc, wget, httpd, telnet, traceroute6, ip, ...), IPv6 on eth0, lo up;
# the script waits until eth0's link-local address has finished DAD before running your commands (ping6 to a
# neighbour works at once). The commands' stdin is /dev/null.
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
mode=""; addr=""; mac="52:54:00:12:34:56"; pcap=""; timeout_s=180; mem=256; accel=tcg; install_only=0
shared_ram=1; monitor=""; allow_reboot=0
extra_files=(); tools=(); modules=()
die() { echo "linux-guest.sh: $*" >&2; exit 2; }
while [ $# -gt 0 ]; do
  case "$1" in
    --connect|--listen|--unix|--dgram|--vfio-user) [ $# -ge 2 ] || die "$1 needs a value"; mode="${1#--}"; addr="$2"; shift 2;;
    --mac|--pcap|--timeout|--file|--tool|--module|--accel|--mem|--monitor)
      [ $# -ge 2 ] || die "$1 needs a value"
      case "$1" in
        --mac) mac="$2";; --pcap) pcap="$2";; --timeout) timeout_s="$2";; --accel) accel="$2";; --mem) mem="$2";;
        --monitor) monitor="$2";;
        --file) extra_files+=("$2");; --tool) tools+=("$2");; --module) modules+=("$2");;
      esac
      shift 2;;
    --install) install_only=1; shift;;
    --no-shared-ram) shared_ram=0; shift;;
    --allow-reboot) allow_reboot=1; shift;;
    --) shift; break;;
    *) die "unknown option $1";;
  esac
done
[ -n "$mode" ] || [ "$install_only" = 1 ] || die "give --connect, --listen, --unix, --dgram or --vfio-user"
[ $# -le 1 ] || die "give the guest's commands as one argument after --"
cmds="${1:-true}"

# --- Debian packages -------------------------------------------------------------------------------------------
tool_package() {
  case "$1" in
    ip|tc|ss|bridge) echo iproute2;;
    ping|tracepath|arping) echo iputils-ping;;
    ethtool|tcpdump|socat|iperf3|strace) echo "$1";;
    *) echo "$1";;
  esac
}
missing_packages() {
  local need=()
  command -v qemu-system-x86_64 >/dev/null || need+=(qemu-system-x86)
  ls /boot/vmlinuz-* >/dev/null 2>&1 || need+=(linux-image-amd64)
  case "$( [ -x /bin/busybox ] && /bin/busybox --list 2>/dev/null || true)" in *ping6*) ;; *) need+=(busybox-static);; esac
  local t
  for t in "${tools[@]}"; do command -v "$t" >/dev/null || need+=("$(tool_package "$t")"); done
  echo "${need[@]}"
}
need=$(missing_packages)
if [ -n "$need" ]; then
  [ "$(id -u)" = 0 ] || die "needs the Debian packages: $need (not installed; run as root to let this script install them, or: apt-get install $need)"
  # One install at a time (guests started in parallel all find the same packages missing).
  exec 9>/tmp/emu-linux-guest.install.lock; flock 9
  need=$(missing_packages)
  if [ -n "$need" ]; then
    echo "linux-guest.sh: installing Debian packages: $need" >&2
    # shellcheck disable=SC2086
    if ! (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $need) >&2; then
      die "installing $need with apt-get failed (needs root and the Debian package registry)"
    fi
    need=$(missing_packages)
    [ -z "$need" ] || die "still missing after apt-get install: $need"
  fi
  flock -u 9; exec 9>&-
fi
[ "$install_only" = 0 ] || { echo "linux-guest.sh: everything installed" >&2; exit 0; }
started=$SECONDS   # --timeout counts from here: building the initramfs, waiting for the peer, QEMU

kernel=$(ls /boot/vmlinuz-* | sort -V | tail -n1)
kver=${kernel#/boot/vmlinuz-}
moddir="/lib/modules/$kver"
[ -f "$moddir/modules.dep" ] || die "no $moddir/modules.dep for kernel $kernel"

# --- initramfs -------------------------------------------------------------------------------------------------
work=$(mktemp -d /tmp/emu-linux-guest.XXXXXX)
qemu_pid=""
cleanup() { [ -z "$qemu_pid" ] || kill "$qemu_pid" 2>/dev/null || true; rm -rf "$work"; }
trap cleanup EXIT
trap 'exit 143' TERM INT HUP
root="$work/root"; mkdir -p "$root"/{bin,sbin,proc,sys,dev,tmp,lib/modules}
cp /bin/busybox "$root/bin/"

# Modules, each after the ones it depends on (from modules.dep), in the order init loads them.
loaded=" "
: > "$root/lib/modules/order"
add_module() {   # $1: path relative to $moddir, as modules.dep names it
  local rel="$1" name deps d
  name=$(basename "$rel"); name=${name%%.ko*}
  case "$loaded" in *" $name "*) return;; esac
  deps=$(sed -n "s|^$rel: *||p" "$moddir/modules.dep")
  for d in $deps; do add_module "$d"; done
  case "$rel" in
    *.ko.xz) xz -dc "$moddir/$rel" > "$root/lib/modules/$name.ko";;
    *.ko.zst) zstd -dcq "$moddir/$rel" > "$root/lib/modules/$name.ko";;
    *.ko.gz) gzip -dc "$moddir/$rel" > "$root/lib/modules/$name.ko";;
    *) cp "$moddir/$rel" "$root/lib/modules/$name.ko";;
  esac
  echo "$name" >> "$root/lib/modules/order"
  loaded="$loaded$name "
}
find_module() {
  local rel
  rel=$(sed -n "s|^\(\([^:]*/\)\?$1\.ko[.a-z]*\):.*|\1|p" "$moddir/modules.dep" | head -n1)
  [ -n "$rel" ] || die "module $1 not found for kernel $kver"
  echo "$rel"
}
rel=$(find_module e1000) || exit 2; add_module "$rel"
for m in "${modules[@]}"; do rel=$(find_module "$m") || exit 2; add_module "$rel"; done

for f in "${extra_files[@]}"; do cp "$f" "$root/bin/"; done
for t in "${tools[@]}"; do
  bin=$(command -v "$t") || die "--tool $t: not on PATH (install its Debian package)"
  cp "$bin" "$root/sbin/$t"   # /sbin is searched before busybox's applets in /bin
  for lib in $(ldd "$bin" | grep -o '/[^ ]*'); do mkdir -p "$root$(dirname "$lib")"; cp -L "$lib" "$root$lib"; done
done
printf '%s\n' "$cmds" > "$root/guest.sh"
cat > "$root/init" <<'INIT'
#!/bin/busybox sh
/bin/busybox --install -s /bin
export PATH=/sbin:/bin
mount -t proc proc /proc; mount -t sysfs sys /sys; mount -t devtmpfs dev /dev
while read -r m; do insmod "/lib/modules/$m.ko" || echo "EMU-GUEST: insmod $m failed"; done < /lib/modules/order
ip link set lo up
i=0
while [ $i -lt 100 ] && ! ip link show eth0 >/dev/null 2>&1; do sleep 0.1; i=$((i+1)); done
ip link set eth0 up || echo "EMU-GUEST: no eth0"
i=0
while [ $i -lt 150 ]; do
  a=$(ip -6 addr show dev eth0 2>/dev/null)
  case "$a" in *"inet6 fe80"*) case "$a" in *tentative*) ;; *) break;; esac;; esac
  sleep 0.1; i=$((i+1))
done
[ $i -lt 150 ] || echo "EMU-GUEST: eth0 has no link-local address after 15 s (running the commands anyway)"
echo "EMU-GUEST: ready, uptime $(cut -d' ' -f1 /proc/uptime) s"
out=/dev/ttyS1
stty -F $out raw -echo 2>/dev/null
echo "=== EMU-GUEST-BEGIN ===" > $out
sh /guest.sh > $out 2>&1 < /dev/null; rc=$?
echo "=== EMU-GUEST-END rc=$rc ===" > $out
echo "EMU-GUEST: commands exited with $rc, uptime $(cut -d' ' -f1 /proc/uptime) s"
sleep 0.2
poweroff -f
INIT
chmod +x "$root/init"
if command -v cpio >/dev/null; then cpio=(cpio); else cpio=("$root/bin/busybox" cpio); fi
(cd "$root" && find . | "${cpio[@]}" -o -H newc 2>/dev/null | gzip -1 > "$work/initramfs.gz")

# --- QEMU ------------------------------------------------------------------------------------------------------
case "$mode" in
  connect) net="socket,id=n0,connect=$addr";;
  listen)  net="socket,id=n0,listen=$addr";;
  unix)    net="stream,id=n0,server=off,addr.type=unix,addr.path=$addr";;
  dgram)   l=${addr%%,*}; r=${addr#*,}
           net="dgram,id=n0,local.type=inet,local.host=${l%:*},local.port=${l##*:},remote.type=inet,remote.host=${r%:*},remote.port=${r##*:}";;
  vfio-user) net="";;
esac
dump=(); [ -n "$pcap" ] && dump=(-object "filter-dump,id=f0,netdev=n0,file=$pcap")
if [ "$mode" = vfio-user ]; then
  # The NIC is an outside process's PCI function: QEMU 11's vfio-user client, guest RAM in a shared memfd.
  # Its MAC comes from that device's EEPROM, and there is no QEMU netdev to capture: --mac/--pcap do nothing.
  [ -z "$pcap" ] || echo "linux-guest.sh: --pcap has no effect with --vfio-user (capture on the device's side)" >&2
  if [ "$shared_ram" = 1 ]; then
    qemu=(bash "$here/qemu11.sh" -machine "pc,memory-backend=mem" -object "memory-backend-memfd,id=mem,size=${mem}M,share=on")
  else
    qemu=(bash "$here/qemu11.sh" -machine pc)
  fi
  # x-msg-timeout: how long QEMU waits for a reply (default 5 s); a loaded 2-core CI machine can be slower.
  nic=(-device "{\"driver\":\"vfio-user-pci\",\"socket\":{\"path\":\"$addr\",\"type\":\"unix\"},\"addr\":\"0x3\",\"x-msg-timeout\":30000}")
else
  # romfile= : no iPXE option ROM, so no firmware touches the NIC before the driver.
  qemu=(qemu-system-x86_64 -machine pc)
  nic=(-netdev "$net" -device "e1000,netdev=n0,mac=$mac,addr=0x3,romfile=" "${dump[@]}")
fi

# QEMU 7.2 connects once, at start, and gives up when nobody listens: wait (up to 30 s) for a peer that is still
# starting on this machine (another guest's --listen, `emu ... --netdev socket,listen=`/`stream,server=on`).
# Read from /proc and the file system only: a probing connection would be taken as the peer.
listening_tcp() {   # $1: port
  local hex; hex=$(printf '%04X' "$1")
  awk -v p=":$hex" 'substr($2, length($2) - 4) == p && $4 == "0A" { f = 1 } END { exit !f }' /proc/net/tcp /proc/net/tcp6 2>/dev/null
}
case "$mode" in
  connect)
    host=${addr%:*}; port=${addr##*:}
    case "$host" in
      127.*|localhost|'[::1]'|::1)
        i=0; while [ $i -lt 300 ] && ! listening_tcp "$port"; do sleep 0.1; i=$((i+1)); done;;
    esac;;
  unix)
    i=0; while [ $i -lt 300 ] && [ ! -S "$addr" ]; do sleep 0.1; i=$((i+1)); done;;
  vfio-user)
    i=0; while [ $i -lt 300 ] && [ ! -S "$addr" ]; do sleep 0.1; i=$((i+1)); done;;
esac

# ttyS0 (console) -> stderr; ttyS1 (the commands) -> a fifo -> stdout.
mkfifo "$work/out"
# Unbuffered all the way (sed -u, tee), so a caller sees each line as the guest writes it.
sed -u -n 's/\r$//; /^=== EMU-GUEST-BEGIN ===$/,/^=== EMU-GUEST-END rc=[0-9]* ===$/p' < "$work/out" | tee "$work/out.txt" &
reader=$!
left=$((timeout_s - (SECONDS - started))); [ "$left" -ge 1 ] || left=1
extra_qemu=()
[ "$allow_reboot" = 1 ] || extra_qemu+=(-no-reboot)
[ -z "$monitor" ] || extra_qemu+=(-monitor "unix:$monitor,server=on,wait=off")
timeout --kill-after=5 "$left" "${qemu[@]}" "${extra_qemu[@]}" -accel "$accel" -m "$mem" -display none -nodefaults \
  -no-user-config -chardev "stdio,id=con,signal=off" -serial chardev:con -chardev "file,id=out,path=$work/out" \
  -serial chardev:out -kernel "$kernel" -initrd "$work/initramfs.gz" \
  -append "console=ttyS0 quiet panic=-1 mitigations=off" "${nic[@]}" < /dev/null > >(sed -u 's/\r$//' >&2) 2>&1 &
qemu_pid=$!   # timeout's: the trap's kill reaches QEMU through it
set +e
wait "$qemu_pid"; qemu_rc=$?
set -e
qemu_pid=""
# QEMU opens the fifo at start; if it failed before that, the reader still waits in open(): release it.
if kill -0 "$reader" 2>/dev/null && [ ! -s "$work/out.txt" ]; then timeout 2 bash -c ": > '$work/out'" 2>/dev/null || true; fi
wait "$reader" 2>/dev/null || true
rc=$(sed -n 's/^=== EMU-GUEST-END rc=\([0-9]*\) ===$/\1/p' "$work/out.txt" | tail -n1)
if [ -z "$rc" ]; then
  if [ "$qemu_rc" = 124 ] || [ "$qemu_rc" = 137 ]; then
    echo "linux-guest.sh: timeout: the guest did not finish its commands within $timeout_s s (QEMU killed)" >&2
  else
    echo "linux-guest.sh: QEMU exited ($qemu_rc) before the guest's commands finished (QEMU error, panic or crash: see above)" >&2
  fi
  exit 124
fi
exit "$rc"
