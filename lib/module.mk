# lib/: libfleetboot.a, the code every program shares, with the pure
# protocol codecs (no I/O) under lib/proto/.
LIB_SRCS := lib/buf.c lib/clock.c lib/config.c lib/crc32c.c lib/daemon.c lib/entryfile.c lib/evloop.c \
	lib/fileio.c lib/hex.c lib/locate.c lib/log.c lib/logsafe.c lib/neigh.c lib/netaddr.c lib/progress.c \
	lib/pwhash.c lib/secret.c lib/sha256.c lib/stateperm.c lib/size.c lib/str.c \
	lib/proto/dhcp.c lib/proto/iscsi_pdu.c lib/proto/scsi_cdb.c lib/proto/tftp.c \
	lib/proto/wol.c
$(eval $(call archive,$(LIBFB),$(LIB_SRCS:%.c=$(B)/%.o)))
