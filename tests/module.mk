# tests/: the unit tests, the small programs the test scripts and benches
# drive, and the libFuzzer targets. None of them is installed.

# Unit tests: each its own program (tests/run.sh runs them in both builds).
UNIT_NAMES := test_cow test_db test_dhcp test_iscsi_pdu test_lib test_scsi_pr test_tftp
UNIT_TESTS += $(UNIT_NAMES:%=$(B)/tests/unit/%)
$(foreach t,$(UNIT_NAMES),$(eval $(call link,$(B)/tests/unit/$(t),\
	$(B)/tests/unit/$(t).o $(LIBISCSI) $(LIBCOW) $(LIBDB) $(LIBFB),$(SYS_LIBS))))

# DHCP, TFTP and PXE clients for tests/bootd and bench/bootd-*.sh, and
# neighget (lib/neigh.c's answers for an address).
BOOTD_TOOLS := dhcpforge dhcpload neighget pxeprobe tftpget
TEST_TOOLS += $(BOOTD_TOOLS:%=$(B)/tests/bootd/%)
$(foreach t,$(BOOTD_TOOLS),$(eval $(call link,$(B)/tests/bootd/$(t),\
	$(B)/tests/bootd/tools/$(t).o $(LIBFB),$(SYS_LIBS))))

# tests/storaged: a misbehaving initiator (test-iscsi-badinput), a libiscsi
# load generator (tests and bench/storaged-iscsi.sh), a database helper,
# the power-cut test's recorder (preloaded into nbdkit) and disk maker, and
# the attach-storm test's slow fsync (preloaded too).
TEST_TOOLS += $(addprefix $(B)/tests/storaged/,iscsi-badclient iscsi-bench sd-dbtool \
	powercut powercut-shim.so slowsync-shim.so)
$(eval $(call link,$(B)/tests/storaged/iscsi-badclient,\
	$(B)/tests/storaged/iscsi_badclient.o $(LIBFB),$(SYS_LIBS)))
$(eval $(call link,$(B)/tests/storaged/iscsi-bench,$(B)/tests/storaged/iscsi_bench.o,\
	$(call pkglibs,libiscsi)))
$(eval $(call link,$(B)/tests/storaged/sd-dbtool,\
	$(B)/tests/storaged/sd_dbtool.o $(LIBDB) $(LIBFB),$(SYS_LIBS)))
$(eval $(call link,$(B)/tests/storaged/powercut,$(B)/tests/storaged/powercut.o,))
# The recorder defines open() and friends itself, so glibc's fortified
# inline versions must stay out.
$(B)/tests/storaged/powercut_shim.o: CFLAGS += -U_FORTIFY_SOURCE
$(eval $(call link,$(B)/tests/storaged/powercut-shim.so,\
	$(B)/tests/storaged/powercut_shim.o,-ldl -lpthread,-shared))
$(eval $(call link,$(B)/tests/storaged/slowsync-shim.so,\
	$(B)/tests/storaged/slowsync_shim.o,-ldl,-shared))

# tests/web: records a boot event through the DB API.
TEST_TOOLS += $(B)/tests/web/web_event_add
$(eval $(call link,$(B)/tests/web/web_event_add,$(B)/tests/web/event_add.o $(LIBDB) $(LIBFB),\
	$(SYS_LIBS)))

# libFuzzer targets, one per network parser and protocol state machine.
# `make fuzz` builds them with clang into build-fuzz/ (SAN=fuzz: every
# object instrumented for coverage, ASan and UBSan) and runs each on its
# corpus (tests/fuzz/corpus/NAME/).
FUZZ_NAMES := fuzz_bootd_http fuzz_cow_overlay fuzz_dhcp fuzz_dhcp_lease fuzz_iscsi_login \
	fuzz_iscsi_pdu fuzz_iscsi_session fuzz_nbd_open fuzz_scsi_cdb fuzz_tftp fuzz_web_json \
	fuzz_web_path fuzz_web_query
FUZZERS := $(FUZZ_NAMES:%=$(B)/tests/fuzz/%)
FUZZ_OBJS_fuzz_bootd_http := $(B)/bootd/http_route.o
FUZZ_OBJS_fuzz_dhcp := $(B)/bootd/dhcp_policy.o
# The real DHCP state machine, without its sockets (dhcp_io.c) or the
# database thread (writer.c): the fuzzer stands in for both.
FUZZ_OBJS_fuzz_dhcp_lease := $(B)/bootd/dhcp.o $(B)/bootd/dhcp_policy.o $(B)/bootd/register.o \
	$(B)/bootd/state.o
FUZZ_OBJS_fuzz_nbd_open := $(B)/storaged/nbd_plugin.o $(B)/storaged/disk.o
FUZZ_OBJS_fuzz_tftp := $(B)/bootd/tftp_path.o
FUZZ_OBJS_fuzz_web_json := $(B)/web/body.o $(B)/web/machine_fields.o $(B)/web/text.o
FUZZ_OBJS_fuzz_web_path := $(B)/web/path.o $(B)/web/text.o
FUZZ_OBJS_fuzz_web_query := $(B)/web/query.o $(B)/web/text.o
$(foreach t,$(FUZZ_NAMES),$(eval $(call link,$(B)/tests/fuzz/$(t),\
	$(B)/tests/fuzz/$(t).o $(FUZZ_OBJS_$(t)) $(LIBISCSI) $(LIBCOW) $(LIBDB) $(LIBFB),$(SYS_LIBS))))

.PHONY: fuzzers
ifeq ($(SAN),fuzz)
fuzzers: $(FUZZERS)
else
fuzzers:
	$(MAKE) SAN=fuzz CC=$(FUZZ_CC) fuzzers
endif

.PHONY: print-fuzzers
print-fuzzers:
	@printf '%s\n' $(FUZZERS)
