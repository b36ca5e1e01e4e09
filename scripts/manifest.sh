#!/usr/bin/env bash
# Print the mkcpio manifest of an initramfs, or of the example real root (docs/disk.md).
# Usage: scripts/manifest.sh tsinit|busybox-init|disk
# Environment: TSINIT (the executable, default dist/tsinit), BUSYBOX (default
# /bin/busybox), MODULES (kernel module names, default none), MODULES_DIR
# (lib/modules/VERSION of the kernel, needed only when MODULES is set) and
# MODULES_OUT (where the subsets of modules.dep and modules.alias are written,
# default dist/FLAVOR.modules).
set -euo pipefail
cd "$(dirname "$0")/.."
export LC_ALL=C

flavor=${1:?usage: manifest.sh tsinit|busybox-init|disk}
tsinit=${TSINIT:-dist/tsinit}
busybox=${BUSYBOX:-/bin/busybox}
modules=${MODULES:-}
modules_dir=${MODULES_DIR:-}

# Git keeps only the executable bit; normalise modes so the umask of the
# checkout does not leak into the image.
mode_of() { if [[ -x $1 ]]; then echo 0755; else echo 0644; fi; }

# The files and links under a source folder, at the same paths below PREFIX in the image. Their
# directories come with them (mkcpio.ts adds missing parents as 0755); /etc/shadow is root's.
tree_files() { # FOLDER PREFIX
  find "$1" \( -type f -o -type l \) | LC_ALL=C sort | while read -r f; do
    name=$2/${f#"$1"/}
    if [[ -L $f ]]; then echo "slink $name $(readlink "$f")"; continue; fi
    mode=$(mode_of "$f")
    [[ $name == /etc/shadow ]] && mode=0600
    echo "file $name $f $mode"
  done
}

# PID 1's executable, the control client's link and the shared libraries, at the paths the
# dynamic loader will look for them.
tsinit_files() {
  echo "file /sbin/tsinit $tsinit 0755"
  # The control client is the same executable, called by this name.
  echo "slink /sbin/initctl tsinit"
  ldd "$tsinit" | awk '/=> \// {print $3} /^\t\/[^ ]+ \(/ {print $1}' | LC_ALL=C sort -u |
    while read -r lib; do
      echo "file $lib $(readlink -f "$lib") 0755"
    done
}

case $flavor in
  tsinit|busybox-init) echo "# $flavor initramfs" ;;
  disk) echo "# the example real root" ;;
  *) echo "manifest.sh: unknown flavor $flavor" >&2; exit 2 ;;
esac
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
# needed; init is left out too but in the busybox-init image: elsewhere tsinit is
# the only init.
"$busybox" --list-full | sort | while read -r applet; do
  case $applet in
    bin/busybox) continue ;;
    linuxrc) continue ;;
    sbin/init) [[ $flavor != busybox-init ]] && continue ;;
  esac
  echo "slink /$applet /bin/busybox"
done

if [[ $flavor == disk ]]; then tree_files disk ""; else tree_files initramfs/etc /etc; fi

case $flavor in
  tsinit)
    echo "file /init initramfs/init 0755"
    tsinit_files
    ;;
  busybox-init)
    echo "slink /init /bin/busybox"
    echo "file /etc/inittab initramfs/busybox-init/etc/inittab 0644"
    ;;
  disk)
    # The kernel, or an initramfs after switch_root, runs /sbin/init.
    tsinit_files
    echo "slink /sbin/init tsinit"
    for d in /mnt /srv /var /var/log; do echo "dir $d 0755"; done
    echo "dir /var/tmp 1777"
    echo "slink /var/run ../run"
    echo "slink /etc/mtab ../proc/self/mounts"
    ;;
esac

# Kernel modules: each named one and what it needs, the lines of modules.dep and modules.alias
# that describe them (written to MODULES_OUT, since the manifest names files), and the kernel's
# modules.builtin and modules.builtin.modinfo, so that tsinit (and busybox modprobe) knows a
# name that is built in (ext4, fs-ext4) from one that is missing.
if [[ -n $modules ]]; then
  [[ -f $modules_dir/modules.dep ]] || { echo "manifest.sh: no $modules_dir/modules.dep" >&2; exit 1; }
  version=$(basename "$(readlink -f "$modules_dir")")
  out=${MODULES_OUT:-dist/$flavor.modules}
  mkdir -p "$out"
  tmp=$(mktemp -d)
  trap 'rm -rf "$tmp"' EXIT
  declare -A seen=()
  queue=()
  for m in $modules; do
    pattern="(^|/)${m//[-_]/[-_]}\.ko(\.[a-z]+)?"
    line=$(grep -E "${pattern}:" "$modules_dir/modules.dep" || true)
    if [[ -z $line ]]; then
      if grep -qE "${pattern}\$" "$modules_dir/modules.builtin" 2>/dev/null; then
        echo "manifest.sh: $m is built into kernel $version; the image needs no file for it" >&2
        continue
      fi
      echo "manifest.sh: no module $m in kernel $version" >&2
      exit 1
    fi
    queue+=("${line%%:*}")
  done
  while ((${#queue[@]})); do
    ko=${queue[0]}; queue=("${queue[@]:1}")
    [[ -n ${seen[$ko]:-} ]] && continue
    seen[$ko]=1
    line=$(grep -E "^${ko//./\\.}:" "$modules_dir/modules.dep")
    echo "$line" >> "$tmp/modules.dep"
    for d in ${line#*:}; do queue+=("$d"); done
    echo "file /lib/modules/$version/$ko $modules_dir/$ko 0644" >> "$tmp/files"
  done
  sort "$tmp/files"
  sort -o "$tmp/modules.dep" "$tmp/modules.dep"
  # The aliases of the modules carried, by module name (`-` spelled `_`, as depmod writes it).
  touch "$tmp/modules.alias"
  if [[ -f $modules_dir/modules.alias ]]; then
    for ko in "${!seen[@]}"; do
      name=${ko##*/}; name=${name%%.ko*}; echo "${name//-/_}"
    done > "$tmp/names"
    awk 'NR == FNR { carried[$1] = 1; next } $1 == "alias" && NF == 3 { m = $3; gsub(/-/, "_", m); if (m in carried) print }' \
      "$tmp/names" "$modules_dir/modules.alias" | sort > "$tmp/modules.alias"
  fi
  # Rewritten only when they change, so make sees the image's inputs unchanged.
  for f in modules.dep modules.alias; do
    cmp -s "$tmp/$f" "$out/$f" || cp "$tmp/$f" "$out/$f"
    echo "file /lib/modules/$version/$f $out/$f 0644"
  done
  for f in modules.builtin modules.builtin.modinfo; do
    if [[ -f $modules_dir/$f ]]; then echo "file /lib/modules/$version/$f $modules_dir/$f 0644"; fi
  done
fi
