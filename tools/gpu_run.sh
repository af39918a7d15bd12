#!/usr/bin/env bash
# Runs on the GPU machine, from the repository root, with what tools/cuda.sh
# built carried along (target/release/examples/gpu_check, target/cuda/carry):
#   1. puts the CUDA libraries PyTorch ships (cuBLAS, cuBLASLt, NVRTC of
#      CUDA 13) and the driver's libcuda.so.1 on the library path;
#   2. runs gpu_check (CPU against GPU: equality and samples/s);
#   3. runs bench/gpu.py (the same workloads in PyTorch on cuDNN);
# and writes both JSON files, nvidia-smi's answer and the build's record
# (build.json) to OUT_DIR (default target/gpu): bench/gpu/ keeps the last. Needs no Rust,
# no network; takes under 5 minutes on an H100/H200.
#
# Usage: bash tools/gpu_run.sh [OUT_DIR]
set -euo pipefail
cd "$(dirname "$0")/.."
OUT_DIR=${1:-target/gpu}
PY=${PYTHON:-python3}
EXE=target/release/examples/gpu_check
mkdir -p "$OUT_DIR"
[[ -x $EXE ]] || { echo "gpu_run: $EXE missing: run tools/cuda.sh on the build machine and carry it" >&2; exit 1; }

LIBS=$("$PY" - <<'PYEOF'
import glob, os, site
dirs = set()
for sp in site.getsitepackages() + [site.getusersitepackages()]:
    for f in glob.glob(os.path.join(sp, "nvidia", "**", "lib*.so*"), recursive=True):
        dirs.add(os.path.dirname(f))
print(":".join(sorted(dirs)))
PYEOF
)
export LD_LIBRARY_PATH="$LIBS${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
if ! ldconfig -p | grep -q 'libcuda.so.1 '; then
  for d in /usr/local/nvidia/lib64 /usr/local/nvidia/lib /usr/lib/x86_64-linux-gnu; do
    [[ -e $d/libcuda.so.1 ]] && export LD_LIBRARY_PATH="$LD_LIBRARY_PATH:$d"
  done
fi

# The include folders NVRTC reads at run time, at the absolute paths the
# build recorded (tools/cuda.sh), linked to the carried copies.
CARRY=target/cuda/carry
[[ -f $CARRY/paths ]] || { echo "gpu_run: $CARRY missing: carry it with the binary" >&2; exit 1; }
while read -r what path; do
  if [[ ! -e $path ]]; then
    mkdir -p "$(dirname "$path")"
    ln -sfn "$PWD/$CARRY/$what" "$path"
  fi
done <"$CARRY/paths"

cp "$CARRY/build.json" "$OUT_DIR/build.json"
nvidia-smi --query-gpu=name,driver_version,compute_cap,memory.total --format=csv | tee "$OUT_DIR/nvidia-smi.csv"
echo "gpu_run: libraries: $(ldd "$EXE" | grep -E 'cuda|cublas|nvrtc' | tr -s ' \t' ' ' | tr '\n' ';')"

status=0
echo "gpu_run: gpu_check"
timeout 210 "$EXE" >"$OUT_DIR/gpu_check.json" || status=$?
cat "$OUT_DIR/gpu_check.json"
echo "gpu_run: bench/gpu.py"
timeout 90 "$PY" bench/gpu.py "$OUT_DIR/pytorch_gpu.json" >/dev/null || status=$?
cat "$OUT_DIR/pytorch_gpu.json" 2>/dev/null || true
exit $status
