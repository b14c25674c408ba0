# shellcheck shell=bash
# Helpers shared by the test-bed scripts (sourced, never run).
#
# Every component keeps its state under $MRUN_TESTBED (default /var/tmp/mrun-testbed):
#   logs/            setup logs and daemon logs
#   env.d/NAME.sh    the variables one component contributes to env.sh
#   env.sh           all fragments together, for tests to source
#   .state/NAME      one word-ish line: what the last run of NAME did (read by up.sh)

TB=${MRUN_TESTBED:-/var/tmp/mrun-testbed}
case $TB in
/*) ;;
*) echo "MRUN_TESTBED must be an absolute path (got '$TB')" >&2; exit 1 ;;
esac
TB=${TB%/}
# No whitespace (slurm.conf and sshd_config cannot quote paths), and short enough for
# the unix sockets dockerd and containerd create below it (108-byte sun_path limit).
if [[ $TB =~ [[:space:]] || ${#TB} -gt 60 ]]; then
	echo "MRUN_TESTBED must have no whitespace and at most 60 characters (got '$TB')" >&2
	exit 1
fi
case $TB in
'' | /usr | /usr/* | /etc | /etc/* | /var | /var/tmp | /tmp | /root | /home) echo "MRUN_TESTBED=$TB would mix test-bed state into a system directory; use a directory of its own" >&2; exit 1 ;;
esac
export MRUN_TESTBED=$TB
TB_LOGS=$TB/logs
# The user the tests log in as over ssh (sshd.sh), and the group that may open Slurm's job
# completion file (slurm.sh explains why).
# shellcheck disable=SC2034 # used by the scripts that source this file
TB_TEST_USER=mrun-test
TB_JOBCOMP_GROUP=mrun-jobcomp
TB_COMPONENT=${TB_COMPONENT:-testbed}

# Daemons get a small fixed environment: nothing from the caller's shell (DOCKER_HOST,
# SLURM_CONF, proxies, /usr/local/bin first in PATH, ...) leaks into them, so a daemon
# behaves the same whoever started it.
TB_DAEMON_ENV=(env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin HOME=/root LANG=C.UTF-8)

tb_log() { printf '[%s] %s\n' "$TB_COMPONENT" "$*" >&2; }
tb_die() {
	printf '[%s] ERROR: %s\n' "$TB_COMPONENT" "$*" >&2
	exit 1
}

# Last lines of a log file, indented, for error messages.
tb_tail() {
	[[ -r $1 ]] || { echo "    (no log at $1)"; return 0; }
	tail -n "${2:-20}" "$1" | sed 's/^/    /'
}

# tb_init NAME: root check, state directories, and the test-bed lock.
# One lock for all components: two `make test` runs (or up.sh and down.sh) racing on
# the same daemons would otherwise start them twice. The lock is fd 9, and every
# daemon is started with `9>&-`: a daemon that inherited fd 9 would hold the lock
# for as long as it lives and block every later run.
tb_init() {
	TB_COMPONENT=$1
	[[ $EUID -eq 0 ]] || tb_die "must run as root"
	mkdir -p "$TB" "$TB_LOGS" "$TB/env.d" "$TB/.state"
	chmod 0755 "$TB"
	touch "$TB/.mrun-testbed" # marks the directory as ours (down.sh --purge checks it)
	exec 9>"$TB/.lock"
	if ! flock -n 9; then
		tb_log "waiting for another test-bed run to finish (lock $TB/.lock)"
		flock -w 900 9 || tb_die "timed out after 900 s waiting for $TB/.lock"
	fi
}

# tb_state TEXT: record what this run did, for up.sh's summary line.
tb_state() {
	printf '%s\n' "$*" >"$TB/.state/$TB_COMPONENT"
	tb_log "$*"
}

# ---------------------------------------------------------------- packages

# Prints the packages among "$@" that are not installed (one dpkg-query for all).
tb_pkgs_missing() {
	local -A ok=()
	local name status
	while read -r name status; do
		[[ $status == installed ]] && ok[$name]=1
	done < <(dpkg-query -W -f='${Package} ${db:Status-Status}\n' "$@" 2>/dev/null || true)
	for name; do
		[[ -n ${ok[$name]:-} ]] || printf '%s\n' "$name"
	done
}

# tb_apt_install PKG...: install whatever is missing; `apt-get update` only then.
tb_apt_install() {
	local missing log=$TB_LOGS/apt.log created_policy=0 rc=0
	mapfile -t missing < <(tb_pkgs_missing "$@")
	((${#missing[@]})) || return 0
	tb_log "installing ${missing[*]} (log: $log)"
	export DEBIAN_FRONTEND=noninteractive
	# Packages must not start their own services (docker, docker-registry on :5000,
	# ssh on :22, munge, slurm...): we start ours with our own config. policy-rc.d
	# answering 101 is Debian's switch for that; put one in only for this install.
	if [[ ! -e /usr/sbin/policy-rc.d ]]; then
		printf '#!/bin/sh\n# mrun-testbed: temporary, removed after the install\nexit 101\n' >/usr/sbin/policy-rc.d
		chmod 0755 /usr/sbin/policy-rc.d
		created_policy=1
	fi
	{
		apt-get -o DPkg::Lock::Timeout=600 update -q &&
			apt-get install -y -q --no-install-recommends -o DPkg::Lock::Timeout=600 "${missing[@]}"
	} >>"$log" 2>&1 || rc=$?
	if ((created_policy)) && grep -q mrun-testbed /usr/sbin/policy-rc.d; then
		rm -f /usr/sbin/policy-rc.d
	fi
	if ((rc)); then
		tb_tail "$log" >&2
		tb_die "apt-get could not install ${missing[*]} (exit $rc; full log: $log)"
	fi
}

# ---------------------------------------------------------------- processes

# tb_pid_of PIDFILE COMM: print the pid recorded in PIDFILE if that process is alive
# and is COMM. `kill -0` is not enough: PID 1 here reaps orphans late, so a dead
# daemon lingers as a zombie that `kill -0` still accepts; /proc/PID/stat's state
# field tells (Z/X = dead). COMM guards against a stale pid file whose pid was reused.
# (Files are read with `read`, not $(<file): under `set -e` a $(<file) whose file
# vanished, as /proc/PID does, ends the whole script even inside `|| return`.)
tb_pid_of() {
	local pidfile=$1 comm=$2 pid='' name=''
	read -r pid 2>/dev/null <"$pidfile" || [[ -n $pid ]] || return 1
	[[ $pid =~ ^[0-9]+$ ]] || return 1
	tb_pid_alive "$pid" || return 1
	read -r name 2>/dev/null <"/proc/$pid/comm" || return 1
	[[ $name == "$comm" ]] || return 1
	printf '%s\n' "$pid"
}

tb_pid_alive() { # PID: alive and not a zombie
	local stat='' state
	read -r stat 2>/dev/null <"/proc/$1/stat" || return 1
	state=${stat##*) }
	state=${state%% *}
	[[ $state != [ZX] ]]
}

# tb_stop PIDFILE COMM [TIMEOUT]: SIGTERM, wait, then SIGKILL. Prints what it did.
tb_stop() {
	local pidfile=$1 comm=$2 timeout=${3:-20} pid i
	if ! pid=$(tb_pid_of "$pidfile" "$comm"); then
		rm -f "$pidfile"
		echo "not running"
		return 0
	fi
	kill -TERM "$pid" 2>/dev/null || true
	for ((i = 0; i < timeout * 10; i++)); do
		tb_pid_alive "$pid" || break
		sleep 0.1
	done
	if tb_pid_alive "$pid"; then
		kill -KILL "$pid" 2>/dev/null || true
		for ((i = 0; i < 50; i++)); do
			tb_pid_alive "$pid" || break
			sleep 0.1
		done
		echo "killed (pid $pid ignored SIGTERM for ${timeout}s)"
	else
		echo "stopped (pid $pid)"
	fi
	rm -f "$pidfile"
}

# tb_spawn PIDFILE LOG CMD...: start a foreground-style daemon in its own session,
# detached from our stdio (a caller capturing our output must not wait for it) and
# without the lock fd. Records its pid.
tb_spawn() {
	local pidfile=$1 log=$2
	shift 2
	# In a non-interactive shell a background job is not a process-group leader, so
	# setsid execs in place and $! is the daemon's own pid.
	setsid "${TB_DAEMON_ENV[@]}" "$@" </dev/null >>"$log" 2>&1 9>&- &
	echo $! >"$pidfile"
}

# tb_wait SECONDS CMD...: poll CMD every 0.1 s until it succeeds; fail after SECONDS.
tb_wait() {
	local secs=$1 i
	shift
	for ((i = 0; i < secs * 10; i++)); do
		"$@" && return 0
		sleep 0.1
	done
	return 1
}

# tb_listener_pid PORT: pid of the process listening on 127.0.0.1:PORT (or any address).
tb_listener_pid() {
	ss -Hltnp "sport = :$1" 2>/dev/null | grep -o 'pid=[0-9]*' | head -n 1 | cut -d= -f2 || true
}

# ---------------------------------------------------------------- files

# tb_install_file MODE DEST: copy stdin to DEST if the content differs (atomic rename).
# Returns 0 if DEST changed, 1 if it was already identical.
tb_install_file() {
	local mode=$1 dest=$2 tmp
	tmp=$(mktemp "$dest.XXXXXX")
	cat >"$tmp"
	chmod "$mode" "$tmp"
	if [[ -f $dest ]] && cmp -s "$tmp" "$dest"; then
		rm -f "$tmp"
		chmod "$mode" "$dest"
		return 1
	fi
	mv -f "$tmp" "$dest"
	return 0
}

# tb_random_secret: 32 URL-safe characters. (No `tr -dc </dev/urandom | head -c`:
# under pipefail the SIGPIPE that ends `tr` makes the whole pipeline fail.)
tb_random_secret() {
	head -c 24 /dev/urandom | base64 | tr '+/' '-_'
}

# ---------------------------------------------------------------- env.sh

# tb_env VAR=VALUE...: this component's exports; env.sh is rebuilt from all fragments
# so running one script never drops another component's variables.
tb_env() {
	local kv frag=$TB/env.d/$TB_COMPONENT.sh
	{
		echo "# $TB_COMPONENT"
		for kv; do
			printf 'export %s=%q\n' "${kv%%=*}" "${kv#*=}"
		done
	} | tb_install_file 0644 "$frag" || true
	tb_env_rebuild
}

tb_env_rebuild() {
	local name
	{
		echo "# Test-bed endpoints, written by scripts/testbed/*.sh. Source it: . $TB/env.sh"
		printf 'export MRUN_TESTBED=%q\n' "$TB"
		for name in docker registry base-image slurm sshd; do
			[[ -r $TB/env.d/$name.sh ]] && cat "$TB/env.d/$name.sh"
		done
	} | tb_install_file 0644 "$TB/env.sh" || true
}

# tb_jobcomp_member USER: put USER in the job completion file's group, if that group exists
# (it does once slurm.sh has run). Takes effect at the user's next login.
tb_jobcomp_member() {
	getent group "$TB_JOBCOMP_GROUP" >/dev/null || return 0
	[[ " $(id -nG "$1") " == *" $TB_JOBCOMP_GROUP "* ]] && return 0
	tb_log "adding $1 to group $TB_JOBCOMP_GROUP (for sacct -c)"
	usermod -aG "$TB_JOBCOMP_GROUP" "$1"
}
