# db/: libfbdb.a, the SQLite state; the only code that includes sqlite3.h.
DB_SRCS := db/changes.c db/db.c db/events.c db/images.c db/leases.c db/machines.c \
	db/overlays.c db/schema.c db/users.c db/credentials.c db/entries.c db/groups.c db/group_json.c db/wake.c \
	db/evidence.c
$(eval $(call archive,$(LIBDB),$(DB_SRCS:%.c=$(B)/%.o)))
