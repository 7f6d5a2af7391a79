#!/usr/bin/env bash
# Generates peerline's default Swedish prompts into pbx/prompts/ as 8 kHz mono
# µ-law WAV files (the format of the calls themselves, half the size of PCM).
# Needs Debian's espeak-ng and sox. A real line records its own voice later and
# points lines[].prompts at a folder of WAVs with the same names.
set -euo pipefail
cd "$(dirname "$0")/../.."
out=pbx/prompts
for tool in espeak-ng sox; do
  command -v "$tool" >/dev/null || { echo "need $tool (apt-get install espeak-ng sox)" >&2; exit 1; }
done
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT

while IFS='|' read -r name text; do
  [ -z "$name" ] && continue
  espeak-ng -v sv -s 150 -w "$tmp/$name.wav" "$text"
  sox "$tmp/$name.wav" -r 8000 -c 1 -e u-law -b 8 "$out/$name.wav"
  echo "$name: $text"
done < deploy/prompts/prompts.txt
