# SPDX-License-Identifier: MIT
# Entry points of zonecut. `make demo` and `make test` install what they need
# (Debian packages), build with Meson + Ninja, and run.
BUILD ?= build
PYTHON ?= /usr/bin/python3

.PHONY: all deps build test demo clean unit system fuzz

all: build

deps:
	@scripts/install-deps.sh

$(BUILD)/build.ninja:
	meson setup --native-file build-dev.ini $(BUILD)

build: deps $(BUILD)/build.ninja
	ninja -C $(BUILD)

test: build
	@tests/run-all.sh $(BUILD)

unit: build
	meson test -C $(BUILD) --suite unit --print-errorlogs

fuzz: build
	meson test -C $(BUILD) --suite fuzz --print-errorlogs

system: build
	$(PYTHON) -m pytest -q tests/system

demo: build
	@scripts/demo.sh $(BUILD)

clean:
	rm -rf $(BUILD)
