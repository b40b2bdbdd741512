#!/usr/bin/env bash
# Take the README screenshots from the real viewer under Xvfb on the demo dialogue.
#   scripts/screenshots.sh [binary]   (default: target/debug/amuse); needs Xvfb, ImageMagick
#   (import, convert) and xdotool (to open the checkpoint window)
set -euo pipefail
cd "$(dirname "$0")/.."
bin="${1:-target/debug/amuse}"
display=:78
Xvfb "$display" -screen 0 1400x900x24 -nolisten tcp >/dev/null 2>&1 &
xvfb=$!
trap 'kill $xvfb 2>/dev/null || true' EXIT
sleep 1
shot() { # name utterance seconds [extra args]; $CLICK="x y" clicks there first
  DISPLAY=$display AMUSE_THREADS=1 "$bin" view assets/demo_dialogue.mp4 --utterance "$2" "${@:4}" >/dev/null 2>&1 &
  local app=$!
  sleep "$3"
  if [ -n "${CLICK:-}" ]; then
    # shellcheck disable=SC2086
    DISPLAY=$display xdotool mousemove $CLICK click 1
    sleep 3
  fi
  DISPLAY=$display import -window root "screenshots/$1.png"
  kill "$app" 2>/dev/null || true
  wait "$app" 2>/dev/null || true
}
mkdir -p screenshots
shot main 1 40
shot explanation 6 150   # the word explanation (LIME, 2000 samples) of a 10-word utterance
shot text-checkpoint 1 40 --checkpoint models/amuse-text
# "checkpoint: …" in the status bar opens the checkpoint window (reliability diagrams).
CLICK="265 888" shot checkpoint-window 1 40
# The timeline and trajectories (bottom panel) and the explanation panel (right), cut from
# the main window (1400×900 at the screen's origin: no window manager under Xvfb).
convert screenshots/main.png -crop 1400x274+0+606 +repage screenshots/timeline.png
convert screenshots/explanation.png -crop 341x575+1059+26 +repage screenshots/explanation-panel.png
echo "screenshots written to screenshots/"
