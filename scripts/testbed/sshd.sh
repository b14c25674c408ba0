#!/usr/bin/env bash
# An OpenSSH server on 127.0.0.1:2222 for the test user mrun-test, key-only, with its
# own config, host key, client key, authorized_keys, known_hosts and client config
# under $MRUN_TESTBED/ssh. Tests connect with
#     ssh -F "$MRUN_TEST_SSH_CONFIG" mrun-testbed ...
# and never touch ~/.ssh. Remote sessions get SLURM_CONF, so sbatch works over ssh.
set -euo pipefail
# shellcheck source=lib.sh
. "$(dirname "$0")/lib.sh"
tb_init sshd

SS=$TB/ssh
PORT=2222
USER_NAME=$TB_TEST_USER
PIDFILE=$SS/sshd.pid
LOG=$TB_LOGS/sshd.log
SLURM_CONF_PATH=$TB/slurm/etc/slurm.conf
# 0755: sshd reads authorized_keys as the user (the private key itself is 0600).
install -d -m 0755 "$SS"

tb_apt_install openssh-server openssh-client rsync

# The test user. With UsePAM no, the locked '!' password useradd gives blocks key
# logins too; '*' means "no password" without locking the account.
if ! id -u "$USER_NAME" >/dev/null 2>&1; then
	useradd --create-home --shell /bin/bash "$USER_NAME"
fi
if [[ $(getent shadow "$USER_NAME" | cut -d: -f2) != '*' ]]; then
	usermod -p '*' "$USER_NAME"
fi
# So that `sacct -c` can read the job completion file (see slurm.sh).
tb_jobcomp_member "$USER_NAME"

# Keys: generated once, kept.
[[ -s $SS/host_ed25519_key ]] ||
	ssh-keygen -q -t ed25519 -N '' -C mrun-testbed-host -f "$SS/host_ed25519_key"
[[ -s $SS/id_ed25519 ]] ||
	ssh-keygen -q -t ed25519 -N '' -C mrun-test-client -f "$SS/id_ed25519"
chmod 0600 "$SS/host_ed25519_key" "$SS/id_ed25519"

changed=0
tb_install_file 0644 "$SS/authorized_keys" <"$SS/id_ed25519.pub" && changed=1
tb_install_file 0644 "$SS/known_hosts" <<EOC || true
[127.0.0.1]:$PORT $(cut -d' ' -f1,2 "$SS/host_ed25519_key.pub")
EOC

# StrictModes no: sshd checks every directory above authorized_keys for group/other
# write permission, and /var/tmp (1777) fails that check, so keys kept under
# $MRUN_TESTBED would be refused. The files themselves are root-owned, 0644.
tb_install_file 0644 "$SS/sshd_config" <<EOC && changed=1
# written by scripts/testbed/sshd.sh
Port $PORT
ListenAddress 127.0.0.1
HostKey $SS/host_ed25519_key
PidFile $PIDFILE
AuthorizedKeysFile $SS/authorized_keys
StrictModes no
AllowUsers $USER_NAME
PermitRootLogin no
PubkeyAuthentication yes
PasswordAuthentication no
KbdInteractiveAuthentication no
UsePAM no
X11Forwarding no
PrintMotd no
PrintLastLog no
# Tests may open many connections at once; the default 10:30:100 drops some at random.
MaxStartups 100:30:200
MaxSessions 64
SetEnv SLURM_CONF=$SLURM_CONF_PATH
Subsystem sftp internal-sftp
LogLevel INFO
EOC

tb_install_file 0644 "$SS/config" <<EOC || true
# ssh client config for the test bed: ssh -F $SS/config mrun-testbed
Host mrun-testbed
    HostName 127.0.0.1
    Port $PORT
    User $USER_NAME
    IdentityFile $SS/id_ed25519
    IdentitiesOnly yes
    IdentityAgent none
    StrictHostKeyChecking yes
    UserKnownHostsFile $SS/known_hosts
    GlobalKnownHostsFile /dev/null
    PasswordAuthentication no
    KbdInteractiveAuthentication no
    BatchMode yes
    ConnectTimeout 10
    LogLevel ERROR
