#!/bin/sh
# soak.sh: run netnsd under everything at once for a while, sample it each
# minute, plot the samples.  Not part of `make check`.
#
# Usage: tests/stress/soak.sh [MINUTES [OUTDIR]]     (default 60, tests/stress/results)
#
# Runs tests/stress/soak.py (see there: a workload, create/delete cycles and
# light abuse against one netnsd, the kill -9 loop against another) and
# writes OUTDIR/soak-STAMP.csv (minutes, RSS KiB, fds, mounts, ..., heap in
# use, queued bytes, slow answers: see soak.py), .json (figures, kill -9 loop
# included) and, with gnuplot (Debian: gnuplot-nox), .png: memory (RSS,
# RssAnon, heap in use, bytes queued for clients), fds, mounts and the
# workload's progress over time.  NETNSD names the binary (default
# build/daemon/netnsd); SAMPLE_S the sampling interval (default 60);
# MEMPROBE=0 turns off reading the heap and the queued bytes with gdb each
# sample (tests/stress/memprobe.py; on when gdb is installed).  Needs root.
# Exit status: soak.py's (0: survived, flat enough to judge from the plot,
# no violation), 77 when not root.
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
probe=
if [ "${MEMPROBE:-1}" != 0 ] && command -v gdb >/dev/null 2>&1; then
	probe=--gdb-probe
fi
python3 "$here/soak.py" --minutes "$minutes" --sample-s "${SAMPLE_S:-60}" \
	--csv "$base.csv" --json "$base.json" $probe || status=$?
[ "$status" -eq 77 ] && exit 77

if command -v gnuplot >/dev/null 2>&1 && [ -s "$base.csv" ]; then
	gnuplot <<PLOT
set datafile separator ","
set terminal pngcairo size 1300,1000 noenhanced
set output "$base.png"
set multiplot layout 4,1 title "netnsd soak $stamp ($minutes min): sampled every ${SAMPLE_S:-60} s"
set key outside right top
set lmargin at screen 0.07
set rmargin at screen 0.68
set xlabel "minutes"
set ylabel "MiB"
plot "$base.csv" using 1:(\$2/1024) skip 1 with linespoints title "netnsd RSS", \
     "$base.csv" using 1:(\$11/1024) skip 1 with linespoints title "RssAnon", \
     "$base.csv" using 1:(\$13/1024) skip 1 with linespoints title "malloc in use (incl. untouched capacity)", \
     "$base.csv" using 1:(\$15/1024) skip 1 with linespoints title "queued for clients"
set ylabel "fds"
plot "$base.csv" using 1:3 skip 1 with linespoints title "netnsd open fds"
set ylabel "mounts"
plot "$base.csv" using 1:4 skip 1 with linespoints title "mountinfo lines (machine-wide)", \
     "$base.csv" using 1:5 skip 1 with linespoints title "of them ours"
set ylabel "count"
set logscale y
plot "$base.csv" using 1:(\$10+1) skip 1 with linespoints title "workload: acknowledged + 1", \
     "$base.csv" using 1:(\$9+1) skip 1 with linespoints title "cycles + 1", \
     "$base.csv" using 1:(\$18+1) skip 1 with linespoints title "answers > 1 s, + 1", \
     "$base.csv" using 1:(\$19+1) skip 1 with linespoints title "answers > 30 s, + 1"
unset logscale y
unset multiplot
PLOT
	echo "soak: plot in $base.png"
else
	echo "soak: gnuplot not found (Debian: gnuplot-nox); no plot" >&2
fi
echo "soak: samples in $base.csv, figures in $base.json"
exit "$status"
