#!/usr/bin/env bash
# tools/setup.sh - install what agentflow needs on Debian 12, configure, build.
#
#   tools/setup.sh                 build packages; build/ (RelWithDebInfo)
#   tools/setup.sh --test          also the packages the tests and benchmarks use
#   tools/setup.sh --sanitize DIR  configure and build DIR with ASan + UBSan
#
# Installs only the packages that are missing (as root, or through sudo), so
# a second run does nothing and says nothing.
set -euo pipefail
cd "$(dirname "$0")/.."

build_packages=(gcc libc6-dev cmake ninja-build pkg-config
	liblua5.4-dev lua-cjson-dev liblmdb-dev libgit2-dev libuv1-dev
	libyaml-dev libedit-dev libxxhash-dev libmsgpack-dev curl sqlite3)
test_packages=(git tmux lua5.4 hyperfine jq libxml2-utils ninja-build python3 prometheus)

packages=("${build_packages[@]}")
build_dir=build
cmake_flags=(-DCMAKE_BUILD_TYPE=RelWithDebInfo)
while [ $# -gt 0 ]; do
	case "$1" in
	--test) packages+=("${test_packages[@]}") ;;
	--sanitize)
		build_dir=${2:?--sanitize needs a build directory}
		cmake_flags=(-DCMAKE_BUILD_TYPE=Debug -DAF_SANITIZE=ON)
		shift ;;
	-h|--help) sed -n '2,10p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
	*) echo "setup.sh: unknown option '$1' (see --help)" >&2; exit 64 ;;
	esac
	shift
done

missing=()
for p in "${packages[@]}"; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
	if [ "$(id -u)" -eq 0 ]; then
		sudo=()
	elif command -v sudo >/dev/null; then
		sudo=(sudo)
	else
		echo "setup.sh: these packages are missing and neither root nor sudo is available:" >&2
		echo "  ${missing[*]}" >&2
		exit 69
	fi
	echo "setup.sh: installing ${missing[*]}" >&2
	export DEBIAN_FRONTEND=noninteractive
	"${sudo[@]}" apt-get update -qq
	"${sudo[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

if [ ! -f "$build_dir/CMakeCache.txt" ]; then
	cmake -S . -B "$build_dir" -G Ninja "${cmake_flags[@]}" >/dev/null
fi
# ninja --quiet still says "no work to do"; a no-op build says nothing.
cmake --build "$build_dir" -- --quiet | { grep -v '^ninja: no work to do\.$' || true; }
