#!/usr/bin/env bash
# Generates peerline's default Swedish prompts into pbx/prompts/ as 8 kHz mono
# µ-law WAV files (the format of the calls themselves, half the size of PCM).
# Needs Debian's espeak-ng and sox. A real line records its own voice later and
# points lines[].prompts at a folder of WAVs with the same names.
#
# With --config FILE it instead writes each referral's own prompt, saying the
# service's name and number ("Jag kopplar dig vidare till Självmordslinjen,
# nummer 9 0 1 0 1. Stanna kvar i luren."), into its line's prompts folder as
# referral-star1.wav (for key *1); peerline plays it instead of the number alone.
set -euo pipefail
here=$(pwd)
repo=$(cd "$(dirname "$0")/../.." && pwd)
for tool in espeak-ng sox; do
  command -v "$tool" >/dev/null || { echo "need $tool (apt-get install espeak-ng sox)" >&2; exit 1; }
done
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT

# say TEXT OUT: Swedish speech into OUT as 8 kHz mono µ-law, silence trimmed.
say() {
  espeak-ng -v sv -s 150 -w "$tmp/say.wav" "$1"
  # -D: no dither, so that the same text gives the same file.
  # espeak-ng pads with silence; trim it so that pieces said one after the other
  # ("Du är nummer" "tre" "i kön") sound like one sentence.
  sox -D "$tmp/say.wav" -r 8000 -c 1 -e u-law -b 8 "$2" \
    silence 1 0.02 0.5% reverse silence 1 0.02 0.5% reverse pad 0 0.1
}

if [ "${1:-}" = "--config" ]; then
  [ -n "${2:-}" ] || { echo "usage: $0 --config FILE" >&2; exit 2; }
  (cd "$repo" && go build -o "$tmp/peerline" ./cmd/peerline)
  "$tmp/peerline" config prompts --config "$2" > "$tmp/referrals"
  while IFS='|' read -r folder name text; do
    say "$text" "$folder/$name.wav"
    echo "$folder/$name.wav: $text"
  done < "$tmp/referrals"
  exit 0
fi

cd "$repo"
out=pbx/prompts

while IFS='|' read -r name text; do
  [ -z "$name" ] && continue
  say "$text" "$out/$name.wav"
  echo "$name: $text"
done < deploy/prompts/prompts.txt

# Hold music for the queue: a calm, quiet arpeggio that loops without a seam
# (-R: the same pluck noise on every run).
notes=(C4 E4 G4 C5 G4 E4 A3 C4 E4 A4 E4 C4)
parts=()
for i in "${!notes[@]}"; do
  sox -R -n -r 8000 -c 1 "$tmp/note$i.wav" synth 0.6 pluck "${notes[$i]}" fade 0 0.6 0.3 vol 0.25
  parts+=("$tmp/note$i.wav")
done
sox -R -D "${parts[@]}" -e u-law -b 8 "$out/queue-music.wav"
echo "queue-music: ${#notes[@]} notes"
