# lib/: libfleetboot.a, the code every program shares, with the pure
# protocol codecs (no I/O) under lib/proto/.
LIB_SRCS := lib/buf.c lib/config.c lib/daemon.c lib/evloop.c lib/log.c lib/neigh.c \
	lib/netaddr.c lib/pwhash.c lib/stateperm.c lib/util.c \
	lib/proto/dhcp.c lib/proto/iscsi_pdu.c lib/proto/scsi_cdb.c lib/proto/tftp.c
$(eval $(call archive,$(LIBFB),$(LIB_SRCS:%.c=$(B)/%.o)))
