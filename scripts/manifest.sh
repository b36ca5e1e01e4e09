#!/usr/bin/env bash
# Print the mkcpio manifest of an initramfs, or of the example real root (docs/disk.md).
# Usage: scripts/manifest.sh tsinit|busybox-init|disk
# Environment: TSINIT (the executable, default dist/tsinit), BUSYBOX (default
# /bin/busybox), MODULES (kernel module names, default none), MODULES_DIR
# (lib/modules/VERSION of the kernel, needed only when MODULES is set) and
# MODULES_OUT (where the subsets of modules.dep and modules.alias are written,
# default dist/FLAVOR.modules).
# For another architecture than the host's (docs/arm64.md): SYSROOT, the folder the target's
# Debian packages were extracted to, where the executable's shared libraries are found (without
# it, ldd finds the host's), and CONSOLE, the serial console the busybox-init image's getty
# runs on (default ttyS0).
# For the tsinit flavor PAYLOAD (the folder scripts/payload.sh
# wrote: the record `image`, and `tsinit.img` unless the shape is plain), whose modules (loop,
# squashfs or erofs) are added to MODULES for this image only.
set -euo pipefail
cd "$(dirname "$0")/.."
export LC_ALL=C

flavor=${1:?usage: manifest.sh tsinit|busybox-init|disk}
tsinit=${TSINIT:-dist/tsinit}
busybox=${BUSYBOX:-/bin/busybox}
modules=${MODULES:-}
modules_dir=${MODULES_DIR:-}
sysroot=${SYSROOT:-}
console=${CONSOLE:-ttyS0}
payload=${PAYLOAD:-}

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
  tsinit_libraries
}
tsinit_libraries() {
  # The control client is the same executable, called by this name.
  echo "slink /sbin/initctl tsinit"
  shared_libs "$tsinit" | LC_ALL=C sort -u | while read -r lib source; do
    echo "file $lib $source 0755"
  done
}

# "PATH-IN-IMAGE SOURCE-FILE" for each shared library an executable needs and its dynamic
# loader (through ldd, or read from the ELF files in SYSROOT): scripts/shared-libs.sh.
shared_libs() { # EXECUTABLE
  SYSROOT=$sysroot scripts/shared-libs.sh "$1"
}

# Whether the kernel can mount the shape's filesystem with its compressor: the stub's mount would
# fail at boot otherwise. Read from the kernel package's config (boot/config-VERSION beside
# lib/modules/VERSION in the kernel cache); a kernel without one is not checked.
shape_supported() { # SHAPE
  local version config option
  version=$(basename "$(readlink -f "$modules_dir")")
  config=$(readlink -f "$modules_dir")/../../../boot/config-$version
  [[ -f $config ]] || return 0
  case $1 in
    squashfs-zstd) option=CONFIG_SQUASHFS_ZSTD ;;
    squashfs-xz) option=CONFIG_SQUASHFS_XZ ;;
    squashfs-lz4) option=CONFIG_SQUASHFS_LZ4 ;;
    squashfs-gzip) option=CONFIG_SQUASHFS_ZLIB ;;
    erofs-lz4) option=CONFIG_EROFS_FS_ZIP ;;
    *) return 0 ;;
  esac
  grep -qx "$option=y" "$config" || { echo "manifest.sh: kernel $version lacks $option (${config#"$PWD"/}): it cannot mount IMAGE_SHAPE=$1; pick another shape" >&2; return 1; }
}

# busybox's applets and where each lives. A busybox of another architecture cannot run here:
# then the host's busybox answers, if it is the same build (its version line says so).
busybox_applets() {
  if "$busybox" --list-full 2>/dev/null; then return; fi
  local host=/bin/busybox want have
  want=$(grep -a -o -m1 'BusyBox v[^)]*)' "$busybox" || true)
  have=$(grep -a -o -m1 'BusyBox v[^)]*)' "$host" || true)
  if [[ -z $want || $want != "$have" ]]; then
    echo "manifest.sh: cannot run $busybox to list its applets, and $host is another build ('$have', not '$want')" >&2
    return 1
  fi
  "$host" --list-full
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
busybox_applets | sort | while read -r applet; do
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
    # The stub checks the big file against the record, which comes before it in the archive
    # (mkcpio's `last`): a short unpack loses the big file's end, never the record.
    [[ -f $payload/image ]] || { echo "manifest.sh: no record $payload/image (scripts/payload.sh)" >&2; exit 1; }
    echo "file /lib/tsinit/image $payload/image 0644"
    # shellcheck disable=SC1091
    shape_modules=$(. "$payload/image" && echo "$modules")
    if [[ -z $shape_modules ]]; then
      echo "file /sbin/tsinit $tsinit 0755 last"
      tsinit_libraries
    else
      echo "dir /lib/tsinit/mnt 0755"
      echo "file /lib/tsinit/tsinit.img $payload/tsinit.img 0644 last"
      # The executable and its libraries are in the filesystem /init mounts; /proc/self/exe
      # names it there.
      echo "slink /sbin/tsinit /lib/tsinit/mnt/tsinit"
      echo "slink /sbin/initctl tsinit"
      # shellcheck disable=SC1091
      for lib in $(. "$payload/image" && echo "$libraries"); do
        echo "slink $lib /lib/tsinit/mnt$lib"
      done
      modules="$modules $shape_modules"
      shape_supported "$(. "$payload/image" && echo "$shape")"
    fi
    ;;
  busybox-init)
    echo "slink /init /bin/busybox"
    inittab=initramfs/busybox-init/etc/inittab
    if [[ $console != ttyS0 ]]; then
      # The getty on this machine's serial console (ttyAMA0 on arm64).
      out=${MODULES_OUT:-dist/$flavor.modules}
      mkdir -p "$out"
      sed "s/ttyS0/$console/g" "$inittab" > "$out/inittab.new"
      if cmp -s "$out/inittab.new" "$out/inittab"; then rm "$out/inittab.new"; else mv "$out/inittab.new" "$out/inittab"; fi
      inittab=$out/inittab
    fi
    echo "file /etc/inittab $inittab 0644"
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
  # Of modules.builtin.modinfo only the aliases of built-in modules are read (tsinit's module
  # planner; busybox modprobe reads none of it): the rest (licences, authors, parameters) is
  # left out, 36 KiB -> 2 KiB for Debian's cloud kernel.
  files=(modules.dep modules.alias)
  if [[ -f $modules_dir/modules.builtin.modinfo ]]; then
    tr '\0' '\n' < "$modules_dir/modules.builtin.modinfo" | grep -E '^[^.=]+\.alias=' | tr '\n' '\0' > "$tmp/modules.builtin.modinfo" || true
    files+=(modules.builtin.modinfo)
  fi
  # Rewritten only when they change, so make sees the image's inputs unchanged.
  for f in "${files[@]}"; do
    cmp -s "$tmp/$f" "$out/$f" || cp "$tmp/$f" "$out/$f"
    echo "file /lib/modules/$version/$f $out/$f 0644"
  done
  if [[ -f $modules_dir/modules.builtin ]]; then echo "file /lib/modules/$version/modules.builtin $modules_dir/modules.builtin 0644"; fi
fi
