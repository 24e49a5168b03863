#!/usr/bin/env bash
# Runs CI's test command (.ci/run, the README's test command) on a loaded machine: two CPU-bound processes and a
# second, concurrent run of the same suite share the cores with it. Not part of CI; run it by hand from the repository:
#   tests/stress_ci.sh            (clones HEAD twice into a temporary folder, so the working tree is left alone)
# Prints each run's exit status and wall time, and exits non-zero if either run failed.
set -uo pipefail
repo=$(git -C "$(dirname "$0")/.." rev-parse --show-toplevel)
work=$(mktemp -d "${TMPDIR:-/tmp}/ember-stress.XXXXXX")
burners=()
cleanup() {
    for pid in "${burners[@]}"; do kill "$pid" 2>/dev/null; done
    rm -rf "$work"
}
trap cleanup EXIT

for name in first second; do
    git clone -q "$repo" "$work/$name"
done
for _ in 1 2; do
    python3 -c "while True: pass" &
    burners+=($!)
done

run() {
    local start=$SECONDS
    (cd "$work/$1" && .ci/run) > "$work/$1.log" 2>&1
    local status=$?
    echo "$1 run: exit $status after $((SECONDS - start)) s; last lines:"
    tail -n 3 "$work/$1.log"
    return $status
}
run first & first=$!
run second & second=$!
wait $first; status_first=$?
wait $second; status_second=$?
[ $status_first -eq 0 ] && [ $status_second -eq 0 ]
