#!/usr/bin/env bash
# Two image registries (Debian's docker-registry = distribution 2.8), each with its
# own config file under $MRUN_TESTBED/registry:
#   plain  127.0.0.1:5000  no auth
#   auth   127.0.0.1:5001  htpasswd basic auth, user mrun-test, generated password
# The password sits in a 0600 file whose path env.sh exports; it is never printed.
set -euo pipefail
# shellcheck source=lib.sh
. "$(dirname "$0")/lib.sh"
tb_init registry

R=$TB/registry
USER_NAME=mrun-test
PASSWORD_FILE=$R/password
HTPASSWD=$R/htpasswd
mkdir -p "$R"

# apache2-utils gives `htpasswd -B` (bcrypt, the only hash distribution accepts).
tb_apt_install docker-registry apache2-utils curl iproute2

# The Debian package may have started its own registry on :5000 (on a machine with
# systemd, or where it was installed before our policy-rc.d guard); it must not be
# the one answering there.
if [[ -d /run/systemd/system ]] && command -v systemctl >/dev/null; then
	systemctl disable --now docker-registry >/dev/null 2>&1 || true
elif [[ -x /etc/init.d/docker-registry ]] && /etc/init.d/docker-registry status >/dev/null 2>&1; then
	/etc/init.d/docker-registry stop >/dev/null 2>&1 || true
fi

# Password: generated once, kept (tests and logged-in clients keep working across
# re-runs). umask so that it is never readable by others, not even for an instant.
if [[ ! -s $PASSWORD_FILE ]]; then
	(umask 077 && tb_random_secret >"$PASSWORD_FILE.tmp" && mv -f "$PASSWORD_FILE.tmp" "$PASSWORD_FILE")
fi
chmod 0600 "$PASSWORD_FILE"
# htpasswd reads the password on stdin (-i), never from the command line (ps shows that).
if ! htpasswd -v -i "$HTPASSWD" "$USER_NAME" <"$PASSWORD_FILE" >/dev/null 2>&1; then
	(umask 077 && htpasswd -c -B -i "$HTPASSWD" "$USER_NAME" <"$PASSWORD_FILE" 2>/dev/null)
fi
chmod 0600 "$HTPASSWD"

# write_config NAME PORT [auth]
write_config() {
	local name=$1 port=$2 auth=''
	mkdir -p "$R/$name/data"
	if [[ ${3:-} == auth ]]; then
		auth="auth:
  htpasswd:
    realm: mrun-test-registry
    path: $HTPASSWD"
	fi
	tb_install_file 0644 "$R/$name/config.yml" <<-YAML
		# registry "$name" of the mrun test bed (written by scripts/testbed/registry.sh)
		version: 0.1
		log:
		  level: info
		  accesslog:
		    disabled: true
		storage:
		  filesystem:
		    rootdirectory: $R/$name/data
		  delete:
		    enabled: true
		http:
		  addr: 127.0.0.1:$port
		$auth
	YAML
}

http_code() { # URL [curl args...]
	curl -s -o /dev/null -m 2 -w '%{http_code}' "$@" 2>/dev/null || true
}
answers() { [[ $(http_code "http://127.0.0.1:$1/v2/") == "$2" ]]; } # PORT HTTP_CODE

# ensure NAME PORT EXPECTED_CODE [auth]: start (or restart) one registry until it answers.
ensure() {
	local name=$1 port=$2 want=$3 auth=${4:-} pidfile=$R/$1/registry.pid log=$TB_LOGS/registry-$1.log
	local changed=0 pid listener
	write_config "$name" "$port" "$auth" && changed=1
	if pid=$(tb_pid_of "$pidfile" docker-registry) && ((!changed)) &&
		[[ $(tb_listener_pid "$port") == "$pid" ]]; then
		echo "$name :$port already running (pid $pid)"
		return 0
	fi
	[[ -n $pid ]] && tb_stop "$pidfile" docker-registry 10 >/dev/null
	listener=$(tb_listener_pid "$port")
	if [[ -n $listener ]]; then
		tb_die "127.0.0.1:$port is taken by pid $listener ($(tr '\0' ' ' </proc/"$listener"/cmdline 2>/dev/null)); stop it first"
	fi
	echo "---- $(date -Is) starting" >>"$log"
	tb_spawn "$pidfile" "$log" docker-registry serve "$R/$name/config.yml"
	read -r pid <"$pidfile"
	if ! tb_wait 20 answers "$port" "$want"; then
		tb_tail "$log" >&2
		tb_die "registry $name did not answer $want on 127.0.0.1:$port/v2/ within 20 s (log: $log)"
	fi
	[[ $(tb_listener_pid "$port") == "$pid" ]] ||
		tb_die "something else than our registry (pid $pid) listens on :$port"
	echo "$name :$port started (pid $pid)"
}

s1=$(ensure plain 5000 200)
s2=$(ensure auth 5001 401 auth)

# The credential must actually work (curl reads it from stdin, not from argv).
code=$(printf 'user = "%s:%s"\n' "$USER_NAME" "$(<"$PASSWORD_FILE")" |
	curl -s -o /dev/null -m 5 -w '%{http_code}' -K - http://127.0.0.1:5001/v2/ || true)
[[ $code == 200 ]] || tb_die "login to 127.0.0.1:5001 as $USER_NAME failed (HTTP $code)"

tb_state "up ($s1; $s2)"
tb_env "MRUN_TEST_REGISTRY=127.0.0.1:5000" \
	"MRUN_TEST_AUTH_REGISTRY=127.0.0.1:5001" \
	"MRUN_TEST_REGISTRY_USER=$USER_NAME" \
	"MRUN_TEST_REGISTRY_PASSWORD_FILE=$PASSWORD_FILE"
