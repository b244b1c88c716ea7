# bootd/: fleetboot-bootd (DHCP, TFTP, boot HTTP), plus small test clients
# used by tests/bootd and bench/bootd-*.sh.
BOOTD_SRCS := $(wildcard bootd/*.c)
BOOTD_OBJS := $(BOOTD_SRCS:%.c=$(B)/%.o)
SBINS += $(B)/bin/fleetboot-bootd

$(B)/bin/fleetboot-bootd: $(BOOTD_OBJS) $(DB_LIB) $(LIBFB)
	@mkdir -p $(dir $@)
	$(CC) $(ALL_LDFLAGS) -o $@ $^ $(PKG_LIBS) -lpthread

# Test clients (not installed): tests/bootd/tools/*.c, each its own program.
BOOTD_TOOL_SRCS := $(wildcard tests/bootd/tools/*.c)
BOOTD_TOOLS := $(BOOTD_TOOL_SRCS:tests/bootd/tools/%.c=$(B)/tests/bootd/%)
all: $(BOOTD_TOOLS)

$(B)/tests/bootd/%: $(B)/tests/bootd/tools/%.o $(LIBFB)
	@mkdir -p $(dir $@)
	$(CC) $(ALL_LDFLAGS) -o $@ $^ $(PKG_LIBS) -lpthread

.PHONY: bootd
bootd: $(B)/bin/fleetboot-bootd $(BOOTD_TOOLS)
