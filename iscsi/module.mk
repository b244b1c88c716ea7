# iscsi/: libfbiscsi.a, the iSCSI target and SCSI block-device emulation.
# It serves any struct fb_blockdev (lib/blockdev.h) and knows nothing of
# overlays or the database. fleetboot-iscsi-testtarget serves a plain file
# with it, for tests and iscsi-test-cu.
ISCSI_SRCS := iscsi/iscsi_login.c iscsi/iscsi_session.c iscsi/iscsi_target.c \
	iscsi/scsi_info.c iscsi/scsi_lu.c iscsi/scsi_opcodes.c iscsi/scsi_orwrite.c \
	iscsi/scsi_pr.c iscsi/blockdev_file.c
$(eval $(call archive,$(LIBISCSI),$(ISCSI_SRCS:%.c=$(B)/%.o)))

PROGRAMS += $(B)/bin/fleetboot-iscsi-testtarget
$(eval $(call link,$(B)/bin/fleetboot-iscsi-testtarget,\
	$(B)/iscsi/iscsi_testtarget.o $(LIBISCSI) $(LIBFB),$(SYS_LIBS)))
