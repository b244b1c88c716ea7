# web/: fleetboot-web, the REST API, live events and the admin UI
# (libmicrohttpd + jansson). The UI in web/ui/ is static files, no build.
WEB_SRCS := $(wildcard web/*.c)
WEB_OBJS := $(WEB_SRCS:%.c=$(B)/%.o)
SBINS += $(B)/bin/fleetboot-web

$(B)/bin/fleetboot-web: $(WEB_OBJS) $(DB_LIB) $(LIBFB)
	@mkdir -p $(dir $@)
	$(CC) $(ALL_LDFLAGS) -o $@ $^ $(PKG_LIBS) -lpthread

.PHONY: web
web: $(B)/bin/fleetboot-web

# Test helper for tests/web: records a boot event through the DB API.
WEB_TEST_HELPER := $(B)/tests/web/web_event_add
$(WEB_TEST_HELPER): $(B)/tests/web/event_add.o $(DB_LIB) $(LIBFB)
	@mkdir -p $(dir $@)
	$(CC) $(ALL_LDFLAGS) -o $@ $^ $(PKG_LIBS) -lpthread
all: $(WEB_TEST_HELPER)
web: $(WEB_TEST_HELPER)
