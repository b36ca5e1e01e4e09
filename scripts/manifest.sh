#!/usr/bin/env bash
# Print the mkcpio manifest of an initramfs.
# Usage: scripts/manifest.sh tsinit|busybox-init
# Environment: TSINIT (the executable, default dist/tsinit), BUSYBOX (default
# /bin/busybox), MODULES (kernel module names, default none) and MODULES_DIR
# (lib/modules/VERSION of the kernel, needed only when MODULES is set).
set -euo pipefail
cd "$(dirname "$0")/.."
export LC_ALL=C

flavor=${1:?usage: manifest.sh tsinit|busybox-init}
tsinit=${TSINIT:-dist/tsinit}
busybox=${BUSYBOX:-/bin/busybox}
modules=${MODULES:-}
modules_dir=${MODULES_DIR:-}

# Git keeps only the executable bit; normalise modes so the umask of the
# checkout does not leak into the image.
mode_of() { if [[ -x $1 ]]; then echo 0755; else echo 0644; fi; }

echo "# $flavor initramfs"
for d in /bin /sbin /usr/bin /usr/sbin /etc /lib /lib64 /proc /sys /dev /run /tmp /root; do
  mode=0755
  [[ $d == /tmp ]] && mode=1777
  [[ $d == /root ]] && mode=0700
  echo "dir $d $mode"
done
# The kernel opens /dev/console for /init before anything mounts devtmpfs.
echo "nod /dev/console 0600 c 5 1"

echo "file /bin/busybox $busybox 0755"
# Applet links where busybox says each applet lives. linuxrc is never
# needed; in the tsinit image init is left out too: tsinit is the only init.
"$busybox" --list-full | sort | while read -r applet; do
  case $applet in
    bin/busybox) continue ;;
    linuxrc) continue ;;
    sbin/init) [[ $flavor == tsinit ]] && continue ;;
  esac
  echo "slink /$applet /bin/busybox"
done

for f in initramfs/etc/*; do
  [[ -f $f ]] || continue
  name=${f#initramfs/}
  mode=$(mode_of "$f")
  [[ $name == etc/shadow ]] && mode=0600
  echo "file /$name $f $mode"
done
if [[ -d initramfs/etc/tsinit.d ]]; then
  find initramfs/etc/tsinit.d -mindepth 1 | LC_ALL=C sort | while read -r f; do
    if [[ -d $f ]]; then echo "dir /${f#initramfs/} 0755"
    else echo "file /${f#initramfs/} $f $(mode_of "$f")"; fi
  done
fi

case $flavor in
  tsinit)
    echo "file /init initramfs/init 0755"
    echo "file /sbin/tsinit $tsinit 0755"
    # The control client is the same executable, called by this name.
    echo "slink /sbin/initctl tsinit"
    # Shared libraries, at the paths the dynamic loader will look for them.
    ldd "$tsinit" | awk '/=> \// {print $3} /^\t\/[^ ]+ \(/ {print $1}' | LC_ALL=C sort -u |
      while read -r lib; do
        echo "file $lib $(readlink -f "$lib") 0755"
      done
    ;;
  busybox-init)
    echo "slink /init /bin/busybox"
    echo "file /etc/inittab initramfs/busybox-init/etc/inittab 0644"
    ;;
  *) echo "manifest.sh: unknown flavor $flavor" >&2; exit 2 ;;
esac

# Kernel modules and the lines of modules.dep that describe them.
if [[ -n $modules ]]; then
  [[ -f $modules_dir/modules.dep ]] || { echo "manifest.sh: no $modules_dir/modules.dep" >&2; exit 1; }
  version=$(basename "$(readlink -f "$modules_dir")")
  dep=$(mktemp)
  trap 'rm -f "$dep"' EXIT
  declare -A seen=()
  queue=()
  for m in $modules; do
    line=$(grep -E "(^|/)${m//-/[-_]}\.ko(\.[a-z]+)?:" "$modules_dir/modules.dep" || true)
    [[ -n $line ]] || { echo "manifest.sh: module $m not found" >&2; exit 1; }
    queue+=("${line%%:*}")
  done
  while ((${#queue[@]})); do
    ko=${queue[0]}; queue=("${queue[@]:1}")
    [[ -n ${seen[$ko]:-} ]] && continue
    seen[$ko]=1
    line=$(grep -E "^${ko//./\\.}:" "$modules_dir/modules.dep")
    echo "$line" >> "$dep"
    for d in ${line#*:}; do queue+=("$d"); done
    echo "file /lib/modules/$version/$ko $modules_dir/$ko 0644"
  done
  LC_ALL=C sort "$dep" > "$dep.sorted" && mv "$dep.sorted" "$dep"
  # The manifest names files, so the subset of modules.dep goes to dist/.
  mkdir -p dist
  cp "$dep" "dist/modules.dep"
  echo "file /lib/modules/$version/modules.dep dist/modules.dep 0644"
fi
