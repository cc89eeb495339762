# Thin wrapper over CMake. `make run` and `make test` work on a fresh
# Debian machine as root: each installs the packages it needs first.
BUILD      ?= build
ASAN_BUILD ?= build-asan
JOBS       ?= $(shell nproc 2>/dev/null || echo 2)
STATE      ?= var/stird
FUZZ_BUILD ?= build-fuzz
FUZZ_SECONDS ?= 30
FUZZ_TARGETS = $(basename $(notdir $(wildcard tests/fuzz/fuzz_*.c)))

.PHONY: all deps build run run-secure test test-plain test-asan test-fuzz fuzz fuzz-build bench clean \
        deb deb-check format format-check

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

test: deps test-plain test-asan test-fuzz

test-plain: build
	cd $(BUILD) && ctest --output-on-failure -j$(JOBS)

test-asan: deps
	cmake -S . -B $(ASAN_BUILD) -DCMAKE_BUILD_TYPE=Debug -DSTIR_SANITIZE=ON
	cmake --build $(ASAN_BUILD) -j$(JOBS)
	cd $(ASAN_BUILD) && ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 \
	  UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
	  ctest --output-on-failure -j$(JOBS)

# libFuzzer targets (tests/fuzz, docs/TESTING.md), built with clang in their
# own directory. Each runs FUZZ_SECONDS over its committed seeds; new inputs
# go to $(FUZZ_BUILD)/corpus/<target>, crashes to $(FUZZ_BUILD)/crash-*.
fuzz-build: deps
	CC=clang cmake -S . -B $(FUZZ_BUILD) -DCMAKE_BUILD_TYPE=RelWithDebInfo -DSTIR_FUZZ=ON
	cmake --build $(FUZZ_BUILD) -j$(JOBS) --target $(FUZZ_TARGETS)

fuzz: fuzz-build
	@set -e; for t in $(FUZZ_TARGETS); do \
	  mkdir -p $(FUZZ_BUILD)/corpus/$$t; \
	  dict=; [ -f tests/fuzz/$$t.dict ] && dict=-dict=tests/fuzz/$$t.dict; \
	  echo "== $$t ($(FUZZ_SECONDS) s)"; \
	  if ! ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 \
	      UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
	      $(FUZZ_BUILD)/tests/fuzz/$$t -max_total_time=$(FUZZ_SECONDS) -max_len=16384 \
	      -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 $$dict \
	      -artifact_prefix=$(FUZZ_BUILD)/crash-$$t- \
	      $(FUZZ_BUILD)/corpus/$$t tests/fuzz/corpus/$$t >$(FUZZ_BUILD)/$$t.log 2>&1; then \
	    tail -60 $(FUZZ_BUILD)/$$t.log; \
	    echo "$$t FAILED: log $(FUZZ_BUILD)/$$t.log, input $(FUZZ_BUILD)/crash-$$t-*"; exit 1; \
	  fi; \
	  grep -E '^(#[0-9]+ +DONE|stat::number_of_executed_units|stat::peak_rss_mb)' $(FUZZ_BUILD)/$$t.log; \
	done

# CI: every target briefly (the seeds themselves also run in every ctest
# build as fuzz/<target>, without libFuzzer).
test-fuzz:
	$(MAKE) fuzz FUZZ_SECONDS=5

# Every C file follows .clang-format (clang-format-14): the library, the
# server, the CLI, the benchmarks' C and the unit and fuzz tests.
CLANG_FORMAT ?= clang-format-14
FORMAT_FILES = $(wildcard src/lib/*.[ch] src/server/*.[ch] src/cli/*.[ch] include/stir/*.h \
  tests/unit/*.[ch] tests/fuzz/*.[ch] bench/*.c)

format:
	$(CLANG_FORMAT) -i $(FORMAT_FILES)

format-check:
	$(CLANG_FORMAT) --dry-run --Werror $(FORMAT_FILES)

bench: build
	bench/run.sh

# Debian packages in dist/ (dpkg-buildpackage -us -uc -b, then lintian).
deb: deps
	scripts/build-deb.sh

# The packages built and their contents checked (CI runs it after `make test`).
deb-check: deb
	tests/package/check_debs.sh dist

clean:
	rm -rf $(BUILD) $(ASAN_BUILD) $(FUZZ_BUILD) build-deb
