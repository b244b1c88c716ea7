# storaged/: the copy-on-write engine (libfbcow.a), the fleetboot-storaged
# daemon (engine + iSCSI target + nbdkit supervision) and the nbdkit plugin.
COW_SRCS := $(wildcard storaged/cow_*.c)
COW_OBJS := $(COW_SRCS:%.c=$(B)/%.o)
COW_LIB := $(B)/libfbcow.a

# Shared by the daemon and the plugin: machines, access checks, open disks.
SD_SHARED_SRCS := $(wildcard storaged/disk*.c)
SD_SHARED_OBJS := $(SD_SHARED_SRCS:%.c=$(B)/%.o)

# The daemon's own files. The iSCSI target is libfbiscsi.a (iscsi/module.mk,
# included before this file); without it the daemon builds NBD-only.
STORAGED_SRCS := storaged/main.c storaged/nbdkit.c storaged/backend.c
STORAGED_OBJS := $(STORAGED_SRCS:%.c=$(B)/%.o)
SD_ISCSI_LIB := $(if $(filter 1,$(SD_NO_ISCSI)),,$(FBISCSI_LIB))
ifneq ($(SD_ISCSI_LIB),)
$(B)/storaged/main.o: CFLAGS += -DFB_HAVE_ISCSI=1
endif

SBINS += $(B)/bin/fleetboot-storaged
LIBEXEC += $(B)/bin/nbdkit-fleetboot-plugin.so

# nbdkit is not built with the sanitizers: the SAN daemon preloads the
# runtimes into nbdkit (see storaged/nbdkit.c).
ifeq ($(SAN),1)
SAN_PRELOAD := $(shell $(CC) -print-file-name=libasan.so):$(shell $(CC) -print-file-name=libubsan.so)
$(B)/storaged/nbdkit.o: CFLAGS += -DFB_SAN=1 '-DFB_SAN_PRELOAD="$(SAN_PRELOAD)"'
endif

$(COW_LIB): $(COW_OBJS)
	@mkdir -p $(dir $@)
	rm -f $@
	ar rcs $@ $^

$(B)/bin/fleetboot-storaged: $(STORAGED_OBJS) $(SD_SHARED_OBJS) $(SD_ISCSI_LIB) $(COW_LIB) \
		$(DB_LIB) $(LIBFB)
	@mkdir -p $(dir $@)
	$(CC) $(ALL_LDFLAGS) -o $@ $^ $(PKG_LIBS) -lpthread

# The plugin is a shared object nbdkit dlopens; nbdkit_* symbols come from
# the nbdkit executable at load time.
$(B)/bin/nbdkit-fleetboot-plugin.so: $(B)/storaged/nbd_plugin.o $(SD_SHARED_OBJS) $(COW_LIB) \
		$(DB_LIB) $(LIBFB)
	@mkdir -p $(dir $@)
	$(CC) -shared $(ALL_LDFLAGS) -o $@ $^ $(PKG_LIBS) -lpthread

# The engine's unit test needs the engine.
$(B)/tests/unit/test_cow: $(B)/tests/unit/test_cow.o $(COW_LIB) $(DB_LIB) $(LIBFB)
	$(CC) $(ALL_LDFLAGS) -o $@ $^ $(PKG_LIBS) -lpthread

# `fleetboot overlay commit` exports base + overlay through the engine.
$(B)/bin/fleetboot: $(COW_LIB)
$(B)/bin/fleetboot: PKG_LIBS := $(COW_LIB) $(DB_LIB) $(LIBFB) $(PKG_LIBS)

.PHONY: storaged
storaged: $(B)/bin/fleetboot-storaged $(B)/bin/nbdkit-fleetboot-plugin.so

# Test helpers of tests/storaged/.
SD_TEST_TOOLS := $(B)/tests/storaged/sd-dbtool
all: $(SD_TEST_TOOLS)
$(B)/tests/storaged/sd-dbtool: $(B)/tests/storaged/sd_dbtool.o $(DB_LIB) $(LIBFB)
	@mkdir -p $(dir $@)
	$(CC) $(ALL_LDFLAGS) -o $@ $^ $(PKG_LIBS) -lpthread

# The power-cut test: a recorder preloaded into nbdkit, and the tool that
# builds a power-cut disk from its record. The recorder defines open() and
# friends itself, so glibc's fortified inline versions must stay out.
SD_TEST_TOOLS += $(B)/tests/storaged/powercut $(B)/tests/storaged/powercut-shim.so
all: $(B)/tests/storaged/powercut $(B)/tests/storaged/powercut-shim.so
$(B)/tests/storaged/powercut: $(B)/tests/storaged/powercut.o
	@mkdir -p $(dir $@)
	$(CC) $(ALL_LDFLAGS) -o $@ $^
$(B)/tests/storaged/powercut_shim.o: CFLAGS += -U_FORTIFY_SOURCE
$(B)/tests/storaged/powercut-shim.so: $(B)/tests/storaged/powercut_shim.o
	@mkdir -p $(dir $@)
	$(CC) -shared $(ALL_LDFLAGS) -o $@ $^ -ldl -lpthread
