#!/usr/bin/env bash
# The offline base image local/python:3.11-slim (there is no Docker Hub here): a
# Debian bookworm minbase rootfs with python3 + pip, made by debootstrap from the apt
# source this machine already uses, imported into docker and pushed to the plain
# registry as 127.0.0.1:5000/local/python:3.11-slim.
# The rootfs tarball is cached under $MRUN_TESTBED/base-image, named by a hash of its
# recipe: built once (about a minute on 2 cores), re-imported in seconds if docker's data
# was wiped; the packages debootstrap downloaded are kept too, so a changed recipe
# downloads nothing.
# Needs docker.sh and registry.sh first (up.sh runs them).
set -euo pipefail
# shellcheck source=lib.sh
. "$(dirname "$0")/lib.sh"
tb_init base-image

B=$TB/base-image
DEBS=$B/debs
IMAGE=local/python:3.11-slim
PUSHED=127.0.0.1:5000/$IMAGE
LOG=$TB_LOGS/base-image-build.log
mkdir -p "$B" "$DEBS"

[[ -r $TB/env.d/docker.sh && -r $TB/env.d/registry.sh ]] ||
	tb_die "docker and registry must be up first (scripts/testbed/up.sh base-image does that)"
# shellcheck source=/dev/null
. "$TB/env.d/docker.sh"
export DOCKER_CONFIG=$TB/docker/client-config
timeout 10 docker info >/dev/null 2>&1 || tb_die "dockerd does not answer at $DOCKER_HOST: run scripts/testbed/up.sh docker"

in_registry() {
	curl -fs -o /dev/null -m 5 \
		-H 'Accept: application/vnd.docker.distribution.manifest.v2+json' \
		"http://127.0.0.1:5000/v2/local/python/manifests/3.11-slim"
}

# The bookworm mirror apt uses here: the first enabled "deb" source for suite bookworm,
# from one-line .list files or deb822 .sources files. No host is hard-coded.
apt_mirror() {
	local f
	for f in /etc/apt/sources.list /etc/apt/sources.list.d/*.list /etc/apt/sources.list.d/*.sources; do
		[[ -r $f ]] || continue
		if [[ $f == *.sources ]]; then
			# deb822: stanzas separated by blank lines.
			awk -v RS= '
				{ types = uris = suites = ""; enabled = "yes"
				  n = split($0, lines, "\n")
				  for (i = 1; i <= n; i++) {
				    line = lines[i]
				    if (line ~ /^#/) continue
				    key = tolower(line); sub(/:.*/, "", key)
				    val = line; sub(/^[^:]*:[ \t]*/, "", val)
				    if (key == "types") types = val
				    else if (key == "uris") uris = val
				    else if (key == "suites") suites = val
				    else if (key == "enabled") enabled = tolower(val)
				  }
				  if (enabled != "no" && (" " types " ") ~ / deb / && (" " suites " ") ~ / bookworm /) {
				    split(uris, u, /[ \t]+/); print u[1]; exit
				  }
				}' "$f"
		else
			awk '$1 == "deb" { i = 2; if ($2 ~ /^\[/) { while (i <= NF && $i !~ /\]$/) i++; i++ }
			                   if ($(i + 1) == "bookworm") { print $i; exit } }' "$f"
		fi
	done | grep -E '^(https?|file):' | head -n 1 || true
}

