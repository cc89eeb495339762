# Thin wrapper over CMake. `make run` and `make test` work on a fresh
# Debian machine as root: each installs the packages it needs first.
BUILD      ?= build
ASAN_BUILD ?= build-asan
JOBS       ?= $(shell nproc 2>/dev/null || echo 2)
STATE      ?= var/stird

.PHONY: all deps build run run-secure test test-plain test-asan bench clean deb deb-check

all: build

deps:
	@scripts/install-deps.sh

$(BUILD)/Makefile:
	cmake -S . -B $(BUILD) -DCMAKE_BUILD_TYPE=RelWithDebInfo

build: deps $(BUILD)/Makefile
	cmake --build $(BUILD) -j$(JOBS)

# The server on 127.0.0.1:8080 with its embedded test PKI (made on first run
# under $(STATE)) and its own certificate served at the x5u URL.
run: build
	$(BUILD)/stird --embedded --plain-http --state-dir $(STATE)

# The same with the Ms API secured as in production (issue 8 item 8): HTTPS,
# mutual TLS and OAuth required, the lab policy and an audit log, all from
# lab files made under $(STATE) (README: "Trying the secured API").
run-secure: build
	$(BUILD)/stird --embedded --lab-secure --state-dir $(STATE)

test: deps test-plain test-asan

test-plain: build
	cd $(BUILD) && ctest --output-on-failure -j$(JOBS)

test-asan: deps
	cmake -S . -B $(ASAN_BUILD) -DCMAKE_BUILD_TYPE=Debug -DSTIR_SANITIZE=ON
	cmake --build $(ASAN_BUILD) -j$(JOBS)
	cd $(ASAN_BUILD) && ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 \
	  UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
	  ctest --output-on-failure -j$(JOBS)

bench: build
	bench/run.sh

# Debian packages in dist/ (dpkg-buildpackage -us -uc -b, then lintian).
deb: deps
	scripts/build-deb.sh

# The packages built and their contents checked (CI runs it after `make test`).
deb-check: deb
	tests/package/check_debs.sh dist

clean:
	rm -rf $(BUILD) $(ASAN_BUILD) build-deb
