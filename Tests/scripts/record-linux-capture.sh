#!/usr/bin/env bash
# Records Tests/captures/linux-to-linux.pcap: two real Linux guests (Tests/scripts/linux-guest.sh: Debian bookworm's
# kernel and e1000 driver, busybox) on one QEMU socket netdev, A listening and B connecting, the wire recorded on A's
# side with QEMU's filter-dump (classic pcap, both directions).
#
#   record-linux-capture.sh [--out FILE] [--port PORT] [--timeout S]
#
# The session, in this order (each step waits for the one before, so re-recording gives the same session; only
# timings, ephemeral ports, ISNs, flow labels and fragment ids differ):
#   A boots alone (its MLDv2 reports, DAD, router solicitations), starts busybox httpd on 80 and nc echo on 7, and
#   says "ready" on its output; only then does B boot (its MLDv2 reports, DAD, RS) and connect to A's wire.
#   B: ping6 A with 56, 1452 and 4000 bytes (the last fragmented; B's first NS for A and A's NA come before it),
#      TCP echo "hello-tcp\n" (B closes first), TCP echo of 200 KiB, HTTP GET /index.html with busybox wget,
#      then "b-done" to A's port 9 (A waits for it there).
#   A: ping6 B with 56 and 1452 bytes, TCP echo "hello-from-a\n" to B's nc echo on 7, then "a-done" to B's port 9
#      (B waits for it there), and both power off.
# Exit 0 with the capture written; otherwise the status and output of the guest that failed.
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
out="$here/../captures/linux-to-linux.pcap"; port=15755; timeout_s=300
die() { echo "record-linux-capture.sh: $*" >&2; exit 2; }
while [ $# -gt 0 ]; do
  case "$1" in
    --out) [ $# -ge 2 ] || die "$1 needs a value"; out="$2"; shift 2;;
    --port) [ $# -ge 2 ] || die "$1 needs a value"; port="$2"; shift 2;;
    --timeout) [ $# -ge 2 ] || die "$1 needs a value"; timeout_s="$2"; shift 2;;
    *) die "unknown option $1";;
  esac
done

mac_a=52:54:00:00:00:0a; ll_a=fe80::5054:ff:fe00:a
mac_b=52:54:00:00:00:0b; ll_b=fe80::5054:ff:fe00:b

guest_a="
set -e
mkdir -p /www && printf '<html><body><h1>linux-to-linux</h1></body></html>\n' > /www/index.html
httpd -p 80 -h /www
nc -ll -p 7 -e cat &
echo ready
nc -l -p 9 < /dev/null
ping6 -c 1 -s 56 $ll_b%eth0
ping6 -c 1 -s 1452 $ll_b%eth0
echo hello-from-a | nc $ll_b%eth0 7
echo a-done | nc $ll_b%eth0 9
"
guest_b="
set -e
nc -ll -p 7 -e cat &
nc -l -p 9 < /dev/null > /tmp/a-done &
waiter=\$!
ping6 -c 1 -s 56 $ll_a%eth0
ping6 -c 1 -s 1452 $ll_a%eth0
ping6 -c 1 -s 4000 $ll_a%eth0
echo hello-tcp | nc $ll_a%eth0 7
dd if=/dev/zero bs=1024 count=200 2>/dev/null | nc $ll_a%eth0 7 | wc -c
wget -q -O - 'http://[$ll_a%eth0]/index.html'
echo b-done | nc $ll_a%eth0 9
wait \$waiter
cat /tmp/a-done
"

work=$(mktemp -d /tmp/emu-record-capture.XXXXXX)
pid_a=""; pid_b=""
cleanup() {
  [ -z "$pid_b" ] || kill "$pid_b" 2>/dev/null || true
  [ -z "$pid_a" ] || kill "$pid_a" 2>/dev/null || true
  wait 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 143' TERM INT HUP

bash "$here/linux-guest.sh" --install >&2
echo "record-linux-capture.sh: guest A ($mac_a) listens on 127.0.0.1:$port, recording to $out" >&2
bash "$here/linux-guest.sh" --listen "127.0.0.1:$port" --mac "$mac_a" --pcap "$work/wire.pcap" --timeout "$timeout_s" \
  -- "$guest_a" > "$work/a.out" 2> "$work/a.log" &
pid_a=$!
# B boots only once A's services run, so that B's boot and everything after it meet a settled A.
i=0
while ! grep -qx ready "$work/a.out"; do
  kill -0 "$pid_a" 2>/dev/null || { cat "$work/a.log" "$work/a.out" >&2; die "guest A ended before it was ready"; }
  [ $i -lt $((timeout_s * 10)) ] || die "guest A was not ready after $timeout_s s"
  sleep 0.1; i=$((i + 1))
done
echo "record-linux-capture.sh: A is ready; guest B ($mac_b) connects" >&2
set +e
bash "$here/linux-guest.sh" --connect "127.0.0.1:$port" --mac "$mac_b" --timeout "$timeout_s" -- "$guest_b" > "$work/b.out" 2> "$work/b.log"
rc_b=$?
wait "$pid_a"; rc_a=$?
set -e
pid_a=""
if [ "$rc_a" != 0 ] || [ "$rc_b" != 0 ]; then
  echo "--- guest A (exit $rc_a) ---" >&2; cat "$work/a.log" "$work/a.out" >&2
  echo "--- guest B (exit $rc_b) ---" >&2; cat "$work/b.log" "$work/b.out" >&2
  die "a guest failed (A exit $rc_a, B exit $rc_b); nothing written"
fi
grep -q 'a-done' "$work/b.out" || { cat "$work/b.out" >&2; die "guest B's session did not complete"; }
echo "--- guest A ---"; cat "$work/a.out"; echo "--- guest B ---"; cat "$work/b.out"
cp "$work/wire.pcap" "$out"
echo "record-linux-capture.sh: wrote $out ($(stat -c %s "$out") bytes), kernel $(ls /boot/vmlinuz-* | sort -V | tail -n1)" >&2