# debootstrap installs no Recommends: python3-pip's (build-essential, python3-dev) stay out.
PACKAGES=python3,python3-pip
# What a container never reads: documentation (copyright files stay), manual and info pages,
# translations. Removed from the rootfs, and excluded from later installs in the image too,
# as in Debian's own slim images.
SLIM_EXCLUDE=('/usr/share/doc/*' '/usr/share/man/*' '/usr/share/info/*' '/usr/share/locale/*' '/usr/share/lintian/*')
SLIM_INCLUDE=('/usr/share/doc/*/copyright')
CA_FILES=(/usr/local/share/ca-certificates/*.crt)
[[ -e ${CA_FILES[0]} ]] || CA_FILES=()
# Everything that goes into the rootfs, the steps included (this file's own functions), so
# any change is a new tarball; its hash names the tarball.
recipe() {
	echo "debootstrap --variant=minbase --include=$PACKAGES bookworm $1"
	echo "exclude ${SLIM_EXCLUDE[*]}; include ${SLIM_INCLUDE[*]}"
	declare -f build_tarball slim_rootfs
	((${#CA_FILES[@]})) && sha256sum "${CA_FILES[@]}"
	true
}

# Unmount anything still mounted under a directory (debootstrap mounts /proc and /sys
# in the target and leaves them mounted if it fails), so that `rm -rf` of it can never
# walk into the host's /proc or /sys.
umount_under() {
	local m
	awk -v d="$1/" 'index($2 "/", d) == 1 { print $2 }' /proc/self/mounts | sort -r |
		while read -r m; do umount -l "$m" || true; done
}

slim_rootfs() {
	local root=$1 p
	{
		for p in "${SLIM_EXCLUDE[@]}"; do echo "path-exclude $p"; done
		for p in "${SLIM_INCLUDE[@]}"; do echo "path-include $p"; done
	} >"$root/etc/dpkg/dpkg.cfg.d/mrun-slim"
	find "$root/usr/share/doc" -mindepth 1 ! -type d ! -name copyright -delete
	find "$root/usr/share/doc" -mindepth 1 -depth -type d -empty -delete
	rm -rf "$root"/usr/share/{man,info,locale,lintian}/*
	rm -rf "$root"/var/cache/apt/archives/*.deb "$root"/var/cache/apt/*.bin "$root"/var/lib/apt/lists/*
	rm -f "$root"/var/log/{bootstrap,dpkg,alternatives}.log "$root"/var/cache/debconf/*-old "$root"/var/lib/dpkg/*-old
}

# Drops the cached packages this rootfs does not have: an old version is never wanted again.
prune_debs() {
	local -A used=()
	local deb
	while read -r deb; do used[${deb//:/%3a}]=1; done < <(
		dpkg-query --admindir="$1/var/lib/dpkg" -W -f='${Package}_${Version}_${Architecture}.deb\n')
	for deb in "$DEBS"/*.deb; do
		[[ -e $deb && -z ${used[${deb##*/}]:-} ]] && rm -f "$deb"
	done
	return 0
}

