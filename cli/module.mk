# cli/: the fleetboot admin command. Commands register themselves
# (CLI_COMMAND in cli.h); `overlay commit` exports base + overlay through
# the copy-on-write engine.
CLI_SRCS := cli/cmd_config.c cli/cmd_entry.c cli/cmd_events.c cli/cmd_group.c cli/cmd_image.c cli/cmd_init.c cli/cmd_key.c \
	cli/cmd_machine.c cli/cmd_overlay.c cli/cmd_status.c cli/cmd_token.c cli/cmd_up.c cli/cmd_user.c cli/cmd_wake.c \
	cli/image_check.c cli/image_version.c cli/listing.c cli/main.c cli/run.c cli/sitekey.c cli/svc_reach.c cli/tls_ca.c \
	cli/uki.c cli/verity.c

PROGRAMS += $(B)/bin/fleetboot
$(eval $(call link,$(B)/bin/fleetboot,$(CLI_SRCS:%.c=$(B)/%.o) $(LIBCOW) $(LIBDB) $(LIBFB),$(SYS_LIBS)))
