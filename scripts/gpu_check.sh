#!/bin/bash
# gpu_check.sh - the CUDA backend's measurements, in one bounded script, for a machine with a GPU
# and little else (a driver, the CUDA toolkit's compute-sanitizer and ncu, python3).
#
# Run it from a folder that holds bin/bragg (built with CUDA), assets/, and optionally lib/ (the
# shared libraries bragg links, when the machine lacks them) and build/release/unit_tests with
# its bin/bragg beside it. Results and a log go to $OUT (default /tmp/bragg-gpu-check). Every
# step has its own time limit, so the whole script stays under about eight minutes on an H100 or
# H200; what it prints is what docs/benchmarks.md records (figures with the machine and the
# command). Nothing is compared against a number bragg printed earlier: the CPU and GPU runs are
# made side by side, in the same script.
#
# What it measures, in the order that matters if time runs out:
#   1. the CSV of a nuclear C-12 run, CPU against GPU, byte for byte; the phase space's MCPL file
#      too; the CUDA unit tests;
#   2. throughput of the four cases of issue 13's targets on the GPU and on all CPU cores;
#   3. the loop's shape: steps per pass, particles in flight, warp aggregation, register caps,
#      private copies of the curves (BRAGG_CUDA_COPIES), all with the same seed (same bits);
#   4. a profiled run (per-stage GPU times), cancel latency, compute-sanitizer memcheck;
#   5. `bragg bench --quick` and one Nsight Compute report of the step kernel.
set -u
HERE=$(pwd)
O=${OUT:-/tmp/bragg-gpu-check}
mkdir -p "$O"
export LD_LIBRARY_PATH=$HERE/lib${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}
export BRAGG_ASSETS=${BRAGG_ASSETS:-$HERE/assets} BRAGG_BIN=$HERE/bin/bragg TMPDIR=${TMPDIR:-/tmp}
B=$HERE/bin/bragg
exec > >(tee "$O/log.txt") 2>&1
t0=$(date +%s)
elapsed() { echo "-- t=$(($(date +%s) - t0)) s"; }

echo "== machine"
nvidia-smi --query-gpu=name,driver_version,memory.total,clocks.max.sm --format=csv,noheader
lscpu | grep -E 'Model name|^CPU\(s\)'
$B --version

C12="--ion C-12 --energy 400 --material water"
echo "== CPU against GPU, byte for byte (C-12 400 MeV/u, 2000 histories, nuclear on)"
timeout 60 $B run $C12 -n 2000 --seed 5 --backend cuda -q --csv "$O/gpu.csv" --json "$O/gpu.json"
echo "cuda rc=$?"
timeout 60 $B run $C12 -n 2000 --seed 5 --backend openmp -q --csv "$O/cpu.csv"
echo "openmp rc=$?"
cmp "$O/gpu.csv" "$O/cpu.csv" && echo "CSV IDENTICAL" || echo "CSV DIFFER"
for c in 4 16; do
    BRAGG_CUDA_COPIES=$c timeout 60 $B run $C12 -n 2000 --seed 5 --backend cuda -q --csv "$O/gpu$c.csv"
    cmp "$O/gpu$c.csv" "$O/cpu.csv" && echo "copies $c: CSV IDENTICAL" || echo "copies $c: CSV DIFFER"
done
echo "== phase space, CPU against GPU, byte for byte (C-12 400 MeV/u, 2000 histories, plane at 20 cm)"
timeout 60 $B run $C12 -n 2000 --seed 5 --backend cuda -q --phase-space "$O/gpu.mcpl" --phase-space-depth 20
echo "cuda rc=$?"
timeout 60 $B run $C12 -n 2000 --seed 5 --backend openmp -q --phase-space "$O/cpu.mcpl" --phase-space-depth 20
echo "openmp rc=$?"
cmp "$O/gpu.mcpl" "$O/cpu.mcpl" && echo "MCPL IDENTICAL" || echo "MCPL DIFFER"
if [ -x build/release/unit_tests ]; then
    echo "== CUDA unit tests"
    timeout 200 build/release/unit_tests --filter '@(transport/cuda*|map/mcpl*)' --verbose 2>&1 | tail -15
fi
elapsed