# build_tarball MIRROR TARBALL
build_tarball() {
	local mirror=$1 tarball=$2 rootfs=$B/rootfs.tmp
	tb_apt_install debootstrap debian-archive-keyring
	umount_under "$rootfs"
	rm -rf "$rootfs"
	tb_log "debootstrap from $mirror (about a minute; log: $LOG)"
	# debootstrap downloads with wget, which does not read apt's proxy setting.
	local proxy=''
	eval "$(apt-config shell proxy Acquire::http::Proxy)"
	[[ -z $proxy ]] || export http_proxy=$proxy
	if ! debootstrap --variant=minbase --include="$PACKAGES" --cache-dir="$DEBS" bookworm "$rootfs" "$mirror" \
		>>"$LOG" 2>&1; then
		umount_under "$rootfs"
		tb_tail "$LOG" >&2
		tail -n 20 "$rootfs/debootstrap/debootstrap.log" 2>/dev/null | sed 's/^/    /' >&2 || true
		tb_die "debootstrap failed (log: $LOG)"
	fi
	umount_under "$rootfs"
	# pip refuses to install as root into the system python otherwise (PEP 668).
	rm -f "$rootfs"/usr/lib/python3*/EXTERNALLY-MANAGED
	# pip inside builds reaches PyPI only if the image trusts the same extra CAs as
	# this machine (e.g. a TLS-intercepting proxy).
	if ((${#CA_FILES[@]})); then
		cp "${CA_FILES[@]}" "$rootfs/usr/local/share/ca-certificates/"
		chroot "$rootfs" /usr/sbin/update-ca-certificates >>"$LOG" 2>&1 ||
			tb_die "update-ca-certificates failed inside the rootfs (log: $LOG)"
	fi
	prune_debs "$rootfs"
	slim_rootfs "$rootfs"
	# debootstrap copies this machine's hostname and resolver into the rootfs; docker
	# supplies both at run time, so the image must not carry them.
	rm -f "$rootfs/etc/hostname"
	: >"$rootfs/etc/resolv.conf"
	tar --numeric-owner -C "$rootfs" -cf "$tarball.tmp" .
	mv -f "$tarball.tmp" "$tarball"
	rm -rf "$rootfs"
	# The previous tarball stays (switching back is free); older ones go.
	ls -t "$B"/rootfs-*.tar | tail -n +3 | while read -r p; do rm -f "$p" "${p%.tar}.image"; done
}

did=()
# The layout before tarballs were named by their recipe.
rm -f "$B/rootfs.tar" "$B/recipe"
mirror=$(apt_mirror)
[[ -n $mirror ]] || tb_die "found no 'deb ... bookworm' source in /etc/apt/sources.list*"
key=$(recipe "$mirror" | sha256sum | cut -c1-16)
TARBALL=$B/rootfs-$key.tar
if [[ ! -s $TARBALL ]]; then
	build_tarball "$mirror" "$TARBALL"
	did+=("rootfs built")
fi

# The id docker gave the image imported from this tarball: another recipe's image under the
# same name (another checkout's test-bed scripts) is replaced.
imported=$(cat "${TARBALL%.tar}.image" 2>/dev/null || true)
if [[ -z $imported || $(docker image inspect -f '{{.Id}}' "$IMAGE" 2>/dev/null || true) != "$imported" ]]; then
	docker image rm -f "$IMAGE" "$PUSHED" >/dev/null 2>&1 || true
	# Like the real python image: PATH, LANG and a python3 default command.
	docker import \
		--change 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
		--change 'ENV LANG=C.UTF-8' \
		--change 'CMD ["python3"]' \
		"$TARBALL" "$IMAGE" >>"$LOG" 2>&1 || { tb_tail "$LOG" >&2; tb_die "docker import failed"; }
	docker image inspect -f '{{.Id}}' "$IMAGE" >"${TARBALL%.tar}.image"
	did+=("imported")
fi

id=$(docker image inspect -f '{{.Id}}' "$IMAGE")
if [[ $(docker image inspect -f '{{.Id}}' "$PUSHED" 2>/dev/null || true) != "$id" ]] || ! in_registry; then
	docker tag "$IMAGE" "$PUSHED"
	docker push "$PUSHED" >>"$LOG" 2>&1 || { tb_tail "$LOG" >&2; tb_die "docker push $PUSHED failed"; }
	did+=("pushed")
fi

if ((${#did[@]})); then
	# Smoke check: the image runs python and pip, and pip may install as root.
	docker run --rm ${MRUN_TEST_DOCKER_NETWORK:+--network "$MRUN_TEST_DOCKER_NETWORK"} "$IMAGE" \
		sh -c 'python3 --version && pip --version && ! ls /usr/lib/python3*/EXTERNALLY-MANAGED 2>/dev/null' \
		>>"$LOG" 2>&1 ||
		{ tb_tail "$LOG" >&2; tb_die "the image does not run python3/pip"; }
	state=$(IFS=,; echo "${did[*]}")
	state="ready (${state//,/, })"
else
	state="ready (already in docker and the registry)"
fi
tb_state "$state"
tb_env "MRUN_TEST_BASE_IMAGE=$PUSHED" "MRUN_TEST_BASE_IMAGE_LOCAL=$IMAGE"
