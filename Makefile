# mrun — see README.md. `make test` is what CI runs.
PREFIX ?= /usr/local
SWIFT ?= swift
# A fresh MRUN_HOME for `make run`, so the example never depends on your own contexts.
RUN_HOME ?= $(CURDIR)/.build/run-home

.PHONY: all build release templates test test-deps testbed run install lint format clean bench

all: build

templates:
	scripts/embed-templates

# SQLite's headers, for GRDB (the launch history).
.PHONY: build-deps
build-deps:
	scripts/install-build-deps

build: templates build-deps
	$(SWIFT) build

# The Swift runtime and Foundation linked in statically: the dynamic loader's symbol binding for
# them was half of every start-up (mrun --help 17 ms dynamic, 6.5 ms static; see README.md).
release: templates build-deps
	$(SWIFT) build -c release --static-swift-stdlib

# Test-bed components the tests run against (scripts/testbed/README.md); one up.sh call starts
# them all, and is quick when they are already up.
TESTBED_COMPONENTS ?= docker registry base-image slurm sshd

# Installs what the tests need (python3 for the experiments they run), starts the test bed,
# builds, runs every test.
test: templates build-deps test-deps testbed
	$(SWIFT) build --build-tests
	$(SWIFT) test

test-deps:
	scripts/install-test-deps

# Real components the tests run against (scripts/testbed/README.md): one idempotent up.sh call,
# 2-5 min on a fresh 2-core machine (scripts/testbed/README.md), about a second when they are up.
# Needs root.
testbed:
	scripts/testbed/up.sh $(TESTBED_COMPONENTS)

# Builds only mrun (not the tests' fake API server and its certificate library) and runs the
# example experiment on the built-in local context.
run: templates build-deps
	$(SWIFT) build --product mrun
	cd examples/quickstart && MRUN_HOME=$(RUN_HOME) $(CURDIR)/.build/debug/mrun --context local run \
		--requirements requirements.txt train.py -- --epochs 3

# mrun beside what users would run instead (kubectl, the Python kubernetes client, sbatch over
# ssh, submitit) against the test bed; one table, also bench/results.json and bench/results.md.
# Peers from PyPI go into .build/bench-venv. BENCH_SCENARIOS picks some (startup k8s_sweep
# slurm_sweep relaunch memory). The Kubernetes scenarios run against the tests' fake API server as
# a process of its own (mrun-fake-apiserver, built with mrun: HTTP/2, answers and write latency as a
# real kube-apiserver's); MRUN_BENCH_WRITE_LATENCY_MS (default 3) sets the latency of their second
# run, MRUN_BENCH_RUNS the measured runs.
# BENCH_BASELINE=REV (a commit) also runs mrun as built at REV, beside this build, in the same run
# (in the Kubernetes sweep round by round with the other clients).
BENCH_SCENARIOS ?=
BENCH_BASELINE ?=
bench: release testbed
	baseline=""; if [ -n "$(BENCH_BASELINE)" ]; then baseline=$$(scripts/bench/build-baseline $(BENCH_BASELINE)) || exit 1; fi; \
		MRUN_BENCH_BASELINE="$$baseline" scripts/bench/bench.py .build/release/mrun .build/release/mrun-fake-apiserver $(BENCH_SCENARIOS)

install: release
	install -d $(DESTDIR)$(PREFIX)/bin
	install -m 0755 .build/release/mrun $(DESTDIR)$(PREFIX)/bin/mrun

lint:
	$(SWIFT) format lint --strict --recursive Sources Tests Package.swift

format:
	$(SWIFT) format --in-place --recursive Sources Tests Package.swift

clean:
	rm -rf .build