# rate TAG BACKEND HISTORIES ARGS...: one run, its rate, time, steps per history and peak depth.
rate() {
    local tag=$1 be=$2 n=$3
    shift 3
    timeout 90 $B run "$@" -n "$n" --backend "$be" --seed 7 -q --json "$O/$tag.json" \
        >"$O/$tag.txt" 2>&1
    local rc=$?
    echo "[$tag rc=$rc] $(python3 - "$O/$tag.json" <<'EOF' 2>/dev/null || tail -c 300 "$O/$tag.txt"
import json, sys
d = json.load(open(sys.argv[1]))
r = d['run']
loop = (r.get('device') or {}).get('event_loop') or {}
print('%.0f hist/s  %.2f s  %.1f steps/history  peak %.4f cm  iterations %s' % (
    r['histories_per_s'], r['elapsed_s'], r['steps_per_history'],
    d['results']['peak_depth_cm'], loop.get('iterations')))
EOF
)"
}

echo "== throughput: GPU (defaults) and all CPU cores"
rate gpu-c12 cuda 4000000 $C12
rate gpu-c12-nonuc cuda 8000000 $C12 --no-nuclear
rate gpu-p150 cuda 8000000 --ion p --energy 150 --material water
rate gpu-bone cuda 4000000 --ion C-12 --energy 290 --slab water:5 --slab bone:2 --slab water:inf
rate cpu-c12 openmp 1000000 $C12
rate cpu-c12-nonuc openmp 1000000 $C12 --no-nuclear
rate cpu-p150 openmp 1000000 --ion p --energy 150 --material water
rate event-c12 event 1000000 $C12
elapsed

echo "== the loop's shape (C-12 400 MeV/u, nuclear on, 4M histories)"
for s in 4 16 32; do BRAGG_CUDA_STEPS=$s rate gpu-steps$s cuda 4000000 $C12; done
for t in 262144 4194304; do BRAGG_CUDA_TARGET=$t rate gpu-target$t cuda 4000000 $C12; done
BRAGG_CUDA_AGGREGATE=0 rate gpu-noaggregate cuda 4000000 $C12
for c in 4 16 64; do BRAGG_CUDA_COPIES=$c rate gpu-copies$c cuda 4000000 $C12; done
for m in 3 4; do BRAGG_CUDA_MINBLOCKS=$m rate gpu-minblocks$m cuda 4000000 $C12; done
elapsed

echo "== profiled GPU run"
timeout 90 $B run $C12 -n 2000000 --backend cuda --profile --seed 7 --json "$O/profile.json" 2>&1 |
    tail -20
elapsed

# cancel_run JSON ARGS...: a GPU run writing JSON, SIGINT 3 s in; its exit status (124: the
# loop never ended) and how long after the signal it came.
cancel_run() {
    local json=$1
    shift
    timeout 60 $B run "$@" --backend cuda -q --json "$json" &
    local pid=$!
    sleep 3
    local s=$(date +%s.%N)
    kill -INT $pid
    wait $pid
    echo "rc=$? (124: the loop never ended) exit $(python3 -c "print('%.3f' % ($(date +%s.%N) - $s))") s after SIGINT"
}

echo "== cancel latency (SIGINT 3 s into a long GPU run)"
cancel_run "$O/cancel.json" $C12 -n 400000000
python3 -c "
import json; d = json.load(open('$O/cancel.json'))
print('partial', d['partial'], 'histories', d['run']['histories'])" 2>&1
elapsed

# Protons' jobs (2.3 million histories for p 150 MeV) exceed the loop's 2^20 slots: a cancel
# there once left spawns planned on the device, and the loop never ended.
echo "== cancel of a job larger than the loop's slots (p 150 MeV, SIGINT 3 s in)"
cancel_run "$O/cancel-p.json" --ion p --energy 150 --material water -n 100000000
elapsed

echo "== compute-sanitizer memcheck"
timeout 150 compute-sanitizer --tool memcheck --print-limit 5 $B run $C12 -n 2000 --backend cuda -q 2>&1 |
    tail -4
elapsed

echo "== bench"
timeout 200 $B bench --quick --json "$O/bench.json" >"$O/bench.txt" 2>&1
echo "bench rc=$?"
tail -40 "$O/bench.txt"
elapsed

echo "== Nsight Compute: the step kernel"
timeout 100 ncu --clock-control none --kernel-name regex:step_kernel --launch-skip 30 --launch-count 1 \
    --section SpeedOfLight --section Occupancy --section WarpStateStats --section LaunchStats \
    --section MemoryWorkloadAnalysis $B run $C12 -n 1000000 --backend cuda -q >"$O/ncu.txt" 2>&1
echo "ncu rc=$?"
grep -E "Duration|Registers|Achieved Occupancy|Theoretical Occupancy|Compute \(SM\) Throughput|Memory Throughput|Warp Cycles Per Issued|Active Warps" \
    "$O/ncu.txt" | head -20
elapsed
