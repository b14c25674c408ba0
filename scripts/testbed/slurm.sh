#!/usr/bin/env bash
# Single-node Slurm (Debian's slurm-wlm 22.05 + munge) as background daemons:
# munged, slurmctld, slurmd. Config, state, logs, pid files and the munge key and
# socket all live under $MRUN_TESTBED/slurm and $MRUN_TESTBED/munge; clients find the
# config through SLURM_CONF (exported in env.sh), /etc/slurm is not touched.
# The node has 2 fake GPUs (gres gpu:2 on /dev/null symlinks) and two partitions:
# debug (default, MaxTime 1 h) and long (no limit).
set -euo pipefail
# shellcheck source=lib.sh
. "$(dirname "$0")/lib.sh"
tb_init slurm

S=$TB/slurm
M=$TB/munge
export SLURM_CONF=$S/etc/slurm.conf
MUNGE_SOCKET=$M/munge.socket

tb_apt_install slurm-wlm munge

# NodeName must be `hostname -s`, and it must resolve (slurmctld and slurmd look it up).
NODE=$(hostname -s)
if ! getent hosts "$NODE" >/dev/null; then
	tb_log "adding '127.0.0.1 $NODE' to /etc/hosts"
	echo "127.0.0.1 $NODE" >>/etc/hosts
fi

# Directories. munged and slurmctld drop to their users, so whatever they write
# (munge's pid/log/seed/socket, slurmctld's state, log, job completion file and pid
# file) is owned by them. The pid files are not in /run: slurmctld, running as
# slurm, could not remove its own pid file there.
install -d -m 0755 -o munge -g munge "$M"
install -d -m 0755 "$S" "$S/etc" "$S/spool" "$S/dev"
install -d -m 0755 -o slurm -g slurm "$S/run" "$S/log"
install -d -m 0700 -o slurm -g slurm "$S/state"
# slurmctld (as slurm) appends to the job completion file; a root-owned one left by
# anything else stops it at start with "Permission denied".
# Users read finished jobs from it with `sacct -c`, but Slurm's jobcomp/filetxt plugin opens
# the file O_WRONLY|O_APPEND when it loads, in sacct too: with 0644, sacct -c fails with
# "Permission denied" for everyone but slurm and root. So the file is group-writable by a
# group of its own (mrun-jobcomp), which the test user is put in (here, and by sshd.sh when
# it creates the user), rather than world-writable: only test-bed accounts can append to or
# truncate it, not every local user.
# The plugin also fchmods the file to 0644 whenever its owner or root loads it: slurmctld at
# start and on reconfigure, and any `sacct -c` run as root. So the mode is set again at the
# end of this script, after the daemons have started, and the tests run sacct as the test
# user only (over ssh, or mrun on the "login node" through setpriv).
JOBCOMP=$S/log/jobcomp.txt
touch "$JOBCOMP"
getent group "$TB_JOBCOMP_GROUP" >/dev/null || groupadd --system "$TB_JOBCOMP_GROUP"
chown slurm:"$TB_JOBCOMP_GROUP" "$JOBCOMP"
if id -u "$TB_TEST_USER" >/dev/null 2>&1; then tb_jobcomp_member "$TB_TEST_USER"; fi

# Our own munge key (the package's /etc/munge/munge.key is left alone).
if [[ ! -s $M/munge.key ]]; then
	(umask 077 && head -c 1024 /dev/urandom >"$M/munge.key.tmp" && mv -f "$M/munge.key.tmp" "$M/munge.key")
fi
chown munge:munge "$M/munge.key"
chmod 0400 "$M/munge.key"

# Fake GPUs: jobs asking --gres=gpu:N get CUDA_VISIBLE_DEVICES; the files only need
# to exist (no cgroup device constraint here).
for i in 0 1; do ln -sfn /dev/null "$S/dev/gpu$i"; done

changed=0
tb_install_file 0644 "$S/etc/gres.conf" <<EOC && changed=1
# written by scripts/testbed/slurm.sh
NodeName=$NODE Name=gpu File=$S/dev/gpu[0-1]
EOC

