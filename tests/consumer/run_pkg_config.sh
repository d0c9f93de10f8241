#!/usr/bin/env bash
# consumer_pkg_config: builds consumer.cpp with nothing but the compiler and pkg-config, as
# the README shows, against the prefix consumer_install made, and runs it: once linked with
# libedgehdf5.so, once with libedgehdf5.a and `pkg-config --static` (-l:libedgehdf5.a picks
# the archive, since -ledgehdf5 finds the shared library first when both are installed).
# Then the same for CONSUMER_C, the C ABI's example, compiled by $CC as C11 with
# -Werror (the static build gets the C++ runtime from the .pc file's Libs.private).
# Usage: run_pkg_config.sh LIBDIR WORK_DIR CONSUMER_CPP SHARED(0/1) CONSUMER_C
# Environment: CXX, CC, PKG_CONFIG, READELF, EXTRA_FLAGS (sanitizer flags, may be empty).
set -euo pipefail
libdir=$1 work=$2 source=$3 shared=$4 c_source=$5
export PKG_CONFIG_PATH=$libdir/pkgconfig
rm -rf "$work" && mkdir -p "$work/data"
read -r -a extra <<<"${EXTRA_FLAGS:-}"

if [ "$shared" = 1 ]; then
  flags=$("$PKG_CONFIG" --cflags --libs edgehdf5)
  echo "pkg-config --cflags --libs edgehdf5: $flags"
  # shellcheck disable=SC2086  # the flags are words
  "$CXX" -std=c++20 "${extra[@]}" "$source" -o "$work/consumer_shared" $flags
  "$READELF" -d "$work/consumer_shared" | grep -q 'NEEDED.*\[libedgehdf5\.so\.' ||
    { echo "consumer_pkg_config: the shared build does not need libedgehdf5.so"; exit 1; }
  LD_LIBRARY_PATH=$libdir "$work/consumer_shared" "$work/data"
fi

flags=$("$PKG_CONFIG" --static --cflags --libs edgehdf5)
echo "pkg-config --static --cflags --libs edgehdf5: $flags"
flags=${flags/-ledgehdf5/-l:libedgehdf5.a}
# shellcheck disable=SC2086
"$CXX" -std=c++20 "${extra[@]}" "$source" -o "$work/consumer_static" $flags
if "$READELF" -d "$work/consumer_static" | grep -q 'libedgehdf5\.so'; then
  echo "consumer_pkg_config: the static build needs libedgehdf5.so"; exit 1
fi
"$work/consumer_static" "$work/data"

# The C program: as the README's C section builds it.
c_flags=(-std=c11 -Wall -Wextra -Wpedantic -Werror)
mkdir -p "$work/c_data_shared" "$work/c_data_static"
if [ "$shared" = 1 ]; then
  # shellcheck disable=SC2046
  "$CC" "${c_flags[@]}" "${extra[@]}" "$c_source" -o "$work/consumer_c_shared" \
    $("$PKG_CONFIG" --cflags --libs edgehdf5)
  LD_LIBRARY_PATH=$libdir "$work/consumer_c_shared" "$work/c_data_shared"
fi
flags=$("$PKG_CONFIG" --static --cflags --libs edgehdf5)
flags=${flags/-ledgehdf5/-l:libedgehdf5.a}
# shellcheck disable=SC2086
"$CC" "${c_flags[@]}" "${extra[@]}" "$c_source" -o "$work/consumer_c_static" $flags
"$work/consumer_c_static" "$work/c_data_static"
echo "consumer_pkg_config: ok"
