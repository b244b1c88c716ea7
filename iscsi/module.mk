# iscsi/: build rules only. The iSCSI target's sources live in storaged/
# (iscsi_*.c, scsi_*.c, blockdev_file.c) and become libfbiscsi.a, which
# fleetboot-storaged links; storaged/iscsi.h is its API. The standalone
# test target serves a plain file for tests and iscsi-test-cu.
FBISCSI_SRCS := $(filter-out storaged/iscsi_testtarget.c,$(wildcard storaged/iscsi_*.c storaged/scsi_*.c)) \
	storaged/blockdev_file.c
FBISCSI_OBJS := $(FBISCSI_SRCS:%.c=$(B)/%.o)
FBISCSI_LIB := $(B)/libfbiscsi.a

$(FBISCSI_LIB): $(FBISCSI_OBJS)
	@mkdir -p $(dir $@)
	rm -f $@
	ar rcs $@ $^

BINS += $(B)/bin/fleetboot-iscsi-testtarget

$(B)/bin/fleetboot-iscsi-testtarget: $(B)/storaged/iscsi_testtarget.o $(FBISCSI_LIB) $(LIBFB)
	@mkdir -p $(dir $@)
	$(CC) $(ALL_LDFLAGS) -o $@ $^ $(PKG_LIBS) -lpthread

all: $(FBISCSI_LIB)


# A misbehaving initiator for tests/storaged/test-iscsi-badinput.sh, and a
# libiscsi load generator for the tests and bench/storaged-iscsi.sh.
ISCSI_TEST_TOOLS := $(B)/tests/storaged/iscsi-badclient $(B)/tests/storaged/iscsi-bench
all: $(ISCSI_TEST_TOOLS)
$(B)/tests/storaged/iscsi-badclient: $(B)/tests/storaged/iscsi_badclient.o $(LIBFB)
	@mkdir -p $(dir $@)
	$(CC) $(ALL_LDFLAGS) -o $@ $^ $(PKG_LIBS) -lpthread
$(B)/tests/storaged/iscsi-bench: $(B)/tests/storaged/iscsi_bench.o
	@mkdir -p $(dir $@)
	$(CC) $(ALL_LDFLAGS) -o $@ $^ -liscsi

.PHONY: iscsi
iscsi: $(FBISCSI_LIB) $(B)/bin/fleetboot-iscsi-testtarget $(ISCSI_TEST_TOOLS)