# The node line is `slurmd -C` verbatim (hand-written CPUs/RealMemory that do not match
# what slurmd detects drain the node), plus address and GPUs. SLURM_CONF is unset for
# it: pointing at a config not written yet, `slurmd -C` retries for 60 s first.
NODE_LINE=$(env -u SLURM_CONF slurmd -C | grep '^NodeName=') || tb_die "slurmd -C printed no NodeName line"
tb_install_file 0644 "$SLURM_CONF" <<EOC && changed=1
# Single-node test cluster, written by scripts/testbed/slurm.sh. Do not edit: re-run it.
ClusterName=mrun-testbed
SlurmctldHost=$NODE(127.0.0.1)
SlurmUser=slurm
SlurmdUser=root
SlurmctldPort=6817
SlurmdPort=6818
AuthType=auth/munge
CredType=cred/munge
AuthInfo=socket=$MUNGE_SOCKET
StateSaveLocation=$S/state
SlurmdSpoolDir=$S/spool
SlurmctldPidFile=$S/run/slurmctld.pid
SlurmdPidFile=$S/run/slurmd.pid
SlurmctldLogFile=$S/log/slurmctld.log
SlurmdLogFile=$S/log/slurmd.log
# No cgroups on this machine.
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
JobAcctGatherType=jobacct_gather/none
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
MpiDefault=none
MailProg=/bin/true
# Without batch_sched_delay=0 every job waits ~3 s before it starts.
SchedulerType=sched/backfill
SchedulerParameters=batch_sched_delay=0
# Without it impossible requests are accepted and stay PENDING forever.
EnforcePartLimits=ALL
# No slurmdbd: finished jobs are readable with 'sacct -c' from this file.
AccountingStorageType=accounting_storage/none
JobCompType=jobcomp/filetxt
JobCompLoc=$S/log/jobcomp.txt
# Finished jobs leave squeue/scontrol after 5 s (Slurm's minimum is 2, its default 300), so
# tests can check what mrun reports from the job completion log (sacct -c) afterwards.
MinJobAge=5
ReturnToService=2
GresTypes=gpu
$NODE_LINE NodeAddr=127.0.0.1 Gres=gpu:2 State=UNKNOWN
PartitionName=debug Nodes=ALL Default=YES MaxTime=01:00:00 State=UP
PartitionName=long Nodes=ALL Default=NO MaxTime=INFINITE State=UP
EOC

munge_ok() { munge -n -S "$MUNGE_SOCKET" 2>/dev/null | unmunge -S "$MUNGE_SOCKET" >/dev/null 2>&1; }
node_state() { timeout 5 sinfo -h -N -n "$NODE" -o %t 2>/dev/null | head -n 1 || true; }
node_up() { [[ $(node_state) =~ ^(idle|mix|alloc)$ ]]; }
node_idle() { [[ $(node_state) == idle ]]; }

started=()
# munged: run as munge via setpriv (munged refuses to run as root). It forks and writes
# its pid file itself; `9>&-` keeps our lock fd out of it.
if ! tb_pid_of "$M/munged.pid" munged >/dev/null || ! munge_ok; then
	tb_stop "$M/munged.pid" munged 10 >/dev/null
	rm -f "$MUNGE_SOCKET" "$MUNGE_SOCKET.lock"
	# (Nothing but munged may write its log: it refuses a log file not owned by munge.)
	[[ ! -e $M/munged.log ]] || chown munge:munge "$M/munged.log"
	echo "---- $(date -Is) starting munged" >>"$TB_LOGS/munged.out"
	setpriv --reuid=munge --regid=munge --init-groups "${TB_DAEMON_ENV[@]}" \
		munged --key-file="$M/munge.key" --socket="$MUNGE_SOCKET" --pid-file="$M/munged.pid" \
		--log-file="$M/munged.log" --seed-file="$M/munged.seed" \
		</dev/null >>"$TB_LOGS/munged.out" 2>&1 9>&- ||
		{ tb_tail "$M/munged.log" >&2; tb_tail "$TB_LOGS/munged.out" >&2; tb_die "munged did not start"; }
	tb_wait 10 munge_ok || { tb_tail "$M/munged.log" >&2; tb_die "munge does not work (log: $M/munged.log)"; }
	started+=(munged)
	changed=1 # slurm daemons cache their munge connection state: restart them too
fi

