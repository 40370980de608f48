# Verbs only; CMake is the build. See README.md.
BUILD ?= build
PORT ?= 8080
JOBS ?= $(shell nproc)

.PHONY: all build deps test run bench clean sanitize fuzz install

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

install: build
	cmake --install $(BUILD)

clean:
	rm -rf $(BUILD)
