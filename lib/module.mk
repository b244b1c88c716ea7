# lib/: the shared library every program links (libfleetboot.a), with the
# pure protocol codecs under lib/proto/.
# $(LIBCORE) holds lib/*.c alone, for programs that need no codec (the CLI),
# so work in progress on a codec never stops them from building.
LIB_SRCS := $(wildcard lib/*.c lib/proto/*.c)
LIB_OBJS := $(LIB_SRCS:%.c=$(B)/%.o)
LIBCORE_OBJS := $(patsubst %.c,$(B)/%.o,$(wildcard lib/*.c))

$(LIBFB): $(LIB_OBJS)
	@mkdir -p $(dir $@)
	rm -f $@
	ar rcs $@ $^

$(LIBCORE): $(LIBCORE_OBJS)
	@mkdir -p $(dir $@)
	rm -f $@
	ar rcs $@ $^

# Unit tests: tests/unit/test_*.c, each its own program linked with the
# library and db/ (tests for db/ live there too).
UNIT_SRCS := $(wildcard tests/unit/test_*.c)
UNIT_TESTS += $(UNIT_SRCS:tests/unit/%.c=$(B)/tests/unit/%)

$(B)/tests/unit/%: $(B)/tests/unit/%.o $(DB_LIB) $(LIBFB)
	$(CC) $(ALL_LDFLAGS) -o $@ $(filter %.o,$^) -Wl,--start-group $(filter %.a,$^) -Wl,--end-group $(PKG_LIBS) -lpthread

.PHONY: lib
lib: $(LIBFB)