# slurmctld and slurmd fork and write their pid files themselves. A config change
# restarts both (`scontrol reconfigure` does not apply node changes).
start_slurm_daemon() { # NAME
	local name=$1 pidfile=$S/run/$1.pid
	echo "---- $(date -Is) starting $name" >>"$TB_LOGS/$name.out"
	"${TB_DAEMON_ENV[@]}" SLURM_CONF="$SLURM_CONF" "$name" </dev/null >>"$TB_LOGS/$name.out" 2>&1 9>&- ||
		{ tb_tail "$S/log/$name.log" >&2; tb_tail "$TB_LOGS/$name.out" >&2; tb_die "$name did not start"; }
	tb_wait 10 tb_pid_of "$pidfile" "$name" >/dev/null ||
		{ tb_tail "$S/log/$name.log" >&2; tb_die "$name exited right after starting (log: $S/log/$name.log)"; }
	started+=("$name")
}
ctld_ok=0 slurmd_ok=0
((changed)) || ! tb_pid_of "$S/run/slurmctld.pid" slurmctld >/dev/null || ctld_ok=1
((changed)) || ! tb_pid_of "$S/run/slurmd.pid" slurmd >/dev/null || slurmd_ok=1
if ((ctld_ok && slurmd_ok)) && node_up; then
	:
else
	if ((!ctld_ok)); then
		tb_stop "$S/run/slurmd.pid" slurmd 10 >/dev/null # re-registers with the new controller
		tb_stop "$S/run/slurmctld.pid" slurmctld 10 >/dev/null
		start_slurm_daemon slurmctld
		tb_wait 15 timeout 2 scontrol ping >/dev/null 2>&1 ||
			{ tb_tail "$S/log/slurmctld.log" >&2; tb_die "slurmctld does not answer scontrol ping (log: $S/log/slurmctld.log)"; }
	fi
	if ! tb_pid_of "$S/run/slurmd.pid" slurmd >/dev/null; then
		start_slurm_daemon slurmd
	fi
	# A node left DOWN/DRAIN by an earlier run: resume it (harmless if it is fine).
	if ! tb_wait 5 node_up; then
		scontrol update NodeName="$NODE" State=RESUME >/dev/null 2>&1 || true
	fi
	tb_wait 30 node_up || {
		tb_tail "$S/log/slurmctld.log" >&2
		tb_tail "$S/log/slurmd.log" >&2
		tb_die "node $NODE is '$(node_state)', not idle, after 30 s (logs: $S/log/)"
	}
fi

if ((${#started[@]})); then
	# Smoke check after a (re)start: a job runs to COMPLETED and sees both fake GPUs.
	node_idle || tb_wait 30 node_idle || tb_log "node busy with other jobs; the smoke job will queue"
	out=$S/smoke.out
	rm -f "$out"
	# shellcheck disable=SC2016 # $CUDA_VISIBLE_DEVICES is the job's, not ours
	job=$(sbatch --parsable --gres=gpu:2 -o "$out" --wrap 'echo "gpus=$CUDA_VISIBLE_DEVICES"') ||
		tb_die "sbatch failed"
	# squeue forgets a finished job after MinJobAge; the job completion log keeps it.
	job_state() {
		squeue -h -t all -j "$job" -o %T 2>/dev/null ||
			sacct -c -j "$job" -n -P -o state 2>/dev/null | tail -n 1 || true
	}
	job_done() { [[ $(job_state) == COMPLETED ]]; }
	tb_wait 30 job_done ||
		tb_die "smoke job $job is '$(job_state)', not COMPLETED after 30 s (logs: $S/log/)"
	grep -qx 'gpus=0,1' "$out" || tb_die "smoke job saw '$(cat "$out" 2>/dev/null)', expected gpus=0,1"
	tb_state "up (started ${started[*]}; node $NODE idle; smoke job $job COMPLETED)"
else
	tb_state "up (already running; node $NODE $(node_state))"
fi

chmod 0664 "$JOBCOMP" # after the daemons and the smoke check (see above)

tb_env "SLURM_CONF=$SLURM_CONF" \
	"MRUN_TEST_SLURM_NODE=$NODE" \
	"MRUN_TEST_SLURM_PARTITIONS=debug long" \
	"MRUN_TEST_SLURM_JOBCOMP=$JOBCOMP" \
	"MRUN_TEST_MUNGE_SOCKET=$MUNGE_SOCKET"
