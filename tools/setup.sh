#!/usr/bin/env bash
# Installs what running the notebooks needs, skipping whatever is present:
#   - Jupyter (JupyterLab, nbclient, nbconvert) and plotly from PyPI;
#   - the evcxr Rust kernel (evcxr_jupyter, pinned) via cargo install --locked;
#   - the kernel spec ("rust") for Jupyter;
#   - cmake and libclang (apt) for the `milp` feature's HiGHS build;
#   - slurm-wlm, munge and GNU parallel (apt) for tools/slurm/.
# Safe to run repeatedly; prints one line per step.
set -euo pipefail
cd "$(dirname "$0")/.."

EVCXR_VERSION=0.22.0
PY=${PYTHON:-python3}
export PATH="$HOME/.cargo/bin:$PATH"

if "$PY" -c 'import jupyterlab, nbclient, nbconvert, nbformat, plotly' 2>/dev/null; then
  echo "setup: Jupyter and plotly present"
else
  echo "setup: installing Jupyter and plotly (pip)"
  "$PY" -m pip install --quiet --disable-pip-version-check -r tools/requirements.txt
fi

# evcxr_jupyter has no --version; cargo's install record names the version.
if command -v evcxr_jupyter >/dev/null 2>&1 && grep -qs "^\"evcxr_jupyter $EVCXR_VERSION " "${CARGO_HOME:-$HOME/.cargo}/.crates.toml"; then
  echo "setup: evcxr_jupyter $EVCXR_VERSION present"
else
  echo "setup: installing evcxr_jupyter $EVCXR_VERSION (cargo install --locked, ≈ 10 min on 2 cores)"
  cargo install --locked --quiet evcxr_jupyter --version "$EVCXR_VERSION"
fi

# evcxr's rust-analyzer reads the standard library's source to infer the
# types of notebook variables.
if ! rustup component list --installed 2>/dev/null | grep -q '^rust-src'; then
  echo "setup: adding rust-src"
  timeout 300 rustup component add rust-src >/dev/null 2>&1 || echo "setup: could not add rust-src; evcxr may not infer some variable types"
fi

# The `milp` feature builds HiGHS from source: cmake, and libclang for the
# bindings (Debian: cmake, libclang-dev).
if command -v cmake >/dev/null 2>&1 && compgen -G "/usr/lib/llvm-*/lib/libclang.so*" >/dev/null; then
  echo "setup: cmake and libclang present (the milp feature's HiGHS build)"
else
  echo "setup: installing cmake and libclang-dev (apt) for the milp feature's HiGHS build"
  SUDO=""
  [ "$(id -u)" -eq 0 ] || SUDO="sudo"
  $SUDO apt-get update -qq >/dev/null && $SUDO apt-get install -y -qq cmake libclang-dev >/dev/null
fi

# Sweeps on a cluster scheduler: a one-node Slurm (slurm-wlm, munge) and
# GNU parallel, for tools/slurm/ci.sh.
if command -v slurmctld >/dev/null 2>&1 && command -v munged >/dev/null 2>&1 && command -v parallel >/dev/null 2>&1; then
  echo "setup: slurm-wlm, munge and parallel present (tools/slurm/)"
else
  echo "setup: installing slurm-wlm, munge and parallel (apt) for tools/slurm/"
  SUDO=""
  [ "$(id -u)" -eq 0 ] || SUDO="sudo"
  $SUDO apt-get update -qq >/dev/null && $SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq slurm-wlm munge parallel >/dev/null
fi

if "$PY" -m jupyter kernelspec list 2>/dev/null | grep -qE '^\s*rust\s'; then
  echo "setup: Jupyter kernel 'rust' registered"
else
  echo "setup: registering the evcxr kernel with Jupyter"
  evcxr_jupyter --install >/dev/null
fi
