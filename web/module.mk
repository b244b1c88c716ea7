# web/: fleetboot-web, the REST API, live events and the admin UI
# (libmicrohttpd + jansson). The UI in web/ui/ is static files, no build.
WEB_SRCS := web/api_entries.c web/api_groups.c web/api_images.c web/api_machines.c web/api_status.c web/api_wake.c web/auth.c web/body.c \
	web/events.c web/jobs.c web/machine_fields.c web/main.c web/path.c web/query.c \
	web/server.c web/static.c web/text.c

PROGRAMS += $(B)/bin/fleetboot-web
$(eval $(call link,$(B)/bin/fleetboot-web,$(WEB_SRCS:%.c=$(B)/%.o) $(LIBDB) $(LIBFB),$(SYS_LIBS)))
