#!/usr/bin/env bash
# dockerd (Debian's docker.io) as a background daemon with overlay2, all its state
# under $MRUN_TESTBED/docker, listening only on a unix socket there (exported as
# DOCKER_HOST in env.sh). Idempotent: a running, answering dockerd is left alone.
set -euo pipefail
# shellcheck source=lib.sh
. "$(dirname "$0")/lib.sh"
tb_init docker

D=$TB/docker
SOCK=$D/docker.sock
# Our pid file. dockerd's own ("pidfile" below) must be another file: dockerd refuses
# to start when its pid file names a live process, and setsid makes that its own pid.
PIDFILE=$D/dockerd.pid
LOG=$TB_LOGS/dockerd.log
export DOCKER_HOST=unix://$SOCK
# The client reads ~/.docker/config.json (credential helpers, contexts): keep it out.
export DOCKER_CONFIG=$D/client-config
mkdir -p "$D" "$DOCKER_CONFIG"

tb_apt_install docker.io iptables

docker_answers() { timeout 10 docker info >/dev/null 2>&1; }

# Network mode: "bridge" (normal) or "none" = --iptables=false --bridge=none, the
# fallback for kernels where docker cannot set up its bridge/NAT; then containers and
# builds need --network host (exported as MRUN_TEST_DOCKER_NETWORK=host).
MODE_FILE=$D/network-mode
mode=$(cat "$MODE_FILE" 2>/dev/null || echo bridge)

# All options in our own config file, so /etc/docker/daemon.json (if any) is not read.
write_config() {
	local net=''
	[[ $1 == none ]] && net='"iptables": false, "bridge": "none",'
	tb_install_file 0644 "$D/daemon.json" <<-JSON
		{
		  "data-root": "$D/data",
		  "exec-root": "$D/exec",
		  "pidfile": "$D/exec/dockerd.pid",
		  "hosts": ["unix://$SOCK"],
		  "storage-driver": "overlay2",
		  $net
		  "log-level": "warn"
		}
	JSON
}

start_dockerd() { # MODE; returns non-zero if dockerd dies or does not answer in 60 s
	write_config "$1" || true
	echo "---- $(date -Is) starting dockerd (network mode $1)" >>"$LOG"
	tb_spawn "$PIDFILE" "$LOG" dockerd --config-file "$D/daemon.json"
	local pid i
	read -r pid <"$PIDFILE"
	for ((i = 0; i < 600; i++)); do
		docker_answers && return 0
		tb_pid_alive "$pid" || return 1
		sleep 0.1
	done
	return 2
}

changed=0
write_config "$mode" && changed=1
if pid=$(tb_pid_of "$PIDFILE" dockerd) && ((!changed)) && docker_answers; then
	tb_state "up (already running, pid $pid, network $mode)"
else
	if [[ -n ${pid:-} ]]; then
		tb_log "dockerd pid $pid is not answering or its config changed: restarting"
		tb_stop "$PIDFILE" dockerd 30 >/dev/null
	fi
	# overlay2 needs the kernel's overlay filesystem; say so instead of letting
	# dockerd fall over (vfs would work but is 20-30x slower: not an option).
	grep -qw overlay /proc/filesystems || modprobe overlay 2>/dev/null ||
		tb_die "the kernel has no overlay filesystem: dockerd's overlay2 driver cannot work"
	if start_dockerd "$mode"; then
		:
	elif [[ $mode == bridge ]]; then
		tb_log "dockerd failed with bridge networking; retrying with --iptables=false --bridge=none"
		tb_tail "$LOG" 8 >&2
		tb_stop "$PIDFILE" dockerd 30 >/dev/null
		mode=none
		start_dockerd "$mode" || {
			tb_tail "$LOG" 30 >&2
			tb_die "dockerd did not answer 'docker info' within 60 s (log: $LOG)"
		}
	else
		tb_tail "$LOG" 30 >&2
		tb_die "dockerd did not answer 'docker info' within 60 s (log: $LOG)"
	fi
	echo "$mode" >"$MODE_FILE"
	read -r pid <"$PIDFILE"
	tb_state "up (started, pid $pid, network $mode)"
fi

net=''
[[ $mode == none ]] && net=host
tb_env "DOCKER_HOST=unix://$SOCK" "MRUN_TEST_DOCKER_NETWORK=$net"
