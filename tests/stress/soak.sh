#!/bin/sh
# soak.sh: run netnsd under everything at once for a while, sample it each
# minute, plot the samples.  Not part of `make check`.
#
# Usage: tests/stress/soak.sh [MINUTES [OUTDIR]]     (default 60, tests/stress/results)
#
# Runs tests/stress/soak.py (see there: a workload, create/delete cycles and
# light abuse against one netnsd, the kill -9 loop against another) and
# writes OUTDIR/soak-STAMP.csv (minutes, RSS KiB, fds, mounts, ...), .json
# (figures, kill -9 loop included) and, with gnuplot (Debian: gnuplot-nox),
# .png: RSS, fds and mounts over time.  NETNSD names the binary (default
# build/daemon/netnsd); SAMPLE_S the sampling interval (default 60).  Needs
# root.  Exit status: soak.py's (0: survived, flat enough to judge from the
# plot, no violation), 77 when not root.
set -eu

here=$(cd "$(dirname "$0")" && pwd)
minutes=${1:-60}
out=${2:-$here/results}
case $minutes in
'' | *[!0-9.]*)
	sed -n '5p' "$0" | sed 's/^# \{0,1\}//' >&2
	exit 2
	;;
esac
mkdir -p "$out"
stamp=$(date -u +%Y%m%dT%H%M%SZ)
base=$out/soak-$stamp
status=0
python3 "$here/soak.py" --minutes "$minutes" --sample-s "${SAMPLE_S:-60}" \
	--csv "$base.csv" --json "$base.json" || status=$?
[ "$status" -eq 77 ] && exit 77

if command -v gnuplot >/dev/null 2>&1 && [ -s "$base.csv" ]; then
	gnuplot <<PLOT
set datafile separator ","
set terminal pngcairo size 1000,700 noenhanced
set output "$base.png"
set multiplot layout 3,1 title "netnsd soak $stamp ($minutes min): sampled every ${SAMPLE_S:-60} s"
set key top left
set xlabel "minutes"
set ylabel "RSS (KiB)"
plot "$base.csv" using 1:2 skip 1 with linespoints title "netnsd RSS"
set ylabel "fds"
plot "$base.csv" using 1:3 skip 1 with linespoints title "netnsd open fds"
set ylabel "mounts"
plot "$base.csv" using 1:4 skip 1 with linespoints title "mountinfo lines (machine-wide)", \
     "$base.csv" using 1:5 skip 1 with linespoints title "of them ours"
unset multiplot
PLOT
	echo "soak: plot in $base.png"
else
	echo "soak: gnuplot not found (Debian: gnuplot-nox); no plot" >&2
fi
echo "soak: samples in $base.csv, figures in $base.json"
exit "$status"
