# tcn — top-level entry points. CMake + CTest do the work underneath.
#   make demo    build, then run the attestation demo (scripts/demo.sh)
#   make test    everything CI runs: -Werror build + suite, ASan/UBSan build + suite, short fuzz runs
#   make check   the suite once, on the normal build (quick)
#   make bench   benchmarks (figures recorded in docs/BENCHMARKS.md)
#   make bench-network  tcn devnet vs a 3-member etcd (TLS) on 127.0.0.1: writes/s + latency
#                (bench/writes.sh) and failover time (bench/failover.sh); installs etcd with apt-get
#                when missing (root); BENCH_SECONDS per load run (5), BENCH_REPS failovers (20)
#   make fuzz    long libFuzzer runs (FUZZ_SECONDS per target, default 300)
#   make sim-long tcn-sim over seeds from a random start until stopped (Ctrl-C) or SIM_SECONDS pass;
#                prints every failing seed's reproduction command (SIM_STEPS, SIM_ARGS, SIM_START)
#                (make check / make test run the sim_* tests: seeds, bug switches, determinism, CLI)

MAKEFLAGS += --no-print-directory
JOBS ?= $(shell nproc 2>/dev/null || echo 2)
BUILD ?= build
FUZZ_SECONDS ?= 300
FUZZ_SMOKE_SECONDS ?= 20
SIM_SECONDS ?= 0
CMAKE_FLAGS ?=

.PHONY: all deps build check test test-sanitize fuzz fuzz-smoke fuzz-build demo bench bench-network sim-long clean

all: build

deps:
	@./scripts/install-deps.sh

build: deps
	@cmake -S . -B $(BUILD) -DCMAKE_BUILD_TYPE=RelWithDebInfo -DTCN_WERROR=ON $(CMAKE_FLAGS) >/dev/null
	@cmake --build $(BUILD) -j $(JOBS)

check: build
	ctest --test-dir $(BUILD) --output-on-failure -j $(JOBS)

test-sanitize: deps
	@cmake -S . -B build-asan -DCMAKE_BUILD_TYPE=Debug -DTCN_WERROR=ON -DTCN_SANITIZE=ON >/dev/null
	@cmake --build build-asan -j $(JOBS)
	ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
	  ctest --test-dir build-asan --output-on-failure -j $(JOBS)

fuzz-build: deps
	@CC=clang cmake -S . -B build-fuzz -DCMAKE_BUILD_TYPE=RelWithDebInfo -DTCN_FUZZ=ON >/dev/null
	@cmake --build build-fuzz -j $(JOBS)

fuzz-smoke: fuzz-build
	@./scripts/fuzz.sh build-fuzz $(FUZZ_SMOKE_SECONDS)

fuzz: fuzz-build
	@./scripts/fuzz.sh build-fuzz $(FUZZ_SECONDS)

test: check test-sanitize fuzz-smoke
	@echo "make test: all stages passed (werror build + suite, ASan/UBSan suite, fuzz smoke)"

demo: build
	@./scripts/demo.sh

bench: build
	@./scripts/bench.sh $(BUILD)

bench-network: build
	@./bench/writes.sh $(BUILD) $(or $(BENCH_SECONDS),5)
	@./bench/failover.sh $(BUILD) $(or $(BENCH_REPS),20)

sim-long: build
	@./tests/sim/sim_long.sh $(BUILD)/bin/tcn-sim $(SIM_SECONDS)

clean:
	rm -rf build build-asan build-fuzz demo-out
