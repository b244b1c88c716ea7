# fleetboot top-level Makefile.
#
# Each part keeps its own rules in PART/module.mk, included below, so the
# parts can grow side by side without touching this file. Objects and
# binaries go under $(B): build/ normally, build-san/ with SAN=1 (ASan and
# UBSan), so both builds can sit next to each other.

SAN ?= 0
# B may be set on the command line (make B=build-mine) to keep a private
# build tree; by default build/ or build-san/.
ifeq ($(SAN),1)
B ?= build-san
else
B ?= build
endif

PREFIX ?= /usr/local
DESTDIR ?=
CC ?= gcc
ifeq ($(CC),cc)
CC := gcc
endif

PKGS := sqlite3 libnl-3.0 libnl-route-3.0 libmicrohttpd jansson libcrypto
PKG_CFLAGS := $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
PKG_LIBS := $(shell pkg-config --libs $(PKGS) 2>/dev/null)

WARN := -Wall -Wextra -Wshadow -Wvla -Wformat=2 -Wmissing-prototypes \
	-Wstrict-prototypes -Wno-unused-parameter -Wno-format-truncation -Werror
BASE_CFLAGS := -std=c11 -D_GNU_SOURCE -g -fPIC -fstack-protector-strong $(WARN) \
	-I. -Ilib $(PKG_CFLAGS)
ifeq ($(SAN),1)
BASE_CFLAGS += -O1 -fsanitize=address,undefined -fno-omit-frame-pointer \
	-fno-sanitize-recover=all
BASE_LDFLAGS := -fsanitize=address,undefined
else
BASE_CFLAGS += -O2 -D_FORTIFY_SOURCE=2
BASE_LDFLAGS :=
endif
ALL_CFLAGS = $(BASE_CFLAGS) $(CFLAGS)
ALL_LDFLAGS = $(BASE_LDFLAGS) $(LDFLAGS)

# Filled in by the module.mk files.
BINS :=
SBINS :=
LIBEXEC :=
UNIT_TESTS :=
FUZZERS :=
INSTALL_HOOKS :=

LIBFB := $(B)/libfleetboot.a
DB_LIB := $(B)/libfbdb.a
LIBCORE := $(B)/libfbcore.a

.PHONY: all check check-unit install deps demo demo-stop bench fuzz clean format
all:

# Keep objects of unit tests and the like between runs.
.SECONDARY:

include lib/module.mk
include $(sort $(filter-out lib/module.mk,$(wildcard */module.mk)))

all: $(LIBFB) $(BINS) $(SBINS) $(LIBEXEC) $(UNIT_TESTS)

$(B)/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -MMD -MP -c -o $@ $<

-include $(shell find $(B) -name '*.d' 2>/dev/null)

# make check: both builds, then the test runner. Unit tests run in the
# normal and the sanitizer build; integration and end-to-end tests run the
# sanitizer build of the daemons, so real traffic is checked by ASan/UBSan.
check:
	$(MAKE) all
	$(MAKE) SAN=1 all
	bash tests/run.sh

check-unit: all
	bash tests/run.sh --unit

deps:
	bash tools/deps.sh

install: all
	bash tools/install.sh "$(B)" "$(DESTDIR)" "$(PREFIX)"

demo:
	@if [ -f tests/e2e/demo.sh ]; then bash tests/e2e/demo.sh; else \
	  echo "make demo is not there yet: it arrives with the end-to-end work (see README)."; \
	  exit 1; fi

demo-stop:
	@if [ -f tests/e2e/demo.sh ]; then bash tests/e2e/demo.sh --stop; fi

bench: all
	bash bench/run.sh

# libFuzzer targets (clang), built into build-fuzz/.
fuzz:
	bash tests/fuzz/build.sh --run $${FUZZ_SECS:-60}

format:
	clang-format -i $$(git ls-files '*.c' '*.h')

clean:
	rm -rf build build-san build-fuzz
