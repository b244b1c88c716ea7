# bench/: the boot-storm generator, stormgen (bench/storm.sh drives it). Not installed.
STORM_OBJS := $(addprefix $(B)/bench/storm/,storm.o storm_dhcp.o storm_tftp.o storm_http.o \
	storm_nbd.o)
TEST_TOOLS += $(B)/bench/stormgen
$(STORM_OBJS): CFLAGS += $(shell pkg-config --cflags libnbd 2>/dev/null)
$(eval $(call link,$(B)/bench/stormgen,$(STORM_OBJS) $(LIBFB),$(call pkglibs,libnbd) -lpthread))
