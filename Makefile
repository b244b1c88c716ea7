# fleetboot top-level Makefile.
#
# Each part keeps its own rules in PART/module.mk, included below: its
# source list, and what it links through the one link template here. Objects and
# binaries go under $(B): build/ normally, build-san/ with SAN=1 (ASan and
# UBSan), so both builds can sit next to each other.

SAN ?= 0
# B may be set on the command line (make B=build-mine) to keep a private
# build tree; by default build/ or build-san/.
ifeq ($(SAN),1)
B ?= build-san
else ifeq ($(SAN),fuzz)
B ?= build-fuzz
else
B ?= build
endif

PREFIX ?= /usr/local
DESTDIR ?=
CC ?= gcc
ifeq ($(CC),cc)
CC := gcc
endif
FUZZ_CC ?= clang

PKGS := sqlite3 libnl-3.0 libnl-route-3.0 libmicrohttpd jansson libcrypto libargon2
PKG_CFLAGS := $(shell pkg-config --cflags $(PKGS) 2>/dev/null)

WARN := -Wall -Wextra -Wshadow -Wvla -Wformat=2 -Wmissing-prototypes \
	-Wstrict-prototypes -Wno-unused-parameter -Wno-format-truncation -Werror
BASE_CFLAGS := -std=c11 -D_GNU_SOURCE -g -fPIC -fstack-protector-strong $(WARN) \
	-I. -Ilib $(PKG_CFLAGS)
ifeq ($(SAN),1)
BASE_CFLAGS += -O1 -fsanitize=address,undefined -fno-omit-frame-pointer \
	-fno-sanitize-recover=all
BASE_LDFLAGS := -fsanitize=address,undefined
else ifeq ($(SAN),fuzz)
# libFuzzer targets (make fuzz): clang, coverage on every object; only the
# fuzzers link libFuzzer's main. clang has no -Wformat-truncation.
BASE_CFLAGS := $(filter-out -Wno-format-truncation,$(BASE_CFLAGS))
BASE_CFLAGS += -O1 -fsanitize=fuzzer-no-link,address,undefined -fno-omit-frame-pointer \
	-fno-sanitize-recover=undefined
BASE_LDFLAGS := -fsanitize=fuzzer,address,undefined
else
BASE_CFLAGS += -O2 -D_FORTIFY_SOURCE=2
BASE_LDFLAGS :=
endif
ALL_CFLAGS = $(BASE_CFLAGS) $(CFLAGS)
ALL_LDFLAGS = $(BASE_LDFLAGS) $(LDFLAGS)

# Filled in by the module.mk files: what `make all` builds and what
# `make install` copies (tools/install.sh takes $(B)/bin as it is).
PROGRAMS :=
UNIT_TESTS :=
TEST_TOOLS :=

# The libraries the parts build; each module.mk names the ones it links.
LIBFB := $(B)/libfleetboot.a
LIBDB := $(B)/libfbdb.a
LIBCOW := $(B)/libfbcow.a
LIBISCSI := $(B)/libfbiscsi.a

# System libraries, by pkg-config package; a program's rule names the ones
# it needs (SYS_LIBS: what every daemon links).
pkglibs = $(shell pkg-config --libs $(1) 2>/dev/null)
SYS_LIBS := $(call pkglibs,$(PKGS)) -lpthread

# $(call archive,LIB,OBJECTS): a static library.
define archive
$(1): $(2)
	@mkdir -p $$(@D)
	rm -f $$@
	ar rcs $$@ $$^
endef

# $(call link,PROGRAM,OBJECTS AND ARCHIVES,SYSTEM LIBRARIES[,-shared]): the
# one link recipe. Archives are linked as a group, so their order does not
# matter.
define link
$(1): $(2)
	@mkdir -p $$(@D)
	$$(CC) $(4) $$(ALL_LDFLAGS) -o $$@ $$(filter %.o,$$^) \
		-Wl,--start-group $$(filter %.a,$$^) -Wl,--end-group $(3)
endef

.PHONY: all check check-unit install deps demo demo-stop bench fuzz clean format
all:

# Keep objects of unit tests and the like between runs.
.SECONDARY:

include lib/module.mk db/module.mk cow/module.mk iscsi/module.mk storaged/module.mk \
	bootd/module.mk web/module.mk cli/module.mk image-builder/module.mk tests/module.mk \
	bench/module.mk

all: $(PROGRAMS) $(UNIT_TESTS) $(TEST_TOOLS)

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

# libFuzzer targets (tests/module.mk): built with clang into build-fuzz/,
# then each run for FUZZ_SECS seconds on its corpus.
fuzz: fuzzers
	bash tests/fuzz/run.sh $${FUZZ_SECS:-60} $$($(MAKE) -s SAN=fuzz print-fuzzers)

format:
	clang-format -i $$(git ls-files '*.c' '*.h')

clean:
	rm -rf build build-san build-fuzz
