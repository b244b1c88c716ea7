# cli/: the fleetboot admin command. Every cli/*.c is linked in; commands
# register themselves (CLI_COMMAND in cli.h).
CLI_SRCS := $(wildcard cli/*.c)
CLI_OBJS := $(CLI_SRCS:%.c=$(B)/%.o)
BINS += $(B)/bin/fleetboot

$(B)/bin/fleetboot: $(CLI_OBJS) $(DB_LIB) $(LIBCORE)
	@mkdir -p $(dir $@)
	$(CC) $(ALL_LDFLAGS) -o $@ $^ $(PKG_LIBS) -lpthread

.PHONY: cli
cli: $(B)/bin/fleetboot
