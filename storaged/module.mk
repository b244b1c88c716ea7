# storaged/: fleetboot-storaged (who may open which disk, the disk
# registry, the iSCSI listener, nbdkit supervision) and the nbdkit plugin
# that nbdkit dlopens (its nbdkit_* symbols come from nbdkit at load time).
SD_DISK_SRCS := storaged/disk.c
STORAGED_SRCS := storaged/main.c storaged/nbdkit.c storaged/backend.c $(SD_DISK_SRCS)
PLUGIN_SRCS := storaged/nbd_plugin.c $(SD_DISK_SRCS)

# The daemon links the iSCSI target (libfbiscsi.a); main.c serves NBD only
# unless told the target is there.
$(B)/storaged/main.o: CFLAGS += -DFB_HAVE_ISCSI=1

PROGRAMS += $(B)/bin/fleetboot-storaged $(B)/bin/nbdkit-fleetboot-plugin.so
$(eval $(call link,$(B)/bin/fleetboot-storaged,\
	$(STORAGED_SRCS:%.c=$(B)/%.o) $(LIBISCSI) $(LIBCOW) $(LIBDB) $(LIBFB),$(SYS_LIBS)))
$(eval $(call link,$(B)/bin/nbdkit-fleetboot-plugin.so,\
	$(PLUGIN_SRCS:%.c=$(B)/%.o) $(LIBCOW) $(LIBDB) $(LIBFB),$(SYS_LIBS),-shared))

# nbdkit is not built with the sanitizers: the SAN daemon preloads the
# runtimes into nbdkit (see storaged/nbdkit.c).
ifeq ($(SAN),1)
SAN_PRELOAD := $(shell $(CC) -print-file-name=libasan.so):$(shell $(CC) -print-file-name=libubsan.so)
$(B)/storaged/nbdkit.o: CFLAGS += -DFB_SAN=1 '-DFB_SAN_PRELOAD="$(SAN_PRELOAD)"'
endif
