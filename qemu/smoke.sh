#!/usr/bin/env bash
# A CI smoke boot: boot the image under qemu, run COMMAND in the guest as tsinit's first runner,
# and exit with COMMAND's status. The status comes out on the guest's second serial port: tsinit
# writes its boot report there (`tsinit.report=ttyS1`: every event as a line of JSON, the last
# one `{"kind":"done","status":N}`) and powers off. The console is read only to tell a panic.
# ARCH=arm64 boots the arm64 image and kernel on qemu-system-aarch64 instead (qemu/arch.sh: the
# console is ttyAMA0, the report port a PCI 16550, ttyS0).
#
# Usage: qemu/smoke.sh [--kernel K] [--initrd IMG] [--add DIR_OR_CPIO]... [--append ARGS]
#                      [--timeout S] [--memory MB] [--kvm] [--report FILE] [--output FILE]
#                      -- COMMAND [ARGS...]
# --report FILE keeps the boot report; qemu/report.ts FILE summarises it.
# --output FILE gives the guest one more serial port, written to FILE: COMMAND finds its device in
# $SMOKE_OUTPUT (/dev/ttyS2; arm64: /dev/ttyS1), set to raw mode, so what it writes there arrives
# byte for byte, with nothing else mixed in (the console also carries the kernel's and getty's
# lines).
#
# Exit status: COMMAND's own (0 to 255; 128+N when signal N ended it), or
#   124  the guest did not power off within --timeout seconds (the console's tail is printed)
#   125  the kernel panicked (the panic is printed)
#   126  qemu ended without a status (it failed to start, or the guest went down another way)
# The console goes to this script's stdout as it comes.
set -euo pipefail
here=$PWD
cd "$(dirname "$0")/.."
# Paths given on the command line are the caller's; the defaults are the repository's.
absolute() { [[ $1 == /* ]] && printf '%s' "$1" || printf '%s/%s' "$here" "$1"; }

# shellcheck source=qemu/arch.sh
source qemu/arch.sh
kernel=$arch_kernel
initrd=$arch_initrd
append=
timeout_s=300
memory=${QEMU_MEM:-$arch_memory}
kvm=0
report=
output=
adds=()
usage() { sed -n '2,/^set -e/p' "$0" | sed '$d; s/^# \{0,1\}//' >&2; exit 2; }
while (($#)); do
  case $1 in
    --kernel) kernel=$(absolute "${2:?}"); shift 2 ;;
    --initrd) initrd=$(absolute "${2:?}"); shift 2 ;;
    --add) adds+=("$(absolute "${2:?}")"); shift 2 ;;
    --append) append=${2:?}; shift 2 ;;
    --timeout) timeout_s=${2:?}; shift 2 ;;
    --memory) memory=${2:?}; shift 2 ;;
    --kvm) kvm=1; shift ;;
    --report) report=$(absolute "${2:?}"); shift 2 ;;
    --output) output=$(absolute "${2:?}"); shift 2 ;;
    --) shift; break ;;
    -h|--help) usage ;;
    *) echo "smoke.sh: unknown option $1" >&2; usage ;;
  esac
done
(($#)) || { echo "smoke.sh: no COMMAND after --" >&2; usage; }
for f in "$kernel" "$initrd"; do
  [[ -f $f ]] || { echo "smoke.sh: $f is missing (make ARCH=${ARCH:-amd64} kernel initramfs BOOT_COMPRESS=none builds them)" >&2; exit 126; }
done

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

output_args=()
if [[ -n $output ]]; then output_port "$tmp/output"; fi

# The runner: /etc/tsinit/rc, tsinit's default runner, execs COMMAND with its words as given.
quote() { local s=${1//\'/\'\\\'\'}; printf "'%s'" "$s"; }
mkdir -p "$tmp/root/etc/tsinit"
{
  echo '#!/bin/sh'
  if [[ -n $output ]]; then
    # Raw: no CR before each LF, no flow control, no echo; a serial port keeps its settings
    # between opens.
    echo "stty -F /dev/$output_device raw -echo || exit 126"
    echo "export SMOKE_OUTPUT=/dev/$output_device"
  fi
  printf 'exec'
  for word in "$@"; do printf ' %s' "$(quote "$word")"; done
  echo
} > "$tmp/root/etc/tsinit/rc"
chmod 755 "$tmp/root/etc/tsinit/rc"

# The image, then the runner and the user's files as more archives: the kernel unpacks them in
# order, each on a 4-byte boundary, later files over earlier ones.
cp "$initrd" "$tmp/initrd"
append_archive() {
  local size
  size=$(stat -c %s "$tmp/initrd")
  head -c $(((4 - size % 4) % 4)) /dev/zero >> "$tmp/initrd"
  cat "$1" >> "$tmp/initrd"
}
directory_archive() { (cd "$1" && find . -mindepth 1 | LC_ALL=C sort | cpio -o -H newc -R 0:0 --quiet) > "$2"; }
directory_archive "$tmp/root" "$tmp/runner.cpio"
append_archive "$tmp/runner.cpio"
n=0
for add in "${adds[@]}"; do
  if [[ -d $add ]]; then
    directory_archive "$add" "$tmp/add-$((++n)).cpio"
    append_archive "$tmp/add-$n.cpio"
  elif [[ -f $add ]]; then
    append_archive "$add"
  else
    echo "smoke.sh: --add $add: no such file or directory" >&2
    exit 126
  fi
done

machine=("${qemu_machine[@]}")
if ((kvm)); then
  # The host's CPU under KVM in place of the emulated one; the machine options (arm64's -M virt)
  # stay.
  machine=()
  for ((i = 0; i < ${#qemu_machine[@]}; i++)); do
    if [[ ${qemu_machine[i]} == -cpu ]]; then ((++i)); continue; fi
    machine+=("${qemu_machine[i]}")
  done
  machine+=(-enable-kvm -cpu host)
fi
report_port "$tmp/report"
status=0
# The first serial port is the console (to stdout, and to a log for the messages below); the
# second one the boot report.
timeout -k 10 "$timeout_s" "${machine[@]}" -m "$memory" -smp 1 \
  -display none -nic none -no-reboot \
  -chardev "stdio,id=console,signal=off,logfile=$tmp/console.log" -serial chardev:console \
  "${report_args[@]}" "${output_args[@]}" \
  -kernel "$kernel" -initrd "$tmp/initrd" \
  -append "console=$console panic=-1 $arch_append tsinit.exit=poweroff tsinit.report=$report_device $append" < /dev/null || status=$?
if [[ -n $report ]]; then cp "$tmp/report" "$report" 2>/dev/null || : > "$report"; fi
if [[ -n $output ]]; then cp "$tmp/output" "$output" 2>/dev/null || : > "$output"; fi

if ((status == 124 || status == 137)); then
  echo "smoke.sh: no poweroff within ${timeout_s} s; the console's last lines:" >&2
  tail -n 40 "$tmp/console.log" >&2 || true
  exit 124
fi
# The one thing read off the console: a panic, which no report line can tell.
if grep -a -q 'Kernel panic - not syncing' "$tmp/console.log" 2>/dev/null; then
  echo "smoke.sh: the kernel panicked:" >&2
  grep -a -A 12 'Kernel panic' "$tmp/console.log" | head -n 20 >&2
  exit 125
fi
if done=$(grep -a '"kind":"done"' "$tmp/report" 2>/dev/null | tail -n 1) && [[ $done =~ \"status\":([0-9]+) ]]; then
  exit "${BASH_REMATCH[1]}"
fi
echo "smoke.sh: qemu exited ($status) without a runner status; the console's last lines:" >&2
tail -n 40 "$tmp/console.log" >&2 || true
exit 126
