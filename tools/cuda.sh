#!/usr/bin/env bash
# Builds the `cuda` feature on a machine with no GPU and no CUDA install:
#   1. installs CUDA 13.0's compiler (nvcc, cicc, ptxas), headers and the
#      libraries cudarc links (nvrtc, cuBLAS, cuBLASLt) from the Python
#      package index into target/cuda/py (skipped when present);
#   2. lays out a toolkit root under target/cuda/root as cudarc's and dfdx's
#      build scripts look for it: include/ and lib64/ with the unversioned
#      names the linker asks for;
#   3. writes a link stub for the driver library (libcuda.so, soname
#      libcuda.so.1) holding the entry points cudarc declares, so the link
#      records the dependency; at run time the GPU machine's own driver
#      library is loaded, never the stub (it is not on the library path);
#   4. answers dfdx's build script, which asks `nvidia-smi` for the compute
#      capability, with CUDA_COMPUTE_CAP (default 90: H100/H200) through a
#      build-time `nvidia-smi` that prints it; nothing of it reaches run time;
#   5. runs `cargo build --release --features cuda --example gpu_check`.
# Target: CUDA 13.0 (PTX ISA 9.0, the toolkit of NVIDIA driver 580 and of
# PyTorch's cu130 wheels, whose libraries the GPU machine loads at run time),
# compute capability 9.0 (sm_90). Safe to run repeatedly.
#
# Usage: bash tools/cuda.sh [extra cargo args]
# The binary lands in target/release/examples/gpu_check; tools/gpu_run.sh
# runs it on the GPU machine.
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$HOME/.cargo/bin:$PATH"

PY=${PYTHON:-python3}
CAP=${CUDA_COMPUTE_CAP:-90}
BASE=target/cuda
SITE=$BASE/py
ROOT=$BASE/root
PACKAGES=(
  nvidia-cuda-nvcc==13.0.88 nvidia-cuda-crt==13.0.88 nvidia-nvvm==13.0.88
  nvidia-cuda-cccl==13.0.85 nvidia-cuda-runtime==13.0.96
  nvidia-cuda-nvrtc==13.0.88 nvidia-cublas==13.0.2.14
)
STAMP=$SITE/.installed-$(echo "${PACKAGES[*]}" | cksum | cut -d' ' -f1)

if [[ -f $STAMP ]]; then
  echo "cuda: CUDA 13.0 build prerequisites present in $SITE"
else
  echo "cuda: installing CUDA 13.0 build prerequisites into $SITE (pip, ≈ 1.2 GB)"
  rm -rf "$SITE"
  # One pip call: with --target, a second call would replace nvidia/.
  "$PY" -m pip install --quiet --disable-pip-version-check --no-deps --target "$SITE" "${PACKAGES[@]}"
  touch "$STAMP"
fi

CU=$(cd "$SITE/nvidia/cu13" && pwd)
mkdir -p "$ROOT/lib64" "$BASE/bin"
ln -sfn "$CU/include" "$ROOT/include"
for lib in nvrtc cublas cublasLt; do
  ln -sf "$CU/lib/lib$lib.so.13" "$ROOT/lib64/lib$lib.so"
done

# The driver's entry points as cudarc declares them (its bindings name the
# versioned symbols, e.g. cuCtxCreate_v2).
STUB=$ROOT/lib64/libcuda.so
if [[ ! -f $STUB ]]; then
  echo "cuda: writing the link stub for libcuda.so.1"
  SYS=$(cargo metadata --format-version 1 --features cuda 2>/dev/null | "$PY" -c '
import json, os, sys
for p in json.load(sys.stdin)["packages"]:
    if p["name"] == "cudarc":
        print(os.path.join(os.path.dirname(p["manifest_path"]), "src", "driver", "sys.rs"))
        break')
  [[ -f $SYS ]] || { echo "cuda: cudarc's driver bindings not found (cargo fetch first)" >&2; exit 1; }
  grep -oE 'pub fn cu[A-Za-z0-9_]+' "$SYS" | sort -u | sed -E 's/pub fn (.*)/void \1(void) {}/' >"$BASE/cuda_stub.c"
  gcc -shared -fPIC -Wl,-soname,libcuda.so.1 -o "$STUB" "$BASE/cuda_stub.c"
fi

# dfdx's build script queries nvidia-smi for the compute capability before
# it reads CUDA_COMPUTE_CAP; this one answers the capability being built for.
cat >"$BASE/bin/nvidia-smi" <<EOF
#!/bin/sh
# Build-time answer for dfdx's build script (tools/cuda.sh); not a driver tool.
printf 'compute_cap\n%s.%s\n' "${CAP%?}" "${CAP: -1}"
EOF
chmod +x "$BASE/bin/nvidia-smi"

echo "cuda: building gpu_check for sm_$CAP against CUDA 13.0"
# ASSETALLOC_CUDA_TOOLKIT lets Device::cuda name a driver older than the
# toolkit before any kernel loads (13000 = CUDA 13.0).
export CUDA_ROOT=$PWD/$ROOT CUDA_COMPUTE_CAP=$CAP ASSETALLOC_CUDA_TOOLKIT=13000
export PATH="$PWD/$BASE/bin:$CU/bin:$PATH"
# The linker follows libcublas's own dependency (libcublasLt) through here.
export LD_LIBRARY_PATH="$CU/lib${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
cargo build --release --features cuda --example gpu_check "$@"
EXE=target/release/examples/gpu_check

# A few of dfdx's kernels (reshape, stack, concat, dtype casts) are compiled
# at run time by NVRTC with two include folders whose absolute paths the
# build wrote into the binary: the toolkit's include/ (for cuda_fp16.h) and
# dfdx's build output (cuda_utils.cuh). target/cuda/carry holds what they
# need and the two paths; tools/gpu_run.sh links them into place on the GPU
# machine.
CARRY=$BASE/carry
rm -rf "$CARRY" && mkdir -p "$CARRY/include" "$CARRY/kernels"
for h in cuda_fp16.h cuda_fp16.hpp cuda_bf16.h cuda_bf16.hpp vector_types.h vector_functions.h vector_functions.hpp; do
  cp "$CU/include/$h" "$CARRY/include/"
done
OUT_DIR=$(grep -a -o "$PWD/target/release/build/dfdx-[0-9a-f]*/out" "$EXE" | sort -u)
[[ $(echo "$OUT_DIR" | wc -l) == 1 && -f $OUT_DIR/cuda_utils.cuh ]] || { echo "cuda: cannot tell dfdx's build folder from the binary: $OUT_DIR" >&2; exit 1; }
cp "$OUT_DIR"/*.cuh "$CARRY/kernels/"
printf 'include %s\nkernels %s\n' "$PWD/$ROOT/include" "$OUT_DIR" >"$CARRY/paths"
# What was built, for the results the GPU run writes.
printf '{"commit": "%s", "dirty": %s, "built": "%s", "toolkit": "CUDA 13.0", "compute_capability": "%s", "rustc": "%s"}\n' \
  "$(git rev-parse --short HEAD 2>/dev/null || echo unknown)" \
  "$([[ -z $(git status --porcelain --untracked-files=no 2>/dev/null) ]] && echo false || echo true)" \
  "$(date -u +%Y-%m-%dT%H:%MZ)" "$CAP" "$(rustc --version | cut -d' ' -f2)" >"$CARRY/build.json"
echo "cuda: built $EXE; carry it with $CARRY to the GPU machine (tools/gpu_run.sh)"
