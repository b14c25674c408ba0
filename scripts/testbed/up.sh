#!/usr/bin/env bash
# Bring up test-bed components: up.sh [docker|registry|base-image|slurm|sshd|all]...
# (no argument = all). Dependencies come first (base-image needs docker and
# registry). Prints one line per component with its state and the time it took;
# exits non-zero naming the component that failed. Endpoints: $MRUN_TESTBED/env.sh.
set -euo pipefail
DIR=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=lib.sh
. "$DIR/lib.sh"
[[ $EUID -eq 0 ]] || { echo "up.sh: must run as root" >&2; exit 1; }

ORDER=(docker registry base-image slurm sshd)
declare -A DEPS=([base-image]="docker registry")
declare -A want=()

usage() { echo "usage: $0 [docker|registry|base-image|slurm|sshd|all]..." >&2; exit 2; }
add() {
	local dep
	for dep in ${DEPS[$1]:-}; do add "$dep"; done
	want[$1]=1
}
(($#)) || set -- all
for arg; do
	case $arg in
	all) for c in "${ORDER[@]}"; do add "$c"; done ;;
	docker | registry | base-image | slurm | sshd) add "$arg" ;;
	-h | --help) usage ;;
	*) echo "up.sh: unknown component '$arg'" >&2; usage ;;
	esac
done

mkdir -p "$TB_LOGS" "$TB/.state"
total_start=$EPOCHREALTIME
for c in "${ORDER[@]}"; do
	[[ -n ${want[$c]:-} ]] || continue
	log=$TB_LOGS/up-$c.log
	rm -f "$TB/.state/$c"
	printf '%-11s ' "$c"
	start=$EPOCHREALTIME
	rc=0
	"$DIR/$c.sh" >"$log" 2>&1 || rc=$?
	secs=$(awk -v a="$start" -v b="$EPOCHREALTIME" 'BEGIN { printf "%.1f", b - a }')
	if ((rc)); then
		printf 'FAILED after %ss\n' "$secs"
		tail -n 25 "$log" | sed 's/^/    /' >&2
		echo "up.sh: component '$c' failed (exit $rc); full log: $log" >&2
		exit 1
	fi
	state=$(cat "$TB/.state/$c" 2>/dev/null || echo up)
	printf '%6ss  %s\n' "$secs" "$state"
done
secs=$(awk -v a="$total_start" -v b="$EPOCHREALTIME" 'BEGIN { printf "%.1f", b - a }')
printf '%-11s %6ss  endpoints: . %s\n' total "$secs" "$TB/env.sh"
