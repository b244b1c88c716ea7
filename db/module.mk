# db/: the SQLite state, the only code that includes sqlite3.h.
DB_SRCS := $(wildcard db/*.c)
DB_OBJS := $(DB_SRCS:%.c=$(B)/%.o)

$(DB_LIB): $(DB_OBJS)
	@mkdir -p $(dir $@)
	rm -f $@
	ar rcs $@ $^

all: $(DB_LIB)
