#!/usr/bin/env bash
# Print "PATH-IN-IMAGE SOURCE-FILE" for each shared library an executable needs and for its
# dynamic loader: what scripts/manifest.sh puts in the image and scripts/payload.sh in the
# squashfs. From the host through ldd; with SYSROOT (the folder the target's Debian packages were
# extracted to, docs/arm64.md) by reading the ELF files themselves, since ldd cannot run another
# architecture's loader. A library that cannot be found is an error naming it.
# Usage: scripts/shared-libs.sh EXECUTABLE
set -euo pipefail
export LC_ALL=C

exe=${1:?usage: shared-libs.sh EXECUTABLE}
sysroot=${SYSROOT:-}

if [[ -z $sysroot ]]; then
  answer=$(ldd "$exe")
  if grep -q 'not found' <<< "$answer"; then
    echo "shared-libs.sh: ldd $exe: $(grep 'not found' <<< "$answer" | tr -s '\t ' ' ')" >&2
    exit 1
  fi
  awk '/=> \// {print $3} /^\t\/[^ ]+ \(/ {print $1}' <<< "$answer" | while read -r lib; do
    real=$(readlink -e "$lib")
    echo "$lib $real"
  done
  exit 0
fi

# The real file behind PATH of SYSROOT (relative to the working directory when inside it); a
# link that leads out of SYSROOT is an error.
inside_sysroot() { # PATH
  local real root
  real=$(readlink -f "$sysroot$1")
  root=$(readlink -f "$sysroot")
  [[ $real == "$root"/* && -f $real ]] || { echo "shared-libs.sh: $sysroot$1 is not a file inside $sysroot" >&2; return 1; }
  echo "${real#"$PWD"/}"
}

machine=$(readelf -h "$exe" | sed -n 's/^ *Machine: *//p')
case $machine in
  AArch64) triplet=aarch64-linux-gnu ;;
  *X86-64) triplet=x86_64-linux-gnu ;;
  *) echo "shared-libs.sh: no library folder known for machine '$machine' of $exe" >&2; exit 1 ;;
esac
interp=$(readelf -l "$exe" | sed -n 's/.*Requesting program interpreter: \(.*\)]$/\1/p')
[[ -n $interp ]] || { echo "shared-libs.sh: $exe names no dynamic loader" >&2; exit 1; }
# (Each file is taken into a variable first: under set -e a failing $(...) inside echo's
# arguments would be ignored and print an empty name.)
real=$(inside_sysroot "$interp")
echo "$interp $real"
# The loader is also NEEDED by name; it is the one already loaded, never a second copy.
declare -A seen=(["${interp##*/}"]=1)
queue=("$exe")
while ((${#queue[@]})); do
  file=${queue[0]}; queue=("${queue[@]:1}")
  for name in $(readelf -d "$file" | sed -n 's/.*(NEEDED).*\[\(.*\)\]$/\1/p'); do
    [[ -n ${seen[$name]:-} ]] && continue
    seen[$name]=1
    found=
    for dir in /lib/$triplet /usr/lib/$triplet /lib /usr/lib; do
      if [[ -e $sysroot$dir/$name ]]; then found=$dir/$name; break; fi
    done
    [[ -n $found ]] || { echo "shared-libs.sh: $name (needed by $file) is not in $sysroot" >&2; exit 1; }
    real=$(inside_sysroot "$found")
    echo "$found $real"
    queue+=("$sysroot$found")
  done
done
