# cow/: libfbcow.a, the copy-on-write block engine (base + per-machine
# overlay; the on-disk format is cow/FORMAT.md). It uses lib/ only.
COW_SRCS := cow/cow_base.c cow/cow_bdev.c cow/cow_io.c cow/cow_ovl.c
$(eval $(call archive,$(LIBCOW),$(COW_SRCS:%.c=$(B)/%.o)))

# COW_TEST_MAP_FIRST=1 or 2: the power-cut test's proof builds, the map made
# durable before its data (deliberately wrong). 1: a write publishes its new
# states and flushes the map before writing the data (cow_io.c map_first);
# 2: a flush writes the map pages without syncing the data first
# (cow_ovl.c). Only into a private tree (objects do not track flags):
#   make B=build-mapfirst COW_TEST_MAP_FIRST=1
ifneq ($(COW_TEST_MAP_FIRST),)
ifneq ($(filter build build-san build-fuzz,$(B)),)
$(error COW_TEST_MAP_FIRST builds a broken engine: give it its own tree, e.g. B=build-mapfirst)
endif
$(COW_SRCS:%.c=$(B)/%.o): CFLAGS += -DFB_COW_TEST_MAP_FIRST=$(COW_TEST_MAP_FIRST)
endif
