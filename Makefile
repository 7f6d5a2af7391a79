# peerline: `make check` is the one command that runs every test (CI calls it).
GO ?= go
FUZZTIME ?= 30s
# Go minimizes each new input for up to 60 s by default: a target slow to run
# (the web one writes the database) then fuzzed for a third of a 30 s run.
FUZZMINIMIZE ?= 5s
PKGS := ./...

.PHONY: check tools fmt-check vet unit-check test fuzz load load-calls bench-relay bench-calls build run

check: tools fmt-check vet unit-check test

# System tools the tests drive, as command:debian-package pairs, and files
# (shell patterns) they need, as file:package pairs. Installed with apt-get when
# missing; make check fails loudly when they cannot be had.
SYSTEM_TOOLS := sipp:sip-tester chromium:chromium kamailio:kamailio baresip:baresip-core curl:curl
SYSTEM_FILES := /usr/lib/*/kamailio/modules/tls.so:kamailio-tls-modules /usr/lib/baresip/modules/srtp.so:baresip-core
tools:
	@missing=""; for tp in $(SYSTEM_TOOLS); do \
		command -v $${tp%%:*} >/dev/null || missing="$$missing $${tp##*:}"; done; \
	for fp in $(SYSTEM_FILES); do \
		ls $${fp%%:*} >/dev/null 2>&1 || missing="$$missing $${fp##*:}"; done; \
	if [ -n "$$missing" ]; then \
		echo "make check: installing$$missing"; \
		{ apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing; } || \
		{ echo "make check: cannot install$$missing; install by hand: apt-get install$$missing"; exit 1; }; \
	fi

fmt-check:
	@out=$$(gofmt -l $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go')); \
	if [ -n "$$out" ]; then echo "gofmt would change:"; echo "$$out"; exit 1; fi

vet:
	$(GO) vet $(PKGS)

# The systemd unit, checked by systemd itself where it is installed (against
# a freshly built binary in ExecStart's place).
unit-check:
	@if command -v systemd-analyze >/dev/null; then \
		d=$$(mktemp -d) && trap 'rm -rf $$d' EXIT && \
		$(GO) build -o $$d/peerline ./cmd/peerline && \
		for u in peerline.service peerline-backup.service peerline-backup.timer; do \
			sed "s|/usr/local/bin/peerline|$$d/peerline|" deploy/$$u > $$d/$$u || exit 1; done && \
		systemd-analyze verify $$d/peerline.service $$d/peerline-backup.service $$d/peerline-backup.timer && \
		echo "deploy/*.service, *.timer: verified"; \
	else echo "unit-check: systemd-analyze is not here; the unit is not verified"; fi

test:
	$(GO) test -race -count=1 $(PKGS)

# Longer fuzzing of every parser; not part of check.
fuzz:
	$(GO) test ./config -run=^$$ -fuzz=FuzzParse -fuzztime=$(FUZZTIME) -fuzzminimizetime=$(FUZZMINIMIZE)
	$(GO) test ./internal/logging -run=^$$ -fuzz=FuzzMaskText -fuzztime=$(FUZZTIME) -fuzzminimizetime=$(FUZZMINIMIZE)
	$(GO) test ./internal/logging -run=^$$ -fuzz=FuzzSlogError -fuzztime=$(FUZZTIME) -fuzzminimizetime=$(FUZZMINIMIZE)
	$(GO) test ./web -run=^$$ -fuzz=FuzzOverrideBody -fuzztime=$(FUZZTIME) -fuzzminimizetime=$(FUZZMINIMIZE)
	$(GO) test ./roster -run=^$$ -fuzz=FuzzNormalizePhone -fuzztime=$(FUZZTIME) -fuzzminimizetime=$(FUZZMINIMIZE)
	$(GO) test ./internal/phone -run=^$$ -fuzz=FuzzNormalize -fuzztime=$(FUZZTIME) -fuzzminimizetime=$(FUZZMINIMIZE)
	$(GO) test ./roster -run=^$$ -fuzz=FuzzParseImport -fuzztime=$(FUZZTIME) -fuzzminimizetime=$(FUZZMINIMIZE)
	$(GO) test ./pbx/media -run=^$$ -fuzz=FuzzParseSDP -fuzztime=$(FUZZTIME) -fuzzminimizetime=$(FUZZMINIMIZE)
	$(GO) test ./pbx/media -run=^$$ -fuzz=FuzzParseCrypto -fuzztime=$(FUZZTIME) -fuzzminimizetime=$(FUZZMINIMIZE)
	$(GO) test ./pbx/media -run=^$$ -fuzz=FuzzParseWAV -fuzztime=$(FUZZTIME) -fuzzminimizetime=$(FUZZMINIMIZE)
	$(GO) test ./pbx/webhook -run=^$$ -fuzz=FuzzDecode -fuzztime=$(FUZZTIME) -fuzzminimizetime=$(FUZZMINIMIZE)
	$(GO) test ./pbx/elks -run=^$$ -fuzz=FuzzParse -fuzztime=$(FUZZTIME) -fuzzminimizetime=$(FUZZMINIMIZE)
	$(GO) test ./pbx/media -run=^$$ -fuzz=FuzzTelephoneEvent -fuzztime=$(FUZZTIME) -fuzzminimizetime=$(FUZZMINIMIZE)
	$(GO) test ./pbx/media -run=^$$ -fuzz=FuzzDTMFInfo -fuzztime=$(FUZZTIME) -fuzzminimizetime=$(FUZZMINIMIZE)

# SIPp load run of bridged calls against the built binary (no race detector);
# reports CPU, memory and failed calls, and rtpengine's beside them when it and Kamailio
# are installed. LOAD_CALLS and LOAD_CONCURRENT set its size, LOAD_SECONDS each call's length.
LOAD_CALLS ?= 200
LOAD_CONCURRENT ?= 50
LOAD_SECONDS ?= 10
load: tools
	PEERLINE_LOAD=$(LOAD_CALLS) PEERLINE_LOAD_CONCURRENT=$(LOAD_CONCURRENT) PEERLINE_LOAD_SECONDS=$(LOAD_SECONDS) \
		$(GO) test -count=1 -v -timeout 15m -run '^TestLoadBridgedCalls$$' ./test/e2e

# SIPp signalling run: LOAD_RATE short bridged calls a second from one address
# (as through a trunk); reports CPU per call, RSS and failed calls.
LOAD_RATE ?= 50
LOAD_RATE_CALLS ?= 1000
load-calls: tools
	PEERLINE_LOAD=$(LOAD_RATE_CALLS) PEERLINE_LOAD_RATE=$(LOAD_RATE) \
		$(GO) test -count=1 -v -timeout 15m -run '^TestLoadSignalling$$' ./test/e2e

# The side-by-side run of issue 23: the bridged-call run (CPU per packet while
# calls talk, loss, RSS, live heap and goroutines per call), then the
# signalling run without a greeting (CPU per call, INVITE to agent INVITE from
# SIPp's traces), each beside Kamailio (+ rtpengine) when installed, then the
# relay benchmark. Not part of check.
bench-calls: tools
	PEERLINE_LOAD=$(LOAD_CALLS) PEERLINE_LOAD_CONCURRENT=$(LOAD_CONCURRENT) \
		$(GO) test -count=1 -v -timeout 15m -run '^TestLoadBridgedCalls$$' ./test/e2e
	PEERLINE_LOAD=$(LOAD_RATE_CALLS) PEERLINE_LOAD_RATE=$(LOAD_RATE) PEERLINE_LOAD_GREETING=none \
		$(GO) test -count=1 -v -timeout 15m -run '^TestLoadSignalling$$' ./test/e2e
	$(MAKE) bench-relay

# CPU per relayed packet at 5k, 20k and 50k packets a second: peerline's
# bridge beside minimal Go relays (the floor of each shape) and, when Debian's
# rtpengine-daemon is installed, rtpengine in userspace. Not part of check.
bench-relay:
	$(GO) test -run '^$$' -bench 'RelayLoad' -benchtime 1x ./pbx/media

build:
	$(GO) build -o bin/peerline ./cmd/peerline

run:
	$(GO) run ./cmd/peerline
