# Verbs only; CMake is the build. See README.md.
BUILD ?= build
PORT ?= 8080
JOBS ?= $(shell nproc)

.PHONY: all build deps test run bench clean sanitize tsan fuzz install deb

all: build

deps:
	bash scripts/install-deps

$(BUILD)/CMakeCache.txt:
	cmake -S . -B $(BUILD) $(CMAKE_ARGS)

build: $(BUILD)/CMakeCache.txt
	cmake --build $(BUILD) -j $(JOBS)

test: deps build
	ctest --test-dir $(BUILD) --output-on-failure -j $(JOBS) $(CTEST_ARGS)

run: deps build
	PORT=$(PORT) bash scripts/demo

bench: deps
	BENCH_QUICK=$(QUICK) bash bench/run

# make install [PREFIX=/usr/local] [DESTDIR=/staging]: every file, stripped (cmake/install.cmake).
# The prefix is configured into the build, since the units and the cron file name the programs.
PREFIX ?= /usr/local
install:
	cmake -S . -B $(BUILD) -DCMAKE_INSTALL_PREFIX=$(PREFIX) $(CMAKE_ARGS)
	cmake --build $(BUILD) -j $(JOBS)
	DESTDIR=$(DESTDIR) cmake --install $(BUILD) --strip

# make deb: build/deb/gvx_<version>_<arch>.deb (debian/, debhelper; scripts/make-deb).
deb: deps
	bash scripts/make-deb $(BUILD)/deb

clean:
	rm -rf $(BUILD)

# Hardening (README "Hardening"). sanitize: the whole CTest suite in an ASan+UBSan build.
ASAN_BUILD ?= build-asan
SANITIZER_ENV = ASAN_OPTIONS=detect_leaks=1:strict_string_checks=1:detect_stack_use_after_return=1 \
	UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1

sanitize: deps
	cmake -S . -B $(ASAN_BUILD) -DGVX_SANITIZE=ON $(CMAKE_ARGS)
	cmake --build $(ASAN_BUILD) -j $(JOBS)
	$(SANITIZER_ENV) ctest --test-dir $(ASAN_BUILD) --output-on-failure -j $(JOBS) $(CTEST_ARGS)

# tsan: what runs on several threads (gvx-fcgi's request threads and group commit) built with
# ThreadSanitizer; the tests that drive only gvx-fcgi and the unit tests of the shared store.
# (gvx.so is left out: a ThreadSanitizer library cannot be loaded into the plain sqlite3.)
TSAN_BUILD ?= build-tsan
TSAN_TESTS ?= fcgi\.GroupCommit|hardening\.(threads|crash)
tsan: deps
	cmake -S . -B $(TSAN_BUILD) -DGVX_TSAN=ON $(CMAKE_ARGS)
	cmake --build $(TSAN_BUILD) -j $(JOBS) --target gvx-fcgi fcgi_tests
	TSAN_OPTIONS=halt_on_error=1:second_deadlock_stack=1 \
	    ctest --test-dir $(TSAN_BUILD) --output-on-failure -j $(JOBS) -R '$(TSAN_TESTS)'

# fuzz: every libFuzzer target in test/fuzz for FUZZ_SECONDS each (clang++ needed), starting
# from and adding to the committed corpora; findings land in $(FUZZ_BUILD)/findings/.
FUZZ_BUILD ?= build-fuzz
FUZZ_SECONDS ?= 60
FUZZ_TARGETS ?= $(notdir $(wildcard test/fuzz/corpus/*))
CLANGXX ?= $(firstword $(shell command -v clang++ clang++-14 2>/dev/null))

fuzz:
	@test -n "$(CLANGXX)" || { echo "make fuzz needs clang++ (apt-get install clang libclang-rt-14-dev)"; exit 1; }
	cmake -S . -B $(FUZZ_BUILD) -DGVX_FUZZ=ON -DCMAKE_CXX_COMPILER=$(CLANGXX) $(CMAKE_ARGS)
	cmake --build $(FUZZ_BUILD) -j $(JOBS) --target $(addprefix fuzz_,$(FUZZ_TARGETS))
	bash test/fuzz/run-fuzzers $(FUZZ_BUILD) $(FUZZ_SECONDS) $(FUZZ_TARGETS)
