# relsync — two commands on a fresh Debian machine:
#   make demo   install what is missing, start PostgreSQL and the Notion simulator, reconcile, show the result
#   make test   the whole test suite (unit, PostgreSQL integration, end-to-end with the real binaries)
SHELL := /bin/bash
export PATH := /opt/swift/usr/bin:$(PATH)

.PHONY: all deps build release test demo bench soak pg-start pg-stop sim clean help

all: build

help:
	@echo "make demo      run relsync end to end against the simulator and a local PostgreSQL"
	@echo "make test      run every test (starts a local PostgreSQL under .pg/)"
	@echo "make build     debug build of relsync and notion-sim"
	@echo "make release   optimized build"
	@echo "make soak      long reliability runs (~10 min): every Notion fault at once on a bench workspace, a 61 s Retry-After"
	@echo "make bench     benchmarks vs the targets in BENCHMARKS.md (~13 min; BENCH_ARGS=--quick ~2 min)"
	@echo "make pg-start  start the local PostgreSQL cluster (.pg/); make pg-stop stops it"

deps:
	@scripts/deps.sh

build: deps
	swift build

release: deps
	swift build -c release

test:
	@scripts/deps.sh --test
	@scripts/test.sh

demo: deps
	@scripts/demo.sh

# Never part of `make test`. BENCH_ARGS: --quick, or one of calls walltime postgres memory throughput.
BENCH_ARGS ?=
bench: deps
	@scripts/pg.sh start
	swift build -c release --product relsync
	swift build -c release --product relsync-bench
	@eval "$$(scripts/pg.sh env)"; bin="$$(swift build -c release --show-bin-path)"; \
	  "$$bin/relsync-bench" $(BENCH_ARGS) --json .build/bench.json --markdown .build/bench.md

# Never part of `make test`: the long variants of the reliability suite (docs/RELIABILITY.md).
soak: deps
	@scripts/pg.sh start && eval "$$(scripts/pg.sh env)" && swift build && \
	  RELSYNC_BIN="$$(swift build --show-bin-path)/relsync" RELSYNC_SOAK=1 swift test --filter ReliabilitySoakTests

pg-start: deps
	@scripts/pg.sh start

pg-stop:
	@scripts/pg.sh stop

clean:
	rm -rf .build .demo
