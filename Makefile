# mrun — see README.md. `make test` is what CI runs.
PREFIX ?= /usr/local
SWIFT ?= swift
# A fresh MRUN_HOME for `make run`, so the example never depends on your own contexts.
RUN_HOME ?= $(CURDIR)/.build/run-home

.PHONY: all build release templates test test-deps testbed run install lint format clean

all: build

templates:
	scripts/embed-templates

build: templates
	$(SWIFT) build

release: templates
	$(SWIFT) build -c release

# Installs what the tests need (python3 for the experiments they run), brings up the test bed,
# builds, runs every test.
test: templates test-deps testbed
	$(SWIFT) build --build-tests
	$(SWIFT) test

test-deps:
	scripts/install-test-deps

# The real docker engine, registries and base image the image tests use (see scripts/testbed/README.md).
# Idempotent: ~95 s on a fresh machine, under a second when they are up. Needs root.
testbed:
	scripts/testbed/up.sh docker registry base-image

# Builds mrun and runs the example experiment on the built-in local context.
run: build
	cd examples/quickstart && MRUN_HOME=$(RUN_HOME) $(CURDIR)/.build/debug/mrun --context local run \
		--requirements requirements.txt train.py -- --epochs 3

install: release
	install -d $(DESTDIR)$(PREFIX)/bin
	install -m 0755 .build/release/mrun $(DESTDIR)$(PREFIX)/bin/mrun

lint:
	$(SWIFT) format lint --strict --recursive Sources Tests Package.swift

format:
	$(SWIFT) format --in-place --recursive Sources Tests Package.swift

clean:
	rm -rf .build
