# bootd/: fleetboot-bootd, DHCP (authoritative and proxy), TFTP and the
# boot HTTP endpoints.
BOOTD_SRCS := bootd/dhcp.c bootd/dhcp_io.c bootd/dhcp_policy.c bootd/http.c bootd/http_route.c bootd/iface.c \
	bootd/identity.c bootd/main.c bootd/nextboot.c bootd/pxelinux.c bootd/credential.c bootd/register.c bootd/sanboot.c \
	bootd/script.c bootd/state.c bootd/tftp.c bootd/tftp_path.c bootd/tftp_virtual.c bootd/wake.c bootd/writer.c

PROGRAMS += $(B)/bin/fleetboot-bootd
$(eval $(call link,$(B)/bin/fleetboot-bootd,$(BOOTD_SRCS:%.c=$(B)/%.o) $(LIBDB) $(LIBFB),$(SYS_LIBS)))
