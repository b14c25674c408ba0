#!/usr/bin/env bash
# Stop every test-bed daemon that up.sh started (by the pid files under
# $MRUN_TESTBED), in reverse order. State (images, keys, rootfs cache) is kept;
# `down.sh --purge` also deletes $MRUN_TESTBED (the next up.sh is then cold).
set -euo pipefail
# shellcheck source=lib.sh
. "$(dirname "$0")/lib.sh"
purge=0
case ${1:-} in
'') ;;
--purge) purge=1 ;;
*) echo "usage: $0 [--purge]" >&2; exit 2 ;;
esac
[[ -d $TB ]] || { echo "nothing to stop: $TB does not exist"; exit 0; }
[[ -e $TB/.mrun-testbed ]] || { echo "$TB is not a test-bed directory (no .mrun-testbed marker)" >&2; exit 1; }
tb_init down

stop() { # LABEL PIDFILE COMM TIMEOUT
	printf '%-17s %s\n' "$1" "$(tb_stop "$2" "$3" "$4")"
}
stop sshd "$TB/ssh/sshd.pid" sshd 10
stop slurmd "$TB/slurm/run/slurmd.pid" slurmd 15
stop slurmctld "$TB/slurm/run/slurmctld.pid" slurmctld 15
stop munged "$TB/munge/munged.pid" munged 10
stop registry-auth "$TB/registry/auth/registry.pid" docker-registry 10
stop registry-plain "$TB/registry/plain/registry.pid" docker-registry 10
# dockerd stops its containers (10 s grace each) and its containerd before exiting.
stop dockerd "$TB/docker/dockerd.pid" dockerd 60

if ((purge)); then
	# dockerd leaves its data root (and any container still mounted) mounted if it
	# was killed: unmount everything under $TB first so rm -rf stays on this side.
	awk -v d="$TB/" 'index($2 "/", d) == 1 { print $2 }' /proc/self/mounts | sort -r |
		while read -r m; do umount -l "$m" || true; done
	rm -rf "$TB"
	echo "purged $TB"
fi