EOC

ssh_ok() { ssh -F "$SS/config" mrun-testbed true </dev/null >/dev/null 2>&1; }

if pid=$(tb_pid_of "$PIDFILE" sshd) && ((!changed)) &&
	[[ $(tb_listener_pid "$PORT") == "$pid" ]]; then
	tb_state "up (already running, pid $pid)"
else
	# sshd's privilege-separation directory is compiled in (even `sshd -t` wants it);
	# /run may be a fresh tmpfs.
	install -d -m 0755 /run/sshd
	/usr/sbin/sshd -t -f "$SS/sshd_config" 2>&1 | sed 's/^/    /' >&2 ||
		tb_die "sshd rejects $SS/sshd_config"
	# A restart rather than SIGHUP: sshd re-execs on SIGHUP and the port is closed
	# for a moment either way; a restart at least tells us when it is back.
	[[ -n ${pid:-} ]] && tb_stop "$PIDFILE" sshd 10 >/dev/null
	listener=$(tb_listener_pid "$PORT")
	[[ -z $listener ]] ||
		tb_die "127.0.0.1:$PORT is taken by pid $listener ($(tr '\0' ' ' </proc/"$listener"/cmdline 2>/dev/null)); stop it first"
	# sshd must be started by absolute path (it re-execs itself); it forks, writes
	# its pid file and is listening once this returns.
	echo "---- $(date -Is) starting sshd" >>"$LOG"
	"${TB_DAEMON_ENV[@]}" /usr/sbin/sshd -f "$SS/sshd_config" -E "$LOG" </dev/null >>"$TB_LOGS/sshd.out" 2>&1 9>&- ||
		{ tb_tail "$LOG" >&2; tb_die "sshd did not start (log: $LOG)"; }
	tb_wait 10 tb_pid_of "$PIDFILE" sshd >/dev/null || { tb_tail "$LOG" >&2; tb_die "sshd exited (log: $LOG)"; }
	read -r pid <"$PIDFILE"
	ssh_ok || { tb_tail "$LOG" >&2; tb_die "ssh -F $SS/config mrun-testbed true fails (log: $LOG)"; }
	checks="ssh ok"
	# rsync over it into a new nested directory (needs --mkpath), then clean up.
	probe=$(mktemp -d)
	echo ok >"$probe/f"
	rsync -a --mkpath -e "ssh -F $SS/config" "$probe/" mrun-testbed:.mrun-testbed-probe/a/b/ ||
		tb_die "rsync over ssh fails"
	rm -rf "$probe"
	ssh -F "$SS/config" mrun-testbed 'rm -rf .mrun-testbed-probe' </dev/null
	checks+=", rsync ok"
	# sbatch over ssh, if Slurm is up.
	if [[ -r $SLURM_CONF_PATH ]] && SLURM_CONF=$SLURM_CONF_PATH timeout 5 scontrol ping >/dev/null 2>&1; then
		job=$(ssh -F "$SS/config" mrun-testbed 'sbatch --parsable -o /dev/null --wrap true' </dev/null) ||
			tb_die "sbatch over ssh fails"
		checks+=", sbatch over ssh ok (job $job)"
	fi
	tb_state "up (started, pid $pid; $checks)"
fi

tb_env "MRUN_TEST_SSH_CONFIG=$SS/config" \
	"MRUN_TEST_SSH_HOST=mrun-testbed" \
	"MRUN_TEST_SSH_USER=$USER_NAME" \
	"MRUN_TEST_SSH_PORT=$PORT" \
	"MRUN_TEST_SSH_KEY=$SS/id_ed25519" \
	"MRUN_TEST_SSH_KNOWN_HOSTS=$SS/known_hosts"
